//! The service names a shell completes: those of the project file the
//! command line being completed names (`-f`, `--project-directory`,
//! `--env-file`, `--profile`), loaded quietly; nothing when it does not
//! load. `args.rs` attaches it to every service argument.

use std::ffi::OsStr;
use std::path::PathBuf;

use clap_complete::CompletionCandidate;

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
