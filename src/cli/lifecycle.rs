//! `start`, `stop`, `restart`, `kill`, `rm` and `down` over the project's
//! existing containers, in dependency order (stop in reverse), services of
//! one level in parallel. Starts and stops go through
//! [`crate::reconcile::hooks`] (post_start and pre_stop hooks).

use std::collections::BTreeSet;
use std::io::{BufRead, Write};
use std::time::Duration;

use anyhow::Context;
use berth_runtime::container::{ContainerInfo, Runtime, Status};

use super::args::{
    DownArgs, GlobalOptions, KillArgs, RestartArgs, RmArgs, ServicesArgs, StopArgs, WaitArgs,
};
use super::project::load_project;
use super::ps::{project_containers, service_of};
use crate::compose::graph_input;
use crate::compose::model::Project;
use crate::graph::ProjectGraph;
use crate::reconcile::hooks;

struct ProjectState {
    project: Project,
    graph: ProjectGraph,
    runtime: Runtime,
    containers: Vec<ContainerInfo>,
}

fn context(global: &GlobalOptions) -> anyhow::Result<ProjectState> {
    let project = load_project(global, &[], true)?.project;
    let graph = ProjectGraph::new(&graph_input(&project.services))?;
    let runtime = Runtime::new(&global.root).context("container runtime")?;
    let containers = project_containers(global, &project.name)?;
    Ok(ProjectState {
        project,
        graph,
        runtime,
        containers,
    })
}

/// The supervisor serves DNS (and opens start gates), runs health checks
/// and restart policies: containers are only started with it running.
fn ensure_supervisor(global: &GlobalOptions, ctx: &ProjectState) -> anyhow::Result<()> {
    crate::supervisor::ensure_running(&global.root, &super::lock::run_dir(), &ctx.project.name)
        .context("starting the project's supervisor")?;
    // One that just took over serves what already runs after a pass.
    crate::supervisor::converge_now(&super::lock::run_dir(), &ctx.project.name);
    Ok(())
}

fn lock(ctx: &ProjectState) -> anyhow::Result<super::lock::ProjectLock> {
    super::lock::ProjectLock::acquire(&super::lock::run_dir(), &ctx.project.name)
}

/// Levels of containers to act on, in start order (reverse for stopping);
/// containers of services no longer in the project come last in start order.
fn levels<'a>(
    ctx: &'a ProjectState,
    services: &[String],
    stop_order: bool,
) -> Vec<Vec<&'a ContainerInfo>> {
    let wanted = |info: &ContainerInfo| {
        services.is_empty() || services.iter().any(|s| s == service_of(info))
    };
    let mut levels: Vec<Vec<&ContainerInfo>> = ctx
        .graph
        .start_levels()
        .iter()
        .map(|level| {
            ctx.containers
                .iter()
                .filter(|c| wanted(c) && level.iter().any(|s| s == service_of(c)))
                .collect()
        })
        .collect();
    let known: BTreeSet<&String> = ctx.project.services.keys().collect();
    levels.push(
        ctx.containers
            .iter()
            .filter(|c| wanted(c) && !known.contains(&service_of(c).to_string()))
            .collect(),
    );
    if stop_order {
        levels.reverse();
    }
    levels.retain(|level| !level.is_empty());
    levels
}

/// Runs `action` on every container of each level in parallel, level by level.
fn each_level(
    levels: &[Vec<&ContainerInfo>],
    action: &(dyn Fn(&ContainerInfo) -> anyhow::Result<()> + Sync),
) -> anyhow::Result<()> {
    for level in levels {
        std::thread::scope(|scope| -> anyhow::Result<()> {
            let handles: Vec<_> = level
                .iter()
                .map(|c| scope.spawn(move || action(c)))
                .collect();
            for handle in handles {
                handle
                    .join()
                    .map_err(|_| anyhow::anyhow!("a worker panicked"))??;
            }
            Ok(())
        })?;
    }
    Ok(())
}

fn timeout(seconds: Option<u64>) -> Option<Duration> {
    seconds.map(Duration::from_secs)
}

fn stop_all(ctx: &ProjectState, services: &[String], seconds: Option<u64>) -> anyhow::Result<()> {
    each_level(&levels(ctx, services, true), &|c| {
        if c.state.status == Status::Running {
            super::progress::report("Container", &c.record.name, "Stopping");
            hooks::stop(&ctx.runtime, &c.record.id, timeout(seconds))
                .with_context(|| format!("stopping {}", c.record.name))?;
            super::progress::report("Container", &c.record.name, "Stopped");
        }
        Ok(())
    })
}

pub fn stop(global: &GlobalOptions, args: &StopArgs) -> anyhow::Result<i32> {
    let ctx = context(global)?;
    let _lock = lock(&ctx)?;
    stop_all(&ctx, &args.services, args.timeout)?;
    Ok(0)
}

