//! The YAML tree the loader works on: every value keeps where it came from
//! (file, line, column), its tag (`!reset`, `!override`) and, for scalars,
//! the text exactly as written plus whether it was quoted.
//!
//! Scalars are not typed at parse time. A plain `80` stays the text "80" until
//! something asks for a number, so `"80:80"`, `restart: no` and octal modes
//! survive untouched, and an interpolated `${PORT}` can still become a number.

use indexmap::IndexMap;
use std::fmt;

/// Identifies a source file in the loader's file table (see `SourceMap`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct FileId(pub u32);

/// Where a node starts in its source file. `line` and `col` are 1-based;
/// a node made by the loader itself (not read from a file) has line 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Span {
    pub file: FileId,
    pub line: u32,
    pub col: u32,
}

impl Span {
    /// A span for nodes synthesized by the loader (no position to report).
    pub const fn synthetic(file: FileId) -> Self {
        Span {
            file,
            line: 0,
            col: 0,
        }
    }

    /// True when this span points at a real place in a file.
    pub fn is_known(&self) -> bool {
        self.line > 0
    }
}

/// How a scalar was written. Only `Plain` scalars are typed by the YAML 1.2
/// core schema (null, booleans, numbers); every other style is a string.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScalarStyle {
    Plain,
    SingleQuoted,
    DoubleQuoted,
    Literal,
    Folded,
}

/// The tags Compose gives meaning to; any other tag is kept by name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Tag {
    /// `!reset`: drop the value inherited from earlier files.
    Reset,
    /// `!override`: replace the inherited value instead of merging into it.
    Override,
    /// Any other tag, as written (e.g. `!!str`, `tag:yaml.org,2002:int`).
    Other(String),
}

/// The value a plain scalar denotes under the YAML 1.2 core schema.
#[derive(Debug, Clone, PartialEq)]
pub enum Resolved<'a> {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(&'a str),
}

/// A scalar as written in the file.
#[derive(Debug, Clone, PartialEq)]
pub struct Scalar {
    pub text: String,
    pub style: ScalarStyle,
}

impl Scalar {
    pub fn plain(text: impl Into<String>) -> Self {
        Scalar {
            text: text.into(),
            style: ScalarStyle::Plain,
        }
    }

    pub fn quoted(text: impl Into<String>) -> Self {
        Scalar {
            text: text.into(),
            style: ScalarStyle::DoubleQuoted,
        }
    }

    pub fn is_plain(&self) -> bool {
        self.style == ScalarStyle::Plain
    }

    /// Types the scalar by the YAML 1.2 core schema (quoted scalars are strings).
    pub fn resolve(&self) -> Resolved<'_> {
        if !self.is_plain() {
            return Resolved::Str(&self.text);
        }
        resolve_plain(&self.text)
    }
}

/// YAML 1.2 core schema resolution of a plain scalar's text.
pub fn resolve_plain(text: &str) -> Resolved<'_> {
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return Resolved::Null,
        "true" | "True" | "TRUE" => return Resolved::Bool(true),
        "false" | "False" | "FALSE" => return Resolved::Bool(false),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => {
            return Resolved::Float(f64::INFINITY)
        }
        "-.inf" | "-.Inf" | "-.INF" => return Resolved::Float(f64::NEG_INFINITY),
        ".nan" | ".NaN" | ".NAN" => return Resolved::Float(f64::NAN),
        _ => {}
    }
    if let Some(i) = parse_core_int(text) {
        return Resolved::Int(i);
    }
    if is_core_float(text) {
        if let Ok(f) = text.parse::<f64>() {
            return Resolved::Float(f);
        }
    }
    Resolved::Str(text)
}

fn parse_core_int(text: &str) -> Option<i64> {
    if let Some(hex) = text.strip_prefix("0x") {
        if !hex.is_empty() && hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return i64::from_str_radix(hex, 16).ok();
        }
        return None;
    }
    if let Some(oct) = text.strip_prefix("0o") {
        if !oct.is_empty() && oct.bytes().all(|b| (b'0'..=b'7').contains(&b)) {
            return i64::from_str_radix(oct, 8).ok();
        }
        return None;
    }
    let digits = text.strip_prefix(['-', '+']).unwrap_or(text);
    if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
        return text.parse::<i64>().ok();
    }
    None
}

