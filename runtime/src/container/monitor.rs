//! The per-container monitor (podman's conmon model): a small detached
//! process, one per running container, that forks the container's first
//! process into its namespaces and cgroups, holds its output pipes, writes
//! the log, and records the exit code, signal and OOM kill when it ends. A
//! crash of whatever started it never stops the container or loses output.
//!
//! Started as `berth __berth-monitor DIR [attach]`; it reports one line on
//! stdout, `ok PID` or `error CODE MESSAGE`, then detaches. It serves the
//! container's console (`console.rs`) while the program runs; with `attach`
//! it says `console` once the socket is bound and waits for the starter to
//! attach before the program starts, so not a byte of output is missed.

use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::os::fd::{AsFd, OwnedFd};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use nix::fcntl::OFlag;
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sched::{setns, unshare, CloneFlags};
use nix::sys::signal::{SigSet, Signal};
use nix::sys::signalfd::{SfdFlags, SignalFd};
use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
use nix::unistd::{pipe2, Pid};

use super::cgroup::{ContainerCgroup, Hierarchies};
use super::cgroup_view::CgroupView;
use super::console::{ConsoleServer, ConsoleTarget};
use super::init::{self, InitIo, EXIT_SETUP};
use super::logs::{LogWriter, Stream};
use super::spec::Namespace;
use super::state::{
    process_alive, process_start_time, ContainerDir, ContainerRecord, ContainerState, Status,
};
use super::sys::{self, Forked};
use crate::timestamp;

/// Entry point of the hidden monitor mode; returns the process exit code.
pub fn main(dir: PathBuf, attach_at_start: bool) -> i32 {
    // Detach: the starter reaps our parent at once; we are re-parented.
    match sys::fork_single_threaded() {
        Ok(Forked::Parent(_)) => sys::exit_now(0),
        Ok(Forked::Child) => {}
        Err(err) => {
            report(&format!("error {EXIT_SETUP} fork monitor: {err}"));
            return 1;
        }
    }
    let _ = nix::unistd::setsid();
    let dir = ContainerDir(dir);
    let record = match dir
        .read_record()
        .map_err(|e| e.to_string())
        .and_then(|mut record| {
            resolve_peers(&dir, &mut record)?;
            Ok(record)
        }) {
        Ok(record) => record,
        Err(err) => {
            report(&format!("error {EXIT_SETUP} {err}"));
            return 1;
        }
    };
    let mut state = dir
        .read_state()
        .unwrap_or_else(|_| ContainerState::created());
    match launch(&dir, &record, &mut state, attach_at_start) {
        Ok(running) => {
            report(&format!("ok {}", running.child));
            supervise(&dir, &record, state, running);
            0
        }
        Err((code, message)) => {
            state.status = Status::Exited;
            state.exit_code = Some(code);
            state.error = Some(message.clone());
            state.finished_at = Some(timestamp::now());
            state.pid = None;
            let _ = dir.write_state(&state);
            report(&format!("error {code} {message}"));
            1
        }
    }
}

/// How long after the start the monitor forces the records to disk: a
/// program that ends sooner has them synced once, with its exit.
const RECORDS_SYNC_DELAY: Duration = Duration::from_millis(50);

/// Forces the container's records to disk: `config.json` (published
/// unsynced by `create`), then the `state.json` just published and the
/// directory. Never on the path of the starter or a waiter: `create` and
/// `start` do not wait for the disk (the monitor cannot hand this to a
/// thread: a process that has `unshare`d a PID namespace cannot make one).
fn sync_records(dir: &ContainerDir, state: crate::atomic_file::Published) {
    let synced = crate::atomic_file::sync_file(&dir.config()).and_then(|()| state.sync());
    if let Err(err) = synced {
        tracing::warn!("sync the records of {}: {err}", dir.path().display());
    }
}

/// Writes the one status line for the starter, then lets go of stdout.
fn report(line: &str) {
    let mut stdout = std::io::stdout();
    let _ = writeln!(stdout, "{line}");
    let _ = stdout.flush();
    if let Ok(null) = OpenOptions::new().write(true).open("/dev/null") {
        let _ = nix::unistd::dup2_stdout(null.as_fd());
    }
}

struct Running {
    /// `state.json` saying "running", visible but not yet synced: synced
    /// once the starter has its answer.
    state_sync: Option<crate::atomic_file::Published>,
    child: Pid,
    output: Vec<(OwnedFd, Stream)>,
    /// Held open so the container's stdin never sees end-of-file (unless
    /// `stdin_once`); what attached clients send is written to it.
    stdin_writer: Option<OwnedFd>,
    /// Where clients attach (`None` if the socket could not be made).
    console: Option<ConsoleServer>,
    signals: SignalFd,
    cgroup: ContainerCgroup,
}

