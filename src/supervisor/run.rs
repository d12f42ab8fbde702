//! The long-running per-project supervisor: `berth __berth-supervisor
//! PROJECT ROOT RUN_DIR`, started by `up` ([`super::client::ensure_running`]),
//! detached. Its loop re-reads the project's containers from the runtime
//! every tick (nothing is cached as truth) and, in each pass, publishes
//! their ports ([`super::ports`]), serves their DNS and opens their start
//! gates ([`super::dns`]), probes their health and restarts them
//! ([`super::watch`]); between passes it answers its control socket
//! ([`super::control`]). It exits once the project has had no containers
//! for a while. What it knows is in its files ([`super::state_files`]), so
//! every command works whether it runs or not, and a new one takes over
//! from a crashed one.

use std::path::PathBuf;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use berth_runtime::container::{ContainerInfo, Runtime};

use super::control::{self, Pending, Request, Response};
use super::dns::DnsState;
use super::ports::PortsState;
use super::state_files;
use super::watch::{self, Watches};
use crate::contract::containers;

/// How often the supervisor looks at the containers on its own; commands
/// that change them ask it to look at once over the control socket.
const TICK: Duration = Duration::from_millis(250);
/// How long the supervisor stays with no container before it exits.
const IDLE_EXIT: Duration = Duration::from_secs(10);

/// What the loop keeps from pass to pass.
struct Supervisor {
    runtime: Runtime,
    run_dir: PathBuf,
    project: String,
    watches: Watches,
    dns: DnsState,
    ports: PortsState,
    wake: mpsc::Sender<Pending>,
}

/// Entry point of the hidden mode; returns the exit code.
pub fn main(args: &[std::ffi::OsString]) -> i32 {
    let [project, root, run_dir] = [2, 3, 4].map(|i| {
        args.get(i)
            .map(|a| a.to_string_lossy().into_owned())
            .unwrap_or_default()
    });
    let _ = nix::unistd::setsid();
    let run_dir = PathBuf::from(run_dir);
    state_files::create_dirs(&run_dir, &project);
    // Listening before the PID file says it runs: commands that saw the
    // PID file can talk to it.
    let (wake, requests) = mpsc::channel::<Pending>();
    if let Err(err) = control::listen(&control::socket_path(&run_dir, &project), wake.clone()) {
        eprintln!("supervisor: control socket: {err}");
    }
    if state_files::write_pid(&run_dir, &project, std::process::id()).is_err() {
        return 1;
    }
    let runtime = match Runtime::new(&root) {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("supervisor: {err}");
            return 1;
        }
    };
    let mut supervisor = Supervisor {
        runtime,
        run_dir,
        project,
        watches: Watches::default(),
        dns: DnsState::default(),
        ports: PortsState::default(),
        wake,
    };
    supervisor.run(&requests)
}

impl Supervisor {
    /// Passes until the project has been empty for [`IDLE_EXIT`] or a
    /// `shutdown` request comes; returns the exit code.
    fn run(&mut self, requests: &mpsc::Receiver<Pending>) -> i32 {
        let mut empty_since: Option<Instant> = None;
        // Answers owed to `converge` requests, sent after the next pass.
        let mut converged: Vec<mpsc::Sender<Response>> = Vec::new();
        loop {
            // Every container: `external_links` may name another project's.
            let all: Vec<ContainerInfo> = self.runtime.list().unwrap_or_default();
            let containers = containers::of_project(all.clone(), &self.project);
            let mut wake_at = Instant::now() + TICK;
            if containers.is_empty() {
                // `up` starts the supervisor before it makes the containers.
                let since = *empty_since.get_or_insert_with(Instant::now);
                if since.elapsed() > IDLE_EXIT {
                    state_files::clean_up(&self.run_dir, &self.project);
                    return 0;
                }
            } else {
                empty_since = None;
                let due = self.pass(&containers, &all);
                wake_at = due.map_or(wake_at, |due| due.min(wake_at));
            }
            for reply in converged.drain(..) {
                let _ = reply.send(Response::Done);
            }
            match requests.recv_timeout(wake_at.saturating_duration_since(Instant::now())) {
                Ok(Pending { request, reply }) => match request {
                    Request::Converge => converged.push(reply),
                    Request::Status => {
                        let _ = reply.send(self.status(&containers));
                    }
                    Request::Shutdown => {
                        state_files::clean_up(&self.run_dir, &self.project);
                        let _ = reply.send(Response::Done);
                        // At once: the serving threads need no goodbye, and
                        // the sockets close with the process.
                        std::process::exit(0);
                    }
                },
                Err(mpsc::RecvTimeoutError::Timeout) => {}
                Err(mpsc::RecvTimeoutError::Disconnected) => std::thread::sleep(TICK),
            }
        }
    }

    /// One pass over the project's containers: ports, DNS, health probes
    /// and restart policies. Returns when the next probe or restart is due.
    fn pass(&mut self, containers: &[ContainerInfo], all: &[ContainerInfo]) -> Option<Instant> {
        self.ports
            .converge(&self.runtime, &self.run_dir, &self.project, containers);
        self.dns.converge(&self.runtime, containers, all);
        let context = watch::Context {
            runtime: &self.runtime,
            run_dir: &self.run_dir,
            project: &self.project,
            watches: &self.watches,
            wake: &self.wake,
        };
        watch::converge(&context, containers)
    }

    /// The answer to a `status` request.
    fn status(&self, containers: &[ContainerInfo]) -> Response {
        Response::Status(control::Status {
            pid: std::process::id(),
            version: env!("CARGO_PKG_VERSION").to_string(),
            containers: containers.iter().map(|c| c.record.name.clone()).collect(),
            dns: self.dns.served_names(containers),
            ports: self.ports.published_names(containers),
        })
    }
}
