//! Who may enter berth's state. The state root holds every service's
//! environment (`containers/<id>/config.json`) and the images' files,
//! setuid binaries and device nodes included (`layers/`); the run
//! directory holds the supervisors' sockets, PID and ports files. Both are
//! root's alone, with the modes Docker gives `/var/lib/docker`:
//!
//! | path | mode |
//! | --- | --- |
//! | the state root, `containers/`, `containers/<id>/`, `layers/` | 0710 |
//! | `images/`, `tmp/`, `networks/`, the run directory and its project directories | 0700 |
//! | `volumes/` | 0701 (as Docker); each `volumes/<name>/` 0700; `_data` keeps its own mode |
//! | `config.json`, `state.json`, volume and network records | 0600 |
//!
//! Containers are not hindered: their processes reach the root filesystem,
//! volumes and binds through the container's own mounts, never through
//! these directories, and overlayfs opens its layers with the mounter's
//! (root's) credentials. New directories are made with their mode (no
//! moment where they are more open); [`secure`] tightens a state root made
//! by an earlier berth, and runs at the start of every command.

use std::fs::{self, DirBuilder};
use std::io;
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::Path;

/// The state root, `containers/`, each container's directory and `layers/`:
/// root enters and lists, the root group only enters, others nothing.
pub const TRAVERSE_DIR_MODE: u32 = 0o710;
/// Directories only root enters.
pub const PRIVATE_DIR_MODE: u32 = 0o700;
/// `volumes/`: others may pass through to a path they know, not list it.
pub const VOLUMES_DIR_MODE: u32 = 0o701;
/// Files that hold a service's configuration or state.
pub const PRIVATE_FILE_MODE: u32 = 0o600;

/// Creates `dir` with `mode` when missing (its missing parents too, with
/// the same mode), and sets exactly `mode` on it: an existing directory is
/// tightened, and the umask does not change the result.
pub fn ensure_dir(dir: &Path, mode: u32) -> io::Result<()> {
    match DirBuilder::new().recursive(true).mode(mode).create(dir) {
        Ok(()) => set_mode(dir, mode),
        Err(err) => Err(err),
    }
}

/// Creates the state root with its mode when missing (see [`ensure_dir`]).
pub fn ensure_root(root: &Path) -> io::Result<()> {
    ensure_dir(root, TRAVERSE_DIR_MODE)
}

/// Sets `mode` on `path` unless it has it already.
fn set_mode(path: &Path, mode: u32) -> io::Result<()> {
    let current = fs::metadata(path)?.permissions().mode() & 0o7777;
    if current == mode {
        return Ok(());
    }
    fs::set_permissions(path, fs::Permissions::from_mode(mode))
}

/// Tightens `path` to `mode` when it exists and is not a symlink.
fn tighten(path: &Path, mode: u32) -> io::Result<()> {
    match fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_symlink() => Ok(()),
        Ok(_) => set_mode(path, mode),
        Err(err) if err.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(err) => Err(err),
    }
}

/// Gives an existing state root and run directory (as an earlier berth
/// left them, 0755 and 0644) the modes above; creates nothing. Each
/// directory's own mode is set last and marks it done: a root that already
/// has its mode costs one `stat` (this runs at the start of every command),
/// and one tightened halfway is walked again.
pub fn secure(root: &Path, run_dir: &Path) -> io::Result<()> {
    if needs_securing(root, TRAVERSE_DIR_MODE)? {
        secure_root_entries(root)?;
        set_mode(root, TRAVERSE_DIR_MODE)?;
    }
    if needs_securing(run_dir, PRIVATE_DIR_MODE)? {
        for entry in read_dir(run_dir)? {
            if entry.file_type()?.is_dir() {
                tighten(&entry.path(), PRIVATE_DIR_MODE)?;
            }
        }
        set_mode(run_dir, PRIVATE_DIR_MODE)?;
    }
    Ok(())
}

/// Whether `dir` exists without its final `mode` yet.
fn needs_securing(dir: &Path, mode: u32) -> io::Result<bool> {
    match fs::symlink_metadata(dir) {
        Ok(meta) => Ok(meta.permissions().mode() & 0o7777 != mode),
        Err(err) if err.kind() == io::ErrorKind::NotFound => Ok(false),
        Err(err) => Err(err),
    }
}

