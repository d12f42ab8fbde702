//! The berth binary that the hidden modes (monitor, container init, exec)
//! run from, out of the container's reach.
//!
//! A container's first process and every `exec` run berth's own code inside
//! the container until they exec the program, and an image can make them
//! exec berth itself (`#!/proc/self/exe`, or `/bin/sh` linked to it). A
//! process in the container could then reopen the binary through
//! `/proc/PID/exe` and overwrite the host's copy (runc's CVE-2019-5736). So
//! the helper is started through a read-only, detached bind mount of the
//! binary (nothing in any mount table; writes fail with EROFS), or, where
//! that is refused (no new mount API), through a sealed in-memory copy.
//! The mount is made once per process and kept for its life.

use std::collections::HashMap;
use std::fs::File;
use std::io;
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex, OnceLock};

use nix::fcntl::{fcntl, FcntlArg, SealFlag};
use nix::sys::memfd::{memfd_create, MFdFlags};

use super::sys;

/// A descriptor of the helper binary that cannot be written through.
#[derive(Debug)]
pub struct SealedHelper {
    fd: OwnedFd,
}

impl SealedHelper {
    /// The path that execs the sealed binary (this process's descriptor).
    pub fn exec_path(&self) -> PathBuf {
        PathBuf::from(format!("/proc/self/fd/{}", self.fd.as_raw_fd()))
    }
}

/// The sealed helper for `binary`, made on first use in this process.
pub fn sealed(binary: &Path) -> io::Result<Arc<SealedHelper>> {
    static CACHE: OnceLock<Mutex<HashMap<PathBuf, Arc<SealedHelper>>>> = OnceLock::new();
    let mut cache = CACHE
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some(helper) = cache.get(binary) {
        return Ok(helper.clone());
    }
    let fd = match sys::read_only_detached_file(binary) {
        Ok(fd) => fd,
        Err(err) => {
            tracing::debug!(
                "read-only mount of {} refused ({err}); using a sealed copy",
                binary.display()
            );
            sealed_copy(binary)?
        }
    };
    let helper = Arc::new(SealedHelper { fd });
    cache.insert(binary.to_path_buf(), helper.clone());
    Ok(helper)
}

/// A memfd holding a copy of `binary`, sealed against every change.
fn sealed_copy(binary: &Path) -> io::Result<OwnedFd> {
    let fd = memfd_create(
        c"berth-helper",
        MFdFlags::MFD_CLOEXEC | MFdFlags::MFD_ALLOW_SEALING,
    )?;
    let mut copy = File::from(fd);
    io::copy(&mut File::open(binary)?, &mut copy)?;
    let seals = SealFlag::F_SEAL_SEAL
        | SealFlag::F_SEAL_SHRINK
        | SealFlag::F_SEAL_GROW
        | SealFlag::F_SEAL_WRITE;
    fcntl(&copy, FcntlArg::F_ADD_SEALS(seals))?;
    Ok(OwnedFd::from(copy))
}

/// A command running `binary` through its sealed descriptor, with `binary`
/// as `argv[0]` (what `ps` shows). Falls back to the plain path, with a
/// warning, when neither protection can be made.
pub fn command(binary: &Path) -> Command {
    match sealed(binary) {
        Ok(helper) => {
            let mut command = Command::new(helper.exec_path());
            command.arg0(binary);
            command
        }
        Err(err) => {
            tracing::warn!(
                "cannot seal {} ({err}); running it unprotected",
                binary.display()
            );
            Command::new(binary)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::os::unix::fs::PermissionsExt;

    /// A tiny executable script copied to a private directory.
    fn script(dir: &Path) -> PathBuf {
        let path = dir.join("helper.sh");
        let mut file = File::create(&path).unwrap();
        writeln!(file, "#!/bin/sh\necho sealed \"$@\"").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        path
    }

    #[test]
    fn the_sealed_helper_runs_and_cannot_be_written_through() {
        let dir = tempfile::tempdir().unwrap();
        // An ELF binary: scripts cannot be exec'd through a close-on-exec fd.
        let binary = dir.path().join("true");
        std::fs::copy("/bin/true", &binary).unwrap();
        let helper = sealed(&binary).unwrap();
        assert!(
            Arc::ptr_eq(&helper, &sealed(&binary).unwrap()),
            "not cached"
        );
        let status = command(&binary).status().unwrap();
        assert!(status.success());
        // Writing to the sealed file fails, as it would through
        // /proc/PID/exe of a process started from it.
        let written = std::fs::OpenOptions::new()
            .write(true)
            .open(helper.exec_path())
            .and_then(|mut file| file.write_all(b"x"));
        let err = written.unwrap_err();
        assert!(
            matches!(err.raw_os_error(), Some(libc::EROFS) | Some(libc::EPERM)),
            "{err}"
        );
        assert_eq!(
            std::fs::read(&binary).unwrap(),
            std::fs::read("/bin/true").unwrap()
        );
        // The sealed copy used where the mount API is refused is read-only too.
        let copy = sealed_copy(&script(dir.path())).unwrap();
        let mut file = File::from(copy);
        assert!(file.write_all(b"x").is_err());
    }
}
