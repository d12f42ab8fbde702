//! Text -> [`Node`] trees (one per YAML document), built from saphyr-parser's
//! events with an explicit stack (no recursion on input depth). Anchors and
//! aliases are resolved here under a node budget; `<<` merge keys are applied;
//! duplicate keys are errors, as in compose.

use super::parse_repair::Source;
use super::{FileId, Mapping, Node, NodePath, Scalar, ScalarStyle, Span, Tag, Value};
use crate::compose::error::Problem;
use saphyr_parser::{Event, Parser, ScalarStyle as YamlStyle, ScanError};
use std::collections::HashMap;

/// Bounds that keep hostile input from exhausting memory or stack.
#[derive(Debug, Clone, Copy)]
pub struct ParseLimits {
    /// Most nodes a file may expand to once aliases are resolved.
    pub max_nodes: usize,
    /// Deepest nesting of mappings and sequences.
    pub max_depth: usize,
}

impl Default for ParseLimits {
    fn default() -> Self {
        ParseLimits {
            max_nodes: 250_000,
            max_depth: 200,
        }
    }
}

/// Parses every document of `text`. An empty file (or one with only
/// comments) yields no documents.
///
/// libyaml (hence docker compose) accepts some indentation saphyr-parser
/// refuses — a flow collection's lines at its parent's indentation (`test: [`
/// … `]`), quoted scalars continuing left of where they started. Leading
/// blanks carry no meaning there, so `parse_repair` moves those lines right and
/// the text is parsed again (a bounded number of times); spans keep pointing
/// at the original columns.
pub fn parse_documents(
    text: &str,
    file: FileId,
    limits: ParseLimits,
) -> Result<Vec<Node>, Problem> {
    let mut source = Source::new(text);
    loop {
        match parse_once(&source, file, limits) {
            Ok(docs) => return Ok(docs),
            Err(Failure::Invalid(problem)) => return Err(problem),
            Err(Failure::Syntax(error)) => {
                if !source.try_repair(&error, None) {
                    let m = error.marker();
                    let span = Span {
                        file,
                        line: m.line() as u32,
                        col: source.original_col(*m) as u32 + 1,
                    };
                    return Err(Problem::new(
                        span,
                        NodePath::root(),
                        format!("invalid YAML: {}", error.info()),
                    ));
                }
            }
        }
    }
}

/// Why one parse attempt failed.
enum Failure {
    /// A YAML syntax error (perhaps one the repair can fix).
    Syntax(ScanError),
    /// The YAML is well-formed but not acceptable (duplicate key, budget, …).
    Invalid(Problem),
}

impl From<Problem> for Failure {
    fn from(problem: Problem) -> Self {
        Failure::Invalid(problem)
    }
}

fn parse_once(
    source: &Source<'_>,
    file: FileId,
    limits: ParseLimits,
) -> Result<Vec<Node>, Failure> {
    let mut builder = Builder::new(limits);
    let mut parser = Parser::new_from_str(source.text());
    while let Some(next) = parser.next_event() {
        let (event, span) = next.map_err(Failure::Syntax)?;
        let at = Span {
            file,
            line: span.start.line() as u32,
            col: source.original_col(span.start) as u32 + 1,
        };
        builder.event(event, at)?;
    }
    Ok(builder.documents)
}

enum Frame {
    Seq {
        items: Vec<Node>,
        span: Span,
        tag: Option<Tag>,
        anchor: usize,
        path: NodePath,
    },
    Map {
        map: Mapping,
        key: Option<PendingKey>,
        merges: Vec<Node>,
        span: Span,
        tag: Option<Tag>,
        anchor: usize,
        path: NodePath,
    },
}

struct PendingKey {
    text: String,
    is_merge: bool,
}

struct Builder {
    limits: ParseLimits,
    stack: Vec<Frame>,
    anchors: HashMap<usize, (Node, usize)>,
    documents: Vec<Node>,
    nodes: usize,
}

impl Builder {
    fn new(limits: ParseLimits) -> Self {
        Builder {
            limits,
            stack: Vec::new(),
            anchors: HashMap::new(),
            documents: Vec::new(),
            nodes: 0,
        }
    }

    /// The path of the value about to be attached.
    fn child_path(&self) -> NodePath {
        match self.stack.last() {
            None => NodePath::root(),
            Some(Frame::Seq { items, path, .. }) => path.index(items.len()),
            Some(Frame::Map { key, path, .. }) => match key {
                Some(k) => path.key(&k.text),
                None => path.clone(),
            },
        }
    }