fn secure_root_entries(root: &Path) -> io::Result<()> {
    for (name, mode) in [
        ("containers", TRAVERSE_DIR_MODE),
        ("layers", TRAVERSE_DIR_MODE),
        ("images", PRIVATE_DIR_MODE),
        ("tmp", PRIVATE_DIR_MODE),
        ("networks", PRIVATE_DIR_MODE),
        ("volumes", VOLUMES_DIR_MODE),
    ] {
        tighten(&root.join(name), mode)?;
    }
    for container in read_dir(&root.join("containers"))? {
        let dir = container.path();
        tighten(&dir, TRAVERSE_DIR_MODE)?;
        for file in ["config.json", "state.json"] {
            tighten(&dir.join(file), PRIVATE_FILE_MODE)?;
        }
    }
    for volume in read_dir(&root.join("volumes"))? {
        if volume.file_type()?.is_dir() {
            tighten(&volume.path(), PRIVATE_DIR_MODE)?;
            tighten(&volume.path().join("volume.json"), PRIVATE_FILE_MODE)?;
        }
    }
    for network in read_dir(&root.join("networks"))? {
        if network.file_name().to_string_lossy().ends_with(".json") {
            tighten(&network.path(), PRIVATE_FILE_MODE)?;
        }
    }
    Ok(())
}

/// The entries of `dir`; none when it does not exist.
fn read_dir(dir: &Path) -> io::Result<Vec<fs::DirEntry>> {
    match fs::read_dir(dir) {
        Ok(entries) => entries.collect(),
        Err(err) if err.kind() == io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(err) => Err(err),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::MetadataExt;

    fn mode(path: impl AsRef<Path>) -> u32 {
        fs::symlink_metadata(path).unwrap().mode() & 0o7777
    }

    #[test]
    fn new_directories_get_their_mode_whatever_the_umask() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("a/root");
        ensure_root(&root).unwrap();
        assert_eq!(mode(&root), 0o710);
        ensure_dir(&root.join("volumes"), VOLUMES_DIR_MODE).unwrap();
        assert_eq!(mode(root.join("volumes")), 0o701);
        // An existing, more open directory is tightened.
        fs::set_permissions(&root, fs::Permissions::from_mode(0o755)).unwrap();
        ensure_root(&root).unwrap();
        assert_eq!(mode(&root), 0o710);
    }

    #[test]
    fn an_old_open_root_is_tightened() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("root");
        let run = tmp.path().join("run");
        let container = root.join("containers/abc");
        let volume = root.join("volumes/data");
        for dir in [
            container.join("rootfs"),
            root.join("layers/sha256/x"),
            root.join("images/blobs"),
            root.join("tmp"),
            root.join("networks"),
            volume.join("_data"),
            run.join("demo"),
        ] {
            fs::create_dir_all(&dir).unwrap();
        }
        for file in [
            container.join("config.json"),
            container.join("state.json"),
            container.join("hosts"),
            volume.join("volume.json"),
            root.join("networks/n.json"),
        ] {
            fs::write(&file, "{}").unwrap();
        }
        let open_all = |path: &Path| {
            let open = if path.is_dir() { 0o755 } else { 0o644 };
            fs::set_permissions(path, fs::Permissions::from_mode(open)).unwrap();
        };
        for path in [&root, &run, &container, &volume, &volume.join("_data")] {
            open_all(path);
        }
        secure(&root, &run).unwrap();
        assert_eq!(mode(&root), 0o710);
        assert_eq!(mode(root.join("containers")), 0o710);
        assert_eq!(mode(&container), 0o710);
        assert_eq!(mode(container.join("config.json")), 0o600);
        assert_eq!(mode(container.join("state.json")), 0o600);
        assert_eq!(mode(root.join("layers")), 0o710);
        assert_eq!(mode(root.join("images")), 0o700);
        assert_eq!(mode(root.join("tmp")), 0o700);
        assert_eq!(mode(root.join("networks")), 0o700);
        assert_eq!(mode(root.join("networks/n.json")), 0o600);
        assert_eq!(mode(root.join("volumes")), 0o701);
        assert_eq!(mode(&volume), 0o700);
        assert_eq!(mode(volume.join("volume.json")), 0o600);
        assert_eq!(mode(&run), 0o700);
        assert_eq!(mode(run.join("demo")), 0o700);
        // What containers read through their mounts keeps its mode.
        assert_eq!(mode(volume.join("_data")), 0o755);
        assert_eq!(mode(container.join("hosts")), 0o644);
    }

    #[test]
    fn nothing_is_created_for_a_missing_root() {
        let tmp = tempfile::tempdir().unwrap();
        secure(&tmp.path().join("none"), &tmp.path().join("run")).unwrap();
        assert_eq!(fs::read_dir(tmp.path()).unwrap().count(), 0);
    }
}
