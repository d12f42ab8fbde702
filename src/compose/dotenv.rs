//! The `.env` / `env_file` grammar as Compose reads it: `KEY=VALUE` lines,
//! `export`, comments, single/double/unquoted values, escapes, multi-line
//! quoted values, and values that reference the environment or earlier lines.
//!
//! [`parse`] follows compose-go's `dotenv` parser statement by statement,
//! including the places where it is more lenient than it looks:
//!
//! * A statement starts at the first non-blank character; `#` there starts a
//!   comment that runs to the end of the line.
//! * `export` followed by blanks is dropped. The key is made of letters,
//!   digits, `_`, `.`, `[` and `]` (blanks inside are skipped over, but a key
//!   holding a space is rejected) and ends at `=`, `:` (`KEY: value` works)
//!   or the end of the line (a bare `KEY` takes its value from the lookup).
//! * An unquoted value runs to the end of the line; ` #` (space, hash) starts
//!   an inline comment, a `#` without a space before it is kept, and trailing
//!   blanks are trimmed. Interpolation applies.
//! * A quoted value may span lines. In both kinds, a backslash before the
//!   quote character keeps the quote. Single-quoted values are otherwise
//!   verbatim. Double-quoted values then get escapes (`\n`, `\r`, `\t`, `\a`,
//!   `\b`, `\f`, `\v`, `\"`, `\\`, `\$` for a literal `$`, `\0ooo` octal;
//!   anything else is kept as written) and interpolation.
//! * Whatever follows a closing quote is read as the next statement, so
//!   `A="x" B=y` sets both `A` and `B`, and `A="x"# c` is a comment.
//! * A last line with no `=`, `:` or newline sets the empty key to that text
//!   (`{"": "FOO"}` for a file holding just `FOO`), exactly like compose.
//!
//! [`parse_raw`] is the `format: raw` reader (Docker's `--env-file` rules).
//!
//! Known difference: compose accepts key characters by Unicode general
//! category (letters and numbers); this parser uses Rust's `is_alphabetic`
//! minus the enclosed letters (`Ⓐ`), which still lets in the combining marks
//! that Unicode counts as alphabetic (vowel signs of Indic scripts, for
//! example); compose rejects those.

use super::interpolate::{expand, TemplateError};
use indexmap::IndexMap;

/// A line the parser could not read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct DotenvError {
    pub line: usize,
    pub message: String,
}