type LaunchError = (i32, String);

fn setup_err<E: std::fmt::Display>(what: &str) -> impl FnOnce(E) -> LaunchError + '_ {
    move |err| (EXIT_SETUP, format!("{what}: {err}"))
}

fn launch(
    dir: &ContainerDir,
    record: &ContainerRecord,
    state: &mut ContainerState,
    attach_at_start: bool,
) -> Result<Running, LaunchError> {
    let hierarchies = Hierarchies::detect().map_err(setup_err("read mountinfo"))?;
    spawn(dir, record, &hierarchies, state, attach_at_start)
}

/// How long a starter that asked to attach has to do so.
const ATTACH_AT_START_PATIENCE: Duration = Duration::from_secs(10);

/// Binds the console; with `attach_at_start`, tells the starter and waits
/// for it to attach (its size and early input are applied before the
/// program runs).
fn open_console(
    dir: &ContainerDir,
    record: &ContainerRecord,
    output: &[(OwnedFd, Stream)],
    stdin_writer: &mut Option<OwnedFd>,
    attach_at_start: bool,
) -> Option<ConsoleServer> {
    let mut console = match ConsoleServer::bind(&dir.attach_socket()) {
        Ok(console) => console,
        Err(err) => {
            eprintln!("console socket: {err}");
            return None;
        }
    };
    if attach_at_start {
        let mut stdout = std::io::stdout();
        let _ = writeln!(stdout, "console");
        let _ = stdout.flush();
        let mut buffer = [0u8; 4096];
        let mut target = ConsoleTarget {
            stdin: stdin_writer,
            pty: pty_master(record, output),
            stdin_once: record.spec.process.stdin_once,
        };
        if !console.await_start(ATTACH_AT_START_PATIENCE, &mut buffer, &mut target) {
            eprintln!("nobody attached within {ATTACH_AT_START_PATIENCE:?}; starting anyway");
        }
    }
    Some(console)
}

/// The pty master of a `tty` container (its only output).
fn pty_master<'a>(
    record: &ContainerRecord,
    output: &'a [(OwnedFd, Stream)],
) -> Option<std::os::fd::BorrowedFd<'a>> {
    record
        .spec
        .process
        .tty
        .then(|| output.first().map(|(fd, _)| fd.as_fd()))
        .flatten()
}

/// Waits for the child's "network namespace made" byte; end-of-file means it
/// failed before, and its error arrives on the error pipe.
fn wait_for_netns(ready: OwnedFd) -> Result<(), LaunchError> {
    let mut byte = [0u8; 1];
    let _ = nix::unistd::read(&ready, &mut byte);
    Ok(())
}

/// Connects the container's network namespace to its networks before the
/// program starts.
fn attach_networks(record: &ContainerRecord, child: Pid) -> Result<(), LaunchError> {
    if record.spec.endpoints.is_empty() {
        return Ok(());
    }
    let netns = std::path::PathBuf::from(format!("/proc/{child}/ns/net"));
    crate::network::attach(&netns, &record.spec.endpoints)
        .map_err(|err| (EXIT_SETUP, format!("attach networks: {err}")))
}

