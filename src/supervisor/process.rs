//! The long-running per-project supervisor: `berth __berth-supervisor
//! PROJECT ROOT RUN_DIR`, started by `up`, detached. It watches the project's
//! containers (re-read from the runtime every tick: nothing is cached as
//! truth), runs their health checks and applies their restart policies, and
//! exits once the project has no containers left. Its state is in files under
//! `RUN_DIR/PROJECT/` (health results, a pid file), so every command works
//! whether it runs or not, and a new one takes over from a crashed one.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

use berth_runtime::container::{ContainerInfo, Runtime, Status};

use berth_runtime::dns::{DnsLink, DnsRecord, DnsServer, DnsTable, Querier, ServingHandle};
use berth_runtime::ports::{publish_all, PortError, PortMapping, Publication, PublishedPort};

use super::control::{self, Pending, Request, Response};
use super::health::{self, HealthConfig, HealthState};
use super::restart::{self, RestartPolicy};
use crate::compose::model::Service;
use crate::contract::annotations::{self, DnsAnnotation, LinkTarget, PortRequest};
use crate::contract::labels;

/// The hidden argument that runs the supervisor.
pub const SUPERVISOR_ARG: &str = "__berth-supervisor";
/// How often the supervisor looks at the containers on its own; commands
/// that change them ask it to look at once over the control socket.
const TICK: Duration = Duration::from_millis(250);
/// How long the supervisor stays with no container before it exits.
const IDLE_EXIT: Duration = Duration::from_secs(10);

fn project_dir(run_dir: &Path, project: &str) -> PathBuf {
    run_dir.join(project)
}

/// Writes a run-time file (PID, ports, health) atomically and durably, root's
/// alone: a reader never sees it half written.
fn write_run_file(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    berth_runtime::atomic_file::write(path, bytes, berth_runtime::state_root::PRIVATE_FILE_MODE)
}

fn pid_file(run_dir: &Path, project: &str) -> PathBuf {
    project_dir(run_dir, project).join("supervisor.pid")
}

/// Where a container's health results are kept.
pub fn health_file(run_dir: &Path, project: &str, container_id: &str) -> PathBuf {
    project_dir(run_dir, project)
        .join("health")
        .join(format!("{container_id}.json"))
}

/// The container's health, when it has a health check and was probed.
pub fn read_health(run_dir: &Path, project: &str, container_id: &str) -> Option<HealthState> {
    let text = fs::read(health_file(run_dir, project, container_id)).ok()?;
    serde_json::from_slice(&text).ok()
}

/// The supervisor's PID when one runs.
pub fn supervisor_pid(run_dir: &Path, project: &str) -> Option<u32> {
    if !is_running(run_dir, project) {
        return None;
    }
    fs::read_to_string(pid_file(run_dir, project))
        .ok()?
        .trim()
        .parse()
        .ok()
}

/// Where a container's published ports are listed.
pub fn ports_file(run_dir: &Path, project: &str, container_id: &str) -> PathBuf {
    project_dir(run_dir, project)
        .join("ports")
        .join(format!("{container_id}.json"))
}

/// The ports published for a container now.
pub fn read_ports(run_dir: &Path, project: &str, container_id: &str) -> Vec<PublishedPort> {
    fs::read(ports_file(run_dir, project, container_id))
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .unwrap_or_default()
}

/// Whether a supervisor for `project` runs now.
pub fn is_running(run_dir: &Path, project: &str) -> bool {
    let Ok(text) = fs::read_to_string(pid_file(run_dir, project)) else {
        return false;
    };
    let Ok(pid) = text.trim().parse::<i32>() else {
        return false;
    };
    fs::read(format!("/proc/{pid}/cmdline"))
        .map(|cmdline| {
            let cmdline = String::from_utf8_lossy(&cmdline);
            cmdline.contains(SUPERVISOR_ARG) && cmdline.split('\0').any(|a| a == project)
        })
        .unwrap_or(false)
}

/// Stops the project's supervisor (after `down`), waiting for it briefly.
pub fn stop(run_dir: &Path, project: &str) {
    let Some(pid) = supervisor_pid(run_dir, project) else {
        return;
    };
    let pid = nix::unistd::Pid::from_raw(pid as i32);
    if control::request(run_dir, project, Request::Shutdown).is_err() {
        let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM);
    }
    // Until the process is gone: its port proxies close with it.
    let deadline = Instant::now() + Duration::from_secs(2);
    while process_exists(pid.as_raw()) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(2));
    }
    clean_up(run_dir, project);
    let _ = fs::remove_file(project_dir(run_dir, project).join("supervisor.log"));
}

