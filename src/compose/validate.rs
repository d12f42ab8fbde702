//! Checks on the YAML tree that Compose makes and its typed model cannot
//! express, each reported with the file, path and line of the value at
//! fault: per file (after interpolation, before canonicalization erases
//! what was written) and on the merged tree (combinations that may come
//! from several files).
//!
//! Learned from compose-go's schema and validation rules: a top-level
//! `name` is a string; the legacy `external: {name: x}` must agree with
//! `name`; a bind mount needs a source; a tmpfs `size` is a non-negative
//! integer or a size string; an external network or volume is made outside
//! the project, so it takes no driver, driver options or labels; a service
//! gives one of `dockerfile` and `dockerfile_inline`, mounts one thing per
//! target, and watches non-blank paths, with a target for actions that copy.

use super::error::Problem;
use super::yaml::{Node, NodePath, Resolved, Value};

type Result<T> = std::result::Result<T, Problem>;

/// The resource sections whose entries may be `external`.
const RESOURCE_SECTIONS: [&str; 4] = ["networks", "volumes", "secrets", "configs"];

/// What an external network or volume may not also set (besides `name`,
/// `external` and `x-*`, volumes have nothing else to set).
const NOT_FOR_EXTERNAL: [(&str, &[&str]); 2] = [
    ("networks", &["driver", "driver_opts", "labels"]),
    ("volumes", &["driver", "driver_opts", "labels"]),
];

/// Checks one file's interpolated tree.
pub fn check_file(root: &Node) -> Result<()> {
    let Some(top) = root.as_map() else {
        return Ok(());
    };
    if let Some(name) = top.get("name") {
        check_project_name(name)?;
    }
    for section in RESOURCE_SECTIONS {
        let Some(resources) = top.get(section).and_then(Node::as_map) else {
            continue;
        };
        for (key, resource) in resources.iter() {
            let path = NodePath::root().key(section).key(key);
            check_external_name(resource, &path, section)?;
        }
    }
    if let Some(services) = top.get("services").and_then(Node::as_map) {
        for (name, service) in services.iter() {
            let path = NodePath::root().key("services").key(name);
            let Some(service) = service.as_map() else {
                continue;
            };
            let volumes = service.get("volumes").and_then(Node::as_seq);
            for (i, volume) in volumes.into_iter().flatten().enumerate() {
                check_service_volume(volume, &path.key("volumes").index(i))?;
            }
            check_watch_paths(service, &path)?;
        }
    }
    Ok(())
}

/// Checks the tree all files were merged into.
pub fn check_merged(root: &Node) -> Result<()> {
    let Some(top) = root.as_map() else {
        return Ok(());
    };
    if let Some(services) = top.get("services").and_then(Node::as_map) {
        for (name, service) in services.iter() {
            check_merged_service(service, &NodePath::root().key("services").key(name))?;
        }
    }
    for (section, forbidden) in NOT_FOR_EXTERNAL {
        let Some(resources) = top.get(section).and_then(Node::as_map) else {
            continue;
        };
        let kind = section.trim_end_matches('s');
        for (key, resource) in resources.iter() {
            let Some(map) = resource.as_map() else {
                continue;
            };
            if !map.get("external").is_some_and(is_true) {
                continue;
            }
            for attribute in forbidden {
                if let Some(value) = map.get(attribute) {
                    return Err(Problem::new(
                        value.span,
                        NodePath::root().key(section).key(key).key(attribute),
                        format!(
                            "conflicting parameters \"external\" and \"{attribute}\": an external {kind} is made outside the project, so it cannot set `{attribute}`"
                        ),
                    ));
                }
            }
        }
    }
    Ok(())
}

