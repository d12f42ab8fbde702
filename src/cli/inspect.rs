//! `berth inspect CONTAINER...`: containers as a JSON array in the shape of
//! `docker inspect` (Id, Name, State, Config, HostConfig, Mounts,
//! NetworkSettings), or through a `--format` template.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::Context;
use berth_runtime::container::{ContainerInfo, Mount, Runtime, Status};
use berth_runtime::image::ImageStore;
use berth_runtime::network::NetworkStore;
use serde_json::{json, Map, Value};

use super::args::{ContainerInspectArgs, GlobalOptions};
use super::template::Template;
use crate::contract::{annotations, labels};

/// `HostConfig.SecurityOpt`: the options that change Docker's defaults
/// (`null` when none does, as Docker shows it).
fn security_opt(security: &berth_runtime::container::Security) -> Value {
    use berth_runtime::container::Seccomp;
    let mut options = Vec::new();
    if security.no_new_privileges {
        options.push("no-new-privileges".to_string());
    }
    match &security.seccomp {
        Seccomp::Default => {}
        Seccomp::Unconfined => options.push("seccomp=unconfined".to_string()),
        Seccomp::Profile { source, .. } => options.push(format!("seccomp={source}")),
    }
    if security.unmask_system_paths {
        options.push("systempaths=unconfined".to_string());
    }
    if options.is_empty() {
        Value::Null
    } else {
        json!(options)
    }
}

/// Docker's "never" time.
const ZERO_TIME: &str = "0001-01-01T00:00:00Z";

pub fn run(global: &GlobalOptions, args: &ContainerInspectArgs) -> anyhow::Result<i32> {
    let template = args
        .format
        .as_deref()
        .map(Template::parse)
        .transpose()
        .map_err(|e| anyhow::anyhow!("--format: {e}"))?;
    let runtime = Runtime::new(&global.root).context("container runtime")?;
    let all = runtime.list().context("listing containers")?;
    let images = ImageStore::open(&global.root).ok();
    let networks = NetworkStore::open(&global.root).ok();
    let mut found = Vec::new();
    let mut failed = false;
    for name in &args.containers {
        let wanted = name.strip_prefix('/').unwrap_or(name);
        let info = runtime
            .lookup(wanted)
            .ok()
            .and_then(|record| all.iter().find(|i| i.record.id == record.id));
        match info {
            Some(info) => found.push(describe(
                &runtime,
                &global.root,
                info,
                images.as_ref(),
                networks.as_ref(),
            )),
            None => {
                eprintln!("error: no such container: {name}");
                failed = true;
            }
        }
    }
    match template {
        Some(template) => print!("{}", template.render(&found)),
        None => super::image::print_json_array(&found)?,
    }
    Ok(i32::from(failed))
}

fn time_or_zero(time: &Option<String>) -> String {
    time.clone().unwrap_or_else(|| ZERO_TIME.to_string())
}

