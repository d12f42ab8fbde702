//! What the project asks for, in the terms the planner compares: container
//! names, replica counts, config hashes, image IDs, networks and volumes
//! with their final names.

use std::collections::BTreeMap;

use crate::compose::hash::service_config_hash;
use crate::compose::model::service::DependencyCondition;
use crate::compose::model::{Project, Service};

/// One service as the planner sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct DesiredService {
    pub name: String,
    pub replicas: u32,
    /// Fixed name (`container_name`), else `{project}-{service}-{n}`.
    pub container_name: Option<String>,
    pub config_hash: String,
    /// The normalized configuration (for "environment changed" reasons).
    pub config: serde_json::Value,
    /// The image ID the service would run now, when known.
    pub image_id: Option<String>,
    /// Network names (final) the service is on.
    pub networks: Vec<String>,
    /// Named volumes (final names) the service mounts.
    pub volumes: Vec<String>,
    /// Services whose recreation forces this one's: `network_mode`/`ipc`/`pid`
    /// `service:` and `volumes_from`.
    pub shares_with: Vec<String>,
    /// `depends_on` entries with `restart: true`.
    pub restart_with: Vec<String>,
    /// `depends_on` entries whose condition must be waited for:
    /// (service, condition, required).
    pub waits_for: Vec<(String, WaitCondition, bool)>,
    /// Digests of its secrets' and configs' contents (`secret db_pass` ->
    /// SHA-256), once read (see [`DesiredState::set_files`]); `None`: not
    /// compared.
    pub files: Option<BTreeMap<String, String>>,
}

/// A `depends_on` condition that needs waiting for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WaitCondition {
    Healthy,
    CompletedSuccessfully,
}

/// A network or volume the project uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DesiredResource {
    /// The key in the compose file (`default`, `db-data`).
    pub key: String,
    /// The name on the host (`demo_default`, or `name:`).
    pub name: String,
    pub external: bool,
}

/// The whole desired state.
#[derive(Debug, Clone, PartialEq)]
pub struct DesiredState {
    pub project: String,
    pub services: BTreeMap<String, DesiredService>,
    pub networks: BTreeMap<String, DesiredResource>,
    pub volumes: BTreeMap<String, DesiredResource>,
}

impl DesiredState {
    /// Builds it from a loaded project. `scale` overrides replica counts
    /// (`--scale web=3`); `image_ids` gives each service's current image ID.
    pub fn from_project(
        project: &Project,
        scale: &BTreeMap<String, u32>,
        image_ids: &BTreeMap<String, String>,
    ) -> DesiredState {
        let resource = |key: &String, name: &Option<String>, external: bool| {
            let name = name
                .clone()
                .unwrap_or_else(|| format!("{}_{key}", project.name));
            let resource = DesiredResource {
                key: key.clone(),
                name,
                external,
            };
            (key.clone(), resource)
        };
        let networks: BTreeMap<String, DesiredResource> = project
            .networks
            .iter()
            .map(|(key, n)| resource(key, &n.name, n.external))
            .collect();
        let volumes: BTreeMap<String, DesiredResource> = project
            .volumes
            .iter()
            .map(|(key, v)| resource(key, &v.name, v.external))
            .collect();
        let services = project
            .services
            .iter()
            .map(|(name, service)| {
                let desired = DesiredService {
                    name: name.clone(),
                    replicas: scale
                        .get(name)
                        .copied()
                        .unwrap_or_else(|| replicas(service)),
                    container_name: service.container_name.clone(),
                    config_hash: service_config_hash(service),
                    config: serde_json::to_value(service).unwrap_or_default(),
                    image_id: image_ids.get(name).cloned(),
                    networks: service
                        .networks
                        .keys()
                        .filter_map(|key| networks.get(key).map(|n| n.name.clone()))
                        .collect(),
                    volumes: service
                        .volumes
                        .iter()
                        .filter_map(|v| v.source.as_ref())
                        .filter_map(|source| volumes.get(source).map(|v| v.name.clone()))
                        .collect(),
                    shares_with: shared_namespaces(service),
                    restart_with: service
                        .depends_on
                        .iter()
                        .filter(|(_, dep)| dep.restart)
                        .map(|(name, _)| name.clone())
                        .collect(),
                    waits_for: service
                        .depends_on
                        .iter()
                        .filter_map(|(name, dep)| {
                            let condition = match dep.condition {
                                DependencyCondition::ServiceHealthy => WaitCondition::Healthy,
                                DependencyCondition::ServiceCompletedSuccessfully => {
                                    WaitCondition::CompletedSuccessfully
                                }
                                DependencyCondition::ServiceStarted => return None,
                            };
                            Some((name.clone(), condition, dep.required))
                        })
                        .collect(),
                    files: None,
                };
                (name.clone(), desired)
            })
            .collect();
        DesiredState {
            project: project.name.clone(),
            services,
            networks,
            volumes,
        }
    }

    /// Sets the digests of services' secrets and configs (from
    /// [`super::files::service_digests`]), so that a changed content
    /// recreates their containers.
    pub fn set_files(&mut self, digests: BTreeMap<String, BTreeMap<String, String>>) {
        for (name, files) in digests {
            if let Some(service) = self.services.get_mut(&name) {
                service.files = Some(files);
            }
        }
    }

    /// The name of replica `number` of `service`.
    pub fn container_name(&self, service: &DesiredService, number: u32) -> String {
        service
            .container_name
            .clone()
            .unwrap_or_else(|| format!("{}-{}-{number}", self.project, service.name))
    }
}

/// `scale`, else `deploy.replicas`, else 1.
fn replicas(service: &Service) -> u32 {
    service
        .scale
        .or_else(|| service.deploy.as_ref().and_then(|d| d.replicas))
        .unwrap_or(1)
}

fn shared_namespaces(service: &Service) -> Vec<String> {
    let mut shared: Vec<String> = [&service.network_mode, &service.ipc, &service.pid]
        .into_iter()
        .filter_map(|mode| {
            mode.as_deref()?
                .strip_prefix("service:")
                .map(str::to_string)
        })
        .collect();
    for from in &service.volumes_from {
        if !from.starts_with("container:") {
            shared.push(from.split(':').next().unwrap_or(from).to_string());
        }
    }
    shared.sort();
    shared.dedup();
    shared
}
