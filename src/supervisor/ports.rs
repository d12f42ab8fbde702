//! Port publication: the supervisor's proxies for each container's `ports:`.
//! The reconciler stores the requests on the container
//! ([`annotations::port_requests`]); here they are published with the
//! runtime's proxies ([`berth_runtime::ports::publish_all`]) towards the
//! container's first address as soon as it runs or waits at its start gate,
//! recorded in `ports/ID.json` ([`state_files::write_ports`]) for `ps` and
//! `port`, and closed once it exits or goes.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::Path;

use berth_runtime::container::{ContainerInfo, Runtime};
use berth_runtime::ports::{publish_all, PortError, PortMapping, Publication};

use super::live::{live_pid, names_of, pending_gates, still_serves};
use super::state_files;
use crate::contract::annotations::{self, PortRequest};

/// Published ports, per container, while it runs (or is about to).
#[derive(Default)]
pub struct PortsState {
    /// container ID -> (namespace PID, publication)
    published: BTreeMap<String, (i32, Publication)>,
}

impl PortsState {
    /// The names of the containers whose ports are published now.
    pub fn published_names(&self, containers: &[ContainerInfo]) -> Vec<String> {
        names_of(self.published.keys(), containers)
    }

    /// Closes the ports of containers that stopped serving and publishes
    /// those of containers that run (or wait at their gate) without them.
    pub fn converge(
        &mut self,
        runtime: &Runtime,
        run_dir: &Path,
        project: &str,
        containers: &[ContainerInfo],
    ) {
        let pending = pending_gates(runtime, containers);
        let live: Vec<(&ContainerInfo, i32, Vec<PortRequest>)> = containers
            .iter()
            .filter_map(|c| {
                let requests = annotations::port_requests(&c.record.spec)?;
                Some((c, live_pid(c, &pending)?, requests))
            })
            .collect();
        let before: Vec<String> = self.published.keys().cloned().collect();
        let live_pids: Vec<(&String, i32)> =
            live.iter().map(|(c, p, _)| (&c.record.id, *p)).collect();
        self.published
            .retain(|id, (pid, _)| still_serves(id, *pid, containers, &live_pids));
        for gone in before.iter().filter(|id| !self.published.contains_key(*id)) {
            state_files::remove_ports(run_dir, project, gone);
        }
        for (info, pid, requests) in live {
            if self.published.contains_key(&info.record.id) {
                continue;
            }
            let Some(address) = info.record.spec.endpoints.first().map(|e| e.address) else {
                continue;
            };
            match publish(&requests, address) {
                Ok(publication) => {
                    state_files::write_ports(run_dir, project, &info.record.id, &publication.ports);
                    self.published
                        .insert(info.record.id.clone(), (pid, publication));
                }
                Err(err) => eprintln!(
                    "supervisor: publishing ports of {}: {err}",
                    info.record.name
                ),
            }
        }
    }
}

/// Publishes the requests towards `address`; a range takes its first free port.
fn publish(requests: &[PortRequest], address: Ipv4Addr) -> Result<Publication, PortError> {
    let mut mappings = Vec::new();
    for request in requests {
        let target = SocketAddr::new(IpAddr::V4(address), request.target);
        let candidates: Vec<Option<u16>> = if request.host_ports.is_empty() {
            vec![None]
        } else {
            request.host_ports.iter().map(|p| Some(*p)).collect()
        };
        let mut chosen = None;
        for candidate in &candidates {
            let mapping = PortMapping {
                host_ip: request.host_ip,
                host_port: *candidate,
                protocol: request.protocol,
                target,
            };
            if candidates.len() == 1 || publish_all(std::slice::from_ref(&mapping)).is_ok() {
                chosen = Some(mapping);
                break;
            }
        }
        mappings.push(chosen.unwrap_or(PortMapping {
            host_ip: request.host_ip,
            host_port: candidates[0],
            protocol: request.protocol,
            target,
        }));
    }
    publish_all(&mappings)
}
