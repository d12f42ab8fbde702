//! Which context files a COPY/ADD takes and where each lands: sources
//! cleaned (a leading `/` or `./` is relative to the context; `..` may not
//! leave it), globs matched per path component (`*`, `?`, `[...]`, `**`),
//! a directory source copying its contents rather than itself, a file
//! landing at `dest` or, when `dest` ends in `/` or there are several
//! sources, at `dest/<name>`. Also spots local archives ADD extracts.

use super::dockerfile::error::Problem;
use super::dockerfile::expand::clean_path;
use super::dockerignore::ContextFiles;
use super::glob::{has_meta, match_components};
use std::path::{Path, PathBuf};

/// One entry to copy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CopyItem {
    /// Relative to the context.
    pub source: PathBuf,
    /// Absolute path in the image.
    pub dest: String,
    pub is_dir: bool,
}

/// Maps `sources` (as substituted) onto `dest` (absolute; a trailing `/`
/// kept) over the files the context offers.
pub fn plan_copy(
    context: &ContextFiles,
    sources: &[String],
    dest: &str,
) -> Result<Vec<CopyItem>, Problem> {
    let dest_is_dir = dest.ends_with('/');
    let dest_root = dest.trim_end_matches('/');
    let mut tops: Vec<PathBuf> = Vec::new();
    for source in sources {
        let parts = clean_source(source)?;
        if parts.is_empty() {
            // `.`: the whole context, as the contents of its root.
            tops.push(PathBuf::new());
            continue;
        }
        let found: Vec<PathBuf> = if parts.iter().any(|p| has_meta(p) || p == "**") {
            let mut hits: Vec<PathBuf> = Vec::new();
            for path in &context.included {
                let comps: Vec<&str> = path.iter().filter_map(|c| c.to_str()).collect();
                if match_components(&parts, &comps).map_err(|e| e.to_string())?
                    && !hits.iter().any(|h| path.starts_with(h))
                {
                    hits.push(path.clone());
                }
            }
            if hits.is_empty() {
                return Err(format!(
                    "no files in the build context match '{source}' (or .dockerignore excludes them)"
                ));
            }
            hits
        } else {
            let path: PathBuf = parts.iter().collect();
            if !context.included.contains(&path) {
                return Err(format!(
                    "'{source}' is not in the build context (or .dockerignore excludes it)"
                ));
            }
            vec![path]
        };
        tops.extend(found);
    }
    let several = tops.len() > 1;
    if several && !dest_is_dir {
        return Err(format!(
            "several sources match, so the destination must be a directory ending in '/', got '{dest}'"
        ));
    }
    let mut items = Vec::new();
    for top in tops {
        let is_dir = top.as_os_str().is_empty() || context.dirs.contains(&top);
        if is_dir {
            for path in &context.included {
                if let Ok(inner) = path.strip_prefix(&top) {
                    if inner.as_os_str().is_empty() {
                        continue;
                    }
                    items.push(CopyItem {
                        source: path.clone(),
                        dest: join(dest_root, inner),
                        is_dir: context.dirs.contains(path),
                    });
                }
            }
        } else {
            let name = top.file_name().map(Path::new).unwrap_or(Path::new(""));
            let target = if dest_is_dir || several {
                join(dest_root, name)
            } else {
                clean_path(dest)
            };
            items.push(CopyItem {
                source: top,
                dest: target,
                is_dir: false,
            });
        }
    }
    Ok(items)
}

fn join(root: &str, inner: &Path) -> String {
    clean_path(&format!("{root}/{}", inner.display()))
}

fn clean_source(source: &str) -> Result<Vec<String>, Problem> {
    let mut parts: Vec<String> = Vec::new();
    for part in source.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                if parts.pop().is_none() {
                    return Err(format!("'{source}' is outside the build context"));
                }
            }
            p => parts.push(p.to_string()),
        }
    }
    Ok(parts)
}

/// A local file ADD unpacks, by its first bytes (a compressed file is a
/// candidate: the builder checks that a tar is inside, else copies it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArchiveKind {
    Tar,
    Gzip,
    Bzip2,
    Xz,
    Zstd,
}

