//! A project's supervisor as the commands see it: start one unless one runs
//! (`up`, `start`, `run`), ask it to act now (after a change), find its PID
//! (the reconciler lets it keep the ports of containers being replaced),
//! and stop it (`down`). Only its files and its socket are used: nothing
//! here runs inside the supervisor.

use std::fs;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::control::{self, Request};
use super::state_files;

/// The hidden argument that runs the supervisor.
pub const SUPERVISOR_ARG: &str = "__berth-supervisor";

/// Whether a supervisor for `project` runs now: the PID file names a live
/// process started with [`SUPERVISOR_ARG`] for this project.
pub fn is_running(run_dir: &Path, project: &str) -> bool {
    let Some(pid) = state_files::read_pid(run_dir, project) else {
        return false;
    };
    fs::read(format!("/proc/{pid}/cmdline"))
        .map(|cmdline| {
            let cmdline = String::from_utf8_lossy(&cmdline);
            cmdline.contains(SUPERVISOR_ARG) && cmdline.split('\0').any(|a| a == project)
        })
        .unwrap_or(false)
}

/// The supervisor's PID when one runs.
pub fn supervisor_pid(run_dir: &Path, project: &str) -> Option<u32> {
    if !is_running(run_dir, project) {
        return None;
    }
    state_files::read_pid(run_dir, project).and_then(|pid| u32::try_from(pid).ok())
}

/// Starts the project's supervisor unless one runs.
pub fn ensure_running(root: &Path, run_dir: &Path, project: &str) -> std::io::Result<()> {
    if is_running(run_dir, project) {
        return Ok(());
    }
    let dir = state_files::project_dir(run_dir, project);
    for private in [run_dir, &dir] {
        berth_runtime::state_root::ensure_dir(
            private,
            berth_runtime::state_root::PRIVATE_DIR_MODE,
        )?;
    }
    let log = fs::File::create(state_files::log_file(run_dir, project))?;
    Command::new(std::env::current_exe()?)
        .arg(SUPERVISOR_ARG)
        .arg(project)
        .arg(root)
        .arg(run_dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()?;
    let deadline = Instant::now() + Duration::from_secs(5);
    while !is_running(run_dir, project) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
    Ok(())
}

/// Asks the project's supervisor, when one runs, to act on the containers
/// now (publish ports, serve DNS, open start gates) and waits until it has.
pub fn converge_now(run_dir: &Path, project: &str) {
    let _ = control::request(run_dir, project, Request::Converge);
}

/// Stops the project's supervisor (after `down`), waiting for it briefly.
pub fn stop(run_dir: &Path, project: &str) {
    let Some(pid) = supervisor_pid(run_dir, project) else {
        return;
    };
    let pid = nix::unistd::Pid::from_raw(pid as i32);
    if control::request(run_dir, project, Request::Shutdown).is_err() {
        let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM);
    }
    // Until the process is gone: its port proxies close with it.
    let deadline = Instant::now() + Duration::from_secs(2);
    while process_exists(pid.as_raw()) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(2));
    }
    state_files::clean_up(run_dir, project);
    let _ = fs::remove_file(state_files::log_file(run_dir, project));
}

/// Whether `pid` is a process that has not exited (a zombie has). The
/// supervisor has threads (its serving runtime): its main thread can be a
/// zombie while the others still tear down and still hold the descriptors
/// (the published ports), so it has exited only when no other thread is
/// left in `/proc/PID/task`.
fn process_exists(pid: i32) -> bool {
    let leader_alive = match fs::read_to_string(format!("/proc/{pid}/stat")) {
        // The state follows the command name in parentheses.
        Ok(stat) => stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().next())
            .is_some_and(|state| state != "Z" && state != "X"),
        Err(_) => return false,
    };
    let threads = fs::read_dir(format!("/proc/{pid}/task"))
        .map(|tasks| tasks.count())
        .unwrap_or(0);
    leader_alive || threads > 1
}
