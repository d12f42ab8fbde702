//! Copying files between the host and a container (`cp`), as `docker cp`
//! does: one side writes a tar stream of the source, the other extracts it
//! by Docker's placement rules (a directory destination receives the
//! source by its name, `SRC/.` copies a directory's contents, a missing
//! destination is created, a trailing `/` insists on a directory).
//!
//! The container's side runs in a helper, `berth __berth-cp DIR REQUEST`,
//! that sees the container's files as its processes do: it joins a running
//! container's mount namespace (volumes, binds and tmpfs mounts included)
//! or, for a stopped one, mounts its overlay root and its binds in a mount
//! namespace of its own and `chroot`s into it. Either way every path, `..`
//! and symlink resolves inside the container's root, as the kernel
//! resolves them for the container, and nothing reaches the host's files.
//! Extraction never writes through a symlink in the destination tree and
//! refuses archive entries with `..` (see [`extract`]).

use std::ffi::OsStr;
use std::fs;
use std::io::{self, Read, Write};
use std::path::{Component, Path, PathBuf};
use std::process::{Child, Stdio};

use serde::{Deserialize, Serialize};

use super::state::ContainerDir;
use super::{helper, Runtime, Status};

/// The hidden argument that runs the copy helper.
pub const COPY_ARG: &str = "__berth-cp";

/// Why a copy failed.
#[derive(Debug, thiserror::Error)]
pub enum CopyError {
    /// The source or destination does not allow the copy (missing, a file
    /// where a directory is needed, …).
    #[error("{path}: {message}")]
    Placement { path: String, message: String },
    /// An archive entry that cannot be placed safely.
    #[error("archive entry {entry:?}: {message}")]
    Entry { entry: String, message: String },
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: io::Error,
    },
    /// The helper on the container's side failed (its message).
    #[error("{0}")]
    Helper(String),
}

fn io_err(context: impl Into<String>) -> impl FnOnce(io::Error) -> CopyError {
    let context = context.into();
    move |source| CopyError::Io { context, source }
}

fn placement(path: &str, message: impl Into<String>) -> CopyError {
    CopyError::Placement {
        path: path.to_string(),
        message: message.into(),
    }
}

/// What the helper does inside the container.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum CopyRequest {
    /// Write a tar stream of `path` to stdout.
    Out { path: String, follow_link: bool },
    /// Extract the tar stream on stdin at `path` by the placement rules
    /// (`contents_only`: the source was written `DIR/.`).
    In {
        path: String,
        contents_only: bool,
        keep_owner: bool,
    },
    /// Extract the tar stream on stdin, as it is, into the directory `path`
    /// (`cp - SERVICE:DIR`).
    InRaw { path: String, keep_owner: bool },
}

/// A container path made absolute and clean; `..` that would climb above
/// the container's root is refused rather than silently clamped.
pub fn container_path(path: &str) -> Result<String, CopyError> {
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                if parts.pop().is_none() {
                    return Err(placement(
                        path,
                        "the path leads out of the container's root",
                    ));
                }
            }
            other => parts.push(other),
        }
    }
    let mut clean = format!("/{}", parts.join("/"));
    // Docker's meaning rides on the ending: `DIR/.` (contents) and `DIR/`.
    if path.ends_with("/.") && clean != "/" {
        clean.push_str("/.");
    } else if path.ends_with('/') && clean != "/" {
        clean.push('/');
    }
    Ok(clean)
}

/// Whether a source path asks for a directory's contents (`DIR/.`).
pub fn contents_only(path: &str) -> bool {
    path == "." || path.ends_with("/.")
}