fn is_core_float(text: &str) -> bool {
    // [-+]? ( \. [0-9]+ | [0-9]+ ( \. [0-9]* )? ) ( [eE] [-+]? [0-9]+ )?
    let s = text.strip_prefix(['-', '+']).unwrap_or(text);
    let (mantissa, exponent) = match s.find(['e', 'E']) {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    };
    let mantissa_ok = match mantissa.split_once('.') {
        Some((int, frac)) => {
            (!int.is_empty() || !frac.is_empty())
                && int.bytes().all(|b| b.is_ascii_digit())
                && frac.bytes().all(|b| b.is_ascii_digit())
                && !(int.is_empty() && frac.is_empty())
        }
        None => !mantissa.is_empty() && mantissa.bytes().all(|b| b.is_ascii_digit()),
    };
    let exponent_ok = match exponent {
        Some(e) => {
            let e = e.strip_prefix(['-', '+']).unwrap_or(e);
            !e.is_empty() && e.bytes().all(|b| b.is_ascii_digit())
        }
        None => true,
    };
    mantissa_ok && exponent_ok && (mantissa.contains('.') || exponent.is_some())
}

/// A mapping keeps its keys in file order. Keys are strings (Compose has no
/// other kind); `key_spans` remembers where each key was written.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Mapping {
    pub entries: IndexMap<String, Node>,
}

impl Mapping {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.entries.get(key)
    }
    pub fn get_mut(&mut self, key: &str) -> Option<&mut Node> {
        self.entries.get_mut(key)
    }
    pub fn insert(&mut self, key: impl Into<String>, value: Node) -> Option<Node> {
        self.entries.insert(key.into(), value)
    }
    pub fn shift_remove(&mut self, key: &str) -> Option<Node> {
        self.entries.shift_remove(key)
    }
    pub fn contains_key(&self, key: &str) -> bool {
        self.entries.contains_key(key)
    }
    pub fn iter(&self) -> indexmap::map::Iter<'_, String, Node> {
        self.entries.iter()
    }
    pub fn iter_mut(&mut self) -> indexmap::map::IterMut<'_, String, Node> {
        self.entries.iter_mut()
    }
    pub fn keys(&self) -> indexmap::map::Keys<'_, String, Node> {
        self.entries.keys()
    }
    pub fn len(&self) -> usize {
        self.entries.len()
    }
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

impl IntoIterator for Mapping {
    type Item = (String, Node);
    type IntoIter = indexmap::map::IntoIter<String, Node>;
    fn into_iter(self) -> Self::IntoIter {
        self.entries.into_iter()
    }
}

impl FromIterator<(String, Node)> for Mapping {
    fn from_iter<T: IntoIterator<Item = (String, Node)>>(iter: T) -> Self {
        Mapping {
            entries: iter.into_iter().collect(),
        }
    }
}

/// The shape of a node.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// An explicit or implicit null (`~`, `null`, an empty value).
    Null,
    Scalar(Scalar),
    Seq(Vec<Node>),
    Map(Mapping),
}

/// One value of the tree with its position and tag.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub value: Value,
    pub span: Span,
    pub tag: Option<Tag>,
}

impl Node {
    pub fn new(value: Value, span: Span) -> Self {
        Node {
            value,
            span,
            tag: None,
        }
    }
    pub fn null(span: Span) -> Self {
        Node::new(Value::Null, span)
    }
    /// A string node (quoted style, so it is never re-typed).
    pub fn string(text: impl Into<String>, span: Span) -> Self {
        Node::new(Value::Scalar(Scalar::quoted(text)), span)
    }
    /// A plain scalar node (typed by the core schema when read).
    pub fn plain(text: impl Into<String>, span: Span) -> Self {
        Node::new(Value::Scalar(Scalar::plain(text)), span)
    }
    pub fn map(mapping: Mapping, span: Span) -> Self {
        Node::new(Value::Map(mapping), span)
    }
    pub fn seq(items: Vec<Node>, span: Span) -> Self {
        Node::new(Value::Seq(items), span)
    }

