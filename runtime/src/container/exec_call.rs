//! `Runtime::exec`: how a caller runs a process in a running container
//! and where its output goes. The hidden helper that enters the container
//! is in `exec.rs`.

use std::fs;
use std::io;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::*;

impl Runtime {
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

fn exit_code_of(status: std::process::ExitStatus) -> i32 {
    use std::os::unix::process::ExitStatusExt;
    status
        .code()
        .or_else(|| status.signal().map(|s| 128 + s))
        .unwrap_or(EXIT_SETUP)
}
