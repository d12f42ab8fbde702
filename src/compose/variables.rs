//! The variables a project's values use (`config --variables`), read from
//! the model before interpolation: each `$NAME` / `${NAME…}` with its
//! default (`:-`, `-`), its alternate value (`:+`, `+`) and whether it is
//! required (`:?`, `?`), as compose-go's `ExtractVariables` reports them.
//! Variables inside a default or alternate value count too; `$$` is a
//! literal dollar.

use std::collections::BTreeMap;

use serde::Serialize;

use super::model::Project;

/// One variable the model uses.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Variable {
    pub name: String,
    pub default_value: String,
    pub presence_value: String,
    pub required: bool,
}

/// Every variable the project's values use, by name.
pub fn of_project(project: &Project) -> BTreeMap<String, Variable> {
    let mut found = BTreeMap::new();
    if let Ok(value) = serde_json::to_value(project) {
        walk(&value, &mut found);
    }
    found
}

fn walk(value: &serde_json::Value, found: &mut BTreeMap<String, Variable>) {
    match value {
        serde_json::Value::String(text) => scan(text, found),
        serde_json::Value::Array(items) => items.iter().for_each(|v| walk(v, found)),
        serde_json::Value::Object(map) => map.values().for_each(|v| walk(v, found)),
        _ => {}
    }
}

fn is_name_start(c: char) -> bool {
    c == '_' || c.is_ascii_alphabetic()
}

fn is_name_char(c: char) -> bool {
    c == '_' || c.is_ascii_alphanumeric()
}

/// Finds the variables of one string.
pub fn scan(text: &str, found: &mut BTreeMap<String, Variable>) {
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        if chars[i] != '$' {
            i += 1;
            continue;
        }
        match chars.get(i + 1) {
            Some('$') => i += 2,
            Some('{') => {
                let start = i + 2;
                let mut end = start;
                while end < chars.len() && is_name_char(chars[end]) {
                    end += 1;
                }
                if end == start || !is_name_start(chars[start]) {
                    i += 2;
                    continue;
                }
                let name: String = chars[start..end].iter().collect();
                // The body runs to the `}` that balances the opening one.
                let mut depth = 1;
                let mut close = end;
                while close < chars.len() {
                    match chars[close] {
                        '{' => depth += 1,
                        '}' => {
                            depth -= 1;
                            if depth == 0 {
                                break;
                            }
                        }
                        _ => {}
                    }
                    close += 1;
                }
                let body: String = chars[end..close.min(chars.len())].iter().collect();
                let mut variable = Variable {
                    name: name.clone(),
                    ..Variable::default()
                };
                for (op, apply) in [
                    (":-", 0),
                    ("-", 0),
                    (":?", 1),
                    ("?", 1),
                    (":+", 2),
                    ("+", 2),
                ] {
                    if let Some(rest) = body.strip_prefix(op) {
                        match apply {
                            0 => variable.default_value = rest.to_string(),
                            1 => variable.required = true,
                            _ => variable.presence_value = rest.to_string(),
                        }
                        scan(rest, found);
                        break;
                    }
                }
                merge(found, variable);
                i = close + 1;
            }
            Some(&c) if is_name_start(c) => {
                let start = i + 1;
                let mut end = start;
                while end < chars.len() && is_name_char(chars[end]) {
                    end += 1;
                }
                let name: String = chars[start..end].iter().collect();
                merge(
                    found,
                    Variable {
                        name,
                        ..Variable::default()
                    },
                );
                i = end;
            }
            _ => i += 1,
        }
    }
}

/// A variable seen twice keeps what either use told about it.
fn merge(found: &mut BTreeMap<String, Variable>, variable: Variable) {
    let entry = found
        .entry(variable.name.clone())
        .or_insert_with(|| variable.clone());
    if entry.default_value.is_empty() {
        entry.default_value = variable.default_value;
    }
    if entry.presence_value.is_empty() {
        entry.presence_value = variable.presence_value;
    }
    entry.required |= variable.required;
}

/// compose's table: NAME, REQUIRED, DEFAULT VALUE, ALTERNATE VALUE in
/// columns at least 20 wide, 3 apart.
pub fn table(found: &BTreeMap<String, Variable>) -> String {
    let mut rows = vec![[
        "NAME".to_string(),
        "REQUIRED".to_string(),
        "DEFAULT VALUE".to_string(),
        "ALTERNATE VALUE".to_string(),
    ]];
    for v in found.values() {
        rows.push([
            v.name.clone(),
            v.required.to_string(),
            v.default_value.clone(),
            v.presence_value.clone(),
        ]);
    }
    let mut widths = [0usize; 4];
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count() + 3).max(20);
        }
    }
    let mut out = String::new();
    for row in &rows {
        let mut line = String::new();
        for (i, cell) in row.iter().enumerate() {
            if i + 1 == row.len() {
                line.push_str(cell);
            } else {
                line.push_str(&format!("{cell:<width$}", width = widths[i]));
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// compose's JSON: one object by variable name, indented.
pub fn json(found: &BTreeMap<String, Variable>) -> String {
    let mut text = serde_json::to_string_pretty(found).unwrap_or_default();
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(text: &str) -> BTreeMap<String, Variable> {
        let mut found = BTreeMap::new();
        scan(text, &mut found);
        found
    }

    #[test]
    fn defaults_alternates_and_required() {
        let found = vars("${FOO:-x} $BAR ${REQ:?need it} ${ALT:+y} $$NOT ${OUT:-${IN-z}}");
        assert_eq!(found["FOO"].default_value, "x");
        assert!(!found["FOO"].required);
        assert!(found.contains_key("BAR"));
        assert!(found["REQ"].required);
        assert_eq!(found["ALT"].presence_value, "y");
        assert!(!found.contains_key("NOT"));
        assert_eq!(found["OUT"].default_value, "${IN-z}");
        assert_eq!(found["IN"].default_value, "z");
    }

    #[test]
    fn table_has_composes_columns() {
        let text = table(&vars("${FOO:-x}"));
        let mut lines = text.lines();
        assert_eq!(
            lines.next().unwrap(),
            "NAME                REQUIRED            DEFAULT VALUE       ALTERNATE VALUE"
        );
        assert_eq!(
            lines.next().unwrap(),
            "FOO                 false               x"
        );
    }
}
