//! The image store: an OCI image layout under the state root, plus unpacked
//! layers.
//!
//! ```text
//! <root>/images/oci-layout            {"imageLayoutVersion":"1.0.0"}
//! <root>/images/index.json            one manifest descriptor per image name,
//!                                     annotated org.opencontainers.image.ref.name
//!                                     = docker.io/library/redis:latest (unnamed
//!                                     entries are dangling images)
//! <root>/images/blobs/sha256/<hex>    manifests, configs, layer blobs as pulled
//! <root>/images/.lock                 flock: shared to read, exclusive to change
//! <root>/images/pins/<pid>-<n>.json   content a build in progress keeps alive
//! <root>/layers/sha256/<diff_id hex>/ each layer unpacked once, shared by images
//! ```
//!
//! Blobs are verified against their digest as they land and are written to a
//! temporary file, fsynced and renamed; `index.json` is replaced the same way.
//! Layers are unpacked when an image is added (load, import, pull); `resolve`
//! unpacks any layer directory that has gone missing. A layer is unpacked into a
//! temporary directory and renamed into place, so a present directory is
//! always complete. Removing an image deletes every blob and layer directory
//! no remaining image references and no live pin keeps (see [`pins`]).

mod details;
mod error;
pub(crate) mod layout;
mod pins;

pub use details::{ImageDetails, ImageSummary, RemoveEvent, RootFs};
pub use error::StoreError;
pub use layout::{Descriptor, Platform};
pub(crate) use pins::Pin;

use crate::image::unpack::{self, Compression};
use crate::image::{ImageReference, ResolvedImage};
use crate::state_root;
use layout::{io_err, read_json, sha256_hex, BlobWriter, Index, Manifest, StoreLock};
use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet};
use std::fs::{self, File};
use std::io::Read;
use std::path::{Path, PathBuf};

/// The content store of images under a state root.
#[derive(Debug, Clone)]
pub struct ImageStore {
    root: PathBuf,
    images: PathBuf,
    blobs: PathBuf,
    layers: PathBuf,
}

/// The parts of an image configuration the store itself reads.
#[derive(Debug, Clone, Deserialize, Default)]
pub(crate) struct ConfigDoc {
    #[serde(default)]
    pub created: Option<String>,
    #[serde(default)]
    pub architecture: String,
    #[serde(default)]
    pub os: String,
    #[serde(default)]
    pub variant: Option<String>,
    #[serde(default)]
    pub config: Option<serde_json::Map<String, serde_json::Value>>,
    #[serde(default)]
    pub rootfs: RootFsDoc,
}

#[derive(Debug, Clone, Deserialize, Default)]
pub(crate) struct RootFsDoc {
    #[serde(default, rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub diff_ids: Vec<String>,
}

/// One image as the index knows it: a manifest and the names pointing at it.
#[derive(Debug, Clone)]
pub(crate) struct Record {
    pub manifest: Descriptor,
    pub doc: Manifest,
    /// Fully qualified names (`docker.io/library/redis:latest`), index order.
    pub names: Vec<String>,
    /// `name@sha256:…` the image was pulled as, fully qualified.
    pub repo_digests: Vec<String>,
}

impl Record {
    /// The image ID: the digest of its configuration.
    pub fn id(&self) -> &str {
        &self.doc.config.digest
    }
}

/// How a name given by the user matched an image.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Match {
    /// By a name in the index (full form).
    Name(String),
    /// By `repo@digest`: the repository (without tag or digest).
    Digest(String),
    /// By image ID, manifest digest or ID prefix.
    Id,
}

