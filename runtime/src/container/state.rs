//! A container's directory under the state root and the two records kept
//! there: what was created (`config.json`, written once) and what happened
//! since (`state.json`, rewritten atomically by whoever changes it).

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::cgroup::ContainerCgroup;
use super::process::ResolvedProcess;
use super::spec::ContainerSpec;

/// What `create` decided, fixed for the container's life.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ContainerRecord {
    pub id: String,
    pub name: String,
    pub created: String,
    pub image_id: String,
    /// The name the image was asked for by, when known.
    pub image_name: Option<String>,
    pub manifest_digest: String,
    /// Overlay lower directories, bottom layer first.
    pub layers: Vec<PathBuf>,
    pub spec: ContainerSpec,
    pub process: ResolvedProcess,
    pub hostname: String,
    pub stop_signal: String,
    /// cgroup parent directory name (relative to each hierarchy's root).
    pub cgroup_parent: String,
}

/// Where a container is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Created,
    Running,
    Exited,
}

/// What happened to a container since it was created.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContainerState {
    pub status: Status,
    /// The container's PID 1 as the host sees it.
    pub pid: Option<i32>,
    /// Its start time in clock ticks since boot (guards against PID reuse).
    pub pid_start: Option<u64>,
    pub monitor_pid: Option<i32>,
    pub monitor_start: Option<u64>,
    pub started_at: Option<String>,
    pub finished_at: Option<String>,
    pub exit_code: Option<i32>,
    /// The signal that ended the process, when it was killed by one.
    pub signal: Option<i32>,
    pub oom_killed: bool,
    /// Why the process never started, when it did not.
    pub error: Option<String>,
    pub cgroup: Option<ContainerCgroup>,
    /// How many times the container was started.
    pub start_count: u32,
    /// The container was stopped on purpose (`stop`, `kill`): restart
    /// policies leave it alone until it is started again.
    #[serde(default)]
    pub stop_requested: bool,
    /// Its processes are frozen (`pause`).
    #[serde(default)]
    pub paused: bool,
}

impl ContainerState {
    pub fn created() -> ContainerState {
        ContainerState {
            status: Status::Created,
            pid: None,
            pid_start: None,
            monitor_pid: None,
            monitor_start: None,
            started_at: None,
            finished_at: None,
            exit_code: None,
            signal: None,
            oom_killed: false,
            error: None,
            cgroup: None,
            start_count: 0,
            stop_requested: false,
            paused: false,
        }
    }
}

impl super::Runtime {
    /// The container's overlay upper directory: what it changed in its
    /// image's filesystem, in overlay's form (whiteouts, opaque
    /// directories). `berth build` makes a layer of it
    /// ([`crate::image::diff`]) once the container has exited.
    pub fn upper_dir(&self, name_or_id: &str) -> Result<PathBuf, super::ContainerError> {
        let record = self.lookup(name_or_id)?;
        Ok(self.dir(&record.id).upper())
    }
}

/// Paths inside one container's directory.
#[derive(Debug, Clone)]
pub struct ContainerDir(pub PathBuf);

impl ContainerDir {
    pub fn path(&self) -> &Path {
        &self.0
    }
    pub fn config(&self) -> PathBuf {
        self.0.join("config.json")
    }
    pub fn state(&self) -> PathBuf {
        self.0.join("state.json")
    }
    pub fn log(&self) -> PathBuf {
        self.0.join("container.log")
    }
    pub fn monitor_log(&self) -> PathBuf {
        self.0.join("monitor.log")
    }
    pub fn rootfs(&self) -> PathBuf {
        self.0.join("rootfs")
    }
    pub fn upper(&self) -> PathBuf {
        self.0.join("upper")
    }
    pub fn work(&self) -> PathBuf {
        self.0.join("work")
    }
    /// Written by the monitor (the namespace's PID) while a start gate waits.
    /// Where the monitor takes input for the container's stdin.
    pub fn attach_socket(&self) -> PathBuf {
        self.0.join("attach.sock")
    }
    pub fn gate_pid(&self) -> PathBuf {
        self.0.join("gate.pid")
    }
    /// Created by whoever opens the start gate.
    pub fn gate_open(&self) -> PathBuf {
        self.0.join("gate.open")
    }
    pub fn empty_lower(&self) -> PathBuf {
        self.0.join("empty")
    }
    /// Where injected file `index` (a secret or config) is kept.
    pub fn injected_file(&self, index: usize) -> PathBuf {
        self.0.join("files").join(index.to_string())
    }
    /// Where the generated `/etc/hosts`, `/etc/hostname` and `/etc/resolv.conf` live.
    pub fn etc_file(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }

