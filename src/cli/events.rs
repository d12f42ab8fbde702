//! `berth events [--json] [SERVICE…]`: the project's container events as
//! they happen (create, start, die, destroy, pause, unpause,
//! health_status), found by comparing the runtime's state every 50 ms.
//! Runs until interrupted.

use std::collections::BTreeMap;
use std::time::Duration;

use berth_runtime::container::{ContainerInfo, Runtime, Status};

use super::args::{EventsArgs, GlobalOptions};
use super::project::load_project;
use super::ps::service_of;
use crate::contract::containers;
use crate::supervisor::health::HealthStatus;

/// What is compared from one look to the next.
#[derive(Clone, PartialEq)]
struct Seen {
    status: Status,
    start_count: u32,
    paused: bool,
    health: Option<HealthStatus>,
}

pub fn run(global: &GlobalOptions, args: &EventsArgs) -> anyhow::Result<i32> {
    let project = load_project(global, &[], true)?.project;
    let runtime = Runtime::new(&global.root)?;
    let run_dir = super::lock::run_dir();
    let look = || -> anyhow::Result<BTreeMap<String, (ContainerInfo, Seen)>> {
        Ok(containers::of_project(runtime.list()?, &project.name)
            .into_iter()
            .filter(|c| {
                args.services.is_empty() || args.services.iter().any(|s| s == service_of(c))
            })
            .map(|c| {
                let health = crate::supervisor::state_files::read_health(
                    &run_dir,
                    &project.name,
                    &c.record.id,
                )
                .map(|h| h.status);
                let seen = Seen {
                    status: c.state.status,
                    start_count: c.state.start_count,
                    paused: c.state.paused,
                    health,
                };
                (c.record.id.clone(), (c, seen))
            })
            .collect())
    };
    let mut before = look()?;
    loop {
        std::thread::sleep(Duration::from_millis(50));
        let now = look()?;
        for (id, (info, seen)) in &now {
            match before.get(id) {
                None => {
                    emit(args.json, info, "create", &[]);
                    for action in transitions(None, seen) {
                        emit(args.json, info, &action, &[]);
                    }
                }
                Some((_, old)) => {
                    for action in transitions(Some(old), seen) {
                        let exit = info.state.exit_code.unwrap_or(0).to_string();
                        let extra: Vec<(&str, &str)> = if action == "die" {
                            vec![("exitCode", exit.as_str())]
                        } else {
                            vec![]
                        };
                        emit(args.json, info, &action, &extra);
                    }
                }
            }
        }
        for (id, (info, seen)) in &before {
            if !now.contains_key(id) {
                // Removed between two looks: it stopped on the way.
                if seen.status == Status::Running {
                    emit(args.json, info, "die", &[]);
                }
                emit(args.json, info, "destroy", &[]);
            }
        }
        before = now;
    }
}

/// The actions between two looks at one container.
fn transitions(old: Option<&Seen>, new: &Seen) -> Vec<String> {
    let mut actions = Vec::new();
    let old_status = old.map(|o| o.status);
    let restarted = old.is_some_and(|o| o.start_count != new.start_count);
    if old_status == Some(Status::Running) && (new.status != Status::Running || restarted) {
        actions.push("die".to_string());
    }
    if new.status == Status::Running && (old_status != Some(Status::Running) || restarted) {
        actions.push("start".to_string());
    }
    let was_paused = old.is_some_and(|o| o.paused);
    if new.paused && !was_paused {
        actions.push("pause".to_string());
    } else if !new.paused && was_paused {
        actions.push("unpause".to_string());
    }
    if let Some(health) = new
        .health
        .filter(|h| old.and_then(|o| o.health) != Some(*h))
    {
        let text = serde_json::to_value(health)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default();
        actions.push(format!("health_status: {text}"));
    }
    actions
}

fn emit(json: bool, info: &ContainerInfo, action: &str, extra: &[(&str, &str)]) {
    let time = berth_runtime::timestamp::now();
    let image = info
        .record
        .image_name
        .clone()
        .unwrap_or_else(|| info.record.image_id.clone());
    let mut attributes = BTreeMap::new();
    attributes.insert("name".to_string(), info.record.name.clone());
    attributes.insert("image".to_string(), image);
    for (key, value) in extra {
        attributes.insert(key.to_string(), value.to_string());
    }
    if json {
        let line = serde_json::json!({
            "time": time,
            "type": "container",
            "action": action,
            "id": info.record.id,
            "service": service_of(info),
            "attributes": attributes,
        });
        println!("{line}");
    } else {
        let attributes = attributes
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(", ");
        println!(
            "{time} container {action} {} ({attributes})",
            info.record.id
        );
    }
    use std::io::Write;
    let _ = std::io::stdout().flush();
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seen(status: Status, starts: u32) -> Seen {
        Seen {
            status,
            start_count: starts,
            paused: false,
            health: None,
        }
    }

    #[test]
    fn starts_deaths_restarts_and_health() {
        assert_eq!(
            transitions(None, &seen(Status::Created, 0)),
            Vec::<String>::new()
        );
        assert_eq!(
            transitions(Some(&seen(Status::Created, 0)), &seen(Status::Running, 1)),
            ["start"]
        );
        assert_eq!(
            transitions(Some(&seen(Status::Running, 1)), &seen(Status::Exited, 1)),
            ["die"]
        );
        assert_eq!(
            transitions(Some(&seen(Status::Running, 1)), &seen(Status::Running, 2)),
            ["die", "start"]
        );
        let mut healthy = seen(Status::Running, 1);
        healthy.health = Some(HealthStatus::Healthy);
        assert_eq!(
            transitions(Some(&seen(Status::Running, 1)), &healthy),
            ["health_status: healthy"]
        );
    }
}
