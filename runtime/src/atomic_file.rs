//! Durable, atomic replacement of small files: container state and records,
//! volume and network records, the image index, the supervisor's PID and
//! ports files.
//!
//! The content goes to a temporary sibling with a name no other writer uses
//! (process ID and a process-wide counter, so two threads of one process
//! never share it), created with its final mode (no moment where it is more
//! open), renamed over the file, and synced with its directory. Readers see
//! the old content or the new, never a mix, and after a host crash the file
//! holds one of them. [`write`] syncs before it returns; [`publish`] makes
//! the content visible first and leaves the sync to the caller, for the
//! paths where a user waits (a container's start and exit).

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

static TEMP_COUNTER: AtomicU64 = AtomicU64::new(0);

/// A name for a temporary sibling of `path`, unique on this host while the
/// process lives: `.<name>.<pid>-<n>.tmp`.
pub fn temp_sibling(path: &Path) -> PathBuf {
    let n = TEMP_COUNTER.fetch_add(1, Ordering::Relaxed);
    let name = path
        .file_name()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    path.with_file_name(format!(".{name}.{}-{n}.tmp", std::process::id()))
}

/// `value` as pretty JSON (with a final newline), replaced atomically as
/// [`write`] does: how every record of the state root is written.
pub fn write_json<T: serde::Serialize>(path: &Path, value: &T, mode: u32) -> io::Result<()> {
    write(path, &json_bytes(value)?, mode)
}

/// `value` as pretty JSON with a final newline.
pub fn json_bytes<T: serde::Serialize>(value: &T) -> io::Result<Vec<u8>> {
    let mut bytes = serde_json::to_vec_pretty(value).map_err(io::Error::other)?;
    bytes.push(b'\n');
    Ok(bytes)
}

/// Replaces `path` with `bytes`, atomically and durably; the file has mode
/// `mode` (exactly: not reduced by the umask) from the moment it exists.
pub fn write(path: &Path, bytes: &[u8], mode: u32) -> io::Result<()> {
    let tmp = temp_sibling(path);
    let result = write_new(&tmp, bytes, mode)
        .and_then(|()| fs::rename(&tmp, path))
        .and_then(|()| sync_parent(path));
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// A replacement already visible to readers whose sync is still owed: see
/// [`publish`]. Dropping it without [`Published::sync`] leaves the new
/// content in place, only not yet forced to disk.
#[must_use = "call sync() once the new content has been announced"]
pub struct Published {
    file: File,
    path: PathBuf,
}

impl Published {
    /// Forces the new content and the rename to disk (file, then directory).
    pub fn sync(self) -> io::Result<()> {
        self.file.sync_all()?;
        sync_parent(&self.path)
    }
}

/// Replaces `path` with `bytes` atomically (a unique temporary sibling with
/// `mode`, renamed over it) and returns before syncing: readers see the new
/// content at once, and the caller syncs after whatever it must do first.
/// The container monitor uses this for `state.json` at start and exit, so
/// neither the starter nor a waiter waits for the disk (about 12 ms on a
/// VM's disk); it syncs right after reporting. On ext4 a file renamed over
/// another has its data flushed with the rename, so a crash in between
/// leaves the old content or the new, never an empty file.
pub fn publish(path: &Path, bytes: &[u8], mode: u32) -> io::Result<Published> {
    let tmp = temp_sibling(path);
    let result =
        create_and_write(&tmp, bytes, mode).and_then(|file| fs::rename(&tmp, path).map(|()| file));
    match result {
        Ok(file) => Ok(Published {
            file,
            path: path.to_path_buf(),
        }),
        Err(err) => {
            let _ = fs::remove_file(&tmp);
            Err(err)
        }
    }
}

/// Syncs the file at `path` (its content and metadata), e.g. one that was
/// [`publish`]ed by another process.
pub fn sync_file(path: &Path) -> io::Result<()> {
    File::open(path)?.sync_all()
}

/// Creates `path` (which must not exist) with `mode`, writes and syncs it.
fn write_new(path: &Path, bytes: &[u8], mode: u32) -> io::Result<()> {
    create_and_write(path, bytes, mode)?.sync_all()
}

/// Creates `path` (which must not exist) with exactly `mode` and writes it.
fn create_and_write(path: &Path, bytes: &[u8], mode: u32) -> io::Result<File> {
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path)?;
    // The umask may have taken bits away; never adds any beyond `mode`.
    file.set_permissions(fs::Permissions::from_mode(mode))?;
    file.write_all(bytes)?;
    Ok(file)
}

