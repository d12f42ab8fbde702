//! A container's place on the project's networks: creating a network,
//! allocating the container's endpoints (or joining another container's
//! namespace), and what its names resolve through: `/etc/hosts`,
//! `/etc/resolv.conf` and the DNS annotation the supervisor serves from.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::PathBuf;

use berth_runtime::container::etc_files::{extra_host_address, hosts_file, HostEntry};
use berth_runtime::container::{ContainerRecord, ContainerSpec, NetworkNamespace};
use berth_runtime::network::{Endpoint, IpamPool, NetworkSpec};

use super::{EngineError, ProjectResource, RuntimeEngine};
use crate::compose::model::Service;
use crate::contract::annotations::{self, DnsAnnotation, Link, LinkTarget};
use crate::reconcile::translate::{NamespaceMode, NetworkMode, Translated};

/// `links: [SERVICE[:ALIAS]]` and `external_links: [CONTAINER[:ALIAS]]`
/// (the alias is the target's name when not given).
pub fn links_of(service: &Service) -> Vec<Link> {
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

/// Where a new container's network namespace comes from.
pub(super) struct Attached {
    /// Its own endpoints (to give back if the container is not made).
    pub endpoints: Vec<Endpoint>,
    /// The container whose namespace it joins (`network_mode:
    /// service:`/`container:`), whose names it takes.
    pub parent: Option<ContainerRecord>,
}

impl RuntimeEngine<'_> {
    pub(crate) fn create_network(&self, name: &str) -> Result<(), EngineError> {
        let ProjectResource {
            definition: network,
            labels,
        } = self.project_resource(
            "network",
            name,
            &self.desired.networks,
            &self.project.networks,
            |n| (n.driver.as_deref(), &n.labels),
            "bridge",
        )?;
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
        self.networks.create(spec)?;
        Ok(())
    }

    /// Gives the container `id` its network namespace: endpoints on each
    /// network it attaches to, or the namespace of the container it joins.
    pub(super) fn attach_networks(
        &self,
        service_name: &str,
        id: &str,
        translated: &mut Translated,
    ) -> Result<Attached, EngineError> {
        let mut attached = Attached {
            endpoints: Vec::new(),
            parent: None,
        };
        match &translated.network_mode {
            NetworkMode::Host | NetworkMode::None => {}
            NetworkMode::Join(target) => {
                let (container, pid) = self.running_parent(service_name, "network_mode", target)?;
                translated.spec.network =
                    NetworkNamespace::Join(PathBuf::from(format!("/proc/{pid}/ns/net")));
                attached.parent = self.runtime.lookup(&container).ok();
            }
            NetworkMode::Networks => {
                for attachment in &translated.attachments {
                    let Some(network) = self.desired.networks.get(&attachment.key) else {
                        self.release(&attached.endpoints, id);
                        return Err(EngineError::service(
                            service_name,
                            "networks",
                            format!("network {} is not in the project", attachment.key),
                        ));
                    };
                    let (requested, mac) =
                        (attachment.ipv4_address, attachment.mac_address.clone());
                    match self.networks.allocate(&network.name, id, requested, mac) {
                        Ok(endpoint) => attached.endpoints.push(endpoint),
                        Err(err) => {
                            self.release(&attached.endpoints, id);
                            return Err(err.into());
                        }
                    }
                }
            }
        }
        Ok(attached)
    }

    /// The container's hostname, `/etc/hosts` and `/etc/resolv.conf`, and
    /// (with endpoints) the DNS annotation its names are served from; one
    /// in another's namespace takes that one's.
    pub(super) fn name_resolution(
        &self,
        service_name: &str,
        service: &Service,
        translated: &mut Translated,
        attached: &Attached,
    ) -> Result<(), EngineError> {
        let id = translated.spec.id.clone().unwrap_or_default();
        let hostname = service
            .hostname
            .clone()
            .unwrap_or_else(|| id.chars().take(12).collect());
        let endpoints = &attached.endpoints;
        let gateway = endpoints.first().map(|e| IpAddr::V4(e.gateway));
        let mut extra = Vec::new();
        for entry in &translated.extra_hosts {
            let address = extra_host_address(&entry.address, gateway)
                .map_err(|message| EngineError::service(service_name, "extra_hosts", message))?;
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
        let spec = &mut translated.spec;
        spec.etc_hosts = Some(hosts_file(&extra, &own));
        if !endpoints.is_empty() {
            self.serve_names(service_name, service, spec, endpoints);
        }
        spec.hostname = Some(hostname);
        if let Some(parent) = &attached.parent {
            // As Docker does: a container in another's network namespace
            // takes that one's hostname, /etc/hosts and /etc/resolv.conf.
            spec.hostname = Some(parent.hostname.clone());
            spec.domainname = parent.spec.domainname.clone();
            spec.etc_hosts = parent.spec.etc_hosts.clone();
            spec.resolv_conf = parent.spec.resolv_conf.clone();
        }
        spec.endpoints = endpoints.clone();
        Ok(())
    }

    /// Names resolve through the supervisor's embedded DNS, which is
    /// serving the container before its program starts (the start gate).
    fn serve_names(
        &self,
        service_name: &str,
        service: &Service,
        spec: &mut ContainerSpec,
        endpoints: &[Endpoint],
    ) {
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
        self.check_links(service_name, &dns.links, endpoints);
        annotations::set_dns(spec, &dns);
    }

    /// The container a `service:`/`container:` namespace reference names
    /// (replica 1 of a service) and its running first process.
    pub(super) fn running_parent(
        &self,
        service_name: &str,
        field: &str,
        target: &NamespaceMode,
    ) -> Result<(String, i32), EngineError> {
        let (mode, container) = self.peer_name(target);
        let in_field = |message: String| EngineError::service(service_name, field, message);
        let state = self
            .runtime
            .state(&container)
            .map_err(|e| in_field(format!("{mode}: {e}")))?;
        let pid = state
            .pid
            .filter(|_| state.status == berth_runtime::container::Status::Running)
            .ok_or_else(|| in_field(format!("{mode}: container {container} is not running")))?;
        Ok((container, pid))
    }

    /// `service:NAME`/`container:NAME` as written, and the container it
    /// names (replica 1 of a service).
    pub(super) fn peer_name(&self, target: &NamespaceMode) -> (String, String) {
        match target {
            NamespaceMode::Service(service) => (
                format!("service:{service}"),
                self.desired
                    .services
                    .get(service)
                    .map(|s| self.desired.container_name(s, 1))
                    .unwrap_or_default(),
            ),
            NamespaceMode::Container(name) => (format!("container:{name}"), name.clone()),
            NamespaceMode::Private => ("private".into(), String::new()),
            NamespaceMode::Host => ("host".into(), String::new()),
        }
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
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_and_external_links_parse_with_their_aliases() {
        let service: Service = serde_json::from_value(serde_json::json!({
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
