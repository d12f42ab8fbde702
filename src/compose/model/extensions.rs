//! `x-*` extension fields, kept as written so `config` can print them back.

use indexmap::IndexMap;

/// Extension fields of one object, in file order.
pub type Extensions = IndexMap<String, serde_json::Value>;
