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

/// How the project was loaded (`config --no-interpolate`, `--no-normalize`),
/// which changes what is printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Loading {
    pub interpolated: bool,
    pub normalized: bool,
}

/// Renders the whole project. When the project was interpolated, every `$`
/// in a value is written `$$`, so the output reads back to the same project,
/// and JSON carries the fields compose's typed model always writes; a raw
/// (`--no-interpolate`) project is printed as it is, as `docker compose config`
/// does, and without `name:` when it is not normalized either (compose prints
/// its raw model then, where only normalization writes the name).
pub fn render(project: &Project, format: Format, loading: Loading) -> String {
    let interpolated = loading.interpolated;
    let mut value = match format {
        Format::Yaml => yaml_value(project),
        Format::Json => json_value(project, interpolated),
    };
    if !interpolated && !loading.normalized {
        if let Value::Object(root) = &mut value {
            root.remove("name");
        }
    }
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

/// Go's yaml.v3 orders map keys its own way: runs of digits compare as
/// numbers, and a letter sorts after a non-letter unless a digit run came just
/// before. Maps (already in byte order) are re-sorted that way; structs, whose
/// fields are not in byte order, keep their order.
fn yaml_v3_key_order(value: &mut Value) {
    match value {
        Value::Object(map) => {
            map.values_mut().for_each(yaml_v3_key_order);
            let keys: Vec<&String> = map.keys().collect();
            let is_map = keys.windows(2).all(|w| w[0] < w[1]);
            if is_map && keys.windows(2).any(|w| v3_less(w[1], w[0])) {
                let mut entries: Vec<(String, Value)> = std::mem::take(map).into_iter().collect();
                entries.sort_by(|(a, _), (b, _)| {
                    if v3_less(a, b) {
                        std::cmp::Ordering::Less
                    } else if v3_less(b, a) {
                        std::cmp::Ordering::Greater
                    } else {
                        std::cmp::Ordering::Equal
                    }
                });
                *map = entries.into_iter().collect();
            }
        }
        Value::Array(items) => items.iter_mut().for_each(yaml_v3_key_order),
        _ => {}
    }
}

/// The end of the run of ASCII digits starting at `start`, and its value.
fn digit_run(chars: &[char], start: usize) -> (usize, u64) {
    let mut end = start;
    let mut value = 0u64;
    while end < chars.len() && chars[end].is_ascii_digit() {
        value = value
            .saturating_mul(10)
            .saturating_add(chars[end] as u64 - '0' as u64);
        end += 1;
    }
    (end, value)
}

/// yaml.v3's key comparison (`keyList.Less`) for string keys.
fn v3_less(a: &str, b: &str) -> bool {
    let ar: Vec<char> = a.chars().collect();
    let br: Vec<char> = b.chars().collect();
    let mut digits = false;
    let mut i = 0;
    while i < ar.len() && i < br.len() {
        if ar[i] == br[i] {
            digits = ar[i].is_ascii_digit();
            i += 1;
            continue;
        }
        let al = ar[i].is_alphabetic();
        let bl = br[i].is_alphabetic();
        if al && bl {
            return ar[i] < br[i];
        }
        if al || bl {
            return if digits { al } else { bl };
        }
        let (mut an, mut bn) = (0u64, 0u64);
        if ar[i] == '0' || br[i] == '0' {
            let nonzero_before = ar[..i]
                .iter()
                .rev()
                .take_while(|c| c.is_ascii_digit())
                .any(|c| *c != '0');
            if nonzero_before {
                an = 1;
                bn = 1;
            }
        }
        let (ai, a_run) = digit_run(&ar, i);
        let (bi, b_run) = digit_run(&br, i);
        an = an
            .saturating_mul(10u64.saturating_pow((ai - i) as u32))
            .saturating_add(a_run);
        bn = bn
            .saturating_mul(10u64.saturating_pow((bi - i) as u32))
            .saturating_add(b_run);
        if an != bn {
            return an < bn;
        }
        if ai != bi {
            return ai < bi;
        }
        return ar[i] < br[i];
    }
    ar.len() < br.len()
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
    let mut extensions: Vec<&String> = project.extensions.keys().collect();
    extensions.sort_by(|a, b| {
        if v3_less(a, b) {
            std::cmp::Ordering::Less
        } else {
            std::cmp::Ordering::Greater
        }
    });
    for key in extensions {
        root.insert(key.clone(), sorted(&project.extensions[key]));
    }
    let mut value = Value::Object(root);
    yaml_v3_key_order(&mut value);
    value
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

#[cfg(test)]
mod tests {
    use super::v3_less;

    #[test]
    fn keys_order_like_yaml_v3() {
        assert!(v3_less("EMAIL_USE_SSL", "EMAIL_USERNAME"));
        assert!(v3_less("KAFKA_LISTENER_X", "KAFKA_LOG"));
        assert!(v3_less("a2", "a10"));
        assert!(v3_less("abc", "abd"));
        assert!(!v3_less("b", "a"));
    }
}