/// Writes a tar stream of `src` (named by its last component) to `out`.
/// `follow_link`: a symlink at `src` itself is copied as what it points to.
pub fn archive(
    src: &Path,
    src_text: &str,
    follow_link: bool,
    out: impl Write,
) -> Result<(), CopyError> {
    let meta =
        fs::symlink_metadata(src).map_err(|_| placement(src_text, "no such file or directory"))?;
    let mut source = src.to_path_buf();
    let mut is_dir = meta.is_dir();
    if meta.file_type().is_symlink() && follow_link {
        source = fs::canonicalize(src).map_err(io_err(format!("{src_text}: follow the link")))?;
        is_dir = fs::metadata(&source).map(|m| m.is_dir()).unwrap_or(false);
    }
    if (src_text.ends_with('/') || src_text.ends_with("/.")) && !is_dir {
        return Err(placement(src_text, "not a directory"));
    }
    let name = top_name(src);
    let mut builder = tar::Builder::new(out);
    builder.follow_symlinks(false);
    let appended = if is_dir {
        builder.append_dir_all(&name, &source)
    } else {
        builder.append_path_with_name(&source, &name)
    };
    appended.map_err(io_err(format!("archiving {src_text}")))?;
    builder
        .into_inner()
        .and_then(|mut out| out.flush())
        .map_err(io_err(format!("archiving {src_text}")))
}

/// The name a source goes by in the archive: its last component (`.` for `/`).
fn top_name(src: &Path) -> PathBuf {
    src.file_name()
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("."))
}

/// Where an archive's top entry lands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Placement {
    /// The top entry becomes this path.
    At(PathBuf),
    /// A directory's contents go into this existing directory (`SRC/.`);
    /// the top entry itself is not applied.
    Into(PathBuf),
}

/// Docker's rules for where a source (a directory or not) goes at `dest`.
pub fn place(
    dest: &Path,
    dest_text: &str,
    src_is_dir: bool,
    contents_only: bool,
    top: &OsStr,
) -> Result<Placement, CopyError> {
    let wants_dir = dest_text.ends_with('/') || dest_text.ends_with("/.");
    match fs::metadata(dest) {
        Ok(meta) if meta.is_dir() => {
            if src_is_dir && contents_only {
                Ok(Placement::Into(dest.to_path_buf()))
            } else {
                Ok(Placement::At(dest.join(top)))
            }
        }
        Ok(_) if src_is_dir => Err(placement(dest_text, "cannot copy a directory to a file")),
        Ok(_) if wants_dir => Err(placement(dest_text, "not a directory")),
        Ok(_) => Ok(Placement::At(dest.to_path_buf())),
        Err(_) if wants_dir && !src_is_dir => {
            Err(placement(dest_text, "the destination directory must exist"))
        }
        Err(_) => {
            let parent = match dest.parent() {
                Some(parent) if parent.as_os_str().is_empty() => Path::new("."),
                Some(parent) => parent,
                None => Path::new("/"),
            };
            match fs::metadata(parent) {
                Ok(meta) if meta.is_dir() => Ok(Placement::At(dest.to_path_buf())),
                _ => Err(placement(dest_text, "no such directory to create it in")),
            }
        }
    }
}

/// An entry's path as plain components: a leading `/` and `.` are dropped
/// (as Docker does), `..` is refused.
fn relative(entry: &Path) -> Result<PathBuf, CopyError> {
    let mut clean = PathBuf::new();
    for component in entry.components() {
        match component {
            Component::Normal(part) => clean.push(part),
            Component::CurDir | Component::RootDir => {}
            Component::ParentDir | Component::Prefix(_) => {
                return Err(CopyError::Entry {
                    entry: entry.display().to_string(),
                    message: "a `..` component would leave the destination".into(),
                })
            }
        }
    }
    Ok(clean)
}

