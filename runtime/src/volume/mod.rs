//! Volumes (local driver) under the state root: `<root>/volumes/<name>/`
//! holds `volume.json` and the data in `_data`. Named volumes carry their
//! project's labels; anonymous ones have a random name. An empty volume is
//! filled once with what the image has at the mount point ([`copyup`]).
//! Driver options as Docker's local driver: `type: tmpfs` (a tmpfs per
//! mount) and `type: none, o: bind, device: PATH` (a bind of PATH).
//!
//! A volume is in use while a container's record mounts it. The store's
//! lock (`volumes/.lock`, `flock`) makes "is it in use? then remove it"
//! atomic: [`VolumeStore::remove`] holds it exclusively, and whoever creates
//! a volume or a container that mounts volumes holds it shared
//! ([`VolumeStore::lock_for_use`]) until that container's record is
//! written, so a removal in another project either comes first (and the
//! volume is made again) or sees the new container among the users.

pub mod copyup;

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::container::Mount;
use crate::state_root;

/// What a volume is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VolumeRecord {
    pub name: String,
    pub driver: String,
    pub labels: BTreeMap<String, String>,
    pub options: BTreeMap<String, String>,
    pub created: String,
    pub mountpoint: PathBuf,
    /// Filled from an image once (or found non-empty): never refilled.
    #[serde(default)]
    pub initialized: bool,
}

/// Why a volume operation failed, naming the volume.
#[derive(Debug, thiserror::Error)]
pub enum VolumeError {
    #[error("volume {0:?} not found")]
    NotFound(String),
    #[error("volume {name:?}: {message}")]
    Invalid { name: String, message: String },
    #[error("volume {name:?} is in use by container {containers}")]
    InUse { name: String, containers: String },
    #[error("volume {name:?}: {context}: {source}")]
    Io {
        name: String,
        context: String,
        #[source]
        source: io::Error,
    },
}

type Result<T> = std::result::Result<T, VolumeError>;

/// Docker's rule for volume names.
pub fn valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphanumeric())
        && name.len() >= 2
        && chars.all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c))
}

/// The volumes of one state root.
#[derive(Debug, Clone)]
pub struct VolumeStore {
    dir: PathBuf,
}

/// The store's lock, held shared or exclusive until dropped.
#[derive(Debug)]
pub struct VolumeLock {
    _lock: nix::fcntl::Flock<File>,
}

impl VolumeStore {
    pub fn open(root: &Path) -> Result<VolumeStore> {
        let dir = root.join("volumes");
        state_root::ensure_root(root)
            .and_then(|()| state_root::ensure_dir(&dir, state_root::VOLUMES_DIR_MODE))
            .map_err(|source| VolumeError::Io {
                name: String::new(),
                context: format!("create {}", dir.display()),
                source,
            })?;
        Ok(VolumeStore { dir })
    }

    /// Takes the store's lock (waiting for it).
    fn lock(&self, exclusive: bool) -> Result<VolumeLock> {
        let path = self.dir.join(".lock");
        let context = format!("lock {}", path.display());
        let file = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .mode(state_root::PRIVATE_FILE_MODE)
            .open(&path)
            .map_err(Self::io("", context.clone()))?;
        let arg = if exclusive {
            nix::fcntl::FlockArg::LockExclusive
        } else {
            nix::fcntl::FlockArg::LockShared
        };
        nix::fcntl::Flock::lock(file, arg)
            .map(|lock| VolumeLock { _lock: lock })
            .map_err(|(_, errno)| Self::io("", context)(errno.into()))
    }

    /// Held (shared) while a container that mounts volumes is created, from
    /// choosing its volumes until its record is written: no volume it uses
    /// can be removed meanwhile.
    pub fn lock_for_use(&self) -> Result<VolumeLock> {
        self.lock(false)
    }

    fn record_path(&self, name: &str) -> PathBuf {
        self.dir.join(name).join("volume.json")
    }

