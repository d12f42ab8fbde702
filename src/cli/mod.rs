//! The command-line edge: argument parsing, logging setup, and one module per
//! command. Errors carry context (`anyhow`) and are printed by `main`.

pub mod args;
mod config;
mod graph;
mod image;
mod network;
mod project;
mod version;

use args::{Cli, Command};
use clap::Parser;

/// Runs berth with the process arguments; returns the exit code.
pub fn run() -> anyhow::Result<i32> {
    let cli = Cli::parse_from(shadow_force_flag(std::env::args_os().collect()));
    init_tracing(cli.global.verbose);
    match &cli.command {
        Command::Config(args) => config::run(&cli.global, args),
        Command::Graph(args) => graph::run(&cli.global, args),
        Command::Version(args) => version::run(args),
        Command::Image(args) => image::run(&cli.global, &args.command),
        Command::Images(args) => image::list(&cli.global, args),
        Command::Pull(args) => image::pull(&cli.global, args),
        Command::Rmi(args) => image::remove(&cli.global, args),
        Command::Tag(args) => image::tag(&cli.global, args),
        Command::Network(args) => network::run(&cli.global, &args.command),
    }
}

/// `-f` is the global `--file` (as in `docker compose`), but after `rmi`,
/// `image rm`/`image remove` or `network rm`/`network prune` Docker users mean `--force`: clap cannot let a
/// subcommand shadow a global short flag, so the argument list is rewritten.
fn shadow_force_flag(mut args: Vec<std::ffi::OsString>) -> Vec<std::ffi::OsString> {
    let is = |i: usize, words: &[&str]| {
        args.get(i)
            .and_then(|a| a.to_str())
            .is_some_and(|a| words.contains(&a))
    };
    let start = (1..args.len()).find_map(|i| {
        if is(i, &["rmi"]) {
            Some(i + 1)
        } else if (is(i, &["image"]) && is(i + 1, &["rm", "remove"]))
            || (is(i, &["network"]) && is(i + 1, &["rm", "remove", "prune"]))
        {
            Some(i + 2)
        } else {
            None
        }
    });
    if let Some(start) = start {
        for arg in args.iter_mut().skip(start) {
            match arg.to_str() {
                Some("--") => break,
                Some("-f") => *arg = "--force".into(),
                _ => {}
            }
        }
    }
    args
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
