//! Printing a project the way `docker compose config` does: YAML (with the
//! `x-*` fields of services and of the file) or JSON (sorted top-level keys
//! and the few fields compose always writes in JSON).

use super::model::{Project, Service};
use super::yaml::to_yaml_string;
use serde_json::{Map, Value};

/// Output formats of `berth config`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Yaml,
    Json,
}

/// Renders the whole project. When the project was `interpolated`, every `$`
/// in a value is written `$$`, so the output reads back to the same project,
/// and JSON carries the fields compose's typed model always writes; a raw
/// (`--no-interpolate`) project is printed as it is, as `docker compose config` does.
pub fn render(project: &Project, format: Format, interpolated: bool) -> String {
    let mut value = match format {
        Format::Yaml => yaml_value(project),
        Format::Json => json_value(project, interpolated),
    };
    if interpolated {
        escape(&mut value);
    }
    match format {
        Format::Yaml => to_yaml_string(&value),
        Format::Json => {
            let mut text = serde_json::to_string_pretty(&value).unwrap_or_default();
            text.push('\n');
            text
        }
    }
}

fn escape(value: &mut Value) {
    match value {
        Value::String(s) if s.contains('$') => *s = s.replace('$', "$$"),
        Value::Array(items) => items.iter_mut().for_each(escape),
        Value::Object(map) => {
            if map.keys().any(|k| k.contains('$')) {
                let entries = std::mem::take(map);
                *map = entries
                    .into_iter()
                    .map(|(k, v)| (k.replace('$', "$$"), v))
                    .collect();
            }
            map.values_mut().for_each(escape);
        }
        _ => {}
    }
}

/// The project as the YAML output shows it.
pub fn yaml_value(project: &Project) -> Value {
    let mut root = to_object(project);
    if let Some(Value::Object(services)) = root.get_mut("services") {
        for (name, value) in services.iter_mut() {
            if let (Some(service), Value::Object(obj)) = (project.services.get(name), value) {
                add_extensions(obj, service);
            }
        }
    }
    for (key, value) in &project.extensions {
        root.insert(key.clone(), sorted(value));
    }
    Value::Object(root)
}

/// The project as the JSON output shows it (`typed_quirks`: with the fields
/// compose's typed model always writes).
pub fn json_value(project: &Project, typed_quirks: bool) -> Value {
    let mut root = to_object(project);
    if let (true, Some(Value::Object(services))) = (typed_quirks, root.get_mut("services")) {
        for service in services.values_mut() {
            if let Value::Object(obj) = service {
                json_service_quirks(obj);
            }
        }
    }
    if let (true, Some(Value::Object(networks))) = (typed_quirks, root.get_mut("networks")) {
        for network in networks.values_mut() {
            if let Value::Object(obj) = network {
                obj.entry("ipam")
                    .or_insert_with(|| Value::Object(Map::new()));
            }
        }
    }
    for (key, value) in &project.extensions {
        root.insert(key.clone(), sorted(value));
    }
    let mut keys: Vec<String> = root.keys().cloned().collect();
    keys.sort();
    let mut sorted = Map::new();
    for key in keys {
        if let Some(v) = root.remove(&key) {
            sorted.insert(key, v);
        }
    }
    Value::Object(sorted)
}

/// Go prints maps with sorted keys; extension values are plain maps.
fn sorted(value: &Value) -> Value {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            Value::Object(
                keys.into_iter()
                    .map(|k| (k.clone(), sorted(&map[k])))
                    .collect(),
            )
        }
        Value::Array(items) => Value::Array(items.iter().map(sorted).collect()),
        other => other.clone(),
    }
}

fn to_object(project: &Project) -> Map<String, Value> {
    match serde_json::to_value(project) {
        Ok(Value::Object(map)) => map,
        _ => Map::new(),
    }
}

fn add_extensions(obj: &mut Map<String, Value>, service: &Service) {
    for (key, value) in &service.extensions {
        obj.insert(key.clone(), sorted(value));
    }
}

/// Fields compose's JSON always carries for a service.
fn json_service_quirks(obj: &mut Map<String, Value>) {
    obj.entry("command").or_insert(Value::Null);
    obj.entry("entrypoint").or_insert(Value::Null);
    if let Some(Value::Object(deploy)) = obj.get_mut("deploy") {
        deploy
            .entry("placement")
            .or_insert_with(|| Value::Object(Map::new()));
        deploy
            .entry("resources")
            .or_insert_with(|| Value::Object(Map::new()));
    }
    if let Some(Value::Object(blkio)) = obj.get_mut("blkio_config") {
        for (_, list) in blkio.iter_mut() {
            if let Value::Array(items) = list {
                for item in items.iter_mut() {
                    if let Value::Object(entry) = item {
                        *entry = entry
                            .iter()
                            .map(|(k, v)| (capitalize(k), v.clone()))
                            .collect();
                    }
                }
            }
        }
    }
}

fn capitalize(key: &str) -> String {
    let mut chars = key.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}