/// Extracts a tar stream of one source (as [`archive`] writes it) at
/// `dest` by [`place`]'s rules. `keep_owner`: entries keep their uid/gid
/// (`cp -a`); otherwise files belong to whoever extracts.
pub fn extract(
    input: impl Read,
    dest: &Path,
    dest_text: &str,
    contents_only: bool,
    keep_owner: bool,
) -> Result<(), CopyError> {
    let mut archive = tar::Archive::new(input);
    let mut top: Option<(PathBuf, Placement)> = None;
    let entries = archive.entries().map_err(io_err("reading the archive"))?;
    for entry in entries {
        let mut entry = entry.map_err(io_err("reading the archive"))?;
        let path = relative(&entry.path().map_err(io_err("reading the archive"))?)?;
        let (top_path, placement) = match &top {
            Some(found) => found.clone(),
            None => {
                let is_dir = entry.header().entry_type().is_dir();
                let top_path: PathBuf = path
                    .components()
                    .next()
                    .map(|c| PathBuf::from(c.as_os_str()))
                    .unwrap_or_default();
                let name = if top_path.as_os_str().is_empty() {
                    OsStr::new(".")
                } else {
                    top_path.as_os_str()
                };
                let decided = place(dest, dest_text, is_dir, contents_only, name)?;
                top = Some((top_path.clone(), decided.clone()));
                (top_path, decided)
            }
        };
        let rest = path.strip_prefix(&top_path).map_err(|_| CopyError::Entry {
            entry: path.display().to_string(),
            message: format!("outside the copied {}", top_path.display()),
        })?;
        let (base, target) = match &placement {
            Placement::At(at) if rest.as_os_str().is_empty() => (at.clone(), at.clone()),
            Placement::At(at) => (at.clone(), at.join(rest)),
            Placement::Into(_) if rest.as_os_str().is_empty() => continue,
            Placement::Into(dir) => (dir.clone(), dir.join(rest)),
        };
        let link_target = |name: &Path| -> Result<PathBuf, CopyError> {
            let name = relative(name)?;
            let rest = name.strip_prefix(&top_path).map_err(|_| CopyError::Entry {
                entry: name.display().to_string(),
                message: "a hard link to outside the copied files".into(),
            })?;
            Ok(base.join(rest))
        };
        unpack_entry(&mut entry, &base, &target, keep_owner, &link_target)?;
    }
    if top.is_none() {
        return Err(CopyError::Helper("the archive is empty".into()));
    }
    Ok(())
}

/// Extracts a tar stream as it is into the existing directory `dir`
/// (`cp - SERVICE:DIR`).
pub fn extract_into(
    input: impl Read,
    dir: &Path,
    dir_text: &str,
    keep_owner: bool,
) -> Result<(), CopyError> {
    match fs::metadata(dir) {
        Ok(meta) if meta.is_dir() => {}
        Ok(_) => {
            return Err(placement(
                dir_text,
                "not a directory: an archive is extracted into a directory",
            ))
        }
        Err(_) => return Err(placement(dir_text, "no such directory")),
    }
    let mut archive = tar::Archive::new(input);
    for entry in archive.entries().map_err(io_err("reading the archive"))? {
        let mut entry = entry.map_err(io_err("reading the archive"))?;
        let path = relative(&entry.path().map_err(io_err("reading the archive"))?)?;
        if path.as_os_str().is_empty() {
            continue;
        }
        let target = dir.join(&path);
        unpack_entry(&mut entry, dir, &target, keep_owner, &|name: &Path| {
            Ok(dir.join(relative(name)?))
        })?;
    }
    Ok(())
}

