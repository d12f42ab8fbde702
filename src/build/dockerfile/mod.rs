//! The Dockerfile frontend: text → [`Dockerfile`] (lexer, parser) →
//! [`BuildPlan`] (stages, `--target`, dependency graph) → per stage an
//! [`ExpandedStage`] (variables substituted, steps and image configuration).
//! Pure: it reads no files and starts nothing; the builder feeds it text,
//! build options and base image configurations.
//!
//! - `lexer`: parser directives, comments, continuations, heredoc bodies
//! - `parse`, `ast`: instructions, flags, exec/shell form
//! - `words`: variable substitution and quote handling
//! - `mounts`: `RUN --mount`
//! - `platform`: the native platform and the automatic platform ARGs
//! - `plan`: stages and their graph
//! - `expand`: one stage's steps from its base configuration

pub mod ast;
pub mod error;
pub mod expand;
pub mod lexer;
pub mod mounts;
pub mod parse;
pub mod plan;
pub mod platform;
pub mod words;

pub use ast::{
    Command, CopyArgs, CopySource, Dockerfile, Healthcheck, Instruction, Located, RunArgs,
};
pub use error::DockerfileError;
pub use expand::{ExpandedStage, ImageConfig, RunNetwork, Source, Step, StepKind};
pub use lexer::{Directives, Heredoc};
pub use mounts::{MountKind, RunMount};
pub use parse::parse;
pub use plan::{plan, BuildOptions, BuildPlan, SourceRef, Stage, StageBase};
pub use platform::Platform;
