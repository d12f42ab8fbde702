//! The planner: desired + observed -> plan. Pure; every decision it makes
//! is written as the step's reason.
//!
//! Rules (as `docker compose up` converges): recreate only containers whose
//! config hash, image or secret/config contents changed, whose `network_mode`/`ipc`/`pid`/
//! `volumes_from` parent was recreated, or when forced; the new container is
//! made (under a temporary name) before the old one is stopped and removed;
//! scale down removes the highest numbers, scale up takes the lowest free
//! numbers; stopped containers are started; orphans are reported, or removed
//! with `--remove-orphans`. What an `up` cut short in the middle of a
//! recreate left (a container under its temporary name) is repaired first.

use std::collections::{BTreeMap, BTreeSet};

use crate::graph::ProjectGraph;

use super::desired::{DesiredService, DesiredState, WaitCondition};
use super::observe::{ObservedContainer, ObservedState};
use super::plan::{Action, Plan};
use super::temporary_name::{original_name, temporary_name};

/// The `up` flags that change the plan.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PlanOptions {
    /// Services named on the command line (empty: all).
    pub services: Vec<String>,
    pub no_deps: bool,
    pub force_recreate: bool,
    pub no_recreate: bool,
    pub always_recreate_deps: bool,
    pub remove_orphans: bool,
    pub no_start: bool,
}

/// Why no plan can be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    #[error("{kind} {name:?} (\"{key}\" in the compose file) is external but does not exist: create it first")]
    MissingExternal {
        kind: &'static str,
        key: String,
        name: String,
    },
    #[error("no such service: {0}")]
    UnknownService(String),
}

/// Makes the plan.
pub fn plan(
    desired: &DesiredState,
    observed: &ObservedState,
    graph: &ProjectGraph,
    options: &PlanOptions,
) -> Result<Plan, PlanError> {
    let (selected, targeted) = selection(desired, graph, options)?;
    let mut plan = Plan::default();
    let resource_steps = plan_resources(desired, observed, &selected, &mut plan)?;
    let mut ready: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    let mut recreated: BTreeSet<String> = BTreeSet::new();
    for level in graph.start_levels() {
        for name in level.iter().filter(|n| selected.contains(*n)) {
            let service = &desired.services[name];
            let mut after: Vec<usize> = graph
                .dependencies(name, false)
                .iter()
                .filter_map(|dep| ready.get(dep))
                .flatten()
                .copied()
                .collect();
            let mut create_after: Vec<usize> = Vec::new();
            for resource in service.networks.iter().chain(&service.volumes) {
                after.extend(resource_steps.get(resource).copied());
                create_after.extend(resource_steps.get(resource).copied());
            }
            // A new container can be made while its dependencies start; only
            // one sharing another's namespaces or volumes waits for it.
            create_after.extend(
                service
                    .shares_with
                    .iter()
                    .filter_map(|dep| ready.get(dep))
                    .flatten()
                    .copied(),
            );
            let context = ServiceContext {
                desired,
                service,
                create_after,
                forced: options.force_recreate
                    || (options.always_recreate_deps && !targeted.contains(name)),
                recreated: &recreated,
                options,
            };
            // Waits for dependencies' conditions only when this service has
            // something to do.
            let mut scratch = plan.clone();
            let steps_before = scratch.steps.len();
            plan_service(&context, observed, after.clone(), &mut scratch);
            if scratch.steps.len() > steps_before {
                after.extend(plan_waits(desired, service, &selected, &ready, &mut plan));
            }
            let (steps, was_recreated) = plan_service(&context, observed, after, &mut plan);
            if was_recreated {
                recreated.insert(name.clone());
            }
            ready.insert(name.clone(), steps);
        }
    }
    plan_orphans(desired, observed, options, &mut plan);
    Ok(plan)
}

/// The services the plan covers (named ones and, unless `--no-deps`, their
/// dependencies; all when none is named) and the ones named (all when none
/// is).
fn selection(
    desired: &DesiredState,
    graph: &ProjectGraph,
    options: &PlanOptions,
) -> Result<(BTreeSet<String>, BTreeSet<String>), PlanError> {
    if let Some(unknown) = options
        .services
        .iter()
        .find(|s| !desired.services.contains_key(*s))
    {
        return Err(PlanError::UnknownService(unknown.clone()));
    }
    let selected: BTreeSet<String> = if options.services.is_empty() {
        desired.services.keys().cloned().collect()
    } else if options.no_deps {
        options.services.iter().cloned().collect()
    } else {
        graph
            .subset_with_dependencies(&options.services)
            .into_iter()
            .collect()
    };
    let targeted = if options.services.is_empty() {
        selected.clone()
    } else {
        options.services.iter().cloned().collect()
    };
    Ok((selected, targeted))
}