    pub fn is_null(&self) -> bool {
        matches!(self.value, Value::Null)
    }
    pub fn as_map(&self) -> Option<&Mapping> {
        match &self.value {
            Value::Map(m) => Some(m),
            _ => None,
        }
    }
    pub fn as_map_mut(&mut self) -> Option<&mut Mapping> {
        match &mut self.value {
            Value::Map(m) => Some(m),
            _ => None,
        }
    }
    pub fn as_seq(&self) -> Option<&[Node]> {
        match &self.value {
            Value::Seq(s) => Some(s),
            _ => None,
        }
    }
    pub fn as_seq_mut(&mut self) -> Option<&mut Vec<Node>> {
        match &mut self.value {
            Value::Seq(s) => Some(s),
            _ => None,
        }
    }
    pub fn as_scalar(&self) -> Option<&Scalar> {
        match &self.value {
            Value::Scalar(s) => Some(s),
            _ => None,
        }
    }
    /// The text of a scalar, whatever its style.
    pub fn as_str(&self) -> Option<&str> {
        self.as_scalar().map(|s| s.text.as_str())
    }
    /// A short description of the node's kind, for error messages.
    pub fn kind_name(&self) -> &'static str {
        match &self.value {
            Value::Null => "null",
            Value::Scalar(s) => match s.resolve() {
                Resolved::Null => "null",
                Resolved::Bool(_) => "boolean",
                Resolved::Int(_) | Resolved::Float(_) => "number",
                Resolved::Str(_) => "string",
            },
            Value::Seq(_) => "sequence",
            Value::Map(_) => "mapping",
        }
    }
    pub fn is_tagged(&self, tag: &Tag) -> bool {
        self.tag.as_ref() == Some(tag)
    }
}

/// A path into the tree for error messages: `services.web.ports[0]`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NodePath(String);

impl NodePath {
    pub fn root() -> Self {
        NodePath(String::new())
    }
    /// The path of a mapping entry below this one.
    pub fn key(&self, key: &str) -> Self {
        if self.0.is_empty() {
            NodePath(key.to_string())
        } else {
            NodePath(format!("{}.{}", self.0, key))
        }
    }
    /// The path of a sequence item below this one.
    pub fn index(&self, index: usize) -> Self {
        NodePath(format!("{}[{}]", self.0, index))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
    pub fn is_root(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Display for NodePath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<&str> for NodePath {
    fn from(s: &str) -> Self {
        NodePath(s.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_scalars_resolve_by_core_schema() {
        assert_eq!(resolve_plain("80"), Resolved::Int(80));
        assert_eq!(resolve_plain("-3"), Resolved::Int(-3));
        assert_eq!(resolve_plain("0o755"), Resolved::Int(0o755));
        assert_eq!(resolve_plain("0x1F"), Resolved::Int(31));
        assert_eq!(resolve_plain("1.5"), Resolved::Float(1.5));
        assert_eq!(resolve_plain("1e3"), Resolved::Float(1000.0));
        assert_eq!(resolve_plain("true"), Resolved::Bool(true));
        assert_eq!(resolve_plain("no"), Resolved::Str("no"));
        assert_eq!(resolve_plain("~"), Resolved::Null);
        assert_eq!(resolve_plain("80:80"), Resolved::Str("80:80"));
        assert_eq!(resolve_plain("1.2.3"), Resolved::Str("1.2.3"));
        assert_eq!(resolve_plain("."), Resolved::Str("."));
    }

    #[test]
    fn quoted_scalars_stay_strings() {
        assert_eq!(Scalar::quoted("80").resolve(), Resolved::Str("80"));
    }

    #[test]
    fn paths_render_like_compose() {
        let p = NodePath::root()
            .key("services")
            .key("web")
            .key("ports")
            .index(0);
        assert_eq!(p.to_string(), "services.web.ports[0]");
    }
}