/// Whether `pid` is a process that has not exited (a zombie has).
fn process_exists(pid: i32) -> bool {
    match fs::read_to_string(format!("/proc/{pid}/stat")) {
        // The state follows the command name in parentheses.
        Ok(stat) => stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().next())
            .is_some_and(|state| state != "Z" && state != "X"),
        Err(_) => false,
    }
}

/// Asks the project's supervisor, when one runs, to act on the containers
/// now (publish ports, serve DNS, open start gates) and waits until it has.
pub fn converge_now(run_dir: &Path, project: &str) {
    let _ = control::request(run_dir, project, Request::Converge);
}

/// Starts the project's supervisor unless one runs.
pub fn ensure_running(root: &Path, run_dir: &Path, project: &str) -> std::io::Result<()> {
    if is_running(run_dir, project) {
        return Ok(());
    }
    let dir = project_dir(run_dir, project);
    for private in [run_dir, &dir] {
        berth_runtime::state_root::ensure_dir(
            private,
            berth_runtime::state_root::PRIVATE_DIR_MODE,
        )?;
    }
    let log = fs::File::create(dir.join("supervisor.log"))?;
    Command::new(std::env::current_exe()?)
        .arg(SUPERVISOR_ARG)
        .arg(project)
        .arg(root)
        .arg(run_dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()?;
    let deadline = Instant::now() + Duration::from_secs(5);
    while !is_running(run_dir, project) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
    Ok(())
}

/// What the supervisor tracks per container.
#[derive(Default)]
struct Watch {
    health: Option<HealthConfig>,
    state: HealthState,
    probes: usize,
    next_probe: Option<Instant>,
    probing: bool,
    restarts: u32,
    restart_delay: Option<Duration>,
    restart_at: Option<Instant>,
    /// A restart is under way (on its own thread).
    restarting: bool,
}

/// Starts an exited container again on another thread: the start waits at
/// the container's start gate, which this supervisor's loop opens (woken
/// through `wake`).
fn restart_in_background(
    runtime: &Runtime,
    info: &ContainerInfo,
    watches: &Arc<Mutex<BTreeMap<String, Watch>>>,
    wake: &mpsc::Sender<Pending>,
) {
    let (runtime, watches, wake) = (runtime.clone(), watches.clone(), wake.clone());
    let (id, name) = (info.record.id.clone(), info.record.name.clone());
    std::thread::spawn(move || {
        let result = runtime.start_with(&id, || {
            let (reply, _) = mpsc::channel();
            let _ = wake.send(Pending {
                request: Request::Converge,
                reply,
            });
        });
        if let Err(err) = result {
            eprintln!("supervisor: restarting {name}: {err}");
        }
        if let Some(watch) = watches.lock().unwrap().get_mut(&id) {
            watch.restarting = false;
        }
    });
}

fn service_of(info: &ContainerInfo) -> Option<Service> {
    annotations::service_config(&info.record.spec)
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
    let _ = fs::create_dir_all(project_dir(&run_dir, &project).join("health"));
    // Listening before the PID file says it runs: commands that saw the
    // PID file can talk to it.
    let (wake, requests) = mpsc::channel::<Pending>();
    if let Err(err) = control::listen(&control::socket_path(&run_dir, &project), wake.clone()) {
        eprintln!("supervisor: control socket: {err}");
    }
    let pid = std::process::id().to_string();
    if write_run_file(&pid_file(&run_dir, &project), pid.as_bytes()).is_err() {
        return 1;
    }
    let runtime = match Runtime::new(&root) {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("supervisor: {err}");
            return 1;
        }
    };
    let watches: Arc<Mutex<BTreeMap<String, Watch>>> = Arc::default();
    let mut empty_since: Option<Instant> = None;
    let mut dns = DnsState::default();
    let mut ports = PortsState::default();
    let _ = fs::create_dir_all(project_dir(&run_dir, &project).join("ports"));
    // Answers owed to `converge` requests, sent after the next pass.
    let mut converged: Vec<mpsc::Sender<Response>> = Vec::new();
    loop {
        // Every container: `external_links` may name another project's.
        let all: Vec<ContainerInfo> = runtime.list().unwrap_or_default();
        let containers: Vec<ContainerInfo> = all
            .iter()
            .filter(|c| c.record.spec.labels.get(labels::PROJECT) == Some(&project))
            .cloned()
            .collect();
        if containers.is_empty() {
            // `up` starts the supervisor before it makes the containers.
            let since = *empty_since.get_or_insert_with(Instant::now);
            if since.elapsed() > IDLE_EXIT {
                clean_up(&run_dir, &project);
                return 0;
            }
        }
        let mut wake_at = Instant::now() + TICK;
        if !containers.is_empty() {
            empty_since = None;
            let context = Context {
                runtime: &runtime,
                run_dir: &run_dir,
                project: &project,
                watches: &watches,
                wake: &wake,
            };
            let due = converge(&context, &containers, &all, &mut ports, &mut dns);
            wake_at = due.map_or(wake_at, |due| due.min(wake_at));
        }
        for reply in converged.drain(..) {
            let _ = reply.send(Response::Done);
        }
        match requests.recv_timeout(wake_at.saturating_duration_since(Instant::now())) {
            Ok(Pending { request, reply }) => match request {
                Request::Converge => converged.push(reply),
                Request::Status => {
                    let _ = reply.send(Response::Status(control::Status {
                        pid: std::process::id(),
                        version: env!("CARGO_PKG_VERSION").to_string(),
                        containers: containers.iter().map(|c| c.record.name.clone()).collect(),
                        dns: dns.served_names(&containers),
                        ports: ports.published_names(&containers),
                    }));
                }
                Request::Shutdown => {
                    clean_up(&run_dir, &project);
                    let _ = reply.send(Response::Done);
                    // At once: the serving threads need no goodbye, and the
                    // sockets close with the process.
                    std::process::exit(0);
                }
            },
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => std::thread::sleep(TICK),
        }
    }
}

