//! `exec` into a running container: the hidden `__berth-exec` mode joins the
//! container's cgroups and namespaces, forks into its PID namespace, and the
//! child execs with the same user, environment, working-directory rules and
//! ulimits as the container's own process. With a terminal, the parent relays
//! between its own stdio and the pty, whose size follows the caller's
//! terminal (copied at the start and on every SIGWINCH).

use std::fs::{self, File};
use std::os::fd::{AsFd, OwnedFd};
use std::path::PathBuf;

use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sched::{setns, CloneFlags};
use nix::sys::signal::{SigSet, Signal};
use nix::sys::signalfd::{SfdFlags, SignalFd};
use nix::sys::wait::{waitpid, WaitStatus};

use super::console::{set_window_size, window_size};
use super::init::{self, Failure, EXIT_SETUP};
use super::process::{env_value, merge_env};
use super::seccomp;
use super::spec::ExecSpec;
use super::state::{process_alive, ContainerDir};
use super::sys::{self, Forked};
use super::user;

/// Entry point of the hidden exec mode; returns the exit code to exit with.
pub fn main(dir: PathBuf, spec_json: &str) -> i32 {
    match run(ContainerDir(dir), spec_json) {
        Ok(code) => code,
        Err(failure) => {
            eprintln!("berth exec: {}", failure.message);
            failure.code
        }
    }
}

fn fail(message: String) -> Failure {
    Failure {
        code: EXIT_SETUP,
        message,
    }
}

fn run(dir: ContainerDir, spec_json: &str) -> Result<i32, Failure> {
    let spec: ExecSpec =
        serde_json::from_str(spec_json).map_err(|err| fail(format!("exec spec: {err}")))?;
    let record = dir.read_record().map_err(|err| fail(err.to_string()))?;
    let mut security = record.spec.security.clone();
    security.privileged |= spec.privileged;
    // Read before joining the container's mount namespace.
    let filter = seccomp::for_container(&dir, &security).map_err(fail)?;
    let state = dir.read_state().map_err(|err| fail(err.to_string()))?;
    let pid = match state.pid {
        Some(pid) if process_alive(pid, state.pid_start) => pid,
        _ => return Err(fail(format!("container {} is not running", record.name))),
    };
    let namespaces: Vec<(File, CloneFlags)> = [
        ("ipc", CloneFlags::CLONE_NEWIPC),
        ("uts", CloneFlags::CLONE_NEWUTS),
        ("net", CloneFlags::CLONE_NEWNET),
        ("pid", CloneFlags::CLONE_NEWPID),
        ("mnt", CloneFlags::CLONE_NEWNS),
        ("cgroup", CloneFlags::CLONE_NEWCGROUP),
    ]
    .into_iter()
    .map(|(name, flag)| {
        File::open(format!("/proc/{pid}/ns/{name}"))
            .map(|file| (file, flag))
            .map_err(|err| fail(format!("open {name} namespace of PID {pid}: {err}")))
    })
    .collect::<Result<_, _>>()?;
    if let Some(cgroup) = &state.cgroup {
        cgroup
            .add_process(std::process::id() as i32)
            .map_err(|err| fail(err.to_string()))?;
    }
    for (file, flag) in &namespaces {
        setns(file.as_fd(), *flag).map_err(|err| fail(format!("join {flag:?}: {err}")))?;
    }
    drop(namespaces);
    let pty = if spec.tty {
        let pty =
            nix::pty::openpty(None, None).map_err(|err| fail(format!("open a pty: {err}")))?;
        follow_window_size(pty.master.as_fd());
        Some(pty)
    } else {
        None
    };
    // Resizes arrive as a signal, read in the relay; the child unblocks it.
    let resizes = match pty {
        Some(_) => Some(resize_signals().map_err(|err| fail(format!("SIGWINCH: {err}")))?),
        None => None,
    };
    match sys::fork_single_threaded().map_err(|err| fail(format!("fork: {err}")))? {
        Forked::Child => {
            drop(resizes);
            let mut winch = SigSet::empty();
            winch.add(Signal::SIGWINCH);
            let _ = winch.thread_unblock();
            let slave = pty.map(|pty| pty.slave);
            let failure = match child(&record, &spec, &security, filter.as_ref(), slave) {
                Ok(never) => match never {},
                Err(failure) => failure,
            };
            eprintln!("berth exec: {}", failure.message);
            sys::exit_now(failure.code)
        }
        Forked::Parent(child) => {
            if let Some(pty) = pty {
                drop(pty.slave);
                relay(pty.master, resizes);
            }
            Ok(match waitpid(child, None) {
                Ok(WaitStatus::Exited(_, code)) => code,
                Ok(WaitStatus::Signaled(_, sig, _)) => 128 + sig as i32,
                _ => EXIT_SETUP,
            })
        }
    }
}