impl ImageStore {
    /// Opens (creating if needed) the store under a state root.
    pub fn open(root: &Path) -> Result<ImageStore, StoreError> {
        let images = root.join("images");
        let store = ImageStore {
            root: root.to_path_buf(),
            blobs: images.join("blobs").join("sha256"),
            layers: root.join("layers").join("sha256"),
            images,
        };
        // Private: layers hold the images' setuid binaries and device nodes.
        for (dir, mode) in [
            (root, state_root::TRAVERSE_DIR_MODE),
            (&store.images, state_root::PRIVATE_DIR_MODE),
            (&root.join("layers"), state_root::TRAVERSE_DIR_MODE),
            (&store.tmp_dir(), state_root::PRIVATE_DIR_MODE),
        ] {
            state_root::ensure_dir(dir, mode)
                .map_err(io_err(format!("creating {}", dir.display())))?;
        }
        for dir in [&store.blobs, &store.layers] {
            fs::create_dir_all(dir).map_err(io_err(format!("creating {}", dir.display())))?;
        }
        let layout = store.images.join("oci-layout");
        if !layout.exists() {
            layout::write_atomic(&layout, br#"{"imageLayoutVersion":"1.0.0"}"#)?;
        }
        if !store.index_path().exists() {
            let _lock = store.lock()?;
            if !store.index_path().exists() {
                store.write_index(&Index::default())?;
            }
        }
        Ok(store)
    }

    /// The state root this store lives under.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Scratch space on the store's filesystem (renames into the store work).
    pub fn tmp_dir(&self) -> PathBuf {
        self.root.join("tmp")
    }

    /// Takes the store lock exclusively, for a sequence of changes. Methods
    /// ending in `_locked` expect the caller to hold it; the others take it.
    pub fn lock(&self) -> Result<StoreLock, StoreError> {
        StoreLock::acquire(&self.images.join(".lock"), true)
    }

    fn lock_shared(&self) -> Result<StoreLock, StoreError> {
        StoreLock::acquire(&self.images.join(".lock"), false)
    }

    fn index_path(&self) -> PathBuf {
        self.images.join("index.json")
    }

    /// Where a blob lives (whether present or not).
    pub fn blob_path(&self, digest: &str) -> Result<PathBuf, StoreError> {
        let hex = sha256_hex(digest).ok_or_else(|| StoreError::Corrupt {
            what: format!("digest {digest:?}"),
            reason: "only sha256 digests are supported".to_string(),
        })?;
        Ok(self.blobs.join(hex))
    }

    /// Is this blob in the store?
    pub fn has_blob(&self, digest: &str) -> bool {
        self.blob_path(digest).is_ok_and(|p| p.is_file())
    }

    /// A blob's content.
    pub fn read_blob(&self, digest: &str) -> Result<Vec<u8>, StoreError> {
        let path = self.blob_path(digest)?;
        match fs::read(&path) {
            Ok(bytes) => Ok(bytes),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(StoreError::MissingBlob {
                digest: digest.to_string(),
            }),
            Err(e) => Err(io_err(format!("reading {}", path.display()))(e)),
        }
    }

    /// Starts writing a blob (see [`BlobWriter::commit`]); hold the lock.
    pub fn blob_writer_locked(&self) -> Result<BlobWriter, StoreError> {
        BlobWriter::create(&self.blobs)
    }

    /// Stores a blob, verifying it against `expected_digest` when given.
    /// Returns its digest and size. A blob no image references is removed by
    /// the next `remove`.
    pub fn ingest_blob(
        &self,
        reader: impl Read,
        expected_digest: Option<&str>,
    ) -> Result<(String, u64), StoreError> {
        let _lock = self.lock()?;
        self.ingest_blob_locked(reader, expected_digest)
    }

    /// [`ImageStore::ingest_blob`] with the lock already held.
    pub fn ingest_blob_locked(
        &self,
        reader: impl Read,
        expected_digest: Option<&str>,
    ) -> Result<(String, u64), StoreError> {
        let mut writer = self.blob_writer_locked()?;
        writer.copy_from(reader)?;
        writer.commit(expected_digest)
    }

    /// Stores bytes as a blob; returns its digest and size.
    pub fn ingest_bytes_locked(&self, bytes: &[u8]) -> Result<(String, u64), StoreError> {
        self.ingest_blob_locked(bytes, None)
    }

    pub(crate) fn read_index(&self) -> Result<Index, StoreError> {
        read_json(&self.index_path())
    }

    fn write_index(&self, index: &Index) -> Result<(), StoreError> {
        let bytes = serde_json::to_vec_pretty(index).expect("index serializes");
        layout::write_atomic(&self.index_path(), &bytes)
    }

    fn read_manifest(&self, digest: &str) -> Result<Manifest, StoreError> {
        let bytes = self.read_blob(digest)?;
        serde_json::from_slice(&bytes).map_err(|e| StoreError::Corrupt {
            what: format!("manifest {digest}"),
            reason: e.to_string(),
        })
    }

    pub(crate) fn read_config(&self, digest: &str) -> Result<ConfigDoc, StoreError> {
        let bytes = self.read_blob(digest)?;
        serde_json::from_slice(&bytes).map_err(|e| StoreError::Corrupt {
            what: format!("image configuration {digest}"),
            reason: e.to_string(),
        })
    }

    /// Every image in the index, grouped by manifest, in index order.
    pub(crate) fn records(&self, index: &Index) -> Result<Vec<Record>, StoreError> {
        let mut records: Vec<Record> = Vec::new();
        for entry in &index.manifests {
            let pos = match records
                .iter()
                .position(|r| r.manifest.digest == entry.digest)
            {
                Some(pos) => pos,
                None => {
                    let doc = self.read_manifest(&entry.digest)?;
                    let mut manifest = entry.clone();
                    manifest.annotations.clear();
                    records.push(Record {
                        manifest,
                        doc,
                        names: Vec::new(),
                        repo_digests: Vec::new(),
                    });
                    records.len() - 1
                }
            };
            let record = &mut records[pos];
            if let Some(name) = entry.annotations.get(layout::REF_NAME) {
                if !record.names.contains(name) {
                    record.names.push(name.clone());
                }
            }
            if let Some(rd) = entry.annotations.get(layout::REPO_DIGEST) {
                if !record.repo_digests.contains(rd) {
                    record.repo_digests.push(rd.clone());
                }
            }
        }
        Ok(records)
    }

    fn lookup(&self, records: &[Record], name_or_id: &str) -> Result<(usize, Match), StoreError> {
        let not_found = || StoreError::NotFound {
            name: name_or_id.to_string(),
        };
        if sha256_hex(name_or_id).is_some() {
            return records
                .iter()
                .position(|r| r.id() == name_or_id || r.manifest.digest == name_or_id)
                .map(|i| (i, Match::Id))
                .ok_or_else(not_found);
        }
        let parsed = ImageReference::parse(name_or_id);
        if let Ok(reference) = &parsed {
            if let Some(digest) = &reference.digest {
                let repo = repository_of(reference).to_string();
                let found = records.iter().position(|r| {
                    let same_repo = r.names.iter().chain(&r.repo_digests).any(|n| {
                        ImageReference::parse(n)
                            .is_ok_and(|n| repository_of(&n).to_string() == repo)
                    });
                    let same_digest = &r.manifest.digest == digest
                        || r.repo_digests
                            .iter()
                            .any(|rd| rd.ends_with(&format!("@{digest}")));
                    same_repo && same_digest
                });
                if let Some(i) = found {
                    return Ok((i, Match::Digest(repo)));
                }
            } else {
                let full = reference.to_string();
                if let Some(i) = records.iter().position(|r| r.names.contains(&full)) {
                    return Ok((i, Match::Name(full)));
                }
            }
        }
        let prefix = name_or_id.strip_prefix("sha256:").unwrap_or(name_or_id);
        if !prefix.is_empty()
            && prefix.len() <= 64
            && prefix
                .bytes()
                .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
        {
            let hits: BTreeSet<&str> = records
                .iter()
                .map(Record::id)
                .filter(|id| id.trim_start_matches("sha256:").starts_with(prefix))
                .collect();
            match hits.len() {
                0 => {}
                1 => {
                    let id = *hits.iter().next().expect("one hit");
                    let i = records.iter().position(|r| r.id() == id).expect("hit");
                    return Ok((i, Match::Id));
                }
                count => {
                    return Err(StoreError::Ambiguous {
                        prefix: name_or_id.to_string(),
                        count,
                    })
                }
            }
        }
        parsed?;
        Err(not_found())
    }

    /// Finds an image by name (normalized like Docker), `name@digest`, image
    /// ID or unique ID prefix, unpacking any of its layers not yet unpacked.
    pub fn resolve(&self, name_or_id: &str) -> Result<ResolvedImage, StoreError> {
        let _lock = self.lock()?;
        let index = self.read_index()?;
        let records = self.records(&index)?;
        let (i, _) = self.lookup(&records, name_or_id)?;
        let record = &records[i];
        let config_bytes = self.read_blob(record.id())?;
        let config: oci_spec::image::ImageConfiguration = serde_json::from_slice(&config_bytes)
            .map_err(|e| StoreError::Corrupt {
                what: format!("image configuration {}", record.id()),
                reason: e.to_string(),
            })?;
        let layers = self.unpack_layers_locked(&record.doc)?;
        Ok(ResolvedImage {
            id: record.id().to_string(),
            manifest_digest: record.manifest.digest.clone(),
            config,
            layers,
        })
    }

    /// When `name` was last set on an image (pulled, loaded or tagged):
    /// `None` when no image has that name, `Some(None)` when the store does
    /// not know (names set before berth recorded it).
    pub fn tagged_at(&self, name: &str) -> Option<Option<std::time::SystemTime>> {
        let full = ImageReference::parse(name).ok()?.to_string();
        let index = self.read_index().ok()?;
        let entry = index
            .manifests
            .iter()
            .find(|m| m.annotations.get(layout::REF_NAME) == Some(&full))?;
        Some(
            entry
                .annotations
                .get(layout::TAGGED)
                .and_then(|t| crate::timestamp::parse_rfc3339(t))
                .and_then(|unix| u64::try_from(unix).ok())
                .map(|secs| std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs)),
        )
    }

