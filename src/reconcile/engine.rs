//! The [`Engine`] over berth's runtime: the executor's actions become
//! network, volume and container operations. It keeps only the I/O: a
//! service becomes a container spec through [`translate`] (pure, host facts
//! passed in); the engine creates volumes, allocates addresses on the
//! networks, writes `/etc/hosts`, records what the supervisor needs through
//! the contract's annotations, and gives addresses back when a container
//! goes.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use berth_runtime::container::etc_files::{extra_host_address, hosts_file, HostEntry};
use berth_runtime::container::{new_id, Namespace, NetworkNamespace, Runtime};
use berth_runtime::image::ResolvedImage;
use berth_runtime::network::{Endpoint, IpamPool, NetworkSpec, NetworkStore};
use berth_runtime::volume::VolumeStore;

use super::desired::DesiredState;
use super::executor::Engine;
use super::plan::Action;
use super::translate;
use crate::compose::model::Project;
use crate::contract::annotations::{self, DnsAnnotation, Link, LinkTarget, PortRequest};
use crate::contract::labels;

/// `links: [SERVICE[:ALIAS]]` and `external_links: [CONTAINER[:ALIAS]]`
/// (the alias is the target's name when not given).
pub fn links_of(service: &crate::compose::model::Service) -> Vec<Link> {
    let parse = |entry: &String, target: fn(String) -> LinkTarget| {
        let (name, alias) = entry.split_once(':').unwrap_or((entry, entry));
        Link {
            target: target(name.to_string()),
            alias: alias.to_string(),
        }
    };
    service
        .links
        .iter()
        .map(|entry| parse(entry, LinkTarget::Service))
        .chain(
            service
                .external_links
                .iter()
                .map(|entry| parse(entry, LinkTarget::Container)),
        )
        .collect()
}

/// Fails when a fixed host port is taken by something other than this
/// project's supervisor (which holds the ports of containers being replaced).
fn check_ports_free(
    service_name: &str,
    requests: &[PortRequest],
    supervisor_pid: Option<u32>,
) -> Result<(), String> {
    use berth_runtime::ports::{port_holder, Protocol};
    for request in requests.iter().filter(|r| r.host_ports.len() == 1) {
        let port = request.host_ports[0];
        let ip = request
            .host_ip
            .unwrap_or(std::net::IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED));
        let free = match request.protocol {
            Protocol::Tcp => std::net::TcpListener::bind((ip, port)).is_ok(),
            Protocol::Udp => std::net::UdpSocket::bind((ip, port)).is_ok(),
        };
        if free {
            continue;
        }
        let holder = port_holder(port, request.protocol);
        if let (Some(pid), Some(holder)) = (supervisor_pid, &holder) {
            if holder.starts_with(&format!("process {pid} ")) {
                continue;
            }
        }
        return Err(format!(
            "service {service_name}: port {port}/{} is already in use{}",
            request.protocol,
            holder.map(|h| format!(" by {h}")).unwrap_or_default()
        ));
    }
    Ok(())
}

/// Everything the actions of one `up` need.
pub struct RuntimeEngine<'a> {
    pub project: &'a Project,
    pub desired: &'a DesiredState,
    pub runtime: Runtime,
    pub networks: NetworkStore,
    /// Per service: the image and the name it was asked for by.
    pub images: BTreeMap<String, (ResolvedImage, String)>,
    /// `-t/--timeout` for stops.
    pub stop_timeout: Option<Duration>,
    /// Where the supervisor keeps health results.
    pub run_dir: PathBuf,
    pub volumes: VolumeStore,
    /// The state root (to find which containers use a volume).
    pub root: PathBuf,
    /// `-V`: new anonymous volumes instead of the previous container's.
    pub renew_anon_volumes: bool,
    /// What translation and `/etc/resolv.conf` need of the host, read once.
    pub host: &'a translate::HostFacts,
}