/// Places one entry at `target` (below `base`): never through a symlink
/// between the two, never a directory over a file or the reverse.
fn unpack_entry<R: Read>(
    entry: &mut tar::Entry<R>,
    base: &Path,
    target: &Path,
    keep_owner: bool,
    link_target: &dyn Fn(&Path) -> Result<PathBuf, CopyError>,
) -> Result<(), CopyError> {
    let shown = target.display().to_string();
    let refuse = |message: &str| CopyError::Entry {
        entry: shown.clone(),
        message: message.to_string(),
    };
    make_parents(base, target)?;
    let kind = entry.header().entry_type();
    match fs::symlink_metadata(target) {
        Ok(meta) if kind.is_dir() && !meta.is_dir() => {
            return Err(refuse("cannot overwrite a non-directory with a directory"))
        }
        Ok(meta) if !kind.is_dir() && meta.is_dir() => {
            return Err(refuse("cannot overwrite a directory with a non-directory"))
        }
        Ok(meta) if !meta.is_dir() => {
            fs::remove_file(target).map_err(io_err(format!("replacing {shown}")))?
        }
        _ => {}
    }
    if kind.is_hard_link() {
        let name = entry
            .link_name()
            .map_err(io_err("reading the archive"))?
            .ok_or_else(|| refuse("a hard link without a target"))?
            .into_owned();
        let source = link_target(&name)?;
        make_parents(base, &source)?;
        fs::hard_link(&source, target).map_err(io_err(format!("linking {shown}")))?;
    } else {
        entry.set_preserve_permissions(true);
        entry.set_preserve_mtime(true);
        entry.set_unpack_xattrs(false);
        entry
            .unpack(target)
            .map_err(io_err(format!("writing {shown}")))?;
    }
    if keep_owner {
        let header = entry.header();
        let uid = header.uid().ok().and_then(|v| u32::try_from(v).ok());
        let gid = header.gid().ok().and_then(|v| u32::try_from(v).ok());
        nix::unistd::fchownat(
            nix::fcntl::AT_FDCWD,
            target,
            uid.map(nix::unistd::Uid::from_raw),
            gid.map(nix::unistd::Gid::from_raw),
            nix::fcntl::AtFlags::AT_SYMLINK_NOFOLLOW,
        )
        .map_err(|err| io_err(format!("chown {shown}"))(err.into()))?;
        if !kind.is_symlink() {
            // chown clears setuid/setgid bits: apply the mode again.
            if let Ok(mode) = header.mode() {
                use std::os::unix::fs::PermissionsExt;
                let _ = fs::set_permissions(target, fs::Permissions::from_mode(mode & 0o7777));
            }
        }
    }
    Ok(())
}

/// Makes the directories between `base` and `target`'s parent, refusing a
/// symlink among them (an archive must not write through one).
fn make_parents(base: &Path, target: &Path) -> Result<(), CopyError> {
    let Ok(rest) = target.strip_prefix(base) else {
        return Err(CopyError::Entry {
            entry: target.display().to_string(),
            message: "outside the destination".into(),
        });
    };
    let mut dir = base.to_path_buf();
    let parts: Vec<_> = rest.components().collect();
    for part in parts.iter().take(parts.len().saturating_sub(1)) {
        dir.push(part);
        match fs::symlink_metadata(&dir) {
            Ok(meta) if meta.file_type().is_symlink() => {
                return Err(CopyError::Entry {
                    entry: target.display().to_string(),
                    message: format!("{} is a symlink: not writing through it", dir.display()),
                })
            }
            Ok(meta) if !meta.is_dir() => {
                return Err(CopyError::Entry {
                    entry: target.display().to_string(),
                    message: format!("{} is not a directory", dir.display()),
                })
            }
            Ok(_) => {}
            Err(_) => {
                fs::create_dir(&dir).map_err(io_err(format!("creating {}", dir.display())))?
            }
        }
    }
    Ok(())
}

/// The helper's side of a running copy: its process and where its
/// messages go.
#[derive(Debug)]
pub struct CopyHelper {
    pub child: Child,
}

impl CopyHelper {
    /// Waits for the helper; its error message when it failed.
    pub fn finish(self) -> Result<(), CopyError> {
        let output = self
            .child
            .wait_with_output()
            .map_err(io_err("waiting for the copy helper"))?;
        if output.status.success() {
            return Ok(());
        }
        let message = String::from_utf8_lossy(&output.stderr).trim().to_string();
        Err(CopyError::Helper(if message.is_empty() {
            format!("the copy helper failed ({})", output.status)
        } else {
            message
        }))
    }
}

