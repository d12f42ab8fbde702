//! Shell-like word processing as the Dockerfile reference describes it for
//! the instructions that substitute variables: `$VAR`, `${VAR}`,
//! `${VAR:-word}`, `${VAR-word}`, `${VAR:+word}`, `${VAR+word}`,
//! `${VAR:?msg}`, `${VAR?msg}`, `${VAR#p}`, `${VAR##p}`, `${VAR%p}`,
//! `${VAR%%p}`, `${VAR/p/r}`, `${VAR//p/r}`, the escape character (`\` or the one set by
//! `# escape=`), single quotes (literal) and double quotes (substitution
//! still happens). Also the quote-aware splitting of `key=value` lists.

use super::error::Problem;
use crate::build::glob::{match_component, BadPattern};

/// Whether quotes are removed (instruction arguments) or kept as written
/// (the body of an unquoted heredoc, where only `$` is special).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Quotes {
    Process,
    Keep,
}

/// Substitutes variables in `word`; `lookup` gives a variable's value, `None`
/// when it is not set.
pub fn expand(
    word: &str,
    escape: char,
    lookup: &dyn Fn(&str) -> Option<String>,
    quotes: Quotes,
) -> Result<String, Problem> {
    let chars: Vec<char> = word.chars().collect();
    let mut cursor = Cursor {
        chars: &chars,
        pos: 0,
        escape,
        lookup,
        quotes,
    };
    let out = cursor.until(None)?;
    Ok(out)
}

struct Cursor<'a> {
    chars: &'a [char],
    pos: usize,
    escape: char,
    lookup: &'a dyn Fn(&str) -> Option<String>,
    quotes: Quotes,
}