    fn io(name: &str, context: impl Into<String>) -> impl FnOnce(io::Error) -> VolumeError + '_ {
        let context = context.into();
        move |source| VolumeError::Io {
            name: name.to_string(),
            context,
            source,
        }
    }

    fn write(&self, record: &VolumeRecord) -> Result<()> {
        let path = self.record_path(&record.name);
        let bytes = serde_json::to_vec_pretty(record)
            .map_err(|e| Self::io(&record.name, "encode")(io::Error::other(e)))?;
        crate::atomic_file::write(&path, &bytes, state_root::PRIVATE_FILE_MODE)
            .map_err(Self::io(&record.name, "write its record"))
    }

    /// Creates a volume, or returns the existing one of that name. Returns
    /// whether it was created.
    pub fn create(
        &self,
        name: &str,
        labels: BTreeMap<String, String>,
        options: BTreeMap<String, String>,
    ) -> Result<(VolumeRecord, bool)> {
        if !valid_name(name) {
            return Err(VolumeError::Invalid {
                name: name.into(),
                message: "invalid name: use letters, digits, '_', '.', '-', starting with a letter or digit".into(),
            });
        }
        let _lock = self.lock(false)?;
        if let Ok(existing) = self.get(name) {
            return Ok((existing, false));
        }
        match options.get("type").map(String::as_str) {
            None | Some("tmpfs") => {}
            Some("none") if options.get("o").is_some_and(|o| o.split(',').any(|p| p == "bind")) => {
                let device = options.get("device").ok_or_else(|| VolumeError::Invalid {
                    name: name.into(),
                    message: "type none with o=bind needs a device (the host path)".into(),
                })?;
                if !Path::new(device).exists() {
                    return Err(VolumeError::Invalid {
                        name: name.into(),
                        message: format!("bind device {device:?} does not exist"),
                    });
                }
            }
            Some(other) => {
                return Err(VolumeError::Invalid {
                    name: name.into(),
                    message: format!("local driver type {other:?} is not supported yet (tmpfs and none with o=bind are)"),
                })
            }
        }
        // The volume's own directory is root's alone (its record names host
        // paths; its data may hold an image's setuid binaries); `_data`
        // keeps the mode it is made with or given.
        let data = self.dir.join(name).join("_data");
        state_root::ensure_dir(&self.dir.join(name), state_root::PRIVATE_DIR_MODE)
            .and_then(|()| fs::create_dir_all(&data))
            .map_err(Self::io(name, "create its data directory"))?;
        let record = VolumeRecord {
            name: name.to_string(),
            driver: "local".into(),
            labels,
            options,
            created: crate::timestamp::now(),
            mountpoint: data,
            initialized: false,
        };
        self.write(&record)?;
        Ok((record, true))
    }

    /// An anonymous volume (a random 64-hex-digit name).
    pub fn create_anonymous(&self, labels: BTreeMap<String, String>) -> Result<VolumeRecord> {
        let name = crate::container::new_id().map_err(Self::io("", "random name"))?;
        self.create(&name, labels, BTreeMap::new()).map(|(r, _)| r)
    }

    pub fn get(&self, name: &str) -> Result<VolumeRecord> {
        let bytes =
            fs::read(self.record_path(name)).map_err(|_| VolumeError::NotFound(name.into()))?;
        serde_json::from_slice(&bytes)
            .map_err(|e| Self::io(name, "read its record")(io::Error::other(e)))
    }

    pub fn list(&self) -> Result<Vec<VolumeRecord>> {
        let mut found = Vec::new();
        for entry in fs::read_dir(&self.dir)
            .map_err(Self::io("", "list volumes"))?
            .flatten()
        {
            if let Ok(record) = self.get(&entry.file_name().to_string_lossy()) {
                found.push(record);
            }
        }
        found.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(found)
    }

    /// The mount a container gets for this volume at `target`.
    pub fn mount_for(&self, name: &str, target: &str, read_only: bool) -> Result<Mount> {
        let record = self.get(name)?;
        let options = &record.options;
        if options.get("type").map(String::as_str) == Some("tmpfs") {
            let mut size = None;
            let mut mode = None;
            for option in options
                .get("o")
                .map(String::as_str)
                .unwrap_or("")
                .split(',')
            {
                if let Some(value) = option.strip_prefix("size=") {
                    size = crate::volume::parse_size(value);
                } else if let Some(value) = option.strip_prefix("mode=") {
                    mode = u32::from_str_radix(value, 8).ok();
                }
            }
            return Ok(Mount::Tmpfs {
                target: target.into(),
                size,
                mode,
                read_only,
            });
        }
        let source = match options.get("device") {
            Some(device) if options.get("type").map(String::as_str) == Some("none") => {
                PathBuf::from(device)
            }
            _ => record.mountpoint.clone(),
        };
        Ok(Mount::Bind {
            source,
            target: target.into(),
            read_only,
            propagation: None,
            recursive: true,
        })
    }

    /// Marks the volume as filled (copy-up happens once).
    pub fn mark_initialized(&self, name: &str) -> Result<()> {
        let _lock = self.lock(false)?;
        let mut record = self.get(name)?;
        if !record.initialized {
            record.initialized = true;
            self.write(&record)?;
        }
        Ok(())
    }

    /// Containers (names) whose mounts use the volume, from their records.
    pub fn users(&self, root: &Path, name: &str) -> Vec<String> {
        let data = self.dir.join(name).join("_data");
        let Ok(entries) = fs::read_dir(root.join("containers")) else {
            return Vec::new();
        };
        let mut users = Vec::new();
        for entry in entries.flatten() {
            let Ok(record) = crate::container::state::ContainerDir(entry.path()).read_record()
            else {
                continue;
            };
            let uses = record
                .spec
                .mounts
                .iter()
                .any(|m| matches!(m, Mount::Bind { source, .. } if source == &data))
                || record
                    .spec
                    .annotations
                    .values()
                    .any(|v| v.contains(&format!("\"{name}\"")));
            if uses {
                users.push(record.name);
            }
        }
        users
    }

    /// Removes a volume and its data; never one in use, nor one a container
    /// being created is about to use (see [`VolumeStore::lock_for_use`]).
    pub fn remove(&self, root: &Path, name: &str) -> Result<()> {
        let _lock = self.lock(true)?;
        self.get(name)?;
        let users = self.users(root, name);
        if !users.is_empty() {
            return Err(VolumeError::InUse {
                name: name.into(),
                containers: users.join(", "),
            });
        }
        fs::remove_dir_all(self.dir.join(name)).map_err(Self::io(name, "remove"))
    }
}

