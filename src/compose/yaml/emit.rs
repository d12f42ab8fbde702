//! JSON value -> YAML text in the style `docker compose config` prints (Go's
//! yaml.v3): two-space indentation, sequences indented under their key,
//! strings double-quoted only when a plain scalar would read back differently,
//! multi-line strings as literal blocks.

use serde_json::Value;
use std::fmt::Write;

/// Renders `value` as a YAML document.
pub fn to_yaml_string(value: &Value) -> String {
    let mut out = String::new();
    match value {
        Value::Object(map) if !map.is_empty() => write_map(&mut out, map, 0),
        Value::Array(items) if !items.is_empty() => write_seq(&mut out, items, 0),
        other => {
            out.push_str(&inline(other, 0));
            out.push('\n');
        }
    }
    out
}

fn pad(out: &mut String, indent: usize) {
    for _ in 0..indent {
        out.push(' ');
    }
}

fn write_map(out: &mut String, map: &serde_json::Map<String, Value>, indent: usize) {
    let mut first = true;
    for (key, value) in map {
        if !first {
            pad(out, indent);
        }
        first = false;
        out.push_str(&scalar_string(key, indent));
        out.push(':');
        write_value_after_key(out, value, indent);
    }
}

/// The value part after `key:` (or after `- ` for sequence items handled elsewhere).
fn write_value_after_key(out: &mut String, value: &Value, indent: usize) {
    match value {
        Value::Object(m) if !m.is_empty() => {
            out.push('\n');
            pad(out, indent + 2);
            write_map(out, m, indent + 2);
        }
        Value::Array(items) if !items.is_empty() => {
            out.push('\n');
            pad(out, indent + 2);
            write_seq(out, items, indent + 2);
        }
        other => {
            out.push(' ');
            out.push_str(&inline(other, indent));
            out.push('\n');
        }
    }
}

fn write_seq(out: &mut String, items: &[Value], indent: usize) {
    let mut first = true;
    for item in items {
        if !first {
            pad(out, indent);
        }
        first = false;
        out.push_str("- ");
        match item {
            Value::Object(m) if !m.is_empty() => write_map(out, m, indent + 2),
            Value::Array(inner) if !inner.is_empty() => write_seq(out, inner, indent + 2),
            other => {
                out.push_str(&inline(other, indent));
                out.push('\n');
            }
        }
    }
}

/// A scalar or an empty collection on one line (a literal block for multi-line strings).
fn inline(value: &Value, indent: usize) -> String {
    match value {
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => scalar_string(s, indent),
        Value::Array(_) => "[]".into(),
        Value::Object(_) => "{}".into(),
    }
}

fn scalar_string(s: &str, indent: usize) -> String {
    if s.contains('\n') && literal_ok(s) {
        return literal_block(s, indent);
    }
    if plain_ok(s) {
        s.to_string()
    } else if !s.is_empty() && !reads_as_non_string(s) && single_quote_ok(s) {
        // yaml.v3 single-quotes text that only needs quoting for its punctuation.
        format!("'{}'", s.replace('\'', "''"))
    } else {
        double_quoted(s)
    }
}

/// Literal blocks need printable text whose lines do not start with spaces.
fn literal_ok(s: &str) -> bool {
    !s.starts_with(' ')
        && !s
            .chars()
            .any(|c| (c.is_control() && c != '\n') || c == '\u{feff}')
        && !s.lines().any(|l| l.ends_with(' '))
}

fn literal_block(s: &str, indent: usize) -> String {
    let trailing = s.len() - s.trim_end_matches('\n').len();
    let chomp = match trailing {
        0 => "-",
        1 => "",
        _ => "+",
    };
    // Text starting with a line break needs an explicit indentation indicator.
    let indentation = if s.starts_with('\n') { "2" } else { "" };
    let mut out = format!("|{indentation}{chomp}");
    let body = s.strip_suffix('\n').unwrap_or(s);
    for line in body.split('\n') {
        out.push('\n');
        if !line.is_empty() {
            let _ = write!(out, "{}{}", " ".repeat(indent + 2), line);
        }
    }
    out
}

/// Whether `s` can be written without quotes and read back as the same string.
fn plain_ok(s: &str) -> bool {
    let Some(first) = s.chars().next() else {
        return false;
    };
    if s.starts_with(' ') || s.ends_with(' ') || s.ends_with(':') {
        return false;
    }
    if reads_as_non_string(s) {
        return false;
    }
    let second_is_space = s.chars().nth(1).is_none_or(|c| c == ' ');
    match first {
        '-' | '?' | ':' if second_is_space => return false,
        ',' | '[' | ']' | '{' | '}' | '#' | '&' | '*' | '!' | '|' | '>' | '\'' | '"' | '%'
        | '@' | '`' => return false,
        _ => {}
    }
    if s.contains(": ") || s.contains(" #") || s.contains(":\t") {
        return false;
    }
    !s.chars().any(|c| {
        c.is_control() || c == '\u{feff}' || c == '\u{85}' || c == '\u{2028}' || c == '\u{2029}'
    })
}

