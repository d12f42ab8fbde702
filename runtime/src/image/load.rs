//! `berth image load`: image archives made by `docker save` (a
//! `manifest.json` listing Config, RepoTags and Layers) or OCI image layout
//! tarballs (`oci-layout`, `index.json`, `blobs/`), plain or compressed.
//!
//! The archive is unpacked into a scratch directory under the state root
//! (it has to be: `docker save` puts `manifest.json` last, after the layers
//! it describes). OCI layouts are copied blob by blob, every blob verified
//! against its digest; names come from `io.containerd.image.name` or, when it
//! names a repository (not just a tag), `org.opencontainers.image.ref.name`;
//! a nested index contributes its linux/amd64 image. `docker save` images are
//! converted into OCI manifests: the configuration is kept byte for byte (so the
//! image ID does not change) and layers are kept as they are in the archive
//! (plain tar stays plain, compressed stays compressed), each layer's media
//! type saying which; their diff IDs are checked against the configuration as
//! they are unpacked.

use crate::image::store::layout::{
    self, descriptor, is_index, layer_media_type, oci_manifest, pick_linux_amd64, Descriptor, Index,
};
use crate::image::store::{ImageStore, StoreError};
use crate::image::unpack::Compression;
use crate::image::ImageReference;
use serde::Deserialize;
use std::fs::{self, File};
use std::io::{self, BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

/// Why an archive could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("not a valid image archive: {0}")]
    Archive(String),
    #[error("the archive's index has no linux/amd64 image (it has: {})", .available.join(", "))]
    NoPlatform { available: Vec<String> },
    #[error("{action}: {source}")]
    Io {
        action: String,
        #[source]
        source: io::Error,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// One image loaded from an archive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadedImage {
    /// Its names, familiar form (`redis:latest`); empty for an unnamed image.
    pub names: Vec<String>,
    /// Its image ID.
    pub id: String,
}

impl LoadedImage {
    /// Docker's report lines: `Loaded image: NAME` or `Loaded image ID: ID`.
    pub fn report(&self) -> Vec<String> {
        if self.names.is_empty() {
            vec![format!("Loaded image ID: {}", self.id)]
        } else {
            self.names
                .iter()
                .map(|n| format!("Loaded image: {n}"))
                .collect()
        }
    }
}

/// Wraps a reader in the decompressor its first bytes call for.
pub(crate) fn decompressed<'a>(reader: impl Read + 'a) -> io::Result<Box<dyn Read + 'a>> {
    let mut reader = BufReader::with_capacity(256 * 1024, reader);
    let compression = Compression::sniff(reader.fill_buf()?);
    Ok(match compression {
        Compression::None => Box::new(reader),
        Compression::Gzip => Box::new(flate2::read::GzDecoder::new(reader)),
        Compression::Zstd => Box::new(zstd::stream::read::Decoder::with_buffer(reader)?),
    })
}

/// A scratch directory removed when dropped.
pub(crate) struct Scratch(pub PathBuf);

