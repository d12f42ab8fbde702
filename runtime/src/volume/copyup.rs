//! Copy-up: an empty volume mounted over a path that has content in the
//! image is first filled with that content, as the container would see it
//! through the overlay: layers merged top first, whiteouts (0/0 character
//! devices) hide what is below, opaque directories hide everything below.
//! Owners, modes, symlinks and times are kept; symlinks are never followed.
//! The volume's root takes the owner and mode of the directory it covers
//! (even an empty one), as Docker's copy-up does, so a non-root image
//! (`user: postgres`) owns its data directory; the root is changed through
//! a descriptor opened without following a symlink.

use std::collections::BTreeMap;
use std::fs;
use std::io;
use std::os::unix::fs::{
    fchown, lchown, symlink, FileTypeExt, MetadataExt, OpenOptionsExt, PermissionsExt,
};
use std::path::{Component, Path, PathBuf};

use nix::sys::stat::{utimensat, UtimensatFlags};
use nix::sys::time::TimeSpec;

fn is_whiteout(meta: &fs::Metadata) -> bool {
    meta.file_type().is_char_device() && meta.rdev() == 0
}

fn is_opaque(dir: &Path) -> bool {
    xattr::get(dir, "trusted.overlay.opaque")
        .ok()
        .flatten()
        .as_deref()
        == Some(b"y")
}

/// Copies what the image (layers bottom first, as `ResolvedImage.layers`)
/// has at `container_path` into the empty directory `dest`, and gives
/// `dest` that directory's owner and mode. Returns whether the image has a
/// directory there (when it has not, `dest` is left as it is).
pub fn copy_up(
    layers_bottom_first: &[PathBuf],
    container_path: &str,
    dest: &Path,
) -> io::Result<bool> {
    let relative: PathBuf = Path::new(container_path)
        .components()
        .filter_map(|c| match c {
            Component::Normal(part) => Some(PathBuf::from(part)),
            _ => None,
        })
        .collect();
    let top_first: Vec<&PathBuf> = layers_bottom_first.iter().rev().collect();
    // The directory, as seen from the top: the layers that contribute to it.
    let mut sources = Vec::new();
    for layer in top_first {
        // A parent component that is a whiteout, a non-directory or a
        // symlink in this layer hides the path below.
        let mut hidden = false;
        let mut current = layer.to_path_buf();
        for part in relative.iter() {
            current.push(part);
            match fs::symlink_metadata(&current) {
                Ok(meta) if is_whiteout(&meta) => {
                    hidden = true;
                    break;
                }
                Ok(meta) if !meta.is_dir() => {
                    hidden = true;
                    break;
                }
                Ok(_) => {}
                Err(_) => {
                    current = PathBuf::new();
                    break;
                }
            }
        }
        if hidden {
            break;
        }
        if current.as_os_str().is_empty() {
            continue;
        }
        let opaque = is_opaque(&current);
        sources.push(current);
        if opaque {
            break;
        }
    }
    let Some(top) = sources.first() else {
        return Ok(false);
    };
    // Refused before anything is written when the root is a symlink.
    let root = fs::File::options()
        .read(true)
        .custom_flags(libc::O_DIRECTORY | libc::O_NOFOLLOW | libc::O_CLOEXEC)
        .open(dest)?;
    copy_merged(&sources, dest)?;
    take_owner_and_mode(top, &root)?;
    Ok(true)
}

/// Gives the volume's root (`root`, an open directory) the owner and
/// permission bits of `source`: the topmost layer's copy of the covered
/// directory, what the container would have seen there.
fn take_owner_and_mode(source: &Path, root: &fs::File) -> io::Result<()> {
    let meta = fs::symlink_metadata(source)?;
    fchown(root, Some(meta.uid()), Some(meta.gid()))?;
    // After the owner: chown clears set-id bits, the mode puts them back.
    root.set_permissions(fs::Permissions::from_mode(meta.mode() & 0o7777))
}