pub fn start(global: &GlobalOptions, args: &ServicesArgs) -> anyhow::Result<i32> {
    let ctx = context(global)?;
    let _lock = lock(&ctx)?;
    ensure_supervisor(global, &ctx)?;
    start_all(&ctx, &args.services, true)?;
    Ok(0)
}

/// Starts the services' containers in dependency order (`only_stopped`:
/// leave the ones recorded as running alone).
fn start_all(ctx: &ProjectState, services: &[String], only_stopped: bool) -> anyhow::Result<()> {
    each_level(&levels(ctx, services, false), &|c| {
        if !only_stopped || c.state.status != Status::Running {
            super::progress::report("Container", &c.record.name, "Starting");
            hooks::start(&ctx.runtime, &c.record.id, || {
                crate::supervisor::converge_now(&super::lock::run_dir(), &ctx.project.name)
            })
            .with_context(|| format!("starting {}", c.record.name))?;
            super::progress::report("Container", &c.record.name, "Started");
        }
        Ok(())
    })
}

/// `restart`: as compose v2, naming services also restarts the services
/// that depend on them with `restart: true` (transitively), unless
/// `--no-deps`.
pub fn restart(global: &GlobalOptions, args: &RestartArgs) -> anyhow::Result<i32> {
    let ctx = context(global)?;
    let _lock = lock(&ctx)?;
    ensure_supervisor(global, &ctx)?;
    let services = if args.no_deps {
        args.services.clone()
    } else {
        super::restart_deps::with_restart_dependents(&ctx.project, &args.services)
    };
    stop_all(&ctx, &services, args.timeout)?;
    start_all(&ctx, &services, false)?;
    Ok(0)
}

pub fn kill(global: &GlobalOptions, args: &KillArgs) -> anyhow::Result<i32> {
    let ctx = context(global)?;
    let _lock = lock(&ctx)?;
    for c in ctx
        .containers
        .iter()
        .filter(|c| c.state.status == Status::Running)
    {
        if args.services.is_empty() || args.services.iter().any(|s| s == service_of(c)) {
            ctx.runtime
                .kill_on_purpose(&c.record.id, &args.signal)
                .with_context(|| format!("killing {}", c.record.name))?;
            super::progress::report("Container", &c.record.name, "Killed");
        }
    }
    Ok(0)
}

fn confirm(question: &str) -> bool {
    eprint!("{question} [yN] ");
    let _ = std::io::stderr().flush();
    let mut answer = String::new();
    let _ = std::io::stdin().lock().read_line(&mut answer);
    matches!(answer.trim(), "y" | "Y" | "yes")
}

pub fn rm(global: &GlobalOptions, args: &RmArgs) -> anyhow::Result<i32> {
    let ctx = context(global)?;
    let _lock = lock(&ctx)?;
    if args.stop {
        stop_all(&ctx, &args.services, None)?;
    }
    let ctx = context(global)?;
    let removable: Vec<&ContainerInfo> = ctx
        .containers
        .iter()
        .filter(|c| c.state.status != Status::Running)
        .filter(|c| args.services.is_empty() || args.services.iter().any(|s| s == service_of(c)))
        .collect();
    if removable.is_empty() {
        eprintln!("No stopped containers");
        return Ok(0);
    }
    let names: Vec<&str> = removable.iter().map(|c| c.record.name.as_str()).collect();
    if !args.force
        && !confirm(&format!(
            "Going to remove {}\n? Are you sure?",
            names.join(", ")
        ))
    {
        return Ok(0);
    }
    let volumes = berth_runtime::volume::VolumeStore::open(&global.root).context("volume store")?;
    for c in removable {
        ctx.runtime
            .delete(&c.record.id, false)
            .with_context(|| format!("removing {}", c.record.name))?;
        super::progress::report("Container", &c.record.name, "Removed");
        if args.volumes {
            let anonymous = crate::contract::annotations::anonymous_volumes(&c.record.spec);
            for name in anonymous.values() {
                volumes
                    .remove(&global.root, name)
                    .with_context(|| format!("removing volume {name}"))?;
            }
        }
    }
    Ok(0)
}