impl Engine for RuntimeEngine<'_> {
    fn run(&self, action: &Action) -> Result<(), String> {
        match action {
            Action::CreateNetwork { name } => self.create_network(name),
            Action::CreateVolume { name } => self.create_volume(name),
            Action::CreateContainer {
                service,
                number,
                name,
            } => self.create_container(service, *number, name),
            Action::StartContainer { name } => {
                // Its start gate, DNS and ports are the supervisor's: ask it
                // to act as soon as the container waits at the gate.
                // Then its post_start hooks: one failing fails the step
                // (the container runs on, as with docker compose).
                super::hooks::start(&self.runtime, name, || {
                    crate::supervisor::converge_now(&self.run_dir, &self.project.name)
                })
                .map(drop)
                .map_err(|e| e.to_string())
            }
            // Its pre_stop hooks first (a failure is a warning).
            Action::StopContainer { name } => {
                super::hooks::stop(&self.runtime, name, self.stop_timeout)
                    .map(drop)
                    .map_err(|e| e.to_string())
            }
            Action::RemoveContainer { name } => self.remove_container(name),
            Action::RenameContainer { from, to } => {
                self.runtime.rename(from, to).map_err(|e| e.to_string())
            }
            Action::WaitHealthy { name, required } => {
                optional(*required, name, self.wait_healthy(name))
            }
            Action::WaitCompleted { name, required } => {
                optional(*required, name, self.wait_completed(name))
            }
        }
    }
}

/// `required: false` turns a failed dependency into a warning.
fn optional(required: bool, name: &str, result: Result<(), String>) -> Result<(), String> {
    match result {
        Err(err) if !required => {
            eprintln!("warning: optional dependency {name}: {err}");
            Ok(())
        }
        other => other,
    }
}

