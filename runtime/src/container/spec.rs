//! What a caller asks for when it creates a container: the process, its
//! identity, mounts, security settings and resource limits. Plain data,
//! serialized into the container's directory so the monitor and `exec`
//! processes read exactly what `create` was given.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Longest a start gate holds a program back.
pub const START_GATE_TIMEOUT: Duration = Duration::from_secs(5);

/// Everything needed to create one container.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ContainerSpec {
    /// The container ID to use (64 hex digits); a random one when unset.
    /// Callers that allocate resources by container ID before `create` set it.
    #[serde(default)]
    pub id: Option<String>,
    /// Container name (unique in the state root); also the default hostname
    /// source when `hostname` is empty (Docker uses the short ID).
    pub name: String,
    /// Labels kept with the container (the reconciler finds its containers by them).
    pub labels: BTreeMap<String, String>,
    /// Data the caller keeps with the container but does not show as labels
    /// (the reconciler keeps the service configuration here, for its reasons).
    #[serde(default)]
    pub annotations: BTreeMap<String, String>,
    /// The user's own annotations (compose `annotations`), shown by
    /// `inspect` as Docker's `HostConfig.Annotations`; berth's own data
    /// stays in `annotations`.
    #[serde(default)]
    pub user_annotations: BTreeMap<String, String>,
    /// Files written into the container's directory by `create` and bound
    /// read-only at their targets (compose secrets and configs).
    #[serde(default)]
    pub files: Vec<InjectedFile>,
    /// The process to run.
    pub process: ProcessSpec,
    pub hostname: Option<String>,
    pub domainname: Option<String>,
    /// Mounts besides the root filesystem, in order.
    pub mounts: Vec<Mount>,
    pub read_only_rootfs: bool,
    /// Size of `/dev/shm` in bytes (Docker's default is 64 MiB).
    pub shm_size: Option<u64>,
    /// No `/dev/shm` at all (`ipc: none`: a private IPC namespace without it).
    #[serde(default)]
    pub no_shm: bool,
    /// Contents of `/etc/hosts`; a default naming localhost and the hostname when unset.
    pub etc_hosts: Option<String>,
    /// Contents of `/etc/resolv.conf`; the host's when unset.
    pub resolv_conf: Option<String>,
    pub network: NetworkNamespace,
    /// IPC namespace: a new one (default), the host's, or another container's.
    #[serde(default)]
    pub ipc: Namespace,
    /// PID namespace: a new one with the program as PID 1 (default), the
    /// host's, or another container's (the program is not PID 1 there).
    #[serde(default)]
    pub pid: Namespace,
    /// UTS namespace: a new one with `hostname` (default), or the host's.
    #[serde(default)]
    pub uts: Namespace,
    /// cgroup namespace: a new one rooted at the container's cgroup
    /// (default), or the host's; either way the container's own cgroups
    /// are mounted at `/sys/fs/cgroup`.
    #[serde(default)]
    pub cgroupns: CgroupNamespace,
    /// Host device nodes made inside the container (and allowed in its
    /// devices cgroup).
    #[serde(default)]
    pub devices: Vec<super::devices::Device>,
    /// Network endpoints (bridge veths) attached, in order, as `eth0`, `eth1`,
    /// … to the container's new network namespace before its program starts.
    #[serde(default)]
    pub endpoints: Vec<crate::network::Endpoint>,
    /// Hold the program until whoever serves the container (the supervisor:
    /// its embedded DNS) opens the gate, at most [`START_GATE_TIMEOUT`]; see
    /// `Runtime::pending_gates`.
    #[serde(default)]
    pub start_gate: bool,
    pub security: Security,
    pub resources: Resources,
    /// Run berth's own PID 1 that reaps zombies and forwards signals.
    pub init: bool,
    /// Signal for `stop` (`SIGTERM`, `TERM`, `15`); the image's, else SIGTERM, when unset.
    pub stop_signal: Option<String>,
    /// Grace period between the stop signal and SIGKILL (10 s when unset).
    pub stop_timeout: Option<Duration>,
    pub log: LogConfig,
}

/// The container's main process. Unset fields fall back to the image's config.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ProcessSpec {
    /// Replaces the image's ENTRYPOINT (an empty list clears it).
    pub entrypoint: Option<Vec<String>>,
    /// Replaces the image's CMD.
    pub command: Option<Vec<String>>,
    /// `KEY=VALUE` entries merged over the image's ENV (later wins).
    pub env: Vec<String>,
    /// Working directory; created when missing.
    pub working_dir: Option<String>,
    /// `user[:group]`, names or numbers; the image's USER when unset.
    pub user: Option<String>,
    /// Supplementary groups (names or numbers), added to the user's own.
    pub group_add: Vec<String>,
    /// Allocate a pseudo-terminal for stdin/stdout/stderr.
    pub tty: bool,
    /// Keep stdin open (a pipe the monitor holds) instead of `/dev/null`;
    /// a client may then write to it through [`super::Runtime::attach_stdin`].
    pub stdin_open: bool,
    /// Close the container's stdin when the first attached client ends its
    /// input (`docker run -i`), instead of keeping it open.
    #[serde(default)]
    pub stdin_once: bool,
}

/// A mount inside the container.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Mount {
    /// Bind a host path.
    Bind {
        source: PathBuf,
        target: String,
        read_only: bool,
        /// `rprivate` (default), `private`, `rshared`, `shared`, `rslave`, `slave`.
        propagation: Option<String>,
        recursive: bool,
    },
    /// A fresh tmpfs.
    Tmpfs {
        target: String,
        size: Option<u64>,
        mode: Option<u32>,
        read_only: bool,
    },
}

