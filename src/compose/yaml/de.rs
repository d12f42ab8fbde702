//! serde decoding of a [`Node`] tree into typed values. Every error comes out
//! as a [`Problem`] with the path and position of the innermost node being
//! decoded. Struct fields are checked: an unknown key is an error unless it
//! is an `x-*` extension, which a struct may collect in a `$extensions` field.

use super::{Mapping, Node, NodePath, Resolved, Span, Value};
use crate::compose::error::Problem;
use serde::de::{self, DeserializeSeed, Visitor};
use std::fmt;

/// Decodes `node` (found at `path`) into `T`.
pub fn from_node<T: de::DeserializeOwned>(node: &Node, path: &NodePath) -> Result<T, Problem> {
    T::deserialize(NodeDeserializer {
        node,
        path: path.clone(),
    })
    .map_err(|e| e.into_problem(node.span, path))
}

/// Converts a tree to JSON, typing plain scalars by the YAML 1.2 core schema.
pub fn to_json(node: &Node) -> serde_json::Value {
    use serde_json::Value as J;
    match &node.value {
        Value::Null => J::Null,
        Value::Scalar(s) => match s.resolve() {
            Resolved::Null => J::Null,
            Resolved::Bool(b) => J::Bool(b),
            Resolved::Int(i) => J::from(i),
            Resolved::Float(f) => serde_json::Number::from_f64(f)
                .map(J::Number)
                .unwrap_or_else(|| J::String(s.text.clone())),
            Resolved::Str(t) => J::String(t.to_string()),
        },
        Value::Seq(items) => J::Array(items.iter().map(to_json).collect()),
        Value::Map(m) => J::Object(m.iter().map(|(k, v)| (k.clone(), to_json(v))).collect()),
    }
}

/// A decoding error; located at the innermost node on its way out.
#[derive(Debug)]
pub struct DeError {
    located: Option<Problem>,
    message: String,
}

impl DeError {
    fn locate(self, span: Span, path: &NodePath) -> Self {
        if self.located.is_some() {
            return self;
        }
        let problem = Problem::new(span, path.clone(), self.message.clone());
        DeError {
            located: Some(problem),
            message: self.message,
        }
    }

    fn into_problem(self, span: Span, path: &NodePath) -> Problem {
        self.located
            .unwrap_or_else(|| Problem::new(span, path.clone(), self.message))
    }
}

impl fmt::Display for DeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for DeError {}

impl de::Error for DeError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        DeError {
            located: None,
            message: msg.to_string(),
        }
    }

    fn unknown_variant(variant: &str, expected: &'static [&'static str]) -> Self {
        let list = expected
            .iter()
            .map(|e| format!("{e:?}"))
            .collect::<Vec<_>>()
            .join(", ");
        Self::custom(format_args!(
            "invalid value {variant:?}: expected one of {list}"
        ))
    }

    fn missing_field(field: &'static str) -> Self {
        Self::custom(format_args!("missing required attribute {field:?}"))
    }
}

struct NodeDeserializer<'a> {
    node: &'a Node,
    path: NodePath,
}

impl<'a> NodeDeserializer<'a> {
    fn fail<T>(&self, message: String) -> Result<T, DeError> {
        Err(DeError {
            located: Some(Problem::new(
                self.node.span,
                self.path.clone(),
                message.clone(),
            )),
            message,
        })
    }

    fn got(&self) -> String {
        match self.node.as_str() {
            Some(text) => format!("{} {:?}", self.node.kind_name(), text),
            None => format!("a {}", self.node.kind_name()),
        }
    }

    fn text(&self, what: &str) -> Result<&'a str, DeError> {
        match &self.node.value {
            Value::Scalar(s) => Ok(&s.text),
            _ => self.fail(format!("expected {what}, got {}", self.got())),
        }
    }

    fn int(&self) -> Result<i128, DeError> {
        let text = self.text("an integer")?.trim();
        let (neg, digits) = match text.strip_prefix('-') {
            Some(d) => (true, d),
            None => (false, text.strip_prefix('+').unwrap_or(text)),
        };
        let parsed = if let Some(hex) = digits.strip_prefix("0x") {
            i128::from_str_radix(hex, 16).ok()
        } else if let Some(oct) = digits.strip_prefix("0o") {
            i128::from_str_radix(oct, 8).ok()
        } else if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
            digits.parse::<i128>().ok()
        } else {
            None
        };
        match parsed {
            Some(v) => Ok(if neg { -v } else { v }),
            None => self.fail(format!("expected an integer, got {}", self.got())),
        }
    }

    fn located<T>(&self, result: Result<T, DeError>) -> Result<T, DeError> {
        result.map_err(|e| e.locate(self.node.span, &self.path))
    }
}

