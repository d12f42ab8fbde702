//! `.dockerignore` with Docker's semantics: one pattern per line, `#`
//! comments, patterns cleaned (`./a/` → `a`, leading `/` dropped), `*`,
//! `?`, `[...]` within a path component, `**` across components, a pattern
//! also excluding everything below a directory it matches, `!` exceptions
//! with the last matching line winning. `<Dockerfile>.dockerignore` next to
//! the Dockerfile takes precedence over the context's `.dockerignore`.
//! The context walk lists what COPY/ADD may take, not descending into an
//! excluded directory unless an exception could match inside it; the
//! Dockerfile and the ignore file are always sent (the build reads them)
//! even when the patterns keep them from COPY.

use super::glob::{match_components, BadPattern};
use std::collections::BTreeSet;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

/// One pattern line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IgnorePattern {
    /// The cleaned pattern, without `!`.
    pub pattern: String,
    /// `!pattern`: re-includes what earlier lines excluded.
    pub exception: bool,
    components: Vec<String>,
}

/// The patterns of an ignore file, in order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IgnoreRules {
    pub patterns: Vec<IgnorePattern>,
}

/// Where the rules came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadedRules {
    pub rules: IgnoreRules,
    /// The file read (`None`: there was none).
    pub file: Option<PathBuf>,
}

/// A bad ignore file: which file, which line, what is wrong.
#[derive(Debug, thiserror::Error)]
pub enum IgnoreError {
    #[error("{file}:{line}: {source}")]
    Pattern {
        file: String,
        line: usize,
        source: BadPattern,
    },
    #[error("reading {path}: {source}")]
    Io { path: String, source: io::Error },
}

impl IgnoreRules {
    /// Parses an ignore file's text; `file` names it in errors.
    pub fn parse(file: &str, text: &str) -> Result<IgnoreRules, IgnoreError> {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let mut patterns = Vec::new();
        for (i, raw) in text.lines().enumerate() {
            if raw.starts_with('#') {
                continue;
            }
            let mut line = raw.trim();
            if line.is_empty() {
                continue;
            }
            let exception = line.starts_with('!');
            if exception {
                line = line[1..].trim();
                if line.is_empty() {
                    continue;
                }
            }
            let mut pattern = clean(line);
            if pattern.len() > 1 && pattern.starts_with('/') {
                pattern.remove(0);
            }
            let components: Vec<String> = pattern.split('/').map(String::from).collect();
            // Validate each component now, so a bad line is reported once.
            for c in &components {
                if c != "**" {
                    super::glob::match_component(c, "").map_err(|source| IgnoreError::Pattern {
                        file: file.to_string(),
                        line: i + 1,
                        source,
                    })?;
                }
            }
            patterns.push(IgnorePattern {
                pattern,
                exception,
                components,
            });
        }
        Ok(IgnoreRules { patterns })
    }

    /// The rules for a build: `<dockerfile>.dockerignore` beside the
    /// Dockerfile if it exists, else `<context>/.dockerignore`, else none.
    pub fn for_build(context: &Path, dockerfile: &Path) -> Result<LoadedRules, IgnoreError> {
        let mut candidates = Vec::new();
        if let Some(name) = dockerfile.file_name() {
            let mut specific = name.to_os_string();
            specific.push(".dockerignore");
            candidates.push(dockerfile.with_file_name(specific));
        }
        candidates.push(context.join(".dockerignore"));
        for candidate in candidates {
            match fs::read_to_string(&candidate) {
                Ok(text) => {
                    let rules = IgnoreRules::parse(&candidate.display().to_string(), &text)?;
                    return Ok(LoadedRules {
                        rules,
                        file: Some(candidate),
                    });
                }
                Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                Err(source) => {
                    return Err(IgnoreError::Io {
                        path: candidate.display().to_string(),
                        source,
                    })
                }
            }
        }
        Ok(LoadedRules {
            rules: IgnoreRules::default(),
            file: None,
        })
    }