/// A wait step per replica of each selected dependency with a
/// `depends_on` condition, after that dependency's own steps; returns them.
fn plan_waits(
    desired: &DesiredState,
    service: &DesiredService,
    selected: &BTreeSet<String>,
    ready: &BTreeMap<String, Vec<usize>>,
    plan: &mut Plan,
) -> Vec<usize> {
    let mut waits = Vec::new();
    for (dependency, condition, required) in &service.waits_for {
        let Some(dep) = desired.services.get(dependency) else {
            continue;
        };
        if !selected.contains(dependency) || dep.replicas == 0 {
            continue;
        }
        let dep_ready = ready.get(dependency).cloned().unwrap_or_default();
        for number in 1..=dep.replicas {
            let name = desired.container_name(dep, number);
            let required = *required;
            let (action, why) = match condition {
                WaitCondition::Healthy => {
                    (Action::WaitHealthy { name, required }, "service_healthy")
                }
                WaitCondition::CompletedSuccessfully => (
                    Action::WaitCompleted { name, required },
                    "service_completed_successfully",
                ),
            };
            let reason = format!("{} depends on {dependency} ({why})", service.name);
            waits.push(plan.push(action, reason, dep_ready.clone()));
        }
    }
    waits
}

/// Networks and volumes the selected services use: external ones must
/// exist, missing ones are created. Returns name -> step.
fn plan_resources(
    desired: &DesiredState,
    observed: &ObservedState,
    selected: &BTreeSet<String>,
    plan: &mut Plan,
) -> Result<BTreeMap<String, usize>, PlanError> {
    let used = |pick: fn(&DesiredService) -> &Vec<String>| -> BTreeSet<String> {
        selected
            .iter()
            .flat_map(|s| pick(&desired.services[s]).iter().cloned())
            .collect()
    };
    let used_networks = used(|s| &s.networks);
    let used_volumes = used(|s| &s.volumes);
    let mut steps = BTreeMap::new();
    for (kind, resources, used, existing) in [
        (
            "network",
            &desired.networks,
            &used_networks,
            &observed.networks,
        ),
        ("volume", &desired.volumes, &used_volumes, &observed.volumes),
    ] {
        for resource in resources.values().filter(|r| used.contains(&r.name)) {
            if existing.contains(&resource.name) {
                continue;
            }
            if resource.external {
                return Err(PlanError::MissingExternal {
                    kind,
                    key: resource.key.clone(),
                    name: resource.name.clone(),
                });
            }
            let action = if kind == "network" {
                Action::CreateNetwork {
                    name: resource.name.clone(),
                }
            } else {
                Action::CreateVolume {
                    name: resource.name.clone(),
                }
            };
            steps.insert(
                resource.name.clone(),
                plan.push(action, "missing", Vec::new()),
            );
        }
    }
    Ok(steps)
}

struct ServiceContext<'a> {
    desired: &'a DesiredState,
    service: &'a DesiredService,
    /// What creating a new container waits for (its networks and volumes,
    /// and the services whose namespaces or volumes it shares).
    create_after: Vec<usize>,
    forced: bool,
    recreated: &'a BTreeSet<String>,
    options: &'a PlanOptions,
}

/// Steps for one service; returns the steps its dependents wait for and
/// whether any of its containers is recreated.
fn plan_service(
    context: &ServiceContext<'_>,
    observed: &ObservedState,
    after: Vec<usize>,
    plan: &mut Plan,
) -> (Vec<usize>, bool) {
    let service = context.service;
    let (mut containers, repaired, renamed) = repair_cut_recreates(context, observed, plan);
    containers.sort_by_key(|c| c.number);
    let keep = containers.len().min(service.replicas as usize);
    let (kept, excess) = containers.split_at(keep);
    // What acting on container number N waits for: its repair, if any.
    let after_repair = |number: u32, after: &[usize]| -> Vec<usize> {
        let mut steps = after.to_vec();
        steps.extend(repaired.get(&number));
        steps
    };
    for container in excess.iter().rev() {
        let reason = format!("scale {} down to {}", service.name, service.replicas);
        plan_stop_then_remove(
            container,
            &reason,
            after_repair(container.number, &[]),
            plan,
        );
    }
    let (mut ready, any_recreated) = plan_kept(context, kept, &after, &after_repair, plan);
    ready.extend(plan_missing(context, kept, &after, plan));
    // A new container that took its name replaced the old one: what shares
    // the old one's namespaces must follow, as after a recreate.
    (ready, any_recreated || renamed)
}