/// One merged service: what compose checks across its attributes.
fn check_merged_service(service: &Node, path: &NodePath) -> Result<()> {
    let Some(map) = service.as_map() else {
        return Ok(());
    };
    if let Some(build) = map.get("build").and_then(Node::as_map) {
        if let (Some(_), Some(inline)) = (build.get("dockerfile"), build.get("dockerfile_inline")) {
            return Err(Problem::new(
                inline.span,
                path.key("build").key("dockerfile_inline"),
                "`dockerfile` and `dockerfile_inline` are mutually exclusive: give one of them",
            ));
        }
    }
    check_mount_targets(map, path)?;
    let watches = map
        .get("develop")
        .and_then(Node::as_map)
        .and_then(|d| d.get("watch"))
        .and_then(Node::as_seq);
    for (i, watch) in watches.into_iter().flatten().enumerate() {
        let Some(watch) = watch.as_map() else {
            continue;
        };
        let wpath = path.key("develop").key("watch").index(i);
        let action = watch
            .get("action")
            .and_then(Node::as_str)
            .unwrap_or_default();
        let needs_target = !matches!(action, "" | "rebuild" | "restart");
        if needs_target
            && watch
                .get("target")
                .and_then(Node::as_str)
                .is_none_or(str::is_empty)
        {
            return Err(Problem::new(
                watch.get("action").map_or(service.span, |a| a.span),
                wpath.key("target"),
                format!(
                    "action {action:?} copies files into the container, so it needs a `target`"
                ),
            ));
        }
    }
    Ok(())
}

/// No two of a service's `tmpfs` and `volumes` mount on the same target.
fn check_mount_targets(service: &super::yaml::Mapping, path: &NodePath) -> Result<()> {
    let mut seen: Vec<(String, NodePath)> = Vec::new();
    let tmpfs = service.get("tmpfs").and_then(Node::as_seq);
    let volumes = service.get("volumes").and_then(Node::as_seq);
    let entries = tmpfs
        .into_iter()
        .flatten()
        .enumerate()
        .map(|(i, n)| {
            (
                n,
                n.as_str().map(|t| t.split(':').next().unwrap_or(t)),
                path.key("tmpfs").index(i),
            )
        })
        .chain(volumes.into_iter().flatten().enumerate().map(|(i, n)| {
            let target = n
                .as_map()
                .and_then(|m| m.get("target"))
                .and_then(Node::as_str);
            (n, target, path.key("volumes").index(i))
        }));
    for (node, target, here) in entries {
        let Some(target) = target.filter(|t| !t.is_empty()) else {
            continue;
        };
        let target = super::paths::clean_container_path(target);
        if let Some((_, first)) = seen.iter().find(|(t, _)| *t == target) {
            return Err(Problem::new(
                node.span,
                here,
                format!("target {target} is already mounted by {first}"),
            ));
        }
        seen.push((target, here));
    }
    Ok(())
}

/// `true` as YAML or as an interpolated string.
fn is_true(node: &Node) -> bool {
    node.as_str()
        .is_some_and(|t| matches!(t, "true" | "True" | "TRUE"))
}

/// The project name must be written as a string (`name: 123` is a number).
fn check_project_name(name: &Node) -> Result<()> {
    let got = match &name.value {
        Value::Null => return Ok(()),
        Value::Scalar(s) => match s.resolve() {
            Resolved::Str(_) | Resolved::Null => return Ok(()),
            Resolved::Bool(_) => "a boolean",
            Resolved::Int(_) | Resolved::Float(_) => "a number",
        },
        Value::Seq(_) => "a sequence",
        Value::Map(_) => "a mapping",
    };
    let text = name.as_str().map(|t| format!(" ({t})")).unwrap_or_default();
    Err(Problem::new(
        name.span,
        NodePath::root().key("name"),
        format!("the project name must be a string, got {got}{text}: quote it"),
    ))
}

/// The legacy `external: {name: x}` next to a `name:` that differs.
fn check_external_name(resource: &Node, path: &NodePath, section: &str) -> Result<()> {
    let Some(map) = resource.as_map() else {
        return Ok(());
    };
    let legacy = map
        .get("external")
        .and_then(Node::as_map)
        .and_then(|e| e.get("name"));
    let (Some(legacy), Some(name)) = (legacy, map.get("name")) else {
        return Ok(());
    };
    if legacy.as_str() == name.as_str() {
        return Ok(());
    }
    let kind = section.trim_end_matches('s');
    Err(Problem::new(
        legacy.span,
        path.key("external").key("name"),
        format!(
            "the {kind}'s name {:?} and its (deprecated) external.name {:?} conflict: set only `name` (with `external: true`)",
            name.as_str().unwrap_or_default(),
            legacy.as_str().unwrap_or_default()
        ),
    ))
}

