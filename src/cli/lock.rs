//! The project lock: one command at a time changes a project. An exclusive
//! `flock` on `<run dir>/<project>/lock` (run dir: `BERTH_RUN`, default
//! `/run/berth`), released when the command ends or dies.

use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};

use anyhow::Context;
use nix::fcntl::{Flock, FlockArg};

/// Where per-project run-time files live (locks, sockets).
pub fn run_dir() -> PathBuf {
    std::env::var_os("BERTH_RUN")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/run/berth"))
}

/// Creates the run directory and a project's directory in it, both only
/// root's (they hold the supervisor's socket and PID, ports and health files).
pub fn ensure_private_dirs(run_dir: &Path, project_dir: &Path) -> anyhow::Result<()> {
    use berth_runtime::state_root::{ensure_dir, PRIVATE_DIR_MODE};
    for dir in [run_dir, project_dir] {
        ensure_dir(dir, PRIVATE_DIR_MODE).with_context(|| format!("creating {}", dir.display()))?;
    }
    Ok(())
}

/// Held while a command changes the project.
pub struct ProjectLock {
    _lock: Flock<File>,
}

impl ProjectLock {
    /// Waits for the project's lock; says so when another command holds it.
    pub fn acquire(run_dir: &Path, project: &str) -> anyhow::Result<ProjectLock> {
        let dir = run_dir.join(project);
        ensure_private_dirs(run_dir, &dir)?;
        let path = dir.join("lock");
        let open = || {
            OpenOptions::new()
                .create(true)
                .truncate(false)
                .write(true)
                .open(&path)
                .with_context(|| format!("opening {}", path.display()))
        };
        let lock = match Flock::lock(open()?, FlockArg::LockExclusiveNonblock) {
            Ok(lock) => lock,
            Err((_, _)) => {
                eprintln!("waiting for another berth command on project {project:?} to finish");
                Flock::lock(open()?, FlockArg::LockExclusive)
                    .map_err(|(_, errno)| anyhow::anyhow!("locking {}: {errno}", path.display()))?
            }
        };
        Ok(ProjectLock { _lock: lock })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;
    use std::time::Duration;

    #[test]
    fn a_second_holder_waits_for_the_first() {
        let dir = tempfile::tempdir().unwrap();
        let first = ProjectLock::acquire(dir.path(), "demo").unwrap();
        let (tx, rx) = mpsc::channel();
        let path = dir.path().to_path_buf();
        let waiter = std::thread::spawn(move || {
            let _second = ProjectLock::acquire(&path, "demo").unwrap();
            tx.send(()).unwrap();
        });
        assert!(
            rx.recv_timeout(Duration::from_millis(200)).is_err(),
            "must wait"
        );
        drop(first);
        rx.recv_timeout(Duration::from_secs(5)).unwrap();
        waiter.join().unwrap();
    }
}