    /// Where the layer with this diff ID is (or would be) unpacked.
    pub fn layer_path(&self, diff_id: &str) -> Result<PathBuf, StoreError> {
        let hex = sha256_hex(diff_id).ok_or_else(|| StoreError::Corrupt {
            what: format!("diff ID {diff_id:?}"),
            reason: "only sha256 digests are supported".to_string(),
        })?;
        Ok(self.layers.join(hex))
    }

    /// Makes sure every layer of a manifest is unpacked; returns the layer
    /// directories, bottom first.
    pub(crate) fn unpack_layers_locked(
        &self,
        manifest: &Manifest,
    ) -> Result<Vec<PathBuf>, StoreError> {
        let config = self.read_config(&manifest.config.digest)?;
        let diff_ids = &config.rootfs.diff_ids;
        if diff_ids.len() != manifest.layers.len() {
            return Err(StoreError::Corrupt {
                what: format!("image {}", manifest.config.digest),
                reason: format!(
                    "the manifest has {} layers but the configuration lists {} diff IDs",
                    manifest.layers.len(),
                    diff_ids.len()
                ),
            });
        }
        let mut dirs = Vec::with_capacity(diff_ids.len());
        for (layer, diff_id) in manifest.layers.iter().zip(diff_ids) {
            let dir = self.layer_path(diff_id)?;
            if !dir.is_dir() {
                self.unpack_one_locked(layer, diff_id, &dir)?;
            }
            dirs.push(dir);
        }
        Ok(dirs)
    }

