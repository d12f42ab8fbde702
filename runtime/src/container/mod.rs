//! Containers: create, start, state, wait, stop, kill, delete, exec, logs.
//!
//! Each container has a directory under `<root>/containers/<id>/` holding
//! what `create` decided and what happened since (see [`state`]). `start`
//! launches a detached per-container monitor (`berth __berth-monitor DIR`,
//! see [`monitor`]) that forks the container's first process into new PID,
//! mount, UTS, IPC (and network) namespaces, or the host's or another
//! container's where the spec says so, and its cgroups, keeps its
//! output in a JSON-lines log and records how it ended. Everything else is
//! read from the directory and `/proc`, so any process can drive any
//! container and a crash loses nothing.
//!
//! Hidden modes of the `berth` binary ([`hidden_main`]) must be dispatched
//! from `main` before any thread starts.

mod bpf;
pub mod capabilities;
pub mod cgroup;
pub mod cgroup_view;
pub mod console;
pub mod copy;
pub mod device_filter;
pub mod devices;
pub mod etc_files;
mod exec;
mod helper;
mod init;
pub mod logs;
mod loopback;
mod monitor;
pub mod process;
pub mod rootfs;
pub mod seccomp;
pub mod spec;
pub mod state;
mod sys;
pub mod user;

use std::fs;
use std::io::{self, BufRead, BufReader};
use std::os::fd::AsFd;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::str::FromStr;
use std::time::{Duration, Instant};

use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::signal::Signal;

use crate::image::ResolvedImage;
use crate::timestamp;

pub use init::{EXIT_NOT_EXECUTABLE, EXIT_NOT_FOUND, EXIT_SETUP};
pub use logs::{LogRecord, Stream};
pub use spec::{
    ContainerSpec, ExecSpec, InjectedFile, LogConfig, Mount, Namespace, NetworkNamespace,
    ProcessSpec, Resources, Seccomp, Security, Ulimit,
};
pub use state::{ContainerRecord, ContainerState, Status};

/// The hidden argument that runs the monitor.
pub const MONITOR_ARG: &str = "__berth-monitor";
/// The hidden argument that runs an exec.
pub const EXEC_ARG: &str = "__berth-exec";
/// The monitor's optional last argument: wait for the starter to attach
/// to the console before the program starts.
const ATTACH_AT_START_ARG: &str = "attach";
/// Grace period between the stop signal and SIGKILL when none is given.
pub const DEFAULT_STOP_TIMEOUT: Duration = Duration::from_secs(10);

/// Runs a hidden mode when the arguments ask for one. Call first thing in
/// `main`; `Some(code)` means: exit with this code now.
pub fn hidden_main(args: &[std::ffi::OsString]) -> Option<i32> {
    let mode = args.get(1)?.to_str()?;
    if mode == MONITOR_ARG || mode == EXEC_ARG || mode == copy::COPY_ARG {
        enter_hidden_mode();
    }
    match mode {
        MONITOR_ARG => Some(monitor::main(
            PathBuf::from(args.get(2)?),
            args.get(3).is_some_and(|a| a == ATTACH_AT_START_ARG),
        )),
        EXEC_ARG => Some(exec::main(
            PathBuf::from(args.get(2)?),
            args.get(3)?.to_str()?,
        )),
        copy::COPY_ARG => Some(copy::main(
            PathBuf::from(args.get(2)?),
            args.get(3)?.to_str()?,
        )),
        _ => None,
    }
}

/// First steps of a hidden mode, which runs berth's code next to (and then
/// inside) a container: every inherited descriptor above stdio is marked
/// close-on-exec, so none reaches the container's program (a shell's open
/// file, one of berth's own), and the process is made non-dumpable, so a
/// process in the container cannot ptrace it or open its `/proc/PID/exe`,
/// `fd/` or `mem`. Both hold through fork; exec resets dumpability for the
/// container's program.
fn enter_hidden_mode() {
    if let Err(err) = sys::close_on_exec_from(3) {
        eprintln!("berth: close inherited descriptors: {err}");
        sys::exit_now(EXIT_SETUP);
    }
    if let Err(err) = nix::sys::prctl::set_dumpable(false) {
        eprintln!("berth: make the helper non-dumpable: {err}");
        sys::exit_now(EXIT_SETUP);
    }
}