impl Cursor<'_> {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn next(&mut self) -> Option<char> {
        let c = self.peek();
        if c.is_some() {
            self.pos += 1;
        }
        c
    }

    /// Processes until `stop` (unquoted, unescaped) or the end; consumes `stop`.
    fn until(&mut self, stop: Option<char>) -> Result<String, Problem> {
        let mut out = String::new();
        loop {
            let Some(c) = self.next() else {
                if let Some(s) = stop {
                    return Err(format!("missing '{s}' in substitution"));
                }
                return Ok(out);
            };
            if Some(c) == stop {
                return Ok(out);
            }
            match c {
                '\'' if self.quotes == Quotes::Process => loop {
                    match self.next() {
                        Some('\'') => break,
                        Some(ch) => out.push(ch),
                        None => return Err(
                            "unexpected end of statement while looking for matching single-quote"
                                .into(),
                        ),
                    }
                },
                '"' if self.quotes == Quotes::Process => self.double_quoted(&mut out)?,
                '$' => out.push_str(&self.dollar()?),
                c if c == self.escape => match self.next() {
                    None => out.push(c),
                    Some(n) if self.quotes == Quotes::Keep && n != '$' && n != self.escape => {
                        out.push(c);
                        out.push(n);
                    }
                    Some(n) => out.push(n),
                },
                c => out.push(c),
            }
        }
    }

    fn double_quoted(&mut self, out: &mut String) -> Result<(), Problem> {
        loop {
            match self.next() {
                None => {
                    return Err(
                        "unexpected end of statement while looking for matching double-quote"
                            .into(),
                    )
                }
                Some('"') => return Ok(()),
                Some('$') => out.push_str(&self.dollar()?),
                Some(c) if c == self.escape => match self.peek() {
                    Some(n) if n == '"' || n == '$' || n == self.escape => {
                        self.pos += 1;
                        out.push(n);
                    }
                    _ => out.push(c),
                },
                Some(c) => out.push(c),
            }
        }
    }

    fn dollar(&mut self) -> Result<String, Problem> {
        match self.peek() {
            Some('{') => {
                self.pos += 1;
                self.braced()
            }
            Some(c) if c.is_ascii_digit() => {
                self.pos += 1;
                Ok((self.lookup)(&c.to_string()).unwrap_or_default())
            }
            Some(c) if c.is_ascii_alphanumeric() || c == '_' => {
                let name = self.name();
                Ok((self.lookup)(&name).unwrap_or_default())
            }
            _ => Ok("$".to_string()),
        }
    }

    fn name(&mut self) -> String {
        let mut name = String::new();
        while let Some(c) = self.peek() {
            if c.is_ascii_alphanumeric() || c == '_' {
                name.push(c);
                self.pos += 1;
            } else {
                break;
            }
        }
        name
    }

    fn braced(&mut self) -> Result<String, Problem> {
        let name = self.name();
        if name.is_empty() {
            return Err("bad substitution: '${' must be followed by a variable name".into());
        }
        let value = (self.lookup)(&name);
        let Some(c) = self.next() else {
            return Err(format!("missing '}}' in substitution of ${{{name}"));
        };
        if c == '}' {
            return Ok(value.unwrap_or_default());
        }
        let (colon, op) = if c == ':' {
            match self.next() {
                Some(op @ ('-' | '+' | '?')) => (true, op),
                other => {
                    return Err(format!(
                        "unsupported modifier ':{}' in ${{{name}...}}: expected ':-', ':+' or ':?'",
                        other.map(String::from).unwrap_or_default()
                    ))
                }
            }
        } else if matches!(c, '-' | '+' | '?') {
            (false, c)
        } else if matches!(c, '#' | '%' | '/') {
            return self.trim_or_replace(&name, value.unwrap_or_default(), c);
        } else {
            return Err(format!(
                "unsupported modifier '{c}' in ${{{name}...}}: berth supports ${{VAR}}, ${{VAR:-word}}, ${{VAR-word}}, ${{VAR:+word}}, ${{VAR+word}}, ${{VAR:?message}}, ${{VAR?message}}, ${{VAR#pattern}}, ${{VAR##pattern}}, ${{VAR%pattern}}, ${{VAR%%pattern}}, ${{VAR/pattern/replacement}} and ${{VAR//pattern/replacement}}"
            ));
        };
        let word = self.until(Some('}'))?;
        let set = match (&value, colon) {
            (None, _) => false,
            (Some(v), true) => !v.is_empty(),
            (Some(_), false) => true,
        };
        Ok(match op {
            '-' => {
                if set {
                    value.unwrap_or_default()
                } else {
                    word
                }
            }
            '+' => {
                if set {
                    word
                } else {
                    String::new()
                }
            }
            _ => {
                if set {
                    value.unwrap_or_default()
                } else if word.is_empty() {
                    return Err(format!("{name}: parameter not set or null"));
                } else {
                    return Err(format!("{name}: {word}"));
                }
            }
        })
    }
}