macro_rules! deserialize_int {
    ($method:ident, $visit:ident, $ty:ty) => {
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
            let value = self.int()?;
            let Ok(v) = <$ty>::try_from(value) else {
                return self.fail(format!("number {value} is out of range"));
            };
            let result = visitor.$visit(v);
            self.located(result)
        }
    };
}

impl<'de, 'a> de::Deserializer<'de> for NodeDeserializer<'a> {
    type Error = DeError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        let result = match &self.node.value {
            Value::Null => visitor.visit_unit(),
            Value::Scalar(s) => match s.resolve() {
                Resolved::Null => visitor.visit_unit(),
                Resolved::Bool(b) => visitor.visit_bool(b),
                Resolved::Int(i) => visitor.visit_i64(i),
                Resolved::Float(f) => visitor.visit_f64(f),
                Resolved::Str(t) => visitor.visit_str(t),
            },
            Value::Seq(items) => visitor.visit_seq(SeqAccess {
                items: items.iter(),
                path: &self.path,
                index: 0,
            }),
            Value::Map(m) => visitor.visit_map(MapAccess::all(m, &self.path)),
        };
        self.located(result)
    }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        let text = self.text("a boolean")?;
        let b = match text.to_ascii_lowercase().as_str() {
            "true" | "yes" | "on" | "y" => true,
            "false" | "no" | "off" | "n" => false,
            _ => return self.fail(format!("expected a boolean, got {}", self.got())),
        };
        let result = visitor.visit_bool(b);
        self.located(result)
    }

    deserialize_int!(deserialize_i8, visit_i8, i8);
    deserialize_int!(deserialize_i16, visit_i16, i16);
    deserialize_int!(deserialize_i32, visit_i32, i32);
    deserialize_int!(deserialize_i64, visit_i64, i64);
    deserialize_int!(deserialize_u8, visit_u8, u8);
    deserialize_int!(deserialize_u16, visit_u16, u16);
    deserialize_int!(deserialize_u32, visit_u32, u32);
    deserialize_int!(deserialize_u64, visit_u64, u64);

    fn deserialize_f32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_f64(visitor)
    }

    fn deserialize_f64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        let text = self.text("a number")?.trim();
        let Ok(f) = text.parse::<f64>() else {
            return self.fail(format!("expected a number, got {}", self.got()));
        };
        if !f.is_finite() {
            return self.fail(format!("expected a finite number, got {}", self.got()));
        }
        let result = visitor.visit_f64(f);
        self.located(result)
    }

    fn deserialize_char<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        let text = self.text("a string")?;
        let result = visitor.visit_str(text);
        self.located(result)
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_bytes<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        let text = self.text("a string")?;
        let result = visitor.visit_bytes(text.as_bytes());
        self.located(result)
    }

    fn deserialize_byte_buf<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_bytes(visitor)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        let result = if self.node.is_null() {
            visitor.visit_none()
        } else {
            visitor.visit_some(NodeDeserializer {
                node: self.node,
                path: self.path.clone(),
            })
        };
        self.located(result)
    }

    fn deserialize_unit<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        if !self.node.is_null() {
            return self.fail(format!("expected null, got {}", self.got()));
        }
        let result = visitor.visit_unit();
        self.located(result)
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        self.deserialize_unit(visitor)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        let result = visitor.visit_newtype_struct(NodeDeserializer {
            node: self.node,
            path: self.path.clone(),
        });
        self.located(result)
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        let Value::Seq(items) = &self.node.value else {
            return self.fail(format!("expected a list, got {}", self.got()));
        };
        let result = visitor.visit_seq(SeqAccess {
            items: items.iter(),
            path: &self.path,
            index: 0,
        });
        self.located(result)
    }

    fn deserialize_tuple<V: Visitor<'de>>(
        self,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        let Value::Map(m) = &self.node.value else {
            return self.fail(format!("expected a mapping, got {}", self.got()));
        };
        let result = visitor.visit_map(MapAccess::all(m, &self.path));
        self.located(result)
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        let Value::Map(m) = &self.node.value else {
            return self.fail(format!("expected a mapping, got {}", self.got()));
        };
        let collects_extensions = fields.contains(&"$extensions");
        let mut extensions = Mapping::new();
        let mut entries = Vec::with_capacity(m.len());
        for (key, value) in m.iter() {
            if fields.contains(&key.as_str()) {
                entries.push((key.clone(), value));
            } else if key.starts_with("x-") {
                if collects_extensions {
                    extensions.insert(key.clone(), value.clone());
                }
            } else {
                let path = self.path.key(key);
                let message = format!("additional property {key:?} is not allowed");
                return Err(DeError {
                    located: Some(Problem::new(value.span, path, message.clone())),
                    message,
                });
            }
        }
        let ext_node = Node::map(extensions, self.node.span);
        if collects_extensions && !ext_node.as_map().is_some_and(Mapping::is_empty) {
            entries.push(("$extensions".to_string(), &ext_node));
        }
        let result = visitor.visit_map(MapAccess {
            entries: entries.into_iter(),
            path: &self.path,
            pending: None,
        });
        self.located(result)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        let result = match &self.node.value {
            Value::Scalar(s) => {
                visitor.visit_enum(de::value::StrDeserializer::<DeError>::new(&s.text))
            }
            Value::Map(m) if m.len() == 1 => {
                let (key, value) = m
                    .iter()
                    .next()
                    .map(|(k, v)| (k.clone(), v))
                    .ok_or_else(|| de::Error::custom("empty"))?;
                let path = self.path.key(&key);
                visitor.visit_enum(EnumAccess {
                    variant: key,
                    node: value,
                    path,
                })
            }
            _ => return self.fail(format!("expected a string, got {}", self.got())),
        };
        self.located(result)
    }

    fn deserialize_identifier<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        visitor.visit_unit()
    }
}