/// Brings `lo` up in the calling thread's network namespace (fresh
/// namespaces start with it down).
pub fn bring_loopback_up() -> io::Result<()> {
    loopback::bring_up()
}

/// For the CLI: die quietly on a closed output pipe, as Unix tools do.
pub fn default_sigpipe() {
    sys::default_sigpipe();
}

/// Ignores SIGPIPE until [`default_sigpipe`]: a closed output pipe then
/// fails writes instead of ending the process.
pub fn ignore_sigpipe() {
    sys::ignore_sigpipe();
}

/// What went wrong, in terms a user can act on.
#[derive(Debug, thiserror::Error)]
pub enum ContainerError {
    #[error("no such container: {0}")]
    NotFound(String),
    #[error("container name {name:?} is already in use by container {id}")]
    NameInUse { name: String, id: String },
    #[error("container {0} is not running")]
    NotRunning(String),
    #[error("container {0} is already running")]
    AlreadyRunning(String),
    #[error("container {0} is running: stop it first or force the removal")]
    StillRunning(String),
    #[error("container {name} failed to start (exit code {code}): {message}")]
    StartFailed {
        name: String,
        code: i32,
        message: String,
    },
    #[error("container {name}: {message}")]
    Invalid { name: String, message: String },
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: io::Error,
    },
}

impl ContainerError {
    /// The exit code Docker's CLI gives for this error (125 for its own errors).
    pub fn exit_code(&self) -> i32 {
        match self {
            ContainerError::StartFailed { code, .. } => *code,
            _ => EXIT_SETUP,
        }
    }
}

type Result<T, E = ContainerError> = std::result::Result<T, E>;

fn io_err(context: impl Into<String>) -> impl FnOnce(io::Error) -> ContainerError {
    let context = context.into();
    move |source| ContainerError::Io { context, source }
}

/// A container as listed: what was created and where it is now.
#[derive(Debug, Clone)]
pub struct ContainerInfo {
    pub record: ContainerRecord,
    pub state: ContainerState,
}

/// Output of an exec whose output was captured.
#[derive(Debug, Clone, Default)]
pub struct ExecOutput {
    pub exit_code: i32,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    /// The process was killed because it outlived its time limit.
    pub timed_out: bool,
}

/// Where an exec's stdio goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExecIo {
    /// The caller's own stdin/stdout/stderr.
    Inherit,
    /// Captured and returned; stdin is empty.
    Capture,
    /// Captured, and killed if it runs longer than this (health checks).
    CaptureWithin(Duration),
    /// Into the container's own output: the process writes to the stdout
    /// and stderr of the container's first process (the pipes or the pty
    /// its monitor reads), so what it prints lands in the container's log,
    /// interleaved with the program's own output (lifecycle hooks). Killed
    /// after the time limit when one is given; stdin is empty.
    ContainerOutput(Option<Duration>),
}

/// The container runtime over one state root.
#[derive(Debug, Clone)]
pub struct Runtime {
    root: PathBuf,
    helper: PathBuf,
    cgroup_parent: String,
}

impl Runtime {
    /// A runtime over `root`, re-executing the current binary for its hidden modes.
    pub fn new(root: impl Into<PathBuf>) -> Result<Runtime> {
        let helper = std::env::current_exe().map_err(io_err("find the berth binary"))?;
        Ok(Runtime::with_helper(root, helper))
    }

