//! What berth does with each element a user can write: every top-level
//! element and service attribute of the Compose specification and every
//! `docker compose` command and flag, each supported, accepted with a
//! warning, or refused with an error. The registry here is the single
//! source of `docs/compatibility.md` and of the warnings and errors `up`,
//! `create` and `run` give for a project's attributes, so the document and
//! the behaviour cannot drift apart.

pub mod attributes;
mod check;
pub mod commands;
mod table;

pub use check::{check_project, Findings};
pub use table::compatibility_markdown;

/// How berth treats one element.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Support {
    /// Honoured as the specification (or docker compose) defines it.
    Supported,
    /// Accepted, not honoured; using it prints this warning.
    Warned(&'static str),
    /// Refused: using it fails with this message before anything is made.
    Refused(&'static str),
}

impl Support {
    /// The table's status column.
    pub fn label(&self) -> &'static str {
        match self {
            Support::Supported => "supported",
            Support::Warned(_) => "accepted with a warning",
            Support::Refused(_) => "refused",
        }
    }
}
