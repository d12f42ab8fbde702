//! Committing images: a base image (or `scratch`) plus build steps becomes
//! a new image in the store, as `berth build` makes them.
//!
//! An [`ImageBuild`] starts from a base and gathers, step by step, layers
//! made from containers' overlay upper directories ([`crate::image::diff`]),
//! changes to the container configuration ([`ContainerConfig`]) and a
//! history entry per step (`empty_layer` for steps that change only the
//! configuration). Each layer is stored when its step ends, as a blob and
//! unpacked under `layers/` like a pulled layer, so the next step's
//! container can run on it ([`ImageBuild::image`]). [`ImageBuild::commit`]
//! writes the OCI configuration and manifest and names the image in the
//! index: from then on `image ls`, `image inspect`, `save`, `push` and `up`
//! see it as any pulled image.
//!
//! Until then nothing the build made is referenced by an image: a pin
//! ([`crate::image::store::Pin`]) keeps the base and the new layers from
//! `remove`'s garbage collection, and a build dropped without committing
//! (an error, a failed step) releases its pin and deletes what only it
//! used. A build killed outright leaves a stale pin, which the next
//! collection ignores and deletes.

use crate::image::diff::{self, DiffError, DiffOptions, LayerDiff};
use crate::image::store::layout::{self, descriptor, layer_media_type, oci_manifest, Manifest};
use crate::image::store::{Descriptor, ImageStore, Pin, StoreError};
use crate::image::unpack::Compression;
use crate::image::{ImageReference, ReferenceError, ResolvedImage};
use crate::timestamp;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Why a build could not be committed.
#[derive(Debug, thiserror::Error)]
pub enum CommitError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Diff(#[from] DiffError),
    #[error(transparent)]
    Reference(#[from] ReferenceError),
    #[error("the base image {base}'s configuration is not a JSON object")]
    BaseConfig { base: String },
}

/// An image's container configuration (the `config` object of an OCI image
/// configuration, with Docker's extensions), as build steps change it.
/// Fields berth does not know are kept as they were.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ContainerConfig {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// `"80/tcp"` → `{}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exposed_ports: Option<BTreeMap<String, Map<String, Value>>>,
    /// `KEY=VALUE`, in order.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub env: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entrypoint: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cmd: Option<Vec<String>>,
    /// Path → `{}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub volumes: Option<BTreeMap<String, Map<String, Value>>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub working_dir: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub labels: Option<BTreeMap<String, String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop_signal: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub healthcheck: Option<Healthcheck>,
    /// `ONBUILD` instructions, kept for images built FROM this one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_build: Option<Vec<String>>,
    /// The shell of shell-form instructions (`SHELL`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shell: Option<Vec<String>>,
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

/// Docker's `Healthcheck` extension of the image configuration; durations in
/// nanoseconds, absent when not set.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Healthcheck {
    /// `["NONE"]`, `["CMD", args…]` or `["CMD-SHELL", command]`.
    #[serde(default)]
    pub test: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interval: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_period: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_interval: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retries: Option<i64>,
}

impl ContainerConfig {
    /// Sets `key` in `Env`, replacing an earlier value in place.
    pub fn set_env(&mut self, key: &str, value: &str) {
        let env = self.env.get_or_insert_with(Vec::new);
        let entry = format!("{key}={value}");
        match env
            .iter_mut()
            .find(|e| e.split_once('=').map_or(e.as_str(), |(k, _)| k) == key)
        {
            Some(existing) => *existing = entry,
            None => env.push(entry),
        }
    }

    /// Sets a label.
    pub fn set_label(&mut self, key: &str, value: &str) {
        self.labels
            .get_or_insert_with(BTreeMap::new)
            .insert(key.to_string(), value.to_string());
    }

    /// Exposes a port, `PORT/PROTO` (`80/tcp`).
    pub fn expose(&mut self, port: &str) {
        self.exposed_ports
            .get_or_insert_with(BTreeMap::new)
            .insert(port.to_string(), Map::new());
    }

    /// Declares a volume.
    pub fn add_volume(&mut self, path: &str) {
        self.volumes
            .get_or_insert_with(BTreeMap::new)
            .insert(path.to_string(), Map::new());
    }
}

/// A committed image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommittedImage {
    /// The image ID (`sha256:` of its configuration).
    pub id: String,
    /// The digest of its manifest.
    pub manifest_digest: String,
}

/// An image being built; see the module documentation.
#[derive(Debug)]
pub struct ImageBuild {
    store: ImageStore,
    /// Name the base was given as, for messages; `scratch` for none.
    base: String,
    /// The base's configuration document, fields berth does not change
    /// (author, variant, …) kept.
    document: Map<String, Value>,
    config: ContainerConfig,
    layers: Vec<Descriptor>,
    diff_ids: Vec<String>,
    layer_dirs: Vec<PathBuf>,
    history: Vec<Value>,
    /// Fixed creation time (seconds since the epoch) for reproducible images.
    created: Option<i64>,
    pin: Option<Pin>,
}

