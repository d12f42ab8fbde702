//! One tar entry at a time: path checks, whiteouts, and creating each kind
//! of file with its owner, mode, times and extended attributes.
//!
//! Metadata is only ever set on the entry itself, never through a symlink:
//! regular files and directories through a descriptor opened with
//! `O_NOFOLLOW` (directories component by component from the layer root),
//! symlinks with the `l*` calls, device nodes after an `lstat` that shows
//! they are still the node just made. A directory's mode and time wait for
//! the end of the layer; once a later entry replaces that path (a file, a
//! symlink, a hardlink, a whiteout) the deferred entry is dropped.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read};
use std::os::fd::AsFd;
use std::os::unix::fs::{fchown, lchown, symlink, OpenOptionsExt, PermissionsExt};
use std::path::{Component, Path, PathBuf};

use nix::fcntl::{openat, OFlag};
use nix::sys::stat::{futimens, makedev, mknod, utimensat, Mode, SFlag, UtimensatFlags};
use nix::sys::time::TimeSpec;
use tar::EntryType;
use xattr::FileExt;

use super::UnpackError;

/// Prefix of an OCI whiteout file.
const WHITEOUT_PREFIX: &str = ".wh.";
/// The OCI opaque-directory marker.
const OPAQUE_MARKER: &str = ".wh..wh..opq";

/// Directory metadata applied at the end, once the contents are in place.
struct DirMeta {
    /// Relative to the layer root.
    relative: PathBuf,
    mode: u32,
    mtime: u64,
}

pub struct Unpacker<'a> {
    dest: &'a Path,
    layer: &'a str,
    dirs: Vec<DirMeta>,
}

impl<'a> Unpacker<'a> {
    pub fn new(dest: &'a Path, layer: &'a str) -> Self {
        Unpacker {
            dest,
            layer,
            dirs: Vec::new(),
        }
    }

    fn unsafe_entry(&self, entry: &str, reason: &'static str) -> UnpackError {
        UnpackError::Unsafe {
            layer: self.layer.to_string(),
            entry: entry.to_string(),
            reason,
        }
    }

    fn entry_error(&self, entry: &str) -> impl FnOnce(io::Error) -> UnpackError {
        let layer = self.layer.to_string();
        let entry = entry.to_string();
        move |source| UnpackError::Entry {
            layer,
            entry,
            source,
        }
    }

    /// Turns an entry name into a path relative to the layer root: leading
    /// `/` and `.` are dropped (as Docker does); `..` is refused.
    fn relative_path(&self, name: &str) -> Result<PathBuf, UnpackError> {
        let mut relative = PathBuf::new();
        for component in Path::new(name).components() {
            match component {
                Component::Normal(part) => relative.push(part),
                Component::RootDir | Component::CurDir => {}
                Component::ParentDir => {
                    return Err(self.unsafe_entry(name, "escapes the layer directory (\"..\")"))
                }
                Component::Prefix(_) => return Err(self.unsafe_entry(name, "has a path prefix")),
            }
        }
        Ok(relative)
    }

    /// Makes sure every parent of `relative` is a real directory inside the
    /// layer (created when missing), never a symlink.
    fn prepare_parents(&self, name: &str, relative: &Path) -> Result<(), UnpackError> {
        let mut current = self.dest.to_path_buf();
        let parents: Vec<_> = relative
            .parent()
            .into_iter()
            .flat_map(Path::components)
            .collect();
        for part in parents {
            current.push(part);
            match fs::symlink_metadata(&current) {
                Ok(meta) if meta.file_type().is_symlink() => {
                    return Err(self.unsafe_entry(name, "goes through a symlink in the layer"))
                }
                Ok(meta) if meta.is_dir() => {}
                Ok(_) => {
                    return Err(self.unsafe_entry(name, "has a parent that is not a directory"))
                }
                Err(err) if err.kind() == io::ErrorKind::NotFound => {
                    fs::create_dir(&current).map_err(self.entry_error(name))?;
                }
                Err(err) => return Err(self.entry_error(name)(err)),
            }
        }
        Ok(())
    }

