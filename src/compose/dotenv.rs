//! The `.env` / `env_file` grammar as Compose reads it: `KEY=VALUE` (or
//! `KEY: VALUE`) lines, `export`, `#` comments, single-quoted values (literal),
//! double-quoted values (escapes, may span lines), unquoted values (trimmed,
//! ` #` starts a comment), a bare `KEY` taking the caller's value, and
//! `${VAR}` references to the environment or earlier lines.

use super::interpolate::expand;
use indexmap::IndexMap;

/// A line the parser could not read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct DotenvError {
    pub line: usize,
    pub message: String,
}

type Entries = IndexMap<String, Option<String>>;

/// Parses an env file. Variables in values are looked up first with `lookup`
/// (the caller's environment), then among earlier lines of the same file.
/// A bare `KEY` line maps to `lookup(KEY)` (None when unset).
pub fn parse(text: &str, lookup: &dyn Fn(&str) -> Option<String>) -> Result<Entries, DotenvError> {
    let mut entries = Entries::new();
    let mut lines = Lines::new(text);
    while let Some((line_no, line)) = lines.next_line() {
        let Some((key, rest)) = split_statement(line, line_no)? else {
            continue;
        };
        let value = match rest {
            None => lookup(&key),
            Some(rest) => Some(read_value(rest, &mut lines, line_no, &|name| {
                lookup(name).or_else(|| entries.get(name).cloned().flatten())
            })?),
        };
        entries.insert(key, value);
    }
    Ok(entries)
}

/// Parses an env file with `format: raw`: every value verbatim, no quotes
/// removed, no interpolation.
pub fn parse_raw(text: &str) -> Result<Entries, DotenvError> {
    let mut entries = Entries::new();
    let mut lines = Lines::new(text);
    while let Some((line_no, line)) = lines.next_line() {
        if let Some((key, rest)) = split_statement(line, line_no)? {
            entries.insert(key, rest.map(|r| r.trim_start().to_string()));
        }
    }
    Ok(entries)
}

/// Lines of the file, BOM removed, numbered from 1.
struct Lines<'a> {
    rest: &'a str,
    line_no: usize,
}

impl<'a> Lines<'a> {
    fn new(text: &'a str) -> Self {
        Lines {
            rest: text.strip_prefix('\u{feff}').unwrap_or(text),
            line_no: 0,
        }
    }

    fn next_line(&mut self) -> Option<(usize, &'a str)> {
        if self.rest.is_empty() {
            return None;
        }
        self.line_no += 1;
        let (line, rest) = match self.rest.find('\n') {
            Some(i) => (&self.rest[..i], &self.rest[i + 1..]),
            None => (self.rest, ""),
        };
        self.rest = rest;
        Some((self.line_no, line.strip_suffix('\r').unwrap_or(line)))
    }
}

/// `KEY=rest`, `export KEY=rest`, `KEY: rest`, or a bare `KEY` (rest None).
/// Blank and comment lines give Ok(None).
fn split_statement(
    line: &str,
    line_no: usize,
) -> Result<Option<(String, Option<&str>)>, DotenvError> {
    let trimmed = line.trim_start();
    if trimmed.is_empty() || trimmed.starts_with('#') {
        return Ok(None);
    }
    let trimmed = trimmed
        .strip_prefix("export ")
        .map(str::trim_start)
        .unwrap_or(trimmed);
    let sep = trimmed.find(['=', ':']);
    let (key, rest) = match sep {
        Some(i) => (&trimmed[..i], Some(&trimmed[i + 1..])),
        None => (trimmed.trim_end(), None),
    };
    let key = key.trim();
    if key.is_empty() {
        return Err(DotenvError {
            line: line_no,
            message: format!("missing variable name in {line:?}"),
        });
    }
    if let Some(bad) = key
        .chars()
        .find(|c| c.is_whitespace() || matches!(c, '"' | '\'' | '$' | '#' | '{' | '}'))
    {
        return Err(DotenvError {
            line: line_no,
            message: format!("invalid variable name {key:?}: unexpected character {bad:?}"),
        });
    }
    Ok(Some((key.to_string(), rest)))
}

