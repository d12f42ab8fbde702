//! The `docker compose` command line against berth's: every compose command
//! and flag (listed in `compose_cli.txt`, read from docker compose's own
//! help) with berth's answer, and berth's own additions. Which flags berth
//! takes comes from its clap definition, so a flag added there moves to
//! "supported" in the table by itself.

use clap::CommandFactory;

use super::Support::{self, Refused, Supported, Warned};
use crate::cli::args::Cli;

/// docker compose's commands and flags.
const COMPOSE_CLI: &str = include_str!("compose_cli.txt");

/// Commands berth does not have, and what to do instead.
const MISSING_COMMANDS: &[(&str, &str)] = &[
    (
        "build",
        "berth does not build images: build elsewhere, then `berth image load` the archive",
    ),
    ("push", "berth does not push images"),
    ("watch", "berth has no `watch` command yet"),
];

/// How `exec`, `run` and `attach` treat terminals (a section of the
/// generated document).
pub const TERMINAL_NOTES: &str = "\
### Terminals: `exec`, `run`, `attach`

- `exec` and `run` allocate a pseudo-TTY when both stdin and stdout are terminals, as
  docker compose does; `-T`/`--no-TTY` disables it. `-i`/`--interactive` and `-t`/`--tty`
  are accepted (`exec -it`, `run --rm -it`): they are the defaults. When stdin is not a
  terminal (a pipe, `/dev/null`, CI), no pty is allocated even without `-T`: the command's
  stdin, stdout and stderr are plain streams and its exit code is returned.
- With a pty, the local terminal is in raw mode while attached (restored on every way
  out: the end of the program, the detach keys, SIGTERM or SIGHUP), the pty starts with
  the terminal's size and follows it on every SIGWINCH (`stty size`, `vi`, `top` work).
- `run` attaches before the container's program starts: no output is missed, the
  prompt of an interactive shell shows at once.
- `attach SERVICE` attaches to the running container (`--index`): its output from now on,
  stdin when it has `stdin_open` (not with `--no-stdin`), the window size when it has
  `tty`. The detach keys (`--detach-keys`, default `ctrl-p,ctrl-q`) leave it running
  (exit code 0); otherwise `attach` ends with the program and returns its exit code.
  Without a TTY, `--sig-proxy` (default true) passes SIGINT, SIGTERM and SIGHUP on to the
  container; `run` does so too.
";

/// Flags berth takes but refuses or ignores at run time.
const FLAG_EXCEPTIONS: &[(&str, &str, Support)] = &[
    (
        "",
        "--parallel",
        Warned("berth chooses its own parallelism (independent steps all run at once)"),
    ),
    (
        "",
        "--compatibility",
        Warned("berth always names containers as compose v2 does (`project-service-1`); `config` takes it as `--no-normalize`, as docker compose does"),
    ),
    (
        "",
        "--all-resources",
        Warned("berth makes only the networks and volumes services use"),
    ),
    ("up", "--build", Refused(NO_BUILD)),
    ("create", "--build", Refused(NO_BUILD)),
];

const NO_BUILD: &str =
    "berth does not build images; build elsewhere, then `berth image load` the archive";

/// What berth does with flags docker compose has and berth does not.
const MISSING_FLAG: Support =
    Refused("berth stops with \"unexpected argument\" (exit code 2) before doing anything");

/// One row of the command-line table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CliRow {
    /// The command (`up`, `network ls`); empty for the global options.
    pub command: String,
    /// The flag (`--detach`); `None` for the command itself.
    pub flag: Option<String>,
    pub support: Support,
    /// Whether docker compose has it (`false`: a berth addition).
    pub in_compose: bool,
}