    /// Unpacks one layer blob into `dir` (its place under `layers/`),
    /// checking it against `diff_id`; hold the lock.
    pub(crate) fn unpack_one_locked(
        &self,
        layer: &Descriptor,
        diff_id: &str,
        dir: &Path,
    ) -> Result<(), StoreError> {
        let blob = self.blob_path(&layer.digest)?;
        let open = || {
            File::open(&blob).map_err(|e| match e.kind() {
                std::io::ErrorKind::NotFound => StoreError::MissingBlob {
                    digest: layer.digest.clone(),
                },
                _ => io_err(format!("reading {}", blob.display()))(e),
            })
        };
        let compression = match Compression::from_media_type(&layer.media_type) {
            Some(c) => c,
            None => {
                let mut magic = [0u8; 4];
                let n = open()?
                    .read(&mut magic)
                    .map_err(io_err(format!("reading {}", blob.display())))?;
                Compression::sniff(&magic[..n])
            }
        };
        let tmp = layout::temp_sibling(dir);
        let result = unpack::unpack_layer(
            std::io::BufReader::new(open()?),
            compression,
            &tmp,
            &layer.digest,
            Some(&layer.digest),
        );
        let finish = match result {
            Err(source) => Err(StoreError::Unpack {
                layer: layer.digest.clone(),
                source,
            }),
            Ok(unpacked) if unpacked.diff_id != diff_id => Err(StoreError::DigestMismatch {
                what: format!("uncompressed layer {}", layer.digest),
                expected: diff_id.to_string(),
                actual: unpacked.diff_id,
            }),
            Ok(_) => fs::rename(&tmp, dir)
                .and_then(|()| layout::sync_dir(&self.layers))
                .map_err(io_err(format!("moving layer into {}", dir.display()))),
        };
        if finish.is_err() {
            let _ = fs::remove_dir_all(&tmp);
        }
        tracing::debug!(layer = %layer.digest, dir = %dir.display(), "unpacked layer");
        finish
    }

