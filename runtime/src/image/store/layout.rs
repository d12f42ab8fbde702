//! The on-disk layout of the store: paths, the OCI JSON documents it keeps
//! (`index.json`, manifests, indexes), atomic writes, the store lock and the
//! blob writer that verifies content as it lands.

use super::StoreError;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

/// Annotation naming an image in `index.json` (fully qualified reference).
pub const REF_NAME: &str = "org.opencontainers.image.ref.name";
/// Annotation containerd (and `docker save` since 25) uses for the full name.
pub const CONTAINERD_NAME: &str = "io.containerd.image.name";
/// berth's annotation: the `repo@digest` an image was pulled as.
pub const REPO_DIGEST: &str = "dev.berth.image.repo-digest";
/// Index annotation: when a name was last set on an image (pulled, loaded,
/// tagged), RFC 3339; periodic pull policies (`daily`) compare against it.
pub const TAGGED: &str = "dev.berth.image.tagged";

pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
pub const OCI_CONFIG: &str = "application/vnd.oci.image.config.v1+json";
pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
pub const DOCKER_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";

/// A content descriptor, as OCI defines it (the fields berth uses).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Descriptor {
    #[serde(default)]
    pub media_type: String,
    pub digest: String,
    #[serde(default)]
    pub size: u64,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<Platform>,
}

/// A platform in an index.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Platform {
    #[serde(default)]
    pub architecture: String,
    #[serde(default)]
    pub os: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
}

impl Platform {
    pub fn is_linux_amd64(&self) -> bool {
        self.os == "linux" && self.architecture == "amd64"
    }
}

impl std::fmt::Display for Platform {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.os, self.architecture)?;
        if let Some(v) = &self.variant {
            write!(f, "/{v}")?;
        }
        Ok(())
    }
}

/// An image index (also `index.json` of a layout, and Docker manifest lists).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Index {
    pub schema_version: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    #[serde(default)]
    pub manifests: Vec<Descriptor>,
}

impl Default for Index {
    fn default() -> Self {
        Index {
            schema_version: 2,
            media_type: Some(OCI_INDEX.to_string()),
            manifests: Vec::new(),
        }
    }
}

/// An image manifest (OCI or Docker schema 2: the same shape).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Manifest {
    pub schema_version: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    pub config: Descriptor,
    #[serde(default)]
    pub layers: Vec<Descriptor>,
}

/// Is this media type (or, lacking one, this document) an index?
pub fn is_index(media_type: Option<&str>, bytes: &[u8]) -> bool {
    match media_type {
        Some(OCI_INDEX) | Some(DOCKER_LIST) => true,
        Some(OCI_MANIFEST) | Some(DOCKER_MANIFEST) => false,
        _ => {
            #[derive(Deserialize)]
            struct Probe {
                #[serde(default)]
                manifests: Option<serde_json::Value>,
                #[serde(default)]
                config: Option<serde_json::Value>,
            }
            serde_json::from_slice::<Probe>(bytes)
                .is_ok_and(|p| p.manifests.is_some() && p.config.is_none())
        }
    }
}

/// `sha256:<hex>` of some bytes.
pub fn sha256_digest(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(bytes)))
}

/// The hex part of a `sha256:` digest, if it is one (64 lowercase hex digits).
pub fn sha256_hex(digest: &str) -> Option<&str> {
    let hex = digest.strip_prefix("sha256:")?;
    (hex.len() == 64 && hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))).then_some(hex)
}

pub fn io_err(action: impl Into<String>) -> impl FnOnce(io::Error) -> StoreError {
    let action = action.into();
    move |source| StoreError::Io { action, source }
}

pub use crate::atomic_file::{sync_dir, temp_sibling};

/// Mode of the store's documents (`index.json`, `oci-layout`): not secret,
/// and under the private state root.
const DOCUMENT_MODE: u32 = 0o644;

/// Writes `bytes` to `path` atomically and durably ([`crate::atomic_file`]).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), StoreError> {
    crate::atomic_file::write(path, bytes, DOCUMENT_MODE)
        .map_err(io_err(format!("writing {}", path.display())))
}

/// Reads a JSON document, naming the file when it is not valid.
pub fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T, StoreError> {
    let bytes = fs::read(path).map_err(io_err(format!("reading {}", path.display())))?;
    serde_json::from_slice(&bytes).map_err(|e| StoreError::Corrupt {
        what: path.display().to_string(),
        reason: e.to_string(),
    })
}

/// Held while a command reads (shared) or changes (exclusive) the store.
pub struct StoreLock {
    _lock: nix::fcntl::Flock<File>,
}