/// Fields of a base configuration that describe how the base was made, not
/// the new image.
const BASE_ONLY_FIELDS: [&str; 5] = [
    "container",
    "container_config",
    "docker_version",
    "id",
    "parent",
];

impl ImageBuild {
    /// Starts from an image in the store (name, `name@digest` or ID),
    /// keeping it (and so its layers) until the build ends.
    pub fn from_base(store: &ImageStore, base: &str) -> Result<ImageBuild, CommitError> {
        let resolved = store.resolve(base)?;
        let _lock = store.lock()?;
        let manifest: Manifest =
            serde_json::from_slice(&store.read_blob(&resolved.manifest_digest)?).map_err(|e| {
                StoreError::Corrupt {
                    what: format!("manifest {}", resolved.manifest_digest),
                    reason: e.to_string(),
                }
            })?;
        let document: Map<String, Value> = serde_json::from_slice(&store.read_blob(&resolved.id)?)
            .map_err(|_| CommitError::BaseConfig {
                base: base.to_string(),
            })?;
        // Unpacked again if a removal got there between resolving and locking.
        let layer_dirs = store.unpack_layers_locked(&manifest)?;
        let diff_ids = document
            .get("rootfs")
            .and_then(|r| r.get("diff_ids"))
            .and_then(|d| serde_json::from_value::<Vec<String>>(d.clone()).ok())
            .unwrap_or_default();
        let config = document
            .get("config")
            .filter(|c| !c.is_null())
            .map(|c| serde_json::from_value(c.clone()))
            .transpose()
            .map_err(|_| CommitError::BaseConfig {
                base: base.to_string(),
            })?
            .unwrap_or_default();
        let history = match document.get("history") {
            Some(Value::Array(entries)) => entries.clone(),
            _ => Vec::new(),
        };
        let blobs: Vec<String> = [resolved.manifest_digest.clone(), resolved.id.clone()]
            .into_iter()
            .chain(manifest.layers.iter().map(|l| l.digest.clone()))
            .collect();
        let mut pin = store.pin_locked()?;
        if let Err(err) = pin.add(blobs, diff_ids.clone()) {
            let _ = pin.release();
            return Err(err.into());
        }
        let layers = manifest.layers.into_iter().map(oci_layer).collect();
        let mut document = document;
        for field in BASE_ONLY_FIELDS {
            document.remove(field);
        }
        Ok(ImageBuild {
            store: store.clone(),
            base: base.to_string(),
            document,
            config,
            layers,
            diff_ids,
            layer_dirs,
            history,
            created: None,
            pin: Some(pin),
        })
    }

    /// Starts from nothing (`FROM scratch`): no layers, an empty
    /// configuration, this machine's platform.
    pub fn scratch(store: &ImageStore) -> Result<ImageBuild, CommitError> {
        let pin = {
            let _lock = store.lock()?;
            store.pin_locked()?
        };
        let mut document = Map::new();
        document.insert("architecture".into(), native_architecture().into());
        document.insert("os".into(), "linux".into());
        Ok(ImageBuild {
            store: store.clone(),
            base: "scratch".to_string(),
            document,
            config: ContainerConfig::default(),
            layers: Vec::new(),
            diff_ids: Vec::new(),
            layer_dirs: Vec::new(),
            history: Vec::new(),
            created: None,
            pin: Some(pin),
        })
    }

    /// What the base was given as (`scratch` for none).
    pub fn base(&self) -> &str {
        &self.base
    }

    /// The container configuration so far.
    pub fn config(&self) -> &ContainerConfig {
        &self.config
    }

    /// The container configuration, to change (record the step with
    /// [`ImageBuild::add_history`]).
    pub fn config_mut(&mut self) -> &mut ContainerConfig {
        &mut self.config
    }

    /// Gives the image and every step from now on a fixed creation time
    /// (seconds since the epoch), for reproducible images.
    pub fn set_created(&mut self, unix_seconds: i64) {
        self.created = Some(unix_seconds);
    }

    /// The unpacked layer directories so far, bottom first.
    pub fn layer_dirs(&self) -> &[PathBuf] {
        &self.layer_dirs
    }

    fn created_now(&self) -> String {
        timestamp::format_rfc3339(self.created.unwrap_or_else(timestamp::now_unix))
    }

    /// Records a step that changed only the configuration (`ENV`, `CMD`, …).
    pub fn add_history(&mut self, created_by: &str) {
        let entry = json!({
            "created": self.created_now(),
            "created_by": created_by,
            "empty_layer": true,
        });
        self.history.push(entry);
    }

