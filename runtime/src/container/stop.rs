//! A container's life after its start: waiting for it, pausing, signals,
//! stopping, renaming and removing it.

use std::fs;
use std::os::fd::AsFd;
use std::time::{Duration, Instant};

use nix::poll::{poll, PollFd, PollFlags, PollTimeout};

use super::*;

impl Runtime {
    /// Waits until the container is no longer running (or `timeout` passes)
    /// and returns its state.
    pub fn wait(&self, name_or_id: &str, timeout: Option<Duration>) -> Result<ContainerState> {
        let record = self.lookup(name_or_id)?;
        let dir = self.dir(&record.id);
        let deadline = timeout.map(|t| Instant::now() + t);
        loop {
            let current = observed_state(&dir).map_err(io_err("read state"))?;
            if current.status != Status::Running {
                return Ok(current);
            }
            // The container's process ends first; the monitor records the
            // exit right after.
            let container_alive = current
                .pid
                .is_some_and(|pid| state::process_alive(pid, current.pid_start));
            let remaining = deadline.map(|d| d.saturating_duration_since(Instant::now()));
            if remaining == Some(Duration::ZERO) {
                return Ok(current);
            }
            let step = remaining
                .unwrap_or(Duration::from_secs(3600))
                .min(Duration::from_secs(3600));
            if container_alive {
                if let Some(Ok(pidfd)) = current.pid.map(sys::pidfd_open) {
                    let mut fds = [PollFd::new(pidfd.as_fd(), PollFlags::POLLIN)];
                    let millis = step.as_millis().clamp(1, i32::MAX as u128) as i32;
                    let _ = poll(
                        &mut fds,
                        PollTimeout::try_from(millis).unwrap_or(PollTimeout::MAX),
                    );
                    continue;
                }
            }
            // The process is gone and the monitor is writing down how it
            // ended: that takes well under a millisecond.
            std::thread::sleep(Duration::from_micros(100).min(step));
        }
    }

    /// Freezes every process of a running container (`docker pause`).
    pub fn pause(&self, name_or_id: &str) -> Result<()> {
        self.set_paused(name_or_id, true)
    }

    /// Thaws a paused container.
    pub fn unpause(&self, name_or_id: &str) -> Result<()> {
        self.set_paused(name_or_id, false)
    }

    fn set_paused(&self, name_or_id: &str, paused: bool) -> Result<()> {
        let record = self.lookup(name_or_id)?;
        let dir = self.dir(&record.id);
        let current = self.state(&record.id)?;
        if current.status != Status::Running {
            return Err(ContainerError::NotRunning(record.name));
        }
        if current.paused == paused {
            return Err(ContainerError::Invalid {
                name: record.name,
                message: if paused {
                    "is already paused".into()
                } else {
                    "is not paused".into()
                },
            });
        }
        let cgroup = current.cgroup.clone().unwrap_or_default();
        cgroup.freeze(paused).map_err(|e| ContainerError::Invalid {
            name: record.name.clone(),
            message: e.to_string(),
        })?;
        let mut on_disk = dir.read_state().map_err(io_err("read state"))?;
        on_disk.paused = paused;
        dir.note_state(&on_disk)
            .map_err(io_err(format!("record the state of {}", record.name)))
    }

    /// Records that the container is being stopped on purpose (restart
    /// policies then leave it alone), before the stop itself: a caller
    /// that first runs something inside it (a `pre_stop` hook that may end
    /// the program) marks it so an early exit is not taken for a crash.
    pub fn mark_stop_requested(&self, id: &str) {
        let dir = self.dir(id);
        if let Ok(mut current) = dir.read_state() {
            if current.status == Status::Running && !current.stop_requested {
                current.stop_requested = true;
                let _ = dir.note_state(&current);
            }
        }
    }

    /// Like [`Runtime::kill`], and restart policies leave the container alone
    /// afterwards (what `docker kill` and `docker compose kill` do).
    pub fn kill_on_purpose(&self, name_or_id: &str, signal: &str) -> Result<()> {
        let record = self.lookup(name_or_id)?;
        self.mark_stop_requested(&record.id);
        self.kill(&record.id, signal)
    }

