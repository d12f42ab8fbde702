//! `--format` templates as `docker compose ps --format` takes them, for the
//! forms people write: `{{.Field}}`, `{{json .Field}}`, `{{json .}}`,
//! `{{upper .Field}}`/`{{lower .Field}}`, nested fields (`{{.State.Status}}`),
//! `{{index .Config.Labels "key"}}`, literal text with `\t`/`\n`, and a
//! leading `table ` for a header row and aligned columns. Fields come from
//! the same JSON object `--format json` prints.

use serde_json::Value;

/// A parsed template.
#[derive(Debug, Clone, PartialEq)]
pub struct Template {
    table: bool,
    parts: Vec<Part>,
}

#[derive(Debug, Clone, PartialEq)]
enum Part {
    Text(String),
    Field {
        /// `.A.B` as `["A", "B"]`; empty for `.`.
        path: Vec<String>,
        function: Option<String>,
        /// The key of `index FIELD "key"`.
        key: Option<String>,
    },
}

impl Template {
    /// Parses `text`; errors name what was not understood.
    pub fn parse(text: &str) -> Result<Template, String> {
        let (table, body) = match text.strip_prefix("table") {
            Some(rest) if rest.is_empty() || rest.starts_with(char::is_whitespace) => {
                (true, rest.trim_start())
            }
            _ => (false, text),
        };
        let body = body.replace("\\t", "\t").replace("\\n", "\n");
        let mut parts = Vec::new();
        let mut rest = body.as_str();
        while let Some(start) = rest.find("{{") {
            if start > 0 {
                parts.push(Part::Text(rest[..start].to_string()));
            }
            let end = rest[start..]
                .find("}}")
                .ok_or_else(|| format!("template {text:?}: unclosed \"{{{{\""))?;
            let action = rest[start + 2..start + end].trim();
            parts.push(parse_action(action).map_err(|e| format!("template {text:?}: {e}"))?);
            rest = &rest[start + end + 2..];
        }
        if !rest.is_empty() {
            parts.push(Part::Text(rest.to_string()));
        }
        Ok(Template { table, parts })
    }

    /// Renders every row: one line each, or a table with a header.
    pub fn render(&self, rows: &[Value]) -> String {
        let lines: Vec<String> = rows.iter().map(|row| self.render_row(row)).collect();
        if !self.table {
            return lines.iter().map(|l| format!("{l}\n")).collect();
        }
        let header = self
            .parts
            .iter()
            .map(|part| match part {
                Part::Text(text) => text.clone(),
                Part::Field { path, .. } => {
                    header_name(path.last().map(String::as_str).unwrap_or(""))
                }
            })
            .collect::<String>();
        align(std::iter::once(header).chain(lines))
    }

    fn render_row(&self, row: &Value) -> String {
        self.parts
            .iter()
            .map(|part| match part {
                Part::Text(text) => text.clone(),
                Part::Field {
                    path,
                    function,
                    key,
                } => {
                    let mut value = path
                        .iter()
                        .try_fold(row, |v, name| v.get(name))
                        .cloned()
                        .unwrap_or(Value::Null);
                    if let Some(key) = key {
                        value = value.get(key).cloned().unwrap_or(Value::Null);
                    }
                    match function.as_deref() {
                        Some("json") => value.to_string(),
                        Some("upper") => plain(&value).to_uppercase(),
                        Some("lower") => plain(&value).to_lowercase(),
                        _ => plain(&value),
                    }
                }
            })
            .collect()
    }
}

fn parse_action(action: &str) -> Result<Part, String> {
    let words: Vec<&str> = action.split_whitespace().collect();
    let (function, field, key) = match words.as_slice() {
        [field] => (None, *field, None),
        [function, field] if ["json", "upper", "lower"].contains(function) => {
            (Some(function.to_string()), *field, None)
        }
        ["index", field, key] => {
            let key = key
                .strip_prefix('"')
                .and_then(|k| k.strip_suffix('"'))
                .ok_or_else(|| format!("expected a quoted key in {{{{{action}}}}}"))?;
            (None, *field, Some(key.to_string()))
        }
        _ => return Err(format!("unsupported action {{{{{action}}}}}")),
    };
    let path = match field {
        "." => Vec::new(),
        _ => field
            .strip_prefix('.')
            .map(|rest| rest.split('.').map(str::to_string).collect::<Vec<_>>())
            .filter(|parts| {
                parts.iter().all(|n| {
                    !n.is_empty() && n.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                })
            })
            .ok_or_else(|| format!("expected .Field in {{{{{action}}}}}"))?,
    };
    Ok(Part::Field {
        path,
        function,
        key,
    })
}