struct SeqAccess<'a, 'p> {
    items: std::slice::Iter<'a, Node>,
    path: &'p NodePath,
    index: usize,
}

impl<'de, 'a, 'p> de::SeqAccess<'de> for SeqAccess<'a, 'p> {
    type Error = DeError;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, DeError> {
        let Some(node) = self.items.next() else {
            return Ok(None);
        };
        let path = self.path.index(self.index);
        self.index += 1;
        seed.deserialize(NodeDeserializer {
            node,
            path: path.clone(),
        })
        .map(Some)
        .map_err(|e| e.locate(node.span, &path))
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.items.len())
    }
}

struct MapAccess<'a, 'p> {
    entries: std::vec::IntoIter<(String, &'a Node)>,
    path: &'p NodePath,
    pending: Option<(String, &'a Node)>,
}

impl<'a, 'p> MapAccess<'a, 'p> {
    fn all(m: &'a Mapping, path: &'p NodePath) -> Self {
        let entries: Vec<(String, &'a Node)> = m.iter().map(|(k, v)| (k.clone(), v)).collect();
        MapAccess {
            entries: entries.into_iter(),
            path,
            pending: None,
        }
    }
}

impl<'de, 'a, 'p> de::MapAccess<'de> for MapAccess<'a, 'p> {
    type Error = DeError;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, DeError> {
        let Some((key, node)) = self.entries.next() else {
            return Ok(None);
        };
        let path = self.path.key(&key);
        let result = seed
            .deserialize(de::value::StrDeserializer::<DeError>::new(&key))
            .map_err(|e| e.locate(node.span, &path));
        self.pending = Some((key, node));
        result.map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, DeError> {
        let Some((key, node)) = self.pending.take() else {
            return Err(de::Error::custom("value without a key"));
        };
        let path = self.path.key(&key);
        seed.deserialize(NodeDeserializer {
            node,
            path: path.clone(),
        })
        .map_err(|e| e.locate(node.span, &path))
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.entries.len())
    }
}

struct EnumAccess<'a> {
    variant: String,
    node: &'a Node,
    path: NodePath,
}

impl<'de, 'a> de::EnumAccess<'de> for EnumAccess<'a> {
    type Error = DeError;
    type Variant = NodeDeserializer<'a>;

    fn variant_seed<V: DeserializeSeed<'de>>(
        self,
        seed: V,
    ) -> Result<(V::Value, Self::Variant), DeError> {
        let value = seed.deserialize(de::value::StrDeserializer::<DeError>::new(&self.variant))?;
        Ok((
            value,
            NodeDeserializer {
                node: self.node,
                path: self.path,
            },
        ))
    }
}

impl<'de, 'a> de::VariantAccess<'de> for NodeDeserializer<'a> {
    type Error = DeError;

