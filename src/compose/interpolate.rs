//! Variable interpolation in compose values: `$VAR`, `${VAR}`, `${VAR:-d}`,
//! `${VAR-d}`, `${VAR:?msg}`, `${VAR?msg}`, `${VAR:+alt}`, `${VAR+alt}`,
//! nesting, and `$$` for a literal `$`.
//!
//! The rules follow what `docker compose` (compose-go's `template` package)
//! does, including its corners:
//!
//! * A `$` that starts nothing (`$1`, `$ `, `$-`, `$é`, a `$` at the end) is
//!   kept as a literal `$`.
//! * `${` must be followed by a name, then either `}` or one of the operators
//!   `:-` `-` `:?` `?` `:+` `+` and a closing `}` *on the same line*; anything
//!   else (`${}`, `${A:x}`, `${A.B}`, `${ A}`, an unterminated `${A`) is an
//!   invalid template.
//! * Names are `[_a-zA-Z][_a-zA-Z0-9]*`. Compose matches them with a
//!   case-insensitive regular expression, which also lets in the two
//!   non-ASCII letters that fold to ASCII ones: `ſ` (U+017F, long s) and `K`
//!   (U+212A, Kelvin sign). They are accepted here too.
//! * The text after an operator (default, alternative or error message) ends
//!   at the first `}` that balances the opening `${`, counted the way compose
//!   counts: every `{` opens (and the byte right after it is skipped), every
//!   `}` closes. When the braces never balance, it runs to the last `}` of the
//!   line.
//! * That text is itself a template and is expanded *whether or not it is
//!   used*: `${A:-${B}}` warns about an unset `B` even when `A` is set, and
//!   `${A:-${B:?err}}` fails when `B` is unset. This is what compose does.
//!
//! Nesting is limited to [`MAX_NESTING`] levels so that no input can exhaust
//! the stack; deeper templates are reported as invalid.

use super::error::Problem;
use super::yaml::{Node, NodePath, ScalarStyle, Value};

/// How deeply templates may nest inside defaults, alternatives and messages
/// (`${A:-${B:-${C}}}` nests two levels).
pub const MAX_NESTING: usize = 100;

