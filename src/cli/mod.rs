//! The command-line edge: argument parsing, logging setup, and one module per
//! command. Errors carry context (`anyhow`) and are printed by `main`.

mod access;
pub mod args;
mod attach;
mod completion;
mod config;
mod console;
mod cp;
mod down_images;
mod events;
mod exec;
mod graph;
mod image;
mod inspect;
mod lifecycle;
pub mod lock;
mod log_prefix;
mod logs;
mod ls;
mod network;
mod port;
mod progress;
mod project;
mod ps;
pub(crate) mod pull_policy;
mod restart_deps;
mod run;
mod scale;
mod service_names;
mod stats;
mod template;
mod top;
mod up;
mod version;
mod volume;

use args::{Cli, Command};
use clap::Parser;

/// Runs berth with the process arguments; returns the exit code.
pub fn run() -> anyhow::Result<i32> {
    completion::complete_if_asked();
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    if let Some(word) = command_word(&args).and_then(|i| args[i].to_str()) {
        if let Some(why) = crate::compat::commands::missing_command(word) {
            anyhow::bail!("`docker compose {word}` has no berth equivalent: {why}");
        }
    }
    let cli = Cli::parse_from(shadow_force_flag(args));
    init_tracing(cli.global.verbose);
    for (used, flag) in [
        (cli.global.parallel.is_some(), "--parallel"),
        (cli.global.compatibility, "--compatibility"),
        (cli.global.all_resources, "--all-resources"),
    ] {
        if let (true, Some(why)) = (used, crate::compat::commands::warned_flag("", flag)) {
            eprintln!("warning: {flag} is ignored: {why}");
        }
    }
    progress::set_mode(&cli.global.progress, &cli.global.ansi)?;
    // A state root or run directory an earlier berth left open to every
    // user (0755, config.json 0644) is made private before anything else.
    match berth_runtime::state_root::secure(&cli.global.root, &lock::run_dir()) {
        Ok(()) => {}
        // Not root: the command fails later with a clearer error, or needs no state.
        Err(err) if err.kind() == std::io::ErrorKind::PermissionDenied => {
            tracing::debug!("making {} private: {err}", cli.global.root.display())
        }
        Err(err) => tracing::warn!("making {} private: {err}", cli.global.root.display()),
    }
    if let Some(refusal) = access::refusal(&cli.command, &cli.global.root) {
        eprintln!("{refusal}");
        return Ok(1);
    }
    let result = dispatch(&cli);
    progress::finish();
    result
}

fn dispatch(cli: &Cli) -> anyhow::Result<i32> {
    match &cli.command {
        Command::Ps(args) => ps::run(&cli.global, args),
        Command::Up(args) => up::run(&cli.global, args),
        Command::Exec(args) => exec::run(&cli.global, args),
        Command::Attach(args) => attach::run(&cli.global, args),
        Command::Run(args) => run::run(&cli.global, args),
        Command::Create(args) => up::create(&cli.global, args),
        Command::Pause(args) => lifecycle::pause(&cli.global, args, true),
        Command::Unpause(args) => lifecycle::pause(&cli.global, args, false),
        Command::Top(args) => top::run(&cli.global, args),
        Command::Ls(args) => ls::run(&cli.global, args),
        Command::Wait(args) => lifecycle::wait(&cli.global, args),
        Command::Events(args) => events::run(&cli.global, args),
        Command::Port(args) => port::run(&cli.global, args),
        Command::Inspect(args) => inspect::run(&cli.global, args),
        Command::Volume(args) => volume::run(&cli.global, &args.command),
        Command::Down(args) => lifecycle::down(&cli.global, args),
        Command::Start(args) => lifecycle::start(&cli.global, args),
        Command::Stop(args) => lifecycle::stop(&cli.global, args),
        Command::Restart(args) => lifecycle::restart(&cli.global, args),
        Command::Cp(args) => cp::run(&cli.global, args),
        Command::Stats(args) => stats::run(&cli.global, args),
        Command::Scale(args) => scale::run(&cli.global, args),
        Command::Kill(args) => lifecycle::kill(&cli.global, args),
        Command::Rm(args) => lifecycle::rm(&cli.global, args),
        Command::Logs(args) => logs::run(&cli.global, args),
        Command::Config(args) => config::run(&cli.global, args),
        Command::Graph(args) => graph::run(&cli.global, args),
        Command::Version(args) => version::run(args),
        Command::Image(args) => image::run(&cli.global, &args.command),
        Command::Images(args) => image::images(&cli.global, args),
        Command::Pull(args) => image::pull(&cli.global, args),
        Command::Rmi(args) => image::remove(&cli.global, args),
        Command::Tag(args) => image::tag(&cli.global, args),
        Command::Network(args) => network::run(&cli.global, &args.command),
        Command::Completion(args) => completion::run(args),
    }
}