/// Announces the child's PID (its namespaces exist now) and waits until the
/// gate is opened, or the timeout passes (the program then starts anyway).
fn wait_at_gate(dir: &ContainerDir, child: Pid) {
    let _ = std::fs::remove_file(dir.gate_open());
    if std::fs::write(dir.gate_pid(), child.to_string()).is_err() {
        return;
    }
    // Tell the starter, which may ask the gate's keeper to act now.
    let mut stdout = std::io::stdout();
    let _ = writeln!(stdout, "gate {child}");
    let _ = stdout.flush();
    let deadline = Instant::now() + super::spec::START_GATE_TIMEOUT;
    while !dir.gate_open().exists() {
        if Instant::now() > deadline {
            eprintln!(
                "start gate not opened within {:?}; starting anyway",
                super::spec::START_GATE_TIMEOUT
            );
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    let _ = std::fs::remove_file(dir.gate_pid());
    let _ = std::fs::remove_file(dir.gate_open());
}

/// Makes the cgroups and puts the child in them, while the child builds its
/// root filesystem (it waits for the go byte only right before exec).
fn place_in_cgroups(
    record: &ContainerRecord,
    hierarchies: &Hierarchies,
    child: Pid,
) -> Result<ContainerCgroup, LaunchError> {
    let spec = &record.spec;
    let devices = super::devices::cgroup_rules(
        spec.security.privileged,
        &spec.devices,
        &spec.resources.device_rules,
    );
    let cgroup = hierarchies
        .create(
            &record.cgroup_parent,
            &record.id,
            &spec.resources,
            devices.as_deref(),
        )
        .map_err(|err| (EXIT_SETUP, err.to_string()))?;
    if let Err(err) = cgroup.add_process(child.as_raw()) {
        cgroup.remove();
        return Err((EXIT_SETUP, err.to_string()));
    }
    Ok(cgroup)
}

/// Turns `Namespace::Container(ID)` into that running container's
/// `/proc/PID/ns/…` path, now that this one starts.
fn resolve_peers(dir: &ContainerDir, record: &mut ContainerRecord) -> Result<(), String> {
    for (namespace, kind) in [(&mut record.spec.ipc, "ipc"), (&mut record.spec.pid, "pid")] {
        let Namespace::Container(id) = namespace else {
            continue;
        };
        let peer = ContainerDir(dir.0.with_file_name(&*id));
        let name = peer
            .read_record()
            .map(|r| r.name)
            .unwrap_or_else(|_| id.chars().take(12).collect());
        let pid = peer
            .read_state()
            .ok()
            .and_then(|state| state.pid.filter(|pid| process_alive(*pid, state.pid_start)))
            .ok_or_else(|| {
                format!("cannot join the {kind} namespace of container {name}: it is not running")
            })?;
        *namespace = Namespace::Join(PathBuf::from(format!("/proc/{pid}/ns/{kind}")));
    }
    Ok(())
}

/// Makes the PID namespace the container's first process is forked into:
/// a new one (it is PID 1 there), the host's (nothing to do), or another
/// container's (`setns` affects only the children forked afterwards).
fn enter_pid_namespace(pid: &Namespace) -> Result<(), LaunchError> {
    match pid {
        Namespace::New => unshare(CloneFlags::CLONE_NEWPID).map_err(setup_err("new PID namespace")),
        Namespace::Host | Namespace::Container(_) => Ok(()),
        Namespace::Join(path) => {
            let what = format!("join PID namespace {}", path.display());
            let ns = File::open(path).map_err(setup_err(&what))?;
            setns(ns.as_fd(), CloneFlags::CLONE_NEWPID).map_err(setup_err(&what))
        }
    }
}

fn spawn(
    dir: &ContainerDir,
    record: &ContainerRecord,
    hierarchies: &Hierarchies,
    state: &mut ContainerState,
    attach_at_start: bool,
) -> Result<Running, LaunchError> {
    let cloexec = OFlag::O_CLOEXEC;
    let process = &record.spec.process;
    let mut output = Vec::new();
    let mut stdin_writer = None;
    let (stdin, stdout, stderr, console) = if process.tty {
        let pty = nix::pty::openpty(None, None).map_err(setup_err("open a pty"))?;
        let console = nix::unistd::ttyname(pty.slave.as_fd()).map_err(setup_err("pty name"))?;
        let dup = |fd: &OwnedFd| fd.try_clone().map_err(setup_err("dup pty"));
        let (a, b) = (dup(&pty.slave)?, dup(&pty.slave)?);
        if process.stdin_open {
            stdin_writer = Some(pty.master.try_clone().map_err(setup_err("dup pty"))?);
        }
        output.push((pty.master, Stream::Stdout));
        (pty.slave, a, b, Some(console))
    } else {
        let (out_r, out_w) = pipe2(cloexec).map_err(setup_err("pipe"))?;
        let (err_r, err_w) = pipe2(cloexec).map_err(setup_err("pipe"))?;
        output.push((out_r, Stream::Stdout));
        output.push((err_r, Stream::Stderr));
        let stdin = if process.stdin_open {
            let (in_r, in_w) = pipe2(cloexec).map_err(setup_err("pipe"))?;
            stdin_writer = Some(in_w);
            in_r
        } else {
            OwnedFd::from(File::open("/dev/null").map_err(setup_err("/dev/null"))?)
        };
        (stdin, out_w, err_w, None)
    };
    let (go_r, go_w) = pipe2(cloexec).map_err(setup_err("pipe"))?;
    let (ready_r, ready_w) = pipe2(cloexec).map_err(setup_err("pipe"))?;
    let (errors_r, errors_w) = pipe2(cloexec).map_err(setup_err("pipe"))?;
    let mut mask = SigSet::empty();
    mask.add(Signal::SIGCHLD);
    mask.thread_block().map_err(setup_err("block SIGCHLD"))?;
    let signals = SignalFd::with_flags(&mask, SfdFlags::SFD_CLOEXEC | SfdFlags::SFD_NONBLOCK)
        .map_err(setup_err("signalfd"))?;
    enter_pid_namespace(&record.spec.pid)?;
    let cgroup_view = CgroupView::for_host(hierarchies);
    let child = match sys::fork_single_threaded().map_err(setup_err("fork"))? {
        Forked::Child => {
            drop(go_w);
            drop(ready_r);
            drop(errors_r);
            drop(output);
            drop(stdin_writer);
            init::run(
                dir,
                record,
                InitIo {
                    stdin,
                    stdout,
                    stderr,
                    go: go_r,
                    errors: errors_w,
                    netns_ready: ready_w,
                    console,
                    cgroup_view,
                },
            )
        }
        Forked::Parent(child) => child,
    };
    drop((go_r, ready_w, errors_w, stdin, stdout, stderr));
    let mut errors = File::from(errors_r);
    let networked = wait_for_netns(ready_r).and_then(|()| attach_networks(record, child));
    if let Err(err) = networked {
        return Err(abort_child(child, &mut errors, err));
    }
    let cgroup = match place_in_cgroups(record, hierarchies, child) {
        Ok(cgroup) => cgroup,
        Err(err) => return Err(abort_child(child, &mut errors, err)),
    };
    if record.spec.start_gate {
        wait_at_gate(dir, child);
    }
    let console = open_console(dir, record, &output, &mut stdin_writer, attach_at_start);
    let _ = nix::unistd::write(&go_w, b"g");
    drop(go_w);
    if let Some(failure) = reported_failure(&mut errors) {
        let _ = waitpid(child, None);
        cgroup.remove();
        if console.is_some() {
            let _ = std::fs::remove_file(dir.attach_socket());
        }
        return Err(failure);
    }
    state.status = Status::Running;
    state.pid = Some(child.as_raw());
    state.pid_start = process_start_time(child.as_raw());
    state.monitor_pid = Some(std::process::id() as i32);
    state.monitor_start = process_start_time(std::process::id() as i32);
    state.started_at = Some(timestamp::now());
    state.finished_at = None;
    state.exit_code = None;
    state.signal = None;
    state.oom_killed = false;
    state.error = None;
    state.cgroup = Some(cgroup.clone());
    state.start_count += 1;
    state.stop_requested = false;
    state.paused = false;
    let state_sync = dir.publish_state(state).map_err(setup_err("write state"))?;
    Ok(Running {
        state_sync: Some(state_sync),
        child,
        output,
        stdin_writer,
        console,
        signals,
        cgroup,
    })
}

/// Ends a child the monitor gave up on. A child that had already failed
/// (its setup broke right after making its network namespace, say) wrote
/// why on the error pipe: that reason wins over the monitor's own `err`,
/// which is only a consequence of it.
fn abort_child(child: Pid, errors: &mut File, err: LaunchError) -> LaunchError {
    let _ = nix::sys::signal::kill(child, Signal::SIGKILL);
    let _ = waitpid(child, None);
    reported_failure(errors).unwrap_or(err)
}

/// The `CODE MESSAGE` the child wrote on the error pipe, read to its end.
fn reported_failure(errors: &mut File) -> Option<LaunchError> {
    let mut failure = String::new();
    let _ = errors.read_to_string(&mut failure);
    if failure.is_empty() {
        return None;
    }
    let (code, message) = failure.split_once(' ').unwrap_or(("125", &failure));
    Some((code.parse().unwrap_or(EXIT_SETUP), message.to_string()))
}

/// Copies output into the log until the container's first process exits,
/// then records how it ended.
fn supervise(
    dir: &ContainerDir,
    record: &ContainerRecord,
    mut state: ContainerState,
    running: Running,
) {
    let Running {
        state_sync,
        child,
        mut output,
        mut stdin_writer,
        mut console,
        signals,
        cgroup,
    } = running;
    let mut log = if record.spec.log.enabled {
        LogWriter::open(
            &dir.log(),
            record.spec.log.max_size,
            record.spec.log.max_files,
        )
        .ok()
    } else {
        None
    };
    let mut buffer = vec![0u8; 64 * 1024];
    let mut status = None;
    let mut unsynced = state_sync;
    let sync_at = Instant::now() + RECORDS_SYNC_DELAY;
    while status.is_none() {
        if unsynced.is_some() && Instant::now() >= sync_at {
            sync_records(dir, unsynced.take().expect("checked"));
        }
        let timeout = match unsynced {
            Some(_) => PollTimeout::try_from(sync_at.saturating_duration_since(Instant::now()))
                .unwrap_or(PollTimeout::NONE),
            None => PollTimeout::NONE,
        };
        // A client behind on its output holds the container's back.
        let output_flags = match &console {
            Some(console) if !console.takes_output() => PollFlags::empty(),
            _ => PollFlags::POLLIN,
        };
        let mut fds: Vec<PollFd> = output
            .iter()
            .map(|(fd, _)| PollFd::new(fd.as_fd(), output_flags))
            .collect();
        fds.push(PollFd::new(signals.as_fd(), PollFlags::POLLIN));
        let console_at = fds.len();
        if let Some(console) = &console {
            fds.extend(
                console
                    .poll_fds()
                    .into_iter()
                    .map(|(fd, flags)| PollFd::new(fd, flags)),
            );
        }
        if poll(&mut fds, timeout).is_err() {
            continue;
        }
        let ready: Vec<bool> = fds
            .iter()
            .map(|fd| fd.revents().is_some_and(|r| !r.is_empty()))
            .collect();
        drop(fds);
        let mut closed = Vec::new();
        for (index, (fd, stream)) in output.iter().enumerate() {
            if !ready[index] {
                continue;
            }
            match nix::unistd::read(fd, &mut buffer) {
                Ok(0) | Err(nix::errno::Errno::EIO) => closed.push(index),
                Ok(n) => {
                    if let Some(log) = log.as_mut() {
                        let _ = log.push(*stream, &buffer[..n]);
                    }
                    if let Some(console) = console.as_mut() {
                        console.broadcast(*stream, &buffer[..n]);
                    }
                }
                Err(nix::errno::Errno::EINTR) | Err(nix::errno::Errno::EAGAIN) => {}
                Err(_) => closed.push(index),
            }
        }
        for index in closed.into_iter().rev() {
            output.remove(index);
        }
        if let Some(server) = console.as_mut() {
            // `run -i` (`stdin_once`): the client's end of input is the container's.
            let mut target = ConsoleTarget {
                stdin: &mut stdin_writer,
                pty: pty_master(record, &output),
                stdin_once: record.spec.process.stdin_once,
            };
            server.serve(&ready[console_at..], &mut buffer, &mut target);
        }
        if ready[console_at - 1] {
            while let Ok(Some(_)) = signals.read_signal() {}
            status = reap(child);
        }
    }
    // The process is gone; take whatever output is still buffered.
    for (fd, stream) in &output {
        let _ = nix::fcntl::fcntl(fd.as_fd(), nix::fcntl::FcntlArg::F_SETFL(OFlag::O_NONBLOCK));
        while let Ok(n) = nix::unistd::read(fd, &mut buffer) {
            if n == 0 {
                break;
            }
            if let Some(log) = log.as_mut() {
                let _ = log.push(*stream, &buffer[..n]);
            }
            if let Some(console) = console.as_mut() {
                console.broadcast(*stream, &buffer[..n]);
            }
        }
    }
    if let Some(log) = log.as_mut() {
        let _ = log.flush_partial();
    }
    // Attached clients see the end of the output now.
    if let Some(console) = console.take() {
        let _ = std::fs::remove_file(dir.attach_socket());
        console.finish();
    }
    let (exit_code, signal) = match status {
        Some(WaitStatus::Exited(_, code)) => (code, None),
        Some(WaitStatus::Signaled(_, sig, _)) => (128 + sig as i32, Some(sig as i32)),
        _ => (EXIT_SETUP, None),
    };
    // A stop asked for meanwhile is recorded in the file, not in our copy.
    if let Ok(on_disk) = dir.read_state() {
        state.stop_requested |= on_disk.stop_requested;
    }
    state.status = Status::Exited;
    state.exit_code = Some(exit_code);
    state.signal = signal;
    state.oom_killed = cgroup.oom_kills() > 0;
    state.finished_at = Some(timestamp::now());
    state.pid = None;
    state.pid_start = None;
    state.cgroup = None;
    // Visible first, synced next: waiters see the exit at once.
    if let Ok(published) = dir.publish_state(&state) {
        sync_records(dir, published);
    }
    // After the state: waiters see the exit at once; the next start waits
    // for this monitor to be gone before it makes the cgroups again.
    cgroup.remove();
}

fn reap(child: Pid) -> Option<WaitStatus> {
    loop {
        match waitpid(None, Some(WaitPidFlag::WNOHANG)) {
            Ok(status @ (WaitStatus::Exited(pid, _) | WaitStatus::Signaled(pid, _, _)))
                if pid == child =>
            {
                return Some(status)
            }
            Ok(WaitStatus::StillAlive) | Err(_) => return None,
            Ok(_) => continue,
        }
    }
}