/// Removes the supervisor's files (not the containers' health history of
/// a successor: only when it exits for good).
fn clean_up(run_dir: &Path, project: &str) {
    let _ = fs::remove_file(pid_file(run_dir, project));
    let _ = fs::remove_file(control::socket_path(run_dir, project));
    let _ = fs::remove_dir_all(project_dir(run_dir, project).join("health"));
}

/// What a pass works with.
struct Context<'a> {
    runtime: &'a Runtime,
    run_dir: &'a Path,
    project: &'a str,
    watches: &'a Arc<Mutex<BTreeMap<String, Watch>>>,
    /// Wakes the main loop (for a pass now).
    wake: &'a mpsc::Sender<Pending>,
}

/// One pass over the project's containers: ports, DNS, health probes and
/// restart policies. Returns when the next probe or restart is due.
fn converge(
    context: &Context,
    containers: &[ContainerInfo],
    all: &[ContainerInfo],
    ports: &mut PortsState,
    dns: &mut DnsState,
) -> Option<Instant> {
    let Context {
        runtime,
        run_dir,
        project,
        watches,
        wake,
    } = *context;
    {
        ports.converge(runtime, run_dir, project, containers);
        dns.converge(runtime, containers, all);
        let now = Instant::now();
        let mut table = watches.lock().unwrap();
        table.retain(|id, _| containers.iter().any(|c| &c.record.id == id));
        for info in containers {
            let service = service_of(info);
            let watch = table
                .entry(info.record.id.clone())
                .or_insert_with(|| Watch {
                    health: service
                        .as_ref()
                        .and_then(|s| s.healthcheck.as_ref())
                        .and_then(|h| HealthConfig::from_compose(h, None)),
                    ..Watch::default()
                });
            match info.state.status {
                // A frozen container cannot answer a probe.
                Status::Running if info.state.paused => watch.restart_at = None,
                Status::Running => {
                    watch.restart_at = None;
                    schedule_probe(runtime, run_dir, project, info, watch, watches, now);
                }
                Status::Exited => {
                    watch.next_probe = None;
                    watch.probes = 0;
                    let policy = service
                        .as_ref()
                        .map_or(RestartPolicy::No, RestartPolicy::for_service);
                    let exit_code = info.state.exit_code.unwrap_or(0);
                    if !policy.should_restart(exit_code, watch.restarts, info.state.stop_requested)
                    {
                        continue;
                    }
                    let ran_for = run_duration(info);
                    let at = *watch.restart_at.get_or_insert_with(|| {
                        let delay = restart::next_delay(watch.restart_delay, ran_for);
                        watch.restart_delay = Some(delay);
                        now + delay
                    });
                    if now >= at && !watch.restarting {
                        watch.restart_at = None;
                        watch.restarts += 1;
                        watch.restarting = true;
                        watch.state = HealthState::default();
                        let _ = fs::remove_file(health_file(run_dir, project, &info.record.id));
                        restart_in_background(runtime, info, watches, wake);
                    }
                }
                Status::Created => {}
            }
        }
        // (A probe in flight reschedules itself when it ends.)
        table
            .values()
            .flat_map(|w| [w.next_probe.filter(|_| !w.probing), w.restart_at])
            .flatten()
            .min()
    }
}

