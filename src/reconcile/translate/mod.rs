//! A compose service -> the runtime's `ContainerSpec` for one replica, as
//! one pure stage: [`container_spec`] composes the per-concern translations
//! (process and log, mounts, resources and devices, security, namespaces
//! and network mode, ports) with berth's labels and annotations. What it
//! knows of the host comes in as [`HostFacts`], read once by the caller;
//! the only files it reads are project input (secrets, configs, seccomp
//! profiles). [`check`] translates before anything is made, so a value
//! berth cannot honour fails first. Named and anonymous volumes come back
//! as [`VolumeUse`]s for the caller to turn into mounts (they need the
//! volume store); host directories that bind mounts need are listed to be
//! created first; namespaces of other containers come back as joins.

pub mod error;
mod host;
mod mounts;
mod network;
mod ports;
mod process;
mod resources;
mod security;

use std::collections::BTreeMap;
use std::path::PathBuf;

use berth_runtime::container::ContainerSpec;

use crate::compose::hash::service_config_hash;
use crate::compose::model::{Project, Service};

// The names of the reconciler/supervisor contract this stage writes, in one place.
use crate::contract::annotations::{PortRequest, CONFIG_ANNOTATION, FILES_ANNOTATION};
use crate::contract::labels;

pub use error::{FieldError, TranslateError};
pub use host::{DeviceRequest, HostFacts};
pub use network::{
    namespace_mode, Attachment, ExtraHost, NamespaceJoin, NamespaceMode, NetworkMode,
};
pub use security::{security_options, SeccompOption, SecurityOptions};

/// A volume a container mounts, resolved by the caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VolumeUse {
    /// Final volume name; `None` for an anonymous volume.
    pub name: Option<String>,
    pub target: String,
    pub read_only: bool,
    pub nocopy: bool,
}

/// The spec and what must exist before it can be created.
#[derive(Debug, Clone)]
pub struct Translated {
    pub spec: ContainerSpec,
    pub volumes: Vec<VolumeUse>,
    /// Bind sources to create when missing (`create_host_path`).
    pub host_dirs: Vec<PathBuf>,
    /// Namespaces of other containers to join (`ipc`/`pid: service:` or
    /// `container:`), for the caller to resolve to a container ID.
    pub joins: Vec<NamespaceJoin>,
    /// `network_mode`: the caller attaches the networks or joins the peer.
    pub network_mode: NetworkMode,
    /// `networks:` in attach order (used with [`NetworkMode::Networks`]).
    pub attachments: Vec<Attachment>,
    /// `extra_hosts:` for the caller's `/etc/hosts`.
    pub extra_hosts: Vec<ExtraHost>,
    /// `ports:` to publish (the caller checks they are free).
    pub ports: Vec<PortRequest>,
    /// What is accepted but not honoured on this host, one sentence each
    /// naming the service (the caller logs them).
    pub warnings: Vec<String>,
}

