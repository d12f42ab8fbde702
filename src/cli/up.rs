//! `berth up`: load the project, make sure its images are there, plan from
//! what exists, execute the plan, then (in the foreground) stream the logs
//! of the attached services until the containers end or Ctrl-C stops them
//! (dependents first; a second Ctrl-C kills).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context};
use berth_runtime::container::{Runtime, Status};
use berth_runtime::image::{self, ImageStore, ResolvedImage};
use berth_runtime::network::NetworkStore;
use berth_runtime::volume::VolumeStore;

use super::args::{GlobalOptions, UpArgs};
use super::lock::{run_dir, ProjectLock};
use super::project::load_project;
use crate::compose::graph_input;
use crate::compose::model::Project;
use crate::graph::ProjectGraph;
use crate::reconcile::engine::RuntimeEngine;
use crate::reconcile::translate::HostFacts;
use crate::reconcile::{
    execute, observe, plan, Action, DesiredState, Event, ObservedContainer, ObservedState,
    PlanOptions,
};
use crate::supervisor::health::HealthStatus;

/// Makes sure each selected service's image is in the store, pulling by
/// `pull_policy` (or `--pull`), and returns it with the name it was asked by.
pub(super) fn images(
    store: &ImageStore,
    project: &Project,
    services: &[String],
    pull_flag: Option<&str>,
    quiet: bool,
) -> anyhow::Result<BTreeMap<String, (ResolvedImage, String)>> {
    let report = |name: &str, status: &str| {
        if !quiet {
            super::progress::report("Image", name, status);
        }
    };
    let mut found = BTreeMap::new();
    for name in services {
        let service = &project.services[name];
        let Some(reference) = service.image.clone() else {
            bail!("service {name:?} has no image: building images (build:) is not supported yet");
        };
        let policy_text = pull_flag
            .map(str::to_string)
            .or_else(|| service.pull_policy.clone())
            .unwrap_or_default();
        let policy = super::pull_policy::PullPolicy::parse(&policy_text)
            .map_err(|e| anyhow::anyhow!("service {name:?}: pull_policy: {e}"))?;
        if policy == super::pull_policy::PullPolicy::Build {
            bail!("service {name:?}: pull_policy build: building images is not supported yet");
        }
        let platform = service
            .platform
            .clone()
            .or_else(|| std::env::var("DOCKER_DEFAULT_PLATFORM").ok())
            .filter(|p| !p.is_empty());
        if let Some(platform) = &platform {
            super::pull_policy::check_platform(platform)
                .map_err(|e| anyhow::anyhow!("service {name:?}: platform: {e}"))?;
        }
        let must_pull = policy.must_pull(store.tagged_at(&reference), std::time::SystemTime::now());
        let resolved = if must_pull {
            report(&reference, "Pulling");
            // On a terminal the line's spinner stands for the layers' bars.
            let quiet = quiet || super::progress::is_live();
            image::pull::pull(store, &reference, &image::pull::PullOptions { quiet })
                .with_context(|| format!("service {name:?}: pulling {reference}"))?;
            report(&reference, "Pulled");
            store.resolve(&reference)?
        } else {
            store.resolve(&reference).with_context(|| {
                if policy == super::pull_policy::PullPolicy::Never {
                    format!("service {name:?}: pull_policy never, and the image is not here")
                } else {
                    format!("service {name:?}")
                }
            })?
        };
        super::pull_policy::check_image_platform(
            &reference,
            &resolved.config.os().to_string(),
            &resolved.config.architecture().to_string(),
        )
        .map_err(|e| anyhow::anyhow!("service {name:?}: {e}"))?;
        found.insert(name.clone(), (resolved, reference));
    }
    Ok(found)
}

/// Prints the warnings the selected services' attributes call for and
/// refuses the project, before anything is made, when any is refused.
pub(super) fn check_attributes(project: &Project, services: &[String]) -> anyhow::Result<()> {
    let findings = crate::compat::check_project(project, services);
    for warning in &findings.warnings {
        eprintln!("warning: {warning}");
    }
    if !findings.errors.is_empty() {
        bail!("{}", findings.errors.join("\n"));
    }
    Ok(())
}