    /// A runtime that runs `helper` (a `berth` binary) for its hidden modes.
    pub fn with_helper(root: impl Into<PathBuf>, helper: impl Into<PathBuf>) -> Runtime {
        Runtime {
            root: root.into(),
            helper: helper.into(),
            cgroup_parent: "berth".to_string(),
        }
    }

    /// Places containers' cgroups under this parent (default `berth`).
    pub fn cgroup_parent(mut self, parent: impl Into<String>) -> Runtime {
        self.cgroup_parent = parent.into();
        self
    }

    fn containers_dir(&self) -> PathBuf {
        self.root.join("containers")
    }

    fn dir(&self, id: &str) -> state::ContainerDir {
        state::ContainerDir(self.containers_dir().join(id))
    }

    /// Where injected file `index` of container `id` is kept (see
    /// [`ContainerSpec::files`]); the source `inspect` shows for its mount.
    pub fn injected_file_path(&self, id: &str, index: usize) -> PathBuf {
        self.dir(id).injected_file(index)
    }

    /// Every container in the state root.
    pub fn list(&self) -> Result<Vec<ContainerInfo>> {
        let entries = match fs::read_dir(self.containers_dir()) {
            Ok(entries) => entries,
            Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(err) => return Err(io_err("list containers")(err)),
        };
        let mut found = Vec::new();
        for entry in entries.flatten() {
            let dir = state::ContainerDir(entry.path());
            let Ok(record) = dir.read_record() else {
                continue;
            };
            let state = observed_state(&dir).unwrap_or_else(|_| ContainerState::created());
            found.push(ContainerInfo { record, state });
        }
        found.sort_by(|a, b| a.record.created.cmp(&b.record.created));
        Ok(found)
    }

    /// Finds a container by full ID, unique ID prefix, or name.
    pub fn lookup(&self, name_or_id: &str) -> Result<ContainerRecord> {
        if name_or_id.len() == 64 && name_or_id.bytes().all(|b| b.is_ascii_hexdigit()) {
            if let Ok(record) = self.dir(name_or_id).read_record() {
                return Ok(record);
            }
        }
        let all = self.list()?;
        if let Some(info) = all
            .iter()
            .find(|i| i.record.id == name_or_id || i.record.name == name_or_id)
        {
            return Ok(info.record.clone());
        }
        let mut prefixed = all.iter().filter(|i| i.record.id.starts_with(name_or_id));
        match (prefixed.next(), prefixed.next()) {
            (Some(info), None) if !name_or_id.is_empty() => Ok(info.record.clone()),
            _ => Err(ContainerError::NotFound(name_or_id.to_string())),
        }
    }