/// `10m`, `1g`, `64k`, `100` (binary units).
pub fn parse_size(text: &str) -> Option<u64> {
    let text = text.trim().to_ascii_lowercase();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: u64 = number.parse().ok()?;
    let factor = match unit.trim_end_matches('b') {
        "" => 1,
        "k" => 1 << 10,
        "m" => 1 << 20,
        "g" => 1 << 30,
        _ => return None,
    };
    Some(number * factor)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn create_get_options_and_remove() {
        let dir = tempfile::tempdir().unwrap();
        let store = VolumeStore::open(dir.path()).unwrap();
        let (record, created) = store
            .create("data", BTreeMap::new(), BTreeMap::new())
            .unwrap();
        assert!(created && record.mountpoint.ends_with("volumes/data/_data"));
        assert!(
            !store
                .create("data", BTreeMap::new(), BTreeMap::new())
                .unwrap()
                .1
        );
        assert!(store
            .create("-bad", BTreeMap::new(), BTreeMap::new())
            .is_err());
        let tmpfs: BTreeMap<String, String> = [
            ("type".into(), "tmpfs".into()),
            ("o".into(), "size=1m,mode=0700".into()),
        ]
        .into();
        store.create("scratch", BTreeMap::new(), tmpfs).unwrap();
        assert_eq!(
            store.mount_for("scratch", "/s", false).unwrap(),
            Mount::Tmpfs {
                target: "/s".into(),
                size: Some(1 << 20),
                mode: Some(0o700),
                read_only: false
            }
        );
        let nfs: BTreeMap<String, String> = [("type".into(), "nfs".into())].into();
        assert!(store
            .create("remote", BTreeMap::new(), nfs)
            .unwrap_err()
            .to_string()
            .contains("not supported yet"));
        assert_eq!(store.list().unwrap().len(), 2);
        store.remove(dir.path(), "data").unwrap();
        assert!(matches!(store.get("data"), Err(VolumeError::NotFound(_))));
    }

    /// Writes the record of a container `name` that mounts `data`, as
    /// `Runtime::create` does.
    fn record_container_using(root: &Path, name: &str, data: &Path) {
        use crate::container::{process::ResolvedProcess, state, ContainerRecord, ContainerSpec};
        let dir = state::ContainerDir(root.join("containers").join(name));
        fs::create_dir_all(dir.path()).unwrap();
        let record = ContainerRecord {
            id: name.into(),
            name: name.into(),
            created: String::new(),
            image_id: String::new(),
            image_name: None,
            manifest_digest: String::new(),
            layers: Vec::new(),
            spec: ContainerSpec {
                mounts: vec![Mount::Bind {
                    source: data.to_path_buf(),
                    target: "/data".into(),
                    read_only: false,
                    propagation: None,
                    recursive: true,
                }],
                ..ContainerSpec::default()
            },
            process: ResolvedProcess {
                args: Vec::new(),
                env: Vec::new(),
                working_dir: "/".into(),
                user: String::new(),
            },
            hostname: String::new(),
            stop_signal: String::new(),
            cgroup_parent: String::new(),
        };
        state::write_json(&dir.config(), &record).unwrap();
    }

    #[test]
    fn remove_refused_while_a_record_uses_the_volume() {
        let dir = tempfile::tempdir().unwrap();
        let store = VolumeStore::open(dir.path()).unwrap();
        let (record, _) = store
            .create("data", BTreeMap::new(), BTreeMap::new())
            .unwrap();
        record_container_using(dir.path(), "web", &record.mountpoint);
        let err = store.remove(dir.path(), "data").unwrap_err();
        assert!(matches!(err, VolumeError::InUse { .. }), "{err}");
        assert!(record.mountpoint.is_dir());
    }

    /// Another project's `volume rm` while a container that mounts the
    /// volume is being created (volumes chosen, record not yet written):
    /// the removal waits for the record and then refuses.
    #[test]
    fn remove_waits_for_a_container_being_created() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().to_path_buf();
        let store = VolumeStore::open(&root).unwrap();
        let (record, _) = store
            .create("data", BTreeMap::new(), BTreeMap::new())
            .unwrap();
        fs::write(record.mountpoint.join("precious"), "keep").unwrap();
        let (held, holding) = std::sync::mpsc::channel();
        let creator = {
            let (store, root) = (store.clone(), root.clone());
            std::thread::spawn(move || {
                let _use = store.lock_for_use().unwrap();
                held.send(()).unwrap();
                // Copy-up, translation… then the record.
                std::thread::sleep(std::time::Duration::from_millis(300));
                record_container_using(&root, "web", &record.mountpoint);
            })
        };
        holding.recv().unwrap();
        let removed = store.remove(&root, "data");
        creator.join().unwrap();
        assert!(
            matches!(removed, Err(VolumeError::InUse { .. })),
            "{removed:?}"
        );
        assert_eq!(
            fs::read_to_string(root.join("volumes/data/_data/precious")).unwrap(),
            "keep"
        );
    }

    #[test]
    fn the_lock_file_and_the_records_are_private() {
        use std::os::unix::fs::MetadataExt;
        let dir = tempfile::tempdir().unwrap();
        let store = VolumeStore::open(dir.path()).unwrap();
        store
            .create("data", BTreeMap::new(), BTreeMap::new())
            .unwrap();
        let mode = |p: &str| fs::metadata(dir.path().join(p)).unwrap().mode() & 0o7777;
        assert_eq!(mode("volumes/.lock"), 0o600);
        assert_eq!(mode("volumes"), 0o701);
        assert_eq!(mode("volumes/data"), 0o700);
        assert_eq!(mode("volumes/data/volume.json"), 0o600);
        assert_eq!(store.list().unwrap().len(), 1);
    }
}
