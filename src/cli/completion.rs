//! Shell completion, through clap_complete's dynamic completion: `berth
//! completion bash|zsh|fish` prints a script that, on each TAB, runs
//! `BERTH_COMPLETE=<shell> berth -- <words>`; [`complete_if_asked`] answers
//! that from the clap definition, and service names come from the project
//! file the words name (`service_names.rs`).

use clap::CommandFactory;
use clap_complete::env::{Bash, EnvCompleter, Fish, Zsh};

use super::args::{Cli, CompletionArgs, Shell};

/// The variable the completion scripts set when they call berth.
const VAR: &str = "BERTH_COMPLETE";

/// Answers a completion request (and exits) when the shell made one.
pub fn complete_if_asked() {
    clap_complete::CompleteEnv::with_factory(Cli::command)
        .var(VAR)
        .complete();
}

/// `berth completion SHELL`.
pub fn run(args: &CompletionArgs) -> anyhow::Result<i32> {
    let shell: &dyn EnvCompleter = match args.shell {
        Shell::Bash => &Bash,
        Shell::Zsh => &Zsh,
        Shell::Fish => &Fish,
    };
    let mut script = Vec::new();
    shell.write_registration(VAR, "berth", "berth", "berth", &mut script)?;
    use std::io::Write;
    std::io::stdout().write_all(&script)?;
    Ok(0)
}