/// What an action acts on and its status words: (kind, name, doing, done).
fn describe(action: &Action) -> (&'static str, &String, &'static str, &'static str) {
    match action {
        Action::CreateNetwork { name } => ("Network", name, "Creating", "Created"),
        Action::CreateVolume { name } => ("Volume", name, "Creating", "Created"),
        Action::CreateContainer { name, .. } => ("Container", name, "Creating", "Created"),
        Action::StartContainer { name } => ("Container", name, "Starting", "Started"),
        Action::StopContainer { name } => ("Container", name, "Stopping", "Stopped"),
        Action::RemoveContainer { name } => ("Container", name, "Removing", "Removed"),
        Action::RenameContainer { to, .. } => ("Container", to, "Recreate", "Recreated"),
        Action::WaitHealthy { name, .. } => ("Container", name, "Waiting", "Healthy"),
        Action::WaitCompleted { name, .. } => ("Container", name, "Waiting", "Exited"),
    }
}

/// Reports an action's progress.
fn report_action(action: &Action, done: bool, error: Option<&str>) {
    let (kind, name, verb_doing, verb_done) = describe(action);
    match error {
        Some(error) => super::progress::report_error(kind, name, error),
        None => super::progress::report(kind, name, if done { verb_done } else { verb_doing }),
    }
}

/// A dependency that died is shown with its last log lines, once, before
/// the error that names it.
fn show_dependency_logs(err: &crate::reconcile::ExecuteError) {
    if let Some((name, lines)) = err.engine_error().and_then(|e| e.dependency_logs()) {
        eprintln!("last log lines of {name}:");
        for line in lines {
            eprintln!("  {line}");
        }
    }
}