/// `-f` is the global `--file` and `-v` the global `--verbose`, but after some
/// subcommands Docker users mean something else (`logs -f` follows, `rmi -f`
/// forces, `down -v` removes volumes): clap cannot let a subcommand shadow a
/// global short flag, so those flags after those subcommand names are
/// rewritten to the long option they mean.
const SHADOWED: &[(&[&str], &str, &str)] = &[
    (&["rmi"], "-f", "--force"),
    (&["image", "rm"], "-f", "--force"),
    (&["image", "remove"], "-f", "--force"),
    (&["logs"], "-f", "--follow"),
    (&["rm"], "-f", "--force"),
    (&["rm"], "-v", "--volumes"),
    (&["down"], "-v", "--volumes"),
    (&["volume", "rm"], "-f", "--force"),
    (&["volume", "prune"], "-f", "--force"),
    (&["network", "prune"], "-f", "--force"),
    (&["network", "rm"], "-f", "--force"),
    (&["run"], "-v", "--volume"),
    (&["run"], "-p", "--publish"),
    (&["inspect"], "-f", "--format"),
];

/// Options of `run` that take a value: the rewriting above stops at its
/// first positional argument (the service), since what follows is the
/// user's command, whose own `-v` must reach it untouched.
const RUN_VALUE_OPTIONS: &[&str] = &[
    "--name",
    "--entrypoint",
    "-e",
    "--env",
    "-l",
    "--label",
    "-u",
    "--user",
    "-w",
    "--workdir",
    "-v",
    "--volume",
    "-p",
    "--publish",
    "--pull",
];

/// Where the command word is: after the global options and their values.
fn command_word(args: &[std::ffi::OsString]) -> Option<usize> {
    let mut i = 1;
    while let Some(arg) = args.get(i).and_then(|a| a.to_str()) {
        if !arg.starts_with('-') {
            return Some(i);
        }
        let takes_value = matches!(
            arg,
            "-f" | "--file"
                | "-p"
                | "--project-name"
                | "--project-directory"
                | "--env-file"
                | "--profile"
                | "--progress"
                | "--ansi"
                | "--root"
                | "--parallel"
        );
        i += if takes_value { 2 } else { 1 };
    }
    None
}

fn shadow_force_flag(mut args: Vec<std::ffi::OsString>) -> Vec<std::ffi::OsString> {
    let word = |args: &[std::ffi::OsString], i: usize| {
        args.get(i).and_then(|a| a.to_str().map(str::to_string))
    };
    let Some(i) = command_word(&args) else {
        return args;
    };
    let at = |path: &[&str]| {
        path.iter()
            .enumerate()
            .all(|(k, expected)| word(&args, i + k).as_deref() == Some(*expected))
    };
    let rules: Vec<(usize, &str, &str)> = SHADOWED
        .iter()
        .filter(|(path, _, _)| at(path))
        .map(|(path, short, long)| (path.len(), *short, *long))
        .collect();
    let stops_at_positional = at(&["run"]);
    for (skip, short, long) in rules {
        let mut after_value_option = false;
        for arg in args.iter_mut().skip(i + skip) {
            let text = arg.to_str().unwrap_or_default().to_string();
            if stops_at_positional && !after_value_option && !text.starts_with('-') {
                break;
            }
            after_value_option = stops_at_positional && RUN_VALUE_OPTIONS.contains(&text.as_str());
            match text.as_str() {
                "--" => break,
                a if a == short => *arg = long.into(),
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

#[cfg(test)]
mod tests {
    use super::shadow_force_flag;

    fn rewrite(line: &str) -> String {
        let args = line.split(' ').map(std::ffi::OsString::from).collect();
        shadow_force_flag(args)
            .iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join(" ")
    }

    #[test]
    fn the_command_line_definition_is_consistent() {
        use clap::CommandFactory;
        super::args::Cli::command().debug_assert();
    }

    #[test]
    fn run_options_but_not_the_users_command_are_rewritten() {
        assert_eq!(
            rewrite("berth run -v ./a:/a -p 80 --name x app ls -v -p"),
            "berth run --volume ./a:/a --publish 80 --name x app ls -v -p"
        );
        assert_eq!(
            rewrite("berth -p proj run --rm app sh -c 'x -v'"),
            "berth -p proj run --rm app sh -c 'x -v'"
        );
    }

    #[test]
    fn dash_f_after_a_subcommand_means_what_docker_means() {
        assert_eq!(
            rewrite("berth -f a.yaml logs -f web"),
            "berth -f a.yaml logs --follow web"
        );
        assert_eq!(
            rewrite("berth --root /r rmi -f img"),
            "berth --root /r rmi --force img"
        );
        assert_eq!(
            rewrite("berth image rm -f img"),
            "berth image rm --force img"
        );
        assert_eq!(
            rewrite("berth -f a.yaml config -f b.yaml"),
            "berth -f a.yaml config -f b.yaml"
        );
        assert_eq!(rewrite("berth logs -- -f"), "berth logs -- -f");
        assert_eq!(
            rewrite("berth inspect -f {{.Id}} web"),
            "berth inspect --format {{.Id}} web"
        );
        assert_eq!(rewrite("berth -v down -v"), "berth -v down --volumes");
        assert_eq!(
            rewrite("berth rm -f -v -s"),
            "berth rm --force --volumes -s"
        );
    }
}