/// Syncs the directory holding `path`, so a rename into it is durable.
pub fn sync_parent(path: &Path) -> io::Result<()> {
    let parent = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    sync_dir(parent)
}

/// Syncs a directory's entries.
pub fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::MetadataExt;
    use std::sync::Arc;

    #[test]
    fn a_published_file_is_visible_before_its_sync() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.json");
        write(&path, b"old", 0o600).unwrap();
        let published = publish(&path, b"new", 0o600).unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"new");
        assert_eq!(fs::metadata(&path).unwrap().mode() & 0o777, 0o600);
        published.sync().unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"new");
        let names: Vec<_> = fs::read_dir(dir.path()).unwrap().flatten().collect();
        assert_eq!(names.len(), 1, "a temporary file was left");
    }

    #[test]
    fn writes_with_the_mode_given_whatever_the_umask() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.json");
        write(&path, b"one", 0o600).unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"one");
        assert_eq!(fs::metadata(&path).unwrap().mode() & 0o7777, 0o600);
        // Replacing an open file takes the new mode too (a new inode).
        fs::set_permissions(&path, fs::Permissions::from_mode(0o666)).unwrap();
        write(&path, b"two", 0o640).unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"two");
        assert_eq!(fs::metadata(&path).unwrap().mode() & 0o7777, 0o640);
        // Nothing left beside it.
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn temporary_names_are_unique_per_call() {
        let path = Path::new("/x/state.json");
        let a = temp_sibling(path);
        let b = temp_sibling(path);
        assert_ne!(a, b);
        assert_eq!(a.parent(), Some(Path::new("/x")));
        assert!(a
            .file_name()
            .unwrap()
            .to_string_lossy()
            .starts_with(".state.json."));
    }

    #[test]
    fn a_failed_write_leaves_no_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        // Renaming a file over a directory fails.
        let path = dir.path().join("taken");
        fs::create_dir_all(path.join("sub")).unwrap();
        assert!(write(&path, b"x", 0o600).is_err());
        let names: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["taken"]);
    }

    /// Many threads replacing one file: every write succeeds and every read
    /// sees one whole version, never a torn or empty file.
    #[test]
    fn concurrent_writers_never_tear_or_fail() {
        let dir = tempfile::tempdir().unwrap();
        let path = Arc::new(dir.path().join("state.json"));
        write(&path, &vec![b'0'; 4096], 0o600).unwrap();
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let reader = {
            let (path, stop) = (path.clone(), stop.clone());
            std::thread::spawn(move || {
                let mut reads = 0;
                while !stop.load(Ordering::Relaxed) {
                    let bytes = fs::read(&*path).unwrap();
                    assert_eq!(bytes.len(), 4096, "torn read");
                    assert!(bytes.iter().all(|b| *b == bytes[0]), "mixed versions");
                    reads += 1;
                }
                reads
            })
        };
        let writers: Vec<_> = (0..16u8)
            .map(|i| {
                let path = path.clone();
                std::thread::spawn(move || {
                    for _ in 0..25 {
                        write(&path, &vec![b'a' + i; 4096], 0o600).unwrap();
                    }
                })
            })
            .collect();
        for writer in writers {
            writer.join().unwrap();
        }
        stop.store(true, Ordering::Relaxed);
        assert!(reader.join().unwrap() > 0);
        let last = fs::read(&*path).unwrap();
        assert_eq!(last.len(), 4096);
        assert_eq!(fs::metadata(&*path).unwrap().mode() & 0o7777, 0o600);
        assert_eq!(
            fs::read_dir(dir.path()).unwrap().count(),
            1,
            "temporary files left"
        );
    }
}