fn read_value(
    rest: &str,
    lines: &mut Lines<'_>,
    line_no: usize,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<String, DotenvError> {
    let value = rest.trim_start_matches([' ', '\t']);
    let interpolate = |raw: &str| {
        expand(raw, lookup)
            .map(|e| e.value)
            .map_err(|e| DotenvError {
                line: line_no,
                message: e.to_string(),
            })
    };
    match value.chars().next() {
        Some('\'') => Ok(read_quoted(&value[1..], '\'', lines, line_no)?),
        Some('"') => {
            let raw = read_quoted(&value[1..], '"', lines, line_no)?;
            interpolate(&unescape_double(&raw))
        }
        _ => {
            let unquoted = match value.find(" #") {
                Some(i) => &value[..i],
                None => value,
            };
            interpolate(unquoted.trim())
        }
    }
}

/// Reads up to the closing quote, continuing on following lines; returns the
/// raw content (escapes untouched). Text after the closing quote is ignored.
fn read_quoted(
    first: &str,
    quote: char,
    lines: &mut Lines<'_>,
    line_no: usize,
) -> Result<String, DotenvError> {
    let mut content = String::new();
    let mut current = first.to_string();
    loop {
        if let Some(end) = closing_quote(&current, quote) {
            content.push_str(&current[..end]);
            return Ok(content);
        }
        content.push_str(&current);
        content.push('\n');
        match lines.next_line() {
            Some((_, next)) => current = next.to_string(),
            None => {
                return Err(DotenvError {
                    line: line_no,
                    message: format!("unterminated quoted value (missing closing {quote})"),
                })
            }
        }
    }
}

fn closing_quote(text: &str, quote: char) -> Option<usize> {
    let mut escaped = false;
    for (i, c) in text.char_indices() {
        if quote == '"' && c == '\\' && !escaped {
            escaped = true;
            continue;
        }
        if c == quote && !escaped {
            return Some(i);
        }
        escaped = false;
    }
    None
}

/// Escapes in double-quoted values; `\$` stays a literal dollar (as `$$` for the interpolator).
fn unescape_double(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('r') => out.push('\r'),
            Some('"') => out.push('"'),
            Some('\\') => out.push('\\'),
            Some('$') => out.push_str("$$"),
            Some(other) => {
                out.push('\\');
                out.push(other);
            }
            None => out.push('\\'),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn none(_: &str) -> Option<String> {
        None
    }

    #[test]
    fn the_grammar() {
        let text = "\u{feff}A=1\nexport B=two\nC=\"x\\ny\"\nD='lit $A'\nE=${A}-$B\nF=val # comment\nG=val#nocomment\nH=\"multi\nline\"\nI\nJ: colon\n K = spaced \nL=\"esc \\\" \\\\ \\t \\$A\"\n# comment\n\nM=\nN='multi\nsingle' # after\n";
        let env = parse(text, &|k| {
            if k == "I" {
                Some("from-env".into())
            } else {
                None
            }
        })
        .unwrap();
        let get = |k: &str| env.get(k).cloned().flatten();
        assert_eq!(get("A").as_deref(), Some("1"));
        assert_eq!(get("B").as_deref(), Some("two"));
        assert_eq!(get("C").as_deref(), Some("x\ny"));
        assert_eq!(get("D").as_deref(), Some("lit $A"));
        assert_eq!(get("E").as_deref(), Some("1-two"));
        assert_eq!(get("F").as_deref(), Some("val"));
        assert_eq!(get("G").as_deref(), Some("val#nocomment"));
        assert_eq!(get("H").as_deref(), Some("multi\nline"));
        assert_eq!(get("I").as_deref(), Some("from-env"));
        assert_eq!(get("J").as_deref(), Some("colon"));
        assert_eq!(get("K").as_deref(), Some("spaced"));
        assert_eq!(get("L").as_deref(), Some("esc \" \\ \t $A"));
        assert_eq!(get("M").as_deref(), Some(""));
        assert_eq!(get("N").as_deref(), Some("multi\nsingle"));
    }

    #[test]
    fn environment_wins_over_earlier_lines() {
        let env = parse("A=file\nB=${A}\n", &|k| {
            if k == "A" {
                Some("shell".into())
            } else {
                None
            }
        })
        .unwrap();
        assert_eq!(env["B"].as_deref(), Some("shell"));
        let env = parse("BARE\n", &none).unwrap();
        assert_eq!(env["BARE"], None);
    }

    #[test]
    fn errors_name_the_line() {
        assert_eq!(parse("A=1\nB=\"open\n", &none).unwrap_err().line, 2);
        assert!(parse("=x\n", &none).is_err());
        assert!(parse("MY KEY=x\n", &none)
            .unwrap_err()
            .message
            .contains("invalid variable name"));
        assert!(parse("A=${B:?needed}\n", &none)
            .unwrap_err()
            .message
            .contains("needed"));
    }

    #[test]
    fn raw_format_keeps_everything() {
        let env = parse_raw("A=\"quoted $X\"\nB='x' # y\n").unwrap();
        assert_eq!(env["A"].as_deref(), Some("\"quoted $X\""));
        assert_eq!(env["B"].as_deref(), Some("'x' # y"));
    }
}
