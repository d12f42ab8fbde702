//! The container's first process: forked by the monitor into its PID
//! namespace (new, the host's or another container's), it enters the other
//! namespaces (new ones, or joined), builds the root filesystem,
//! becomes the container's user and execs the program. A failure before
//! exec is written to the error pipe with Docker's exit code (127 not
//! found, 126 not executable, 125 anything else). With `init: true` it
//! stays PID 1 (a subreaper when it is not PID 1), reaping zombies and
//! forwarding signals.

use std::ffi::CString;
use std::fs;
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use nix::errno::Errno;
use nix::sched::{setns, unshare, CloneFlags};
use nix::sys::resource::{setrlimit, Resource};
use nix::sys::signal::{kill, SigSet, Signal};
use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
use nix::unistd::{Gid, Pid, Uid};

use super::capabilities;
use super::cgroup_view::{mount_view, CgroupNamespace, CgroupView};
use super::process::env_value;
use super::rootfs;
use super::seccomp::{self, Program};
use super::spec::{Namespace, NetworkNamespace, Ulimit};
use super::state::{ContainerDir, ContainerRecord};
use super::sys::{self, Forked};
use super::user::{self, Identity};

/// Exit code for a program that does not exist.
pub const EXIT_NOT_FOUND: i32 = 127;
/// Exit code for a program that cannot be executed.
pub const EXIT_NOT_EXECUTABLE: i32 = 126;
/// Exit code for any other failure before the program starts.
pub const EXIT_SETUP: i32 = 125;

/// A failure before exec: exit code and message.
pub struct Failure {
    pub code: i32,
    pub message: String,
}

fn setup_error(message: String) -> Failure {
    Failure {
        code: EXIT_SETUP,
        message,
    }
}

/// The descriptors the monitor hands to the container's first process.
pub struct InitIo {
    pub stdin: OwnedFd,
    pub stdout: OwnedFd,
    pub stderr: OwnedFd,
    /// Read end: one byte arrives once the process is in its cgroups.
    pub go: OwnedFd,
    /// Write end (close-on-exec): a failure is written here.
    pub errors: OwnedFd,
    /// Write end: one byte once the container's network namespace exists,
    /// so the monitor can attach its network endpoints.
    pub netns_ready: OwnedFd,
    /// The pty slave's path on the host, when the container has a terminal.
    pub console: Option<PathBuf>,
    /// The cgroup hierarchies to mount at `/sys/fs/cgroup`.
    pub cgroup_view: CgroupView,
}

/// Runs in the forked child; never returns.
pub fn run(dir: &ContainerDir, record: &ContainerRecord, io: InitIo) -> ! {
    let InitIo {
        stdin,
        stdout,
        stderr,
        go,
        errors,
        netns_ready,
        console,
        cgroup_view,
    } = io;
    let mut errors = Some(errors);
    let failure = match prepare_and_exec(
        dir,
        record,
        &stdin,
        &stdout,
        &stderr,
        go,
        netns_ready,
        console.as_deref(),
        &cgroup_view,
        &mut errors,
    ) {
        Ok(never) => match never {},
        Err(failure) => failure,
    };
    if let Some(errors) = &errors {
        let report = format!("{} {}", failure.code, failure.message);
        let _ = nix::unistd::write(errors, report.as_bytes());
    }
    sys::exit_now(failure.code)
}

/// What a successful exec returns: nothing, ever.
pub enum Never {}