/// Published ports, per container, while it runs (or is about to).
#[derive(Default)]
struct PortsState {
    /// container ID -> (namespace PID, publication)
    published: BTreeMap<String, (i32, Publication)>,
}

/// The containers waiting at their start gate, by ID, with their PIDs (from
/// the list the pass already has: no second look at every container).
fn pending_gates(runtime: &Runtime, containers: &[ContainerInfo]) -> BTreeMap<String, i32> {
    // Any status: a container being restarted still reads as exited.
    containers
        .iter()
        .filter_map(|c| Some((c.record.id.clone(), runtime.gate_pending(&c.record.id)?)))
        .collect()
}

/// Whether what is served for container `id` in the namespace of `pid`
/// stays: the container still exists, has not exited, and is not known to
/// run in another process now. A container between its start gate and its
/// recorded start is neither pending nor running for a moment; that must
/// not tear its DNS or ports down.
fn still_serves(id: &str, pid: i32, containers: &[ContainerInfo], live: &[(&String, i32)]) -> bool {
    let Some(info) = containers.iter().find(|c| c.record.id == id) else {
        return false;
    };
    if info.state.status == Status::Exited {
        return false;
    }
    live.iter()
        .find(|(live_id, _)| *live_id == id)
        .is_none_or(|(_, live_pid)| *live_pid == pid)
}

/// The names of `containers` among the IDs in `keys`.
fn names_of<'a>(
    keys: impl Iterator<Item = &'a String>,
    containers: &[ContainerInfo],
) -> Vec<String> {
    let keys: Vec<&String> = keys.collect();
    containers
        .iter()
        .filter(|c| keys.contains(&&c.record.id))
        .map(|c| c.record.name.clone())
        .collect()
}

impl PortsState {
    fn published_names(&self, containers: &[ContainerInfo]) -> Vec<String> {
        names_of(self.published.keys(), containers)
    }

    fn converge(
        &mut self,
        runtime: &Runtime,
        run_dir: &Path,
        project: &str,
        containers: &[ContainerInfo],
    ) {
        let pending = pending_gates(runtime, containers);
        let live: Vec<(&ContainerInfo, i32, Vec<PortRequest>)> = containers
            .iter()
            .filter_map(|c| {
                let requests = annotations::port_requests(&c.record.spec)?;
                let pid = match (c.state.status, c.state.pid) {
                    (Status::Running, Some(pid)) => pid,
                    _ => *pending.get(&c.record.id)?,
                };
                Some((c, pid, requests))
            })
            .collect();
        let before: Vec<String> = self.published.keys().cloned().collect();
        let live_pids: Vec<(&String, i32)> =
            live.iter().map(|(c, p, _)| (&c.record.id, *p)).collect();
        self.published
            .retain(|id, (pid, _)| still_serves(id, *pid, containers, &live_pids));
        for gone in before.iter().filter(|id| !self.published.contains_key(*id)) {
            let _ = fs::remove_file(ports_file(run_dir, project, gone));
        }
        for (info, pid, requests) in live {
            if self.published.contains_key(&info.record.id) {
                continue;
            }
            let Some(address) = info.record.spec.endpoints.first().map(|e| e.address) else {
                continue;
            };
            match publish(&requests, address) {
                Ok(publication) => {
                    if let Ok(json) = serde_json::to_vec(&publication.ports) {
                        let _ =
                            write_run_file(&ports_file(run_dir, project, &info.record.id), &json);
                    }
                    self.published
                        .insert(info.record.id.clone(), (pid, publication));
                }
                Err(err) => eprintln!(
                    "supervisor: publishing ports of {}: {err}",
                    info.record.name
                ),
            }
        }
    }
}