impl Cursor<'_> {
    /// `${VAR#p}`, `${VAR##p}`, `${VAR%p}`, `${VAR%%p}`, `${VAR/p/r}`,
    /// `${VAR//p/r}`: `p` a shell pattern over the whole value.
    fn trim_or_replace(&mut self, name: &str, value: String, op: char) -> Result<String, Problem> {
        let twice = self.peek() == Some(op);
        if twice {
            self.pos += 1;
        }
        let bad = |e: BadPattern| format!("in ${{{name}{op}...}}: {e}");
        let boundaries: Vec<usize> = value
            .char_indices()
            .map(|(i, _)| i)
            .chain([value.len()])
            .collect();
        if op == '/' {
            let pattern = self.until_either('/', '}')?;
            let replacement = if self.chars.get(self.pos - 1) == Some(&'/') {
                self.until(Some('}'))?
            } else {
                String::new()
            };
            if pattern.is_empty() {
                return Ok(value);
            }
            let mut out = String::new();
            let mut start = 0;
            let mut replaced = false;
            while start < value.len() {
                let hit = if replaced && !twice {
                    None
                } else {
                    let mut longest = None;
                    for &end in boundaries.iter().filter(|&&e| e > start) {
                        if match_component(&pattern, &value[start..end]).map_err(bad)? {
                            longest = Some(end);
                        }
                    }
                    longest
                };
                match hit {
                    Some(end) => {
                        out.push_str(&replacement);
                        start = end;
                        replaced = true;
                    }
                    None => {
                        let c = value[start..].chars().next().expect("start < len");
                        out.push(c);
                        start += c.len_utf8();
                    }
                }
            }
            return Ok(out);
        }
        let pattern = self.until(Some('}'))?;
        let mut cuts: Vec<usize> = boundaries.clone();
        // Shortest match first, or longest first when doubled.
        if op == '#' && twice || op == '%' && !twice {
            cuts.reverse();
        }
        for cut in cuts {
            let (part, rest) = if op == '#' {
                (&value[..cut], &value[cut..])
            } else {
                (&value[cut..], &value[..cut])
            };
            if match_component(&pattern, part).map_err(bad)? {
                return Ok(rest.to_string());
            }
        }
        Ok(value)
    }

    /// Processes until `a` or `b` (unquoted); consumes it.
    fn until_either(&mut self, a: char, b: char) -> Result<String, Problem> {
        let start = self.pos;
        let mut depth = 0usize;
        let mut end = None;
        let mut i = start;
        while i < self.chars.len() {
            let c = self.chars[i];
            if c == self.escape {
                i += 2;
                continue;
            }
            if c == '{' && i > 0 && self.chars[i - 1] == '$' {
                depth += 1;
            } else if c == '}' && depth > 0 {
                depth -= 1;
            } else if depth == 0 && (c == a || c == b) {
                end = Some(i);
                break;
            }
            i += 1;
        }
        let Some(end) = end else {
            return Err(format!("missing '{b}' in substitution"));
        };
        let inner: String = self.chars[start..end].iter().collect();
        self.pos = end + 1;
        expand(&inner, self.escape, self.lookup, self.quotes)
    }
}

