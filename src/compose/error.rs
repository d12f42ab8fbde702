//! Errors of the Compose loader.
//!
//! Phases report a [`Problem`]: what is wrong, at which path of the tree and
//! where in which file. The loader turns it into a [`ComposeError`] that names
//! the file the way the user knows it, e.g.
//! `compose.yaml: services.web.ports[0]: invalid port "80:abc": container port must be a number (line 7, column 9)`.

use super::yaml::{FileId, NodePath, Span};
use std::fmt;
use std::path::PathBuf;

/// Something wrong at one place of a compose file.
#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    pub span: Span,
    pub path: NodePath,
    pub message: String,
}

impl Problem {
    pub fn new(span: Span, path: NodePath, message: impl Into<String>) -> Self {
        Problem {
            span,
            path,
            message: message.into(),
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_root() {
            write!(f, "{}", self.message)
        } else {
            write!(f, "{}: {}", self.path, self.message)
        }
    }
}

impl std::error::Error for Problem {}

/// The files a load read, so spans can be turned back into file names.
#[derive(Debug, Clone, Default)]
pub struct SourceMap {
    names: Vec<String>,
}

impl SourceMap {
    /// Registers a file under the name shown to the user; returns its id.
    pub fn add(&mut self, display_name: impl Into<String>) -> FileId {
        self.names.push(display_name.into());
        FileId((self.names.len() - 1) as u32)
    }

    pub fn name(&self, id: FileId) -> &str {
        self.names
            .get(id.0 as usize)
            .map(String::as_str)
            .unwrap_or("<unknown>")
    }
}

/// An error loading a Compose project.
#[derive(Debug, thiserror::Error)]
pub enum ComposeError {
    /// A problem at a known place in a file.
    #[error("{file}: {problem}{}", location_suffix(.problem.span))]
    Invalid { file: String, problem: Problem },
    /// A file could not be read.
    #[error("cannot read {}", .path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    /// No compose file was found.
    #[error("no configuration file provided: not found (looked for {candidates} in {} and its parents)", .dir.display())]
    NoConfigFile { dir: PathBuf, candidates: String },
    /// A problem with the project as a whole (name, profiles, command-line input).
    #[error("{0}")]
    Project(String),
}

impl ComposeError {
    pub fn invalid(sources: &SourceMap, problem: Problem) -> Self {
        ComposeError::Invalid {
            file: sources.name(problem.span.file).to_string(),
            problem,
        }
    }
}

fn location_suffix(span: Span) -> String {
    if span.is_known() {
        format!(" (line {}, column {})", span.line, span.col)
    } else {
        String::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_names_file_path_and_position() {
        let mut sources = SourceMap::default();
        let file = sources.add("compose.yaml");
        let path = NodePath::root()
            .key("services")
            .key("web")
            .key("ports")
            .index(0);
        let problem = Problem::new(
            Span {
                file,
                line: 7,
                col: 9,
            },
            path,
            "invalid port \"80:abc\": container port must be a number",
        );
        let err = ComposeError::invalid(&sources, problem);
        assert_eq!(
            err.to_string(),
            "compose.yaml: services.web.ports[0]: invalid port \"80:abc\": container port must be a number (line 7, column 9)"
        );
    }
}
