//! One tar entry at a time: path checks, whiteouts, and creating each kind
//! of file with its owner, mode, times and extended attributes.

use std::fs::{self, OpenOptions};
use std::io::{self, Read};
use std::os::unix::fs::{lchown, symlink, OpenOptionsExt, PermissionsExt};
use std::path::{Component, Path, PathBuf};

use nix::sys::stat::{makedev, mknod, utimensat, Mode, SFlag, UtimensatFlags};
use nix::sys::time::TimeSpec;
use tar::EntryType;

use super::UnpackError;

/// Prefix of an OCI whiteout file.
const WHITEOUT_PREFIX: &str = ".wh.";
/// The OCI opaque-directory marker.
const OPAQUE_MARKER: &str = ".wh..wh..opq";

/// Directory metadata applied at the end, once the contents are in place.
struct DirMeta {
    path: PathBuf,
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

    /// Removes whatever is at `path` (never following a symlink), keeping an
    /// existing directory when a directory is wanted again.
    fn clear(&self, name: &str, path: &Path, keep_dir: bool) -> Result<(), UnpackError> {
        match fs::symlink_metadata(path) {
            Ok(meta) if meta.is_dir() && keep_dir => Ok(()),
            Ok(meta) if meta.is_dir() => fs::remove_dir_all(path).map_err(self.entry_error(name)),
            Ok(_) => fs::remove_file(path).map_err(self.entry_error(name)),
            Err(err) if err.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(err) => Err(self.entry_error(name)(err)),
        }
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
        let parent = self.dest.join(relative.parent().unwrap_or(Path::new("")));
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
            let target = parent.join(hidden);
            self.clear(&name, &target, false)?;
            return mknod(&target, SFlag::S_IFCHR, Mode::empty(), makedev(0, 0))
                .map_err(|errno| self.entry_error(&name)(io::Error::from(errno)));
        }
        let path = self.dest.join(&relative);
        let header = entry.header().clone();
        let mode = header.mode().unwrap_or(0o644) & 0o7777;
        let mtime = header.mtime().unwrap_or(0);
        let kind = header.entry_type();
        self.clear(&name, &path, kind == EntryType::Directory)?;
        let err = self.entry_error(&name);
        match kind {
            EntryType::Directory => {
                if !path.is_dir() {
                    fs::create_dir(&path).map_err(err)?;
                }
                self.dirs.push(DirMeta {
                    path: path.clone(),
                    mode,
                    mtime,
                });
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
            }
            EntryType::Symlink => {
                let target = entry
                    .link_name()
                    .map_err(self.entry_error(&name))?
                    .ok_or_else(|| self.unsafe_entry(&name, "is a symlink without a target"))?;
                symlink(target, &path).map_err(err)?;
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
                fs::hard_link(&source, &path).map_err(err)?;
                // A hardlink shares the target's inode: nothing more to set.
                return Ok(());
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
            }
            EntryType::XGlobalHeader
            | EntryType::XHeader
            | EntryType::GNULongName
            | EntryType::GNULongLink => {
                return Ok(());
            }
            _ => return Err(self.unsafe_entry(&name, "has an unsupported entry type")),
        }
        self.apply_metadata(&name, entry, &path, kind, mode, mtime)
    }

    fn apply_metadata<R: Read>(
        &self,
        name: &str,
        entry: &mut tar::Entry<'_, R>,
        path: &Path,
        kind: EntryType,
        mode: u32,
        mtime: u64,
    ) -> Result<(), UnpackError> {
        let header = entry.header();
        let uid = header.uid().unwrap_or(0) as u32;
        let gid = header.gid().unwrap_or(0) as u32;
        lchown(path, Some(uid), Some(gid)).map_err(self.entry_error(name))?;
        if let Ok(Some(extensions)) = entry.pax_extensions() {
            for extension in extensions.flatten() {
                let Ok(key) = extension.key() else { continue };
                if let Some(attr) = key.strip_prefix("SCHILY.xattr.") {
                    xattr::set(path, attr, extension.value_bytes())
                        .map_err(self.entry_error(name))?;
                }
            }
        }
        if kind != EntryType::Symlink && kind != EntryType::Directory {
            // After chown, which clears setuid/setgid bits.
            fs::set_permissions(path, fs::Permissions::from_mode(mode))
                .map_err(self.entry_error(name))?;
        }
        set_mtime(path, mtime).map_err(self.entry_error(name))
    }

    /// Applies directory modes and times, deepest first.
    pub fn finish(mut self) -> Result<(), UnpackError> {
        self.dirs
            .sort_by_key(|d| std::cmp::Reverse(d.path.components().count()));
        for dir in &self.dirs {
            let name = dir.path.display().to_string();
            fs::set_permissions(&dir.path, fs::Permissions::from_mode(dir.mode))
                .map_err(self.entry_error(&name))?;
            set_mtime(&dir.path, dir.mtime).map_err(self.entry_error(&name))?;
        }
        Ok(())
    }
}

fn set_mtime(path: &Path, mtime: u64) -> io::Result<()> {
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