impl Scratch {
    pub fn new(store: &ImageStore, what: &str) -> Result<Scratch, LoadError> {
        let path = layout::temp_sibling(&store.tmp_dir().join(what));
        fs::create_dir_all(&path).map_err(|source| LoadError::Io {
            action: format!("creating {}", path.display()),
            source,
        })?;
        Ok(Scratch(path))
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// Loads every image of an archive into the store.
pub fn load(store: &ImageStore, archive: impl Read) -> Result<Vec<LoadedImage>, LoadError> {
    let _lock = store.lock()?;
    let scratch = Scratch::new(store, "load")?;
    let reader = decompressed(archive).map_err(|source| LoadError::Io {
        action: "reading the archive".to_string(),
        source,
    })?;
    let mut tar = tar::Archive::new(reader);
    tar.set_preserve_permissions(false);
    tar.unpack(&scratch.0)
        .map_err(|e| LoadError::Archive(format!("cannot read it as a tar archive: {e}")))?;
    let dir = &scratch.0;
    if dir.join("index.json").is_file() && dir.join("oci-layout").is_file() {
        load_oci(store, dir)
    } else if dir.join("manifest.json").is_file() {
        load_docker(store, dir)
    } else {
        Err(LoadError::Archive(
            "it has neither manifest.json (docker save) nor oci-layout and index.json (OCI layout)"
                .to_string(),
        ))
    }
}

/// A member of the unpacked archive, which must stay inside it.
fn member(dir: &Path, relative: &str) -> Result<PathBuf, LoadError> {
    let missing = || LoadError::Archive(format!("it lacks {relative:?}"));
    let path = dir.join(relative);
    let real = path.canonicalize().map_err(|_| missing())?;
    let base = dir.canonicalize().map_err(|_| missing())?;
    if !real.starts_with(&base) || !real.is_file() {
        return Err(missing());
    }
    Ok(real)
}

fn read_member_json<T: serde::de::DeserializeOwned>(
    dir: &Path,
    relative: &str,
) -> Result<T, LoadError> {
    let bytes = fs::read(member(dir, relative)?).map_err(|source| LoadError::Io {
        action: format!("reading {relative} in the archive"),
        source,
    })?;
    serde_json::from_slice(&bytes).map_err(|e| LoadError::Archive(format!("{relative}: {e}")))
}

fn blob_member(digest: &str) -> Result<String, LoadError> {
    let hex = layout::sha256_hex(digest).ok_or_else(|| {
        LoadError::Archive(format!("unsupported digest {digest:?} (only sha256)"))
    })?;
    Ok(format!("blobs/sha256/{hex}"))
}

/// Copies a blob of an OCI layout into the store (verified), unless present.
fn copy_blob(store: &ImageStore, dir: &Path, digest: &str) -> Result<(), LoadError> {
    if store.has_blob(digest) {
        return Ok(());
    }
    let relative = blob_member(digest)?;
    let file = File::open(member(dir, &relative)?).map_err(|source| LoadError::Io {
        action: format!("reading {relative} in the archive"),
        source,
    })?;
    store.ingest_blob_locked(file, Some(digest))?;
    Ok(())
}

/// The name an OCI index entry gives its image, if any.
fn oci_name(entry: &Descriptor) -> Option<ImageReference> {
    if let Some(name) = entry.annotations.get(layout::CONTAINERD_NAME) {
        if let Ok(r) = ImageReference::parse(name) {
            return Some(r);
        }
    }
    let name = entry.annotations.get(layout::REF_NAME)?;
    if !name.contains([':', '/']) {
        return None; // only a tag: no repository to put it in
    }
    ImageReference::parse(name).ok()
}

fn load_oci(store: &ImageStore, dir: &Path) -> Result<Vec<LoadedImage>, LoadError> {
    let index: Index = read_member_json(dir, "index.json")?;
    let mut loaded: Vec<LoadedImage> = Vec::new();
    for entry in &index.manifests {
        let names: Vec<ImageReference> = oci_name(entry).into_iter().collect();
        let mut desc = entry.clone();
        // Descend through nested indexes to the linux/amd64 image manifest.
        loop {
            let bytes = fs::read(member(dir, &blob_member(&desc.digest)?)?).map_err(|source| {
                LoadError::Io {
                    action: format!("reading blob {}", desc.digest),
                    source,
                }
            })?;
            let media_type = (!desc.media_type.is_empty()).then_some(desc.media_type.as_str());
            if !is_index(media_type, &bytes) {
                break;
            }
            let nested: Index = serde_json::from_slice(&bytes)
                .map_err(|e| LoadError::Archive(format!("index {}: {e}", desc.digest)))?;
            desc = pick_linux_amd64(&nested)
                .map_err(|available| LoadError::NoPlatform { available })?
                .clone();
        }
        copy_blob(store, dir, &desc.digest)?;
        let manifest: layout::Manifest = serde_json::from_slice(&store.read_blob(&desc.digest)?)
            .map_err(|e| LoadError::Archive(format!("manifest {}: {e}", desc.digest)))?;
        for blob in std::iter::once(&manifest.config).chain(&manifest.layers) {
            copy_blob(store, dir, &blob.digest)?;
        }
        if desc.media_type.is_empty() {
            desc.media_type = manifest
                .media_type
                .clone()
                .unwrap_or_else(|| layout::OCI_MANIFEST.to_string());
        }
        let id = store.add_image_locked(desc, &names, None)?;
        let familiar: Vec<String> = names.iter().map(ImageReference::familiar).collect();
        match loaded.iter_mut().find(|l| l.id == id) {
            Some(l) => l.names.extend(familiar),
            None => loaded.push(LoadedImage {
                names: familiar,
                id,
            }),
        }
    }
    Ok(loaded)
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct DockerSaveEntry {
    config: String,
    #[serde(default)]
    repo_tags: Option<Vec<String>>,
    #[serde(default)]
    layers: Vec<String>,
}

fn load_docker(store: &ImageStore, dir: &Path) -> Result<Vec<LoadedImage>, LoadError> {
    let entries: Vec<DockerSaveEntry> = read_member_json(dir, "manifest.json")?;
    let mut loaded = Vec::new();
    for entry in entries {
        let names = entry
            .repo_tags
            .unwrap_or_default()
            .iter()
            .map(|t| ImageReference::parse(t))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| LoadError::Archive(format!("manifest.json: {e}")))?;
        let open = |relative: &str| {
            File::open(member(dir, relative)?).map_err(|source| LoadError::Io {
                action: format!("reading {relative} in the archive"),
                source,
            })
        };
        let (config_digest, config_size) = store.ingest_blob_locked(open(&entry.config)?, None)?;
        let mut layers = Vec::new();
        for relative in &entry.layers {
            let mut magic = [0u8; 4];
            let n =
                read_prefix(&mut open(relative)?, &mut magic).map_err(|source| LoadError::Io {
                    action: format!("reading {relative} in the archive"),
                    source,
                })?;
            let media_type = layer_media_type(Compression::sniff(&magic[..n]));
            let (digest, size) = store.ingest_blob_locked(open(relative)?, None)?;
            layers.push(descriptor(media_type, digest, size));
        }
        let config = descriptor(layout::OCI_CONFIG, config_digest, config_size);
        let manifest = oci_manifest(config, layers);
        let (digest, size) = store.ingest_bytes_locked(&manifest)?;
        let desc = descriptor(layout::OCI_MANIFEST, digest, size);
        let id = store.add_image_locked(desc, &names, None)?;
        loaded.push(LoadedImage {
            names: names.iter().map(ImageReference::familiar).collect(),
            id,
        });
    }
    Ok(loaded)
}

fn read_prefix(reader: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match reader.read(&mut buf[filled..])? {
            0 => break,
            n => filled += n,
        }
    }
    Ok(filled)
}