#[allow(clippy::too_many_arguments)]
fn prepare_and_exec(
    dir: &ContainerDir,
    record: &ContainerRecord,
    stdin: &OwnedFd,
    stdout: &OwnedFd,
    stderr: &OwnedFd,
    go: OwnedFd,
    netns_ready: OwnedFd,
    console: Option<&Path>,
    cgroup_view: &CgroupView,
    errors: &mut Option<OwnedFd>,
) -> Result<Never, Failure> {
    let os = |what: &str| {
        let what = what.to_string();
        move |err: Errno| setup_error(format!("{what}: {err}"))
    };
    nix::unistd::setsid().map_err(os("setsid"))?;
    nix::unistd::dup2_stdin(stdin).map_err(os("stdin"))?;
    nix::unistd::dup2_stdout(stdout).map_err(os("stdout"))?;
    nix::unistd::dup2_stderr(stderr).map_err(os("stderr"))?;
    if record.spec.process.tty {
        sys::set_controlling_terminal(std::io::stdin().as_fd())
            .map_err(|err| setup_error(format!("controlling terminal: {err}")))?;
    }
    let mut flags = CloneFlags::CLONE_NEWNS;
    // Other containers' namespaces are opened through the host's /proc,
    // before this process has a mount namespace of its own.
    for (namespace, flag, name) in [
        (&record.spec.uts, CloneFlags::CLONE_NEWUTS, "UTS"),
        (&record.spec.ipc, CloneFlags::CLONE_NEWIPC, "IPC"),
    ] {
        match namespace {
            Namespace::New => flags |= flag,
            // Resolved by the monitor; never reaches here unresolved.
            Namespace::Host | Namespace::Container(_) => {}
            Namespace::Join(path) => {
                let ns = fs::File::open(path).map_err(|err| {
                    setup_error(format!("{name} namespace {}: {err}", path.display()))
                })?;
                setns(ns.as_fd(), flag)
                    .map_err(os(&format!("join {name} namespace {}", path.display())))?;
            }
        }
    }
    match &record.spec.network {
        NetworkNamespace::New | NetworkNamespace::None => flags |= CloneFlags::CLONE_NEWNET,
        NetworkNamespace::Join(path) => {
            let ns = fs::File::open(path).map_err(|err| {
                setup_error(format!("network namespace {}: {err}", path.display()))
            })?;
            setns(ns.as_fd(), CloneFlags::CLONE_NEWNET)
                .map_err(os(&format!("join network namespace {}", path.display())))?;
        }
        NetworkNamespace::Host => {}
    }
    unshare(flags).map_err(os("unshare namespaces"))?;
    if flags.contains(CloneFlags::CLONE_NEWNET) {
        super::loopback::bring_up().map_err(|err| setup_error(format!("loopback up: {err}")))?;
    }
    let _ = nix::unistd::write(&netns_ready, b"n");
    drop(netns_ready);
    let own_uts = record.spec.uts == Namespace::New;
    if own_uts {
        nix::unistd::sethostname(&record.hostname).map_err(os("sethostname"))?;
    }
    if let Some(domain) = record
        .spec
        .domainname
        .as_deref()
        .filter(|d| !d.is_empty() && own_uts)
    {
        fs::write("/proc/sys/kernel/domainname", domain)
            .map_err(|err| setup_error(format!("domainname: {err}")))?;
    }
    if let Some(score) = record.spec.security.oom_score_adj {
        fs::write("/proc/self/oom_score_adj", score.to_string())
            .map_err(|err| setup_error(format!("oom_score_adj: {err}")))?;
    }
    // Read while the container's directory is still reachable.
    let filter = seccomp::for_container(dir, &record.spec.security).map_err(setup_error)?;
    rootfs::setup(dir, record, console).map_err(setup_error)?;

    let process = &record.process;
    let read = |path: &str| fs::read_to_string(path).unwrap_or_default();
    let identity = user::resolve(
        &process.user,
        &record.spec.process.group_add,
        &read("/etc/passwd"),
        &read("/etc/group"),
    )
    .map_err(|err| setup_error(err.to_string()))?;
    rootfs::make_working_dir(&process.working_dir, identity.uid, identity.gid)
        .map_err(setup_error)?;
    if record.spec.read_only_rootfs {
        rootfs::make_root_read_only().map_err(setup_error)?;
    }
    for limit in &record.spec.security.ulimits {
        apply_ulimit(limit)?;
    }
    let mut env = process.env.clone();
    if env_value(&env, "HOME").is_none() {
        env.push(format!("HOME={}", identity.home));
    }
    // The monitor says go once this process is in the container's cgroups.
    let mut byte = [0u8; 1];
    match nix::unistd::read(&go, &mut byte) {
        Ok(1) => drop(go),
        _ => {
            return Err(setup_error(
                "the monitor did not place the container in its cgroups".into(),
            ))
        }
    }
    enter_cgroups_view(record, cgroup_view)?;
    if record.spec.init {
        become_init(errors, filter.as_ref(), &record.spec.security)?;
    }
    exec_as(
        &identity,
        &record.spec.security,
        &process.args,
        &env,
        &process.working_dir,
        false,
        filter.as_ref(),
    )
}

