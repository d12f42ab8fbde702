//! Shell completion, through clap_complete's dynamic completion: `berth
//! completion bash|zsh|fish` prints a script that, on each TAB, runs
//! `BERTH_COMPLETE=<shell> berth -- <words>`; [`complete_if_asked`] answers
//! that from the clap definition, and service names come from the project
//! file the words name (`-f`, `--project-directory`, `--env-file`,
//! `--profile`), loaded quietly.

use std::ffi::OsStr;
use std::path::PathBuf;

use clap::CommandFactory;
use clap_complete::env::{Bash, EnvCompleter, Fish, Zsh};
use clap_complete::CompletionCandidate;

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

/// The project's services starting with `current`.
pub fn complete_services(current: &OsStr) -> Vec<CompletionCandidate> {
    let words: Vec<String> = std::env::args().skip_while(|a| a != "--").skip(1).collect();
    let current = current.to_string_lossy();
    service_names(&words)
        .into_iter()
        .filter(|name| name.starts_with(current.as_ref()))
        .map(CompletionCandidate::new)
        .collect()
}

/// The services of the project the command line `words` (`berth -f a.yaml
/// logs …`) names; none when it does not load.
fn service_names(words: &[String]) -> Vec<String> {
    let Ok(cwd) = std::env::current_dir() else {
        return Vec::new();
    };
    let mut options = crate::compose::LoadOptions {
        files: Vec::new(),
        project_name: None,
        project_directory: None,
        env_files: Vec::new(),
        profiles: Vec::new(),
        services: Vec::new(),
        interpolate: true,
        keep_relative_paths: false,
        skip_normalization: false,
        process_env: std::env::vars().collect(),
        cwd,
        stdin: None,
    };
    // After the command word, `-f` and `-p` may mean something else
    // (`logs -f` follows): only the long forms count there.
    let mut after_command = false;
    let mut i = 1;
    while i < words.len() {
        let (flag, inline) = match words[i].split_once('=') {
            Some((flag, value)) if flag.starts_with("--") => (flag, Some(value.to_string())),
            _ => (words[i].as_str(), None),
        };
        let takes_value = match flag {
            "-f" | "-p" => !after_command,
            "--file" | "--project-name" | "--project-directory" | "--env-file" | "--profile" => {
                true
            }
            _ => {
                after_command |= !flag.starts_with('-');
                false
            }
        };
        let value = match (&inline, takes_value) {
            (Some(value), _) => Some(value.clone()),
            (None, true) => words.get(i + 1).cloned(),
            (None, false) => None,
        };
        if let Some(value) = value.filter(|_| takes_value) {
            match flag {
                "-f" | "--file" => options.files.push(PathBuf::from(value)),
                "-p" | "--project-name" => options.project_name = Some(value),
                "--project-directory" => options.project_directory = Some(PathBuf::from(value)),
                "--env-file" => options.env_files.push(PathBuf::from(value)),
                _ => options.profiles.push(value),
            }
            i += if inline.is_some() { 1 } else { 2 };
        } else {
            i += 1;
        }
    }
    // `-` (standard input) cannot be read while completing.
    options.files.retain(|f| f.as_os_str() != "-");
    crate::compose::load(&options)
        .map(|loaded| loaded.project.services.keys().cloned().collect())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_names_come_from_the_file_the_words_name() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("other.yaml");
        std::fs::write(
            &file,
            "services:\n  web: {image: a}\n  worker: {image: b}\n",
        )
        .unwrap();
        let words: Vec<String> = ["berth", "-f", file.to_str().unwrap(), "logs", "w"]
            .map(String::from)
            .to_vec();
        assert_eq!(service_names(&words), ["web", "worker"]);
        let words: Vec<String> = ["berth", &format!("--file={}", file.display()), "up"]
            .map(String::from)
            .to_vec();
        assert_eq!(service_names(&words), ["web", "worker"]);
        let words: Vec<String> = ["berth", "-f", file.to_str().unwrap(), "logs", "-f", "w"]
            .map(String::from)
            .to_vec();
        assert_eq!(service_names(&words), ["web", "worker"]);
        let nowhere = ["berth", "-f", "/nonexistent/compose.yaml", "up"].map(String::from);
        assert!(service_names(&nowhere).is_empty());
    }
}
