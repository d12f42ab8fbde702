//! The one error type of the Dockerfile frontend: every failure names the
//! Dockerfile, the line and the instruction it is about.

use std::fmt;

/// A Dockerfile that cannot be parsed, planned or expanded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct DockerfileError {
    /// The Dockerfile as the user named it.
    pub file: String,
    /// 1-based line where the instruction starts (0 when not tied to a line).
    pub line: usize,
    /// The instruction keyword (`COPY`, `FROM`, …) or what else was being read
    /// (`parser directive`, `--target`).
    pub instruction: String,
    /// What is wrong and, where possible, what was expected.
    pub message: String,
}

impl fmt::Display for DockerfileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "{}: {}: {}", self.file, self.instruction, self.message)
        } else {
            write!(
                f,
                "{}:{}: {}: {}",
                self.file, self.line, self.instruction, self.message
            )
        }
    }
}

impl DockerfileError {
    pub fn new(
        file: &str,
        line: usize,
        instruction: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        DockerfileError {
            file: file.to_string(),
            line,
            instruction: instruction.into(),
            message: message.into(),
        }
    }
}

/// A failure found below the instruction level (a word, a flag, a mount),
/// turned into a [`DockerfileError`] by the caller who knows where it was.
pub type Problem = String;