/// Now that this process is in its cgroups: its own cgroup namespace
/// (rooted there) unless it keeps the host's, and its cgroups mounted at
/// `/sys/fs/cgroup`.
fn enter_cgroups_view(record: &ContainerRecord, view: &CgroupView) -> Result<(), Failure> {
    if record.spec.cgroupns == CgroupNamespace::Private {
        unshare(CloneFlags::CLONE_NEWCGROUP)
            .map_err(|err| setup_error(format!("new cgroup namespace: {err}")))?;
    }
    mount_view(view, record.spec.cgroupns, record.spec.security.privileged)
        .map_err(|err| setup_error(format!("mount the container's cgroups: {err}")))
}

/// Sets one of the container's `ulimits` on this process (the container's
/// first one, or one `exec` runs in it).
pub(super) fn apply_ulimit(limit: &Ulimit) -> Result<(), Failure> {
    let resource = match limit.name.as_str() {
        "core" => Resource::RLIMIT_CORE,
        "cpu" => Resource::RLIMIT_CPU,
        "data" => Resource::RLIMIT_DATA,
        "fsize" => Resource::RLIMIT_FSIZE,
        "locks" => Resource::RLIMIT_LOCKS,
        "memlock" => Resource::RLIMIT_MEMLOCK,
        "msgqueue" => Resource::RLIMIT_MSGQUEUE,
        "nice" => Resource::RLIMIT_NICE,
        "nofile" => Resource::RLIMIT_NOFILE,
        "nproc" => Resource::RLIMIT_NPROC,
        "rss" => Resource::RLIMIT_RSS,
        "rtprio" => Resource::RLIMIT_RTPRIO,
        "rttime" => Resource::RLIMIT_RTTIME,
        "sigpending" => Resource::RLIMIT_SIGPENDING,
        "stack" => Resource::RLIMIT_STACK,
        other => return Err(setup_error(format!("unknown ulimit {other:?}"))),
    };
    let value = |v: i64| if v < 0 { libc::RLIM_INFINITY } else { v as u64 };
    setrlimit(resource, value(limit.soft), value(limit.hard))
        .map_err(|err| setup_error(format!("ulimit {}: {err}", limit.name)))
}

