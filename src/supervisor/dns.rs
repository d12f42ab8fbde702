//! The project's embedded DNS, served by the supervisor inside each
//! container's network namespace: one table of names (each container's
//! service, name, hostname and aliases per network, from the reconciler's
//! [`annotations::dns`]), the legacy links each container alone resolves,
//! and one serving handle per live container. A container waiting at its
//! start gate has its gate opened here, once its names are in the table.

use std::collections::BTreeMap;
use std::path::PathBuf;

use berth_runtime::container::{ContainerInfo, Runtime, Status};
use berth_runtime::dns::{DnsLink, DnsRecord, DnsServer, DnsTable, Querier, ServingHandle};

use super::live::{live_pid, names_of, pending_gates, still_serves};
use crate::contract::annotations::{self, LinkTarget};
use crate::contract::labels;

/// The embedded DNS for the project: one table, one serving handle per
/// container namespace.
#[derive(Default)]
pub struct DnsState {
    server: DnsServer,
    records: Vec<DnsRecord>,
    links: Vec<DnsLink>,
    /// container ID -> (namespace PID, handle)
    serving: BTreeMap<String, (i32, ServingHandle)>,
}

impl DnsState {
    /// The names of the containers the DNS is served to now.
    pub fn served_names(&self, containers: &[ContainerInfo]) -> Vec<String> {
        names_of(self.serving.keys(), containers)
    }

    /// Serves every live container with endpoints, updates the table, then
    /// opens the start gates waiting for it. `containers`: the project's;
    /// `all`: every container (for `external_links`).
    pub fn converge(
        &mut self,
        runtime: &Runtime,
        containers: &[ContainerInfo],
        all: &[ContainerInfo],
    ) {
        let pending = pending_gates(runtime, containers);
        // Containers that run (or are about to) and have endpoints.
        let live: Vec<(&ContainerInfo, i32)> = containers
            .iter()
            .filter(|c| !c.record.spec.endpoints.is_empty())
            .filter_map(|c| Some((c, live_pid(c, &pending)?)))
            .collect();
        let live_pids: Vec<(&String, i32)> = live.iter().map(|(c, p)| (&c.record.id, *p)).collect();
        self.serving
            .retain(|id, (pid, _)| still_serves(id, *pid, containers, &live_pids));
        for (info, pid) in &live {
            if !self.serving.contains_key(&info.record.id) {
                match serve(&self.server, info, *pid) {
                    Ok(handle) => {
                        self.serving.insert(info.record.id.clone(), (*pid, handle));
                    }
                    Err(err) => eprintln!("supervisor: DNS for {}: {err}", info.record.name),
                }
            }
        }
        self.update_table(containers, all, &live_pids);
        // Only now, with the names in the table, may the programs start.
        for (info, _) in &live {
            if pending.contains_key(&info.record.id) {
                let _ = runtime.open_gate(&info.record.id);
            }
        }
    }

    /// Names: every container live now or still served (one between its
    /// start gate and its recorded start is briefly neither pending nor
    /// running, and must not drop out of the answers).
    fn update_table(
        &mut self,
        containers: &[ContainerInfo],
        all: &[ContainerInfo],
        live_pids: &[(&String, i32)],
    ) {
        let named: Vec<&ContainerInfo> = containers
            .iter()
            .filter(|c| {
                live_pids.iter().any(|(id, _)| **id == c.record.id)
                    || self.serving.contains_key(&c.record.id)
            })
            .collect();
        let records: Vec<DnsRecord> = named.iter().copied().flat_map(dns_records).collect();
        let links: Vec<DnsLink> = named
            .iter()
            .flat_map(|c| dns_links(c, containers, all))
            .collect();
        if records != self.records || links != self.links {
            self.server.update(DnsTable::with_links(&records, &links));
            self.records = records;
            self.links = links;
        }
    }
}

/// Whether the container is a one-off (`run`): it answers to its own names
/// only, and no link to its service reaches it.
fn is_one_off(info: &ContainerInfo) -> bool {
    info.record
        .spec
        .labels
        .get(labels::ONEOFF)
        .map(String::as_str)
        == Some("True")
}

/// The names a container answers to, per network it is on.
fn dns_records(info: &ContainerInfo) -> Vec<DnsRecord> {
    let annotation = annotations::dns(&info.record.spec);
    info.record
        .spec
        .endpoints
        .iter()
        .map(|endpoint| {
            let mut names = Vec::new();
            if let Some(service) = info
                .record
                .spec
                .labels
                .get(labels::SERVICE)
                .filter(|_| !is_one_off(info))
            {
                names.push(service.clone());
            }
            names.push(info.record.name.clone());
            names.push(info.record.hostname.clone());
            names.extend(
                annotation
                    .aliases
                    .get(&endpoint.network)
                    .cloned()
                    .unwrap_or_default(),
            );
            DnsRecord {
                network: endpoint.network.clone(),
                names,
                address: endpoint.address,
                container_id: info.record.id.clone(),
            }
        })
        .collect()
}

/// The names a container's legacy links give it (and only it): each
/// running target's addresses on the networks the linking container is
/// on. `containers`: the project's; `all`: every container (an
/// `external_links` target may belong to another project or none).
fn dns_links(
    info: &ContainerInfo,
    containers: &[ContainerInfo],
    all: &[ContainerInfo],
) -> Vec<DnsLink> {
    let annotation = annotations::dns(&info.record.spec);
    let networks: Vec<&String> = info
        .record
        .spec
        .endpoints
        .iter()
        .map(|e| &e.network)
        .collect();
    annotation
        .links
        .iter()
        .map(|link| {
            let targets: Vec<&ContainerInfo> = match &link.target {
                LinkTarget::Service(service) => containers
                    .iter()
                    .filter(|c| {
                        c.record.spec.labels.get(labels::SERVICE) == Some(service) && !is_one_off(c)
                    })
                    .collect(),
                LinkTarget::Container(name) => {
                    all.iter().filter(|c| &c.record.name == name).collect()
                }
            };
            let addresses = targets
                .into_iter()
                .filter(|c| c.state.status == Status::Running)
                .flat_map(|c| &c.record.spec.endpoints)
                .filter(|e| networks.contains(&&e.network))
                .map(|e| e.address)
                .collect();
            DnsLink {
                asker: info.record.id.clone(),
                name: link.alias.clone(),
                addresses,
            }
        })
        .collect()
}

/// Serves the embedded DNS inside the namespace of `pid`.
fn serve(server: &DnsServer, info: &ContainerInfo, pid: i32) -> Result<ServingHandle, String> {
    let annotation = annotations::dns(&info.record.spec);
    let querier = Querier {
        container_id: info.record.id.clone(),
        networks: info
            .record
            .spec
            .endpoints
            .iter()
            .map(|e| e.network.clone())
            .collect(),
        upstreams: annotation
            .upstreams
            .iter()
            .filter_map(|u| u.parse().ok())
            .collect(),
        internal: annotation.internal,
    };
    server.serve_container(&PathBuf::from(format!("/proc/{pid}/ns/net")), querier)
}
