//! What a command needs of the user before it starts: commands that make,
//! change or enter containers, images, networks and volumes need root;
//! commands that only read berth's state need to read the state root (root's
//! alone, mode 0700). Without it they say so in one line instead of a bare
//! "Permission denied" halfway, or an empty table.

use std::path::Path;

use super::args::{Command, ImageCommand, NetworkCommand, VolumeCommand};

/// What a command needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// It changes state or enters namespaces: `up`, `down`, `exec`, …
    Root,
    /// It reads the state root: `ps`, `ls`, `logs`, …
    ReadState,
    /// Nothing: `config`, `version`, `completion`, …
    Nothing,
}

/// The command's name as typed (`up`, `image ls`) and what it needs.
pub fn need(command: &Command) -> (&'static str, Need) {
    use Need::*;
    match command {
        Command::Up(_) => ("up", Root),
        Command::Exec(_) => ("exec", Root),
        Command::Run(_) => ("run", Root),
        Command::Create(_) => ("create", Root),
        Command::Pause(_) => ("pause", Root),
        Command::Unpause(_) => ("unpause", Root),
        Command::Down(_) => ("down", Root),
        Command::Start(_) => ("start", Root),
        Command::Stop(_) => ("stop", Root),
        Command::Restart(_) => ("restart", Root),
        Command::Kill(_) => ("kill", Root),
        Command::Rm(_) => ("rm", Root),
        Command::Pull(_) => ("pull", Root),
        Command::Rmi(_) => ("rmi", Root),
        Command::Tag(_) => ("tag", Root),
        Command::Attach(_) => ("attach", Root),
        Command::Cp(_) => ("cp", Root),
        Command::Scale(_) => ("scale", Root),
        Command::Stats(_) => ("stats", ReadState),
        Command::Top(_) => ("top", ReadState),
        Command::Ls(_) => ("ls", ReadState),
        Command::Wait(_) => ("wait", ReadState),
        Command::Events(_) => ("events", ReadState),
        Command::Port(_) => ("port", ReadState),
        Command::Inspect(_) => ("inspect", ReadState),
        Command::Ps(_) => ("ps", ReadState),
        Command::Logs(_) => ("logs", ReadState),
        Command::Images(_) => ("images", ReadState),
        Command::Image(args) => match args.command {
            ImageCommand::Load(_) => ("image load", Root),
            ImageCommand::Import(_) => ("image import", Root),
            ImageCommand::Rm(_) => ("image rm", Root),
            ImageCommand::Pull(_) => ("image pull", Root),
            ImageCommand::Tag(_) => ("image tag", Root),
            ImageCommand::Ls(_) => ("image ls", ReadState),
            ImageCommand::Inspect(_) => ("image inspect", ReadState),
        },
        Command::Volume(args) => match args.command {
            VolumeCommand::Create(_) => ("volume create", Root),
            VolumeCommand::Rm(_) => ("volume rm", Root),
            VolumeCommand::Prune(_) => ("volume prune", Root),
            VolumeCommand::Ls(_) => ("volume ls", ReadState),
            VolumeCommand::Inspect(_) => ("volume inspect", ReadState),
        },
        Command::Network(args) => match args.command {
            NetworkCommand::Create(_) => ("network create", Root),
            NetworkCommand::Rm(_) => ("network rm", Root),
            NetworkCommand::Prune(_) => ("network prune", Root),
            NetworkCommand::Ls(_) => ("network ls", ReadState),
            NetworkCommand::Inspect(_) => ("network inspect", ReadState),
        },
        Command::Config(_) => ("config", Nothing),
        Command::Graph(_) => ("graph", Nothing),
        Command::Version(_) => ("version", Nothing),
        Command::Completion(_) => ("completion", Nothing),
    }
}

/// Why the command cannot run as this user, in one line; `None` when it can.
pub fn refusal(command: &Command, root: &Path) -> Option<String> {
    let (name, need) = need(command);
    let is_root = nix::unistd::geteuid().is_root();
    match need {
        Need::Root if !is_root => Some(format!(
            "berth needs root: `berth {name}` makes and changes containers, images, networks \
             and mounts; run it as root (sudo berth {name})"
        )),
        Need::ReadState if !is_root => unreadable(root).map(|why| {
            format!(
                "error: cannot read the state root {} ({why}): berth keeps its state \
                 readable by root alone; run it as root (sudo berth {name})",
                root.display()
            )
        }),
        _ => None,
    }
}

/// Why `root` cannot be listed; `None` when it can or does not exist yet
/// (then there is simply nothing in it).
fn unreadable(root: &Path) -> Option<String> {
    match std::fs::read_dir(root) {
        Ok(_) => None,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => None,
        Err(err) if err.kind() == std::io::ErrorKind::PermissionDenied => {
            Some("permission denied".into())
        }
        Err(err) => Some(err.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_root_is_empty_and_a_file_is_not_a_root() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(unreadable(dir.path()), None);
        assert_eq!(unreadable(&dir.path().join("none")), None);
        let file = dir.path().join("file");
        std::fs::write(&file, "").unwrap();
        assert!(unreadable(&file).is_some());
    }

    #[test]
    fn changing_commands_need_root_and_readers_the_state() {
        use clap::Parser;
        let parse = |line: &str| super::super::args::Cli::parse_from(line.split(' ')).command;
        assert_eq!(need(&parse("berth up -d")), ("up", Need::Root));
        assert_eq!(need(&parse("berth ps")), ("ps", Need::ReadState));
        assert_eq!(
            need(&parse("berth network create n")),
            ("network create", Need::Root)
        );
        assert_eq!(need(&parse("berth config")), ("config", Need::Nothing));
    }
}
