//! `schemas/compose.schema.json`: a JSON Schema generated from the model
//! types, widened where a file may use a short syntax (the model itself only
//! holds long forms) or an interpolated string in place of a number or a
//! boolean. Editors point yaml-language-server at it.

use super::model::ComposeFile;
use serde_json::{json, Map, Value};

/// The schema as JSON.
pub fn compose_schema() -> Value {
    let generator = schemars::generate::SchemaSettings::draft2020_12().into_generator();
    let schema = generator.into_root_schema_for::<ComposeFile>();
    let mut value = serde_json::to_value(schema).unwrap_or(Value::Null);
    if let Value::Object(root) = &mut value {
        root.insert(
            "$id".into(),
            json!("https://berth.dev/schemas/compose.schema.json"),
        );
    }
    widen(&mut value, None);
    value
}

/// The schema as pretty-printed text with a trailing newline.
pub fn compose_schema_text() -> String {
    let mut text = serde_json::to_string_pretty(&compose_schema()).unwrap_or_default();
    text.push('\n');
    text
}

/// Walks the schema: every object gets `x-*` extensions and no other unknown
/// properties; numbers and booleans also accept strings; properties with a
/// short syntax accept it.
fn widen(schema: &mut Value, property: Option<&str>) {
    let Value::Object(obj) = schema else { return };
    if let Some(Value::Object(props)) = obj.get_mut("properties") {
        let names: Vec<String> = props.keys().cloned().collect();
        for name in names {
            if let Some(p) = props.get_mut(&name) {
                widen(p, Some(&name));
                if let Some(short) = short_syntax(&name) {
                    let long = std::mem::take(p);
                    *p = json!({ "anyOf": [short, long] });
                }
            }
        }
        obj.insert("patternProperties".into(), json!({ "^x-": {} }));
        obj.insert("additionalProperties".into(), json!(false));
    }
    for key in ["$defs", "definitions"] {
        if let Some(Value::Object(defs)) = obj.get_mut(key) {
            for (_, def) in defs.iter_mut() {
                widen(def, None);
            }
        }
    }
    for key in ["items", "additionalProperties", "not"] {
        if let Some(inner) = obj.get_mut(key) {
            if inner.is_object() {
                widen(inner, None);
            }
        }
    }
    for key in ["anyOf", "oneOf", "allOf"] {
        if let Some(Value::Array(list)) = obj.get_mut(key) {
            for inner in list.iter_mut() {
                widen(inner, None);
            }
        }
    }
    allow_scalar_map_values(obj);
    allow_strings(obj);
    let _ = property;
}

/// Maps of strings (environment, labels, options…) may be written with
/// numbers or booleans as values; the loader keeps their text.
fn allow_scalar_map_values(obj: &mut Map<String, Value>) {
    let Some(Value::Object(values)) = obj.get_mut("additionalProperties") else {
        return;
    };
    let widened = match values.get("type") {
        Some(Value::String(t)) if t == "string" => json!(["string", "number", "boolean"]),
        Some(Value::Array(list))
            if list
                .iter()
                .all(|t| matches!(t.as_str(), Some("string" | "null")))
                && !list.is_empty() =>
        {
            json!(["string", "number", "boolean", "null"])
        }
        _ => return,
    };
    values.insert("type".into(), widened);
}

/// `"type": "integer"` -> `["integer", "string"]` (an interpolated value is a string).
fn allow_strings(obj: &mut Map<String, Value>) {
    let Some(ty) = obj.get_mut("type") else {
        return;
    };
    let widened = match ty {
        Value::String(t) if matches!(t.as_str(), "integer" | "number" | "boolean") => {
            Some(json!([t.clone(), "string"]))
        }
        Value::Array(list) => {
            let has_scalar = list
                .iter()
                .any(|t| matches!(t.as_str(), Some("integer" | "number" | "boolean")));
            let has_string = list.iter().any(|t| t.as_str() == Some("string"));
            if has_scalar && !has_string {
                let mut l = list.clone();
                l.push(json!("string"));
                Some(Value::Array(l))
            } else {
                None
            }
        }
        _ => None,
    };
    if let Some(w) = widened {
        *ty = w;
        // A numeric range or format no longer applies to the string form.
        obj.remove("format");
    }
}

/// The short forms a property may be written in, by property name.
fn short_syntax(name: &str) -> Option<Value> {
    let string_or_list = json!({ "anyOf": [{ "type": "string" }, { "type": "array", "items": { "type": "string" } }] });
    let list_of_key_values = json!({ "type": "array", "items": { "type": ["string", "number"] } });
    Some(match name {
        "build" | "extends" => json!({ "type": "string" }),
        "command" | "entrypoint" => json!({ "type": ["string", "null"] }),
        "test" => json!({ "type": "string" }),
        "environment"
        | "labels"
        | "annotations"
        | "sysctls"
        | "args"
        | "driver_opts"
        | "options"
        | "additional_contexts"
        | "aux_addresses" => list_of_key_values,
        "env_file" => {
            json!({ "anyOf": [{ "type": "string" }, { "type": "array", "items": { "anyOf": [{ "type": "string" }, { "type": "object" }] } }] })
        }
        "label_file" | "tmpfs" | "dns" | "dns_search" | "aliases" | "cache_from" | "cache_to"
        | "tags" | "platforms" | "ssh" | "ignore" | "include_paths" => string_or_list,
        "ports" => {
            json!({ "type": "array", "items": { "anyOf": [{ "type": ["string", "number"] }, { "type": "object" }] } })
        }
        "expose" => json!({ "type": "array", "items": { "type": ["string", "number"] } }),
        "volumes" | "devices" | "secrets" | "configs" => {
            json!({ "type": "array", "items": { "anyOf": [{ "type": "string" }, { "type": "object" }] } })
        }
        "extra_hosts" => {
            json!({ "anyOf": [{ "type": "array", "items": { "type": "string" } }, { "type": "object" }] })
        }
        "depends_on" | "networks" => json!({ "type": "array", "items": { "type": "string" } }),
        "gpus" => json!({ "const": "all" }),
        "external" => json!({ "type": "object", "properties": { "name": { "type": "string" } } }),
        "include" => {
            json!({ "type": "array", "items": { "anyOf": [{ "type": "string" }, { "type": "object" }] } })
        }
        "path" => json!({ "type": "string" }),
        _ => return None,
    })
}