/// `develop.watch[].path` is not blank (before it is resolved against the
/// project directory, which would make it the whole project).
fn check_watch_paths(service: &super::yaml::Mapping, path: &NodePath) -> Result<()> {
    let watches = service
        .get("develop")
        .and_then(Node::as_map)
        .and_then(|d| d.get("watch"))
        .and_then(Node::as_seq);
    for (i, watch) in watches.into_iter().flatten().enumerate() {
        let blank = watch
            .as_map()
            .and_then(|w| w.get("path"))
            .filter(|p| p.as_str().is_some_and(|t| t.trim().is_empty()));
        if let Some(blank) = blank {
            return Err(Problem::new(
                blank.span,
                path.key("develop").key("watch").index(i).key("path"),
                "the watched path can't be blank",
            ));
        }
    }
    Ok(())
}

/// A long-syntax service volume: a bind needs a source; a tmpfs size is a
/// non-negative integer or a size string.
fn check_service_volume(volume: &Node, path: &NodePath) -> Result<()> {
    let Some(map) = volume.as_map() else {
        return Ok(());
    };
    if map.get("type").and_then(Node::as_str) == Some("bind") {
        let source = map.get("source");
        if source
            .and_then(Node::as_str)
            .is_none_or(|s| s.trim().is_empty())
        {
            return Err(Problem::new(
                source.map_or(volume.span, |s| s.span),
                path.key("source"),
                "a bind mount needs a source: the host path to mount",
            ));
        }
    }
    if let Some(size) = map
        .get("tmpfs")
        .and_then(Node::as_map)
        .and_then(|t| t.get("size"))
    {
        check_tmpfs_size(size, &path.key("tmpfs").key("size"))?;
    }
    Ok(())
}