    /// Stores the changes in an overlay upper directory as the next layer
    /// (blob and unpacked form) and records the step that made them.
    pub fn add_layer(
        &mut self,
        upper: &Path,
        options: &DiffOptions,
        created_by: &str,
    ) -> Result<LayerDiff, CommitError> {
        let _lock = self.store.lock()?;
        let mut writer = self.store.blob_writer_locked()?;
        let layer = diff::write_layer(upper, &mut writer, options)?;
        let (digest, size) = writer.commit(Some(&layer.digest))?;
        let pin = self
            .pin
            .as_mut()
            .expect("a build holds its pin until it ends");
        pin.add([digest.clone()], [layer.diff_id.clone()])?;
        let desc = descriptor(layer.media_type, digest, size);
        let dir = self.store.layer_path(&layer.diff_id)?;
        if !dir.is_dir() {
            self.store.unpack_one_locked(&desc, &layer.diff_id, &dir)?;
        }
        tracing::debug!(layer = %desc.digest, diff_id = %layer.diff_id, step = created_by, "stored a build layer");
        self.layers.push(desc);
        self.diff_ids.push(layer.diff_id.clone());
        self.layer_dirs.push(dir);
        let entry = json!({"created": self.created_now(), "created_by": created_by});
        self.history.push(entry);
        Ok(layer)
    }

    /// The image configuration document as it stands.
    fn document(&self) -> Value {
        let mut doc = self.document.clone();
        doc.insert("created".into(), self.created_now().into());
        let config = serde_json::to_value(&self.config).expect("configuration serializes");
        doc.insert("config".into(), config);
        doc.insert(
            "rootfs".into(),
            json!({"type": "layers", "diff_ids": self.diff_ids}),
        );
        if !self.history.is_empty() {
            doc.insert("history".into(), Value::Array(self.history.clone()));
        }
        Value::Object(doc)
    }

    /// The image as it stands, to run the next step's container on (its ID
    /// is the configuration's digest, not yet stored; no manifest yet).
    pub fn image(&self) -> Result<ResolvedImage, CommitError> {
        let bytes = serde_json::to_vec(&self.document()).expect("configuration serializes");
        let config = serde_json::from_slice(&bytes).map_err(|e| StoreError::Corrupt {
            what: format!("the configuration of the image built on {}", self.base),
            reason: e.to_string(),
        })?;
        Ok(ResolvedImage {
            id: layout::sha256_digest(&bytes),
            manifest_digest: String::new(),
            config,
            layers: self.layer_dirs.clone(),
        })
    }

    /// Writes the image's configuration and manifest and adds it to the
    /// index, named `tag` (`name[:tag]`) or dangling. Nothing is visible
    /// unless all of it is written.
    pub fn commit(mut self, tag: Option<&str>) -> Result<CommittedImage, CommitError> {
        let names: Vec<ImageReference> = tag
            .map(ImageReference::parse)
            .transpose()?
            .into_iter()
            .collect();
        let config_bytes = serde_json::to_vec(&self.document()).expect("configuration serializes");
        let _lock = self.store.lock()?;
        let (config_digest, config_size) = self.store.ingest_bytes_locked(&config_bytes)?;
        let pin = self
            .pin
            .as_mut()
            .expect("a build holds its pin until it ends");
        pin.add([config_digest.clone()], [])?;
        let manifest = oci_manifest(
            descriptor(layout::OCI_CONFIG, config_digest, config_size),
            self.layers.clone(),
        );
        let (manifest_digest, manifest_size) = self.store.ingest_bytes_locked(&manifest)?;
        pin.add([manifest_digest.clone()], [])?;
        let id = self.store.add_image_locked(
            descriptor(layout::OCI_MANIFEST, manifest_digest.clone(), manifest_size),
            &names,
            None,
        )?;
        // The index references everything now; the pin can go.
        let pin = self.pin.take().expect("held until now");
        if let Err(err) = pin.release() {
            tracing::warn!(%err, "could not remove a build's pin; the next image removal will");
        }
        tracing::debug!(%id, base = %self.base, "committed an image");
        Ok(CommittedImage {
            id,
            manifest_digest,
        })
    }
}

impl Drop for ImageBuild {
    /// A build that ends without a commit leaves nothing behind: its pin
    /// goes, then whatever only it kept (its layers, blobs it wrote).
    fn drop(&mut self) {
        let Some(pin) = self.pin.take() else {
            return;
        };
        let cleaned = (|| -> Result<(), StoreError> {
            let _lock = self.store.lock()?;
            pin.release()?;
            let index = self.store.read_index()?;
            self.store.collect_garbage_locked(&index)
        })();
        if let Err(err) = cleaned {
            tracing::warn!(%err, base = %self.base, "could not clean up after an abandoned build");
        }
    }
}

/// A base layer as an OCI manifest lists it (Docker media types become
/// their OCI equivalents; others are kept).
fn oci_layer(mut layer: Descriptor) -> Descriptor {
    let foreign =
        layer.media_type.contains("foreign") || layer.media_type.contains("nondistributable");
    if let Some(compression) = Compression::from_media_type(&layer.media_type).filter(|_| !foreign)
    {
        layer.media_type = layer_media_type(compression).to_string();
    }
    layer.annotations.clear();
    layer.platform = None;
    layer
}

/// This machine's architecture as OCI names it.
pub fn native_architecture() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "x86" => "386",
        "powerpc64" => "ppc64le",
        "loongarch64" => "loong64",
        other => other,
    }
}

#[cfg(test)]
mod tests;