    /// Creates a container from an image; nothing runs until [`Runtime::start`].
    pub fn create(
        &self,
        spec: ContainerSpec,
        image: &ResolvedImage,
        image_name: Option<&str>,
    ) -> Result<ContainerRecord> {
        let id = match &spec.id {
            Some(id) if id.len() == 64 && id.bytes().all(|b| b.is_ascii_hexdigit()) => {
                if self.dir(id).path().exists() {
                    return Err(ContainerError::Invalid {
                        name: spec.name.clone(),
                        message: format!("container ID {id} is already in use"),
                    });
                }
                id.clone()
            }
            Some(id) => {
                return Err(ContainerError::Invalid {
                    name: spec.name.clone(),
                    message: format!("invalid container ID {id:?} (expected 64 hex digits)"),
                })
            }
            None => new_id().map_err(io_err("random container ID"))?,
        };
        if !spec.endpoints.is_empty() && spec.network != NetworkNamespace::New {
            return Err(ContainerError::Invalid {
                name: spec.name.clone(),
                message: "network endpoints need a new network namespace".into(),
            });
        }
        let name = if spec.name.is_empty() {
            id[..12].to_string()
        } else {
            spec.name.clone()
        };
        if let Ok(existing) = self.lookup(&name) {
            if existing.name == name {
                return Err(ContainerError::NameInUse {
                    name,
                    id: existing.id,
                });
            }
        }
        let invalid = |message: String| ContainerError::Invalid {
            name: name.clone(),
            message,
        };
        capabilities::effective_set(
            &spec.security.cap_add,
            &spec.security.cap_drop,
            spec.security.privileged,
        )
        .map_err(|err| invalid(err.to_string()))?;
        let seccomp_program = seccomp::program_for_in(&spec.security, &self.root.join("seccomp"))
            .map_err(|err| invalid(format!("seccomp profile: {err}")))?;
        let host_net = spec.network == NetworkNamespace::Host;
        let own_ipc = spec.ipc == Namespace::New;
        if let Some(bad) = spec
            .security
            .sysctls
            .keys()
            .find(|k| !rootfs::sysctl_allowed(k, host_net, own_ipc))
        {
            return Err(invalid(format!(
                "sysctl {bad:?} is not allowed in a container (only namespaced sysctls are, and IPC ones only with a private IPC namespace)"
            )));
        }
        for (namespace, kind) in [(&spec.ipc, "IPC"), (&spec.pid, "PID")] {
            if let Namespace::Container(peer) = namespace {
                if self.lookup(peer).ok().map(|r| r.id).as_ref() != Some(peer) {
                    return Err(invalid(format!(
                        "the {kind} namespace to join belongs to {peer:?}, which is not a container ID here"
                    )));
                }
            }
        }
        if matches!(spec.uts, Namespace::Join(_) | Namespace::Container(_)) {
            return Err(invalid(
                "a UTS namespace can be new or the host's, not another container's".into(),
            ));
        }
        for device in &spec.devices {
            if !device.path.starts_with('/') {
                return Err(invalid(format!(
                    "device path {:?} is not an absolute path",
                    device.path
                )));
            }
        }
        for mount in &spec.mounts {
            if !mount.target().starts_with('/') {
                return Err(invalid(format!(
                    "mount target {:?} is not an absolute path",
                    mount.target()
                )));
            }
        }
        for file in &spec.files {
            if !file.target.starts_with('/') || file.target == "/" {
                return Err(invalid(format!(
                    "{}: target {:?} is not an absolute file path",
                    file.description, file.target
                )));
            }
            if file.mode > 0o7777 {
                return Err(invalid(format!(
                    "{}: invalid mode {:o}",
                    file.description, file.mode
                )));
            }
        }
        let hostname = if spec.uts == Namespace::Host {
            // The host's UTS namespace: its name is the host's.
            nix::unistd::gethostname()
                .map(|h| h.to_string_lossy().into_owned())
                .unwrap_or_else(|_| id[..12].to_string())
        } else {
            spec.hostname
                .clone()
                .filter(|h| !h.is_empty())
                .unwrap_or_else(|| id[..12].to_string())
        };
        let process = process::resolve(image, &spec.process, &hostname);
        if process.args.is_empty() {
            return Err(invalid(
                "no command specified: the image has no CMD or ENTRYPOINT and none was given"
                    .into(),
            ));
        }
        let stop_signal = spec
            .stop_signal
            .clone()
            .or_else(|| {
                image
                    .config
                    .config()
                    .as_ref()
                    .and_then(|c| c.stop_signal().clone())
            })
            .unwrap_or_else(|| "SIGTERM".to_string());
        parse_signal(&stop_signal).map_err(invalid)?;
        let mut record = ContainerRecord {
            id: id.clone(),
            name,
            created: timestamp::now(),
            image_id: image.id.clone(),
            image_name: image_name.map(str::to_string),
            manifest_digest: image.manifest_digest.clone(),
            layers: image.layers.clone(),
            hostname,
            stop_signal,
            cgroup_parent: self.cgroup_parent.clone(),
            process,
            spec,
        };
        let dir = self.dir(&id);
        // The files' contents go to their own files, not into config.json.
        let contents: Vec<Vec<u8>> = record
            .spec
            .files
            .iter_mut()
            .map(|f| std::mem::take(&mut f.content))
            .collect();
        let made = self
            .write_new(&dir, &record)
            .and_then(|()| write_injected_files(&dir, &record.spec.files, &contents))
            .and_then(|()| {
                seccomp::write(&dir, seccomp_program.as_ref())
                    .map_err(io_err("write the seccomp program"))
            });
        if let Err(err) = made {
            let _ = fs::remove_dir_all(dir.path());
            return Err(err);
        }
        Ok(record)
    }

