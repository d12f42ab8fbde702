//! serde decoding of a [`Node`] tree into typed values.
use super::{Node, NodePath};
use crate::compose::error::Problem;

/// Decodes `node` (found at `path`) into `T`.
pub fn from_node<T: serde::de::DeserializeOwned>(node: &Node, path: &NodePath) -> Result<T, Problem> {
    let _ = (node, path);
    unimplemented!("yaml helper")
}

/// Converts a tree to JSON, typing plain scalars by the YAML 1.2 core schema.
pub fn to_json(node: &Node) -> serde_json::Value {
    let _ = node;
    unimplemented!("yaml helper")
}