    /// Adds an image whose manifest and blobs are in the store: checks the
    /// blobs, unpacks the layers and points `names` at it (an image without
    /// names is kept as a dangling image). Returns the image ID.
    pub(crate) fn add_image_locked(
        &self,
        manifest: Descriptor,
        names: &[ImageReference],
        repo_digest: Option<&str>,
    ) -> Result<String, StoreError> {
        let doc = self.read_manifest(&manifest.digest)?;
        for blob in std::iter::once(&doc.config).chain(&doc.layers) {
            if !self.has_blob(&blob.digest) {
                return Err(StoreError::MissingBlob {
                    digest: blob.digest.clone(),
                });
            }
        }
        self.unpack_layers_locked(&doc)?;
        let mut index = self.read_index()?;
        let records = self.records(&index)?;
        let mut desc = manifest;
        desc.annotations.clear();
        desc.platform = None;
        if names.is_empty() {
            if !index.manifests.iter().any(|m| m.digest == desc.digest) {
                index.manifests.push(desc);
            }
        } else {
            for name in names {
                let mut annotations = BTreeMap::new();
                annotations.insert(layout::REF_NAME.to_string(), name.to_string());
                if let Some(rd) = repo_digest {
                    annotations.insert(layout::REPO_DIGEST.to_string(), rd.to_string());
                }
                let id = doc.config.digest.as_str();
                set_name(
                    &mut index,
                    &records,
                    &desc,
                    id,
                    &name.to_string(),
                    annotations,
                );
            }
        }
        self.write_index(&index)?;
        Ok(doc.config.digest)
    }

