//! Which compose files make up the project, and its working directory:
//! `-f` files, `COMPOSE_FILE`, or the first `compose.yaml` (and friends)
//! found walking up from the working directory, plus its override file.

use super::error::ComposeError;
use std::path::{Path, PathBuf};

/// File names looked for, in order of preference.
pub const DEFAULT_FILE_NAMES: [&str; 4] = [
    "compose.yaml",
    "compose.yml",
    "docker-compose.yaml",
    "docker-compose.yml",
];

/// Override files loaded after the one found, in order of preference.
pub const OVERRIDE_FILE_NAMES: [&str; 4] = [
    "compose.override.yaml",
    "compose.override.yml",
    "docker-compose.override.yaml",
    "docker-compose.override.yml",
];

/// Finds the default compose file starting at `dir` and walking up, plus its
/// override file in the same directory.
pub fn find_default_files(dir: &Path) -> Result<Vec<PathBuf>, ComposeError> {
    let mut current = Some(dir);
    while let Some(d) = current {
        if let Some(found) = DEFAULT_FILE_NAMES
            .iter()
            .map(|n| d.join(n))
            .find(|p| p.is_file())
        {
            let mut files = vec![found];
            if let Some(over) = OVERRIDE_FILE_NAMES
                .iter()
                .map(|n| d.join(n))
                .find(|p| p.is_file())
            {
                files.push(over);
            }
            return Ok(files);
        }
        current = d.parent();
    }
    Err(ComposeError::NoConfigFile {
        dir: dir.to_path_buf(),
        candidates: DEFAULT_FILE_NAMES.join(", "),
    })
}

/// Splits `COMPOSE_FILE` on `COMPOSE_PATH_SEPARATOR` (default `:`).
pub fn split_compose_file_var(value: &str, separator: Option<&str>) -> Vec<PathBuf> {
    let sep = separator.filter(|s| !s.is_empty()).unwrap_or(":");
    value
        .split(sep)
        .filter(|s| !s.is_empty())
        .map(PathBuf::from)
        .collect()
}

/// Normalizes a directory name into a project name: lowercase, only
/// `[a-z0-9_-]`, starting with a letter or digit.
pub fn normalize_project_name(raw: &str) -> String {
    let lowered: String = raw
        .to_lowercase()
        .chars()
        .filter(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_' || *c == '-')
        .collect();
    lowered.trim_start_matches(['_', '-']).to_string()
}

/// Checks an explicitly given project name.
pub fn validate_project_name(name: &str) -> Result<(), String> {
    let mut chars = name.chars();
    let first_ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    let rest_ok =
        chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-');
    if first_ok && rest_ok {
        Ok(())
    } else {
        Err(format!(
            "invalid project name {name:?}: must consist only of lowercase alphanumeric characters, hyphens, and underscores as well as start with a letter or number"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_normalize_and_validate() {
        assert_eq!(normalize_project_name("My.App_1"), "myapp_1");
        assert_eq!(normalize_project_name("--x"), "x");
        assert!(validate_project_name("web-1_a").is_ok());
        assert!(validate_project_name("Web").is_err());
        assert!(validate_project_name("_x").is_err());
        assert!(validate_project_name("").is_err());
    }

    #[test]
    fn finds_files_walking_up_with_override() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("docker-compose.yml"), "services: {}").unwrap();
        std::fs::write(dir.path().join("compose.override.yaml"), "services: {}").unwrap();
        let sub = dir.path().join("a/b");
        std::fs::create_dir_all(&sub).unwrap();
        let files = find_default_files(&sub).unwrap();
        assert_eq!(
            files,
            vec![
                dir.path().join("docker-compose.yml"),
                dir.path().join("compose.override.yaml")
            ]
        );
    }

    #[test]
    fn compose_file_var_splits() {
        assert_eq!(
            split_compose_file_var("a.yaml:b.yaml", None),
            vec![PathBuf::from("a.yaml"), PathBuf::from("b.yaml")]
        );
        assert_eq!(split_compose_file_var("a.yaml;b.yaml", Some(";")).len(), 2);
    }
}
