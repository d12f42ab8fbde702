//! The digest of a set of source files, for the cache key of a COPY/ADD:
//! sha256 over each entry's relative path, kind, permission bits,
//! optionally its owner, and its content (files) or target (symlinks), in
//! sorted path order, so the same inputs give the same key.

use sha2::{Digest, Sha256};
use std::fs;
use std::io::{self, Read};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// What besides content and mode goes into the digest.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DigestOptions {
    /// Include uid/gid (off when `--chown` overrides the owner anyway).
    pub owner: bool,
}

/// `sha256:<hex>` of `files` (relative to `root`; directories count as
/// entries without content). The order of `files` does not matter.
pub fn context_digest(
    root: &Path,
    files: &[PathBuf],
    options: DigestOptions,
) -> io::Result<String> {
    let mut sorted: Vec<&PathBuf> = files.iter().collect();
    sorted.sort();
    sorted.dedup();
    let mut hasher = Sha256::new();
    for relative in sorted {
        let path = root.join(relative);
        let meta = fs::symlink_metadata(&path)?;
        let name = relative.to_string_lossy();
        hasher.update((name.len() as u64).to_le_bytes());
        hasher.update(name.as_bytes());
        let kind = meta.file_type();
        let tag: &[u8] = if kind.is_symlink() {
            b"l"
        } else if kind.is_dir() {
            b"d"
        } else if kind.is_file() {
            b"f"
        } else {
            b"o"
        };
        hasher.update(tag);
        hasher.update((meta.mode() & 0o7777).to_le_bytes());
        if options.owner {
            hasher.update(meta.uid().to_le_bytes());
            hasher.update(meta.gid().to_le_bytes());
        }
        if kind.is_symlink() {
            let target = fs::read_link(&path)?;
            let target = target.to_string_lossy();
            hasher.update((target.len() as u64).to_le_bytes());
            hasher.update(target.as_bytes());
        } else if kind.is_file() {
            hasher.update(meta.len().to_le_bytes());
            let mut file = fs::File::open(&path)?;
            let mut buf = vec![0u8; 64 * 1024];
            loop {
                let n = file.read(&mut buf)?;
                if n == 0 {
                    break;
                }
                hasher.update(&buf[..n]);
            }
        }
    }
    let digest = hasher.finalize();
    Ok(format!(
        "sha256:{}",
        digest
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::{symlink, PermissionsExt};

    fn setup() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("a"), "hello").unwrap();
        fs::create_dir(dir.path().join("d")).unwrap();
        fs::write(dir.path().join("d/b"), "world").unwrap();
        symlink("a", dir.path().join("link")).unwrap();
        dir
    }

    fn all() -> Vec<PathBuf> {
        ["a", "d", "d/b", "link"]
            .iter()
            .map(PathBuf::from)
            .collect()
    }

    #[test]
    fn stable_and_order_independent() {
        let dir = setup();
        let one = context_digest(dir.path(), &all(), DigestOptions::default()).unwrap();
        let mut reversed = all();
        reversed.reverse();
        let two = context_digest(dir.path(), &reversed, DigestOptions::default()).unwrap();
        assert_eq!(one, two);
        assert!(one.starts_with("sha256:") && one.len() == 71);
    }

    #[test]
    fn content_mode_and_link_target_change_it() {
        let dir = setup();
        let before = context_digest(dir.path(), &all(), DigestOptions::default()).unwrap();
        fs::write(dir.path().join("d/b"), "World").unwrap();
        let content = context_digest(dir.path(), &all(), DigestOptions::default()).unwrap();
        assert_ne!(before, content);
        fs::set_permissions(dir.path().join("a"), fs::Permissions::from_mode(0o700)).unwrap();
        let mode = context_digest(dir.path(), &all(), DigestOptions::default()).unwrap();
        assert_ne!(content, mode);
        fs::remove_file(dir.path().join("link")).unwrap();
        symlink("d/b", dir.path().join("link")).unwrap();
        let link = context_digest(dir.path(), &all(), DigestOptions::default()).unwrap();
        assert_ne!(mode, link);
        // A renamed file is a different input.
        fs::rename(dir.path().join("a"), dir.path().join("c")).unwrap();
        let files: Vec<PathBuf> = ["c", "d", "d/b", "link"]
            .iter()
            .map(PathBuf::from)
            .collect();
        assert_ne!(
            link,
            context_digest(dir.path(), &files, DigestOptions::default()).unwrap()
        );
        assert!(context_digest(dir.path(), &all(), DigestOptions { owner: true }).is_err());
    }
}