    /// Images, one row per name (dangling images once), newest first.
    pub fn list(&self) -> Result<Vec<ImageSummary>, StoreError> {
        let _lock = self.lock_shared()?;
        let index = self.read_index()?;
        let mut rows = Vec::new();
        for record in self.records(&index)? {
            let config = self.read_config(record.id())?;
            let size =
                record.doc.config.size + record.doc.layers.iter().map(|l| l.size).sum::<u64>();
            let row = |repository: String, tag: String| ImageSummary {
                repository,
                tag,
                id: record.id().to_string(),
                digest: record.manifest.digest.clone(),
                created: config.created.clone(),
                size,
            };
            if record.names.is_empty() {
                rows.push(row("<none>".into(), "<none>".into()));
            }
            for name in &record.names {
                let Ok(reference) = ImageReference::parse(name) else {
                    continue;
                };
                let tag = reference
                    .tag
                    .clone()
                    .unwrap_or_else(|| "<none>".to_string());
                rows.push(row(repository_of(&reference).familiar(), tag));
            }
        }
        rows.sort_by(|a, b| {
            let age = |s: &ImageSummary| {
                s.created
                    .as_deref()
                    .and_then(crate::timestamp::parse_rfc3339)
            };
            age(b)
                .cmp(&age(a))
                .then_with(|| a.repository.cmp(&b.repository))
                .then_with(|| a.tag.cmp(&b.tag))
        });
        Ok(rows)
    }

    /// What `docker image inspect` shows of an image.
    pub fn inspect(&self, name_or_id: &str) -> Result<ImageDetails, StoreError> {
        let _lock = self.lock_shared()?;
        let index = self.read_index()?;
        let records = self.records(&index)?;
        let (i, _) = self.lookup(&records, name_or_id)?;
        let record = &records[i];
        let config = self.read_config(record.id())?;
        Ok(details::details(record, &config))
    }

    /// Gives an image another name (`docker tag`).
    pub fn tag(&self, source: &str, target: &str) -> Result<(), StoreError> {
        let reference = ImageReference::parse(target)?;
        if reference.digest.is_some() {
            return Err(StoreError::TagWithDigest {
                name: target.to_string(),
            });
        }
        let _lock = self.lock()?;
        let mut index = self.read_index()?;
        let records = self.records(&index)?;
        let (i, _) = self.lookup(&records, source)?;
        let full = reference.to_string();
        let mut annotations = BTreeMap::new();
        annotations.insert(layout::REF_NAME.to_string(), full.clone());
        set_name(
            &mut index,
            &records,
            &records[i].manifest,
            records[i].id(),
            &full,
            annotations,
        );
        self.write_index(&index)
    }

    /// Removes a name; when an image has no name left (or is given by ID),
    /// removes the image and every blob and layer nothing else uses. An image
    /// given by ID that has several names needs `force`.
    pub fn remove(&self, name_or_id: &str, force: bool) -> Result<Vec<RemoveEvent>, StoreError> {
        let _lock = self.lock()?;
        let mut index = self.read_index()?;
        let records = self.records(&index)?;
        let (i, how) = self.lookup(&records, name_or_id)?;
        let record = &records[i];
        let familiar = |n: &String| {
            ImageReference::parse(n)
                .map(|r| r.familiar())
                .unwrap_or_else(|_| n.clone())
        };
        let drop_names: Vec<String> = match &how {
            Match::Name(full) => vec![full.clone()],
            Match::Digest(repo) => record
                .names
                .iter()
                .filter(|n| {
                    ImageReference::parse(n).is_ok_and(|r| repository_of(&r).to_string() == *repo)
                })
                .cloned()
                .collect(),
            Match::Id => {
                let repos: BTreeSet<String> = record
                    .names
                    .iter()
                    .filter_map(|n| ImageReference::parse(n).ok())
                    .map(|r| repository_of(&r).to_string())
                    .collect();
                if repos.len() > 1 && !force {
                    return Err(StoreError::MultipleReferences {
                        id: short_id(record.id()).to_string(),
                        names: record
                            .names
                            .iter()
                            .map(familiar)
                            .collect::<Vec<_>>()
                            .join(", "),
                    });
                }
                record.names.clone()
            }
        };
        let mut events: Vec<RemoveEvent> = drop_names
            .iter()
            .map(|n| RemoveEvent::Untagged(familiar(n)))
            .collect();
        let digest = record.manifest.digest.clone();
        let remaining = record
            .names
            .iter()
            .filter(|n| !drop_names.contains(n))
            .count();
        index.manifests.retain(|m| {
            if m.digest != digest {
                return true;
            }
            match m.annotations.get(layout::REF_NAME) {
                Some(name) => !drop_names.contains(name),
                None => remaining > 0,
            }
        });
        if remaining == 0 {
            index.manifests.retain(|m| m.digest != digest);
            events.push(RemoveEvent::Deleted(record.id().to_string()));
        }
        self.write_index(&index)?;
        if remaining == 0 {
            self.collect_garbage_locked(&index)?;
        }
        Ok(events)
    }