    fn write_new(&self, dir: &state::ContainerDir, record: &ContainerRecord) -> Result<()> {
        // Private (see `state_root`): config.json holds the environment.
        for (path, mode) in [
            (&self.root, crate::state_root::TRAVERSE_DIR_MODE),
            (&self.containers_dir(), crate::state_root::TRAVERSE_DIR_MODE),
            (
                &dir.path().to_path_buf(),
                crate::state_root::TRAVERSE_DIR_MODE,
            ),
        ] {
            crate::state_root::ensure_dir(path, mode)
                .map_err(io_err(format!("create {}", path.display())))?;
        }
        for path in [
            dir.path().to_path_buf(),
            dir.upper(),
            dir.work(),
            dir.rootfs(),
            dir.empty_lower(),
        ] {
            fs::create_dir_all(&path).map_err(io_err(format!("create {}", path.display())))?;
        }
        let spec = &record.spec;
        let hosts = spec
            .etc_hosts
            .clone()
            .unwrap_or_else(|| etc_files::LOOPBACK_HOSTS.to_string());
        let resolv = spec
            .resolv_conf
            .clone()
            .unwrap_or_else(|| fs::read_to_string("/etc/resolv.conf").unwrap_or_default());
        for (name, content) in [
            ("hosts", hosts),
            ("hostname", format!("{}\n", record.hostname)),
            ("resolv.conf", resolv),
        ] {
            let path = dir.etc_file(name);
            fs::write(&path, content).map_err(io_err(format!("write {}", path.display())))?;
        }
        state::write_new_container(dir, record, &ContainerState::created())
            .map_err(io_err("write container config and state"))
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

    /// The container's current state, checked against `/proc`.
    pub fn state(&self, name_or_id: &str) -> Result<ContainerState> {
        let record = self.lookup(name_or_id)?;
        observed_state(&self.dir(&record.id))
            .map_err(io_err(format!("read state of {}", record.name)))
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

    /// Runs a process in a running container. With [`ExecIo::Inherit`] the
    /// output goes to the caller's stdio and only the exit code is returned.
    pub fn exec(&self, name_or_id: &str, spec: &ExecSpec, io: ExecIo) -> Result<ExecOutput> {
        let record = self.lookup(name_or_id)?;
        if spec.args.is_empty() {
            return Err(ContainerError::Invalid {
                name: record.name,
                message: "exec needs a command".into(),
            });
        }
        let current = self.state(&record.id)?;
        if current.status != Status::Running {
            return Err(ContainerError::NotRunning(record.name));
        }
        let spec_json = serde_json::to_string(spec)
            .map_err(|err| io_err("encode exec")(io::Error::other(err)))?;
        let mut command = helper::command(&self.helper);
        command
            .arg(EXEC_ARG)
            .arg(self.dir(&record.id).path())
            .arg(spec_json);
        let output = match io {
            ExecIo::Inherit => {
                let status = command.status().map_err(io_err("run exec"))?;
                ExecOutput {
                    exit_code: exit_code_of(status),
                    ..ExecOutput::default()
                }
            }
            ExecIo::Capture => {
                let output = command
                    .stdin(Stdio::null())
                    .output()
                    .map_err(io_err("run exec"))?;
                ExecOutput {
                    exit_code: exit_code_of(output.status),
                    stdout: output.stdout,
                    stderr: output.stderr,
                    timed_out: false,
                }
            }
            ExecIo::CaptureWithin(limit) => run_with_limit(command, limit)?,
            ExecIo::ContainerOutput(limit) => {
                let pid = current.pid.unwrap_or_default();
                command
                    .stdin(Stdio::null())
                    .stdout(container_stream(pid, 1))
                    .stderr(container_stream(pid, 2));
                let mut child = command.spawn().map_err(io_err("run exec"))?;
                let (status, timed_out) = wait_within(&mut child, limit);
                ExecOutput {
                    exit_code: status.map(exit_code_of).unwrap_or(EXIT_SETUP),
                    timed_out,
                    ..ExecOutput::default()
                }
            }
        };
        Ok(output)
    }

    /// The container's log file (JSON lines; rotated files beside it).
    pub fn log_path(&self, name_or_id: &str) -> Result<PathBuf> {
        let record = self.lookup(name_or_id)?;
        Ok(self.dir(&record.id).log())
    }
    // `logs` and `logs_with`: in logs.rs, next to the log files they read.
}

/// Writes the injected files into `files/` (only root may enter it): each
/// created exclusively with its mode, then owned by its uid/gid.
fn write_injected_files(
    dir: &state::ContainerDir,
    files: &[InjectedFile],
    contents: &[Vec<u8>],
) -> Result<()> {
    use std::io::Write;
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    if files.is_empty() {
        return Ok(());
    }
    let parent = dir.path().join("files");
    fs::create_dir(&parent).map_err(io_err(format!("create {}", parent.display())))?;
    fs::set_permissions(&parent, fs::Permissions::from_mode(0o700))
        .map_err(io_err(format!("restrict {}", parent.display())))?;
    for (index, (file, content)) in files.iter().zip(contents).enumerate() {
        let path = dir.injected_file(index);
        let context = || format!("write {} for {}", path.display(), file.description);
        let mut out = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path)
            .map_err(io_err(context()))?;
        out.write_all(content).map_err(io_err(context()))?;
        std::os::unix::fs::fchown(&out, Some(file.uid), Some(file.gid))
            .map_err(io_err(context()))?;
        // After the chown, which would clear setuid/setgid bits.
        out.set_permissions(fs::Permissions::from_mode(file.mode))
            .map_err(io_err(context()))?;
    }
    Ok(())
}

/// A new open file of descriptor `fd` (1 or 2) of process `pid`: for the
/// container's first process, the write end of the pipe (or the pty) its
/// monitor reads. Opened non-blocking (a pipe whose reader is gone would
/// block the open), then made blocking again. `/dev/null` when it cannot be
/// opened (the program closed its output, or has just exited).
fn container_stream(pid: i32, fd: i32) -> Stdio {
    use std::os::unix::fs::OpenOptionsExt;
    let opened = fs::OpenOptions::new()
        .write(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(format!("/proc/{pid}/fd/{fd}"));
    match opened {
        Ok(file) => {
            let flags = nix::fcntl::fcntl(&file, nix::fcntl::FcntlArg::F_GETFL)
                .map(nix::fcntl::OFlag::from_bits_truncate)
                .unwrap_or(nix::fcntl::OFlag::O_WRONLY);
            let _ = nix::fcntl::fcntl(
                &file,
                nix::fcntl::FcntlArg::F_SETFL(flags - nix::fcntl::OFlag::O_NONBLOCK),
            );
            Stdio::from(file)
        }
        Err(err) => {
            tracing::debug!("output of PID {pid} (fd {fd}) not reachable: {err}");
            Stdio::null()
        }
    }
}

/// Waits for `child`, killing it once `limit` has passed; (status, timed out).
fn wait_within(
    child: &mut std::process::Child,
    limit: Option<Duration>,
) -> (Option<std::process::ExitStatus>, bool) {
    let Some(limit) = limit else {
        return (child.wait().ok(), false);
    };
    let deadline = Instant::now() + limit;
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return (Some(status), false),
            Ok(None) if Instant::now() >= deadline => {
                let _ = child.kill();
                return (child.wait().ok(), true);
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(2)),
            Err(_) => return (None, false),
        }
    }
}