/// Copies the union of `sources` (top first) into `dest`.
fn copy_merged(sources: &[PathBuf], dest: &Path) -> io::Result<()> {
    // name -> the sources (top first) that contribute to it
    let mut entries: BTreeMap<std::ffi::OsString, Vec<PathBuf>> = BTreeMap::new();
    let mut hidden: std::collections::BTreeSet<std::ffi::OsString> = Default::default();
    for source in sources {
        for entry in fs::read_dir(source)?.flatten() {
            let name = entry.file_name();
            if hidden.contains(&name) {
                continue;
            }
            let meta = entry.metadata()?;
            if is_whiteout(&meta) {
                hidden.insert(name);
                continue;
            }
            let list = entries.entry(name.clone()).or_default();
            // Below a non-directory, nothing of a lower layer shows.
            if let Some(first) = list.first() {
                if !fs::symlink_metadata(first)?.is_dir() || !meta.is_dir() {
                    continue;
                }
                if is_opaque(first) || list.iter().any(|p| is_opaque(p)) {
                    continue;
                }
            }
            list.push(entry.path());
        }
    }
    for (name, paths) in entries {
        let top = &paths[0];
        let meta = fs::symlink_metadata(top)?;
        let target = dest.join(&name);
        if meta.is_dir() {
            fs::create_dir_all(&target)?;
            copy_merged(&paths, &target)?;
        } else if meta.file_type().is_symlink() {
            symlink(fs::read_link(top)?, &target)?;
        } else if meta.is_file() {
            fs::copy(top, &target)?;
        } else {
            continue; // devices, fifos and sockets are not copied
        }
        lchown(&target, Some(meta.uid()), Some(meta.gid()))?;
        if !meta.file_type().is_symlink() {
            fs::set_permissions(&target, fs::Permissions::from_mode(meta.mode() & 0o7777))?;
        }
        let time = TimeSpec::new(meta.mtime(), meta.mtime_nsec());
        let _ = utimensat(
            nix::fcntl::AT_FDCWD,
            &target,
            &time,
            &time,
            UtimensatFlags::NoFollowSymlink,
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use nix::sys::stat::{makedev, mknod, Mode, SFlag};

    #[test]
    fn merged_view_with_whiteouts_and_opaque_dirs() {
        if !nix::unistd::Uid::effective().is_root() {
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        let lower = dir.path().join("lower");
        let upper = dir.path().join("upper");
        fs::create_dir_all(lower.join("data/sub")).unwrap();
        fs::write(lower.join("data/keep.txt"), "keep").unwrap();
        fs::write(lower.join("data/gone.txt"), "gone").unwrap();
        fs::write(lower.join("data/sub/old.txt"), "old").unwrap();
        lchown(lower.join("data/keep.txt"), Some(1000), Some(1000)).unwrap();
        fs::set_permissions(
            lower.join("data/keep.txt"),
            fs::Permissions::from_mode(0o640),
        )
        .unwrap();
        fs::create_dir_all(upper.join("data/sub")).unwrap();
        xattr::set(upper.join("data/sub"), "trusted.overlay.opaque", b"y").unwrap();
        fs::write(upper.join("data/sub/new.txt"), "new").unwrap();
        mknod(
            &upper.join("data/gone.txt"),
            SFlag::S_IFCHR,
            Mode::empty(),
            makedev(0, 0),
        )
        .unwrap();
        symlink("keep.txt", upper.join("data/link")).unwrap();
        let dest = dir.path().join("volume");
        fs::create_dir(&dest).unwrap();
        assert!(copy_up(&[lower.clone(), upper.clone()], "/data", &dest).unwrap());
        let names = |p: &Path| {
            let mut n: Vec<String> = fs::read_dir(p)
                .unwrap()
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect();
            n.sort();
            n
        };
        assert_eq!(names(&dest), ["keep.txt", "link", "sub"]);
        assert_eq!(
            names(&dest.join("sub")),
            ["new.txt"],
            "opaque directory hides the lower one"
        );
        let keep = fs::metadata(dest.join("keep.txt")).unwrap();
        assert_eq!((keep.uid(), keep.mode() & 0o777), (1000, 0o640));
        assert_eq!(
            fs::read_link(dest.join("link")).unwrap(),
            Path::new("keep.txt")
        );
        assert!(!copy_up(&[lower, upper], "/nothing/here", &dest).unwrap());
    }

    #[test]
    fn the_root_takes_the_covered_directorys_owner_and_mode_even_when_empty() {
        if !nix::unistd::Uid::effective().is_root() {
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        let lower = dir.path().join("lower");
        let upper = dir.path().join("upper");
        fs::create_dir_all(lower.join("d")).unwrap();
        fs::create_dir_all(upper.join("d")).unwrap();
        // The top layer's copy is what the container sees.
        lchown(lower.join("d"), Some(1), Some(1)).unwrap();
        lchown(upper.join("d"), Some(1234), Some(4321)).unwrap();
        fs::set_permissions(upper.join("d"), fs::Permissions::from_mode(0o2700)).unwrap();
        let owner_mode = |p: &Path| {
            let meta = fs::symlink_metadata(p).unwrap();
            (meta.uid(), meta.gid(), meta.mode() & 0o7777)
        };
        let dest = dir.path().join("volume");
        fs::create_dir(&dest).unwrap();
        assert!(copy_up(&[lower.clone(), upper.clone()], "/d", &dest).unwrap());
        assert_eq!(owner_mode(&dest), (1234, 4321, 0o2700));
        assert_eq!(fs::read_dir(&dest).unwrap().count(), 0);

        // Nothing at that path in the image: the volume stays as created.
        let untouched = dir.path().join("untouched");
        fs::create_dir(&untouched).unwrap();
        fs::set_permissions(&untouched, fs::Permissions::from_mode(0o755)).unwrap();
        assert!(!copy_up(&[lower.clone(), upper.clone()], "/missing", &untouched).unwrap());
        assert_eq!(owner_mode(&untouched), (0, 0, 0o755));

        // A volume root that is a symlink is never followed.
        let elsewhere = dir.path().join("elsewhere");
        fs::create_dir(&elsewhere).unwrap();
        let link = dir.path().join("link");
        symlink(&elsewhere, &link).unwrap();
        assert!(copy_up(&[lower, upper], "/d", &link).is_err());
        assert_eq!(owner_mode(&elsewhere).0, 0);
    }
}