impl Mount {
    /// The absolute path inside the container.
    pub fn target(&self) -> &str {
        match self {
            Mount::Bind { target, .. } | Mount::Tmpfs { target, .. } => target,
        }
    }
}

/// A file `create` writes into the container's directory (`files/<n>`,
/// owned `uid:gid` with `mode`) and the container sees read-only at
/// `target`. The content is not kept in `config.json`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct InjectedFile {
    /// Absolute path inside the container.
    pub target: String,
    /// What it is, for people (`secret db_pass`).
    #[serde(default)]
    pub description: String,
    /// The bytes to write; only present until `create` has written them.
    #[serde(skip)]
    pub content: Vec<u8>,
    pub uid: u32,
    pub gid: u32,
    /// Permission bits (`0o444`).
    pub mode: u32,
}

/// Which network namespace the container's processes live in.
/// Whose cgroup namespace the container is in (compose `cgroup`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum CgroupNamespace {
    /// A new one, rooted at the container's cgroup (`cgroup: private`).
    #[default]
    Private,
    /// The host's (`cgroup: host`).
    Host,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum NetworkNamespace {
    /// A new namespace with only the loopback interface, up.
    #[default]
    New,
    /// Join an existing namespace (a bind-mounted nsfs file or `/proc/PID/ns/net`).
    Join(PathBuf),
    /// The host's namespace.
    Host,
    /// No networking at all: a new namespace with loopback up (as Docker's `none`).
    None,
}

/// An IPC, PID or UTS namespace choice.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Namespace {
    /// A new namespace of the container's own.
    #[default]
    New,
    /// The host's (the caller's) namespace.
    Host,
    /// Join an existing namespace (`/proc/PID/ns/ipc`, …).
    Join(PathBuf),
    /// Join the namespace of another container of the same state root (its
    /// ID), looked up each time this one starts: it must be running then.
    Container(String),
}

/// Capabilities and other privilege settings.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Security {
    /// Capability names added to Docker's default set (`NET_ADMIN`, `CAP_NET_ADMIN`, `ALL`).
    pub cap_add: Vec<String>,
    /// Capability names dropped from it (`ALL` drops everything not added).
    pub cap_drop: Vec<String>,
    /// Every capability, no masked paths, writable `/sys`.
    pub privileged: bool,
    /// Set `no_new_privs` before the program starts.
    pub no_new_privileges: bool,
    /// Namespaced sysctls (`net.*`, `kernel.shm*`, `kernel.msg*`, `kernel.sem`, `fs.mqueue.*`).
    pub sysctls: BTreeMap<String, String>,
    pub ulimits: Vec<Ulimit>,
    pub oom_score_adj: Option<i32>,
    /// `systempaths=unconfined`: no masked or read-only `/proc` and `/sys` paths.
    #[serde(default)]
    pub unmask_system_paths: bool,
    /// The seccomp filter (none when `privileged`). A record written before
    /// berth had seccomp has no such field and gets Docker's default profile
    /// at its next start (see `seccomp::for_container`).
    #[serde(default)]
    pub seccomp: Seccomp,
}

/// Which seccomp profile a container's processes run under.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Seccomp {
    /// Docker's default profile (`seccomp=builtin`, or no option).
    #[default]
    Default,
    /// No filter (`seccomp=unconfined`).
    Unconfined,
    /// A profile in Docker's JSON format (`seccomp=PROFILE.json`): where it
    /// was read from, for people, and its text as read at create time.
    Profile { source: String, json: String },
}

/// One resource limit (`nofile`, `nproc`, `core`, …).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ulimit {
    pub name: String,
    pub soft: i64,
    pub hard: i64,
}

/// cgroup limits. Unset means unlimited.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Resources {
    /// Memory limit in bytes.
    pub memory: Option<u64>,
    /// Memory plus swap in bytes (`-1` unlimited swap), as Docker's `memswap_limit`.
    pub memory_swap: Option<i64>,
    /// Soft limit in bytes.
    pub memory_reservation: Option<u64>,
    /// CPU count as a fraction (`1.5`).
    pub cpus: Option<f64>,
    /// Relative weight, 2..=262144 (Docker's default is 1024).
    pub cpu_shares: Option<u64>,
    /// CPUs allowed (`0-1`, `0,2`).
    pub cpuset: Option<String>,
    /// Maximum number of processes.
    pub pids_limit: Option<i64>,
    /// Devices cgroup rules allowed besides Docker's defaults and the
    /// mapped devices (`device_cgroup_rules`).
    #[serde(default)]
    pub device_rules: Vec<super::devices::DeviceRule>,
    /// Disable the OOM killer (cgroup v1 `memory.oom_control`).
    #[serde(default)]
    pub oom_kill_disable: bool,
}

/// Where the container's output goes.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LogConfig {
    /// Capture output to the JSON-lines log; `false` discards it (`logging: none`).
    pub enabled: bool,
    /// Rotate when the current file passes this many bytes.
    pub max_size: Option<u64>,
    /// Files kept, the current one included (at least 1).
    pub max_files: u32,
}

impl Default for LogConfig {
    fn default() -> Self {
        LogConfig {
            enabled: true,
            max_size: None,
            max_files: 1,
        }
    }
}

/// A process to run inside a running container.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ExecSpec {
    pub args: Vec<String>,
    /// `KEY=VALUE` entries merged over the container's environment.
    pub env: Vec<String>,
    pub working_dir: Option<String>,
    pub user: Option<String>,
    pub tty: bool,
    pub privileged: bool,
}