impl RuntimeEngine<'_> {
    fn wait_healthy(&self, name: &str) -> Result<(), String> {
        use crate::supervisor::health::HealthStatus;
        let record = self.runtime.lookup(name).map_err(|e| e.to_string())?;
        loop {
            let state = self.runtime.state(&record.id).map_err(|e| e.to_string())?;
            if state.status != berth_runtime::container::Status::Running {
                return Err(format!(
                    "dependency {name} is not running (exit code {})",
                    state.exit_code.unwrap_or(-1)
                ));
            }
            let health = crate::supervisor::state_files::read_health(
                &self.run_dir,
                &self.project.name,
                &record.id,
            );
            match health {
                Some(h) if h.status == HealthStatus::Healthy => return Ok(()),
                Some(h) if h.status == HealthStatus::Unhealthy => {
                    return Err(format!(
                        "dependency {name} is unhealthy: {}",
                        h.last_output().unwrap_or_default().trim_end()
                    ))
                }
                _ => {}
            }
            if !annotations::has_healthcheck(&record.spec) {
                return Err(format!(
                    "dependency {name} has no health check (depends_on condition service_healthy)"
                ));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn wait_completed(&self, name: &str) -> Result<(), String> {
        let state = self.runtime.wait(name, None).map_err(|e| e.to_string())?;
        match state.exit_code {
            Some(0) => Ok(()),
            code => Err(format!(
                "service container {name} didn't complete successfully: exit {}",
                code.unwrap_or(-1)
            )),
        }
    }

    pub(crate) fn create_network(&self, name: &str) -> Result<(), String> {
        let network = self
            .desired
            .networks
            .values()
            .find(|n| n.name == name)
            .and_then(|n| self.project.networks.get(&n.key))
            .ok_or_else(|| format!("network {name} is not in the project"))?;
        if let Some(driver) = network.driver.as_deref().filter(|d| *d != "bridge") {
            return Err(format!(
                "network {name}: driver {driver:?} is not supported (berth has the bridge driver)"
            ));
        }
        let mut labels = network.labels.clone();
        labels.insert(labels::PROJECT.into(), self.project.name.clone());
        let key = self
            .desired
            .networks
            .values()
            .find(|n| n.name == name)
            .map(|n| n.key.clone())
            .unwrap_or_default();
        labels.insert(labels::RESOURCE.into(), key);
        let spec = NetworkSpec {
            name: name.to_string(),
            labels,
            internal: network.internal,
            enable_ipv6: network.enable_ipv6.unwrap_or(false),
            mtu: None,
            driver_opts: network.driver_opts.clone(),
            ipam: network
                .ipam
                .iter()
                .flat_map(|ipam| &ipam.config)
                .map(|pool| IpamPool {
                    subnet: pool.subnet.clone(),
                    ip_range: pool.ip_range.clone(),
                    gateway: pool.gateway.clone(),
                })
                .collect(),
        };
        self.networks
            .create(spec)
            .map(drop)
            .map_err(|e| e.to_string())
    }

    /// The container a `service:`/`container:` namespace reference names
    /// (replica 1 of a service) and its running first process.
    fn running_parent(
        &self,
        field: &str,
        target: &translate::NamespaceMode,
    ) -> Result<(String, i32), String> {
        let (mode, container) = self.peer_name(target);
        let state = self
            .runtime
            .state(&container)
            .map_err(|e| format!("{field} {mode}: {e}"))?;
        let pid = state
            .pid
            .filter(|_| state.status == berth_runtime::container::Status::Running)
            .ok_or_else(|| format!("{field} {mode}: container {container} is not running"))?;
        Ok((container, pid))
    }

    /// `service:NAME`/`container:NAME` as written, and the container it
    /// names (replica 1 of a service).
    fn peer_name(&self, target: &translate::NamespaceMode) -> (String, String) {
        match target {
            translate::NamespaceMode::Service(service) => (
                format!("service:{service}"),
                self.desired
                    .services
                    .get(service)
                    .map(|s| self.desired.container_name(s, 1))
                    .unwrap_or_default(),
            ),
            translate::NamespaceMode::Container(name) => {
                (format!("container:{name}"), name.clone())
            }
            translate::NamespaceMode::Private => ("private".into(), String::new()),
            translate::NamespaceMode::Host => ("host".into(), String::new()),
        }
    }

    fn create_container(&self, service_name: &str, number: u32, name: &str) -> Result<(), String> {
        self.create_container_as(service_name, number, name, false)
    }

    /// Creates a container of `service_name`; `one_off` marks it as made by
    /// `run` (label `oneoff=True`: no restart policy, not a replica).
    pub(crate) fn create_container_as(
        &self,
        service_name: &str,
        number: u32,
        name: &str,
        one_off: bool,
    ) -> Result<(), String> {
        let service = self
            .project
            .services
            .get(service_name)
            .ok_or_else(|| format!("service {service_name} is not in the project"))?;
        let (image, image_name) = self
            .images
            .get(service_name)
            .ok_or_else(|| format!("service {service_name}: no image"))?;
        let mut translated =
            translate::container_spec(self.project, service_name, service, number, name, self.host)
                .map_err(|e| e.to_string())?;
        if one_off {
            translated
                .spec
                .labels
                .insert(labels::ONEOFF.to_string(), "True".to_string());
            // `run -i`: the end of the caller's input is the container's.
            translated.spec.process.stdin_once = translated.spec.process.stdin_open;
        }
        // Until this container's record is written, no volume it mounts can
        // be removed (by `volume rm` or `down -v` of another project).
        let _volumes_in_use = self.volumes.lock_for_use().map_err(|e| e.to_string())?;
        let anonymous = self.mount_volumes(service_name, name, image, &mut translated)?;
        self.mount_volumes_from(service_name, service, &mut translated)?;
        // A missing bind source becomes a directory (as Docker does); an
        // existing file or directory is used as it is.
        for dir in translated
            .host_dirs
            .iter()
            .filter(|d| std::fs::symlink_metadata(d).is_err())
        {
            std::fs::create_dir_all(dir)
                .map_err(|e| format!("service {service_name}: creating {}: {e}", dir.display()))?;
        }
        let ports = std::mem::take(&mut translated.ports);
        if !ports.is_empty() {
            let supervisor = crate::supervisor::supervisor_pid(&self.run_dir, &self.project.name);
            check_ports_free(service_name, &ports, supervisor)?;
        }
        for warning in &translated.warnings {
            tracing::warn!("{warning}");
        }
        let id = new_id().map_err(|e| e.to_string())?;
        for join in &translated.joins {
            // The peer must exist now; it must run when this container
            // starts (the runtime joins its namespace then, each start).
            let (mode, container) = self.peer_name(&join.target);
            let peer = self
                .runtime
                .lookup(&container)
                .map_err(|e| format!("service {service_name}: {} {mode}: {e}", join.field))?;
            match join.field {
                "ipc" => translated.spec.ipc = Namespace::Container(peer.id),
                _ => translated.spec.pid = Namespace::Container(peer.id),
            }
        }
        let spec = &mut translated.spec;
        annotations::set_anonymous_volumes(spec, &anonymous);
        annotations::set_port_requests(spec, &ports);
        spec.id = Some(id.clone());
        let mut endpoints: Vec<Endpoint> = Vec::new();
        let mut network_parent = None;
        match &translated.network_mode {
            translate::NetworkMode::Host | translate::NetworkMode::None => {}
            translate::NetworkMode::Join(target) => {
                let (container, pid) = self.running_parent("network_mode", target)?;
                spec.network = NetworkNamespace::Join(PathBuf::from(format!("/proc/{pid}/ns/net")));
                network_parent = self.runtime.lookup(&container).ok();
            }
            translate::NetworkMode::Networks => {
                for attachment in &translated.attachments {
                    let network_name = self
                        .desired
                        .networks
                        .get(&attachment.key)
                        .map(|n| n.name.clone())
                        .ok_or_else(|| {
                            format!(
                                "service {service_name}: network {} is not in the project",
                                attachment.key
                            )
                        })?;
                    let (requested, mac) =
                        (attachment.ipv4_address, attachment.mac_address.clone());
                    match self.networks.allocate(&network_name, &id, requested, mac) {
                        Ok(endpoint) => endpoints.push(endpoint),
                        Err(err) => {
                            self.release(&endpoints, &id);
                            return Err(err.to_string());
                        }
                    }
                }
            }
        }
        let hostname = service
            .hostname
            .clone()
            .unwrap_or_else(|| id[..12].to_string());
        let gateway = endpoints.first().map(|e| IpAddr::V4(e.gateway));
        let mut extra = Vec::new();
        for entry in &translated.extra_hosts {
            let address = extra_host_address(&entry.address, gateway)
                .map_err(|e| format!("service {service_name}: {e}"))?;
            extra.push(HostEntry {
                address,
                names: vec![entry.host.clone()],
            });
        }
        let own: Vec<HostEntry> = endpoints
            .iter()
            .map(|e| HostEntry {
                address: IpAddr::V4(e.address),
                names: vec![hostname.clone()],
            })
            .collect();
        spec.etc_hosts = Some(hosts_file(&extra, &own));
        if !endpoints.is_empty() {
            // Names resolve through the supervisor's embedded DNS, which is
            // serving the container before its program starts.
            let host_resolv = &self.host.resolv_conf;
            spec.resolv_conf = Some(berth_runtime::dns::resolv::resolv_conf(
                host_resolv,
                &service.dns_search,
                &service.dns_opt,
            ));
            spec.start_gate = true;
            let aliases: BTreeMap<String, Vec<String>> = service
                .networks
                .iter()
                .filter_map(|(key, options)| {
                    let name = self.desired.networks.get(key)?.name.clone();
                    let names = options
                        .as_ref()
                        .map(|o| o.aliases.clone())
                        .unwrap_or_default();
                    Some((name, names))
                })
                .collect();
            let dns = DnsAnnotation {
                aliases,
                upstreams: if service.dns.is_empty() {
                    berth_runtime::dns::resolv::upstreams(host_resolv)
                        .iter()
                        .map(|s| s.to_string())
                        .collect()
                } else {
                    service.dns.iter().map(|d| format!("{d}:53")).collect()
                },
                internal: endpoints.iter().all(|e| e.internal),
                links: links_of(service),
            };
            self.check_links(service_name, &dns.links, &endpoints);
            annotations::set_dns(spec, &dns);
        }
        spec.hostname = Some(hostname);
        if let Some(parent) = network_parent {
            // As Docker does: a container in another's network namespace
            // takes that one's hostname, /etc/hosts and /etc/resolv.conf.
            spec.hostname = Some(parent.hostname);
            spec.domainname = parent.spec.domainname;
            spec.etc_hosts = parent.spec.etc_hosts;
            spec.resolv_conf = parent.spec.resolv_conf;
        }
        spec.endpoints = endpoints.clone();
        let spec = translated.spec;
        if let Err(err) = self.runtime.create(spec, image, Some(image_name)) {
            self.release(&endpoints, &id);
            return Err(err.to_string());
        }
        Ok(())
    }

    pub(crate) fn create_volume(&self, name: &str) -> Result<(), String> {
        let resource = self
            .desired
            .volumes
            .values()
            .find(|v| v.name == name)
            .ok_or_else(|| format!("volume {name} is not in the project"))?;
        let volume = self
            .project
            .volumes
            .get(&resource.key)
            .ok_or_else(|| format!("volume {name} is not in the project"))?;
        if let Some(driver) = volume.driver.as_deref().filter(|d| *d != "local") {
            return Err(format!(
                "volume {name}: driver {driver:?} is not supported (berth has the local driver)"
            ));
        }
        let mut labels = volume.labels.clone();
        labels.insert(labels::PROJECT.into(), self.project.name.clone());
        labels.insert(labels::RESOURCE.into(), resource.key.clone());
        self.volumes
            .create(name, labels, volume.driver_opts.clone())
            .map(drop)
            .map_err(|e| e.to_string())
    }

    /// Turns the service's volume uses (and the image's `VOLUME`s) into
    /// mounts, filling empty volumes from the image; returns the anonymous
    /// volumes by mount target.
    fn mount_volumes(
        &self,
        service_name: &str,
        container_name: &str,
        image: &ResolvedImage,
        translated: &mut translate::Translated,
    ) -> Result<BTreeMap<String, String>, String> {
        let mut uses = translated.volumes.clone();
        let taken: Vec<String> = uses
            .iter()
            .map(|u| u.target.clone())
            .chain(
                translated
                    .spec
                    .mounts
                    .iter()
                    .map(|m| m.target().to_string()),
            )
            .collect();
        let image_volumes = image
            .config
            .config()
            .as_ref()
            .and_then(|c| c.volumes().clone())
            .unwrap_or_default();
        for path in image_volumes {
            if !taken.contains(&path) {
                uses.push(translate::VolumeUse {
                    name: None,
                    target: path,
                    read_only: false,
                    nocopy: false,
                });
            }
        }
        // Anonymous volumes of the container being replaced are reused.
        let previous: BTreeMap<String, String> = if self.renew_anon_volumes {
            BTreeMap::new()
        } else {
            self.runtime
                .lookup(container_name)
                .ok()
                .map(|record| annotations::anonymous_volumes(&record.spec))
                .unwrap_or_default()
        };
        let mut anonymous = BTreeMap::new();
        for volume_use in uses {
            let name = match &volume_use.name {
                Some(name) => name.clone(),
                None => match previous
                    .get(&volume_use.target)
                    .filter(|n| self.volumes.get(n).is_ok())
                {
                    Some(name) => name.clone(),
                    None => {
                        let mut labels = BTreeMap::new();
                        labels.insert(labels::PROJECT.to_string(), self.project.name.clone());
                        labels.insert(labels::SERVICE.to_string(), service_name.to_string());
                        self.volumes
                            .create_anonymous(labels)
                            .map_err(|e| e.to_string())?
                            .name
                    }
                },
            };
            if volume_use.name.is_none() {
                anonymous.insert(volume_use.target.clone(), name.clone());
            }
            let record = self.volumes.get(&name).map_err(|e| e.to_string())?;
            let empty = std::fs::read_dir(&record.mountpoint)
                .map(|mut d| d.next().is_none())
                .unwrap_or(false);
            if !volume_use.nocopy
                && !record.initialized
                && empty
                && !record.options.contains_key("type")
            {
                berth_runtime::volume::copyup::copy_up(
                    &image.layers,
                    &volume_use.target,
                    &record.mountpoint,
                )
                .map_err(|e| {
                    format!(
                        "volume {name}: filling it from the image at {}: {e}",
                        volume_use.target
                    )
                })?;
            }
            if !record.initialized {
                let _ = self.volumes.mark_initialized(&name);
            }
            let mount = self
                .volumes
                .mount_for(&name, &volume_use.target, volume_use.read_only)
                .map_err(|e| e.to_string())?;
            translated.spec.mounts.push(mount);
        }
        Ok(anonymous)
    }

    /// `volumes_from: [service:NAME[:ro|rw], container:NAME[:ro|rw]]`: the
    /// other container's mounts, read-only when asked.
    fn mount_volumes_from(
        &self,
        service_name: &str,
        service: &crate::compose::model::Service,
        translated: &mut translate::Translated,
    ) -> Result<(), String> {
        for entry in &service.volumes_from {
            let (kind, rest) = match entry.split_once(':') {
                Some(("container", rest)) => ("container", rest),
                Some(("service", rest)) => ("service", rest),
                _ => ("service", entry.as_str()),
            };
            let (source, mode) = match rest.rsplit_once(':') {
                Some((source, mode @ ("ro" | "rw"))) => (source, mode),
                _ => (rest, "rw"),
            };
            let container = if kind == "service" {
                self.desired
                    .services
                    .get(source)
                    .map(|s| self.desired.container_name(s, 1))
                    .ok_or_else(|| {
                        format!(
                            "service {service_name}: volumes_from {entry:?}: no service {source}"
                        )
                    })?
            } else {
                source.to_string()
            };
            let record = self
                .runtime
                .lookup(&container)
                .map_err(|e| format!("service {service_name}: volumes_from {entry:?}: {e}"))?;
            for mount in record.spec.mounts {
                let taken = translated
                    .spec
                    .mounts
                    .iter()
                    .any(|m| m.target() == mount.target());
                if taken {
                    continue;
                }
                let mount = match mount {
                    berth_runtime::container::Mount::Bind {
                        source,
                        target,
                        read_only,
                        propagation,
                        recursive,
                    } => berth_runtime::container::Mount::Bind {
                        source,
                        target,
                        read_only: read_only || mode == "ro",
                        propagation,
                        recursive,
                    },
                    // A tmpfs belongs to its container; nothing to share.
                    berth_runtime::container::Mount::Tmpfs { .. } => continue,
                };
                translated.spec.mounts.push(mount);
            }
        }
        Ok(())
    }

    /// Warns about links that cannot resolve: a service that shares no
    /// network with this one; an `external_links` container that does not
    /// exist (Docker refuses it; here the name resolves as soon as such a
    /// container runs on a network the linking one is on: the supervisor
    /// looks at every pass) or shares no network.
    fn check_links(&self, service_name: &str, links: &[Link], endpoints: &[Endpoint]) {
        for link in links {
            let target = match &link.target {
                LinkTarget::Service(target) => {
                    // (One in another's network namespace is not judged.)
                    let shared = self.project.services.get(target).is_none_or(|other| {
                        other.network_mode.is_some()
                            || other.networks.keys().any(|key| {
                                self.desired.networks.get(key).is_some_and(|n| {
                                    endpoints.iter().any(|own| own.network == n.name)
                                })
                            })
                    });
                    if !shared {
                        eprintln!(
                            "warning: service {service_name}: links {target}: the services share no network; {:?} will not resolve",
                            link.alias
                        );
                    }
                    continue;
                }
                LinkTarget::Container(target) => target,
            };
            let problem = match self.runtime.lookup(target) {
                Err(_) => Some("no such container".to_string()),
                Ok(record)
                    if !record
                        .spec
                        .endpoints
                        .iter()
                        .any(|e| endpoints.iter().any(|own| own.network == e.network)) =>
                {
                    Some(format!(
                        "container {target} shares no network with the service"
                    ))
                }
                Ok(_) => None,
            };
            if let Some(problem) = problem {
                eprintln!(
                    "warning: service {service_name}: external_links {target}: {problem}; {:?} will not resolve until it does",
                    link.alias
                );
            }
        }
    }

    fn release(&self, endpoints: &[Endpoint], id: &str) {
        for endpoint in endpoints {
            let _ = self.networks.release(&endpoint.network, id);
        }
    }

    pub(crate) fn remove_container(&self, name: &str) -> Result<(), String> {
        let record = self.runtime.lookup(name).map_err(|e| e.to_string())?;
        self.runtime.delete(name, true).map_err(|e| e.to_string())?;
        self.release(&record.spec.endpoints, &record.id);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_and_external_links_parse_with_their_aliases() {
        let service: crate::compose::model::Service = serde_json::from_value(serde_json::json!({
            "image": "busybox",
            "links": ["db", "cache:memo"],
            "external_links": ["other-db-1", "legacy_redis_1:redis"],
        }))
        .unwrap();
        let link = |target, alias: &str| Link {
            target,
            alias: alias.to_string(),
        };
        assert_eq!(
            links_of(&service),
            [
                link(LinkTarget::Service("db".into()), "db"),
                link(LinkTarget::Service("cache".into()), "memo"),
                link(LinkTarget::Container("other-db-1".into()), "other-db-1"),
                link(LinkTarget::Container("legacy_redis_1".into()), "redis"),
            ]
        );
        // Kept in the DNS annotation; one without links reads as before.
        let annotation = DnsAnnotation {
            links: links_of(&service),
            ..DnsAnnotation::default()
        };
        let text = serde_json::to_string(&annotation).unwrap();
        assert!(
            text.contains(r#"{"target":{"service":"cache"},"alias":"memo"}"#),
            "{text}"
        );
        let old: DnsAnnotation =
            serde_json::from_str(r#"{"aliases":{},"upstreams":[],"internal":false}"#).unwrap();
        assert!(old.links.is_empty());
    }
}
