//! Starting a container: the monitor it runs under, its start gate, and
//! attaching to its console (at start, or later with `attach`).

use std::fs;
use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::time::Duration;

use super::stop::wait_for_exit;
use super::*;

impl Runtime {
    /// Attaches to a running container's console: its output from now on,
    /// its stdin (when its spec has `stdin_open`), its terminal's size (when
    /// it has `tty`).
    pub fn attach(&self, name_or_id: &str) -> Result<console::Console> {
        let record = self.lookup(name_or_id)?;
        let path = self.dir(&record.id).attach_socket();
        console::Console::connect(&record.name, &path, Duration::from_secs(2)).map_err(|err| {
            ContainerError::Invalid {
                name: record.name.clone(),
                message: err.to_string(),
            }
        })
    }

    /// Containers waiting at their start gate, with the PID whose
    /// namespaces they have (`/proc/PID/ns/net` is ready to be served).
    pub fn pending_gates(&self) -> Result<Vec<(ContainerRecord, i32)>> {
        Ok(self
            .list()?
            .into_iter()
            .filter_map(|info| {
                let pid = self.gate_pending(&info.record.id)?;
                Some((info.record, pid))
            })
            .collect())
    }

    /// The PID of container `id` when it waits at its start gate.
    pub fn gate_pending(&self, id: &str) -> Option<i32> {
        let dir = self.dir(id);
        if dir.gate_open().exists() {
            return None;
        }
        fs::read_to_string(dir.gate_pid())
            .ok()
            .and_then(|text| text.trim().parse().ok())
    }

    /// Lets a container waiting at its start gate run its program.
    pub fn open_gate(&self, id: &str) -> Result<()> {
        let path = self.dir(id).gate_open();
        fs::write(&path, b"").map_err(io_err(format!("open the start gate of {id}")))
    }

    /// Starts a created or exited container; returns once its program has
    /// been exec'd, or with the reason it could not be.
    pub fn start(&self, name_or_id: &str) -> Result<ContainerState> {
        self.start_with(name_or_id, || {})
    }

    /// [`Runtime::start`], calling `at_gate` once the container waits at its
    /// start gate (only for specs with `start_gate`), so the caller can have
    /// the gate opened at once instead of when its keeper next looks.
    pub fn start_with(&self, name_or_id: &str, at_gate: impl FnOnce()) -> Result<ContainerState> {
        self.start_inner(name_or_id, at_gate, None)
            .map(|(state, _)| state)
    }

    /// [`Runtime::start_with`], attached to the console before the program
    /// starts (no output is missed): the terminal gets `size` first (for a
    /// `tty` container) and the program starts once the console is ready.
    pub fn start_attached(
        &self,
        name_or_id: &str,
        size: Option<console::WindowSize>,
        at_gate: impl FnOnce(),
    ) -> Result<(ContainerState, console::Console)> {
        let (state, console) = self.start_inner(name_or_id, at_gate, Some(size))?;
        let console = console.ok_or_else(|| ContainerError::Invalid {
            name: name_or_id.to_string(),
            message: "its monitor offered no console to attach to".into(),
        })?;
        Ok((state, console))
    }

    fn start_inner(
        &self,
        name_or_id: &str,
        at_gate: impl FnOnce(),
        attach: Option<Option<console::WindowSize>>,
    ) -> Result<(ContainerState, Option<console::Console>)> {
        let record = self.lookup(name_or_id)?;
        let dir = self.dir(&record.id);
        let current = observed_state(&dir).map_err(io_err("read state"))?;
        if current.status == Status::Running {
            return Err(ContainerError::AlreadyRunning(record.name));
        }
        wait_for_exit(
            current.monitor_pid,
            current.monitor_start,
            Duration::from_secs(5),
        );
        let monitor_log =
            fs::File::create(dir.monitor_log()).map_err(io_err("create monitor log"))?;
        let mut child = helper::command(&self.helper)
            .arg(MONITOR_ARG)
            .arg(dir.path())
            .args(attach.map(|_| ATTACH_AT_START_ARG))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(monitor_log)
            .spawn()
            .map_err(io_err(format!("run {}", self.helper.display())))?;
        let mut line = String::new();
        let mut attached = None;
        let mut at_gate = Some(at_gate);
        if let Some(stdout) = child.stdout.take() {
            let mut reader = BufReader::new(stdout);
            loop {
                line.clear();
                let _ = reader.read_line(&mut line);
                if line.starts_with("gate ") {
                    if let Some(at_gate) = at_gate.take() {
                        at_gate();
                    }
                } else if line.trim_end() == "console" {
                    attached = self.attach_at_start(&record, attach.flatten());
                } else {
                    break;
                }
            }
        }
        let _ = child.wait();
        let line = line.trim_end();
        if let Some(rest) = line.strip_prefix("error ") {
            let (code, message) = rest.split_once(' ').unwrap_or((rest, ""));
            return Err(ContainerError::StartFailed {
                name: record.name,
                code: code.parse().unwrap_or(EXIT_SETUP),
                message: message.to_string(),
            });
        }
        if !line.starts_with("ok ") {
            let log = fs::read_to_string(dir.monitor_log()).unwrap_or_default();
            return Err(ContainerError::StartFailed {
                name: record.name,
                code: EXIT_SETUP,
                message: format!("the monitor ended without a report: {}", log.trim()),
            });
        }
        let state = dir.read_state().map_err(io_err("read state"))?;
        Ok((state, attached))
    }

    /// Connects to a console the monitor waits on, gives it the size and
    /// lets the program start; `None` if that failed (the monitor starts
    /// the program anyway, after its patience).
    fn attach_at_start(
        &self,
        record: &ContainerRecord,
        size: Option<console::WindowSize>,
    ) -> Option<console::Console> {
        let path = self.dir(&record.id).attach_socket();
        let console =
            console::Console::connect(&record.name, &path, Duration::from_secs(2)).ok()?;
        let input = console.input();
        if let Some(size) = size {
            input.send(&console::Frame::Resize(size)).ok()?;
        }
        input.send(&console::Frame::Start).ok()?;
        Some(console)
    }
}