/// The archive kind of a file starting with `header` (at least 262 bytes
/// read, or the whole file if shorter).
pub fn archive_kind(header: &[u8]) -> Option<ArchiveKind> {
    if header.starts_with(&[0x1f, 0x8b]) {
        Some(ArchiveKind::Gzip)
    } else if header.starts_with(b"BZh") {
        Some(ArchiveKind::Bzip2)
    } else if header.starts_with(&[0xfd, b'7', b'z', b'X', b'Z', 0x00]) {
        Some(ArchiveKind::Xz)
    } else if header.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        Some(ArchiveKind::Zstd)
    } else if header.get(257..262) == Some(b"ustar") {
        Some(ArchiveKind::Tar)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    fn ctx() -> ContextFiles {
        let included: Vec<PathBuf> = [
            "app",
            "app/main.go",
            "app/sub",
            "app/sub/x.go",
            "go.mod",
            "go.sum",
            "hom.txt",
            "home.txt",
        ]
        .iter()
        .map(PathBuf::from)
        .collect();
        ContextFiles {
            dirs: ["app", "app/sub"]
                .iter()
                .map(PathBuf::from)
                .collect::<BTreeSet<_>>(),
            included,
            always_sent: vec![],
        }
    }

    fn dests(items: &[CopyItem]) -> Vec<(String, String)> {
        items
            .iter()
            .map(|i| (i.source.display().to_string(), i.dest.clone()))
            .collect()
    }

    #[test]
    fn files_land_at_dest_or_inside_a_dir_dest() {
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert_eq!(
            dests(&plan_copy(&ctx(), &s(&["go.mod"]), "/src/go.mod").unwrap()),
            [("go.mod".into(), "/src/go.mod".into())]
        );
        assert_eq!(
            dests(&plan_copy(&ctx(), &s(&["/go.mod"]), "/src/").unwrap()),
            [("go.mod".into(), "/src/go.mod".into())]
        );
        // The reference's examples: hom* and hom?.txt.
        assert_eq!(
            plan_copy(&ctx(), &s(&["hom*"]), "/mydir/").unwrap().len(),
            2
        );
        assert_eq!(
            dests(&plan_copy(&ctx(), &s(&["hom?.txt"]), "/mydir/").unwrap()),
            [("home.txt".into(), "/mydir/home.txt".into())]
        );
        assert!(plan_copy(&ctx(), &s(&["go.*"]), "/src")
            .unwrap_err()
            .contains("ending in '/'"));
    }

    #[test]
    fn directories_copy_their_contents() {
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        let items = plan_copy(&ctx(), &s(&["./app"]), "/srv").unwrap();
        assert_eq!(
            dests(&items),
            [
                ("app/main.go".into(), "/srv/main.go".into()),
                ("app/sub".into(), "/srv/sub".into()),
                ("app/sub/x.go".into(), "/srv/sub/x.go".into()),
            ]
        );
        assert!(items[1].is_dir);
        let all = plan_copy(&ctx(), &s(&["."]), "/").unwrap();
        assert_eq!(all.len(), 8);
        let globbed = plan_copy(&ctx(), &s(&["**/*.go"]), "/g/").unwrap();
        assert_eq!(
            dests(&globbed),
            [
                ("app/main.go".into(), "/g/main.go".into()),
                ("app/sub/x.go".into(), "/g/x.go".into())
            ]
        );
    }

    #[test]
    fn missing_or_escaping_sources() {
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert!(plan_copy(&ctx(), &s(&["nope"]), "/")
            .unwrap_err()
            .contains("not in the build context"));
        assert!(plan_copy(&ctx(), &s(&["*.rs"]), "/")
            .unwrap_err()
            .contains("no files"));
        assert!(plan_copy(&ctx(), &s(&["../etc/passwd"]), "/")
            .unwrap_err()
            .contains("outside"));
    }

    #[test]
    fn archive_kinds() {
        assert_eq!(archive_kind(&[0x1f, 0x8b, 8]), Some(ArchiveKind::Gzip));
        assert_eq!(archive_kind(b"BZh91AY"), Some(ArchiveKind::Bzip2));
        assert_eq!(
            archive_kind(&[0x28, 0xb5, 0x2f, 0xfd, 0]),
            Some(ArchiveKind::Zstd)
        );
        let mut tar = vec![0u8; 512];
        tar[257..262].copy_from_slice(b"ustar");
        assert_eq!(archive_kind(&tar), Some(ArchiveKind::Tar));
        assert_eq!(archive_kind(b"plain text"), None);
    }
}
