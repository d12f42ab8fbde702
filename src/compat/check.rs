//! Walks a loaded project's attributes (only the ones the user set: the
//! model leaves defaults out when serialized) against the registry: a warned
//! attribute gives a warning, a refused one an error, and values berth only
//! honours in part are checked here, before anything is created.

use serde_json::Value;

use super::attributes::{find, has_children};
use super::Support;
use crate::compose::model::Project;

/// What a project's attributes call for.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Findings {
    pub warnings: Vec<String>,
    pub errors: Vec<String>,
}

/// Checks every attribute the project sets, in these services only (all
/// when `services` is empty) and in every top-level element.
pub fn check_project(project: &Project, services: &[String]) -> Findings {
    let mut findings = Findings::default();
    let prefix = match project.config_files.as_slice() {
        [only] => only
            .file_name()
            .map(|n| format!("{}: ", n.to_string_lossy()))
            .unwrap_or_default(),
        _ => String::new(),
    };
    if let Ok(mut value) = serde_json::to_value(project) {
        if let Some(Value::Object(all)) = value.get_mut("services") {
            all.retain(|name, _| services.is_empty() || services.contains(name));
        }
        let mut walker = Walker {
            prefix: &prefix,
            findings: &mut findings,
        };
        walker.walk(&value, "", "");
    }
    findings
}

struct Walker<'a> {
    prefix: &'a str,
    findings: &'a mut Findings,
}

fn join(parent: &str, key: &str) -> String {
    if parent.is_empty() {
        key.to_string()
    } else {
        format!("{parent}.{key}")
    }
}

/// The registry path a key under `pattern` falls under, if the registry knows it.
pub(super) fn child_pattern(pattern: &str, key: &str) -> Option<String> {
    [join(pattern, key), join(pattern, "*")]
        .into_iter()
        .find(|p| find(p).is_some())
}

impl Walker<'_> {
    fn walk(&mut self, value: &Value, actual: &str, pattern: &str) {
        match value {
            Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    self.walk(item, &format!("{actual}[{i}]"), pattern);
                }
            }
            Value::Object(map) => {
                for (key, child) in map {
                    let actual = join(actual, key);
                    let Some(pattern) = child_pattern(pattern, key) else {
                        self.findings.warnings.push(format!(
                            "{}{actual}: berth does not know this attribute; it is ignored",
                            self.prefix
                        ));
                        continue;
                    };
                    let attribute = find(&pattern).expect("child_pattern finds entries");
                    match attribute.support {
                        Support::Supported => {}
                        Support::Warned(why) => self
                            .findings
                            .warnings
                            .push(format!("{}{actual}: ignored: {why}", self.prefix)),
                        Support::Refused(message) => {
                            self.findings
                                .errors
                                .push(format!("{}{actual}: {message}", self.prefix));
                            continue;
                        }
                    }
                    if let Err(message) = check_value(&pattern, child) {
                        self.findings
                            .errors
                            .push(format!("{}{actual}: {message}", self.prefix));
                        continue;
                    }
                    if matches!(attribute.support, Support::Supported) && has_children(&pattern) {
                        self.walk(child, &actual, &pattern);
                    }
                }
            }
            _ => {}
        }
    }
}