impl Runtime {
    /// Starts the copy helper for container `name_or_id`. Its stdin and
    /// stdout carry the tar stream (`CopyRequest::Out` writes stdout, the
    /// others read stdin); stderr is kept for [`CopyHelper::finish`].
    pub fn copy(
        &self,
        name_or_id: &str,
        request: &CopyRequest,
        stdin: Stdio,
        stdout: Stdio,
    ) -> Result<CopyHelper, super::ContainerError> {
        let record = self.lookup(name_or_id)?;
        let request = serde_json::to_string(request)
            .map_err(|err| super::io_err("encode copy request")(io::Error::other(err)))?;
        let child = helper::command(&self.helper)
            .arg(COPY_ARG)
            .arg(self.dir(&record.id).path())
            .arg(request)
            .stdin(stdin)
            .stdout(stdout)
            .stderr(Stdio::piped())
            .spawn()
            .map_err(super::io_err("run the copy helper"))?;
        Ok(CopyHelper { child })
    }
}

/// The helper: enter the container's filesystem, then serve the request.
pub fn main(dir: PathBuf, request: &str) -> i32 {
    let request: CopyRequest = match serde_json::from_str(request) {
        Ok(request) => request,
        Err(err) => {
            eprintln!("bad copy request: {err}");
            return 2;
        }
    };
    let result = enter(&ContainerDir(dir)).and_then(|()| serve(&request));
    match result {
        Ok(()) => 0,
        Err(err) => {
            if !matches!(request, CopyRequest::Out { .. }) {
                // Let the writer finish instead of dying on a closed pipe.
                let _ = io::copy(&mut io::stdin(), &mut io::sink());
            }
            eprintln!("{err}");
            1
        }
    }
}

/// Makes `/` the container's root: its mount namespace when it runs, else
/// its overlay and binds mounted in a private namespace, then `chroot`.
fn enter(dir: &ContainerDir) -> Result<(), CopyError> {
    let record = dir
        .read_record()
        .map_err(io_err("reading the container's record"))?;
    let state = super::observed_state(dir).map_err(io_err("reading the container's state"))?;
    let running = state.status == Status::Running;
    if let (true, Some(pid)) = (running, state.pid) {
        let ns = fs::File::open(format!("/proc/{pid}/ns/mnt"))
            .map_err(io_err("opening the container's mount namespace"))?;
        // Joining a mount namespace also moves root and working directory
        // to its root: the container's, after its pivot_root.
        nix::sched::setns(&ns, nix::sched::CloneFlags::CLONE_NEWNS)
            .map_err(|err| io_err("joining the container's mount namespace")(err.into()))?;
        return Ok(());
    }
    nix::sched::unshare(nix::sched::CloneFlags::CLONE_NEWNS)
        .map_err(|err| io_err("a private mount namespace")(err.into()))?;
    nix::mount::mount(
        None::<&str>,
        "/",
        None::<&str>,
        nix::mount::MsFlags::MS_REC | nix::mount::MsFlags::MS_PRIVATE,
        None::<&str>,
    )
    .map_err(|err| io_err("making mounts private")(err.into()))?;
    let rootfs = super::rootfs::mount_for_copy(dir, &record).map_err(CopyError::Helper)?;
    nix::unistd::chroot(&rootfs)
        .map_err(|err| io_err("entering the container's root")(err.into()))?;
    nix::unistd::chdir("/").map_err(|err| io_err("chdir /")(err.into()))?;
    Ok(())
}