impl StoreLock {
    pub fn acquire(path: &Path, exclusive: bool) -> Result<StoreLock, StoreError> {
        let file = fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(path)
            .map_err(io_err(format!("opening the store lock {}", path.display())))?;
        let arg = if exclusive {
            nix::fcntl::FlockArg::LockExclusive
        } else {
            nix::fcntl::FlockArg::LockShared
        };
        let lock = nix::fcntl::Flock::lock(file, arg).map_err(|(_, errno)| StoreError::Io {
            action: format!("locking {}", path.display()),
            source: io::Error::from(errno),
        })?;
        Ok(StoreLock { _lock: lock })
    }
}

/// Streams a blob into the store: hashed while written to a temporary file,
/// verified, fsynced and renamed into `blobs/sha256/<hex>` by [`BlobWriter::commit`].
pub struct BlobWriter {
    blobs_dir: PathBuf,
    tmp: PathBuf,
    file: Option<File>,
    hasher: Sha256,
    size: u64,
}

impl BlobWriter {
    pub fn create(blobs_dir: &Path) -> Result<BlobWriter, StoreError> {
        let tmp = temp_sibling(&blobs_dir.join("blob"));
        let file = File::create(&tmp).map_err(io_err(format!("creating {}", tmp.display())))?;
        Ok(BlobWriter {
            blobs_dir: blobs_dir.to_path_buf(),
            tmp,
            file: Some(file),
            hasher: Sha256::new(),
            size: 0,
        })
    }

    /// Bytes written so far.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Copies a whole reader in.
    pub fn copy_from(&mut self, mut reader: impl Read) -> Result<(), StoreError> {
        let mut buf = vec![0u8; 256 * 1024];
        loop {
            let n = reader
                .read(&mut buf)
                .map_err(io_err("reading blob content"))?;
            if n == 0 {
                return Ok(());
            }
            self.write_all(&buf[..n])
                .map_err(io_err(format!("writing {}", self.tmp.display())))?;
        }
    }

    /// Verifies the content against `expected` (when given), then moves it into
    /// place. Returns the digest and size. A blob already present is kept.
    pub fn commit(mut self, expected: Option<&str>) -> Result<(String, u64), StoreError> {
        let digest = format!("sha256:{}", hex::encode(self.hasher.clone().finalize()));
        if let Some(expected) = expected {
            if expected != digest {
                return Err(StoreError::DigestMismatch {
                    what: "blob".to_string(),
                    expected: expected.to_string(),
                    actual: digest,
                });
            }
        }
        let file = self.file.take().expect("blob file open until commit");
        let hex = &digest["sha256:".len()..];
        let dest = self.blobs_dir.join(hex);
        let tmp = self.tmp.clone();
        (|| {
            file.sync_all()?;
            drop(file);
            if dest.exists() {
                fs::remove_file(&tmp)
            } else {
                fs::rename(&tmp, &dest)?;
                sync_dir(&self.blobs_dir)
            }
        })()
        .map_err(io_err(format!("storing blob {digest}")))?;
        Ok((digest, self.size))
    }
}

impl Write for BlobWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let file = self.file.as_mut().ok_or(io::ErrorKind::BrokenPipe)?;
        let n = file.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.size += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Drop for BlobWriter {
    fn drop(&mut self) {
        if self.file.take().is_some() {
            let _ = fs::remove_file(&self.tmp);
        }
    }
}

/// The linux/amd64 entry of an index, or the platforms it does have.
pub fn pick_linux_amd64(index: &Index) -> Result<&Descriptor, Vec<String>> {
    index
        .manifests
        .iter()
        .find(|m| m.platform.as_ref().is_some_and(Platform::is_linux_amd64))
        .ok_or_else(|| {
            index
                .manifests
                .iter()
                .map(|m| {
                    m.platform
                        .as_ref()
                        .map_or_else(|| "unknown".to_string(), Platform::to_string)
                })
                .collect()
        })
}

/// The OCI layer media type for a compression.
pub fn layer_media_type(compression: crate::image::unpack::Compression) -> &'static str {
    use crate::image::unpack::Compression;
    match compression {
        Compression::None => "application/vnd.oci.image.layer.v1.tar",
        Compression::Gzip => "application/vnd.oci.image.layer.v1.tar+gzip",
        Compression::Zstd => "application/vnd.oci.image.layer.v1.tar+zstd",
    }
}

/// An OCI image manifest for a configuration and layers.
pub fn oci_manifest(config: Descriptor, layers: Vec<Descriptor>) -> Vec<u8> {
    let manifest = Manifest {
        schema_version: 2,
        media_type: Some(OCI_MANIFEST.to_string()),
        config,
        layers,
    };
    serde_json::to_vec(&manifest).expect("manifest serializes")
}

/// A descriptor without annotations or platform.
pub fn descriptor(media_type: &str, digest: String, size: u64) -> Descriptor {
    Descriptor {
        media_type: media_type.to_string(),
        digest,
        size,
        annotations: BTreeMap::new(),
        platform: None,
    }
}