fn child(
    record: &super::state::ContainerRecord,
    spec: &ExecSpec,
    security: &super::spec::Security,
    filter: Option<&seccomp::Program>,
    slave: Option<OwnedFd>,
) -> Result<init::Never, Failure> {
    if let Some(slave) = slave {
        nix::unistd::setsid().map_err(|err| fail(format!("setsid: {err}")))?;
        for dup in [
            nix::unistd::dup2_stdin,
            nix::unistd::dup2_stdout,
            nix::unistd::dup2_stderr,
        ] {
            dup(slave.as_fd()).map_err(|err| fail(format!("pty: {err}")))?;
        }
        sys::set_controlling_terminal(slave.as_fd())
            .map_err(|err| fail(format!("controlling terminal: {err}")))?;
    }
    let read = |path: &str| fs::read_to_string(path).unwrap_or_default();
    let user_spec = spec
        .user
        .clone()
        .filter(|u| !u.is_empty())
        .unwrap_or_else(|| record.process.user.clone());
    let identity = user::resolve(
        &user_spec,
        &record.spec.process.group_add,
        &read("/etc/passwd"),
        &read("/etc/group"),
    )
    .map_err(|err| fail(err.to_string()))?;
    let term = if spec.tty {
        vec!["TERM=xterm".to_string()]
    } else {
        Vec::new()
    };
    let mut env = merge_env([
        record.process.env.as_slice(),
        term.as_slice(),
        spec.env.as_slice(),
    ]);
    if env_value(&env, "HOME").is_none() {
        env.push(format!("HOME={}", identity.home));
    }
    let working_dir = spec
        .working_dir
        .clone()
        .filter(|d| !d.is_empty())
        .unwrap_or_else(|| record.process.working_dir.clone());
    // As with Docker, what runs in the container has the container's limits.
    for limit in &record.spec.security.ulimits {
        init::apply_ulimit(limit)?;
    }
    // If the exec helper is killed (a health check that timed out), its
    // program goes with it.
    init::exec_as(
        &identity,
        security,
        &spec.args,
        &env,
        &working_dir,
        true,
        filter,
    )
}

/// Gives the pty the size of the caller's terminal (our stdin), if it is one.
fn follow_window_size(master: std::os::fd::BorrowedFd<'_>) {
    if let Some(size) = window_size(std::io::stdin().as_fd()) {
        let _ = set_window_size(master, size);
    }
}

/// SIGWINCH, blocked and read from a descriptor.
fn resize_signals() -> nix::Result<SignalFd> {
    let mut mask = SigSet::empty();
    mask.add(Signal::SIGWINCH);
    mask.thread_block()?;
    SignalFd::with_flags(&mask, SfdFlags::SFD_CLOEXEC | SfdFlags::SFD_NONBLOCK)
}

/// Copies our stdin to the pty and the pty to our stdout until the pty
/// closes; on a SIGWINCH, the pty takes our terminal's new size.
fn relay(master: OwnedFd, resizes: Option<SignalFd>) {
    let stdin = std::io::stdin();
    let stdout = std::io::stdout();
    let mut stdin_open = true;
    let mut buffer = [0u8; 8192];
    loop {
        let mut fds = vec![PollFd::new(master.as_fd(), PollFlags::POLLIN)];
        if let Some(resizes) = &resizes {
            fds.push(PollFd::new(resizes.as_fd(), PollFlags::POLLIN));
        }
        if stdin_open {
            fds.push(PollFd::new(stdin.as_fd(), PollFlags::POLLIN));
        }
        if poll(&mut fds, PollTimeout::NONE).is_err() {
            continue;
        }
        let ready: Vec<bool> = fds
            .iter()
            .map(|fd| fd.revents().is_some_and(|r| !r.is_empty()))
            .collect();
        drop(fds);
        let master_ready = ready[0];
        let resized = resizes.is_some() && ready[1];
        let stdin_ready = stdin_open && ready[ready.len() - 1];
        if let (true, Some(resizes)) = (resized, &resizes) {
            while let Ok(Some(_)) = resizes.read_signal() {}
            follow_window_size(master.as_fd());
        }
        if master_ready {
            match nix::unistd::read(&master, &mut buffer) {
                Ok(0) | Err(_) => return,
                Ok(n) => {
                    let _ = nix::unistd::write(&stdout, &buffer[..n]);
                }
            }
        }
        if stdin_ready {
            match nix::unistd::read(&stdin, &mut buffer) {
                Ok(0) | Err(_) => stdin_open = false,
                Ok(n) => {
                    let _ = nix::unistd::write(&master, &buffer[..n]);
                }
            }
        }
    }
}
