//! Variable interpolation in compose values: `$VAR`, `${VAR}`, `${VAR:-d}`,
//! `${VAR-d}`, `${VAR:?msg}`, `${VAR?msg}`, `${VAR:+alt}`, `${VAR+alt}`,
//! nesting, and `$$` for a literal `$`.

use super::error::Problem;
use super::yaml::{Node, NodePath};

/// Why a template could not be expanded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    /// `${VAR:?msg}` / `${VAR?msg}` with the variable unset (or empty for `:?`).
    #[error("required variable {name} is missing a value{}", if .message.is_empty() { String::new() } else { format!(": {}", .message) })]
    Required { name: String, message: String },
    /// The template's syntax is wrong (e.g. `${`, `${A:x}`).
    #[error("invalid interpolation format for {template:?}: {reason}")]
    Invalid { template: String, reason: String },
}

/// The result of expanding one string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expanded {
    pub value: String,
    /// Variables that were used without a value and without a default.
    pub unset: Vec<String>,
}

/// Expands `template`, looking variables up with `lookup`.
pub fn expand(template: &str, lookup: &dyn Fn(&str) -> Option<String>) -> Result<Expanded, TemplateError> {
    let _ = (template, lookup);
    unimplemented!("interpolation helper")
}

/// Expands every scalar value (never a key) of `node`, in place. A scalar whose
/// text changed becomes a quoted string. `on_unset` is called once per use of a
/// variable that has no value (the caller dedups warnings).
pub fn interpolate_tree(
    node: &mut Node,
    path: &NodePath,
    lookup: &dyn Fn(&str) -> Option<String>,
    on_unset: &mut dyn FnMut(&str),
) -> Result<(), Problem> {
    let _ = (node, path, lookup, on_unset);
    unimplemented!("interpolation helper")
}