    fn unit_variant(self) -> Result<(), DeError> {
        Ok(())
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, seed: T) -> Result<T::Value, DeError> {
        seed.deserialize(self)
    }

    fn tuple_variant<V: Visitor<'de>>(self, _len: usize, visitor: V) -> Result<V::Value, DeError> {
        de::Deserializer::deserialize_seq(self, visitor)
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        de::Deserializer::deserialize_struct(self, "", fields, visitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compose::yaml::{parse_documents, FileId, ParseLimits};
    use indexmap::IndexMap;
    use serde::Deserialize;
    use std::collections::BTreeMap;

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(rename_all = "lowercase")]
    enum Mode {
        Fast,
        Slow,
    }

    #[derive(Debug, Deserialize, PartialEq)]
    struct Inner {
        port: u16,
        #[serde(default)]
        on: Option<bool>,
    }

    #[derive(Debug, Deserialize, PartialEq)]
    struct Outer {
        name: String,
        #[serde(default)]
        inner: Vec<Inner>,
        #[serde(default)]
        mode: Option<Mode>,
        #[serde(default)]
        labels: BTreeMap<String, String>,
        #[serde(rename = "$extensions", default)]
        extensions: IndexMap<String, serde_json::Value>,
    }

    fn decode<T: de::DeserializeOwned>(text: &str) -> Result<T, Problem> {
        let docs = parse_documents(text, FileId(0), ParseLimits::default()).unwrap();
        from_node(&docs[0], &NodePath::root())
    }

    #[test]
    fn decodes_typed_values() {
        let o: Outer = decode("name: 80\ninner:\n  - port: \"8080\"\n    on: yes\nmode: fast\nlabels: {a: 1}\nx-team: {lead: ann}\n").unwrap();
        assert_eq!(o.name, "80");
        assert_eq!(
            o.inner,
            vec![Inner {
                port: 8080,
                on: Some(true)
            }]
        );
        assert_eq!(o.mode, Some(Mode::Fast));
        assert_eq!(o.labels["a"], "1");
        assert_eq!(o.extensions["x-team"], serde_json::json!({"lead": "ann"}));
        let _ = Mode::Slow;
    }

    #[test]
    fn errors_carry_path_and_position() {
        let e = decode::<Outer>("name: a\ninner:\n  - port: abc\n").unwrap_err();
        assert_eq!(e.path.as_str(), "inner[0].port");
        assert_eq!((e.span.line, e.span.col), (3, 11));
        assert!(e.message.contains("expected an integer"), "{}", e.message);
        let e = decode::<Outer>("name: a\nimagee: x\n").unwrap_err();
        assert_eq!(e.path.as_str(), "imagee");
        assert_eq!(e.message, "additional property \"imagee\" is not allowed");
        let e = decode::<Outer>("name: a\nmode: medium\n").unwrap_err();
        assert_eq!(e.path.as_str(), "mode");
        assert!(e.message.contains("\"fast\""), "{}", e.message);
        let e = decode::<Outer>("inner: []\n").unwrap_err();
        assert!(e.message.contains("name"), "{}", e.message);
        let e = decode::<Outer>("name: [1]\n").unwrap_err();
        assert_eq!(e.message, "expected a string, got a sequence");
        let e = decode::<Outer>("name: a\ninner:\n  - port: 70000\n").unwrap_err();
        assert!(e.message.contains("out of range"), "{}", e.message);
    }
}