    /// Whether `path` (relative to the context, `/`-separated) is excluded.
    pub fn is_excluded(&self, path: &str) -> bool {
        let parts: Vec<&str> = path
            .split('/')
            .filter(|p| !p.is_empty() && *p != ".")
            .collect();
        let mut excluded = false;
        for p in &self.patterns {
            // Only a line that could change the verdict needs evaluating.
            if p.exception != excluded {
                continue;
            }
            let hit = (1..=parts.len())
                .any(|k| match_components(&p.components, &parts[..k]).unwrap_or(false));
            if hit {
                excluded = !p.exception;
            }
        }
        excluded
    }

    /// Whether an exception could re-include something below the excluded
    /// directory `dir`, so the walk must look inside.
    pub fn exception_may_match_below(&self, dir: &str) -> bool {
        let parts: Vec<&str> = dir.split('/').filter(|p| !p.is_empty()).collect();
        self.patterns.iter().filter(|p| p.exception).any(|p| {
            for (i, d) in parts.iter().enumerate() {
                let Some(c) = p.components.get(i) else {
                    return false;
                };
                if c == "**" {
                    return true;
                }
                if !super::glob::match_component(c, d).unwrap_or(false) {
                    return false;
                }
            }
            p.components.len() > parts.len()
        })
    }
}

/// `filepath.Clean` for `/`-separated patterns.
fn clean(path: &str) -> String {
    let rooted = path.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                if parts.last().is_some_and(|l| *l != "..") {
                    parts.pop();
                } else if !rooted {
                    parts.push("..");
                }
            }
            p => parts.push(p),
        }
    }
    let joined = parts.join("/");
    match (rooted, joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) => ".".into(),
        (false, false) => joined,
    }
}

/// The build context as the builder sees it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ContextFiles {
    /// Everything COPY/ADD may take: files, directories and symlinks,
    /// relative to the context, sorted. Symlinks are not followed.
    pub included: Vec<PathBuf>,
    /// The directories among `included`.
    pub dirs: BTreeSet<PathBuf>,
    /// The Dockerfile and ignore file when they are inside the context:
    /// always sent, even when excluded from `included`.
    pub always_sent: Vec<PathBuf>,
}

/// Walks `context`, applying `rules`. `control_files` are the Dockerfile and
/// the ignore file (absolute or relative to the context).
pub fn walk_context(
    context: &Path,
    rules: &IgnoreRules,
    control_files: &[PathBuf],
) -> io::Result<ContextFiles> {
    let mut included = Vec::new();
    let mut dirs = BTreeSet::new();
    walk_dir(context, Path::new(""), rules, &mut included, &mut dirs)?;
    included.sort();
    let mut always_sent = Vec::new();
    for file in control_files {
        let relative = if file.is_absolute() {
            match file.strip_prefix(context) {
                Ok(r) => r.to_path_buf(),
                Err(_) => continue,
            }
        } else {
            file.clone()
        };
        if context.join(&relative).exists() && !always_sent.contains(&relative) {
            always_sent.push(relative);
        }
    }
    always_sent.sort();
    Ok(ContextFiles {
        included,
        dirs,
        always_sent,
    })
}

fn walk_dir(
    root: &Path,
    relative: &Path,
    rules: &IgnoreRules,
    out: &mut Vec<PathBuf>,
    dirs: &mut BTreeSet<PathBuf>,
) -> io::Result<()> {
    let mut entries: Vec<fs::DirEntry> =
        fs::read_dir(root.join(relative))?.collect::<Result<_, _>>()?;
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let rel = relative.join(entry.file_name());
        let text = rel.to_string_lossy().into_owned();
        let excluded = rules.is_excluded(&text);
        let is_dir = entry.file_type()?.is_dir();
        if is_dir {
            if excluded && !rules.exception_may_match_below(&text) {
                continue;
            }
            if !excluded {
                out.push(rel.clone());
                dirs.insert(rel.clone());
            }
            walk_dir(root, &rel, rules, out, dirs)?;
        } else if !excluded {
            out.push(rel);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;
