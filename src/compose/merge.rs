//! Merging canonical trees, by the Compose specification's rules: mappings
//! merge key by key; `command`, `entrypoint`, `healthcheck.test` and each
//! ulimit are replaced; `ports`, `volumes`, `secrets`, `configs` merge on
//! their unique key; other sequences append without duplicates; `!reset`
//! removes the inherited value and `!override` replaces it whole.

use super::yaml::{Mapping, Node, Tag, Value};

/// How a sequence at some path merges.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SeqRule {
    Replace,
    UniqueBy(KeyOf),
    AppendDistinct,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum KeyOf {
    Port,
    MountTarget,
    FileRefTarget,
    EnvFilePath,
}

/// Merges `over` into `base` (both canonical), returning the result. `path`
/// is the list of keys leading to these nodes (`["services", "web"]`).
pub fn merge(base: Node, over: Node, path: &[&str]) -> Node {
    if over.is_tagged(&Tag::Override) {
        return untag(over);
    }
    if over.is_tagged(&Tag::Reset) {
        return untag(over);
    }
    match (base.value, over.value) {
        (Value::Map(b), Value::Map(o)) => Node {
            value: Value::Map(merge_maps(b, o, path)),
            span: over.span,
            tag: None,
        },
        (Value::Seq(b), Value::Seq(o)) => {
            let items = match seq_rule(path) {
                SeqRule::Replace => o,
                SeqRule::AppendDistinct => append_distinct(b, o),
                SeqRule::UniqueBy(key) => merge_unique(b, o, key),
            };
            Node {
                value: Value::Seq(items),
                span: over.span,
                tag: None,
            }
        }
        (_, value) => strip_tags(Node {
            value,
            span: over.span,
            tag: over.tag,
        }),
    }
}

fn merge_maps(mut base: Mapping, over: Mapping, path: &[&str]) -> Mapping {
    if is_logging(path) {
        let base_driver = base
            .get("driver")
            .and_then(Node::as_str)
            .map(str::to_string);
        let over_driver = over
            .get("driver")
            .and_then(Node::as_str)
            .map(str::to_string);
        if base_driver.is_some() && over_driver.is_some() && base_driver != over_driver {
            base.shift_remove("options");
        }
    }
    for (key, value) in over {
        if value.is_tagged(&Tag::Reset) {
            base.shift_remove(&key);
            continue;
        }
        if let Some(slot) = base.get_mut(&key) {
            let mut child_path = path.to_vec();
            child_path.push(key.as_str());
            let existing = std::mem::replace(slot, Node::null(value.span));
            *slot = merge(existing, value, &child_path);
        } else {
            base.insert(key, strip_tags(value));
        }
    }
    base
}

fn seq_rule(path: &[&str]) -> SeqRule {
    match path {
        ["services", _, "command" | "entrypoint"] => SeqRule::Replace,
        ["services", _, "healthcheck", "test"] => SeqRule::Replace,
        ["services", _, "post_start" | "pre_stop"] => SeqRule::Replace,
        ["services", _, "ports"] => SeqRule::UniqueBy(KeyOf::Port),
        ["services", _, "volumes"] => SeqRule::UniqueBy(KeyOf::MountTarget),
        ["services", _, "secrets" | "configs"] => SeqRule::UniqueBy(KeyOf::FileRefTarget),
        ["services", _, "build", "secrets"] => SeqRule::UniqueBy(KeyOf::FileRefTarget),
        ["services", _, "env_file"] => SeqRule::UniqueBy(KeyOf::EnvFilePath),
        ["services", _, "ulimits", _] => SeqRule::Replace,
        _ => SeqRule::AppendDistinct,
    }
}

fn is_logging(path: &[&str]) -> bool {
    matches!(path, ["services", _, "logging"])
}

fn append_distinct(mut base: Vec<Node>, over: Vec<Node>) -> Vec<Node> {
    for item in over {
        let item = strip_tags(item);
        if !base.iter().any(|b| same_value(b, &item)) {
            base.push(item);
        }
    }
    base
}

fn merge_unique(base: Vec<Node>, over: Vec<Node>, key: KeyOf) -> Vec<Node> {
    let mut out: Vec<(Option<String>, Node)> =
        base.into_iter().map(|n| (unique_key(&n, key), n)).collect();
    for item in over {
        let item = strip_tags(item);
        let k = unique_key(&item, key);
        match k
            .as_ref()
            .and_then(|k| out.iter().position(|(ok, _)| ok.as_ref() == Some(k)))
        {
            Some(i) => {
                // The later definition replaces the earlier one whole, as compose does.
                out[i] = (k, item);
            }
            None => out.push((k, item)),
        }
    }
    out.into_iter().map(|(_, n)| n).collect()
}

