//! `berth ps`: the project's containers, as `docker compose ps` lists them.

use anyhow::Context;
use berth_runtime::container::{ContainerInfo, Runtime, Status};
use berth_runtime::image::ImageStore;
use berth_runtime::timestamp;

use super::args::{GlobalOptions, PsArgs};
use super::project::load_project;
use crate::contract::{containers, labels};
use crate::supervisor::health::HealthStatus;

pub use crate::contract::containers::service_of;

/// The project's containers (by label), sorted by service then number.
pub fn project_containers(
    global: &GlobalOptions,
    project: &str,
) -> anyhow::Result<Vec<ContainerInfo>> {
    let runtime = Runtime::new(&global.root).context("container runtime")?;
    let all = runtime.list().context("listing containers")?;
    Ok(containers::of_project(all, project))
}

/// `Up 5 seconds`, `Exited (0) 3 seconds ago`, `Created`.
pub fn status_text(info: &ContainerInfo) -> String {
    let now = timestamp::now_unix();
    let since = |time: &Option<String>| {
        time.as_deref()
            .and_then(timestamp::parse_rfc3339)
            .map(|t| timestamp::human_age(now - t))
            .unwrap_or_default()
    };
    match info.state.status {
        Status::Created => "Created".into(),
        Status::Running => {
            let labels = &info.record.spec.labels;
            let project = labels.get(labels::PROJECT).cloned().unwrap_or_default();
            let health = crate::supervisor::state_files::read_health(
                &super::lock::run_dir(),
                &project,
                &info.record.id,
            )
            .map(|h| match h.status {
                HealthStatus::Starting => " (health: starting)",
                HealthStatus::Healthy => " (healthy)",
                HealthStatus::Unhealthy => " (unhealthy)",
            })
            .unwrap_or_default();
            let paused = if info.state.paused { " (Paused)" } else { "" };
            format!(
                "Up {}{paused}{health}",
                since(&info.state.started_at).trim_end_matches(" ago")
            )
        }
        Status::Exited => format!(
            "Exited ({}) {}",
            info.state.exit_code.unwrap_or(-1),
            since(&info.state.finished_at)
        ),
    }
}

/// `127.0.0.1:8080->80/tcp, 0.0.0.0:5353->53/udp, 9000/tcp`: the published
/// ports, then the ones only exposed (the service's `expose:` and the
/// image's `EXPOSE`), as docker compose lists them.
fn ports_text(info: &ContainerInfo, images: Option<&ImageStore>) -> String {
    let project = info
        .record
        .spec
        .labels
        .get(labels::PROJECT)
        .cloned()
        .unwrap_or_default();
    let published = crate::supervisor::state_files::read_ports(
        &super::lock::run_dir(),
        &project,
        &info.record.id,
    );
    let mut shown: Vec<String> = published
        .iter()
        .map(|p| {
            format!(
                "{}:{}->{}/{}",
                p.host_ip,
                p.host_port,
                p.target.port(),
                p.protocol
            )
        })
        .collect();
    let taken: Vec<String> = published
        .iter()
        .map(|p| format!("{}/{}", p.target.port(), p.protocol))
        .collect();
    for port in exposed_ports(info, images) {
        if !taken.contains(&port) && !shown.contains(&port) {
            shown.push(port);
        }
    }
    shown.join(", ")
}

/// `80/tcp`, … from the service's `expose:` and the image's `EXPOSE`.
fn exposed_ports(info: &ContainerInfo, images: Option<&ImageStore>) -> Vec<String> {
    let normalize = |port: &str| {
        if port.contains('/') {
            port.to_string()
        } else {
            format!("{port}/tcp")
        }
    };
    let mut ports: Vec<String> =
        crate::contract::annotations::service_config_json(&info.record.spec)
            .and_then(|c| c.get("expose").cloned())
            .and_then(|e| e.as_array().cloned())
            .unwrap_or_default()
            .iter()
            .filter_map(|p| match p {
                serde_json::Value::String(s) => Some(normalize(s)),
                serde_json::Value::Number(n) => Some(normalize(&n.to_string())),
                _ => None,
            })
            .collect();
    if let Some(image) = image_exposed_ports(images, &info.record.image_id) {
        ports.extend(image.iter().map(|p| normalize(p)));
    }
    ports
}

/// The image's `ExposedPorts`, when its configuration can be read.
fn image_exposed_ports(images: Option<&ImageStore>, image_id: &str) -> Option<Vec<String>> {
    let image = images?.resolve(image_id).ok()?;
    image.config.config().as_ref()?.exposed_ports().clone()
}

/// `"nginx -g 'daemon off;'"`: the command as a shell would read it,
/// quoted as docker does, truncated to 20 characters unless `--no-trunc`.
fn command_text(info: &ContainerInfo, truncate: bool) -> String {
    let command = info
        .record
        .process
        .args
        .iter()
        .map(|arg| {
            shlex::try_quote(arg)
                .map(|quoted| quoted.into_owned())
                .unwrap_or_else(|_| arg.clone())
        })
        .collect::<Vec<_>>()
        .join(" ");
    let short: String = if truncate && command.chars().count() > 20 {
        command.chars().take(19).chain(['…']).collect()
    } else {
        command
    };
    format!("{short:?}")
}

/// The state `--status` and `--filter status=` match: docker compose's
/// words (paused, restarting, removing, running, dead, created, exited).
fn state_word(c: &ContainerInfo) -> &'static str {
    match c.state.status {
        Status::Created => "created",
        Status::Running if c.state.paused => "paused",
        Status::Running => "running",
        Status::Exited => "exited",
    }
}