    /// Removes whatever is at `relative` (never following a symlink),
    /// keeping an existing directory when a directory is wanted again. Any
    /// deferred directory metadata at or under a removed path is dropped:
    /// whatever replaces it must never receive that directory's mode.
    fn clear(&mut self, name: &str, relative: &Path, keep_dir: bool) -> Result<(), UnpackError> {
        let path = self.dest.join(relative);
        let removed = match fs::symlink_metadata(&path) {
            Ok(meta) if meta.is_dir() && keep_dir => return Ok(()),
            Ok(meta) if meta.is_dir() => fs::remove_dir_all(&path),
            Ok(_) => fs::remove_file(&path),
            Err(err) if err.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(err) => Err(err),
        };
        removed.map_err(self.entry_error(name))?;
        self.forget_dirs(relative);
        Ok(())
    }

    /// Drops deferred directory metadata for `relative` and everything under it.
    fn forget_dirs(&mut self, relative: &Path) {
        self.dirs.retain(|dir| !dir.relative.starts_with(relative));
    }

    pub fn unpack<R: Read>(&mut self, entry: &mut tar::Entry<'_, R>) -> Result<(), UnpackError> {
        let raw_name = entry.path_bytes();
        let name = String::from_utf8_lossy(&raw_name).into_owned();
        let relative = self.relative_path(&name)?;
        if relative.as_os_str().is_empty() {
            return Ok(()); // the root itself: "./" or "/"
        }
        self.prepare_parents(&name, &relative)?;
        let file_name = relative
            .file_name()
            .map(|f| f.to_string_lossy().into_owned())
            .unwrap_or_default();
        let parent_relative = relative.parent().unwrap_or(Path::new("")).to_path_buf();
        let parent = self.dest.join(&parent_relative);
        if file_name == OPAQUE_MARKER {
            return xattr::set(&parent, "trusted.overlay.opaque", b"y")
                .map_err(self.entry_error(&name));
        }
        if let Some(hidden) = file_name.strip_prefix(WHITEOUT_PREFIX) {
            if hidden.starts_with(WHITEOUT_PREFIX) {
                return Ok(()); // AUFS metadata (`.wh..wh.plnk` and friends): skipped, as Docker does
            }
            if hidden.is_empty() || hidden == "." || hidden == ".." {
                // `.wh..` / `.wh...` would hide the parent or its parent.
                return Err(self.unsafe_entry(&name, "is a malformed whiteout"));
            }
            self.clear(&name, &parent_relative.join(hidden), false)?;
            return mknod(
                &parent.join(hidden),
                SFlag::S_IFCHR,
                Mode::empty(),
                makedev(0, 0),
            )
            .map_err(|errno| self.entry_error(&name)(io::Error::from(errno)));
        }
        let path = self.dest.join(&relative);
        let header = entry.header().clone();
        let mode = header.mode().unwrap_or(0o644) & 0o7777;
        let mtime = header.mtime().unwrap_or(0);
        let kind = header.entry_type();
        if matches!(
            kind,
            EntryType::XGlobalHeader
                | EntryType::XHeader
                | EntryType::GNULongName
                | EntryType::GNULongLink
        ) {
            return Ok(());
        }
        self.clear(&name, &relative, kind == EntryType::Directory)?;
        let err = self.entry_error(&name);
        let owner = Owner::of(&header);
        match kind {
            EntryType::Directory => {
                if fs::symlink_metadata(&path).is_err() {
                    fs::create_dir(&path).map_err(self.entry_error(&name))?;
                }
                let dir =
                    open_dir_beneath(self.dest, &relative).map_err(self.entry_error(&name))?;
                owner.apply_fd(&dir).map_err(self.entry_error(&name))?;
                self.set_xattrs(&name, entry, |key, value| dir.set_xattr(key, value))?;
                // Mode and time once the contents are in place (see `finish`);
                // a directory listed twice takes the later entry's.
                self.dirs.retain(|d| d.relative != relative);
                self.dirs.push(DirMeta {
                    relative,
                    mode,
                    mtime,
                });
                Ok(())
            }
            EntryType::Regular | EntryType::Continuous | EntryType::GNUSparse => {
                let mut file = OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .custom_flags(libc::O_NOFOLLOW)
                    .mode(0o600)
                    .open(&path)
                    .map_err(self.entry_error(&name))?;
                io::copy(entry, &mut file).map_err(err)?;
                owner.apply_fd(&file).map_err(self.entry_error(&name))?;
                self.set_xattrs(&name, entry, |key, value| file.set_xattr(key, value))?;
                // After chown, which clears setuid/setgid bits.
                file.set_permissions(fs::Permissions::from_mode(mode))
                    .map_err(self.entry_error(&name))?;
                let time = TimeSpec::new(mtime as i64, 0);
                futimens(file.as_fd(), &time, &time)
                    .map_err(|errno| self.entry_error(&name)(io::Error::from(errno)))
            }
            EntryType::Symlink => {
                let target = entry
                    .link_name()
                    .map_err(self.entry_error(&name))?
                    .ok_or_else(|| self.unsafe_entry(&name, "is a symlink without a target"))?;
                symlink(target, &path).map_err(err)?;
                // No extended attributes and no mode on a symlink.
                owner.apply_path(&path).map_err(self.entry_error(&name))?;
                set_mtime_nofollow(&path, mtime).map_err(self.entry_error(&name))
            }
            EntryType::Link => {
                let target = entry
                    .link_name_bytes()
                    .ok_or_else(|| self.unsafe_entry(&name, "is a hardlink without a target"))?;
                let target_name = String::from_utf8_lossy(&target).into_owned();
                let target_relative = self.relative_path(&target_name).map_err(|_| {
                    self.unsafe_entry(&name, "links to a file outside the layer directory")
                })?;
                self.prepare_parents(&name, &target_relative)?;
                let source = self.dest.join(&target_relative);
                match fs::symlink_metadata(&source) {
                    Ok(meta) if meta.is_dir() => {
                        return Err(self.unsafe_entry(&name, "is a hardlink to a directory"))
                    }
                    Ok(_) => {}
                    Err(_) => {
                        return Err(
                            self.unsafe_entry(&name, "is a hardlink to a file not in the layer")
                        )
                    }
                }
                // linkat without AT_SYMLINK_FOLLOW: a link to a symlink links
                // the symlink itself. A hardlink shares the target's inode:
                // nothing more to set.
                fs::hard_link(&source, &path).map_err(err)
            }
            EntryType::Char | EntryType::Block | EntryType::Fifo => {
                let (kind_flag, device) = match kind {
                    EntryType::Fifo => (SFlag::S_IFIFO, 0),
                    _ => {
                        let major = header.device_major().ok().flatten().unwrap_or(0);
                        let minor = header.device_minor().ok().flatten().unwrap_or(0);
                        let flag = if kind == EntryType::Char {
                            SFlag::S_IFCHR
                        } else {
                            SFlag::S_IFBLK
                        };
                        (flag, makedev(major.into(), minor.into()))
                    }
                };
                mknod(&path, kind_flag, Mode::from_bits_truncate(0o600), device)
                    .map_err(|errno| self.entry_error(&name)(io::Error::from(errno)))?;
                owner.apply_path(&path).map_err(self.entry_error(&name))?;
                self.set_xattrs(&name, entry, |key, value| xattr::set(&path, key, value))?;
                chmod_node(&path, kind_flag, mode).map_err(self.entry_error(&name))?;
                set_mtime_nofollow(&path, mtime).map_err(self.entry_error(&name))
            }
            _ => Err(self.unsafe_entry(&name, "has an unsupported entry type")),
        }
    }