/// Values berth honours only in part.
fn check_value(pattern: &str, value: &Value) -> Result<(), String> {
    let text = value.as_str().unwrap_or_default();
    match pattern {
        "services.*.userns_mode" if !matches!(text, "" | "host") => Err(format!(
            "user namespace mode {text:?} is not supported: berth does not remap users (only \"host\")"
        )),
        "services.*.volume_driver" | "volumes.*.driver" if !matches!(text, "" | "local") => Err(
            format!("volume driver {text:?} is not supported (berth has the local driver)"),
        ),
        "networks.*.driver" if !matches!(text, "" | "bridge") => Err(format!(
            "network driver {text:?} is not supported (berth has the bridge driver)"
        )),
        "networks.*.enable_ipv6" if value.as_bool() == Some(true) => {
            Err("IPv6 networks are not supported".to_string())
        }
        "networks.*.ipam.driver" if !matches!(text, "" | "default") => Err(format!(
            "IPAM driver {text:?} is not supported (berth has the default driver)"
        )),
        "services.*.restart" => crate::supervisor::restart::RestartPolicy::parse(text).map(drop),
        "services.*.deploy.restart_policy.condition" if !matches!(text, "none" | "on-failure" | "any") => {
            Err(format!(
                "invalid restart condition {text:?} (expected none, on-failure or any)"
            ))
        }
        "services.*.pull_policy" => crate::cli::pull_policy::PullPolicy::parse(text).map(drop),
        "services.*.platform" => crate::cli::pull_policy::check_platform(text),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compose::load_from_str;
    use std::collections::BTreeSet;

    fn findings(yaml: &str) -> Findings {
        let dir = tempfile::tempdir().unwrap();
        let project = load_from_str(yaml, dir.path()).unwrap().project;
        check_project(&project, &[])
    }

    #[test]
    fn supported_attributes_say_nothing() {
        let f = findings(
            "services:\n  web:\n    image: x\n    ports: ['8080:80']\n    volumes: [data:/d]\n    labels: {a: b}\n    deploy: {replicas: 2, resources: {limits: {memory: 1g}}}\nvolumes:\n  data: {}\n",
        );
        assert_eq!(f, Findings::default());
    }

    #[test]
    fn warned_and_refused_attributes_are_named() {
        let f = findings(
            "services:\n  web:\n    image: x\n    cgroup_parent: foo\n    storage_opt: {size: 1G}\n    deploy: {placement: {constraints: [a]}}\n    userns_mode: keep-id\n    restart: sometimes\n",
        );
        assert_eq!(
            f.warnings,
            [
                "-: services.web.cgroup_parent: ignored: containers' cgroups are always under berth's own `berth` parent",
                "-: services.web.deploy.placement: ignored: it configures a swarm service; without a swarm it has no effect (docker compose ignores it too)",
            ]
        );
        assert_eq!(f.errors.len(), 3, "{:?}", f.errors);
        assert!(f.errors[0]
            .starts_with("-: services.web.restart: invalid restart policy \"sometimes\""));
        assert_eq!(
            f.errors[1],
            "-: services.web.storage_opt: storage options are not supported: berth's overlay storage has no per-container quota"
        );
        assert!(f.errors[2].contains("userns_mode: user namespace mode \"keep-id\""));
    }

    /// Every property the model (and so the JSON Schema users' editors see)
    /// can hold has an entry: nothing a user writes is in an unknown state,
    /// and no entry names something the model cannot hold.
    #[test]
    fn every_model_field_has_a_status() {
        let schema = crate::compose::schema::compose_schema();
        let defs = schema.get("$defs").cloned().unwrap_or(Value::Null);
        let mut reached = BTreeSet::new();
        let mut unknown = Vec::new();
        schema_walk(&schema, &defs, "", &mut reached, &mut unknown, 0);
        assert!(
            unknown.is_empty(),
            "attributes without a status: {unknown:#?}"
        );
        let stale: Vec<&str> = super::super::attributes::ATTRIBUTES
            .iter()
            .map(|a| a.path)
            .filter(|p| !reached.contains(*p) && *p != "x-*")
            .collect();
        assert!(
            stale.is_empty(),
            "entries the model does not have: {stale:?}"
        );
        assert!(reached.len() > 200, "{}", reached.len());
    }

    fn schema_walk(
        node: &Value,
        defs: &Value,
        pattern: &str,
        reached: &mut BTreeSet<String>,
        unknown: &mut Vec<String>,
        depth: usize,
    ) {
        assert!(depth < 40, "schema too deep at {pattern}");
        let Value::Object(obj) = node else { return };
        if let Some(Value::String(reference)) = obj.get("$ref") {
            let name = reference.rsplit('/').next().unwrap_or_default();
            if let Some(def) = defs.get(name) {
                schema_walk(def, defs, pattern, reached, unknown, depth + 1);
            }
        }
        for key in ["anyOf", "oneOf", "allOf"] {
            if let Some(Value::Array(options)) = obj.get(key) {
                for option in options {
                    schema_walk(option, defs, pattern, reached, unknown, depth + 1);
                }
            }
        }
        if let Some(items) = obj.get("items") {
            schema_walk(items, defs, pattern, reached, unknown, depth + 1);
        }
        let mut children: Vec<(String, &Value)> = Vec::new();
        if let Some(Value::Object(properties)) = obj.get("properties") {
            children.extend(properties.iter().map(|(k, v)| (k.clone(), v)));
        }
        if let Some(extra @ Value::Object(_)) = obj.get("additionalProperties") {
            children.push(("*".to_string(), extra));
        }
        for (key, child) in children {
            let Some(child_pattern) = child_pattern(pattern, &key) else {
                unknown.push(join(pattern, &key));
                continue;
            };
            reached.insert(child_pattern.clone());
            if has_children(&child_pattern) {
                schema_walk(child, defs, &child_pattern, reached, unknown, depth + 1);
            }
        }
    }
}