/// Parses an env file. Variables in values are looked up first with `lookup`
/// (the caller's environment), then among earlier lines of the same file.
/// A bare `KEY` line maps to `lookup(KEY)` (None when unset).
pub fn parse(
    text: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<IndexMap<String, Option<String>>, DotenvError> {
    parse_with(text, lookup, &mut |_| {})
}

/// Like [`parse`], and calls `on_unset` for every variable a value uses that
/// has no value and no default (compose warns about these).
pub fn parse_with(
    text: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
    on_unset: &mut dyn FnMut(&str),
) -> Result<IndexMap<String, Option<String>>, DotenvError> {
    Parser {
        src: strip_bom(text),
        lookup,
        on_unset,
        out: IndexMap::new(),
    }
    .run()
}

/// Parses an env file with `format: raw`: every value verbatim, no quotes
/// removed, no interpolation.
///
/// The rules are Docker's `--env-file` ones: leading blanks of a line are
/// dropped, blank lines and lines starting with `#` are skipped, the key is
/// everything before the first `=` and may not be empty or hold spaces or
/// tabs, and the value is everything after it (trailing blanks included; a
/// `\r` before the newline is dropped). A line without `=` maps to None (the
/// caller looks the key up).
pub fn parse_raw(text: &str) -> Result<IndexMap<String, Option<String>>, DotenvError> {
    let mut out = IndexMap::new();
    for (index, line) in strip_bom(text).split('\n').enumerate() {
        let line_no = index + 1;
        let line = line.strip_suffix('\r').unwrap_or(line);
        let line = line.trim_start();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (key, value) = match line.split_once('=') {
            Some((key, value)) => (key, Some(value.to_string())),
            None => (line, None),
        };
        if key.is_empty() {
            return Err(DotenvError {
                line: line_no,
                message: format!("no variable name on line {line:?}"),
            });
        }
        if key.contains([' ', '\t']) {
            return Err(DotenvError {
                line: line_no,
                message: format!("variable {key:?} contains whitespaces"),
            });
        }
        out.insert(key.to_string(), value);
    }
    Ok(out)
}

fn strip_bom(text: &str) -> &str {
    text.strip_prefix('\u{FEFF}').unwrap_or(text)
}

/// A blank inside a line: what the parser skips around keys and values
/// (never a newline).
fn is_blank(c: char) -> bool {
    matches!(
        c,
        '\t' | '\u{B}' | '\u{C}' | '\r' | ' ' | '\u{85}' | '\u{A0}'
    )
}

/// A character allowed in a key besides blanks: compose takes `_ . [ ]` and
/// Unicode letters and numbers (general categories L and N).
fn is_key_char(c: char) -> bool {
    matches!(c, '_' | '.' | '[' | ']')
        || (c.is_alphabetic() && !is_enclosed_letter(c))
        || c.is_numeric()
}

/// Circled, parenthesized and squared letters (`Ⓐ`, `🄰`): alphabetic for Rust
/// but symbols (So) for compose.
fn is_enclosed_letter(c: char) -> bool {
    matches!(
        u32::from(c),
        0x24B6..=0x24E9 | 0x1F130..=0x1F149 | 0x1F150..=0x1F169 | 0x1F170..=0x1F189
    )
}

/// The byte index of the first character at or after `from` that is not
/// blank (newlines are not blank).
fn skip_blanks(s: &str, from: usize) -> usize {
    s[from..]
        .find(|c: char| !is_blank(c))
        .map_or(s.len(), |i| from + i)
}

/// The 1-based line of a byte index.
fn line_of(s: &str, pos: usize) -> usize {
    1 + s.as_bytes()[..pos.min(s.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
}

/// How a key ended.
enum KeyEnd {
    /// `=` or `:`: a value follows at this index.
    Value(usize),
    /// A newline: the key takes its value from the lookup; go on here.
    Inherited(usize),
    /// The end of the file: the text read becomes the value of the empty key.
    Eof,
}

struct Parser<'a, 'u> {
    src: &'a str,
    lookup: &'a dyn Fn(&str) -> Option<String>,
    on_unset: &'u mut dyn FnMut(&str),
    out: IndexMap<String, Option<String>>,
}

impl Parser<'_, '_> {
    fn error(&self, pos: usize, message: impl Into<String>) -> DotenvError {
        DotenvError {
            line: line_of(self.src, pos),
            message: message.into(),
        }
    }

    fn run(mut self) -> Result<IndexMap<String, Option<String>>, DotenvError> {
        let src = self.src;
        let mut pos = 0;
        loop {
            // The start of the next statement: skip whitespace and comments.
            match src[pos..].find(|c: char| !c.is_whitespace()) {
                None => break,
                Some(i) => pos += i,
            }
            if src[pos..].starts_with('#') {
                match src[pos..].find('\n') {
                    Some(i) => {
                        pos += i;
                        continue;
                    }
                    None => break,
                }
            }
            pos = self.statement(pos)?;
            if pos >= src.len() {
                break;
            }
        }
        Ok(self.out)
    }

    /// Reads one `KEY=VALUE` (or bare `KEY`) statement; returns where the
    /// next one may start.
    fn statement(&mut self, start: usize) -> Result<usize, DotenvError> {
        let src = self.src;
        let mut key_start = start;
        let rest = &src[start..];
        if rest.starts_with("export") && rest[6..].starts_with(['\t', '\n', '\u{C}', '\r', ' ']) {
            key_start = skip_blanks(src, start + 6);
        }
        if key_start >= src.len() {
            return Err(self.error(start, "zero length string"));
        }
        let mut end = KeyEnd::Eof;
        let mut key_end = key_start;
        for (i, c) in src[key_start..].char_indices() {
            let at = key_start + i;
            if is_blank(c) {
                continue;
            }
            match c {
                '=' | ':' => {
                    key_end = at;
                    end = KeyEnd::Value(at + 1);
                    break;
                }
                '\n' => {
                    key_end = at;
                    end = KeyEnd::Inherited(at + 1);
                    break;
                }
                c if is_key_char(c) => {}
                c => {
                    let line = src[key_start..].split('\n').next().unwrap_or_default();
                    return Err(self.error(
                        at,
                        format!(
                            "unexpected character {:?} in variable name {line:?}",
                            c.to_string()
                        ),
                    ));
                }
            }
        }
        let (key, value_start) = match end {
            KeyEnd::Value(after) | KeyEnd::Inherited(after) => {
                (src[key_start..key_end].trim_end(), skip_blanks(src, after))
            }
            KeyEnd::Eof => ("", skip_blanks(src, key_start)),
        };
        if key.contains(' ') {
            return Err(self.error(key_start, format!("key {key:?} cannot contain a space")));
        }
        if let KeyEnd::Inherited(_) = end {
            match (self.lookup)(key) {
                Some(value) => {
                    self.out.insert(key.to_string(), Some(value));
                }
                None => {
                    self.out.entry(key.to_string()).or_insert(None);
                }
            }
            return Ok(value_start);
        }
        let (value, next) = self.value(value_start, start)?;
        self.out.insert(key.to_string(), Some(value));
        Ok(next)
    }

    /// Reads the value starting at `start` (blanks already skipped); returns
    /// it and where the next statement may start. `statement` is where the
    /// statement began (for error lines).
    fn value(&mut self, start: usize, statement: usize) -> Result<(String, usize), DotenvError> {
        let src = self.src;
        let rest = &src[start..];
        let quote = match rest.chars().next() {
            Some(q @ ('"' | '\'')) => q,
            _ => {
                let (line, next) = match rest.find('\n') {
                    Some(i) => (&rest[..i], start + i + 1),
                    None => (rest, src.len()),
                };
                let line = line.split_once(" #").map_or(line, |(value, _)| value);
                let value = self.interpolate(line.trim_end(), statement)?;
                return Ok((value, next));
            }
        };
        let mut chars = String::new();
        let mut escaped = false;
        for (i, c) in rest.char_indices().skip(1) {
            if c != quote {
                if !escaped && c == '\\' {
                    escaped = true;
                    continue;
                }
                if escaped {
                    escaped = false;
                    chars.push('\\');
                }
                chars.push(c);
                continue;
            }
            if escaped {
                escaped = false;
                chars.push(c);
                continue;
            }
            let value = if quote == '"' {
                self.interpolate(&unescape(&chars), statement)?
            } else {
                chars
            };
            return Ok((value, start + i + c.len_utf8()));
        }
        let shown = rest.split('\n').next().unwrap_or_default();
        Err(self.error(start, format!("unterminated quoted value {shown}")))
    }

    /// Expands `${...}` in a value: the lookup first, then earlier lines.
    fn interpolate(&mut self, value: &str, statement: usize) -> Result<String, DotenvError> {
        if !value.contains('$') {
            return Ok(value.to_string());
        }
        let lookup = self.lookup;
        let out = &self.out;
        let resolve = |name: &str| lookup(name).or_else(|| out.get(name).cloned().flatten());
        match expand(value, &resolve) {
            Ok(expanded) => {
                for name in &expanded.unset {
                    (self.on_unset)(name);
                }
                Ok(expanded.value)
            }
            Err(err @ TemplateError::Required { .. }) => {
                Err(self.error(statement, err.to_string()))
            }
            Err(TemplateError::Invalid { template, reason }) => {
                let message = format!(
                    "invalid template {template:?}: {reason} \
                     (you may need to escape any $ with another $)"
                );
                Err(self.error(statement, message))
            }
        }
    }
}

/// Expands the escapes of a double-quoted value the way compose does. `\$`
/// becomes `$$`, which interpolation then turns into a literal `$`.
fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('\\') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        let Some(c) = after.chars().next() else {
            out.push('\\');
            rest = after;
            break;
        };
        let replacement = match c {
            'a' => "\u{7}",
            'b' => "\u{8}",
            'f' => "\u{C}",
            'n' => "\n",
            'r' => "\r",
            't' => "\t",
            'v' => "\u{B}",
            '"' => "\"",
            '\\' => "\\",
            '$' => "$$",
            // Matched by compose's escape pattern, but not an escape Go
            // knows: kept as written.
            'c' => "\\c",
            '0' => {
                let digits = after[1..]
                    .bytes()
                    .take(3)
                    .take_while(u8::is_ascii_digit)
                    .count();
                let digits_text = &after[1..1 + digits];
                rest = &after[1 + digits..];
                match octal(digits_text) {
                    Some(ch) => out.push(ch),
                    // Compose drops the `0` before giving up on the escape.
                    None => {
                        out.push('\\');
                        out.push_str(digits_text);
                    }
                }
                continue;
            }
            _ => {
                out.push('\\');
                rest = after;
                continue;
            }
        };
        out.push_str(replacement);
        rest = &after[c.len_utf8()..];
    }
    out.push_str(rest);
    out
}

/// The character of a three-digit octal escape (at most `\377`).
fn octal(digits: &str) -> Option<char> {
    if digits.len() != 3 || !digits.bytes().all(|b| (b'0'..=b'7').contains(&b)) {
        return None;
    }
    let value = digits
        .bytes()
        .fold(0u32, |acc, b| acc * 8 + u32::from(b - b'0'));
    if value > 255 {
        return None;
    }
    char::from_u32(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let vars: Vec<(String, String)> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |name| vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
    }

    fn no_env(_: &str) -> Option<String> {
        None
    }

    /// Parses with an empty environment; keys with their values.
    fn p(text: &str) -> Vec<(String, Option<String>)> {
        match parse(text, &no_env) {
            Ok(map) => map.into_iter().collect(),
            Err(e) => panic!("{text:?}: {e}"),
        }
    }

    fn one(text: &str) -> String {
        let map = p(text);
        assert_eq!(map.len(), 1, "{text:?} gave {map:?}");
        map[0].1.clone().unwrap_or_default()
    }

    fn kv(pairs: &[(&str, &str)]) -> Vec<(String, Option<String>)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), Some(v.to_string())))
            .collect()
    }

    fn err(text: &str) -> DotenvError {
        match parse(text, &no_env) {
            Ok(map) => panic!("{text:?} parsed as {map:?}"),
            Err(e) => e,
        }
    }

    #[test]
    fn key_value_basics() {
        assert_eq!(p("A=1\nB=two\n"), kv(&[("A", "1"), ("B", "two")]));
        assert_eq!(p("A=1"), kv(&[("A", "1")]));
        assert_eq!(p("A=\nB="), kv(&[("A", ""), ("B", "")]));
        assert_eq!(p("  A  =  spaced out  \n"), kv(&[("A", "spaced out")]));
        assert_eq!(p("A==1"), kv(&[("A", "=1")]));
        assert_eq!(
            p("URL=http://x:8080/?a=b"),
            kv(&[("URL", "http://x:8080/?a=b")])
        );
        assert_eq!(p("A=1\nA=2"), kv(&[("A", "2")]));
        assert_eq!(p(""), vec![]);
        assert_eq!(p("\n\n   \n\t\n"), vec![]);
    }

    #[test]
    fn keys_allow_dots_brackets_unicode_and_digits() {
        assert_eq!(
            p("1A=2\nA.B[0]=3\nÉ=4"),
            kv(&[("1A", "2"), ("A.B[0]", "3"), ("É", "4")])
        );
        // A tab inside a key is skipped over and kept; only spaces are rejected.
        assert_eq!(p("FO\tO=5"), kv(&[("FO\tO", "5")]));
    }

    #[test]
    fn export_prefix() {
        assert_eq!(p("export A=1\nexport\tB=2"), kv(&[("A", "1"), ("B", "2")]));
        assert_eq!(
            p("exportC=3\nexport=4"),
            kv(&[("exportC", "3"), ("export", "4")])
        );
        assert_eq!(err("A=1\nexport ").message, "zero length string");
        // `export` alone on a line reads an empty bare key, which is unset.
        assert_eq!(
            p("export\nFOO=1"),
            vec![(String::new(), None), ("FOO".into(), Some("1".into()))]
        );
    }

    #[test]
    fn yaml_style_colon() {
        assert_eq!(
            p("G: yaml\nH:x\nI:=1"),
            kv(&[("G", "yaml"), ("H", "x"), ("I", "=1")])
        );
    }

    #[test]
    fn comments() {
        assert_eq!(
            p("# c\nA=1 # inline\n  # indented\nB=a#b\nC=a\t#b\nD=a # b # c"),
            kv(&[("A", "1"), ("B", "a#b"), ("C", "a\t#b"), ("D", "a")])
        );
        // After `=`, blanks are skipped first: `# x` is then the value.
        assert_eq!(one("D= # x"), "# x");
        assert_eq!(one("K5=\"a # b\" # c"), "a # b");
        assert_eq!(one("B=\"x\"#c"), "x");
        assert_eq!(p("#!/bin/sh\n#"), vec![]);
    }

    #[test]
    fn crlf_and_bom() {
        assert_eq!(p("A=1\r\nB=\"2\"\r\n"), kv(&[("A", "1"), ("B", "2")]));
        assert_eq!(p("\u{FEFF}A=1"), kv(&[("A", "1")]));
        assert_eq!(p("\u{FEFF}export A=1"), kv(&[("A", "1")]));
    }

    #[test]
    fn single_quoted_values_are_literal() {
        assert_eq!(one("A='$HOME ${X:?no} \\n'"), "$HOME ${X:?no} \\n");
        assert_eq!(one("B='x\\'y'"), "x'y");
        assert_eq!(one("A='a\\\\'"), "a\\\\");
        assert_eq!(one("A=''"), "");
        assert_eq!(one("A = ' padded '"), " padded ");
    }

    #[test]
    fn double_quoted_escapes() {
        assert_eq!(
            one(r#"A="t\tn\nr\rb\\q\"d\$x c\c a\a z\0101 o\0377 u\u0041""#),
            "t\tn\nr\rb\\q\"d$x c\\c a\u{7} zA oÿ u\\u0041"
        );
        assert_eq!(one(r#"A="\b\f\v""#), "\u{8}\u{C}\u{B}");
        // Octal escapes compose cannot decode lose their `0`.
        assert_eq!(
            one(r#"A="\01|\0777|\089|\0|\0000""#),
            "\\1|\\777|\\89|\\|\0"
        );
        assert_eq!(one(r#"A="\\n""#), "\\n");
        assert_eq!(one(r#"A="a\\""#), "a\\");
    }

    #[test]
    fn unterminated_quotes() {
        let e = err("A=1\n\n\nB=\"x\ny\nz\n\nC D=1");
        assert_eq!(e.line, 4);
        assert_eq!(e.message, "unterminated quoted value \"x");
        assert_eq!(err("A='abc").message, "unterminated quoted value 'abc");
        assert_eq!(err("A=\"abc\\\"").line, 1);
    }

    #[test]
    fn multi_line_values() {
        assert_eq!(
            p("A=\"multi\nline\"\nB='m\n l'\nC=after"),
            kv(&[("A", "multi\nline"), ("B", "m\n l"), ("C", "after")])
        );
        let e = err("A=\"1\n2\n3\"\nB-=x");
        assert_eq!(e.line, 4);
    }

    #[test]
    fn text_after_a_closing_quote_is_the_next_statement() {
        assert_eq!(p("X=\"a\" junk=1\n"), kv(&[("X", "a"), ("junk", "1")]));
        assert_eq!(
            p("K3='a'b\n"),
            vec![("K3".into(), Some("a".into())), ("b".into(), None)]
        );
    }

    #[test]
    fn a_last_line_without_equals_sets_the_empty_key() {
        assert_eq!(p("FOO"), kv(&[("", "FOO")]));
        assert_eq!(p("A=1\nFOO BAR"), kv(&[("A", "1"), ("", "FOO BAR")]));
        assert_eq!(p("=ev"), kv(&[("", "ev")]));
    }

    #[test]
    fn bare_keys_come_from_the_lookup() {
        let lookup = env(&[("B", "bb"), ("b", "lower")]);
        let map = parse("B\nb\nC\n", &lookup).unwrap();
        assert_eq!(map.get("B"), Some(&Some("bb".into())));
        assert_eq!(map.get("b"), Some(&Some("lower".into())));
        assert_eq!(map.get("C"), Some(&None));
        assert_eq!(map.len(), 3);
        // An unset bare key does not erase an earlier value.
        let map = parse("A=1\nA\n", &no_env).unwrap();
        assert_eq!(map.get("A"), Some(&Some("1".into())));
        let map = parse("export  B \n", &lookup).unwrap();
        assert_eq!(map.get("B"), Some(&Some("bb".into())));
    }

    #[test]
    fn invalid_keys() {
        assert!(err("\u{24B6}=1")
            .message
            .contains("unexpected character \"\u{24B6}\""));
        let e = err("A=1\nFO-O=1");
        assert_eq!(
            e,
            DotenvError {
                line: 2,
                message: "unexpected character \"-\" in variable name \"FO-O=1\"".into()
            }
        );
        assert_eq!(
            e.to_string(),
            "line 2: unexpected character \"-\" in variable name \"FO-O=1\""
        );
        assert_eq!(err("FO O=1").message, "key \"FO O\" cannot contain a space");
        assert_eq!(err("A=1\n\n  FO O=1").line, 3);
        assert!(err("$A=1").message.contains("\"$\""));
        assert!(err("A\"B\"=1").message.contains("unexpected character"));
        assert!(err("{\"json\": true}")
            .message
            .contains("unexpected character \"{\""));
    }

    #[test]
    fn interpolation_in_unquoted_and_double_quoted_values() {
        let lookup = env(&[("HOME", "/root"), ("A", "from-env")]);
        let map = parse(
            "A=file\nB=$A-${A}\nC=\"${C1:-dflt} $$ \\$A\"\nD=pre${UNSET}post\nE=${B:+yes}\nF='$A'",
            &lookup,
        )
        .unwrap();
        // The lookup (process environment) wins over earlier lines...
        assert_eq!(map["B"], Some("from-env-from-env".into()));
        // ...but the file's own value is what the file sets for A.
        assert_eq!(map["A"], Some("file".into()));
        assert_eq!(map["C"], Some("dflt $ $A".into()));
        assert_eq!(map["D"], Some("prepost".into()));
        assert_eq!(map["E"], Some("yes".into()));
        assert_eq!(map["F"], Some("$A".into()));
    }

    #[test]
    fn earlier_lines_are_visible_later_only() {
        let map = parse("A=1\nB=${A:-${C}}\nC=\"${A}$$\\$B\"", &no_env).unwrap();
        assert_eq!(map["B"], Some("1".into()));
        assert_eq!(map["C"], Some("1$$B".into()));
        let mut unset = Vec::new();
        parse_with("A=1\nB=${A:-${C}}\nC=2\nD=$C$Z", &no_env, &mut |n| {
            unset.push(n.to_string())
        })
        .unwrap();
        assert_eq!(unset, ["C", "Z"]);
        // Unset bare keys do not count as set.
        let map = parse("X\nY=${X-none}", &no_env).unwrap();
        assert_eq!(map["Y"], Some("none".into()));
    }

    #[test]
    fn interpolation_errors_carry_the_line() {
        let e = err("A=1\nB=${C:?need c}");
        assert_eq!(e.line, 2);
        assert_eq!(e.message, "required variable C is missing a value: need c");
        let e = err("\nA=\"${B:x}\"\n");
        assert_eq!(e.line, 2);
        assert!(e.message.contains("${B:x}"), "{}", e.message);
        // Single quotes never interpolate.
        assert_eq!(one("A='${B:x}'"), "${B:x}");
    }

    #[test]
    fn realistic_files() {
        let text = "\
# Application settings
export APP_ENV=production
APP_NAME=\"My App\"   # the display name
DB_HOST=db
DB_PORT=5432
DATABASE_URL=postgres://${DB_USER:-app}:${DB_PASS}@${DB_HOST}:${DB_PORT}/app
GREETING='Hello, $USER!'
MOTD=\"line one\\nline two\"
CERT=\"-----BEGIN CERT-----
abc
-----END CERT-----\"
EMPTY=
PATH_LIKE=/usr/bin:/bin
";
        let lookup = env(&[("DB_PASS", "s3cr3t")]);
        let map = parse(text, &lookup).unwrap();
        let get = |k: &str| {
            map.get(k)
                .cloned()
                .flatten()
                .unwrap_or_else(|| panic!("{k} missing"))
        };
        assert_eq!(get("APP_ENV"), "production");
        assert_eq!(get("APP_NAME"), "My App");
        assert_eq!(get("DATABASE_URL"), "postgres://app:s3cr3t@db:5432/app");
        assert_eq!(get("GREETING"), "Hello, $USER!");
        assert_eq!(get("MOTD"), "line one\nline two");
        assert_eq!(get("CERT"), "-----BEGIN CERT-----\nabc\n-----END CERT-----");
        assert_eq!(get("EMPTY"), "");
        assert_eq!(get("PATH_LIKE"), "/usr/bin:/bin");
        assert_eq!(map.len(), 10);

        let windows = "\u{FEFF}# saved by notepad\r\nKEY=value\r\nOTHER = \"quoted\"\r\n";
        assert_eq!(p(windows), kv(&[("KEY", "value"), ("OTHER", "quoted")]));
    }

    /// Every input of the fuzz corpus (`fixtures/fuzz/dotenv`) parses or
    /// fails with a line of the file, so the corpus is checked by `cargo test`.
    #[test]
    fn fuzz_corpus_replays_cleanly() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/fuzz/dotenv");
        let lookup = env(&[("HOME", "/home/a"), ("A", "/home/a"), ("EMPTY", "")]);
        let mut count = 0;
        for entry in std::fs::read_dir(dir).expect("fuzz corpus directory") {
            let bytes = std::fs::read(entry.expect("corpus entry").path()).expect("corpus file");
            let text = String::from_utf8_lossy(&bytes);
            let lines = text.split('\n').count();
            for result in [parse(&text, &lookup), parse_raw(&text)] {
                if let Err(e) = result {
                    assert!(
                        e.line >= 1 && e.line <= lines,
                        "{text:?}: line {} of {lines}",
                        e.line
                    );
                }
            }
            count += 1;
        }
        assert!(count > 0, "no corpus files in {dir}");
    }

    #[test]
    fn raw_format_keeps_values_verbatim() {
        let text = "\u{FEFF}A=\"q\" # c\n  B=${X}  \nC\n#c\n\nD=\nE=a=b\r\n";
        let map: Vec<_> = parse_raw(text).unwrap().into_iter().collect();
        assert_eq!(
            map,
            vec![
                ("A".to_string(), Some("\"q\" # c".to_string())),
                ("B".to_string(), Some("${X}  ".to_string())),
                ("C".to_string(), None),
                ("D".to_string(), Some(String::new())),
                ("E".to_string(), Some("a=b".to_string())),
            ]
        );
    }

    #[test]
    fn raw_format_errors() {
        assert_eq!(
            parse_raw("A=1\n=x").unwrap_err(),
            DotenvError {
                line: 2,
                message: "no variable name on line \"=x\"".into()
            }
        );
        assert_eq!(
            parse_raw("A B=1").unwrap_err().message,
            "variable \"A B\" contains whitespaces"
        );
        assert_eq!(parse_raw("KEY \n").unwrap_err().line, 1);
        assert!(parse_raw("\t# x\n  \n").unwrap().is_empty());
    }
}