    /// Applies the entry's `SCHILY.xattr.*` records that an image may set
    /// (see [`xattr_allowed`]) through `set`, which must not follow symlinks.
    fn set_xattrs<R: Read>(
        &self,
        name: &str,
        entry: &mut tar::Entry<'_, R>,
        mut set: impl FnMut(&str, &[u8]) -> io::Result<()>,
    ) -> Result<(), UnpackError> {
        let Ok(Some(extensions)) = entry.pax_extensions() else {
            return Ok(());
        };
        for extension in extensions.flatten() {
            let Ok(key) = extension.key() else { continue };
            let Some(attr) = key.strip_prefix("SCHILY.xattr.") else {
                continue;
            };
            if !xattr_allowed(attr) {
                tracing::debug!(
                    layer = self.layer,
                    entry = name,
                    attr,
                    "extended attribute not applied"
                );
                continue;
            }
            set(attr, extension.value_bytes()).map_err(self.entry_error(name))?;
        }
        Ok(())
    }

    /// Applies directory modes and times, deepest first. Each directory is
    /// opened component by component from the layer root without following
    /// symlinks; one that is no longer a directory is skipped.
    pub fn finish(mut self) -> Result<(), UnpackError> {
        self.dirs
            .sort_by_key(|d| std::cmp::Reverse(d.relative.components().count()));
        for dir in &self.dirs {
            let name = dir.relative.display().to_string();
            let handle = match open_dir_beneath(self.dest, &dir.relative) {
                Ok(handle) => handle,
                Err(err) if is_replaced(&err) => {
                    tracing::debug!(
                        layer = self.layer,
                        entry = name,
                        "directory replaced: mode not applied"
                    );
                    continue;
                }
                Err(err) => return Err(self.entry_error(&name)(err)),
            };
            handle
                .set_permissions(fs::Permissions::from_mode(dir.mode))
                .map_err(self.entry_error(&name))?;
            let time = TimeSpec::new(dir.mtime as i64, 0);
            futimens(handle.as_fd(), &time, &time)
                .map_err(|errno| self.entry_error(&name)(io::Error::from(errno)))?;
        }
        Ok(())
    }
}

