//! `Runtime::create`: a container's directory, record and files from a
//! spec the caller made and [`ContainerSpec::validate`] accepts; nothing is
//! left behind when a step fails.

use std::fs;

use super::*;

impl Runtime {
    /// Creates a container from an image; nothing runs until [`Runtime::start`].
    pub fn create(
        &self,
        spec: ContainerSpec,
        image: &ResolvedImage,
        image_name: Option<&str>,
    ) -> Result<ContainerRecord> {
        let id = self.container_id(&spec)?;
        let name = if spec.name.is_empty() {
            id[..12].to_string()
        } else {
            spec.name.clone()
        };
        if let Ok(existing) = self.lookup(&name) {
            if existing.name == name {
                return Err(ContainerError::NameInUse {
                    name,
                    id: existing.id,
                });
            }
        }
        let invalid = |message: String| ContainerError::Invalid {
            name: name.clone(),
            message,
        };
        spec.validate().map_err(invalid)?;
        let seccomp_program = seccomp::program_for_in(&spec.security, &self.root.join("seccomp"))
            .map_err(|err| invalid(format!("seccomp profile: {err}")))?;
        self.check_peers(&spec).map_err(invalid)?;
        let hostname = if spec.uts == Namespace::Host {
            // The host's UTS namespace: its name is the host's.
            nix::unistd::gethostname()
                .map(|h| h.to_string_lossy().into_owned())
                .unwrap_or_else(|_| id[..12].to_string())
        } else {
            spec.hostname
                .clone()
                .filter(|h| !h.is_empty())
                .unwrap_or_else(|| id[..12].to_string())
        };
        let process = process::resolve(image, &spec.process, &hostname);
        if process.args.is_empty() {
            return Err(invalid(
                "no command specified: the image has no CMD or ENTRYPOINT and none was given"
                    .into(),
            ));
        }
        let stop_signal = spec
            .stop_signal
            .clone()
            .or_else(|| {
                image
                    .config
                    .config()
                    .as_ref()
                    .and_then(|c| c.stop_signal().clone())
            })
            .unwrap_or_else(|| "SIGTERM".to_string());
        parse_signal(&stop_signal).map_err(invalid)?;
        let mut record = ContainerRecord {
            id: id.clone(),
            name,
            created: timestamp::now(),
            image_id: image.id.clone(),
            image_name: image_name.map(str::to_string),
            manifest_digest: image.manifest_digest.clone(),
            layers: image.layers.clone(),
            hostname,
            stop_signal,
            cgroup_parent: self.cgroup_parent.clone(),
            process,
            spec,
        };
        let dir = self.dir(&id);
        // The files' contents go to their own files, not into config.json.
        let contents: Vec<Vec<u8>> = record
            .spec
            .files
            .iter_mut()
            .map(|f| std::mem::take(&mut f.content))
            .collect();
        let made = self
            .write_new(&dir, &record)
            .and_then(|()| write_injected_files(&dir, &record.spec.files, &contents))
            .and_then(|()| {
                seccomp::write(&dir, seccomp_program.as_ref())
                    .map_err(io_err("write the seccomp program"))
            });
        if let Err(err) = made {
            let _ = fs::remove_dir_all(dir.path());
            return Err(err);
        }
        Ok(record)
    }

    /// The ID the caller chose (64 hex digits, not in use) or a new one.
    fn container_id(&self, spec: &ContainerSpec) -> Result<String> {
        let invalid = |message: String| ContainerError::Invalid {
            name: spec.name.clone(),
            message,
        };
        match &spec.id {
            Some(id) if id.len() == 64 && id.bytes().all(|b| b.is_ascii_hexdigit()) => {
                if self.dir(id).path().exists() {
                    return Err(invalid(format!("container ID {id} is already in use")));
                }
                Ok(id.clone())
            }
            Some(id) => Err(invalid(format!(
                "invalid container ID {id:?} (expected 64 hex digits)"
            ))),
            None => new_id().map_err(io_err("random container ID")),
        }
    }

    /// The containers whose IPC or PID namespace the spec joins exist here.
    fn check_peers(&self, spec: &ContainerSpec) -> std::result::Result<(), String> {
        for (namespace, kind) in [(&spec.ipc, "IPC"), (&spec.pid, "PID")] {
            if let Namespace::Container(peer) = namespace {
                if self.lookup(peer).ok().map(|r| r.id).as_ref() != Some(peer) {
                    return Err(format!(
                        "the {kind} namespace to join belongs to {peer:?}, which is not a container ID here"
                    ));
                }
            }
        }
        Ok(())
    }

    fn write_new(&self, dir: &state::ContainerDir, record: &ContainerRecord) -> Result<()> {
        // Private (see `state_root`): config.json holds the environment.
        for (path, mode) in [
            (&self.root, crate::state_root::TRAVERSE_DIR_MODE),
            (&self.containers_dir(), crate::state_root::TRAVERSE_DIR_MODE),
            (
                &dir.path().to_path_buf(),
                crate::state_root::TRAVERSE_DIR_MODE,
            ),
        ] {
            crate::state_root::ensure_dir(path, mode)
                .map_err(io_err(format!("create {}", path.display())))?;
        }
        for path in [
            dir.path().to_path_buf(),
            dir.upper(),
            dir.work(),
            dir.rootfs(),
            dir.empty_lower(),
        ] {
            fs::create_dir_all(&path).map_err(io_err(format!("create {}", path.display())))?;
        }
        let spec = &record.spec;
        let hosts = spec
            .etc_hosts
            .clone()
            .unwrap_or_else(|| etc_files::LOOPBACK_HOSTS.to_string());
        let resolv = spec
            .resolv_conf
            .clone()
            .unwrap_or_else(|| fs::read_to_string("/etc/resolv.conf").unwrap_or_default());
        for (name, content) in [
            ("hosts", hosts),
            ("hostname", format!("{}\n", record.hostname)),
            ("resolv.conf", resolv),
        ] {
            let path = dir.etc_file(name);
            fs::write(&path, content).map_err(io_err(format!("write {}", path.display())))?;
        }
        state::write_new_container(dir, record, &ContainerState::created())
            .map_err(io_err("write container config and state"))
    }
}

/// Writes the injected files into `files/` (only root may enter it): each
/// created exclusively with its mode, then owned by its uid/gid.
fn write_injected_files(
    dir: &state::ContainerDir,
    files: &[InjectedFile],
    contents: &[Vec<u8>],
) -> Result<()> {
    use std::io::Write;
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    if files.is_empty() {
        return Ok(());
    }
    let parent = dir.path().join("files");
    fs::create_dir(&parent).map_err(io_err(format!("create {}", parent.display())))?;
    fs::set_permissions(&parent, fs::Permissions::from_mode(0o700))
        .map_err(io_err(format!("restrict {}", parent.display())))?;
    for (index, (file, content)) in files.iter().zip(contents).enumerate() {
        let path = dir.injected_file(index);
        let context = || format!("write {} for {}", path.display(), file.description);
        let mut out = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path)
            .map_err(io_err(context()))?;
        out.write_all(content).map_err(io_err(context()))?;
        std::os::unix::fs::fchown(&out, Some(file.uid), Some(file.gid))
            .map_err(io_err(context()))?;
        // After the chown, which would clear setuid/setgid bits.
        out.set_permissions(fs::Permissions::from_mode(file.mode))
            .map_err(io_err(context()))?;
    }
    Ok(())
}