pub fn run(global: &GlobalOptions, args: &UpArgs) -> anyhow::Result<i32> {
    if args.images.build {
        bail!("up --build: berth does not build images; build elsewhere, then `berth image load` the archive");
    }
    let project = load_project(global, &args.services, true)?.project;
    let _lock = ProjectLock::acquire(&run_dir(), &project.name)?;
    let graph = ProjectGraph::new(&graph_input(&project.services))?;
    let selected: Vec<String> = if args.services.is_empty() || args.no_deps {
        if args.services.is_empty() {
            project.services.keys().cloned().collect()
        } else {
            args.services.clone()
        }
    } else {
        graph.subset_with_dependencies(&args.services)
    };
    check_attributes(&project, &selected)?;
    let mut scale = BTreeMap::new();
    for entry in &args.scale {
        let (service, count) = entry
            .split_once('=')
            .with_context(|| format!("--scale {entry:?}: expected SERVICE=NUM"))?;
        let count: u32 = count
            .parse()
            .with_context(|| format!("--scale {entry:?}: {count:?} is not a number"))?;
        scale.insert(service.to_string(), count);
    }
    let store = ImageStore::open(&global.root).context("image store")?;
    let scaled_to_zero = |name: &String| {
        scale.get(name).copied().unwrap_or_else(|| {
            let s = &project.services[name];
            s.scale
                .or_else(|| s.deploy.as_ref().and_then(|d| d.replicas))
                .unwrap_or(1)
        }) == 0
    };
    let needed: Vec<String> = selected
        .iter()
        .filter(|s| !scaled_to_zero(s))
        .cloned()
        .collect();
    // Secrets and configs are read first: a missing one fails before
    // anything is pulled or created.
    let file_digests = crate::reconcile::files::service_digests(&project, &needed)?;
    // Values berth cannot honour are refused before anything is pulled or made.
    let host = HostFacts::detect(&project);
    crate::reconcile::translate::check(&project, &needed, &host)?;
    let images = images(
        &store,
        &project,
        &needed,
        args.images.pull.as_deref(),
        args.images.quiet_pull,
    )?;
    let image_ids = images
        .iter()
        .map(|(s, (image, _))| (s.clone(), image.id.clone()))
        .collect();
    let mut desired = DesiredState::from_project(&project, &scale, &image_ids);
    desired.set_files(file_digests);
    let runtime = Runtime::new(&global.root).context("container runtime")?;
    let networks = NetworkStore::open(&global.root).context("network store")?;
    let observed = ObservedState {
        containers: observe::project_containers(&runtime.list()?, &project.name),
        networks: networks.list()?.into_iter().map(|n| n.name).collect(),
        volumes: VolumeStore::open(&global.root)
            .context("volume store")?
            .list()?
            .into_iter()
            .map(|v| v.name)
            .collect(),
    };
    let options = PlanOptions {
        services: args.services.clone(),
        no_deps: args.no_deps,
        force_recreate: args.force_recreate,
        no_recreate: args.no_recreate,
        always_recreate_deps: args.always_recreate_deps,
        remove_orphans: args.remove_orphans,
        no_start: args.no_start,
    };
    let plan = plan(&desired, &observed, &graph, &options)?;
    for orphan in &plan.orphans {
        eprintln!("warning: found orphan container {orphan}; remove it with --remove-orphans");
    }
    if args.dry_run {
        if plan.is_empty() {
            println!("nothing to do: the project is up to date");
        } else {
            print!("{plan}");
        }
        return Ok(0);
    }
    let engine = RuntimeEngine {
        project: &project,
        desired: &desired,
        runtime: runtime.clone(),
        networks,
        images,
        stop_timeout: args.timeout.map(Duration::from_secs),
        run_dir: run_dir(),
        volumes: VolumeStore::open(&global.root).context("volume store")?,
        root: global.root.clone(),
        renew_anon_volumes: args.renew_anon_volumes,
        host: &host,
    };
    // Several dependents waiting for one dependency that died fail alike:
    // that failure is reported once.
    let failures = std::sync::Mutex::new(std::collections::BTreeSet::new());
    let report = |event: Event| match event {
        Event::Started(i) => report_action(&plan.steps[i].action, false, None),
        Event::Done(i) => report_action(&plan.steps[i].action, true, None),
        Event::Failed(i, error) => {
            let action = &plan.steps[i].action;
            let first = failures
                .lock()
                .map(|mut seen| seen.insert((action.to_string(), error.clone())))
                .unwrap_or(true);
            if first {
                report_action(action, false, Some(&error));
            }
        }
    };
    // In the foreground, Ctrl-C from now on stops the project gracefully
    // (one pressed while the plan runs is acted on once it is done).
    let interrupts = Arc::new(AtomicUsize::new(0));
    if !args.detach && !args.no_start {
        let interrupts = interrupts.clone();
        let _ = ctrlc::set_handler(move || {
            interrupts.fetch_add(1, Ordering::SeqCst);
        });
    }
    crate::supervisor::ensure_running(&global.root, &run_dir(), &project.name)
        .context("starting the project's supervisor")?;
    report_up_to_date(&plan, &observed, &selected);
    // A closed output pipe (`up | head`) must not end berth halfway through
    // the plan, say with a recreated container still under its temporary
    // name: writes fail instead until the plan is done.
    berth_runtime::container::ignore_sigpipe();
    let executed = execute(&plan, &engine, 4, &report);
    berth_runtime::container::default_sigpipe();
    if let Err(err) = executed {
        show_dependency_logs(&err);
        return Err(anyhow::Error::new(err).context("up"));
    }
    // A supervisor that has just taken over (the last one died) serves the
    // names and ports of what already ran once it has made a pass.
    crate::supervisor::converge_now(&run_dir(), &project.name);
    if args.detach || args.no_start {
        if args.wait {
            return wait_and_report(&runtime, &project.name, &selected, args.wait_timeout);
        }
        return Ok(0);
    }
    // The logs that follow are not part of the progress view.
    super::progress::finish();
    let attached = attached_services(&project, &graph, &selected, args);
    let color = super::log_prefix::use_color(args.no_color, &global.ansi);
    attach(
        &runtime,
        &project,
        &graph,
        &attached,
        color,
        args,
        &interrupts,
    )
}

