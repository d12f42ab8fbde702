//! YAML for the loader: parse text into a [`Node`] tree that keeps spans,
//! tags and scalars as written; decode a tree into typed values with serde;
//! emit YAML the way `docker compose config` prints it.

mod de;
mod emit;
mod node;
mod parse;
mod parse_repair;

pub use de::{from_node, to_json};
pub use emit::to_yaml_string;
pub use node::*;
pub use parse::{parse_documents, ParseLimits};
