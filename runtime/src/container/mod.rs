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
//!
//! The verbs on [`Runtime`] are grouped by file: `create.rs` (a spec
//! checked by [`ContainerSpec::validate`] in `validate.rs` becomes a
//! container directory), `start.rs` (the monitor, the start gate, the
//! console), `stop.rs` (wait, pause, signals, stop, rename, delete),
//! `exec_call.rs` (`exec` from the caller's side), `logs.rs` (reading the
//! log); this file keeps the runtime itself, listing and looking up.

mod bpf;
pub mod capabilities;
pub mod cgroup;
pub mod cgroup_view;
pub mod console;
pub mod copy;
mod create;
pub mod device_filter;
pub mod devices;
pub mod etc_files;
mod exec;
mod exec_call;
mod helper;
mod init;
pub mod logs;
mod loopback;
mod monitor;
pub mod process;
pub mod rootfs;
pub mod seccomp;
pub mod spec;
mod start;
pub mod state;
mod stop;
mod sys;
pub mod user;
mod validate;

use std::fs;
use std::io;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

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

    /// The container's current state, checked against `/proc`.
    pub fn state(&self, name_or_id: &str) -> Result<ContainerState> {
        let record = self.lookup(name_or_id)?;
        observed_state(&self.dir(&record.id))
            .map_err(io_err(format!("read state of {}", record.name)))
    }

    /// The container's log file (JSON lines; rotated files beside it).
    pub fn log_path(&self, name_or_id: &str) -> Result<PathBuf> {
        let record = self.lookup(name_or_id)?;
        Ok(self.dir(&record.id).log())
    }
    // `logs` and `logs_with`: in logs.rs, next to the log files they read.
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
