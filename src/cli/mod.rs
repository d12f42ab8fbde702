//! The command-line edge: argument parsing, logging setup, and one module per
//! command. Errors carry context (`anyhow`) and are printed by `main`.

pub mod args;
mod config;
mod graph;
mod project;
mod version;

use args::{Cli, Command};
use clap::Parser;

/// Runs berth with the process arguments; returns the exit code.
pub fn run() -> anyhow::Result<i32> {
    let cli = Cli::parse();
    init_tracing(cli.global.verbose);
    match &cli.command {
        Command::Config(args) => config::run(&cli.global, args),
        Command::Graph(args) => graph::run(&cli.global, args),
        Command::Version(args) => version::run(args),
    }
}

/// Logs go to stderr; `-v`/`-vv` or `RUST_LOG` raise the level (default: warnings).
fn init_tracing(verbose: u8) {
    use tracing_subscriber::EnvFilter;
    let default = match verbose {
        0 => "warn",
        1 => "berth=debug,berth_runtime=debug,warn",
        _ => "trace",
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .without_time()
        .with_target(false)
        .try_init();
}