/// An entry's owner from its header.
struct Owner {
    uid: u32,
    gid: u32,
}

impl Owner {
    fn of(header: &tar::Header) -> Owner {
        Owner {
            uid: header.uid().unwrap_or(0) as u32,
            gid: header.gid().unwrap_or(0) as u32,
        }
    }

    fn apply_fd(&self, file: &File) -> io::Result<()> {
        fchown(file, Some(self.uid), Some(self.gid))
    }

    /// `lchown`: the entry itself, never a symlink's target.
    fn apply_path(&self, path: &Path) -> io::Result<()> {
        lchown(path, Some(self.uid), Some(self.gid))
    }
}

/// Whether an image may set the extended attribute `name`: user attributes,
/// POSIX ACLs and file capabilities (`security.capability`, as Docker
/// keeps them). Everything else under `trusted.` (overlayfs' own
/// `trusted.overlay.*`: opaque, redirect, metacopy) and `security.` (LSM
/// labels) is dropped: the opaque marker `.wh..wh..opq` sets
/// `trusted.overlay.opaque` itself.
pub(crate) fn xattr_allowed(name: &str) -> bool {
    name.starts_with("user.")
        || matches!(
            name,
            "security.capability" | "system.posix_acl_access" | "system.posix_acl_default"
        )
}

/// Opens the directory at `relative` under `root`, one component at a time
/// with `O_NOFOLLOW|O_DIRECTORY`, so neither it nor any parent can be a
/// symlink (`ELOOP`/`ENOTDIR` otherwise).
fn open_dir_beneath(root: &Path, relative: &Path) -> io::Result<File> {
    let flags = OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC;
    let mut dir = File::from(nix::fcntl::open(root, flags, Mode::empty())?);
    for component in relative.components() {
        let Component::Normal(part) = component else {
            return Err(io::Error::from(io::ErrorKind::InvalidInput));
        };
        dir = File::from(openat(dir.as_fd(), part, flags, Mode::empty())?);
    }
    Ok(dir)
}

/// Whether opening a deferred directory failed because its path now holds
/// something else (a symlink, a file, a whiteout) or nothing.
fn is_replaced(err: &io::Error) -> bool {
    matches!(
        err.raw_os_error(),
        Some(libc::ELOOP | libc::ENOTDIR | libc::ENOENT)
    )
}

/// Sets the mode of the device node or fifo just made at `path`, after an
/// `lstat` that shows it is still that kind of node (never a symlink).
/// Opening the node to use `fchmod` would open the device.
fn chmod_node(path: &Path, kind: SFlag, mode: u32) -> io::Result<()> {
    let stat = nix::sys::stat::lstat(path)?;
    if SFlag::from_bits_truncate(stat.st_mode) & SFlag::S_IFMT != kind {
        return Err(io::Error::other("node replaced while unpacking"));
    }
    fs::set_permissions(path, fs::Permissions::from_mode(mode))
}

fn set_mtime_nofollow(path: &Path, mtime: u64) -> io::Result<()> {
    let time = TimeSpec::new(mtime as i64, 0);
    utimensat(
        nix::fcntl::AT_FDCWD,
        path,
        &time,
        &time,
        UtimensatFlags::NoFollowSymlink,
    )
    .map_err(io::Error::from)
}