fn unique_key(node: &Node, key: KeyOf) -> Option<String> {
    let map = node.as_map()?;
    let get = |k: &str| map.get(k).and_then(Node::as_str).unwrap_or("").to_string();
    Some(match key {
        KeyOf::Port => format!(
            "{}:{}:{}/{}",
            get("host_ip"),
            get("published"),
            get("target"),
            map.get("protocol").and_then(Node::as_str).unwrap_or("tcp")
        ),
        KeyOf::MountTarget => get("target"),
        KeyOf::FileRefTarget => {
            let target = get("target");
            if target.is_empty() {
                get("source")
            } else {
                target
            }
        }
        KeyOf::EnvFilePath => get("path"),
    })
}

/// Structural equality that ignores spans, tags and scalar style.
pub fn same_value(a: &Node, b: &Node) -> bool {
    match (&a.value, &b.value) {
        (Value::Null, Value::Null) => true,
        (Value::Scalar(x), Value::Scalar(y)) => x.text == y.text,
        (Value::Seq(x), Value::Seq(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| same_value(p, q))
        }
        (Value::Map(x), Value::Map(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| same_value(v, w)))
        }
        _ => false,
    }
}

fn untag(mut node: Node) -> Node {
    if node.is_tagged(&Tag::Reset) {
        // `!reset` on a value with content keeps that content ("reset then set").
        node.tag = None;
        return strip_tags(node);
    }
    node.tag = None;
    strip_tags(node)
}

/// Removes `!reset` entries and `!override` tags left in a tree that had
/// nothing to merge with (a single file, or keys new to the base).
pub fn strip_tags(mut node: Node) -> Node {
    match &mut node.tag {
        Some(Tag::Reset) | Some(Tag::Override) => node.tag = None,
        _ => {}
    }
    match node.value {
        Value::Map(map) => {
            let mut out = Mapping::new();
            for (k, v) in map {
                if v.is_tagged(&Tag::Reset) {
                    continue;
                }
                out.insert(k, strip_tags(v));
            }
            node.value = Value::Map(out);
        }
        Value::Seq(items) => {
            node.value = Value::Seq(
                items
                    .into_iter()
                    .filter(|v| !v.is_tagged(&Tag::Reset))
                    .map(strip_tags)
                    .collect(),
            );
        }
        _ => {}
    }
    node
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compose::yaml::{NodePath, Span};

    fn s(text: &str) -> Node {
        Node::string(text, Span::default())
    }
    fn map(entries: Vec<(&str, Node)>) -> Node {
        Node::map(
            entries
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect(),
            Span::default(),
        )
    }
    fn seq(items: Vec<Node>) -> Node {
        Node::seq(items, Span::default())
    }
    fn json(node: &Node) -> serde_json::Value {
        crate::compose::yaml::to_json(node)
    }

    #[test]
    fn mappings_merge_and_command_replaces() {
        let base = map(vec![
            ("image", s("a")),
            ("command", seq(vec![s("x"), s("y")])),
            ("dns", seq(vec![s("1")])),
        ]);
        let over = map(vec![
            ("command", seq(vec![s("z")])),
            ("dns", seq(vec![s("1"), s("2")])),
        ]);
        let merged = merge(base, over, &["services", "web"]);
        assert_eq!(
            json(&merged),
            serde_json::json!({"image": "a", "command": ["z"], "dns": ["1", "2"]})
        );
    }

    #[test]
    fn reset_removes_and_override_replaces() {
        let mut reset = seq(vec![]);
        reset.tag = Some(Tag::Reset);
        let mut over_env = map(vec![("B", s("2"))]);
        over_env.tag = Some(Tag::Override);
        let base = map(vec![
            ("ports", seq(vec![s("p")])),
            ("environment", map(vec![("A", s("1"))])),
        ]);
        let over = map(vec![("ports", reset), ("environment", over_env)]);
        let merged = merge(base, over, &["services", "web"]);
        assert_eq!(
            json(&merged),
            serde_json::json!({"environment": {"B": "2"}})
        );
        let _ = NodePath::root();
    }

    #[test]
    fn volumes_merge_by_target() {
        let v = |src: &str, dst: &str| {
            map(vec![
                ("type", s("bind")),
                ("source", s(src)),
                ("target", s(dst)),
            ])
        };
        let base = map(vec![(
            "volumes",
            seq(vec![v("/a", "/data"), v("/b", "/other")]),
        )]);
        let over = map(vec![("volumes", seq(vec![v("/c", "/data")]))]);
        let merged = merge(base, over, &["services", "web"]);
        assert_eq!(
            json(&merged)["volumes"],
            serde_json::json!([{"type": "bind", "source": "/c", "target": "/data"}, {"type": "bind", "source": "/b", "target": "/other"}])
        );
    }
}