/// Why a template could not be expanded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    /// `${VAR:?msg}` / `${VAR?msg}` with the variable unset (or empty for `:?`).
    #[error("required variable {name} is missing a value{}", if .message.is_empty() { String::new() } else { format!(": {}", .message) })]
    Required { name: String, message: String },
    /// The template's syntax is wrong (e.g. `${`, `${A:x}`).
    #[error("invalid interpolation format for {template:?}: {reason}")]
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
    let mut expander = Expander {
        lookup,
        unset: Vec::new(),
    };
    match expander.substitute(template, 0) {
        Ok(value) => Ok(Expanded {
            value,
            unset: expander.unset,
        }),
        Err(Failure::Required { name, message }) => Err(TemplateError::Required { name, message }),
        Err(Failure::Invalid(reason)) => Err(TemplateError::Invalid {
            template: template.to_string(),
            reason,
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
    let span = node.span;
    match &mut node.value {
        Value::Null => Ok(()),
        Value::Scalar(scalar) => {
            if !scalar.text.contains('$') {
                return Ok(());
            }
            let expanded = expand(&scalar.text, lookup)
                .map_err(|err| Problem::new(span, path.clone(), problem_message(&err)))?;
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
            for (index, item) in items.iter_mut().enumerate() {
                interpolate_tree(item, &path.index(index), lookup, on_unset)?;
            }
            Ok(())
        }
        Value::Map(mapping) => {
            for (key, value) in mapping.iter_mut() {
                interpolate_tree(value, &path.key(key), lookup, on_unset)?;
            }
            Ok(())
        }
    }
}

/// The message of the [`Problem`] reported for a template error.
fn problem_message(err: &TemplateError) -> String {
    match err {
        TemplateError::Required { .. } => err.to_string(),
        TemplateError::Invalid { .. } => {
            format!("{err} (you may need to escape any $ with another $)")
        }
    }
}

/// The message given to the warning compose prints for an unset variable.
pub fn unset_warning(name: &str) -> String {
    format!("The {name:?} variable is not set. Defaulting to a blank string.")
}

/// True for a character that may start a variable name.
fn is_name_start(c: char) -> bool {
    c == '_' || c.is_ascii_alphabetic() || c == '\u{17F}' || c == '\u{212A}'
}

/// True for a character that may continue a variable name.
fn is_name_char(c: char) -> bool {
    is_name_start(c) || c.is_ascii_digit()
}

/// Where the variable name starting at `start` ends (a byte index).
fn name_end(s: &str, start: usize) -> usize {
    s[start..]
        .char_indices()
        .find(|&(_, c)| !is_name_char(c))
        .map_or(s.len(), |(i, _)| start + i)
}

/// The operators that may follow a name inside `${...}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Operator {
    /// `:-`: the default when unset or empty.
    DefaultUnsetOrEmpty,
    /// `-`: the default when unset.
    DefaultUnset,
    /// `:?`: an error when unset or empty.
    RequiredNonEmpty,
    /// `?`: an error when unset.
    Required,
    /// `:+`: the alternative when set and non-empty.
    AltNonEmpty,
    /// `+`: the alternative when set.
    AltSet,
}

impl Operator {
    /// Reads an operator at the start of `s`; returns it and its length.
    fn parse(s: &str) -> Option<(Operator, usize)> {
        let b = s.as_bytes();
        let op = match (b.first()?, b.get(1)) {
            (b':', Some(b'-')) => (Operator::DefaultUnsetOrEmpty, 2),
            (b':', Some(b'?')) => (Operator::RequiredNonEmpty, 2),
            (b':', Some(b'+')) => (Operator::AltNonEmpty, 2),
            (b'-', _) => (Operator::DefaultUnset, 1),
            (b'?', _) => (Operator::Required, 1),
            (b'+', _) => (Operator::AltSet, 1),
            _ => return None,
        };
        Some(op)
    }
}

/// An error found while expanding, before the template text is attached.
#[derive(Debug)]
enum Failure {
    Required { name: String, message: String },
    Invalid(String),
}

/// The last `}` of one line, remembered so that a line full of templates is
/// not searched again for every one of them.
#[derive(Debug, Clone, Copy)]
struct LineClose {
    /// Where the search started; the result holds for any later start on the
    /// same line.
    from: usize,
    /// The index of the line's `\n` (or the end of the text).
    line_end: usize,
    /// The index of the last `}` in `from..line_end`.
    last_close: Option<usize>,
}

struct Expander<'a> {
    lookup: &'a dyn Fn(&str) -> Option<String>,
    unset: Vec<String>,
}

