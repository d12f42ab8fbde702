//! The typed Dockerfile: one [`Instruction`] per logical line, with the line
//! it starts on. Arguments are kept as written (variables not yet
//! substituted): substitution needs the build's ARG/ENV scope, which the
//! stage planner and the expander supply.

use super::lexer::{Directives, Heredoc};
use std::time::Duration;

/// A parsed Dockerfile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dockerfile {
    /// The file name used in errors.
    pub file: String,
    pub directives: Directives,
    pub instructions: Vec<Located>,
}

/// An instruction and where it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Located {
    /// 1-based line where the instruction starts.
    pub line: usize,
    /// The instruction as written after its keyword (continuations joined),
    /// for progress output, `ONBUILD` records and cache keys.
    pub text: String,
    pub instruction: Instruction,
}

/// A command in exec form (`["a", "b"]`) or shell form (`a b`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Exec(Vec<String>),
    Shell(String),
}

/// A source of COPY or ADD.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CopySource {
    /// A path or glob in the context (or in the `--from` stage/image), or a
    /// URL for ADD.
    Path(String),
    /// A heredoc: an inline file named after its delimiter.
    Inline(Heredoc),
}

/// COPY or ADD.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CopyArgs {
    pub sources: Vec<CopySource>,
    pub dest: String,
    pub from: Option<String>,
    pub chown: Option<String>,
    pub chmod: Option<String>,
    /// `--link`: accepted; the layer is built the same way.
    pub link: bool,
    /// `--exclude=` patterns.
    pub exclude: Vec<String>,
    /// ADD `--checksum=`.
    pub checksum: Option<String>,
    /// ADD `--keep-git-dir`.
    pub keep_git_dir: bool,
}

/// RUN.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunArgs {
    pub command: Command,
    /// Heredocs opened in the shell-form command.
    pub heredocs: Vec<Heredoc>,
    /// `--mount=` values as written (substituted, then parsed by
    /// [`super::mounts::RunMount::parse`]).
    pub mounts: Vec<String>,
    /// `--network=`: `default` (also when absent) or `none`.
    pub network: Option<String>,
    /// `--security=`: only `sandbox` is accepted.
    pub security: Option<String>,
}

/// HEALTHCHECK.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Healthcheck {
    /// `HEALTHCHECK NONE`: disable any inherited check.
    None,
    Check {
        command: Command,
        interval: Option<Duration>,
        timeout: Option<Duration>,
        start_period: Option<Duration>,
        start_interval: Option<Duration>,
        retries: Option<u32>,
    },
}

/// One Dockerfile instruction, arguments as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Instruction {
    From {
        image: String,
        /// `AS name`, lowercased.
        name: Option<String>,
        platform: Option<String>,
    },
    Run(RunArgs),
    Cmd(Command),
    Entrypoint(Command),
    Copy(CopyArgs),
    Add(CopyArgs),
    /// `ENV k=v …` (or the legacy `ENV k v`): values still to be processed.
    Env(Vec<(String, String)>),
    /// `ARG name[=default] …`.
    Arg(Vec<(String, Option<String>)>),
    Label(Vec<(String, String)>),
    Workdir(String),
    User(String),
    Expose(Vec<String>),
    Volume(Vec<String>),
    Healthcheck(Healthcheck),
    Stopsignal(String),
    Shell(Vec<String>),
    /// The trigger instruction and its text (what the image records).
    Onbuild(Box<Located>),
    /// Deprecated; sets the image's author.
    Maintainer(String),
}

impl Instruction {
    /// The keyword, upper-case, as errors name it.
    pub fn keyword(&self) -> &'static str {
        match self {
            Instruction::From { .. } => "FROM",
            Instruction::Run(_) => "RUN",
            Instruction::Cmd(_) => "CMD",
            Instruction::Entrypoint(_) => "ENTRYPOINT",
            Instruction::Copy(_) => "COPY",
            Instruction::Add(_) => "ADD",
            Instruction::Env(_) => "ENV",
            Instruction::Arg(_) => "ARG",
            Instruction::Label(_) => "LABEL",
            Instruction::Workdir(_) => "WORKDIR",
            Instruction::User(_) => "USER",
            Instruction::Expose(_) => "EXPOSE",
            Instruction::Volume(_) => "VOLUME",
            Instruction::Healthcheck(_) => "HEALTHCHECK",
            Instruction::Stopsignal(_) => "STOPSIGNAL",
            Instruction::Shell(_) => "SHELL",
            Instruction::Onbuild(_) => "ONBUILD",
            Instruction::Maintainer(_) => "MAINTAINER",
        }
    }
}
