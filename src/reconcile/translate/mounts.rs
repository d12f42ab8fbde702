//! What a container mounts: `volumes:` (binds and tmpfs become mounts,
//! named and anonymous volumes come back as [`VolumeUse`]s for the caller),
//! `tmpfs:`, and the service's secrets and configs (files injected, or a
//! directory bound read-only), with their digests as an annotation.

use std::collections::BTreeMap;
use std::path::PathBuf;

use berth_runtime::container::rootfs::check_mount_destination;
use berth_runtime::container::{InjectedFile, Mount};

use crate::compose::model::mounts::MountKind;
use crate::compose::model::{Project, Service};

use super::{parse_size, FieldError, TranslateError, VolumeUse, FILES_ANNOTATION};
use crate::reconcile::files;

/// The mounts of `volumes:` and `tmpfs:`, and what the caller resolves.
#[derive(Debug, Default)]
pub struct ServiceMounts {
    pub mounts: Vec<Mount>,
    pub volumes: Vec<VolumeUse>,
    /// Bind sources to create when missing (`create_host_path`).
    pub host_dirs: Vec<PathBuf>,
}

/// `volumes:` then `tmpfs:` of `service`, in order.
pub fn service_mounts(project: &Project, service: &Service) -> Result<ServiceMounts, FieldError> {
    let mut found = ServiceMounts::default();
    for (index, volume) in service.volumes.iter().enumerate() {
        let field = format!("volumes[{index}]");
        let fail = |message: String| FieldError::new(&field, message);
        check_mount_destination(&volume.target, service.privileged).map_err(fail)?;
        match volume.kind {
            MountKind::Bind => {
                let source = volume
                    .source
                    .clone()
                    .ok_or_else(|| fail("a bind mount needs a source".into()))?;
                let bind = volume.bind.clone().unwrap_or_default();
                if bind.create_host_path {
                    found.host_dirs.push(PathBuf::from(&source));
                }
                found.mounts.push(Mount::Bind {
                    source: PathBuf::from(source),
                    target: volume.target.clone(),
                    read_only: volume.read_only,
                    propagation: bind.propagation.clone(),
                    recursive: bind.recursive.as_deref() != Some("disabled"),
                });
            }
            MountKind::Volume => {
                let name = volume.source.as_ref().map(|key| {
                    project
                        .volumes
                        .get(key)
                        .and_then(|v| v.name.clone())
                        .unwrap_or_else(|| format!("{}_{key}", project.name))
                });
                found.volumes.push(VolumeUse {
                    name,
                    target: volume.target.clone(),
                    read_only: volume.read_only,
                    nocopy: volume.volume.as_ref().is_some_and(|v| v.nocopy),
                });
            }
            MountKind::Tmpfs => {
                let options = volume.tmpfs.clone().unwrap_or_default();
                found.mounts.push(Mount::Tmpfs {
                    target: volume.target.clone(),
                    size: options.size.map(|s| s.0.max(0) as u64),
                    mode: options.mode.map(|m| m.0),
                    read_only: volume.read_only,
                });
            }
            other => {
                return Err(fail(
                    format!("mounts of type {other:?} are not supported yet").to_lowercase(),
                ))
            }
        }
    }
    for (index, entry) in service.tmpfs.iter().enumerate() {
        let mount = tmpfs_mount(entry, service.privileged)
            .map_err(|message| FieldError::new(&format!("tmpfs[{index}]"), message))?;
        found.mounts.push(mount);
    }
    Ok(found)
}

/// One `tmpfs:` entry: `TARGET[:size=…,mode=…,ro]`.
fn tmpfs_mount(entry: &str, privileged: bool) -> Result<Mount, String> {
    let (target, options) = entry.split_once(':').unwrap_or((entry, ""));
    check_mount_destination(target, privileged)?;
    let mut size = None;
    let mut mode = None;
    for option in options.split(',').filter(|o| !o.is_empty()) {
        if let Some(value) = option.strip_prefix("size=") {
            size = Some(parse_size(value).ok_or_else(|| format!("invalid size {value:?}"))?);
        } else if let Some(value) = option.strip_prefix("mode=") {
            mode =
                Some(u32::from_str_radix(value, 8).map_err(|_| format!("invalid mode {value:?}"))?);
        }
    }
    Ok(Mount::Tmpfs {
        target: target.to_string(),
        size,
        mode,
        read_only: options.split(',').any(|o| o == "ro"),
    })
}

/// The service's secrets and configs: their contents are read here (project
/// input), file contents become injected files and directories read-only
/// binds added to `mounts`; their digests go into `annotations`.
pub fn secrets_and_configs(
    project: &Project,
    service_name: &str,
    service: &Service,
    mounts: &mut Vec<Mount>,
    annotations: &mut BTreeMap<String, String>,
) -> Result<Vec<InjectedFile>, TranslateError> {
    let service_files = files::service_files(project, service_name, service)?;
    let digests = files::digests(&service_files);
    if !digests.is_empty() {
        if let Ok(text) = serde_json::to_string(&digests) {
            annotations.insert(FILES_ANNOTATION.to_string(), text);
        }
    }
    let mut injected = Vec::new();
    for file in service_files {
        let description = file.description();
        match file.content {
            files::Content::Bytes(content) => injected.push(InjectedFile {
                target: file.target,
                description,
                content,
                uid: file.uid,
                gid: file.gid,
                mode: file.mode,
            }),
            files::Content::Directory(source) => mounts.push(Mount::Bind {
                source,
                target: file.target,
                read_only: true,
                propagation: None,
                recursive: true,
            }),
        }
    }
    Ok(injected)
}