impl Expander<'_> {
    /// Expands one template (the whole value, or the text after an operator).
    fn substitute(&mut self, s: &str, depth: usize) -> Result<String, Failure> {
        if depth > MAX_NESTING {
            return Err(Failure::Invalid(format!(
                "templates are nested more than {MAX_NESTING} levels deep"
            )));
        }
        let mut out = String::with_capacity(s.len());
        let mut line_close: Option<LineClose> = None;
        let mut i = 0;
        while let Some(offset) = s[i..].find('$') {
            let dollar = i + offset;
            out.push_str(&s[i..dollar]);
            let next = s[dollar + 1..].chars().next();
            i = match next {
                Some('$') => {
                    out.push('$');
                    dollar + 2
                }
                Some(c) if is_name_start(c) => {
                    let end = name_end(s, dollar + 1);
                    self.push_variable(&mut out, &s[dollar + 1..end]);
                    end
                }
                Some('{') => self.braced(s, dollar, depth, &mut line_close, &mut out)?,
                _ => {
                    out.push('$');
                    dollar + 1
                }
            };
        }
        out.push_str(&s[i..]);
        Ok(out)
    }

    /// Appends the value of a variable used without an operator.
    fn push_variable(&mut self, out: &mut String, name: &str) {
        match (self.lookup)(name) {
            Some(value) => out.push_str(&value),
            None => self.unset.push(name.to_string()),
        }
    }

    /// Expands the `${...}` starting at `dollar`; returns where scanning goes on.
    fn braced(
        &mut self,
        s: &str,
        dollar: usize,
        depth: usize,
        line_close: &mut Option<LineClose>,
        out: &mut String,
    ) -> Result<usize, Failure> {
        let name_start = dollar + 2;
        match s[name_start..].chars().next() {
            Some(c) if is_name_start(c) => {}
            Some('}') => return Err(Failure::Invalid("empty variable name in \"${}\"".into())),
            Some('\n') | None => {
                return Err(Failure::Invalid("\"${\" is not closed by \"}\"".into()));
            }
            Some(c) => {
                return Err(Failure::Invalid(format!(
                    "\"${{\" must be followed by a variable name, found \"{}\"",
                    c.escape_debug()
                )));
            }
        }
        let name_end = name_end(s, name_start);
        let name = &s[name_start..name_end];
        let rest = &s[name_end..];
        if rest.starts_with('}') {
            self.push_variable(out, name);
            return Ok(name_end + 1);
        }
        let Some((op, op_len)) = Operator::parse(rest) else {
            let mut chars = rest.chars();
            let reason = match (chars.next(), chars.next()) {
                (None | Some('\n'), _) | (Some(':'), None | Some('\n')) => {
                    format!("\"${{{name}\" is not closed by \"}}\"")
                }
                (Some(':'), Some(c)) => format!(
                    "unknown operator \":{}\" after variable {name} (expected \":-\", \":?\" or \":+\")",
                    c.escape_debug()
                ),
                (Some(c), _) => format!(
                    "unexpected \"{}\" after variable {name} (a name has only letters, digits and \"_\"; \
                     operators are \":-\", \"-\", \":?\", \"?\", \":+\" and \"+\")",
                    c.escape_debug()
                ),
            };
            return Err(Failure::Invalid(reason));
        };
        let arg_start = name_end + op_len;
        let Some(last_close) = last_close_on_line(s, arg_start, line_close) else {
            return Err(Failure::Invalid(format!(
                "\"${{{name}\" is not closed by \"}}\" on the same line"
            )));
        };
        let close = s
            .get(dollar..=last_close)
            .and_then(first_balanced_close)
            .map_or(last_close, |k| dollar + k);
        // The counting cannot stop before the operator (names and operators
        // hold no braces), but never trust that with a slice index.
        let Some(arg) = s.get(arg_start..close) else {
            return Err(Failure::Invalid(format!(
                "\"${{{name}\" is not closed by \"}}\""
            )));
        };
        let arg = self.substitute(arg, depth + 1)?;
        let value = (self.lookup)(name);
        let result = match op {
            Operator::DefaultUnsetOrEmpty => match value {
                Some(v) if !v.is_empty() => v,
                _ => arg,
            },
            Operator::DefaultUnset => value.unwrap_or(arg),
            Operator::AltNonEmpty => match value {
                Some(v) if !v.is_empty() => arg,
                _ => String::new(),
            },
            Operator::AltSet => match value {
                Some(_) => arg,
                None => String::new(),
            },
            Operator::RequiredNonEmpty => match value {
                Some(v) if !v.is_empty() => v,
                _ => {
                    return Err(Failure::Required {
                        name: name.to_string(),
                        message: arg,
                    })
                }
            },
            Operator::Required => match value {
                Some(v) => v,
                None => {
                    return Err(Failure::Required {
                        name: name.to_string(),
                        message: arg,
                    })
                }
            },
        };
        out.push_str(&result);
        Ok(close + 1)
    }
}

/// The last `}` between `from` and the end of its line.
fn last_close_on_line(s: &str, from: usize, cache: &mut Option<LineClose>) -> Option<usize> {
    if let Some(c) = *cache {
        if c.from <= from && from <= c.line_end {
            return c.last_close.filter(|&k| k >= from);
        }
    }
    let line_end = s[from..].find('\n').map_or(s.len(), |k| from + k);
    let last_close = s[from..line_end].rfind('}').map(|k| from + k);
    *cache = Some(LineClose {
        from,
        line_end,
        last_close,
    });
    last_close
}