/// Publishes the requests towards `address`; a range takes its first free port.
fn publish(
    requests: &[PortRequest],
    address: std::net::Ipv4Addr,
) -> Result<Publication, PortError> {
    let mut mappings = Vec::new();
    for request in requests {
        let target = std::net::SocketAddr::new(std::net::IpAddr::V4(address), request.target);
        let candidates: Vec<Option<u16>> = if request.host_ports.is_empty() {
            vec![None]
        } else {
            request.host_ports.iter().map(|p| Some(*p)).collect()
        };
        let mut chosen = None;
        for candidate in &candidates {
            let mapping = PortMapping {
                host_ip: request.host_ip,
                host_port: *candidate,
                protocol: request.protocol,
                target,
            };
            if candidates.len() == 1 || publish_all(std::slice::from_ref(&mapping)).is_ok() {
                chosen = Some(mapping);
                break;
            }
        }
        mappings.push(chosen.unwrap_or(PortMapping {
            host_ip: request.host_ip,
            host_port: candidates[0],
            protocol: request.protocol,
            target,
        }));
    }
    publish_all(&mappings)
}

/// The embedded DNS for the project: one table, one serving handle per
/// container namespace.
#[derive(Default)]
struct DnsState {
    server: DnsServer,
    records: Vec<DnsRecord>,
    links: Vec<DnsLink>,
    /// container ID -> (namespace PID, handle)
    serving: BTreeMap<String, (i32, ServingHandle)>,
}

impl DnsState {
    fn served_names(&self, containers: &[ContainerInfo]) -> Vec<String> {
        names_of(self.serving.keys(), containers)
    }

    fn converge(&mut self, runtime: &Runtime, containers: &[ContainerInfo], all: &[ContainerInfo]) {
        let pending = pending_gates(runtime, containers);
        // Containers that run (or are about to) and have endpoints.
        let live: Vec<(&ContainerInfo, i32)> = containers
            .iter()
            .filter(|c| !c.record.spec.endpoints.is_empty())
            .filter_map(|c| match (c.state.status, c.state.pid) {
                (Status::Running, Some(pid)) => Some((c, pid)),
                _ => pending.get(&c.record.id).map(|pid| (c, *pid)),
            })
            .collect();
        let live_pids: Vec<(&String, i32)> = live.iter().map(|(c, p)| (&c.record.id, *p)).collect();
        self.serving
            .retain(|id, (pid, _)| still_serves(id, *pid, containers, &live_pids));
        for (info, pid) in &live {
            if !self.serving.contains_key(&info.record.id) {
                match serve(&self.server, info, *pid) {
                    Ok(handle) => {
                        self.serving.insert(info.record.id.clone(), (*pid, handle));
                    }
                    Err(err) => eprintln!("supervisor: DNS for {}: {err}", info.record.name),
                }
            }
        }
        // Names: every container live now or still served (one between its
        // start gate and its recorded start is briefly neither pending nor
        // running, and must not drop out of the answers).
        let named: Vec<&ContainerInfo> = containers
            .iter()
            .filter(|c| {
                live_pids.iter().any(|(id, _)| **id == c.record.id)
                    || self.serving.contains_key(&c.record.id)
            })
            .collect();
        let records: Vec<DnsRecord> = named.iter().copied().flat_map(dns_records).collect();
        let links: Vec<DnsLink> = named
            .iter()
            .flat_map(|c| dns_links(c, containers, all))
            .collect();
        if records != self.records || links != self.links {
            self.server.update(DnsTable::with_links(&records, &links));
            self.records = records;
            self.links = links;
        }
        // Only now, with the names in the table, may the programs start.
        for (info, _) in &live {
            if pending.contains_key(&info.record.id) {
                let _ = runtime.open_gate(&info.record.id);
            }
        }
    }
}

fn dns_annotation(info: &ContainerInfo) -> DnsAnnotation {
    annotations::dns(&info.record.spec)
}

/// The names a container answers to, per network it is on.
fn dns_records(info: &ContainerInfo) -> Vec<DnsRecord> {
    let annotation = dns_annotation(info);
    info.record
        .spec
        .endpoints
        .iter()
        .map(|endpoint| {
            let mut names = Vec::new();
            // A one-off (`run`) container answers to its own names only.
            let one_off = info
                .record
                .spec
                .labels
                .get(labels::ONEOFF)
                .map(String::as_str)
                == Some("True");
            if let Some(service) = info
                .record
                .spec
                .labels
                .get(labels::SERVICE)
                .filter(|_| !one_off)
            {
                names.push(service.clone());
            }
            names.push(info.record.name.clone());
            names.push(info.record.hostname.clone());
            names.extend(
                annotation
                    .aliases
                    .get(&endpoint.network)
                    .cloned()
                    .unwrap_or_default(),
            );
            DnsRecord {
                network: endpoint.network.clone(),
                names,
                address: endpoint.address,
                container_id: info.record.id.clone(),
            }
        })
        .collect()
}

