//! Variable interpolation in compose values: `$VAR`, `${VAR}`, `${VAR:-d}`,
//! `${VAR-d}`, `${VAR:?msg}`, `${VAR?msg}`, `${VAR:+alt}`, `${VAR+alt}`,
//! nesting (`${A:-${B:-c}}`), and `$$` for a literal `$`. A `$` not followed
//! by a name or `{` stays as it is, as in compose.

use super::error::Problem;
use super::yaml::{Node, NodePath, ScalarStyle, Value};

/// Why a template could not be expanded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    /// `${VAR:?msg}` / `${VAR?msg}` with the variable unset (or empty for `:?`).
    #[error("required variable {name} is missing a value{}", if .message.is_empty() { String::new() } else { format!(": {}", .message) })]
    Required { name: String, message: String },
    /// The template's syntax is wrong (e.g. `${`, `${A:x}`).
    #[error("invalid interpolation format {template:?}: {reason}; you may need to escape any $ with another $")]
    Invalid { template: String, reason: String },
}

/// The result of expanding one string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expanded {
    pub value: String,
    /// Variables that were used without a value and without a default.
    pub unset: Vec<String>,
}

/// Expands `template`, looking variables up with `lookup`.
pub fn expand(
    template: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<Expanded, TemplateError> {
    let mut unset = Vec::new();
    let value = expand_into(template, template, lookup, &mut unset, 0)?;
    Ok(Expanded { value, unset })
}

/// Nesting deeper than this is refused (it can only come from hostile input).
const MAX_NESTING: usize = 64;

fn is_name_start(c: char) -> bool {
    c == '_' || c.is_ascii_alphabetic()
}

fn is_name_char(c: char) -> bool {
    c == '_' || c.is_ascii_alphanumeric()
}

fn invalid_template(template: &str, reason: &str) -> TemplateError {
    TemplateError::Invalid {
        template: template.to_string(),
        reason: reason.to_string(),
    }
}

fn expand_into(
    text: &str,
    whole: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
    unset: &mut Vec<String>,
    depth: usize,
) -> Result<String, TemplateError> {
    let invalid = |reason: &str| invalid_template(whole, reason);
    if depth > MAX_NESTING {
        return Err(invalid("nested too deeply"));
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(pos) = rest.find('$') {
        out.push_str(&rest[..pos]);
        let after = &rest[pos + 1..];
        let mut chars = after.chars();
        match chars.next() {
            Some('$') => {
                out.push('$');
                rest = &after[1..];
            }
            Some('{') => {
                let body_len =
                    matching_brace(&after[1..]).ok_or_else(|| invalid("missing closing brace"))?;
                let body = &after[1..1 + body_len];
                out.push_str(&expand_braced(body, whole, lookup, unset, depth)?);
                rest = &after[1 + body_len + 1..];
            }
            Some(c) if is_name_start(c) => {
                let len = after
                    .find(|c: char| !is_name_char(c))
                    .unwrap_or(after.len());
                let name = &after[..len];
                match lookup(name) {
                    Some(v) => out.push_str(&v),
                    None => unset.push(name.to_string()),
                }
                rest = &after[len..];
            }
            _ => {
                out.push('$');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    Ok(out)
}

/// Length of the text up to the `}` that closes an opening `{` (nesting counted).
fn matching_brace(text: &str) -> Option<usize> {
    let mut depth = 0usize;
    for (i, c) in text.char_indices() {
        match c {
            '{' => depth += 1,
            '}' if depth == 0 => return Some(i),
            '}' => depth -= 1,
            _ => {}
        }
    }
    None
}

fn expand_braced(
    body: &str,
    whole: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
    unset: &mut Vec<String>,
    depth: usize,
) -> Result<String, TemplateError> {
    let invalid = |reason: &str| invalid_template(whole, reason);
    let name_len = body.find(|c: char| !is_name_char(c)).unwrap_or(body.len());
    let name = &body[..name_len];
    if name.is_empty() || !name.starts_with(is_name_start) {
        return Err(invalid("expected a variable name after ${"));
    }
    let op = &body[name_len..];
    let value = lookup(name);
    let set = value.is_some();
    let non_empty = value.as_deref().is_some_and(|v| !v.is_empty());
    let sub =
        |arg: &str, unset: &mut Vec<String>| expand_into(arg, whole, lookup, unset, depth + 1);
    if op.is_empty() {
        if !set {
            unset.push(name.to_string());
        }
        return Ok(value.unwrap_or_default());
    }
    let (operator, arg) = if let Some(arg) = op.strip_prefix(":-") {
        (":-", arg)
    } else if let Some(arg) = op.strip_prefix(":?") {
        (":?", arg)
    } else if let Some(arg) = op.strip_prefix(":+") {
        (":+", arg)
    } else if let Some(arg) = op.strip_prefix('-') {
        ("-", arg)
    } else if let Some(arg) = op.strip_prefix('?') {
        ("?", arg)
    } else if let Some(arg) = op.strip_prefix('+') {
        ("+", arg)
    } else {
        return Err(invalid(&format!(
            "unsupported modifier {op:?} after variable {name}"
        )));
    };
    match operator {
        ":-" if non_empty => Ok(value.unwrap_or_default()),
        ":-" => sub(arg, unset),
        "-" if set => Ok(value.unwrap_or_default()),
        "-" => sub(arg, unset),
        ":+" if non_empty => sub(arg, unset),
        "+" if set => sub(arg, unset),
        ":+" | "+" => Ok(String::new()),
        ":?" if non_empty => Ok(value.unwrap_or_default()),
        "?" if set => Ok(value.unwrap_or_default()),
        _ => Err(TemplateError::Required {
            name: name.to_string(),
            message: sub(arg, unset)?,
        }),
    }
}

/// Expands every scalar value (never a key) of `node`, in place. A scalar whose
/// text changed becomes a quoted string. `on_unset` is called once per use of a
/// variable that has no value (the caller dedups warnings).
pub fn interpolate_tree(
    node: &mut Node,
    path: &NodePath,
    lookup: &dyn Fn(&str) -> Option<String>,
    on_unset: &mut dyn FnMut(&str),
) -> Result<(), Problem> {
    match &mut node.value {
        Value::Scalar(scalar) if scalar.text.contains('$') => {
            let expanded = expand(&scalar.text, lookup)
                .map_err(|e| Problem::new(node.span, path.clone(), e.to_string()))?;
            for name in &expanded.unset {
                on_unset(name);
            }
            if expanded.value != scalar.text {
                scalar.text = expanded.value;
                scalar.style = ScalarStyle::DoubleQuoted;
            }
            Ok(())
        }
        Value::Seq(items) => {
            for (i, item) in items.iter_mut().enumerate() {
                interpolate_tree(item, &path.index(i), lookup, on_unset)?;
            }
            Ok(())
        }
        Value::Map(map) => {
            for (key, value) in map.iter_mut() {
                interpolate_tree(value, &path.key(key), lookup, on_unset)?;
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(name: &str) -> Option<String> {
        match name {
            "A" => Some("1".into()),
            "E" => Some(String::new()),
            "B" => Some("two".into()),
            _ => None,
        }
    }

    fn x(t: &str) -> String {
        expand(t, &env).unwrap().value
    }

    #[test]
    fn every_form() {
        assert_eq!(x("$A"), "1");
        assert_eq!(x("${A}"), "1");
        assert_eq!(x("${E:-d}"), "d");
        assert_eq!(x("${E-d}"), "");
        assert_eq!(x("${U-d}"), "d");
        assert_eq!(x("${A:+alt}"), "alt");
        assert_eq!(x("${E:+alt}"), "");
        assert_eq!(x("${E+alt}"), "alt");
        assert_eq!(x("${U+alt}"), "");
        assert_eq!(x("${A:?}"), "1");
        assert_eq!(x("${U:-${B:-c}}"), "two");
        assert_eq!(x("${U:-${V:-c}}"), "c");
        assert_eq!(x("$$A"), "$A");
        assert_eq!(x("${A}${A}"), "11");
        assert_eq!(x("${A}_B"), "1_B");
        assert_eq!(x("$A-b"), "1-b");
        assert_eq!(x("a$"), "a$");
        assert_eq!(x("a $1 $ $-"), "a $1 $ $-");
        assert_eq!(x("${U:-a}b}"), "ab}");
        assert_eq!(x("${U:-{x}}"), "{x}");
        assert_eq!(x("é${A}ü"), "é1ü");
    }

    #[test]
    fn unset_is_reported() {
        let e = expand("$A_B ${C} ${D:-x}", &env).unwrap();
        assert_eq!(e.value, "  x");
        assert_eq!(e.unset, ["A_B", "C"]);
    }

    #[test]
    fn errors() {
        let err = expand("${TAG:?set TAG first}", &env).unwrap_err();
        assert_eq!(
            err.to_string(),
            "required variable TAG is missing a value: set TAG first"
        );
        assert!(matches!(
            expand("${E:?}", &env),
            Err(TemplateError::Required { .. })
        ));
        assert_eq!(x("${E?}"), "");
        for bad in ["${}", "${A:x}", "${A", "${A.B}", "${1}"] {
            assert!(
                matches!(expand(bad, &env), Err(TemplateError::Invalid { .. })),
                "{bad}"
            );
        }
        let deep = "${A:-".repeat(200) + &"}".repeat(200);
        assert!(expand(&deep, &|_| None).is_err());
    }

    #[test]
    fn tree_values_not_keys() {
        use crate::compose::yaml::{Mapping, Span};
        let mut m = Mapping::new();
        m.insert("$A", Node::plain("${A}", Span::default()));
        let mut node = Node::map(m, Span::default());
        let mut missing = Vec::new();
        interpolate_tree(&mut node, &NodePath::root(), &env, &mut |n| {
            missing.push(n.to_string())
        })
        .unwrap();
        let value = node.as_map().unwrap().get("$A").unwrap();
        assert_eq!(value.as_str(), Some("1"));
        assert_eq!(value.as_scalar().unwrap().style, ScalarStyle::DoubleQuoted);
    }
}