    /// Deletes blobs and unpacked layers that no image in `index` references
    /// and no live [`Pin`] keeps, and leftovers of interrupted writes.
    pub(crate) fn collect_garbage_locked(&self, index: &Index) -> Result<(), StoreError> {
        let pinned = self.pinned_locked()?;
        let mut live_blobs = pinned.blobs;
        let mut live_layers = pinned.layers;
        for record in self.records(index)? {
            live_blobs.insert(record.manifest.digest.clone());
            live_blobs.insert(record.doc.config.digest.clone());
            live_blobs.extend(record.doc.layers.iter().map(|l| l.digest.clone()));
            if let Ok(config) = self.read_config(record.id()) {
                live_layers.extend(config.rootfs.diff_ids);
            }
        }
        let sweep = |dir: &Path, live: &BTreeSet<String>| -> Result<(), StoreError> {
            let entries =
                fs::read_dir(dir).map_err(io_err(format!("listing {}", dir.display())))?;
            for entry in entries.flatten() {
                let name = entry.file_name().to_string_lossy().into_owned();
                if live.contains(&format!("sha256:{name}")) {
                    continue;
                }
                let path = entry.path();
                tracing::debug!(path = %path.display(), "removing unreferenced content");
                let removed = if path.is_dir() && !path.is_symlink() {
                    fs::remove_dir_all(&path)
                } else {
                    fs::remove_file(&path)
                };
                removed.map_err(io_err(format!("removing {}", path.display())))?;
            }
            Ok(())
        };
        sweep(&self.blobs, &live_blobs)?;
        sweep(&self.layers, &live_layers)
    }
}

/// Points `name` at `desc` (image `id`): the name leaves any image it named
/// (kept as a dangling image if it had no other name and is another image
/// than `id`: the same config under another manifest is the same image), and
/// `desc` stops being dangling.
fn set_name(
    index: &mut Index,
    records: &[Record],
    desc: &Descriptor,
    id: &str,
    name: &str,
    annotations: BTreeMap<String, String>,
) {
    let named =
        |m: &Descriptor| m.annotations.get(layout::REF_NAME).map(String::as_str) == Some(name);
    if let Some(old) = index
        .manifests
        .iter()
        .find(|m| named(m))
        .map(|m| m.digest.clone())
    {
        index.manifests.retain(|m| !named(m));
        let orphaned = old != desc.digest
            && !index.manifests.iter().any(|m| m.digest == old)
            && records
                .iter()
                .any(|r| r.manifest.digest == old && r.id() != id);
        if orphaned {
            let record = records
                .iter()
                .find(|r| r.manifest.digest == old)
                .expect("checked");
            index.manifests.push(record.manifest.clone());
        }
    }
    index
        .manifests
        .retain(|m| m.digest != desc.digest || m.annotations.contains_key(layout::REF_NAME));
    let mut entry = desc.clone();
    entry.annotations = annotations;
    entry
        .annotations
        .insert(layout::TAGGED.to_string(), crate::timestamp::now());
    entry.platform = None;
    index.manifests.push(entry);
}

/// The repository part of a reference (no tag, no digest).
pub(crate) fn repository_of(reference: &ImageReference) -> ImageReference {
    ImageReference {
        tag: None,
        digest: None,
        ..reference.clone()
    }
}

/// The 12 hex digits Docker shows of an ID.
pub fn short_id(id: &str) -> &str {
    let hex = id.strip_prefix("sha256:").unwrap_or(id);
    &hex[..hex.len().min(12)]
}

#[cfg(test)]
mod tests;