    pub fn read_record(&self) -> io::Result<ContainerRecord> {
        read_json(&self.config())
    }
    pub fn read_state(&self) -> io::Result<ContainerState> {
        read_json(&self.state())
    }
    pub fn write_state(&self, state: &ContainerState) -> io::Result<()> {
        write_json(&self.state(), state)
    }
    /// Replaces `state.json` atomically without syncing it: for facts that
    /// mean nothing after a reboot (paused, a stop under way), so marking
    /// them never waits for the disk.
    pub fn note_state(&self, state: &ContainerState) -> io::Result<()> {
        self.publish_state(state).map(drop)
    }
    /// Replaces `state.json` visibly at once; the caller syncs it after
    /// announcing the change ([`crate::atomic_file::publish`]).
    pub fn publish_state(
        &self,
        state: &ContainerState,
    ) -> io::Result<crate::atomic_file::Published> {
        crate::atomic_file::publish(
            &self.state(),
            &crate::atomic_file::json_bytes(state)?,
            crate::state_root::PRIVATE_FILE_MODE,
        )
    }
}

pub fn read_json<T: for<'de> Deserialize<'de>>(path: &Path) -> io::Result<T> {
    let bytes = fs::read(path)?;
    serde_json::from_slice(&bytes).map_err(|err| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("{}: {err}", path.display()),
        )
    })
}

/// Writes JSON atomically and durably, mode 0600 ([`crate::atomic_file`]):
/// readers see the old or the new content, never a mix, and two threads
/// writing the same file never share a temporary file. Synced, because a
/// record lost or emptied by a host crash loses the container (its name,
/// mounts and volumes) and what `down` must clean up; `/proc` only tells
/// whether its processes still run.
pub fn write_json<T: Serialize>(path: &Path, value: &T) -> io::Result<()> {
    crate::atomic_file::write_json(path, value, crate::state_root::PRIVATE_FILE_MODE)
}

/// A new container's `config.json` and first `state.json`, each replaced
/// atomically (mode 0600) but not synced here: the container's monitor
/// syncs both right after it has reported the first start
/// (`monitor::sync_records`), so neither `create` nor `start` waits for the
/// disk (a sync is about 12 ms on a VM's disk). A container created and
/// never started is synced by nothing; a host crash in that window can lose
/// a record that never ran anything.
pub fn write_new_container(
    dir: &ContainerDir,
    record: &ContainerRecord,
    state: &ContainerState,
) -> io::Result<()> {
    let mode = crate::state_root::PRIVATE_FILE_MODE;
    // The monitor syncs both at the first start.
    drop(crate::atomic_file::publish(
        &dir.config(),
        &crate::atomic_file::json_bytes(record)?,
        mode,
    )?);
    drop(crate::atomic_file::publish(
        &dir.state(),
        &crate::atomic_file::json_bytes(state)?,
        mode,
    )?);
    Ok(())
}

/// A process's start time (field 22 of `/proc/PID/stat`), to tell a PID
/// from a later process that reused it.
pub fn process_start_time(pid: i32) -> Option<u64> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after_name = &stat[stat.rfind(')')? + 2..];
    after_name.split(' ').nth(19)?.parse().ok()
}

/// Whether `pid` is still the process that started at `start`.
pub fn process_alive(pid: i32, start: Option<u64>) -> bool {
    match (process_start_time(pid), start) {
        (Some(now), Some(then)) => now == then,
        (Some(_), None) => true,
        (None, _) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::MetadataExt;

    /// Threads of one process (the supervisor's) writing one container's
    /// state at once: no write fails, no reader sees a torn document, and
    /// the file is root's alone.
    #[test]
    fn concurrent_state_writes_stay_whole_and_private() {
        let dir = tempfile::tempdir().unwrap();
        let path = std::sync::Arc::new(dir.path().join("state.json"));
        let payload = |i: usize| vec![format!("writer {i}"); 200];
        write_json(&path, &payload(0)).unwrap();
        let threads: Vec<_> = (0..8)
            .map(|i| {
                let path = path.clone();
                std::thread::spawn(move || {
                    for _ in 0..50 {
                        write_json(&path, &payload(i)).unwrap();
                        let read: Vec<String> = read_json(&path).unwrap();
                        assert_eq!(read.len(), 200);
                    }
                })
            })
            .collect();
        for thread in threads {
            thread.join().unwrap();
        }
        assert_eq!(fs::metadata(&*path).unwrap().mode() & 0o777, 0o600);
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