/// The service's containers as they will be once what an `up` cut short in
/// the middle of a recreate is repaired, and the repair step each container
/// number's further steps wait for, and whether any was renamed. A
/// container still under its temporary name is removed when the one it was
/// to replace is still there, and otherwise takes the name it was made for.
fn repair_cut_recreates(
    context: &ServiceContext<'_>,
    observed: &ObservedState,
    plan: &mut Plan,
) -> (Vec<ObservedContainer>, BTreeMap<u32, usize>, bool) {
    let service = context.service;
    let (leftovers, mut containers): (Vec<ObservedContainer>, Vec<ObservedContainer>) = observed
        .containers
        .iter()
        .filter(|c| !c.oneoff && c.service == service.name)
        .cloned()
        .partition(|c| {
            original_name(&c.name)
                == Some(context.desired.container_name(service, c.number).as_str())
        });
    let mut repaired = BTreeMap::new();
    let mut renamed = false;
    for leftover in leftovers {
        let original = context.desired.container_name(service, leftover.number);
        if containers.iter().any(|c| c.number == leftover.number) {
            let reason = format!("left by a recreate of {original} that was cut short");
            let remove = plan_stop_then_remove(&leftover, &reason, Vec::new(), plan);
            repaired.insert(leftover.number, remove);
        } else {
            let rename = Action::RenameContainer {
                from: leftover.name.clone(),
                to: original.clone(),
            };
            let reason = "a recreate cut short left it under its temporary name";
            repaired.insert(leftover.number, plan.push(rename, reason, Vec::new()));
            renamed = true;
            containers.push(ObservedContainer {
                name: original,
                ..leftover
            });
        }
    }
    (containers, repaired, renamed)
}

/// The service's containers that stay: recreated when their configuration
/// changed, started when stopped, restarted when a `restart: true`
/// dependency was recreated.
fn plan_kept(
    context: &ServiceContext<'_>,
    kept: &[ObservedContainer],
    after: &[usize],
    after_repair: &dyn Fn(u32, &[usize]) -> Vec<usize>,
    plan: &mut Plan,
) -> (Vec<usize>, bool) {
    let options = context.options;
    let restart_reason = context
        .service
        .restart_with
        .iter()
        .find(|dep| context.recreated.contains(*dep))
        .map(|dep| format!("dependency {dep} was recreated (depends_on restart: true)"));
    let mut ready = Vec::new();
    let mut any_recreated = false;
    for container in kept {
        let after = after_repair(container.number, after);
        let start = Action::StartContainer {
            name: container.name.clone(),
        };
        match recreate_reason(context, container) {
            Some(reason) if !options.no_recreate => {
                any_recreated = true;
                ready.push(plan_recreate(
                    context,
                    container,
                    &reason,
                    after.clone(),
                    plan,
                ));
            }
            _ if !container.running && !options.no_start => {
                ready.push(plan.push(start, "stopped", after.clone()));
            }
            _ => {
                if let (Some(reason), true) = (&restart_reason, container.running) {
                    let stop = Action::StopContainer {
                        name: container.name.clone(),
                    };
                    let stop = plan.push(stop, reason.clone(), after.clone());
                    ready.push(plan.push(start, reason.clone(), vec![stop]));
                }
            }
        }
    }
    (ready, any_recreated)
}

/// New containers up to the service's scale, at the lowest free numbers,
/// made while dependencies start and started after them.
fn plan_missing(
    context: &ServiceContext<'_>,
    kept: &[ObservedContainer],
    after: &[usize],
    plan: &mut Plan,
) -> Vec<usize> {
    let service = context.service;
    let used: BTreeSet<u32> = kept.iter().map(|c| c.number).collect();
    let missing = service.replicas as usize - kept.len();
    let numbers = (1..).filter(|n| !used.contains(n)).take(missing);
    let mut ready = Vec::new();
    for number in numbers {
        let name = context.desired.container_name(service, number);
        let reason = if kept.is_empty() && number == 1 {
            "missing".to_string()
        } else {
            format!("scale {} up to {}", service.name, service.replicas)
        };
        let create = plan.push(
            Action::CreateContainer {
                service: service.name.clone(),
                number,
                name: name.clone(),
            },
            reason,
            context.create_after.clone(),
        );
        if context.options.no_start {
            ready.push(create);
            continue;
        }
        let mut start_after = vec![create];
        start_after.extend(
            after
                .iter()
                .copied()
                .filter(|s| !context.create_after.contains(s)),
        );
        start_after.sort_unstable();
        start_after.dedup();
        ready.push(plan.push(Action::StartContainer { name }, "created", start_after));
    }
    ready
}

