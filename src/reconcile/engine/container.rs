//! Making one container of a service: the translated spec, then the I/O in
//! order (volumes, bind sources, ports check, namespaces to join, network
//! endpoints, name resolution) and the runtime's create. Whatever was
//! allocated is given back when a later step fails.

use std::path::PathBuf;

use berth_runtime::container::{new_id, Namespace};

use super::ports::check_ports_free;
use super::{EngineError, RuntimeEngine};
use crate::contract::{annotations, labels};
use crate::reconcile::translate::{self, Translated};

impl RuntimeEngine<'_> {
    /// Creates a container of `service_name`; `one_off` marks it as made by
    /// `run` (label `oneoff=True`: no restart policy, not a replica).
    pub(crate) fn create_container_as(
        &self,
        service_name: &str,
        number: u32,
        name: &str,
        one_off: bool,
    ) -> Result<(), EngineError> {
        let service =
            self.project
                .services
                .get(service_name)
                .ok_or_else(|| EngineError::NotInProject {
                    kind: "service",
                    name: service_name.to_string(),
                })?;
        let (image, image_name) =
            self.images
                .get(service_name)
                .ok_or_else(|| EngineError::ImageMissing {
                    service: service_name.to_string(),
                })?;
        let mut translated = translate::container_spec(
            self.project,
            service_name,
            service,
            number,
            name,
            self.host,
        )?;
        if one_off {
            mark_one_off(&mut translated);
        }
        // Until this container's record is written, no volume it mounts can
        // be removed (by `volume rm` or `down -v` of another project).
        let _volumes_in_use = self.volumes.lock_for_use()?;
        let anonymous = self.mount_volumes(service_name, name, image, &mut translated)?;
        self.mount_volumes_from(service_name, service, &mut translated)?;
        create_bind_sources(service_name, &translated.host_dirs)?;
        let ports = std::mem::take(&mut translated.ports);
        if !ports.is_empty() {
            let supervisor = crate::supervisor::supervisor_pid(&self.run_dir, &self.project.name);
            check_ports_free(service_name, &ports, supervisor)?;
        }
        for warning in &translated.warnings {
            tracing::warn!("{warning}");
        }
        self.join_namespaces(service_name, &mut translated)?;
        let id = new_id().map_err(|source| EngineError::Io {
            context: "a new container ID".into(),
            source,
        })?;
        annotations::set_anonymous_volumes(&mut translated.spec, &anonymous);
        annotations::set_port_requests(&mut translated.spec, &ports);
        translated.spec.id = Some(id.clone());
        let attached = self.attach_networks(service_name, &id, &mut translated)?;
        let made = self
            .name_resolution(service_name, service, &mut translated, &attached)
            .and_then(|()| {
                self.runtime
                    .create(translated.spec, image, Some(image_name))
                    .map_err(EngineError::from)
            });
        if made.is_err() {
            self.release(&attached.endpoints, &id);
        }
        made.map(drop)
    }

    /// `ipc`/`pid: service:NAME|container:NAME`: the peer must exist now; it
    /// must run when this container starts (the runtime joins its namespace
    /// then, each start).
    fn join_namespaces(
        &self,
        service_name: &str,
        translated: &mut Translated,
    ) -> Result<(), EngineError> {
        for join in &translated.joins {
            let (mode, container) = self.peer_name(&join.target);
            let peer = self.runtime.lookup(&container).map_err(|e| {
                EngineError::service(service_name, join.field, format!("{mode}: {e}"))
            })?;
            match join.field {
                "ipc" => translated.spec.ipc = Namespace::Container(peer.id),
                _ => translated.spec.pid = Namespace::Container(peer.id),
            }
        }
        Ok(())
    }
}

/// `run`'s container: label `oneoff=True`, and with `-i` the end of the
/// caller's input is the container's.
fn mark_one_off(translated: &mut Translated) {
    let spec = &mut translated.spec;
    spec.labels
        .insert(labels::ONEOFF.to_string(), "True".to_string());
    spec.process.stdin_once = spec.process.stdin_open;
}

/// A missing bind source becomes a directory (as Docker does); an existing
/// file or directory is used as it is.
fn create_bind_sources(service_name: &str, dirs: &[PathBuf]) -> Result<(), EngineError> {
    for dir in dirs
        .iter()
        .filter(|d| std::fs::symlink_metadata(d).is_err())
    {
        std::fs::create_dir_all(dir).map_err(|source| EngineError::Io {
            context: format!("service {service_name}: creating {}", dir.display()),
            source,
        })?;
    }
    Ok(())
}