    /// Sends a signal (`SIGHUP`, `HUP`, `1`) to the container's first process.
    pub fn kill(&self, name_or_id: &str, signal: &str) -> Result<()> {
        let record = self.lookup(name_or_id)?;
        let signal = parse_signal(signal).map_err(|message| ContainerError::Invalid {
            name: record.name.clone(),
            message,
        })?;
        let current = self.state(&record.id)?;
        let Some(pid) = current.pid.filter(|_| current.status == Status::Running) else {
            return Err(ContainerError::NotRunning(record.name));
        };
        // The process may end at any moment: gone is "not running", which
        // `stop` takes as done.
        let gone = |err: &std::io::Error| err.raw_os_error() == Some(libc::ESRCH);
        let pidfd = match sys::pidfd_open(pid) {
            Ok(pidfd) => pidfd,
            Err(err) if gone(&err) => return Err(ContainerError::NotRunning(record.name)),
            Err(err) => return Err(io_err(format!("signal {}", record.name))(err)),
        };
        if !state::process_alive(pid, current.pid_start) {
            return Err(ContainerError::NotRunning(record.name));
        }
        match sys::pidfd_send_signal(pidfd.as_fd(), signal as i32) {
            Ok(()) => {
                // SIGKILL reaches a frozen process only once it is thawed.
                if current.paused && signal == nix::sys::signal::Signal::SIGKILL {
                    let _ = self.unpause(&record.id);
                }
                Ok(())
            }
            Err(err) if gone(&err) => Err(ContainerError::NotRunning(record.name)),
            Err(err) => Err(io_err(format!("signal {}", record.name))(err)),
        }
    }

    /// Stop signal, then SIGKILL after the grace period (the container's
    /// `stop_timeout`, else `timeout`, else 10 s). Returns the final state.
    pub fn stop(&self, name_or_id: &str, timeout: Option<Duration>) -> Result<ContainerState> {
        let record = self.lookup(name_or_id)?;
        self.mark_stop_requested(&record.id);
        // A frozen process cannot act on its stop signal.
        if self.state(&record.id).is_ok_and(|s| s.paused) {
            let _ = self.unpause(&record.id);
        }
        let grace = timeout
            .or(record.spec.stop_timeout)
            .unwrap_or(DEFAULT_STOP_TIMEOUT);
        match self.kill(&record.id, &record.stop_signal) {
            Err(ContainerError::NotRunning(_)) => return self.state(&record.id),
            other => other?,
        }
        let after_signal = self.wait(&record.id, Some(grace))?;
        if after_signal.status != Status::Running {
            return Ok(after_signal);
        }
        match self.kill(&record.id, "SIGKILL") {
            Err(ContainerError::NotRunning(_)) => {}
            other => other?,
        }
        self.wait(&record.id, Some(Duration::from_secs(30)))
    }

    /// Removes a container; a running one only with `force` (killed first).
    pub fn delete(&self, name_or_id: &str, force: bool) -> Result<()> {
        let record = self.lookup(name_or_id)?;
        let dir = self.dir(&record.id);
        let current = observed_state(&dir).unwrap_or_else(|_| ContainerState::created());
        if current.status == Status::Running {
            if !force {
                return Err(ContainerError::StillRunning(record.name));
            }
            let _ = self.kill(&record.id, "SIGKILL");
            self.wait(&record.id, Some(Duration::from_secs(30)))?;
        }
        let last = dir.read_state().ok();
        if let Some(last) = &last {
            wait_for_exit(last.monitor_pid, last.monitor_start, Duration::from_secs(5));
        }
        if let Ok(hierarchies) = cgroup::Hierarchies::detect() {
            hierarchies
                .existing(&record.cgroup_parent, &record.id)
                .remove();
        }
        fs::remove_dir_all(dir.path()).map_err(io_err(format!("remove {}", dir.path().display())))
    }

    /// Gives a container a new name (unique in the state root).
    pub fn rename(&self, name_or_id: &str, new_name: &str) -> Result<()> {
        let mut record = self.lookup(name_or_id)?;
        if let Ok(existing) = self.lookup(new_name) {
            if existing.name == new_name && existing.id != record.id {
                return Err(ContainerError::NameInUse {
                    name: new_name.to_string(),
                    id: existing.id,
                });
            }
        }
        record.name = new_name.to_string();
        record.spec.name = new_name.to_string();
        state::write_json(&self.dir(&record.id).config(), &record)
            .map_err(io_err(format!("rename {name_or_id}")))
    }
}

/// Waits (up to `limit`) for a process to end, when it is still the one
/// that started at `start`.
pub(super) fn wait_for_exit(pid: Option<i32>, start: Option<u64>, limit: Duration) {
    let Some(pid) = pid else { return };
    let Ok(pidfd) = sys::pidfd_open(pid) else {
        return;
    };
    if !state::process_alive(pid, start) {
        return;
    }
    let mut fds = [PollFd::new(pidfd.as_fd(), PollFlags::POLLIN)];
    let millis = limit.as_millis().min(i32::MAX as u128) as i32;
    let _ = poll(
        &mut fds,
        PollTimeout::try_from(millis).unwrap_or(PollTimeout::MAX),
    );
}