/// Plain text that YAML 1.1 or 1.2 would read as null, a boolean or a number.
fn reads_as_non_string(s: &str) -> bool {
    if is_base60_number(s) {
        return true;
    }
    let lower = s.to_ascii_lowercase();
    if matches!(
        lower.as_str(),
        "~" | "null"
            | "true"
            | "false"
            | "yes"
            | "no"
            | "on"
            | "off"
            | "y"
            | "n"
            | ".inf"
            | "-.inf"
            | "+.inf"
            | ".nan"
    ) {
        return true;
    }
    let digits = s.strip_prefix(['-', '+']).unwrap_or(s);
    if digits.is_empty() {
        return false;
    }
    // Integers in any base, sexagesimal-ish and floats: anything numeric-looking is quoted.
    let numeric_chars = digits.chars().all(|c| {
        c.is_ascii_hexdigit()
            || matches!(
                c,
                '.' | '_' | 'x' | 'o' | 'X' | 'O' | 'e' | 'E' | '+' | '-' | ':'
            )
    });
    if numeric_chars && digits.starts_with(|c: char| c.is_ascii_digit() || c == '.') {
        return digits.parse::<f64>().is_ok()
            || digits.starts_with("0x")
            || digits.starts_with("0o")
            || digits.chars().all(|c| c.is_ascii_digit() || c == '_')
            || (digits.starts_with('0') && digits.chars().all(|c| c.is_ascii_digit()));
    }
    false
}

/// Printable one-line text can be single-quoted.
fn single_quote_ok(s: &str) -> bool {
    !s.chars()
        .any(|c| c.is_control() || matches!(c, '\u{85}' | '\u{2028}' | '\u{2029}' | '\u{feff}'))
}

/// YAML 1.1 sexagesimal numbers (`12:00`, `1:30:15.5`), which yaml.v3 quotes.
fn is_base60_number(s: &str) -> bool {
    let body = s.strip_prefix(['-', '+']).unwrap_or(s);
    let (int_part, frac) = match body.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (body, None),
    };
    let mut groups = int_part.split(':');
    let Some(first) = groups.next() else {
        return false;
    };
    let first_ok = first.starts_with(|c: char| c.is_ascii_digit())
        && first.chars().all(|c| c.is_ascii_digit() || c == '_');
    let rest: Vec<&str> = groups.collect();
    let rest_ok = !rest.is_empty()
        && rest.iter().all(|g| {
            (1..=2).contains(&g.len())
                && g.chars().all(|c| c.is_ascii_digit())
                && (g.len() == 1 || g.as_bytes()[0] <= b'5')
        });
    let frac_ok = frac.is_none_or(|f| f.chars().all(|c| c.is_ascii_digit() || c == '_'));
    first_ok && rest_ok && frac_ok
}

fn double_quoted(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                let _ = write!(out, "\\x{:02X}", c as u32);
            }
            '\u{85}' | '\u{2028}' | '\u{2029}' | '\u{feff}' => {
                let _ = write!(out, "\\u{:04X}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compose::yaml::{parse_documents, to_json, FileId, ParseLimits};
    use serde_json::json;

    fn round_trip(v: &Value) {
        let text = to_yaml_string(v);
        let docs = parse_documents(&text, FileId(0), ParseLimits::default())
            .unwrap_or_else(|e| panic!("{e}\n{text}"));
        let back = docs.first().map(to_json).unwrap_or(Value::Null);
        assert_eq!(&back, v, "round trip failed for:\n{text}");
    }

    #[test]
    fn compose_style() {
        let v = json!({"name": "t1", "services": {"web": {"command": ["echo", "hi there"], "environment": {"A": "1", "B": null},
            "ports": [{"mode": "ingress", "target": 80, "published": "8080"}], "volume": {}, "list": []}}});
        assert_eq!(
            to_yaml_string(&v),
            "name: t1\nservices:\n  web:\n    command:\n      - echo\n      - hi there\n    environment:\n      A: \"1\"\n      B: null\n    ports:\n      - mode: ingress\n        target: 80\n        published: \"8080\"\n    volume: {}\n    list: []\n"
        );
    }

    #[test]
    fn quoting() {
        for s in [
            "",
            "80",
            "0755",
            "1e3",
            ".5",
            "true",
            "No",
            "on",
            "null",
            "~",
            " x",
            "x ",
            "a: b",
            "a #b",
            "x:",
            "-",
            "- x",
            "[x]",
            "{",
            "#c",
            "*a",
            "&a",
            "!t",
            "|",
            ">",
            "'q",
            "\"q",
            "%",
            "@",
            "`",
            "tab\there",
            "0x1F",
            "1_000",
            "-1",
            "+1",
        ] {
            assert!(!plain_ok(s), "{s:?} should be quoted");
            round_trip(&json!({ "k": s }));
        }
        for s in [
            "nginx",
            "a:b",
            "1000:1000",
            "0-1",
            "c 1:3 mr",
            "-c",
            "02:42:ac:11:65:43",
            "http://x/y",
            "a,b",
            "1.2.3",
            "hello $$x",
            "v1.0",
        ] {
            assert!(plain_ok(s), "{s:?} should be plain");
            round_trip(&json!({ "k": s }));
        }
    }

    #[test]
    fn quote_style_like_yaml_v3() {
        let v = json!({"a": "*.foo", "b": "container:", "c": "This is ", "d": "80", "e": "it's: x", "f": ""});
        assert_eq!(
            to_yaml_string(&v),
            "a: '*.foo'\nb: 'container:'\nc: 'This is '\nd: \"80\"\ne: 'it''s: x'\nf: \"\"\n"
        );
        round_trip(&v);
    }

    #[test]
    fn multi_line_and_nesting_round_trip() {
        round_trip(
            &json!({"a": "line1\nline2", "b": "end\n", "c": "two\n\n", "d": "  lead\nx", "e": "x\u{1}y"}),
        );
        round_trip(
            &json!({"a": [[1, 2], [{"x": [1]}]], "b": [{"c": {"d": [null, true, 1.5]}}], "e": {"f": {}}}),
        );
        round_trip(&json!({"weird key: x": 1, "80": "p", "": "empty"}));
    }
}