fn check_tmpfs_size(size: &Node, path: &NodePath) -> Result<()> {
    let Value::Scalar(scalar) = &size.value else {
        return Ok(()); // the model says what it expected
    };
    let problem = match scalar.resolve() {
        Resolved::Int(n) if n < 0 => Some(format!("tmpfs size {n} is negative")),
        Resolved::Float(f) => Some(format!(
            "tmpfs size {f} is not an integer: give bytes (1048576) or a size with a unit (\"1m\")"
        )),
        Resolved::Str(text) if text.trim_start().starts_with('-') => {
            Some(format!("tmpfs size {text:?} is negative"))
        }
        _ => None,
    };
    match problem {
        Some(message) => Err(Problem::new(size.span, path.clone(), message)),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compose::yaml::{parse_documents, FileId, ParseLimits};

    fn tree(text: &str) -> Node {
        parse_documents(text, FileId(0), ParseLimits::default())
            .unwrap()
            .remove(0)
    }

    fn file_error(text: &str) -> String {
        let p = check_file(&tree(text)).unwrap_err();
        format!("{}: {} (line {})", p.path, p.message, p.span.line)
    }

    fn merged_error(text: &str) -> String {
        let p = check_merged(&tree(text)).unwrap_err();
        format!("{}: {} (line {})", p.path, p.message, p.span.line)
    }

    #[test]
    fn project_name_must_be_a_string() {
        assert!(file_error("name: 123\n")
            .starts_with("name: the project name must be a string, got a number (123)"));
        assert!(file_error("name: [a]\n").contains("got a sequence"));
        check_file(&tree("name: \"123\"\n")).unwrap();
        check_file(&tree("name: demo\n")).unwrap();
    }

    #[test]
    fn external_name_must_agree_with_name() {
        let e = file_error("secrets:\n  s:\n    name: a\n    external:\n      name: b\n");
        assert!(e.starts_with("secrets.s.external.name: the secret's name \"a\" and its (deprecated) external.name \"b\" conflict"), "{e}");
        assert!(e.ends_with("(line 5)"), "{e}");
        check_file(&tree(
            "networks:\n  n:\n    name: a\n    external:\n      name: a\n",
        ))
        .unwrap();
        check_file(&tree("volumes:\n  v:\n    external:\n      name: a\n")).unwrap();
    }

    #[test]
    fn external_resources_take_no_driver_options_or_labels() {
        let e = merged_error("volumes:\n  v:\n    external: true\n    driver: local\n");
        assert!(
            e.starts_with("volumes.v.driver: conflicting parameters \"external\" and \"driver\""),
            "{e}"
        );
        assert!(e.ends_with("(line 4)"), "{e}");
        let e = merged_error("networks:\n  n:\n    external: true\n    labels: {a: b}\n");
        assert!(e.starts_with("networks.n.labels: conflicting"), "{e}");
        check_merged(&tree(
            "volumes:\n  v:\n    external: false\n    driver: local\n",
        ))
        .unwrap();
        check_merged(&tree(
            "volumes:\n  v:\n    external: true\n    name: x\n    x-note: y\n",
        ))
        .unwrap();
    }

    #[test]
    fn merged_services_dockerfiles_mount_targets_and_watches() {
        let e = merged_error("services:\n  app:\n    build:\n      dockerfile: Dockerfile\n      dockerfile_inline: FROM busybox\n");
        assert!(e.starts_with("services.app.build.dockerfile_inline: `dockerfile` and `dockerfile_inline` are mutually exclusive"), "{e}");
        let e = merged_error("services:\n  app:\n    tmpfs: [/data]\n    volumes:\n      - {type: volume, target: /data/}\n");
        assert!(
            e.starts_with(
                "services.app.volumes[0]: target /data is already mounted by services.app.tmpfs[0]"
            ),
            "{e}"
        );
        let e = merged_error("services:\n  app:\n    volumes:\n      - {type: volume, source: a, target: /d}\n      - {type: volume, source: b, target: /d}\n");
        assert!(
            e.starts_with(
                "services.app.volumes[1]: target /d is already mounted by services.app.volumes[0]"
            ),
            "{e}"
        );
        let e = file_error("services:\n  app:\n    develop:\n      watch:\n        - {path: '', action: rebuild}\n");
        assert!(
            e.starts_with("services.app.develop.watch[0].path: the watched path can't be blank"),
            "{e}"
        );
        let e = merged_error("services:\n  app:\n    develop:\n      watch:\n        - {path: ./src, action: sync}\n");
        assert!(
            e.starts_with("services.app.develop.watch[0].target: action \"sync\" copies files"),
            "{e}"
        );
        check_merged(&tree("services:\n  app:\n    tmpfs: [/run]\n    develop:\n      watch:\n        - {path: ./src, action: rebuild}\n        - {path: ./src, action: sync, target: /app}\n    volumes:\n      - {type: volume, target: /data}\n")).unwrap();
    }

    #[test]
    fn bind_sources_and_tmpfs_sizes() {
        let service = |volume: &str| format!("services:\n  app:\n    volumes:\n      - {volume}\n");
        let e = file_error(&service("{type: bind, source: '', target: /x}"));
        assert!(
            e.starts_with("services.app.volumes[0].source: a bind mount needs a source"),
            "{e}"
        );
        assert!(file_error(&service("{type: bind, target: /x}")).contains("needs a source"));
        let e = file_error(&service("{type: tmpfs, target: /x, tmpfs: {size: -1}}"));
        assert!(
            e.starts_with("services.app.volumes[0].tmpfs.size: tmpfs size -1 is negative"),
            "{e}"
        );
        assert!(
            file_error(&service("{type: tmpfs, target: /x, tmpfs: {size: 1.5}}"))
                .contains("not an integer")
        );
        check_file(&tree(&service(
            "{type: tmpfs, target: /x, tmpfs: {size: 10m}}",
        )))
        .unwrap();
        check_file(&tree(&service(
            "{type: tmpfs, target: /x, tmpfs: {size: 1024}}",
        )))
        .unwrap();
        check_file(&tree(&service("{type: bind, source: ./data, target: /x}"))).unwrap();
    }
}