/// Runs the exec helper with captured output, killing it (and, through its
/// parent-death signal, the program) after `limit`.
fn run_with_limit(mut command: Command, limit: Duration) -> Result<ExecOutput> {
    use std::io::Read;
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(io_err("run exec"))?;
    let mut stdout = child.stdout.take();
    let mut stderr = child.stderr.take();
    let readers = std::thread::scope(|scope| {
        let out = scope.spawn(|| {
            let mut buffer = Vec::new();
            if let Some(pipe) = stdout.as_mut() {
                let _ = pipe.read_to_end(&mut buffer);
            }
            buffer
        });
        let err = scope.spawn(|| {
            let mut buffer = Vec::new();
            if let Some(pipe) = stderr.as_mut() {
                let _ = pipe.read_to_end(&mut buffer);
            }
            buffer
        });
        let (status, timed_out) = wait_within(&mut child, Some(limit));
        (
            status,
            timed_out,
            out.join().unwrap_or_default(),
            err.join().unwrap_or_default(),
        )
    });
    let (status, timed_out, stdout, stderr) = readers;
    Ok(ExecOutput {
        exit_code: status.map(exit_code_of).unwrap_or(EXIT_SETUP),
        stdout,
        stderr,
        timed_out,
    })
}

/// Waits (up to `limit`) for a process to end, when it is still the one
/// that started at `start`.
fn wait_for_exit(pid: Option<i32>, start: Option<u64>, limit: Duration) {
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

fn exit_code_of(status: std::process::ExitStatus) -> i32 {
    use std::os::unix::process::ExitStatusExt;
    status
        .code()
        .or_else(|| status.signal().map(|s| 128 + s))
        .unwrap_or(EXIT_SETUP)
}

/// Reads the state and corrects it when the processes it names are gone
/// (a monitor killed with the container): the container is then exited.
fn observed_state(dir: &state::ContainerDir) -> io::Result<ContainerState> {
    let mut current = dir.read_state()?;
    if current.status == Status::Running {
        let container_alive = current
            .pid
            .is_some_and(|pid| state::process_alive(pid, current.pid_start));
        let monitor_alive = current
            .monitor_pid
            .is_some_and(|pid| state::process_alive(pid, current.monitor_start));
        if !container_alive && !monitor_alive {
            // Re-read: the monitor may have finished between the two reads.
            current = dir.read_state()?;
            if current.status == Status::Running {
                current.status = Status::Exited;
                current.error =
                    Some("the container's monitor is gone; its exit code is unknown".into());
                current.pid = None;
                current.finished_at = Some(timestamp::now());
                let _ = dir.write_state(&current);
            }
        }
    }
    Ok(current)
}

/// Parses `SIGTERM`, `TERM`, `term` or `15`.
pub fn parse_signal(text: &str) -> Result<Signal, String> {
    let trimmed = text.trim();
    if let Ok(number) = trimmed.parse::<i32>() {
        return Signal::try_from(number).map_err(|_| format!("invalid signal {text:?}"));
    }
    let upper = trimmed.to_ascii_uppercase();
    let name = if upper.starts_with("SIG") {
        upper
    } else {
        format!("SIG{upper}")
    };
    Signal::from_str(&name).map_err(|_| format!("invalid signal {text:?}"))
}

/// A random 64-hex-digit container ID.
pub fn new_id() -> io::Result<String> {
    let mut bytes = [0u8; 32];
    use std::io::Read;
    fs::File::open("/dev/urandom")?.read_exact(&mut bytes)?;
    Ok(hex::encode(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn image() -> ResolvedImage {
        ResolvedImage {
            id: "sha256:img".into(),
            manifest_digest: "sha256:m".into(),
            config: serde_json::from_str(
                r#"{"architecture":"amd64","os":"linux","config":{"Cmd":["sh"]},"rootfs":{"type":"layers","diff_ids":[]}}"#,
            )
            .unwrap(),
            layers: Vec::new(),
        }
    }

    #[test]
    fn create_lookup_rename_delete_without_running() {
        // Names without hex digits: a lookup also matches ID prefixes.
        let dir = tempfile::tempdir().unwrap();
        let runtime = Runtime::with_helper(dir.path(), "/nonexistent");
        let named = |name: &str| ContainerSpec {
            name: name.into(),
            ..ContainerSpec::default()
        };
        let a = runtime.create(named("one"), &image(), None).unwrap();
        runtime.create(named("two"), &image(), None).unwrap();
        assert!(matches!(
            runtime.create(named("one"), &image(), None),
            Err(ContainerError::NameInUse { .. })
        ));
        assert!(matches!(
            runtime.rename("one", "two"),
            Err(ContainerError::NameInUse { .. })
        ));
        runtime.rename("one", "three").unwrap();
        assert_eq!(runtime.lookup("three").unwrap().id, a.id);
        assert_eq!(runtime.lookup(&a.id[..8]).unwrap().name, "three");
        assert!(matches!(
            runtime.lookup("one"),
            Err(ContainerError::NotFound(_))
        ));
        assert_eq!(runtime.state("three").unwrap().status, Status::Created);
        runtime.delete("three", false).unwrap();
        assert_eq!(runtime.list().unwrap().len(), 1);
    }

    #[test]
    fn injected_files_are_written_apart_from_the_config() {
        use std::os::unix::fs::MetadataExt;
        let dir = tempfile::tempdir().unwrap();
        let runtime = Runtime::with_helper(dir.path(), "/nonexistent");
        let (uid, gid) = (
            nix::unistd::geteuid().as_raw(),
            nix::unistd::getegid().as_raw(),
        );
        let spec = ContainerSpec {
            name: "files".into(),
            files: vec![InjectedFile {
                target: "/run/secrets/pw".into(),
                description: "secret pw".into(),
                content: b"s3cret".to_vec(),
                uid,
                gid,
                mode: 0o440,
            }],
            ..ContainerSpec::default()
        };
        let record = runtime.create(spec, &image(), None).unwrap();
        let path = runtime.injected_file_path(&record.id, 0);
        assert_eq!(fs::read(&path).unwrap(), b"s3cret");
        let meta = fs::metadata(&path).unwrap();
        assert_eq!(meta.mode() & 0o7777, 0o440);
        assert_eq!((meta.uid(), meta.gid()), (uid, gid));
        assert_eq!(
            fs::metadata(path.parent().unwrap()).unwrap().mode() & 0o777,
            0o700
        );
        let config = fs::read_to_string(
            dir.path()
                .join("containers")
                .join(&record.id)
                .join("config.json"),
        )
        .unwrap();
        assert!(!config.contains("s3cret") && config.contains("/run/secrets/pw"));
        let bad = ContainerSpec {
            name: "bad".into(),
            files: vec![InjectedFile {
                target: "relative".into(),
                ..InjectedFile::default()
            }],
            ..ContainerSpec::default()
        };
        assert!(matches!(
            runtime.create(bad, &image(), None),
            Err(ContainerError::Invalid { .. })
        ));
    }

    #[test]
    fn signals_parse_like_docker() {
        assert_eq!(parse_signal("SIGTERM"), Ok(Signal::SIGTERM));
        assert_eq!(parse_signal("term"), Ok(Signal::SIGTERM));
        assert_eq!(parse_signal("9"), Ok(Signal::SIGKILL));
        assert_eq!(parse_signal("SIGUSR1"), Ok(Signal::SIGUSR1));
        assert!(parse_signal("SIGNOPE").is_err());
    }
}
