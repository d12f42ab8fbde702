//! The `.env` / `env_file` grammar as Compose reads it: `KEY=VALUE` lines,
//! `export`, comments, single/double/unquoted values, escapes, multi-line
//! quoted values, and values that reference the environment or earlier lines.

use indexmap::IndexMap;

/// A line the parser could not read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct DotenvError {
    pub line: usize,
    pub message: String,
}

/// Parses an env file. Variables in values are looked up first with `lookup`
/// (the caller's environment), then among earlier lines of the same file.
/// A bare `KEY` line maps to `lookup(KEY)` (None when unset).
pub fn parse(
    text: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<IndexMap<String, Option<String>>, DotenvError> {
    let _ = (text, lookup);
    unimplemented!("dotenv helper")
}

/// Parses an env file with `format: raw`: every value verbatim, no quotes
/// removed, no interpolation.
pub fn parse_raw(text: &str) -> Result<IndexMap<String, Option<String>>, DotenvError> {
    let _ = text;
    unimplemented!("dotenv helper")
}