/// One container as `docker inspect` shows it.
fn describe(
    runtime: &Runtime,
    root: &Path,
    info: &ContainerInfo,
    images: Option<&ImageStore>,
    networks: Option<&NetworkStore>,
) -> Value {
    let record = &info.record;
    let spec = &record.spec;
    let state = &info.state;
    let running = state.status == Status::Running;
    let status = match state.status {
        Status::Running if state.paused => "paused",
        Status::Running => "running",
        Status::Created => "created",
        Status::Exited => "exited",
    };
    let project = spec.labels.get(labels::PROJECT).cloned();
    let mut state_json = json!({
        "Status": status,
        "Running": running,
        "Paused": state.paused,
        "Restarting": false,
        "OOMKilled": state.oom_killed,
        "Dead": false,
        "Pid": if running { state.pid.unwrap_or(0) } else { 0 },
        "ExitCode": state.exit_code.unwrap_or(0),
        "Error": state.error.clone().unwrap_or_default(),
        "StartedAt": time_or_zero(&state.started_at),
        "FinishedAt": time_or_zero(&state.finished_at),
    });
    if let Some(health) = project.as_deref().and_then(|p| {
        crate::supervisor::state_files::read_health(&super::lock::run_dir(), p, &record.id)
    }) {
        state_json["Health"] = json!({
            "Status": serde_json::to_value(health.status).unwrap_or(Value::Null),
            "FailingStreak": health.failing_streak,
            "Log": health.log.iter().map(|probe| json!({
                "Start": probe.start,
                "End": probe.end,
                "ExitCode": probe.exit_code,
                "Output": probe.output,
            })).collect::<Vec<_>>(),
        });
    }

    // The image's ENTRYPOINT/CMD where the container does not override them.
    let image_config = images
        .and_then(|store| store.resolve(&record.image_id).ok())
        .and_then(|image| image.config.config().clone());
    let entrypoint = spec
        .process
        .entrypoint
        .clone()
        .or_else(|| image_config.as_ref().and_then(|c| c.entrypoint().clone()));
    let cmd = spec.process.command.clone().or_else(|| {
        if spec.process.entrypoint.is_some() {
            None
        } else {
            image_config.as_ref().and_then(|c| c.cmd().clone())
        }
    });
    let config = json!({
        "Hostname": record.hostname,
        "Domainname": spec.domainname.clone().unwrap_or_default(),
        "User": spec.process.user.clone().unwrap_or_default(),
        "Tty": spec.process.tty,
        "OpenStdin": spec.process.stdin_open,
        "StdinOnce": spec.process.stdin_once,
        "Env": record.process.env,
        "Cmd": cmd,
        "Image": record.image_name.clone().unwrap_or_else(|| record.image_id.clone()),
        "WorkingDir": record.process.working_dir,
        "Entrypoint": entrypoint,
        "Labels": spec.labels,
        "StopSignal": record.stop_signal,
        "StopTimeout": spec.stop_timeout.map(|t| t.as_secs()),
    });

    let network_mode = match &spec.network {
        berth_runtime::container::NetworkNamespace::Host => "host".to_string(),
        berth_runtime::container::NetworkNamespace::None => "none".to_string(),
        berth_runtime::container::NetworkNamespace::Join(path) => {
            format!("container:{}", path.display())
        }
        berth_runtime::container::NetworkNamespace::New => spec
            .endpoints
            .first()
            .map(|e| e.network.clone())
            .unwrap_or_else(|| "none".to_string()),
    };
    let mut host_config = json!({
        "NetworkMode": network_mode,
        "Privileged": spec.security.privileged,
        "ReadonlyRootfs": spec.read_only_rootfs,
        "CapAdd": spec.security.cap_add,
        "CapDrop": spec.security.cap_drop,
        "Init": spec.init,
        "Sysctls": spec.security.sysctls,
        "ShmSize": spec.shm_size.unwrap_or(64 << 20),
        "Memory": spec.resources.memory.unwrap_or(0),
        "MemorySwap": spec.resources.memory_swap.unwrap_or(0),
        "MemoryReservation": spec.resources.memory_reservation.unwrap_or(0),
        "NanoCpus": spec.resources.cpus.map(|c| (c * 1e9) as u64).unwrap_or(0),
        "CpuShares": spec.resources.cpu_shares.unwrap_or(0),
        "CpusetCpus": spec.resources.cpuset.clone().unwrap_or_default(),
        "PidsLimit": spec.resources.pids_limit,
        "LogConfig": {
            "Type": if spec.log.enabled { "json-file" } else { "none" },
            "Config": log_options(spec),
        },
    });
    if !spec.user_annotations.is_empty() {
        host_config["Annotations"] = json!(spec.user_annotations);
    }
    host_config["SecurityOpt"] = security_opt(&spec.security);

    let mut mounts: Vec<Value> = spec.mounts.iter().map(|m| mount_json(root, m)).collect();
    for (index, file) in spec.files.iter().enumerate() {
        mounts.push(json!({
            "Type": "bind",
            "Source": runtime.injected_file_path(&record.id, index),
            "Destination": file.target,
            "Mode": "ro",
            "RW": false,
            "Propagation": "rprivate",
        }));
    }

    let dns = annotations::dns(spec);
    let mut network_map = Map::new();
    for endpoint in &spec.endpoints {
        let mut aliases = vec![record.name.clone()];
        if let Some(service) = spec.labels.get(labels::SERVICE) {
            aliases.push(service.clone());
        }
        aliases.extend(
            dns.aliases
                .get(&endpoint.network)
                .into_iter()
                .flatten()
                .cloned(),
        );
        let network_id = networks
            .and_then(|store| store.get(&endpoint.network).ok())
            .map(|n| n.id)
            .unwrap_or_default();
        network_map.insert(
            endpoint.network.clone(),
            json!({
                "Aliases": aliases,
                "NetworkID": network_id,
                "EndpointID": endpoint.host_veth,
                "Gateway": endpoint.gateway.to_string(),
                "IPAddress": endpoint.address.to_string(),
                "IPPrefixLen": endpoint.prefix_len,
                "MacAddress": endpoint.mac,
            }),
        );
    }

    let args = &record.process.args;
    json!({
        "Id": record.id,
        "Created": record.created,
        "Path": args.first().cloned().unwrap_or_default(),
        "Args": args.iter().skip(1).collect::<Vec<_>>(),
        "State": state_json,
        "Image": record.image_id,
        "Name": format!("/{}", record.name),
        "Driver": "overlay",
        "Platform": "linux",
        "Config": config,
        "HostConfig": host_config,
        "Mounts": mounts,
        "NetworkSettings": {"Networks": network_map},
    })
}

fn log_options(spec: &berth_runtime::container::ContainerSpec) -> BTreeMap<String, String> {
    let mut options = BTreeMap::new();
    if let Some(size) = spec.log.max_size {
        options.insert("max-size".to_string(), size.to_string());
    }
    if spec.log.max_files > 1 {
        options.insert("max-file".to_string(), spec.log.max_files.to_string());
    }
    options
}

/// A bind of a volume's `_data` is shown as the volume.
fn mount_json(root: &Path, mount: &Mount) -> Value {
    match mount {
        Mount::Bind {
            source,
            target,
            read_only,
            propagation,
            ..
        } => {
            let volume = source
                .strip_prefix(root.join("volumes"))
                .ok()
                .filter(|rest| rest.ends_with("_data") && rest.components().count() == 2)
                .and_then(|rest| rest.components().next())
                .map(|c| c.as_os_str().to_string_lossy().into_owned());
            let mut value = json!({
                "Type": if volume.is_some() { "volume" } else { "bind" },
                "Source": source,
                "Destination": target,
                "Mode": if *read_only { "ro" } else { "rw" },
                "RW": !read_only,
                "Propagation": propagation.clone().unwrap_or_else(|| "rprivate".into()),
            });
            if let Some(name) = volume {
                value["Name"] = json!(name);
                value["Driver"] = json!("local");
            }
            value
        }
        Mount::Tmpfs {
            target, read_only, ..
        } => json!({
            "Type": "tmpfs",
            "Source": "",
            "Destination": target,
            "Mode": "",
            "RW": !read_only,
            "Propagation": "",
        }),
    }
}
