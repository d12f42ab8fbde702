//! The final argv and environment of a container's process, combined from the
//! image config and the caller's overrides exactly as Docker does.

use crate::image::ResolvedImage;

use super::spec::ProcessSpec;

/// PATH Docker sets when neither the image nor the caller gives one.
pub const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// ENTRYPOINT + CMD: an overridden entrypoint drops the image's CMD unless a
/// command is given too; an empty result is an error for the caller to report.
pub fn argv(
    image_entrypoint: &[String],
    image_cmd: &[String],
    entrypoint: Option<&[String]>,
    command: Option<&[String]>,
) -> Vec<String> {
    let (entry, cmd): (&[String], &[String]) = match (entrypoint, command) {
        (Some(entry), Some(cmd)) => (entry, cmd),
        (Some(entry), None) => (entry, &[]),
        (None, Some(cmd)) => (image_entrypoint, cmd),
        (None, None) => (image_entrypoint, image_cmd),
    };
    entry.iter().chain(cmd).cloned().collect()
}

/// Merges `KEY=VALUE` lists: later keys replace earlier ones in place, new keys
/// are appended. An entry without `=` (`KEY`) is dropped, as Docker does for
/// variables unset in the caller's environment.
pub fn merge_env<'a>(layers: impl IntoIterator<Item = &'a [String]>) -> Vec<String> {
    let mut merged: Vec<String> = Vec::new();
    for layer in layers {
        for entry in layer {
            let Some((key, _)) = entry.split_once('=') else {
                continue;
            };
            match merged
                .iter_mut()
                .find(|existing| existing.split_once('=').map(|(k, _)| k) == Some(key))
            {
                Some(existing) => existing.clone_from(entry),
                None => merged.push(entry.clone()),
            }
        }
    }
    merged
}

/// Looks a variable up in a `KEY=VALUE` list.
pub fn env_value<'a>(env: &'a [String], key: &str) -> Option<&'a str> {
    env.iter()
        .rev()
        .find_map(|entry| entry.strip_prefix(key)?.strip_prefix('='))
}

/// The resolved process of a container, before user lookup (which needs the
/// container's own `/etc/passwd`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ResolvedProcess {
    pub args: Vec<String>,
    pub env: Vec<String>,
    pub working_dir: String,
    pub user: String,
}

/// Combines the image config with the caller's process spec.
pub fn resolve(image: &ResolvedImage, spec: &ProcessSpec, hostname: &str) -> ResolvedProcess {
    let config = image.config.config().as_ref();
    let list = |f: Option<&Vec<String>>| f.cloned().unwrap_or_default();
    let image_entrypoint = list(config.and_then(|c| c.entrypoint().as_ref()));
    let image_cmd = list(config.and_then(|c| c.cmd().as_ref()));
    let image_env = list(config.and_then(|c| c.env().as_ref()));
    let args = argv(
        &image_entrypoint,
        &image_cmd,
        spec.entrypoint.as_deref(),
        spec.command.as_deref(),
    );
    let base = vec![
        format!("PATH={DEFAULT_PATH}"),
        format!("HOSTNAME={hostname}"),
    ];
    let term = if spec.tty {
        vec!["TERM=xterm".to_string()]
    } else {
        Vec::new()
    };
    let env = merge_env([
        base.as_slice(),
        image_env.as_slice(),
        term.as_slice(),
        spec.env.as_slice(),
    ]);
    let working_dir = spec
        .working_dir
        .clone()
        .filter(|dir| !dir.is_empty())
        .or_else(|| config.and_then(|c| c.working_dir().clone()))
        .filter(|dir| !dir.is_empty())
        .unwrap_or_else(|| "/".to_string());
    let user = spec
        .user
        .clone()
        .filter(|user| !user.is_empty())
        .or_else(|| config.and_then(|c| c.user().clone()))
        .unwrap_or_default();
    ResolvedProcess {
        args,
        env,
        working_dir,
        user,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(items: &[&str]) -> Vec<String> {
        items.iter().map(|item| item.to_string()).collect()
    }

    #[test]
    fn argv_follows_docker_rules() {
        let entry = s(&["/entry.sh"]);
        let cmd = s(&["serve"]);
        assert_eq!(argv(&entry, &cmd, None, None), s(&["/entry.sh", "serve"]));
        assert_eq!(
            argv(&entry, &cmd, None, Some(&s(&["run"]))),
            s(&["/entry.sh", "run"])
        );
        // A new entrypoint drops the image's CMD.
        assert_eq!(argv(&entry, &cmd, Some(&s(&["sh"])), None), s(&["sh"]));
        assert_eq!(
            argv(&entry, &cmd, Some(&s(&["sh"])), Some(&s(&["-c", "x"]))),
            s(&["sh", "-c", "x"])
        );
        // An empty entrypoint clears it and leaves only the command.
        assert_eq!(argv(&entry, &cmd, Some(&[]), Some(&cmd)), s(&["serve"]));
        assert!(argv(&entry, &cmd, Some(&[]), None).is_empty());
    }

    #[test]
    fn env_later_wins_in_place() {
        let merged = merge_env([
            s(&["PATH=/bin", "A=1"]).as_slice(),
            s(&["A=2", "B=3", "UNSET"]).as_slice(),
        ]);
        assert_eq!(merged, s(&["PATH=/bin", "A=2", "B=3"]));
        assert_eq!(env_value(&merged, "A"), Some("2"));
        assert_eq!(env_value(&merged, "PAT"), None);
    }
}