pub fn down(global: &GlobalOptions, args: &DownArgs) -> anyhow::Result<i32> {
    let rmi = args
        .rmi
        .as_deref()
        .map(super::down_images::RmiMode::parse)
        .transpose()?;
    let ctx = context(global)?;
    let _lock = lock(&ctx)?;
    let known: BTreeSet<&String> = ctx.project.services.keys().collect();
    let orphans: Vec<&ContainerInfo> = ctx
        .containers
        .iter()
        .filter(|c| !known.contains(&service_of(c).to_string()))
        .collect();
    if !orphans.is_empty() && !args.remove_orphans {
        let names: Vec<&str> = orphans.iter().map(|c| c.record.name.as_str()).collect();
        eprintln!(
            "warning: found orphan containers ({}) for this project; remove them with --remove-orphans",
            names.join(", ")
        );
    }
    let mut leveled = levels(&ctx, &[], true);
    if !args.remove_orphans {
        for level in &mut leveled {
            level.retain(|c| known.contains(&service_of(c).to_string()));
        }
    }
    each_level(&leveled, &|c| {
        if c.state.status == Status::Running {
            super::progress::report("Container", &c.record.name, "Stopping");
            hooks::stop(&ctx.runtime, &c.record.id, timeout(args.timeout))
                .with_context(|| format!("stopping {}", c.record.name))?;
        }
        ctx.runtime
            .delete(&c.record.id, true)
            .with_context(|| format!("removing {}", c.record.name))?;
        super::progress::report("Container", &c.record.name, "Removed");
        Ok(())
    })?;
    remove_project_networks(global, &ctx.project.name)?;
    if args.volumes {
        remove_project_volumes(global, &ctx)?;
    }
    if let Some(mode) = rmi {
        let images = super::down_images::selected(&ctx.project, mode);
        super::down_images::remove(&global.root, &images)?;
    }
    crate::supervisor::stop(&super::lock::run_dir(), &ctx.project.name);
    Ok(0)
}

/// `down -v`: the project's named volumes (never external ones: they have
/// no project label) and its anonymous volumes.
fn remove_project_volumes(global: &GlobalOptions, ctx: &ProjectState) -> anyhow::Result<()> {
    let volumes = berth_runtime::volume::VolumeStore::open(&global.root).context("volume store")?;
    for volume in volumes.list()? {
        if volume.labels.get(crate::contract::labels::PROJECT) == Some(&ctx.project.name) {
            volumes
                .remove(&global.root, &volume.name)
                .with_context(|| format!("removing volume {}", volume.name))?;
            super::progress::report("Volume", &volume.name, "Removed");
        }
    }
    Ok(())
}

/// Removes the networks berth made for the project (never external ones:
/// those carry no project label).
fn remove_project_networks(global: &GlobalOptions, project: &str) -> anyhow::Result<()> {
    let networks =
        berth_runtime::network::NetworkStore::open(&global.root).context("network store")?;
    for network in networks.list()? {
        if network
            .labels
            .get(crate::contract::labels::PROJECT)
            .map(String::as_str)
            == Some(project)
        {
            networks
                .remove(&network.name, true)
                .with_context(|| format!("removing network {}", network.name))?;
            super::progress::report("Network", &network.name, "Removed");
        }
    }
    Ok(())
}

/// `pause` (`true`) and `unpause`: freeze or thaw the running containers.
pub fn pause(global: &GlobalOptions, args: &ServicesArgs, paused: bool) -> anyhow::Result<i32> {
    let ctx = context(global)?;
    let _lock = lock(&ctx)?;
    let verb = if paused { "Paused" } else { "Unpaused" };
    for c in ctx
        .containers
        .iter()
        .filter(|c| c.state.status == Status::Running && c.state.paused != paused)
        .filter(|c| args.services.is_empty() || args.services.iter().any(|s| s == service_of(c)))
    {
        let result = if paused {
            ctx.runtime.pause(&c.record.id)
        } else {
            ctx.runtime.unpause(&c.record.id)
        };
        result.with_context(|| format!("{} {}", verb.to_lowercase(), c.record.name))?;
        super::progress::report("Container", &c.record.name, verb);
    }
    Ok(0)
}

/// `wait`: blocks until the services' containers have stopped, prints each
/// one's exit code and returns the first container's.
pub fn wait(global: &GlobalOptions, args: &WaitArgs) -> anyhow::Result<i32> {
    let ctx = context(global)?;
    let containers: Vec<&ContainerInfo> = ctx
        .containers
        .iter()
        .filter(|c| args.services.is_empty() || args.services.iter().any(|s| s == service_of(c)))
        .collect();
    if containers.is_empty() {
        anyhow::bail!("no containers for the given services");
    }
    let mut first = None;
    for c in containers {
        let state = ctx
            .runtime
            .wait(&c.record.id, None)
            .with_context(|| format!("waiting for {}", c.record.name))?;
        let code = state.exit_code.unwrap_or(0);
        println!("{code}");
        first.get_or_insert(code);
    }
    if args.down_project {
        down(
            global,
            &DownArgs {
                volumes: false,
                rmi: None,
                remove_orphans: false,
                timeout: None,
            },
        )?;
    }
    Ok(first.unwrap_or(0))
}