/// Every command and flag of docker compose and of berth.
pub fn cli_rows() -> Vec<CliRow> {
    let berth = Cli::command();
    let mut rows = Vec::new();
    let mut compose_commands = Vec::new();
    for line in COMPOSE_CLI.lines().filter(|l| !l.starts_with('#')) {
        let mut words = line.split_whitespace();
        let Some(command) = words.next() else {
            continue;
        };
        let flags: Vec<&str> = words.collect();
        let (name, ours) = if command == "-" {
            (String::new(), Some(&berth))
        } else {
            compose_commands.push(command.to_string());
            (command.to_string(), berth.find_subcommand(command))
        };
        if !name.is_empty() {
            let support = match ours {
                Some(_) => Supported,
                None => Refused(
                    MISSING_COMMANDS
                        .iter()
                        .find(|(c, _)| *c == command)
                        .map_or("berth has no such command", |(_, why)| why),
                ),
            };
            rows.push(CliRow {
                command: name.clone(),
                flag: None,
                support,
                in_compose: true,
            });
        }
        let Some(ours) = ours else { continue };
        let mut theirs = Vec::new();
        for flag in flags {
            theirs.push(flag.trim_start_matches('-').to_string());
            rows.push(CliRow {
                command: name.clone(),
                flag: Some(flag.to_string()),
                support: flag_support(ours, &name, flag),
                in_compose: true,
            });
        }
        for flag in long_flags(ours) {
            if !theirs.contains(&flag) {
                rows.push(CliRow {
                    command: name.clone(),
                    flag: Some(format!("--{flag}")),
                    support: flag_support(ours, &name, &format!("--{flag}")),
                    in_compose: false,
                });
            }
        }
    }
    for sub in berth.get_subcommands() {
        let name = sub.get_name();
        if compose_commands.iter().any(|c| c == name) || name == "help" {
            continue;
        }
        rows.push(CliRow {
            command: name.to_string(),
            flag: None,
            support: Supported,
            in_compose: false,
        });
        for inner in sub.get_subcommands().filter(|s| s.get_name() != "help") {
            rows.push(CliRow {
                command: format!("{name} {}", inner.get_name()),
                flag: None,
                support: Supported,
                in_compose: false,
            });
        }
    }
    rows
}

fn flag_support(command: &clap::Command, name: &str, flag: &str) -> Support {
    if let Some((_, _, support)) = FLAG_EXCEPTIONS
        .iter()
        .find(|(c, f, _)| *c == name && *f == flag)
    {
        return *support;
    }
    let long = flag.trim_start_matches('-');
    if long_flags(command).iter().any(|f| f == long) {
        Supported
    } else {
        MISSING_FLAG
    }
}

/// A command's own long flags (the global ones are the top level's).
fn long_flags(command: &clap::Command) -> Vec<String> {
    command
        .get_arguments()
        .filter(|a| !a.is_hide_set())
        .filter_map(|a| a.get_long().map(str::to_string))
        .filter(|l| l != "help" && l != "version")
        .collect()
}

/// Why a flag berth accepts is ignored (`command` empty for a global flag).
pub fn warned_flag(command: &str, flag: &str) -> Option<&'static str> {
    FLAG_EXCEPTIONS
        .iter()
        .find_map(|(c, f, support)| match support {
            Warned(why) if *c == command && *f == flag => Some(*why),
            _ => None,
        })
}

/// The refusal message for a docker compose command berth does not have.
pub fn missing_command(word: &str) -> Option<&'static str> {
    MISSING_COMMANDS
        .iter()
        .find(|(c, _)| *c == word)
        .map(|(_, why)| *why)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_compose_command_has_an_answer() {
        let rows = cli_rows();
        let commands: Vec<&CliRow> = rows.iter().filter(|r| r.flag.is_none()).collect();
        assert!(commands.len() >= 30, "{}", commands.len());
        let up = rows
            .iter()
            .find(|r| r.command == "up" && r.flag.as_deref() == Some("--detach"))
            .unwrap();
        assert_eq!(up.support, Supported);
        let build = rows.iter().find(|r| r.command == "build").unwrap();
        assert!(matches!(build.support, Refused(m) if m.contains("does not build")));
        for (command, _) in MISSING_COMMANDS {
            assert!(
                Cli::command().find_subcommand(command).is_none(),
                "berth has `{command}` now: take it out of MISSING_COMMANDS"
            );
        }
        for (command, flag, _) in FLAG_EXCEPTIONS {
            let ours = Cli::command();
            let sub = if command.is_empty() {
                &ours
            } else {
                ours.find_subcommand(command).expect("a berth command")
            };
            assert!(
                long_flags(sub).iter().any(|f| *f == flag[2..]),
                "{command} {flag} is not a berth flag"
            );
        }
    }
}
