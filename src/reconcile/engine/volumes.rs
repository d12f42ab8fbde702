//! A container's volumes: creating the project's named volumes, choosing
//! the volume behind each use (named, the replaced container's anonymous
//! one, or a new anonymous one), filling a new volume from the image, and
//! `volumes_from`.

use std::collections::BTreeMap;

use berth_runtime::container::Mount;
use berth_runtime::image::ResolvedImage;
use berth_runtime::volume::VolumeRecord;

use super::{EngineError, ProjectResource, RuntimeEngine};
use crate::compose::model::Service;
use crate::contract::{annotations, labels};
use crate::reconcile::translate::{Translated, VolumeUse};

impl RuntimeEngine<'_> {
    pub(crate) fn create_volume(&self, name: &str) -> Result<(), EngineError> {
        let ProjectResource {
            definition: volume,
            labels,
        } = self.project_resource(
            "volume",
            name,
            &self.desired.volumes,
            &self.project.volumes,
            |v| (v.driver.as_deref(), &v.labels),
            "local",
        )?;
        self.volumes
            .create(name, labels, volume.driver_opts.clone())?;
        Ok(())
    }

    /// Turns the service's volume uses (and the image's `VOLUME`s) into
    /// mounts, filling empty volumes from the image; returns the anonymous
    /// volumes by mount target.
    pub(super) fn mount_volumes(
        &self,
        service_name: &str,
        container_name: &str,
        image: &ResolvedImage,
        translated: &mut Translated,
    ) -> Result<BTreeMap<String, String>, EngineError> {
        let previous = self.previous_anonymous_volumes(container_name);
        let mut anonymous = BTreeMap::new();
        for volume_use in volume_uses(translated, image) {
            let name = match &volume_use.name {
                Some(name) => name.clone(),
                None => {
                    let name = self.anonymous_volume(service_name, &previous, &volume_use)?;
                    anonymous.insert(volume_use.target.clone(), name.clone());
                    name
                }
            };
            let record = self.volumes.get(&name)?;
            if !record.initialized {
                self.fill_from_image(&record, &volume_use, image)?;
                let _ = self.volumes.mark_initialized(&name);
            }
            let mount = self
                .volumes
                .mount_for(&name, &volume_use.target, volume_use.read_only)?;
            translated.spec.mounts.push(mount);
        }
        Ok(anonymous)
    }

    /// Anonymous volumes of the container being replaced, by target (none
    /// with `-V`).
    fn previous_anonymous_volumes(&self, container_name: &str) -> BTreeMap<String, String> {
        if self.renew_anon_volumes {
            return BTreeMap::new();
        }
        self.runtime
            .lookup(container_name)
            .ok()
            .map(|record| annotations::anonymous_volumes(&record.spec))
            .unwrap_or_default()
    }

    /// The replaced container's anonymous volume at this target while it
    /// exists, or a new one.
    fn anonymous_volume(
        &self,
        service_name: &str,
        previous: &BTreeMap<String, String>,
        volume_use: &VolumeUse,
    ) -> Result<String, EngineError> {
        if let Some(name) = previous
            .get(&volume_use.target)
            .filter(|n| self.volumes.get(n).is_ok())
        {
            return Ok(name.clone());
        }
        let mut labels = BTreeMap::new();
        labels.insert(labels::PROJECT.to_string(), self.project.name.clone());
        labels.insert(labels::SERVICE.to_string(), service_name.to_string());
        Ok(self.volumes.create_anonymous(labels)?.name)
    }

    /// Docker's copy-up: a new, empty volume (not `nocopy`, not a mount of
    /// something else through `type`) gets what the image has at its target.
    fn fill_from_image(
        &self,
        record: &VolumeRecord,
        volume_use: &VolumeUse,
        image: &ResolvedImage,
    ) -> Result<(), EngineError> {
        let empty = std::fs::read_dir(&record.mountpoint)
            .map(|mut d| d.next().is_none())
            .unwrap_or(false);
        if volume_use.nocopy || !empty || record.options.contains_key("type") {
            return Ok(());
        }
        berth_runtime::volume::copyup::copy_up(
            &image.layers,
            &volume_use.target,
            &record.mountpoint,
        )
        .map_err(|source| EngineError::CopyUp {
            volume: record.name.clone(),
            target: volume_use.target.clone(),
            source,
        })?;
        Ok(())
    }

    /// `volumes_from: [service:NAME[:ro|rw], container:NAME[:ro|rw]]`: the
    /// other container's mounts, read-only when asked.
    pub(super) fn mount_volumes_from(
        &self,
        service_name: &str,
        service: &Service,
        translated: &mut Translated,
    ) -> Result<(), EngineError> {
        for entry in &service.volumes_from {
            let (source, read_only) = volumes_from_entry(entry);
            let in_entry = |message: String| {
                EngineError::service(
                    service_name,
                    "volumes_from",
                    format!("{entry:?}: {message}"),
                )
            };
            let container = match source {
                VolumesFrom::Service(source) => self
                    .desired
                    .services
                    .get(source)
                    .map(|s| self.desired.container_name(s, 1))
                    .ok_or_else(|| in_entry(format!("no service {source}")))?,
                VolumesFrom::Container(name) => name.to_string(),
            };
            let record = self
                .runtime
                .lookup(&container)
                .map_err(|e| in_entry(e.to_string()))?;
            for mount in record.spec.mounts {
                let taken = translated
                    .spec
                    .mounts
                    .iter()
                    .any(|m| m.target() == mount.target());
                match mount {
                    Mount::Bind { .. } if taken => {}
                    Mount::Bind {
                        source,
                        target,
                        read_only: was_read_only,
                        propagation,
                        recursive,
                    } => translated.spec.mounts.push(Mount::Bind {
                        source,
                        target,
                        read_only: was_read_only || read_only,
                        propagation,
                        recursive,
                    }),
                    // A tmpfs belongs to its container; nothing to share.
                    Mount::Tmpfs { .. } => {}
                }
            }
        }
        Ok(())
    }
}