/// Where compose considers the `${` at the start of `s` closed: every `{`
/// opens a level and skips the byte after it, every `}` closes one.
fn first_balanced_close(s: &str) -> Option<usize> {
    let b = s.as_bytes();
    let mut open = 0usize;
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'}' => {
                open = open.saturating_sub(1);
                if open == 0 {
                    return Some(i);
                }
            }
            b'{' => {
                open += 1;
                i += 1;
            }
            _ => {}
        }
        i += 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compose::yaml::{FileId, Mapping, Scalar, Span};

    fn env(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let vars: Vec<(String, String)> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |name| vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
    }

    fn std_env() -> impl Fn(&str) -> Option<String> {
        env(&[
            ("S", "set"),
            ("E", ""),
            ("A", "a"),
            ("B", "b"),
            ("A_B", "ab"),
            ("U8", "é✓"),
        ])
    }

    fn ok(template: &str) -> String {
        match expand(template, &std_env()) {
            Ok(e) => e.value,
            Err(e) => panic!("{template:?}: {e}"),
        }
    }

    fn unset(template: &str) -> Vec<String> {
        expand(template, &std_env())
            .map(|e| e.unset)
            .unwrap_or_default()
    }

    fn err(template: &str) -> TemplateError {
        match expand(template, &std_env()) {
            Ok(e) => panic!("{template:?} expanded to {:?}", e.value),
            Err(e) => e,
        }
    }

    fn is_invalid(template: &str) -> bool {
        matches!(
            expand(template, &std_env()),
            Err(TemplateError::Invalid { .. })
        )
    }

    #[test]
    fn plain_text_is_unchanged() {
        assert_eq!(ok(""), "");
        assert_eq!(ok("hello world"), "hello world");
        assert_eq!(ok("{}{{}}"), "{}{{}}");
        assert_eq!(ok("ünïcødé ✓"), "ünïcødé ✓");
    }

    #[test]
    fn simple_variables() {
        assert_eq!(ok("$S"), "set");
        assert_eq!(ok("${S}"), "set");
        assert_eq!(ok("x$S/y"), "xset/y");
        assert_eq!(ok("$U8"), "é✓");
        assert_eq!(ok("[$E]"), "[]");
        assert_eq!(ok("$NOPE"), "");
        assert_eq!(ok("${NOPE}"), "");
    }

    #[test]
    fn names_and_adjacency() {
        assert_eq!(ok("$A_B"), "ab");
        assert_eq!(ok("${A}_B"), "a_B");
        assert_eq!(ok("${A}${B}"), "ab");
        assert_eq!(ok("$A$B"), "ab");
        assert_eq!(ok("$A.B"), "a.B");
        assert_eq!(ok("$A-B"), "a-B");
        assert_eq!(ok("$A:B"), "a:B");
        assert_eq!(ok("$A}"), "a}");
        assert_eq!(ok("${A}}"), "a}");
        assert_eq!(ok("$Aé"), "aé");
        assert_eq!(ok("$NOé"), "é");
        assert_eq!(unset("$NOé"), ["NO"]);
        let lookup = env(&[("_", "u"), ("_1", "v"), ("a1_2", "w")]);
        assert_eq!(expand("$_ ${_1} $a1_2", &lookup).unwrap().value, "u v w");
    }

    #[test]
    fn names_fold_like_compose() {
        // Compose's case-insensitive name pattern also matches these two.
        let lookup = env(&[("ſ", "long-s"), ("K", "kelvin")]);
        assert_eq!(expand("$ſ ${K}", &lookup).unwrap().value, "long-s kelvin");
    }

    #[test]
    fn dollar_escapes() {
        assert_eq!(ok("$$"), "$");
        assert_eq!(ok("$$S"), "$S");
        assert_eq!(ok("$${S}"), "${S}");
        assert_eq!(ok("$$$S"), "$set");
        assert_eq!(ok("$$$$"), "$$");
        assert_eq!(ok("a$$b"), "a$b");
    }

    #[test]
    fn lone_dollars_stay_literal() {
        assert_eq!(ok("$"), "$");
        assert_eq!(ok("a$"), "a$");
        assert_eq!(ok("$1"), "$1");
        assert_eq!(ok("$1A"), "$1A");
        assert_eq!(ok("$ x"), "$ x");
        assert_eq!(ok("$-"), "$-");
        assert_eq!(ok("$é"), "$é");
        assert_eq!(ok("$}"), "$}");
        assert_eq!(ok("$\n"), "$\n");
        assert_eq!(ok("5$"), "5$");
    }

    #[test]
    fn default_operators() {
        assert_eq!(ok("${S:-d}|${E:-d}|${U:-d}"), "set|d|d");
        assert_eq!(ok("${S-d}|${E-d}|${U-d}"), "set||d");
        assert_eq!(ok("${U:-}"), "");
        assert_eq!(ok("${U:- x }"), " x ");
        assert_eq!(ok("${U-:-x}"), ":-x");
        assert_eq!(ok("${U:-a:-b}"), "a:-b");
        assert_eq!(ok("${U:-é✓}"), "é✓");
        assert!(unset("${U:-d}").is_empty());
        assert!(unset("${U-}").is_empty());
    }

    #[test]
    fn alternative_operators() {
        assert_eq!(ok("${S:+alt}|${E:+alt}|${U:+alt}"), "alt||");
        assert_eq!(ok("${S+alt}|${E+alt}|${U+alt}"), "alt|alt|");
        assert_eq!(ok("${S:+}"), "");
        assert!(unset("${U:+x}").is_empty());
    }

    #[test]
    fn required_operators() {
        assert_eq!(ok("${S:?boom}"), "set");
        assert_eq!(ok("${E?boom}"), "");
        assert_eq!(
            err("${E:?boom}"),
            TemplateError::Required {
                name: "E".into(),
                message: "boom".into()
            }
        );
        assert_eq!(
            err("x ${U?set U please}"),
            TemplateError::Required {
                name: "U".into(),
                message: "set U please".into()
            }
        );
        assert_eq!(
            err("${U:?}").to_string(),
            "required variable U is missing a value"
        );
        assert_eq!(
            err("${U?}").to_string(),
            "required variable U is missing a value"
        );
        assert_eq!(
            err("${TAG:?set TAG}").to_string(),
            "required variable TAG is missing a value: set TAG"
        );
        // The message is a template too.
        assert_eq!(
            err("${U?need $S}").to_string(),
            "required variable U is missing a value: need set"
        );
    }

    #[test]
    fn nested_templates() {
        assert_eq!(ok("${U:-${B:-c}}"), "b");
        assert_eq!(ok("${U:-${V:-c}}"), "c");
        assert_eq!(ok("${U:-${V:-${W:-deep}}}"), "deep");
        assert_eq!(ok("${S:+[${A}]}"), "[a]");
        assert_eq!(ok("${U:-$A$$B}"), "a$B");
        assert_eq!(ok("${U:-x}${V:-y}z}"), "xyz}");
        assert_eq!(ok("${U:-a}b}c"), "ab}c");
        assert_eq!(ok("${U:-}}"), "}");
        assert_eq!(ok("${U:-$}"), "$");
        assert_eq!(ok("${U:-$$}"), "$");
    }

    #[test]
    fn nested_templates_are_expanded_even_when_unused() {
        // Compose expands defaults eagerly: warnings and errors still happen.
        assert_eq!(ok("${S:-${NOPE}}"), "set");
        assert_eq!(unset("${S:-${NOPE}}"), ["NOPE"]);
        assert_eq!(
            err("${S:-${NOPE:?boom}}"),
            TemplateError::Required {
                name: "NOPE".into(),
                message: "boom".into()
            }
        );
        assert_eq!(unset("${U:?${NOPE}}"), Vec::<String>::new()); // errors instead
        assert!(
            matches!(err("${U:?${NOPE}}"), TemplateError::Required { message, .. } if message.is_empty())
        );
    }

    #[test]
    fn braces_are_counted_like_compose() {
        assert_eq!(ok("${U:-{x}}"), "{x}");
        assert_eq!(ok("${U:-{}}x}"), "{}}x");
        assert_eq!(ok("${U-{}"), "{");
        assert_eq!(ok("${U:-a}\n}"), "a\n}");
    }

    #[test]
    fn invalid_templates() {
        for t in [
            "${}",
            "${",
            "x${",
            "${A",
            "${A:x}",
            "${A:}",
            "${A.B}",
            "${A-B",
            "${ A}",
            "${A }",
            "${1A}",
            "${é}",
            "${A:-x\ny}",
            "${U:-${B}",
            "ok ${}",
            "${A:-${}}",
            "${S}${",
            "${A!}",
        ] {
            assert!(is_invalid(t), "{t:?} should be invalid");
        }
        let e = err("a ${A:x}");
        assert_eq!(
            e,
            TemplateError::Invalid {
                template: "a ${A:x}".into(),
                reason:
                    "unknown operator \":x\" after variable A (expected \":-\", \":?\" or \":+\")"
                        .into()
            }
        );
        assert!(err("${A")
            .to_string()
            .starts_with("invalid interpolation format for \"${A\""));
    }

    #[test]
    fn unset_variables_are_tracked_per_use() {
        assert_eq!(unset("$X ${Y} $X ${S} $E"), ["X", "Y", "X"]);
        assert_eq!(unset("${X:-d}${Y-}${Z:+a}${W+a}"), Vec::<String>::new());
        assert_eq!(unset("$$X"), Vec::<String>::new());
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        let depth = MAX_NESTING + 5;
        let template = format!("{}x{}", "${U:-".repeat(depth), "}".repeat(depth));
        assert!(is_invalid(&template));
        let ok_depth = MAX_NESTING;
        let template = format!("{}x{}", "${U:-".repeat(ok_depth), "}".repeat(ok_depth));
        assert_eq!(ok(&template), "x");
    }

    #[test]
    fn long_lines_of_templates_stay_fast() {
        let template = "${U:-x}".repeat(50_000);
        assert_eq!(ok(&template), "x".repeat(50_000));
        let template = "${A-".repeat(20_000);
        assert!(is_invalid(&template));
    }

    fn span(line: u32) -> Span {
        Span {
            file: FileId(0),
            line,
            col: 1,
        }
    }

    fn tree() -> Node {
        let mut env_map = Mapping::new();
        env_map.insert("PLAIN", Node::plain("${PORT}", span(5)));
        env_map.insert("KEEP", Node::plain("80", span(6)));
        env_map.insert("LIT", Node::plain("$1", span(7)));
        env_map.insert("${KEY}", Node::string("$S", span(8)));
        env_map.insert("NULL", Node::null(span(9)));
        let mut web = Mapping::new();
        web.insert("image", Node::plain("busybox:${TAG:-latest}", span(3)));
        web.insert("environment", Node::map(env_map, span(4)));
        web.insert(
            "command",
            Node::seq(
                vec![
                    Node::plain("echo", span(10)),
                    Node::string("$$HOME $MISSING", span(11)),
                ],
                span(10),
            ),
        );
        let mut services = Mapping::new();
        services.insert("web", Node::map(web, span(2)));
        let mut root = Mapping::new();
        root.insert("services", Node::map(services, span(1)));
        Node::map(root, span(1))
    }

    fn at<'a>(node: &'a Node, path: &[&str]) -> &'a Node {
        path.iter().fold(node, |n, key| match key.parse::<usize>() {
            Ok(i) => &n.as_seq().unwrap()[i],
            Err(_) => n.as_map().unwrap().get(key).unwrap(),
        })
    }

    #[test]
    fn tree_values_are_expanded_and_quoted() {
        let mut root = tree();
        let lookup = env(&[("PORT", "8080"), ("S", "set"), ("KEY", "k")]);
        let mut warned = Vec::new();
        interpolate_tree(&mut root, &NodePath::root(), &lookup, &mut |n| {
            warned.push(n.to_string())
        })
        .unwrap();
        assert_eq!(warned, ["MISSING"]);
        let web = ["services", "web"];
        let image = at(&root, &[web[0], web[1], "image"]);
        assert_eq!(image.as_scalar(), Some(&Scalar::quoted("busybox:latest")));
        let env_node = at(&root, &[web[0], web[1], "environment"]);
        // A changed plain scalar becomes a quoted string: "8080", not 8080.
        assert_eq!(
            at(env_node, &["PLAIN"]).as_scalar(),
            Some(&Scalar::quoted("8080"))
        );
        assert_eq!(
            at(env_node, &["KEEP"]).as_scalar(),
            Some(&Scalar::plain("80"))
        );
        // Unchanged text keeps its style.
        assert_eq!(
            at(env_node, &["LIT"]).as_scalar(),
            Some(&Scalar::plain("$1"))
        );
        // Keys are never interpolated; their values are.
        assert_eq!(at(env_node, &["${KEY}"]).as_str(), Some("set"));
        assert!(at(env_node, &["NULL"]).is_null());
        let cmd = at(&root, &[web[0], web[1], "command"]);
        assert_eq!(at(cmd, &["1"]).as_str(), Some("$HOME "));
        assert_eq!(at(cmd, &["1"]).span, span(11));
    }

    #[test]
    fn tree_errors_name_the_path_and_span() {
        let mut root = tree();
        let mut problem = None;
        let lookup = env(&[]);
        if let Some(web) = root
            .as_map_mut()
            .and_then(|m| m.get_mut("services"))
            .and_then(|n| n.as_map_mut())
            .and_then(|m| m.get_mut("web"))
            .and_then(|n| n.as_map_mut())
        {
            web.insert("image", Node::plain("app:${TAG:?set TAG}", span(3)));
        }
        if let Err(p) = interpolate_tree(&mut root, &NodePath::root(), &lookup, &mut |_| {}) {
            problem = Some(p);
        }
        let problem = problem.expect("an error");
        assert_eq!(problem.span, span(3));
        assert_eq!(problem.path.as_str(), "services.web.image");
        assert_eq!(
            problem.to_string(),
            "services.web.image: required variable TAG is missing a value: set TAG"
        );
    }

    #[test]
    fn tree_invalid_template_in_a_sequence() {
        let mut root = Node::seq(
            vec![Node::plain("ok", span(1)), Node::plain("${A:x}", span(2))],
            span(1),
        );
        let path = NodePath::root().key("x-list");
        let problem = interpolate_tree(&mut root, &path, &env(&[]), &mut |_| {}).unwrap_err();
        assert_eq!(problem.path.as_str(), "x-list[1]");
        assert_eq!(problem.span, span(2));
        assert!(problem.message.contains("${A:x}"), "{}", problem.message);
        assert!(
            problem.message.contains("escape any $ with another $"),
            "{}",
            problem.message
        );
    }

    #[test]
    fn tree_keeps_tags() {
        let mut node = Node::plain("$S", span(1));
        node.tag = Some(crate::compose::yaml::Tag::Override);
        interpolate_tree(
            &mut node,
            &NodePath::root(),
            &env(&[("S", "v")]),
            &mut |_| {},
        )
        .unwrap();
        assert_eq!(node.tag, Some(crate::compose::yaml::Tag::Override));
        assert_eq!(node.as_scalar(), Some(&Scalar::quoted("v")));
    }

    /// Every input of the fuzz corpus (`fixtures/fuzz/interpolate`) expands or
    /// fails cleanly, so the corpus is checked by `cargo test` too.
    #[test]
    fn fuzz_corpus_replays_cleanly() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/fuzz/interpolate");
        let lookup = env(&[
            ("SET", "value"),
            ("A", "value"),
            ("EMPTY", ""),
            ("B", "${A}$$"),
        ]);
        let mut count = 0;
        for entry in std::fs::read_dir(dir).expect("fuzz corpus directory") {
            let bytes = std::fs::read(entry.expect("corpus entry").path()).expect("corpus file");
            let template = String::from_utf8_lossy(&bytes);
            match expand(&template, &lookup) {
                Ok(expanded) if !template.contains('$') => assert_eq!(expanded.value, template),
                Ok(_) => {}
                Err(TemplateError::Required { name, .. }) => assert!(!name.is_empty()),
                Err(TemplateError::Invalid {
                    template: shown, ..
                }) => assert_eq!(shown, template),
            }
            count += 1;
        }
        assert!(count > 0, "no corpus files in {dir}");
    }

    #[test]
    fn unset_warning_matches_compose() {
        assert_eq!(
            unset_warning("X"),
            "The \"X\" variable is not set. Defaulting to a blank string."
        );
    }
}
