//! Scalar newtypes whose written form differs from their meaning: byte sizes
//! (`512m`), durations (`1m30s`), file modes (`0440`), and values that may be
//! written as a number or a string but are kept as text.

use crate::compose::syntax;
use schemars::JsonSchema;
use serde::{de, Deserialize, Deserializer, Serialize, Serializer};
use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;

/// A size in bytes, written `512m`, `1g`, `1024`; printed as a quoted number
/// of bytes, as `docker compose config` does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ByteSize(pub i64);

impl Serialize for ByteSize {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0.to_string())
    }
}

impl<'de> Deserialize<'de> for ByteSize {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        if let Ok(bytes) = text.trim().parse::<i64>() {
            return Ok(ByteSize(bytes));
        }
        syntax::bytes::parse_bytes(&text)
            .map(ByteSize)
            .map_err(de::Error::custom)
    }
}

impl JsonSchema for ByteSize {
    fn schema_name() -> Cow<'static, str> {
        "ByteSize".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": ["string", "integer"],
            "description": "A size in bytes: a number, or a number with a unit (b, k, m, g; e.g. 512m)."
        })
    }
}

/// A span of time, written like Go durations (`1m30s`, `500ms`); printed the
/// way Go prints them (`1m30s`, `1h0m0s`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Duration(pub syntax::duration::Duration);

impl Duration {
    pub fn as_std(&self) -> std::time::Duration {
        self.0.to_std().unwrap_or_default()
    }
}

impl Serialize for Duration {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&syntax::duration::format_go(&self.0))
    }
}

impl<'de> Deserialize<'de> for Duration {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        syntax::duration::parse_duration(&text)
            .map(Duration)
            .map_err(de::Error::custom)
    }
}

impl JsonSchema for Duration {
    fn schema_name() -> Cow<'static, str> {
        "Duration".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "pattern": "^(\\$\\{.*\\}|([0-9]+(\\.[0-9]+)?(ns|us|µs|ms|s|m|h))+)$",
            "description": "A duration such as 1m30s, 10s or 500ms."
        })
    }
}

/// A file mode, written in octal (`0440`, `0o440`) or decimal; printed as a
/// decimal number, as `docker compose config` does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FileMode(pub u32);

impl Serialize for FileMode {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u32(self.0)
    }
}

impl<'de> Deserialize<'de> for FileMode {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        parse_file_mode(&text)
            .map(FileMode)
            .map_err(de::Error::custom)
    }
}

/// Parses a mode: a leading `0` or `0o` means octal (YAML 1.1, as compose reads it).
pub fn parse_file_mode(text: &str) -> Result<u32, String> {
    let t = text.trim();
    let parsed = if let Some(oct) = t.strip_prefix("0o").or_else(|| t.strip_prefix("0O")) {
        u32::from_str_radix(oct, 8)
    } else if t.len() > 1 && t.starts_with('0') {
        u32::from_str_radix(&t[1..], 8)
    } else {
        t.parse::<u32>()
    };
    match parsed {
        Ok(mode) if mode <= 0o7777 => Ok(mode),
        _ => Err(format!(
            "invalid file mode {text:?}: expected an octal mode such as 0440"
        )),
    }
}

impl JsonSchema for FileMode {
    fn schema_name() -> Cow<'static, str> {
        "FileMode".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({"type": ["integer", "string"], "description": "A file mode, e.g. 0440."})
    }
}

/// Text that may be written as a string or a number (`uid: 1000`, `group_add: [1000]`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct Text(pub String);

impl<'de> Deserialize<'de> for Text {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d).map(Text)
    }
}

impl fmt::Display for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl JsonSchema for Text {
    fn schema_name() -> Cow<'static, str> {
        "StringOrNumber".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({"type": ["string", "number"]})
    }
}

/// Serde helper: print a float the way Go does (`2`, not `2.0`).
pub fn go_float<S: Serializer>(value: &Option<f64>, s: S) -> Result<S::Ok, S::Error> {
    match value {
        Some(v) if v.fract() == 0.0 && v.abs() < 1e15 => s.serialize_i64(*v as i64),
        Some(v) => s.serialize_f64(*v),
        None => s.serialize_none(),
    }
}

/// Serde helper: skip absent and empty strings, as compose omits them.
pub fn is_empty_text(value: &Option<String>) -> bool {
    value.as_deref().is_none_or(str::is_empty)
}

/// Serde helper: skip `false` booleans, as compose omits them.
pub fn is_false(b: &bool) -> bool {
    !*b
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_follow_yaml_1_1_octal() {
        assert_eq!(parse_file_mode("0440"), Ok(0o440));
        assert_eq!(parse_file_mode("0o755"), Ok(0o755));
        assert_eq!(parse_file_mode("288"), Ok(288));
        assert!(parse_file_mode("0999").is_err());
        assert!(parse_file_mode("abc").is_err());
    }
}

/// Label-like maps: every key has a string value.
pub type StringMap = BTreeMap<String, String>;

/// `nofile: 1024` (both limits) or `nofile: {soft, hard}`; numbers may be
/// written as strings.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
#[serde(untagged)]
pub enum Ulimit {
    Single(i64),
    Pair { soft: i64, hard: i64 },
}

impl<'de> Deserialize<'de> for Ulimit {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(UlimitVisitor)
    }
}

struct UlimitVisitor;

fn ulimit_number<E: serde::de::Error>(text: &str) -> Result<i64, E> {
    text.trim()
        .parse()
        .map_err(|_| E::custom(format!("expected an integer, got {text:?}")))
}

/// One of `soft`/`hard`: a number, or a string holding one. Numbers come
/// from the JSON the configuration is kept in with the container (a
/// `Pair` serializes its limits as numbers), strings from YAML.
struct UlimitNumber(i64);

impl<'de> Deserialize<'de> for UlimitNumber {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match d.deserialize_any(UlimitVisitor)? {
            Ulimit::Single(number) => Ok(UlimitNumber(number)),
            Ulimit::Pair { .. } => Err(serde::de::Error::custom(
                "a ulimit's soft and hard must be integers",
            )),
        }
    }
}

impl<'de> serde::de::Visitor<'de> for UlimitVisitor {
    type Value = Ulimit;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a number or a mapping with soft and hard")
    }

    fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Ulimit, E> {
        Ok(Ulimit::Single(v))
    }

    fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Ulimit, E> {
        i64::try_from(v)
            .map(Ulimit::Single)
            .map_err(|_| E::custom("number out of range"))
    }

    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Ulimit, E> {
        ulimit_number(v).map(Ulimit::Single)
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Ulimit, A::Error> {
        let (mut soft, mut hard) = (None, None);
        while let Some(key) = map.next_key::<String>()? {
            let UlimitNumber(number) = map.next_value()?;
            match key.as_str() {
                "soft" => soft = Some(number),
                "hard" => hard = Some(number),
                other => {
                    return Err(serde::de::Error::custom(format!(
                        "additional property {other:?} is not allowed"
                    )))
                }
            }
        }
        match (soft, hard) {
            (Some(soft), Some(hard)) => Ok(Ulimit::Pair { soft, hard }),
            _ => Err(serde::de::Error::custom(
                "a ulimit mapping needs both soft and hard",
            )),
        }
    }
}