/// The service's volume uses and the image's `VOLUME`s at targets nothing
/// else mounts over (each of those an anonymous volume).
fn volume_uses(translated: &Translated, image: &ResolvedImage) -> Vec<VolumeUse> {
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
            uses.push(VolumeUse {
                name: None,
                target: path,
                read_only: false,
                nocopy: false,
            });
        }
    }
    uses
}

/// Where a `volumes_from` entry takes its mounts from.
#[derive(Debug, PartialEq, Eq)]
enum VolumesFrom<'a> {
    Service(&'a str),
    Container(&'a str),
}

/// `[service:|container:]NAME[:ro|rw]` (a bare name is a service), and
/// whether it is read-only.
fn volumes_from_entry(entry: &str) -> (VolumesFrom<'_>, bool) {
    let (container, rest) = match entry.split_once(':') {
        Some(("container", rest)) => (true, rest),
        Some(("service", rest)) => (false, rest),
        _ => (false, entry),
    };
    let (name, read_only) = match rest.rsplit_once(':') {
        Some((name, "ro")) => (name, true),
        Some((name, "rw")) => (name, false),
        _ => (rest, false),
    };
    let source = if container {
        VolumesFrom::Container(name)
    } else {
        VolumesFrom::Service(name)
    };
    (source, read_only)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn volumes_from_entries_name_their_source_and_mode() {
        use VolumesFrom::{Container, Service};
        assert_eq!(volumes_from_entry("db"), (Service("db"), false));
        assert_eq!(volumes_from_entry("db:ro"), (Service("db"), true));
        assert_eq!(volumes_from_entry("service:db:rw"), (Service("db"), false));
        assert_eq!(
            volumes_from_entry("container:legacy-1:ro"),
            (Container("legacy-1"), true)
        );
        assert_eq!(
            volumes_from_entry("container:legacy-1"),
            (Container("legacy-1"), false)
        );
    }
}