/// The services whose output a foreground `up` streams: those `--attach`
/// names; else the services named (all when none is), with their
/// dependencies under `--attach-dependencies`, but not those marked
/// `attach: false`; never those `--no-attach` names.
fn attached_services(
    project: &Project,
    graph: &ProjectGraph,
    selected: &[String],
    args: &UpArgs,
) -> Vec<String> {
    let chosen: Vec<String> = if !args.attach.is_empty() {
        args.attach.clone()
    } else {
        let named = if args.services.is_empty() {
            selected.to_vec()
        } else if args.attach_dependencies {
            graph.subset_with_dependencies(&args.services)
        } else {
            args.services.clone()
        };
        named
            .into_iter()
            .filter(|s| project.services.get(s).and_then(|s| s.attach) != Some(false))
            .collect()
    };
    chosen
        .into_iter()
        .filter(|s| !args.no_attach.contains(s))
        .collect()
}

/// ` Container demo-web-1  Running` for each running container of the
/// selected services the plan leaves alone, as docker compose says of an
/// `up` with nothing to change.
fn report_up_to_date(plan: &crate::reconcile::Plan, observed: &ObservedState, selected: &[String]) {
    let touched: std::collections::BTreeSet<&String> =
        plan.steps.iter().map(|s| describe(&s.action).1).collect();
    let mut untouched: Vec<&String> = observed
        .containers
        .iter()
        .filter(|c| {
            c.running && !c.oneoff && selected.contains(&c.service) && !touched.contains(&c.name)
        })
        .map(|c| &c.name)
        .collect();
    untouched.sort();
    for name in untouched {
        super::progress::report("Container", name, "Running");
    }
}

/// `--wait` in the progress view: each container `Waiting`, then its final
/// state (`Healthy`, `Running`, `Exited`), or `Error` when the wait fails.
fn wait_and_report(
    runtime: &Runtime,
    project: &str,
    services: &[String],
    timeout: Option<u64>,
) -> anyhow::Result<i32> {
    let containers = |runtime: &Runtime| -> anyhow::Result<Vec<_>> {
        Ok(observe::project_containers(&runtime.list()?, project)
            .into_iter()
            .filter(|c| services.contains(&c.service) && !c.oneoff)
            .collect())
    };
    for container in containers(runtime)? {
        super::progress::report("Container", &container.name, "Waiting");
    }
    let result = wait_running(runtime, project, services, timeout);
    for container in containers(runtime)? {
        let state = runtime.state(&container.id)?;
        let has_check = container
            .config
            .as_ref()
            .and_then(|c| c.get("healthcheck"))
            .is_some_and(|h| h.get("disable") != Some(&serde_json::Value::Bool(true)));
        let health =
            crate::supervisor::state_files::read_health(&run_dir(), project, &container.id)
                .map(|h| h.status);
        match (state.status, health) {
            (Status::Running, Some(HealthStatus::Healthy)) if has_check => {
                super::progress::report("Container", &container.name, "Healthy")
            }
            (Status::Running, _) if result.is_ok() => {
                super::progress::report("Container", &container.name, "Running")
            }
            (Status::Exited, _) if state.exit_code == Some(0) => {
                super::progress::report("Container", &container.name, "Exited")
            }
            (status, _) => super::progress::report_error(
                "Container",
                &container.name,
                match status {
                    Status::Exited => "exited",
                    Status::Created => "not started",
                    Status::Running if health == Some(HealthStatus::Unhealthy) => "unhealthy",
                    Status::Running => "not ready",
                },
            ),
        }
    }
    result
}

/// `create`: `up --no-start` under docker compose's name.
pub fn create(global: &GlobalOptions, args: &super::args::CreateArgs) -> anyhow::Result<i32> {
    let mut words = vec!["up".to_string(), "--no-start".to_string()];
    if args.force_recreate {
        words.push("--force-recreate".into());
    }
    if args.no_recreate {
        words.push("--no-recreate".into());
    }
    if args.remove_orphans {
        words.push("--remove-orphans".into());
    }
    if let Some(pull) = &args.images.pull {
        words.push(format!("--pull={pull}"));
    }
    if args.images.quiet_pull {
        words.push("--quiet-pull".into());
    }
    if args.images.build {
        bail!("create --build: berth does not build images; build elsewhere, then `berth image load` the archive");
    }
    for scale in &args.scale {
        words.push(format!("--scale={scale}"));
    }
    words.extend(args.services.iter().cloned());
    run_words(global, &words)
}