/// Identity, capabilities, `no_new_privs` and the seccomp filter, then
/// exec. Shared with `exec`.
pub fn exec_as(
    identity: &Identity,
    security: &super::spec::Security,
    args: &[String],
    env: &[String],
    working_dir: &str,
    die_with_parent: bool,
    filter: Option<&Program>,
) -> Result<Never, Failure> {
    // Without no_new_privs, loading a filter needs CAP_SYS_ADMIN: load it
    // before the identity and capabilities change (as runc does).
    if !security.no_new_privileges {
        seccomp::load(filter).map_err(setup_error)?;
    }
    let caps_set =
        capabilities::effective_set(&security.cap_add, &security.cap_drop, security.privileged)
            .map_err(|err| setup_error(err.to_string()))?;
    let groups: Vec<Gid> = identity.groups.iter().map(|g| Gid::from_raw(*g)).collect();
    nix::unistd::setgroups(&groups).map_err(|err| setup_error(format!("setgroups: {err}")))?;
    let gid = Gid::from_raw(identity.gid);
    nix::unistd::setresgid(gid, gid, gid)
        .map_err(|err| setup_error(format!("setgid {}: {err}", identity.gid)))?;
    drop_capabilities(&caps_set)?;
    let uid = Uid::from_raw(identity.uid);
    nix::unistd::setresuid(uid, uid, uid)
        .map_err(|err| setup_error(format!("setuid {}: {err}", identity.uid)))?;
    if die_with_parent {
        // Set after the credential change, which clears it.
        let _ = nix::sys::prctl::set_pdeathsig(Signal::SIGKILL);
    }
    if security.no_new_privileges {
        nix::sys::prctl::set_no_new_privs()
            .map_err(|err| setup_error(format!("no_new_privs: {err}")))?;
    }
    nix::unistd::chdir(working_dir).map_err(|err| {
        setup_error(format!(
            "cannot enter working directory {working_dir:?}: {}",
            err.desc()
        ))
    })?;
    if security.no_new_privileges {
        seccomp::load(filter).map_err(setup_error)?;
    }
    exec_program(args, env)
}

/// Narrows the bounding set to `keep` and empties the inheritable and
/// ambient sets. Fails closed: a capability that cannot be dropped is an
/// error, never a container that silently keeps it. Only the capabilities
/// this kernel knows are dropped (an unknown one cannot be held).
fn drop_capabilities(keep: &caps::CapsHashSet) -> Result<(), Failure> {
    let known = caps::runtime::thread_all_supported();
    for cap in known.difference(keep) {
        caps::drop(None, caps::CapSet::Bounding, *cap)
            .map_err(|err| setup_error(format!("drop capability {cap}: {err}")))?;
    }
    for set in [caps::CapSet::Inheritable, caps::CapSet::Ambient] {
        caps::clear(None, set)
            .map_err(|err| setup_error(format!("clear the {set:?} capabilities: {err}")))?;
    }
    Ok(())
}

/// Finds the program on the container's PATH and execs it.
pub fn exec_program(args: &[String], env: &[String]) -> Result<Never, Failure> {
    let Some(program) = args.first() else {
        return Err(setup_error(
            "no command specified: the image has no CMD or ENTRYPOINT and none was given".into(),
        ));
    };
    let path = resolve_program(
        program,
        env_value(env, "PATH").unwrap_or(super::process::DEFAULT_PATH),
    )?;
    let cstring = |s: &str| {
        CString::new(s).map_err(|_| setup_error(format!("argument {s:?} contains a NUL byte")))
    };
    let c_path = cstring(&path.to_string_lossy())?;
    let c_args = args
        .iter()
        .map(|a| cstring(a))
        .collect::<Result<Vec<_>, _>>()?;
    let c_env = env
        .iter()
        .map(|e| cstring(e))
        .collect::<Result<Vec<_>, _>>()?;
    sys::reset_signal_dispositions();
    let _ = SigSet::empty().thread_set_mask();
    // Whatever is still open above stdio goes at exec (the error pipe stays
    // usable until then to report a failed exec).
    sys::close_on_exec_from(3)
        .map_err(|err| setup_error(format!("close inherited descriptors: {err}")))?;
    let err = nix::unistd::execve(&c_path, &c_args, &c_env).unwrap_err();
    Err(match err {
        Errno::ENOENT => Failure {
            code: EXIT_NOT_FOUND,
            message: format!(
                "exec: {program:?}: stat {}: no such file or directory",
                path.display()
            ),
        },
        Errno::EACCES | Errno::EISDIR | Errno::ENOEXEC | Errno::EPERM => Failure {
            code: EXIT_NOT_EXECUTABLE,
            message: format!(
                "exec: {program:?}: {}: permission denied or not executable ({})",
                path.display(),
                err.desc()
            ),
        },
        other => setup_error(format!("exec {program:?}: {}", other.desc())),
    })
}

