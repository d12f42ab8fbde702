//! The [`Engine`] over berth's runtime: the executor's actions become
//! network, volume and container operations. It keeps only the I/O: a
//! service becomes a container spec through [`translate`] (pure, host facts
//! passed in); the engine creates volumes ([`volumes`]), allocates addresses
//! on the networks and writes what names resolve through ([`network`]),
//! checks published ports are free ([`ports`]), records what the supervisor
//! needs through the contract's annotations ([`container`]), waits for
//! dependencies ([`dependencies`]), and gives addresses back when a container
//! goes. Every step fails with an [`EngineError`].

mod container;
mod dependencies;
pub mod error;
mod network;
mod ports;
mod volumes;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use berth_runtime::container::Runtime;
use berth_runtime::image::ResolvedImage;
use berth_runtime::network::{Endpoint, NetworkStore};
use berth_runtime::volume::VolumeStore;

pub use error::EngineError;
pub use network::links_of;

use super::desired::DesiredState;
use super::executor::Engine;
use super::plan::Action;
use super::translate;
use crate::compose::model::Project;
use crate::error_text::chain_text;

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
    fn run(&self, action: &Action) -> Result<(), EngineError> {
        match action {
            Action::CreateNetwork { name } => self.create_network(name),
            Action::CreateVolume { name } => self.create_volume(name),
            Action::CreateContainer {
                service,
                number,
                name,
            } => self.create_container_as(service, *number, name, false),
            Action::StartContainer { name } => {
                // Its start gate, DNS and ports are the supervisor's: ask it
                // to act as soon as the container waits at the gate.
                // Then its post_start hooks: one failing fails the step
                // (the container runs on, as with docker compose).
                super::hooks::start(&self.runtime, name, || {
                    crate::supervisor::converge_now(&self.run_dir, &self.project.name)
                })?;
                Ok(())
            }
            // Its pre_stop hooks first (a failure is a warning).
            Action::StopContainer { name } => {
                super::hooks::stop(&self.runtime, name, self.stop_timeout)?;
                Ok(())
            }
            Action::RemoveContainer { name } => self.remove_container(name),
            Action::RenameContainer { from, to } => {
                self.runtime.rename(from, to)?;
                Ok(())
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
fn optional(
    required: bool,
    name: &str,
    result: Result<(), EngineError>,
) -> Result<(), EngineError> {
    match result {
        Err(err) if !required => {
            eprintln!("warning: optional dependency {name}: {}", chain_text(&err));
            Ok(())
        }
        other => other,
    }
}

/// A project network or volume the plan names: its key in the file and
/// the definition there, the driver checked (berth has one of each kind)
/// and the labels berth adds.
struct ProjectResource<'a, T> {
    definition: &'a T,
    labels: BTreeMap<String, String>,
}

impl RuntimeEngine<'_> {
    fn project_resource<'a, T>(
        &'a self,
        kind: &'static str,
        name: &str,
        desired: &'a BTreeMap<String, super::desired::DesiredResource>,
        defined: &'a BTreeMap<String, T>,
        shape: impl Fn(&T) -> (Option<&str>, &BTreeMap<String, String>),
        supported: &'static str,
    ) -> Result<ProjectResource<'a, T>, EngineError> {
        let not_in_project = || EngineError::NotInProject {
            kind,
            name: name.to_string(),
        };
        let resource = desired
            .values()
            .find(|r| r.name == name)
            .ok_or_else(not_in_project)?;
        let definition = defined.get(&resource.key).ok_or_else(not_in_project)?;
        let (driver, labels) = shape(definition);
        if let Some(driver) = driver.filter(|d| *d != supported) {
            return Err(EngineError::UnsupportedDriver {
                kind,
                name: name.to_string(),
                driver: driver.to_string(),
                supported,
            });
        }
        let mut labels = labels.clone();
        labels.insert(
            crate::contract::labels::PROJECT.into(),
            self.project.name.clone(),
        );
        labels.insert(
            crate::contract::labels::RESOURCE.into(),
            resource.key.clone(),
        );
        Ok(ProjectResource { definition, labels })
    }

    fn release(&self, endpoints: &[Endpoint], id: &str) {
        for endpoint in endpoints {
            let _ = self.networks.release(&endpoint.network, id);
        }
    }

    pub(crate) fn remove_container(&self, name: &str) -> Result<(), EngineError> {
        let record = self.runtime.lookup(name)?;
        self.runtime.delete(name, true)?;
        self.release(&record.spec.endpoints, &record.id);
        Ok(())
    }
}