fn serve(request: &CopyRequest) -> Result<(), CopyError> {
    match request {
        CopyRequest::Out { path, follow_link } => {
            let clean = container_path(path)?;
            let stdout = io::stdout().lock();
            archive(
                Path::new(&clean),
                path,
                *follow_link,
                io::BufWriter::new(stdout),
            )
        }
        CopyRequest::In {
            path,
            contents_only,
            keep_owner,
        } => {
            let clean = container_path(path)?;
            extract(
                io::stdin().lock(),
                Path::new(&clean),
                path,
                *contents_only,
                *keep_owner,
            )
        }
        CopyRequest::InRaw { path, keep_owner } => {
            let clean = container_path(path)?;
            extract_into(io::stdin().lock(), Path::new(&clean), path, *keep_owner)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(dir: &Path) {
        fs::create_dir_all(dir.join("src/sub")).unwrap();
        fs::write(dir.join("src/a.txt"), "a").unwrap();
        fs::write(dir.join("src/sub/b.txt"), "b").unwrap();
        fs::write(dir.join("file.txt"), "f").unwrap();
    }

    fn copy(dir: &Path, src: &str, dest: &str) -> Result<(), CopyError> {
        let mut tar = Vec::new();
        archive(&dir.join(src.trim_end_matches('/')), src, false, &mut tar)?;
        extract(&tar[..], &dir.join(dest), dest, contents_only(src), false)
    }

    #[test]
    fn container_paths_are_cleaned_and_cannot_climb_out() {
        assert_eq!(container_path("etc/hosts").unwrap(), "/etc/hosts");
        assert_eq!(container_path("/a/../b/").unwrap(), "/b/");
        assert_eq!(container_path("/data/.").unwrap(), "/data/.");
        assert_eq!(container_path("/").unwrap(), "/");
        assert!(container_path("/../etc/passwd").is_err());
        assert!(container_path("a/../../x").is_err());
    }

    #[test]
    fn docker_placement_rules() {
        let tmp = tempfile::tempdir().unwrap();
        let d = tmp.path();
        tree(d);
        // A file into an existing directory keeps its name.
        fs::create_dir(d.join("out")).unwrap();
        copy(d, "file.txt", "out").unwrap();
        assert_eq!(fs::read_to_string(d.join("out/file.txt")).unwrap(), "f");
        // A file to a new name.
        copy(d, "file.txt", "renamed.txt").unwrap();
        assert_eq!(fs::read_to_string(d.join("renamed.txt")).unwrap(), "f");
        // A file to a missing directory (trailing slash) is refused.
        assert!(copy(d, "file.txt", "missing/").is_err());
        // A directory to a new path: created with the contents.
        copy(d, "src", "fresh").unwrap();
        assert_eq!(fs::read_to_string(d.join("fresh/sub/b.txt")).unwrap(), "b");
        // A directory into an existing one: by its name.
        copy(d, "src", "out").unwrap();
        assert_eq!(fs::read_to_string(d.join("out/src/a.txt")).unwrap(), "a");
        // `src/.`: only the contents.
        fs::create_dir(d.join("flat")).unwrap();
        copy(d, "src/.", "flat").unwrap();
        assert_eq!(fs::read_to_string(d.join("flat/a.txt")).unwrap(), "a");
        // A directory over a file is refused.
        assert!(copy(d, "src", "file.txt").is_err());
        // A file source written as a directory is refused.
        assert!(copy(d, "file.txt/", "out").is_err());
    }

    #[test]
    fn extraction_refuses_dotdot_and_symlinked_parents() {
        let tmp = tempfile::tempdir().unwrap();
        let d = tmp.path();
        fs::create_dir(d.join("dest")).unwrap();
        fs::create_dir(d.join("outside")).unwrap();
        std::os::unix::fs::symlink(d.join("outside"), d.join("dest/link")).unwrap();
        let raw = |name: &str| {
            let mut tar = Vec::new();
            {
                let mut b = tar::Builder::new(&mut tar);
                let mut h = tar::Header::new_gnu();
                h.set_size(1);
                h.set_mode(0o644);
                h.set_entry_type(tar::EntryType::Regular);
                // Written raw: the builder's own checks would refuse `..`.
                let bytes = name.as_bytes();
                h.as_old_mut().name[..bytes.len()].copy_from_slice(bytes);
                h.set_cksum();
                b.append(&h, &b"x"[..]).unwrap();
                b.finish().unwrap();
            }
            tar
        };
        let err = extract_into(&raw("../escape")[..], &d.join("dest"), "dest", false);
        assert!(err.is_err());
        assert!(!d.join("escape").exists());
        let err = extract_into(&raw("link/file")[..], &d.join("dest"), "dest", false);
        assert!(err.unwrap_err().to_string().contains("symlink"));
        assert!(!d.join("outside/file").exists());
        extract_into(&raw("ok/file")[..], &d.join("dest"), "dest", false).unwrap();
        assert_eq!(fs::read_to_string(d.join("dest/ok/file")).unwrap(), "x");
    }
}
