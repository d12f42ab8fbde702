//! Resolving the host paths a compose file mentions: relative to a base
//! directory (the project directory, or an extended/included file's own),
//! `~` to the user's home, and lexically cleaned as `docker compose` does.

use std::path::{Component, Path, PathBuf};

/// Turns relative paths into absolute ones against `base`.
#[derive(Debug, Clone)]
pub struct PathResolver {
    base: PathBuf,
    home: Option<PathBuf>,
    /// `config --no-path-resolution`: the model keeps paths as written
    /// (the loader still resolves what it reads itself).
    keep_as_written: bool,
}

impl PathResolver {
    pub fn new(base: impl Into<PathBuf>, home: Option<PathBuf>) -> Self {
        PathResolver {
            base: base.into(),
            home,
            keep_as_written: false,
        }
    }

    /// The same resolver, leaving the model's paths as written.
    pub fn keeping_paths_as_written(mut self, keep: bool) -> Self {
        self.keep_as_written = keep;
        self
    }

    /// A path value of the model: resolved, unless paths are kept as written.
    pub fn resolve_value(&self, text: &str) -> String {
        if self.keep_as_written {
            text.to_string()
        } else {
            self.resolve(text)
        }
    }

    pub fn base(&self) -> &Path {
        &self.base
    }

    /// A resolver for paths relative to another directory, same home.
    pub fn with_base(&self, base: impl Into<PathBuf>) -> Self {
        PathResolver {
            base: base.into(),
            home: self.home.clone(),
            keep_as_written: self.keep_as_written,
        }
    }

    /// Resolves `text` to an absolute, cleaned path (as a string).
    pub fn resolve(&self, text: &str) -> String {
        let expanded: PathBuf = if text == "~" {
            self.home.clone().unwrap_or_else(|| PathBuf::from("~"))
        } else if let Some(rest) = text.strip_prefix("~/") {
            match &self.home {
                Some(home) => home.join(rest),
                None => PathBuf::from(text),
            }
        } else {
            PathBuf::from(text)
        };
        if is_windows_path(text) || (expanded.is_absolute() && !text.starts_with('~')) {
            // Absolute paths are kept as written, as compose does.
            return text.to_string();
        }
        let joined = if expanded.is_absolute() {
            expanded
        } else {
            self.base.join(expanded)
        };
        clean(&joined).to_string_lossy().into_owned()
    }
}

/// `C:\x` or `C:/x`: a Windows drive path, kept as written.
fn is_windows_path(text: &str) -> bool {
    let b = text.as_bytes();
    b.len() >= 3 && b[0].is_ascii_alphabetic() && b[1] == b':' && (b[2] == b'\\' || b[2] == b'/')
}

/// Cleans a container path (`/a/b/` -> `/a/b`), as compose does for targets.
pub fn clean_container_path(text: &str) -> String {
    if text.is_empty() {
        return String::new();
    }
    clean(Path::new(text)).to_string_lossy().into_owned()
}

/// Lexically cleans a path: drops `.`, folds `..`, no trailing slash.
pub fn clean(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() && !out.has_root() {
                    out.push("..");
                }
            }
            other => out.push(other.as_os_str()),
        }
    }
    if out.as_os_str().is_empty() {
        out.push(".");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_relative_home_and_absolute() {
        let r = PathResolver::new("/proj", Some(PathBuf::from("/home/u")));
        assert_eq!(r.resolve("./data"), "/proj/data");
        let kept = r.clone().keeping_paths_as_written(true).with_base("/other");
        assert_eq!(kept.resolve_value("./data"), "./data");
        assert_eq!(kept.resolve("./data"), "/other/data");
        assert_eq!(r.resolve("."), "/proj");
        assert_eq!(r.resolve("../x/./y/"), "/x/y");
        assert_eq!(r.resolve("~/cfg"), "/home/u/cfg");
        assert_eq!(r.resolve("/abs/../etc/"), "/abs/../etc/");
        assert_eq!(r.resolve("C:\\docker"), "C:\\docker");
        assert_eq!(clean_container_path("/var/www/"), "/var/www");
    }
}