/// Splits on whitespace that is neither quoted nor escaped, keeping quotes
/// and escapes in the words (they are processed later, per word).
pub fn split_fields(text: &str, escape: char) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut quote: Option<char> = None;
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == escape && quote != Some('\'') {
            word.push(c);
            if let Some(n) = chars.next() {
                word.push(n);
            }
            continue;
        }
        match quote {
            Some(q) if c == q => {
                quote = None;
                word.push(c);
            }
            Some(_) => word.push(c),
            None if c == '"' || c == '\'' => {
                quote = Some(c);
                word.push(c);
            }
            None if c.is_whitespace() => {
                if !word.is_empty() {
                    words.push(std::mem::take(&mut word));
                }
            }
            None => word.push(c),
        }
    }
    if !word.is_empty() {
        words.push(word);
    }
    words
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn ex(word: &str, vars: &[(&str, &str)]) -> Result<String, Problem> {
        ex_with(word, '\\', vars, Quotes::Process)
    }

    fn ex_with(
        word: &str,
        escape: char,
        vars: &[(&str, &str)],
        quotes: Quotes,
    ) -> Result<String, Problem> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        expand(word, escape, &|n| map.get(n).cloned(), quotes)
    }

    #[test]
    fn plain_and_braced_variables() {
        let v = [("FOO", "/bar")];
        assert_eq!(ex("$FOO/x", &v).unwrap(), "/bar/x");
        assert_eq!(ex("${FOO}x", &v).unwrap(), "/barx");
        assert_eq!(ex("$NOPE-a", &v).unwrap(), "-a");
        assert_eq!(ex("a$", &v).unwrap(), "a$");
    }

    #[test]
    fn modifiers_from_the_reference() {
        let v = [("SET", "v"), ("EMPTY", "")];
        assert_eq!(ex("${SET:-word}", &v).unwrap(), "v");
        assert_eq!(ex("${UNSET:-word}", &v).unwrap(), "word");
        assert_eq!(ex("${EMPTY:-word}", &v).unwrap(), "word");
        assert_eq!(ex("${EMPTY-word}", &v).unwrap(), "");
        assert_eq!(ex("${SET:+word}", &v).unwrap(), "word");
        assert_eq!(ex("${UNSET:+word}", &v).unwrap(), "");
        assert_eq!(ex("${EMPTY:+word}", &v).unwrap(), "");
        assert_eq!(ex("${EMPTY+word}", &v).unwrap(), "word");
        assert_eq!(ex("${UNSET:-$SET}", &v).unwrap(), "v");
        assert_eq!(ex("${UNSET:-${SET:+nested}}", &v).unwrap(), "nested");
        assert_eq!(
            ex("${UNSET:?must be given}", &v).unwrap_err(),
            "UNSET: must be given"
        );
        assert!(ex("${SET@x}", &v).unwrap_err().contains("unsupported"));
        assert!(ex("${}", &v).unwrap_err().contains("bad substitution"));
        assert!(ex("${SET", &v).is_err());
    }

    #[test]
    fn pattern_trimming_and_replacement() {
        let v = [("P", "/usr/local/lib/file.tar.gz"), ("S", "aXbXc")];
        assert_eq!(ex("${P#*/}", &v).unwrap(), "usr/local/lib/file.tar.gz");
        assert_eq!(ex("${P##*/}", &v).unwrap(), "file.tar.gz");
        assert_eq!(ex("${P%.*}", &v).unwrap(), "/usr/local/lib/file.tar");
        assert_eq!(ex("${P%%.*}", &v).unwrap(), "/usr/local/lib/file");
        assert_eq!(
            ex("${P#nomatch}", &v).unwrap(),
            "/usr/local/lib/file.tar.gz"
        );
        assert_eq!(ex("${S/X/-}", &v).unwrap(), "a-bXc");
        assert_eq!(ex("${S//X/-}", &v).unwrap(), "a-b-c");
        assert_eq!(ex("${S//X}", &v).unwrap(), "abc");
        assert_eq!(ex("${S/X*/}", &v).unwrap(), "a");
        assert_eq!(ex("${UNSET##*/}", &v).unwrap(), "");
        assert!(ex("${S/[/x}", &v).unwrap_err().contains("bad pattern"));
    }

    #[test]
    fn escapes_and_quotes() {
        let v = [("FOO", "bar")];
        // From the reference: \$foo and \${foo} are literal.
        assert_eq!(ex("\\$FOO", &v).unwrap(), "$FOO");
        assert_eq!(ex("\\${FOO}", &v).unwrap(), "${FOO}");
        assert_eq!(ex("'$FOO'", &v).unwrap(), "$FOO");
        assert_eq!(ex("\"$FOO baz\"", &v).unwrap(), "bar baz");
        assert_eq!(ex("\"a\\\"b\"", &v).unwrap(), "a\"b");
        assert_eq!(ex("\"a\\nb\"", &v).unwrap(), "a\\nb");
        assert_eq!(ex("Rex\\ The\\ Dog", &v).unwrap(), "Rex The Dog");
        assert!(ex("'open", &v).is_err());
        assert!(ex("\"open", &v).is_err());
    }

    #[test]
    fn backtick_escape_leaves_backslashes_alone() {
        let v = [("FOO", "bar")];
        assert_eq!(
            ex_with("c:\\windows\\$FOO", '`', &v, Quotes::Process).unwrap(),
            "c:\\windows\\bar"
        );
        assert_eq!(ex_with("`$FOO", '`', &v, Quotes::Process).unwrap(), "$FOO");
    }

    #[test]
    fn raw_mode_keeps_quotes_and_other_escapes() {
        let v = [("FOO", "bar")];
        assert_eq!(
            ex_with("echo \"$FOO\" '\\n' \\$FOO", '\\', &v, Quotes::Keep).unwrap(),
            "echo \"bar\" '\\n' $FOO"
        );
    }

    #[test]
    fn fields_keep_quotes() {
        assert_eq!(
            split_fields(
                r#"MY_NAME="John Doe" MY_DOG=Rex\ The\ Dog  MY_CAT=fluffy"#,
                '\\'
            ),
            vec![
                r#"MY_NAME="John Doe""#,
                r"MY_DOG=Rex\ The\ Dog",
                "MY_CAT=fluffy"
            ]
        );
        assert_eq!(split_fields("a='x y' b", '\\'), vec!["a='x y'", "b"]);
    }
}