    fn count(&mut self, n: usize, span: Span) -> Result<(), Problem> {
        self.nodes = self.nodes.saturating_add(n);
        if self.nodes > self.limits.max_nodes {
            return Err(Problem::new(
                span,
                self.child_path(),
                format!(
                    "document too large after expanding aliases (more than {} nodes): refusing a possible \"billion laughs\" file",
                    self.limits.max_nodes
                ),
            ));
        }
        Ok(())
    }

    fn event(&mut self, event: Event<'_>, at: Span) -> Result<(), Problem> {
        match event {
            Event::Scalar(text, style, anchor, tag) => {
                self.count(1, at)?;
                if self.expects_key() {
                    if tag.is_none() {
                        self.key_must_be_a_string(&text, style, at)?;
                    }
                    return self.set_key(&text, style, at);
                }
                let tag = tag.map(|t| convert_tag(&t));
                let node = scalar_node(&text, style, tag, at);
                self.finish(node, anchor, 1)
            }
            Event::SequenceStart(anchor, tag) => {
                self.open(at)?;
                let path = self.child_path();
                self.stack.push(Frame::Seq {
                    items: Vec::new(),
                    span: at,
                    tag: tag.map(|t| convert_tag(&t)),
                    anchor,
                    path,
                });
                Ok(())
            }
            Event::MappingStart(anchor, tag) => {
                self.open(at)?;
                let path = self.child_path();
                self.stack.push(Frame::Map {
                    map: Mapping::new(),
                    key: None,
                    merges: Vec::new(),
                    span: at,
                    tag: tag.map(|t| convert_tag(&t)),
                    anchor,
                    path,
                });
                Ok(())
            }
            Event::SequenceEnd | Event::MappingEnd => self.close(),
            Event::Alias(id) => {
                let Some(size) = self.anchors.get(&id).map(|(_, size)| *size) else {
                    return Err(Problem::new(
                        at,
                        self.child_path(),
                        "alias refers to an undefined anchor",
                    ));
                };
                // Check the budget before copying anything.
                self.count(size, at)?;
                let Some(node) = self.anchors.get(&id).map(|(n, _)| n.clone()) else {
                    return Ok(());
                };
                if self.expects_key() {
                    return match node.as_str() {
                        Some(text) => {
                            let text = text.to_string();
                            self.set_key(&text, YamlStyle::DoubleQuoted, at)
                        }
                        None => Err(Problem::new(
                            at,
                            self.child_path(),
                            "mapping keys must be strings",
                        )),
                    };
                }
                self.attach(node)
            }
            Event::DocumentEnd => {
                self.anchors.clear();
                Ok(())
            }
            Event::StreamStart | Event::StreamEnd | Event::DocumentStart(_) | Event::Nothing => {
                Ok(())
            }
        }
    }

    fn expects_key(&self) -> bool {
        matches!(self.stack.last(), Some(Frame::Map { key: None, .. }))
    }

    fn open(&mut self, at: Span) -> Result<(), Problem> {
        self.count(1, at)?;
        if self.expects_key() {
            return Err(Problem::new(
                at,
                self.child_path(),
                "mapping keys must be strings, not sequences or mappings",
            ));
        }
        if self.stack.len() >= self.limits.max_depth {
            return Err(Problem::new(
                at,
                self.child_path(),
                format!("nesting deeper than {} levels", self.limits.max_depth),
            ));
        }
        Ok(())
    }

    /// Compose reads every mapping key as a string: a plain key that YAML
    /// types as a boolean or a number (`1:`, `true:`, `1.5:`) is refused, as
    /// compose refuses it ("Non-string key"), not silently read as text.
    fn key_must_be_a_string(&self, text: &str, style: YamlStyle, at: Span) -> Result<(), Problem> {
        if style != YamlStyle::Plain {
            return Ok(());
        }
        let kind = match super::node::resolve_plain(text) {
            super::Resolved::Bool(_) => "a boolean",
            super::Resolved::Int(_) | super::Resolved::Float(_) => "a number",
            super::Resolved::Null | super::Resolved::Str(_) => return Ok(()),
        };
        Err(Problem::new(
            at,
            self.child_path().key(text),
            format!(
                "mapping key {text} is {kind}, but keys must be strings: quote it (\"{text}\")"
            ),
        ))
    }