/// Translates replica `number` of `service` (named `service_name`) on `host`.
pub fn container_spec(
    project: &Project,
    service_name: &str,
    service: &Service,
    number: u32,
    container_name: &str,
    host: &HostFacts,
) -> Result<Translated, TranslateError> {
    let in_service = |err: FieldError| err.of(service_name);
    let field = |field: &'static str| {
        move |message: String| FieldError::new(field, message).of(service_name)
    };
    let mut found = mounts::service_mounts(project, service).map_err(in_service)?;
    let resources = resources::resources(service).map_err(in_service)?;
    let devices = resources::mapped_devices(service, host).map_err(in_service)?;
    let mut warnings =
        resources::cgroup_warnings(service_name, service, &devices, &resources, &host.cgroups);
    let namespaces = network::namespaces(service).map_err(in_service)?;
    let network_mode =
        network::network_mode(service.network_mode.as_deref()).map_err(field("network_mode"))?;
    let attachments = network::attachments(service).map_err(in_service)?;
    let extra_hosts = network::extra_hosts(service).map_err(in_service)?;
    let ports = ports::port_requests(service).map_err(in_service)?;
    let (security, security_warnings) =
        security::security(project, service_name, service, host).map_err(in_service)?;
    warnings.extend(security_warnings);
    let log = process::log_config(service).map_err(field("logging"))?;
    let cgroupns =
        security::cgroup_namespace(service.cgroup.as_deref()).map_err(field("cgroup"))?;
    let mut annotations = BTreeMap::new();
    if let Ok(config) = serde_json::to_string(service) {
        annotations.insert(CONFIG_ANNOTATION.to_string(), config);
    }
    let files = mounts::secrets_and_configs(
        project,
        service_name,
        service,
        &mut found.mounts,
        &mut annotations,
    )?;
    let spec = ContainerSpec {
        id: None,
        endpoints: Vec::new(),
        start_gate: false,
        name: container_name.to_string(),
        labels: berth_labels(project, service_name, service, number),
        annotations,
        user_annotations: service.annotations.clone(),
        files,
        process: process::process_spec(service),
        hostname: service.hostname.clone(),
        domainname: service.domainname.clone(),
        mounts: found.mounts,
        read_only_rootfs: service.read_only,
        shm_size: service
            .shm_size
            .as_ref()
            .and_then(|s| resources::positive(s.0)),
        no_shm: service.ipc.as_deref() == Some("none"),
        etc_hosts: None,
        resolv_conf: None,
        network: network_mode.namespace(),
        ipc: namespaces.ipc,
        pid: namespaces.pid,
        uts: namespaces.uts,
        cgroupns,
        devices,
        security,
        resources,
        init: service.init.unwrap_or(false),
        stop_signal: service.stop_signal.clone(),
        stop_timeout: service.stop_grace_period.as_ref().map(|d| d.as_std()),
        log,
    };
    Ok(Translated {
        spec,
        volumes: found.volumes,
        host_dirs: found.host_dirs,
        joins: namespaces.joins,
        network_mode,
        attachments,
        extra_hosts,
        ports,
        warnings,
    })
}

/// The service's own labels and berth's (project, service, replica, config
/// hash, working directory, compose files).
fn berth_labels(
    project: &Project,
    service_name: &str,
    service: &Service,
    number: u32,
) -> BTreeMap<String, String> {
    let mut labels: BTreeMap<String, String> = service.labels.clone();
    for (key, value) in [
        (labels::PROJECT, project.name.clone()),
        (labels::SERVICE, service_name.to_string()),
        (labels::NUMBER, number.to_string()),
        (labels::CONFIG_HASH, service_config_hash(service)),
        (labels::ONEOFF, "False".to_string()),
        (
            labels::WORKING_DIR,
            project.working_dir.display().to_string(),
        ),
        (
            labels::CONFIG_FILES,
            project
                .config_files
                .iter()
                .map(|f| f.display().to_string())
                .collect::<Vec<_>>()
                .join(","),
        ),
    ] {
        labels.insert(key.to_string(), value);
    }
    labels
}

/// Translates one replica of each of `services` on `host` and discards the
/// result: the first value that cannot be honoured (ports and
/// `network_mode` included), before anything is made.
pub fn check(
    project: &Project,
    services: &[String],
    host: &HostFacts,
) -> Result<(), TranslateError> {
    for name in services {
        if let Some(service) = project.services.get(name) {
            container_spec(project, name, service, 1, name, host)?;
        }
    }
    Ok(())
}

/// `10m`, `1g`, `512k`, `100` (bytes) as Docker parses them (binary units).
fn parse_size(text: &str) -> Option<u64> {
    let text = text.trim().to_ascii_lowercase();
    let digits_end = text
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(digits_end);
    let number: f64 = number.parse().ok()?;
    let factor: u64 = match unit.trim_end_matches('b').trim_end_matches('i') {
        "" => 1,
        "k" => 1 << 10,
        "m" => 1 << 20,
        "g" => 1 << 30,
        "t" => 1 << 40,
        _ => return None,
    };
    Some((number * factor as f64) as u64)
}

#[cfg(test)]
mod tests;