/// A value as text: strings bare, null empty, the rest as JSON.
fn plain(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// `RunningFor` -> `RUNNING FOR`, `ID` -> `ID`.
fn header_name(field: &str) -> String {
    let mut out = String::new();
    let chars: Vec<char> = field.chars().collect();
    for (i, c) in chars.iter().enumerate() {
        let next_lower = chars.get(i + 1).is_some_and(|n| n.is_lowercase());
        if i > 0 && c.is_uppercase() && (chars[i - 1].is_lowercase() || next_lower) {
            out.push(' ');
        }
        out.extend(c.to_uppercase());
    }
    out
}

/// Aligns tab-separated cells into columns three spaces apart.
fn align(lines: impl Iterator<Item = String>) -> String {
    let rows: Vec<Vec<String>> = lines
        .map(|l| l.split('\t').map(str::to_string).collect())
        .collect();
    table(&rows)
}

/// Rows of cells as columns three spaces apart, each line trimmed at the
/// end: the shape of every table berth prints (`ps`, `top`, `ls`, templates).
pub fn table(rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = Vec::new();
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            if widths.len() <= i {
                widths.push(0);
            }
            widths[i] = widths[i].max(cell.chars().count());
        }
    }
    let mut out = String::new();
    for row in rows {
        let mut line = String::new();
        for (i, cell) in row.iter().enumerate() {
            line.push_str(cell);
            if i + 1 < row.len() {
                line.push_str(&" ".repeat(widths[i] - cell.chars().count() + 3));
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn rows() -> Vec<Value> {
        vec![
            json!({"Name": "p-web-1", "State": "running", "ExitCode": 0, "Labels": {"a": "b"}}),
            json!({"Name": "p-db-1", "State": "exited", "ExitCode": 3, "Labels": {}}),
        ]
    }

    #[test]
    fn fields_functions_and_escapes() {
        let t = Template::parse("{{.Name}}\\t{{ .ExitCode }} {{upper .State}}").unwrap();
        assert_eq!(t.render(&rows()), "p-web-1\t0 RUNNING\np-db-1\t3 EXITED\n");
        let t = Template::parse("{{json .Labels}}").unwrap();
        assert_eq!(t.render(&rows()[..1]), "{\"a\":\"b\"}\n");
        let t = Template::parse("{{json .}}").unwrap();
        assert!(t.render(&rows()[..1]).starts_with("{\"Name\":\"p-web-1\""));
        assert_eq!(
            Template::parse("{{.Missing}}")
                .unwrap()
                .render(&rows()[..1]),
            "\n"
        );
    }

    #[test]
    fn nested_fields_and_index() {
        let row = json!({"State": {"Status": "running"}, "Config": {"Labels": {"a.b": "c"}}});
        let t = Template::parse("{{.State.Status}} {{index .Config.Labels \"a.b\"}}").unwrap();
        assert_eq!(t.render(std::slice::from_ref(&row)), "running c\n");
        let t = Template::parse("{{json .Config.Labels}}{{.State.Nope}}").unwrap();
        assert_eq!(t.render(&[row]), "{\"a.b\":\"c\"}\n");
        assert!(Template::parse("{{.State..X}}").is_err());
    }

    #[test]
    fn table_has_a_header_and_columns() {
        let t = Template::parse("table {{.Name}}\\t{{.ExitCode}}").unwrap();
        assert_eq!(
            t.render(&rows()),
            "NAME      EXIT CODE\np-web-1   0\np-db-1    3\n"
        );
    }

    #[test]
    fn bad_templates_say_why() {
        let err = Template::parse("{{.Name").unwrap_err();
        assert!(err.contains("unclosed"), "{err}");
        let err = Template::parse("{{range .}}").unwrap_err();
        assert!(err.contains("unsupported action {{range .}}"), "{err}");
    }
}