/// The names a container's legacy links give it (and only it): each
/// running target's addresses on the networks the linking container is
/// on. `containers`: the project's; `all`: every container (an
/// `external_links` target may belong to another project or none).
fn dns_links(
    info: &ContainerInfo,
    containers: &[ContainerInfo],
    all: &[ContainerInfo],
) -> Vec<DnsLink> {
    let annotation = dns_annotation(info);
    let networks: Vec<&String> = info
        .record
        .spec
        .endpoints
        .iter()
        .map(|e| &e.network)
        .collect();
    annotation
        .links
        .iter()
        .map(|link| {
            let targets: Vec<&ContainerInfo> = match &link.target {
                LinkTarget::Service(service) => containers
                    .iter()
                    .filter(|c| {
                        let own = &c.record.spec.labels;
                        own.get(labels::SERVICE) == Some(service)
                            && own.get(labels::ONEOFF).map(String::as_str) != Some("True")
                    })
                    .collect(),
                LinkTarget::Container(name) => {
                    all.iter().filter(|c| &c.record.name == name).collect()
                }
            };
            let addresses = targets
                .into_iter()
                .filter(|c| c.state.status == Status::Running)
                .flat_map(|c| &c.record.spec.endpoints)
                .filter(|e| networks.contains(&&e.network))
                .map(|e| e.address)
                .collect();
            DnsLink {
                asker: info.record.id.clone(),
                name: link.alias.clone(),
                addresses,
            }
        })
        .collect()
}

/// Serves the embedded DNS inside the namespace of `pid`.
fn serve(server: &DnsServer, info: &ContainerInfo, pid: i32) -> Result<ServingHandle, String> {
    let annotation = dns_annotation(info);
    let querier = Querier {
        container_id: info.record.id.clone(),
        networks: info
            .record
            .spec
            .endpoints
            .iter()
            .map(|e| e.network.clone())
            .collect(),
        upstreams: annotation
            .upstreams
            .iter()
            .filter_map(|u| u.parse().ok())
            .collect(),
        internal: annotation.internal,
    };
    server.serve_container(&PathBuf::from(format!("/proc/{pid}/ns/net")), querier)
}

fn run_duration(info: &ContainerInfo) -> Duration {
    let parse = |t: &Option<String>| {
        t.as_deref()
            .and_then(berth_runtime::timestamp::parse_rfc3339)
    };
    match (
        parse(&info.state.started_at),
        parse(&info.state.finished_at),
    ) {
        (Some(start), Some(end)) if end >= start => Duration::from_secs((end - start) as u64),
        _ => Duration::ZERO,
    }
}

/// Starts a probe in the background when one is due.
fn schedule_probe(
    runtime: &Runtime,
    run_dir: &Path,
    project: &str,
    info: &ContainerInfo,
    watch: &mut Watch,
    watches: &Arc<Mutex<BTreeMap<String, Watch>>>,
    now: Instant,
) {
    let Some(config) = watch.health.clone() else {
        return;
    };
    if watch.probing {
        return;
    }
    let running_for = Duration::from_secs(
        info.state
            .started_at
            .as_deref()
            .and_then(berth_runtime::timestamp::parse_rfc3339)
            .map(|t| (berth_runtime::timestamp::now_unix() - t).max(0) as u64)
            .unwrap_or(0),
    );
    let due = *watch
        .next_probe
        .get_or_insert_with(|| now + health::next_delay(&config, running_for, watch.probes));
    if now < due {
        return;
    }
    watch.probing = true;
    let runtime = runtime.clone();
    let id = info.record.id.clone();
    let path = health_file(run_dir, project, &id);
    let watches = watches.clone();
    std::thread::spawn(move || {
        let result = health::probe(&runtime, &id, &config);
        let mut table = watches.lock().unwrap();
        let Some(watch) = table.get_mut(&id) else {
            return;
        };
        let in_start_period = running_for < config.start_period;
        watch.state.record(result, config.retries, in_start_period);
        watch.probes += 1;
        watch.probing = false;
        watch.next_probe =
            Some(Instant::now() + health::next_delay(&config, running_for, watch.probes));
        if let Ok(json) = serde_json::to_vec(&watch.state) {
            let _ = write_run_file(&path, &json);
        }
    });
}