    fn set_key(&mut self, text: &str, style: YamlStyle, at: Span) -> Result<(), Problem> {
        let path = self.child_path();
        let Some(Frame::Map { map, key, .. }) = self.stack.last_mut() else {
            return Ok(());
        };
        let plain = style == YamlStyle::Plain;
        if plain && matches!(text, "" | "~" | "null" | "Null" | "NULL") {
            return Err(Problem::new(at, path, "mapping keys must not be null"));
        }
        let is_merge = plain && text == "<<";
        if !is_merge {
            if let Some(existing) = map.get(text) {
                return Err(Problem::new(
                    at,
                    path.key(text),
                    format!(
                        "mapping key {text:?} already defined at line {}",
                        existing.span.line
                    ),
                ));
            }
        }
        *key = Some(PendingKey {
            text: text.to_string(),
            is_merge,
        });
        Ok(())
    }

    fn close(&mut self) -> Result<(), Problem> {
        let Some(frame) = self.stack.pop() else {
            return Ok(());
        };
        let (node, anchor) = match frame {
            Frame::Seq {
                items,
                span,
                tag,
                anchor,
                ..
            } => (
                Node {
                    value: Value::Seq(items),
                    span,
                    tag,
                },
                anchor,
            ),
            Frame::Map {
                mut map,
                merges,
                span,
                tag,
                anchor,
                path,
                ..
            } => {
                for source in merges {
                    apply_merge(&mut map, source, &path)?;
                }
                (
                    Node {
                        value: Value::Map(map),
                        span,
                        tag,
                    },
                    anchor,
                )
            }
        };
        let size = if anchor > 0 { node_count(&node) } else { 0 };
        self.finish(node, anchor, size)
    }

    fn finish(&mut self, node: Node, anchor: usize, size: usize) -> Result<(), Problem> {
        if anchor > 0 {
            self.anchors.insert(anchor, (node.clone(), size));
        }
        self.attach(node)
    }

    fn attach(&mut self, node: Node) -> Result<(), Problem> {
        match self.stack.last_mut() {
            None => {
                self.documents.push(node);
                Ok(())
            }
            Some(Frame::Seq { items, .. }) => {
                items.push(node);
                Ok(())
            }
            Some(Frame::Map {
                map, key, merges, ..
            }) => {
                let Some(k) = key.take() else { return Ok(()) };
                if k.is_merge {
                    merges.push(node);
                } else {
                    map.insert(k.text, node);
                }
                Ok(())
            }
        }
    }
}

/// `<<: *a` or `<<: [*a, *b]`: keys not already present are added; earlier sources win.
fn apply_merge(map: &mut Mapping, source: Node, path: &NodePath) -> Result<(), Problem> {
    let span = source.span;
    match source.value {
        Value::Map(m) => {
            for (k, v) in m {
                if !map.contains_key(&k) {
                    map.insert(k, v);
                }
            }
            Ok(())
        }
        Value::Seq(items) => {
            for item in items {
                if item.as_map().is_none() {
                    return Err(Problem::new(
                        item.span,
                        path.key("<<"),
                        "merge key `<<` takes a mapping or a list of mappings",
                    ));
                }
                apply_merge(map, item, path)?;
            }
            Ok(())
        }
        _ => Err(Problem::new(
            span,
            path.key("<<"),
            "merge key `<<` takes a mapping or a list of mappings",
        )),
    }
}

fn node_count(node: &Node) -> usize {
    let mut count = 0usize;
    let mut todo = vec![node];
    while let Some(n) = todo.pop() {
        count += 1;
        match &n.value {
            Value::Seq(items) => todo.extend(items.iter()),
            Value::Map(m) => todo.extend(m.iter().map(|(_, v)| v)),
            _ => {}
        }
    }
    count
}

fn convert_tag(tag: &saphyr_parser::Tag) -> Tag {
    match (tag.handle.as_str(), tag.suffix.as_str()) {
        ("!", "reset") => Tag::Reset,
        ("!", "override") => Tag::Override,
        _ => Tag::Other(tag.to_string()),
    }
}