/// The states asked for by `--status` and `--filter status=…`; an unknown
/// state or filter is an error naming what is accepted.
fn wanted_states(args: &PsArgs) -> anyhow::Result<Vec<String>> {
    const STATES: &[&str] = &[
        "paused",
        "restarting",
        "removing",
        "running",
        "dead",
        "created",
        "exited",
    ];
    let mut states = args.status.clone();
    for filter in &args.filter {
        match filter.split_once('=') {
            Some(("status", value)) => states.push(value.to_string()),
            _ => anyhow::bail!(
                "--filter {filter:?}: expected status=STATUS (the only filter ps supports)"
            ),
        }
    }
    for state in &states {
        if !STATES.contains(&state.as_str()) {
            anyhow::bail!(
                "invalid status {state:?}: expected one of {}",
                STATES.join(", ")
            );
        }
    }
    Ok(states)
}

pub fn run(global: &GlobalOptions, args: &PsArgs) -> anyhow::Result<i32> {
    let project = load_project(global, &[], true)?.project;
    let mut containers: Vec<ContainerInfo> = project_containers(global, &project.name)?;
    containers.sort_by(|a, b| a.record.name.cmp(&b.record.name));
    let images = ImageStore::open(&global.root).ok();
    let images = images.as_ref();
    let states = wanted_states(args)?;
    let all = args.all || !states.is_empty();
    let containers: Vec<ContainerInfo> = containers
        .into_iter()
        .filter(|c| all || c.state.status == Status::Running)
        .filter(|c| args.services.is_empty() || args.services.iter().any(|s| s == service_of(c)))
        .filter(|c| states.is_empty() || states.iter().any(|s| s == state_word(c)))
        .filter(|c| args.orphans || project.services.contains_key(service_of(c)))
        .collect();
    if args.services_only {
        let mut services: Vec<&str> = containers.iter().map(service_of).collect();
        services.dedup();
        for service in services {
            println!("{service}");
        }
        return Ok(0);
    }
    if args.quiet {
        for c in &containers {
            println!("{}", c.record.id);
        }
        return Ok(0);
    }
    let format = args.format.as_str();
    if format != "table" {
        let rows: Vec<serde_json::Value> = containers
            .iter()
            .map(|c| json_row(c, &project.name, !args.no_trunc, images))
            .collect();
        if format == "json" {
            for row in &rows {
                println!("{row}");
            }
        } else {
            let template = super::template::Template::parse(format)
                .map_err(|e| anyhow::anyhow!("--format: {e}"))?;
            print!("{}", template.render(&rows));
        }
        return Ok(0);
    }
    {
        let now = timestamp::now_unix();
        let rows: Vec<[String; 7]> = containers
            .iter()
            .map(|c| {
                let created = timestamp::parse_rfc3339(&c.record.created)
                    .map(|t| timestamp::human_age(now - t))
                    .unwrap_or_default();
                [
                    c.record.name.clone(),
                    c.record
                        .image_name
                        .clone()
                        .unwrap_or_else(|| c.record.image_id.clone()),
                    command_text(c, !args.no_trunc),
                    service_of(c).to_string(),
                    created,
                    status_text(c),
                    ports_text(c, images),
                ]
            })
            .collect();
        let header = [
            "NAME", "IMAGE", "COMMAND", "SERVICE", "CREATED", "STATUS", "PORTS",
        ];
        let mut table: Vec<Vec<String>> = vec![header.map(String::from).to_vec()];
        table.extend(rows.into_iter().map(|row| row.to_vec()));
        print!("{}", super::template::table(&table));
    }
    Ok(0)
}

/// A container as `ps --format json` prints it (and templates see it).
fn json_row(
    c: &ContainerInfo,
    project: &str,
    truncate: bool,
    images: Option<&ImageStore>,
) -> serde_json::Value {
    let state = match c.state.status {
        Status::Created => "created",
        Status::Running if c.state.paused => "paused",
        Status::Running => "running",
        Status::Exited => "exited",
    };
    let now = timestamp::now_unix();
    let publishers: Vec<serde_json::Value> =
        crate::supervisor::state_files::read_ports(&super::lock::run_dir(), project, &c.record.id)
            .iter()
            .map(|p| {
                serde_json::json!({
                    "URL": p.host_ip.to_string(),
                    "TargetPort": p.target.port(),
                    "PublishedPort": p.host_port,
                    "Protocol": p.protocol.to_string(),
                })
            })
            .collect();
    serde_json::json!({
        "ID": c.record.id,
        "Name": c.record.name,
        "Names": c.record.name,
        "Image": c.record.image_name.clone().unwrap_or_else(|| c.record.image_id.clone()),
        "Command": command_text(c, truncate),
        "Project": project,
        "Service": service_of(c),
        "CreatedAt": c.record.created,
        "RunningFor": timestamp::parse_rfc3339(&c.record.created)
            .map(|t| timestamp::human_age(now - t))
            .unwrap_or_default(),
        "State": state,
        "Status": status_text(c),
        "ExitCode": c.state.exit_code.unwrap_or(0),
        "Health": crate::supervisor::state_files::read_health(&super::lock::run_dir(), project, &c.record.id)
            .map(|h| serde_json::to_value(h.status).unwrap_or_default())
            .unwrap_or_else(|| serde_json::json!("")),
        "Ports": ports_text(c, images),
        "Publishers": publishers,
        "Labels": c.record.spec.labels,
    })
}
