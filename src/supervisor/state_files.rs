//! The supervisor's files, every one under `RUN_DIR/PROJECT/`, and their
//! one reader and writer each. They are how the supervisor's work outlives
//! it and reaches the commands: `ps`, `port`, `inspect`, `events` and the
//! reconciler read them whether a supervisor runs or not, and a new
//! supervisor takes over from a crashed one's.
//!
//! | file | holds | written by |
//! | --- | --- | --- |
//! | `supervisor.pid` | the supervisor's PID | the supervisor, once listening |
//! | `supervisor.log` | its standard error | the command that started it |
//! | `supervisor.sock` | its control socket (see [`super::control`]) | the supervisor |
//! | `health/ID.json` | a container's [`HealthState`] | each health probe |
//! | `ports/ID.json` | a container's [`PublishedPort`]s | port publication |
//!
//! Every file is written atomically and is root's alone: a reader never
//! sees one half written.

use std::fs;
use std::path::{Path, PathBuf};

use berth_runtime::ports::PublishedPort;

use super::health::HealthState;

/// The project's folder in the run directory.
pub fn project_dir(run_dir: &Path, project: &str) -> PathBuf {
    run_dir.join(project)
}

/// Writes a run-time file atomically and durably, root's alone.
fn write_run_file(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    berth_runtime::atomic_file::write(path, bytes, berth_runtime::state_root::PRIVATE_FILE_MODE)
}

/// Where the running supervisor's PID is kept.
pub fn pid_file(run_dir: &Path, project: &str) -> PathBuf {
    project_dir(run_dir, project).join("supervisor.pid")
}

/// The PID the PID file names, running or not.
pub fn read_pid(run_dir: &Path, project: &str) -> Option<i32> {
    fs::read_to_string(pid_file(run_dir, project))
        .ok()?
        .trim()
        .parse()
        .ok()
}

/// Records this process as the project's supervisor.
pub fn write_pid(run_dir: &Path, project: &str, pid: u32) -> std::io::Result<()> {
    write_run_file(&pid_file(run_dir, project), pid.to_string().as_bytes())
}

/// Where the supervisor's standard error goes.
pub fn log_file(run_dir: &Path, project: &str) -> PathBuf {
    project_dir(run_dir, project).join("supervisor.log")
}

fn health_dir(run_dir: &Path, project: &str) -> PathBuf {
    project_dir(run_dir, project).join("health")
}

fn ports_dir(run_dir: &Path, project: &str) -> PathBuf {
    project_dir(run_dir, project).join("ports")
}

/// Makes the folders the supervisor writes into.
pub fn create_dirs(run_dir: &Path, project: &str) {
    let _ = fs::create_dir_all(health_dir(run_dir, project));
    let _ = fs::create_dir_all(ports_dir(run_dir, project));
}

/// Where a container's health results are kept.
pub fn health_file(run_dir: &Path, project: &str, container_id: &str) -> PathBuf {
    health_dir(run_dir, project).join(format!("{container_id}.json"))
}

/// The container's health, when it has a health check and was probed.
pub fn read_health(run_dir: &Path, project: &str, container_id: &str) -> Option<HealthState> {
    let text = fs::read(health_file(run_dir, project, container_id)).ok()?;
    serde_json::from_slice(&text).ok()
}

/// Records the container's health after a probe.
pub fn write_health(path: &Path, state: &HealthState) {
    if let Ok(json) = serde_json::to_vec(state) {
        let _ = write_run_file(path, &json);
    }
}

/// Forgets the container's health (it starts again from `starting`).
pub fn remove_health(run_dir: &Path, project: &str, container_id: &str) {
    let _ = fs::remove_file(health_file(run_dir, project, container_id));
}

/// Where a container's published ports are listed.
pub fn ports_file(run_dir: &Path, project: &str, container_id: &str) -> PathBuf {
    ports_dir(run_dir, project).join(format!("{container_id}.json"))
}

/// The ports published for a container now.
pub fn read_ports(run_dir: &Path, project: &str, container_id: &str) -> Vec<PublishedPort> {
    fs::read(ports_file(run_dir, project, container_id))
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .unwrap_or_default()
}

/// Records the ports published for a container.
pub fn write_ports(run_dir: &Path, project: &str, container_id: &str, ports: &[PublishedPort]) {
    if let Ok(json) = serde_json::to_vec(ports) {
        let _ = write_run_file(&ports_file(run_dir, project, container_id), &json);
    }
}

/// Forgets a container's ports once they are closed.
pub fn remove_ports(run_dir: &Path, project: &str, container_id: &str) {
    let _ = fs::remove_file(ports_file(run_dir, project, container_id));
}

/// Removes the files of a supervisor that ends for good: its PID file,
/// socket and the health results (not the log: `down` removes that).
pub fn clean_up(run_dir: &Path, project: &str) {
    let _ = fs::remove_file(pid_file(run_dir, project));
    let _ = fs::remove_file(super::control::socket_path(run_dir, project));
    let _ = fs::remove_dir_all(health_dir(run_dir, project));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_read_back_and_go() {
        let dir = tempfile::tempdir().unwrap();
        let run = dir.path();
        create_dirs(run, "p");
        assert_eq!(read_pid(run, "p"), None);
        write_pid(run, "p", 42).unwrap();
        assert_eq!(read_pid(run, "p"), Some(42));
        assert!(read_ports(run, "p", "c1").is_empty());
        write_ports(run, "p", "c1", &[]);
        assert!(ports_file(run, "p", "c1").exists());
        remove_ports(run, "p", "c1");
        assert!(!ports_file(run, "p", "c1").exists());
        assert!(read_health(run, "p", "c1").is_none());
        write_health(&health_file(run, "p", "c1"), &HealthState::default());
        assert!(read_health(run, "p", "c1").is_some());
        clean_up(run, "p");
        assert_eq!(read_pid(run, "p"), None);
        assert!(read_health(run, "p", "c1").is_none());
    }
}
