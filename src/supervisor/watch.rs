//! What the supervisor does per container: probe its health check when a
//! probe is due (the rules and the probe itself are in [`super::health`];
//! results go to `health/ID.json`) and start it again after it exits, as
//! its restart policy says ([`super::restart`]), with a growing delay.
//! Probes and restarts run on their own threads; the main loop learns when
//! the next one is due.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use berth_runtime::container::{ContainerInfo, Runtime, Status};

use super::control::{Pending, Request};
use super::health::{self, HealthConfig, HealthState};
use super::restart::{self, RestartPolicy};
use super::state_files;
use crate::compose::model::Service;
use crate::contract::annotations;

/// What the supervisor tracks per container.
#[derive(Default)]
pub struct Watch {
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

/// Container ID -> its watch, shared with the probe and restart threads.
pub type Watches = Arc<Mutex<BTreeMap<String, Watch>>>;

/// What a pass works with.
pub struct Context<'a> {
    pub runtime: &'a Runtime,
    pub run_dir: &'a Path,
    pub project: &'a str,
    pub watches: &'a Watches,
    /// Wakes the main loop (for a pass now).
    pub wake: &'a mpsc::Sender<Pending>,
}

/// Health probes and restart policies over the project's containers.
/// Returns when the next probe or restart is due.
pub fn converge(context: &Context, containers: &[ContainerInfo]) -> Option<Instant> {
    let now = Instant::now();
    let mut table = context.watches.lock().unwrap();
    table.retain(|id, _| containers.iter().any(|c| &c.record.id == id));
    for info in containers {
        let service = annotations::service_config(&info.record.spec);
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
                schedule_probe(context, info, watch, now);
            }
            Status::Exited => {
                watch.next_probe = None;
                watch.probes = 0;
                restart_when_due(context, info, watch, service.as_ref(), now);
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

/// Restarts an exited container once its delay has passed, when its policy
/// asks for it.
fn restart_when_due(
    context: &Context,
    info: &ContainerInfo,
    watch: &mut Watch,
    service: Option<&Service>,
    now: Instant,
) {
    let policy = service.map_or(RestartPolicy::No, RestartPolicy::for_service);
    let exit_code = info.state.exit_code.unwrap_or(0);
    if !policy.should_restart(exit_code, watch.restarts, info.state.stop_requested) {
        return;
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
        state_files::remove_health(context.run_dir, context.project, &info.record.id);
        restart_in_background(context.runtime, info, context.watches, context.wake);
    }
}

/// Starts an exited container again on another thread: the start waits at
/// the container's start gate, which this supervisor's loop opens (woken
/// through `wake`).
fn restart_in_background(
    runtime: &Runtime,
    info: &ContainerInfo,
    watches: &Watches,
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

/// How long the container ran before it last exited.
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

/// How long ago the container started (its `started_at`, to the nanosecond).
fn running_for(started_at: Option<&str>) -> Duration {
    started_at
        .and_then(berth_runtime::timestamp::parse_rfc3339_time)
        .and_then(|started| SystemTime::now().duration_since(started).ok())
        .unwrap_or_default()
}

/// Starts a probe in the background when one is due.
fn schedule_probe(context: &Context, info: &ContainerInfo, watch: &mut Watch, now: Instant) {
    let Some(config) = watch.health.clone() else {
        return;
    };
    if watch.probing {
        return;
    }
    let due = *watch.next_probe.get_or_insert_with(|| {
        let since_start = running_for(info.state.started_at.as_deref());
        now + health::next_delay(&config, since_start, watch.probes, watch.state.status)
    });
    if now < due {
        return;
    }
    watch.probing = true;
    let runtime = context.runtime.clone();
    let started_at = info.state.started_at.clone();
    let id = info.record.id.clone();
    let path = state_files::health_file(context.run_dir, context.project, &id);
    let watches = context.watches.clone();
    std::thread::spawn(move || {
        let started_after = running_for(started_at.as_deref());
        let result = health::probe(&runtime, &id, &config);
        let mut table = watches.lock().unwrap();
        let Some(watch) = table.get_mut(&id) else {
            return;
        };
        watch.state.record(result, &config, started_after);
        watch.probes += 1;
        watch.probing = false;
        let delay = health::next_delay(
            &config,
            running_for(started_at.as_deref()),
            watch.probes,
            watch.state.status,
        );
        watch.next_probe = Some(Instant::now() + delay);
        state_files::write_health(&path, &watch.state);
    });
}