/// `up` as if typed with `words` (`["up", "-d", …]`): how `create` and
/// `run` (for the dependencies) reuse it.
pub(super) fn run_words(global: &GlobalOptions, words: &[String]) -> anyhow::Result<i32> {
    #[derive(clap::Parser)]
    struct UpCommand {
        #[command(flatten)]
        up: UpArgs,
    }
    let up = <UpCommand as clap::Parser>::try_parse_from(words)?;
    run(global, &up.up)
}

/// `--wait`: every container of the project running, and healthy when it
/// has a health check; a one-shot that exited 0 is done. A container that
/// exited or turned unhealthy fails the command at once, unless its restart
/// policy will bring it back (then it has until the timeout to recover).
/// A failure names each failing container with what failed, its last
/// health-check output and its last log lines.
fn wait_running(
    runtime: &Runtime,
    project: &str,
    services: &[String],
    timeout: Option<u64>,
) -> anyhow::Result<i32> {
    let deadline = timeout.map(|t| std::time::Instant::now() + Duration::from_secs(t));
    loop {
        let all = runtime.list()?;
        let containers: Vec<_> = observe::project_containers(&all, project)
            .into_iter()
            .filter(|c| services.contains(&c.service) && !c.oneoff)
            .collect();
        let mut waiting = Vec::new();
        let mut failed = Vec::new();
        for container in &containers {
            let state = runtime.state(&container.id)?;
            let will_restart = container
                .config
                .as_ref()
                .and_then(|c| {
                    serde_json::from_value::<crate::compose::model::Service>(c.clone()).ok()
                })
                .map(|s| crate::supervisor::restart::RestartPolicy::for_service(&s))
                .is_some_and(|policy| {
                    let restarts = state.start_count.saturating_sub(1);
                    policy.should_restart(
                        state.exit_code.unwrap_or(0),
                        restarts,
                        state.stop_requested,
                    )
                });
            let problem = match state.status {
                Status::Exited if state.exit_code == Some(0) && !will_restart => continue,
                Status::Exited => Some(format!(
                    "exited with code {}{}",
                    state.exit_code.unwrap_or(-1),
                    state.error.map(|e| format!(" ({e})")).unwrap_or_default()
                )),
                Status::Created => Some("not started".to_string()),
                // Its process is gone and its monitor is still recording
                // the exit: not running any more, whatever the file says.
                Status::Running
                    if !state.pid.is_some_and(|pid| {
                        berth_runtime::container::state::process_alive(pid, state.pid_start)
                    }) =>
                {
                    Some("is exiting".to_string())
                }
                Status::Running => {
                    let has_check = container
                        .config
                        .as_ref()
                        .and_then(|c| c.get("healthcheck"))
                        .is_some_and(|h| h.get("disable") != Some(&serde_json::Value::Bool(true)));
                    let health = crate::supervisor::state_files::read_health(
                        &run_dir(),
                        project,
                        &container.id,
                    );
                    match health {
                        _ if !has_check => None,
                        Some(h) if h.status == HealthStatus::Healthy => None,
                        Some(h) if h.status == HealthStatus::Unhealthy => Some(format!(
                            "is unhealthy: {}",
                            h.last_output().unwrap_or_default().trim_end()
                        )),
                        Some(h) => Some(format!(
                            "is still starting (last check: {})",
                            h.last_output().unwrap_or("none yet").trim_end()
                        )),
                        None => Some("is still starting (not checked yet)".into()),
                    }
                }
            };
            let Some(problem) = problem else { continue };
            let fatal = !will_restart
                && (state.status == Status::Exited || problem.starts_with("is unhealthy"));
            let report = format!(
                "container {} {problem}{}",
                container.name,
                indent(&last_lines(runtime, &container.id))
            );
            if fatal {
                failed.push(report);
            } else {
                waiting.push(report);
            }
        }
        if !failed.is_empty() {
            bail!("{}", failed.join("\n"));
        }
        if waiting.is_empty() {
            return Ok(0);
        }
        if deadline.is_some_and(|d| std::time::Instant::now() > d) {
            bail!(
                "timed out waiting for the project's containers to be running and healthy:\n{}",
                waiting.join("\n")
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The container's last ten log lines.
fn last_lines(runtime: &Runtime, id: &str) -> String {
    let mut tail = Vec::new();
    let _ = runtime.logs(id, false, |r| {
        tail.push(r.log.trim_end().to_string());
        true
    });
    let skip = tail.len().saturating_sub(10);
    tail[skip..].join("\n")
}

/// Log lines under their container, indented; nothing when there are none.
fn indent(lines: &str) -> String {
    if lines.is_empty() {
        return String::new();
    }
    lines.lines().map(|l| format!("\n    {l}")).collect()
}

/// Foreground `up`: prefixed logs of the attached services until every
/// container ends; Ctrl-C stops the project (a second Ctrl-C kills it) and
/// exits 130.
fn attach(
    runtime: &Runtime,
    project: &Project,
    graph: &ProjectGraph,
    attached: &[String],
    color: bool,
    args: &UpArgs,
    interrupts: &Arc<AtomicUsize>,
) -> anyhow::Result<i32> {
    let all = observe::project_containers(&runtime.list()?, &project.name);
    let containers: Vec<_> = all
        .iter()
        .filter(|c| !c.oneoff && attached.contains(&c.service))
        .collect();
    // Nothing attached: the project still runs in the foreground until its
    // containers end (or Ctrl-C).
    let watched: Vec<String> = all
        .iter()
        .filter(|c| !c.oneoff && c.running)
        .map(|c| c.id.clone())
        .collect();
    let display_name = |c: &ObservedContainer| {
        super::log_prefix::display_name(&project.name, &c.service, c.number, &c.name)
    };
    let names: Vec<String> = containers.iter().map(|c| display_name(c)).collect();
    let prefixes = super::log_prefix::Prefixes::new(
        !args.no_log_prefix,
        color,
        project.services.keys(),
        &names,
    );
    let finished = AtomicUsize::new(0);
    let first_exit: std::sync::Mutex<Option<(String, i32)>> = std::sync::Mutex::new(None);
    let abort = args.abort_on_container_exit
        || args.abort_on_container_failure
        || args.exit_code_from.is_some();
    let stopping = AtomicUsize::new(0);
    let mut exit_code = 0;
    std::thread::scope(|scope| {
        for container in &containers {
            let finished = &finished;
            let first_exit = &first_exit;
            let stopping = &stopping;
            let prefix = prefixes.prefix(&container.service, &display_name(container));
            scope.spawn(move || {
                let _ = runtime.logs(&container.id, true, |record| {
                    let line = record.log.strip_suffix('\n').unwrap_or(&record.log);
                    if args.timestamps {
                        println!("{prefix}{} {line}", record.time);
                    } else {
                        println!("{prefix}{line}");
                    }
                    true
                });
                let code = runtime
                    .state(&container.id)
                    .ok()
                    .and_then(|s| s.exit_code)
                    .unwrap_or(0);
                if stopping.load(Ordering::SeqCst) == 0 {
                    eprintln!("{} exited with code {code}", container.name);
                }
                let mut first = first_exit.lock().unwrap();
                if first.is_none() && (!args.abort_on_container_failure || code != 0) {
                    *first = Some((container.service.clone(), code));
                }
                finished.fetch_add(1, Ordering::SeqCst);
            });
        }
        let mut polls = 0u32;
        loop {
            std::thread::sleep(Duration::from_millis(50));
            polls += 1;
            let readers_done = finished.load(Ordering::SeqCst) == containers.len();
            let pressed = interrupts.load(Ordering::SeqCst);
            let aborted = abort && first_exit.lock().unwrap().is_some();
            if pressed > 0 || aborted {
                stopping.store(1, Ordering::SeqCst);
                if pressed > 0 {
                    eprintln!("Gracefully stopping... (press Ctrl+C again to force)");
                }
                stop_project(runtime, &project.name, graph, interrupts, args.timeout);
                exit_code = if pressed > 0 { 130 } else { 0 };
                break;
            }
            // With nothing attached, whether anything still runs is looked
            // at every half second.
            if readers_done
                && (!containers.is_empty() || (polls % 10 == 0 && !any_running(runtime, &watched)))
            {
                break;
            }
        }
    });
    if let Some(service) = &args.exit_code_from {
        let containers = observe::project_containers(&runtime.list()?, &project.name);
        if let Some(container) = containers.iter().find(|c| &c.service == service) {
            return Ok(runtime.state(&container.id)?.exit_code.unwrap_or(0));
        }
    }
    if abort && exit_code == 0 {
        if let Some((_, code)) = first_exit.lock().unwrap().clone() {
            if args.abort_on_container_failure {
                return Ok(code);
            }
        }
    }
    Ok(exit_code)
}

fn any_running(runtime: &Runtime, ids: &[String]) -> bool {
    ids.iter()
        .any(|id| runtime.state(id).is_ok_and(|s| s.status == Status::Running))
}

/// Ctrl-C (or an abort): stops the project's running containers level by
/// level, dependents before their dependencies, as `down` does. A Ctrl-C
/// pressed meanwhile kills whatever still runs at once.
fn stop_project(
    runtime: &Runtime,
    project: &str,
    graph: &ProjectGraph,
    interrupts: &AtomicUsize,
    timeout: Option<u64>,
) {
    let Ok(all) = runtime.list() else { return };
    let running: Vec<ObservedContainer> = observe::project_containers(&all, project)
        .into_iter()
        .filter(|c| c.running)
        .collect();
    let levels = stop_levels(graph, &running);
    // Stopping on a Ctrl-C, the next one forces; on an abort, the first.
    let pressed_before = interrupts.load(Ordering::SeqCst);
    let forced = || {
        let pressed = interrupts.load(Ordering::SeqCst);
        pressed >= 2 || pressed > pressed_before
    };
    let forced = &forced;
    let done = std::sync::atomic::AtomicBool::new(false);
    std::thread::scope(|scope| {
        scope.spawn(|| {
            for level in &levels {
                std::thread::scope(|scope| {
                    for container in level {
                        scope.spawn(move || {
                            super::progress::report("Container", &container.name, "Stopping");
                            let grace = if forced() {
                                Some(Duration::ZERO)
                            } else {
                                timeout.map(Duration::from_secs)
                            };
                            let _ = crate::reconcile::hooks::stop(runtime, &container.id, grace);
                            super::progress::report("Container", &container.name, "Stopped");
                        });
                    }
                });
            }
            done.store(true, Ordering::SeqCst);
        });
        // The second Ctrl-C: no more waiting for anyone's grace period.
        while !done.load(Ordering::SeqCst) {
            if forced() {
                for container in &running {
                    let _ = runtime.kill_on_purpose(&container.id, "SIGKILL");
                }
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    });
}

/// The containers in the order they stop: each level's services depend on
/// none of the later levels' (containers of services no longer in the
/// project go first).
fn stop_levels<'a>(
    graph: &ProjectGraph,
    containers: &'a [ObservedContainer],
) -> Vec<Vec<&'a ObservedContainer>> {
    let levels = graph.stop_levels();
    let known = |c: &&ObservedContainer| levels.iter().flatten().any(|s| *s == c.service);
    let mut ordered: Vec<Vec<&ObservedContainer>> =
        vec![containers.iter().filter(|c| !known(c)).collect()];
    for level in &levels {
        ordered.push(
            containers
                .iter()
                .filter(|c| level.contains(&c.service))
                .collect(),
        );
    }
    ordered.retain(|level| !level.is_empty());
    ordered
}