fn resolve_program(program: &str, path_var: &str) -> Result<PathBuf, Failure> {
    if program.contains('/') {
        return match fs::metadata(program) {
            Ok(_) => Ok(PathBuf::from(program)),
            Err(_) => Err(Failure {
                code: EXIT_NOT_FOUND,
                message: format!("exec: {program:?}: stat {program}: no such file or directory"),
            }),
        };
    }
    let mut found_not_executable = None;
    for dir in path_var.split(':') {
        let dir = if dir.is_empty() { "." } else { dir };
        let candidate = Path::new(dir).join(program);
        if let Ok(meta) = fs::metadata(&candidate) {
            if meta.is_file() && meta.permissions().mode() & 0o111 != 0 {
                return Ok(candidate);
            }
            found_not_executable.get_or_insert(candidate);
        }
    }
    match found_not_executable {
        Some(candidate) => Ok(candidate),
        None => Err(Failure {
            code: EXIT_NOT_FOUND,
            message: format!("exec: {program:?}: executable file not found in $PATH"),
        }),
    }
}

/// Forks: the child goes on to exec the program; this process stays PID 1,
/// reaps every child and forwards signals to the program.
fn become_init(
    errors: &mut Option<OwnedFd>,
    filter: Option<&Program>,
    security: &super::spec::Security,
) -> Result<(), Failure> {
    // Not PID 1 when sharing the host's or another container's PID
    // namespace: orphans come to us only as a subreaper.
    if nix::unistd::getpid().as_raw() != 1 {
        let _ = nix::sys::prctl::set_child_subreaper(true);
    }
    let all = SigSet::all();
    all.thread_block()
        .map_err(|err| setup_error(format!("block signals: {err}")))?;
    match sys::fork_single_threaded() {
        Err(err) => Err(setup_error(format!("fork: {err}"))),
        Ok(Forked::Child) => Ok(()),
        Ok(Forked::Parent(child)) => {
            // The reaper runs under the container's filter too (as Docker's
            // init does); a failure ends PID 1 and so the container.
            seccomp::load(filter).map_err(setup_error)?;
            // And with no more capabilities than a root program in the
            // container gets (it kept all of berth's until now).
            narrow_capabilities(security)?;
            // Only the program reports exec failures: close our copy so the
            // monitor sees end-of-file once the program has exec'd.
            drop(errors.take());
            // The reaper never execs: close what it inherited instead.
            let _ = sys::close_from(3);
            reap_forever(child)
        }
    }
}

/// Leaves this process (the reaper, which never execs) with the container's
/// capability set in every set: bounding, permitted and effective narrowed,
/// inheritable and ambient empty.
fn narrow_capabilities(security: &super::spec::Security) -> Result<(), Failure> {
    let keep =
        capabilities::effective_set(&security.cap_add, &security.cap_drop, security.privileged)
            .map_err(|err| setup_error(err.to_string()))?;
    drop_capabilities(&keep)?;
    for set in [caps::CapSet::Effective, caps::CapSet::Permitted] {
        caps::set(None, set, &keep)
            .map_err(|err| setup_error(format!("narrow the {set:?} capabilities: {err}")))?;
    }
    Ok(())
}

fn reap_forever(child: Pid) -> ! {
    let all = SigSet::all();
    loop {
        let Ok(signal) = all.wait() else { continue };
        if signal != Signal::SIGCHLD {
            let _ = kill(child, signal);
            continue;
        }
        loop {
            match waitpid(None, Some(WaitPidFlag::WNOHANG)) {
                Ok(WaitStatus::Exited(pid, code)) if pid == child => sys::exit_now(code),
                Ok(WaitStatus::Signaled(pid, sig, _)) if pid == child => {
                    sys::exit_now(128 + sig as i32)
                }
                Ok(WaitStatus::StillAlive) | Err(_) => break,
                Ok(_) => continue,
            }
        }
    }
}