fn scalar_node(text: &str, style: YamlStyle, tag: Option<Tag>, at: Span) -> Node {
    let is_str_tag =
        matches!(&tag, Some(Tag::Other(t)) if t == "tag:yaml.org,2002:!str" || t.ends_with(":str"));
    let style = match style {
        _ if is_str_tag => ScalarStyle::DoubleQuoted,
        YamlStyle::Plain => ScalarStyle::Plain,
        YamlStyle::SingleQuoted => ScalarStyle::SingleQuoted,
        YamlStyle::DoubleQuoted => ScalarStyle::DoubleQuoted,
        YamlStyle::Literal => ScalarStyle::Literal,
        YamlStyle::Folded => ScalarStyle::Folded,
    };
    let scalar = Scalar {
        text: text.to_string(),
        style,
    };
    let value = match scalar.resolve() {
        super::Resolved::Null => Value::Null,
        _ => Value::Scalar(scalar),
    };
    Node {
        value,
        span: at,
        tag,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compose::yaml::to_json;
    use serde_json::json;

    fn parse(text: &str) -> Result<Vec<Node>, Problem> {
        parse_documents(text, FileId(0), ParseLimits::default())
    }

    fn one(text: &str) -> serde_json::Value {
        to_json(&parse(text).unwrap()[0])
    }

    #[test]
    fn scalars_keep_text_and_spans() {
        let docs = parse("a: \"80\"\nb: 80\nc: no\nd: 0755\n").unwrap();
        let m = docs[0].as_map().unwrap();
        assert_eq!(m.get("a").unwrap().as_str(), Some("80"));
        assert_eq!(m.get("d").unwrap().as_str(), Some("0755"));
        assert_eq!(m.get("b").unwrap().span.line, 2);
        assert_eq!(m.get("b").unwrap().span.col, 4);
        assert_eq!(
            one("a: \"80\"\nb: 80\nc: no\n"),
            json!({"a": "80", "b": 80, "c": "no"})
        );
    }

    #[test]
    fn anchors_aliases_and_merge_keys() {
        let v = one("x: &x {a: 1, b: 2}\ny: &y {c: 3}\nz:\n  <<: [*x, *y]\n  b: 9\nw: *y\n");
        assert_eq!(v["z"], json!({"b": 9, "a": 1, "c": 3}));
        assert_eq!(v["w"], json!({"c": 3}));
        assert!(!v["z"].as_object().unwrap().contains_key("<<"));
    }

    #[test]
    fn tags_are_kept() {
        let docs = parse("a: !reset []\nb: !override {x: 1}\nc: !reset\nd: !!str 80\n").unwrap();
        let m = docs[0].as_map().unwrap();
        assert_eq!(m.get("a").unwrap().tag, Some(Tag::Reset));
        assert_eq!(m.get("b").unwrap().tag, Some(Tag::Override));
        assert_eq!(m.get("c").unwrap().tag, Some(Tag::Reset));
        assert!(m.get("c").unwrap().is_null());
        assert_eq!(to_json(m.get("d").unwrap()), json!("80"));
    }

    #[test]
    fn errors() {
        let e = parse("a: 1\nb: 2\na: 3\n").unwrap_err();
        assert_eq!(e.message, "mapping key \"a\" already defined at line 1");
        assert_eq!(e.span.line, 3);
        let e = parse("a: [1, 2\n").unwrap_err();
        assert!(e.message.starts_with("invalid YAML"), "{}", e.message);
        assert!(parse("a: *nope\n").is_err());
        assert!(parse("? [a]\n: 1\n").is_err());
        assert!(parse("<<: 1\n").is_err());
        let deep = "[".repeat(500) + &"]".repeat(500);
        let e = parse(&deep).unwrap_err();
        assert!(
            e.message.contains("nesting") || e.message.contains("recursion"),
            "{}",
            e.message
        );
    }

    #[test]
    fn billion_laughs_is_refused_fast() {
        let mut text = String::from("a: &a [x,x,x,x,x,x,x,x,x,x]\n");
        for (prev, cur) in ["a", "b", "c", "d", "e", "f", "g", "h", "i"]
            .iter()
            .zip(["b", "c", "d", "e", "f", "g", "h", "i", "j"])
        {
            text.push_str(&format!("{cur}: &{cur} [*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev}]\n"));
        }
        let start = std::time::Instant::now();
        let e = parse(&text).unwrap_err();
        assert!(e.message.contains("billion laughs"));
        assert!(start.elapsed() < std::time::Duration::from_secs(1));
    }

    #[test]
    fn flow_closer_at_parent_indentation_is_accepted() {
        let text = "a:\n  test: [\n      \"CMD\",\n      \"x\"\n  ]\n  b: 1\n";
        assert_eq!(one(text), json!({"a": {"test": ["CMD", "x"], "b": 1}}));
    }

    #[test]
    fn documents() {
        assert!(parse("").unwrap().is_empty());
        assert!(parse("# only a comment\n").unwrap().is_empty());
        assert_eq!(parse("a: 1\n---\nb: 2\n").unwrap().len(), 2);
    }
}