/// Stops `container` when it runs (after `after`), then removes it; returns
/// the removal's step.
fn plan_stop_then_remove(
    container: &ObservedContainer,
    reason: &str,
    after: Vec<usize>,
    plan: &mut Plan,
) -> usize {
    let mut remove_after = after.clone();
    if container.running {
        let stop = Action::StopContainer {
            name: container.name.clone(),
        };
        remove_after = vec![plan.push(stop, reason, after)];
    }
    let remove = Action::RemoveContainer {
        name: container.name.clone(),
    };
    plan.push(remove, reason, remove_after)
}

/// New container under a temporary name, then stop and remove the old one,
/// then rename and start: the new one exists before the old one goes.
fn plan_recreate(
    context: &ServiceContext<'_>,
    container: &ObservedContainer,
    reason: &str,
    after: Vec<usize>,
    plan: &mut Plan,
) -> usize {
    let temporary = temporary_name(&container.id, &container.name);
    let create = plan.push(
        Action::CreateContainer {
            service: context.service.name.clone(),
            number: container.number,
            name: temporary.clone(),
        },
        format!("recreate {}: {reason}", container.name),
        after,
    );
    let remove = plan_stop_then_remove(
        container,
        "replaced by its new container",
        vec![create],
        plan,
    );
    let rename = plan.push(
        Action::RenameContainer {
            from: temporary,
            to: container.name.clone(),
        },
        "takes the old container's name",
        vec![remove],
    );
    if context.options.no_start {
        return rename;
    }
    plan.push(
        Action::StartContainer {
            name: container.name.clone(),
        },
        "recreated",
        vec![rename],
    )
}

fn recreate_reason(context: &ServiceContext<'_>, container: &ObservedContainer) -> Option<String> {
    let service = context.service;
    if context.options.force_recreate {
        return Some("forced (--force-recreate)".into());
    }
    if context.forced {
        return Some("dependency of a named service (--always-recreate-deps)".into());
    }
    if container.config_hash != service.config_hash {
        return Some(describe_changes(container.config.as_ref(), &service.config));
    }
    if let Some(image) = &service.image_id {
        if !container.image_id.is_empty() && *image != container.image_id {
            return Some("image changed".into());
        }
    }
    if let Some(files) = &service.files {
        if let Some(changes) = super::files::describe_changes(&container.files, files) {
            return Some(changes);
        }
    }
    service
        .shares_with
        .iter()
        .find(|parent| context.recreated.contains(*parent))
        .map(|parent| {
            format!("{parent} was recreated and this container shares its namespaces or volumes")
        })
}

/// "environment, ports changed" from the two configurations' top-level keys.
fn describe_changes(old: Option<&serde_json::Value>, new: &serde_json::Value) -> String {
    let (Some(serde_json::Value::Object(old)), serde_json::Value::Object(new)) = (old, new) else {
        return "configuration changed".into();
    };
    let keys: BTreeSet<&String> = old.keys().chain(new.keys()).collect();
    let changed: Vec<&str> = keys
        .into_iter()
        .filter(|k| old.get(*k) != new.get(*k))
        .filter(|k| {
            !matches!(
                k.as_str(),
                "build" | "pull_policy" | "scale" | "depends_on" | "profiles"
            )
        })
        .map(String::as_str)
        .collect();
    match changed.len() {
        0 => "configuration changed".into(),
        1..=4 => format!("{} changed", changed.join(", ")),
        n => format!("{} and {} more changed", changed[..3].join(", "), n - 3),
    }
}

fn plan_orphans(
    desired: &DesiredState,
    observed: &ObservedState,
    options: &PlanOptions,
    plan: &mut Plan,
) {
    for container in observed
        .containers
        .iter()
        .filter(|c| !c.oneoff && !desired.services.contains_key(&c.service))
    {
        let origin = match (&container.config_files, &container.working_dir) {
            (Some(files), _) => format!(" (made from {files})"),
            (None, Some(dir)) => format!(" (made in {dir})"),
            _ => String::new(),
        };
        let description = format!(
            "{} of service {:?}, which is not in the project{origin}",
            container.name, container.service
        );
        if !options.remove_orphans {
            plan.orphans.push(description);
            continue;
        }
        let reason = format!("orphan: {description}");
        plan_stop_then_remove(container, &reason, Vec::new(), plan);
    }
}

#[cfg(test)]
#[path = "planner_tests.rs"]
mod tests;
