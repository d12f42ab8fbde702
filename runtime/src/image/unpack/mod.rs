//! Safe layer unpacking into a directory that becomes an overlayfs lower
//! layer: digests verified while streaming, OCI whiteouts turned into
//! overlay whiteouts, and no entry ever created or written outside the
//! layer directory (`..`, absolute paths and paths through symlinks are
//! refused with an error naming the layer and the entry).
//!
//! The directory is private to the unpacking process (a fresh temporary
//! directory the store renames into place), so checking each parent
//! component with `lstat` before use is race-free.

mod entry;

pub(crate) use entry::xattr_allowed;

use std::io::{self, Read};
use std::path::Path;

use sha2::{Digest, Sha256};

/// How a layer blob is compressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    None,
    Gzip,
    Zstd,
}

impl Compression {
    /// The compression a layer media type implies; `None` for media types
    /// that are not layers.
    pub fn from_media_type(media_type: &str) -> Option<Compression> {
        let media_type = media_type.trim();
        let is_layer = media_type.starts_with("application/vnd.oci.image.layer.")
            || media_type.starts_with("application/vnd.docker.image.rootfs.");
        if !is_layer {
            return None;
        }
        if media_type.ends_with("+gzip") || media_type.ends_with(".gzip") {
            Some(Compression::Gzip)
        } else if media_type.ends_with("+zstd") || media_type.ends_with(".zstd") {
            Some(Compression::Zstd)
        } else if media_type.ends_with(".tar") {
            Some(Compression::None)
        } else {
            None
        }
    }

    /// Sniffed from a blob's first bytes.
    pub fn sniff(magic: &[u8]) -> Compression {
        if magic.starts_with(&[0x1f, 0x8b]) {
            Compression::Gzip
        } else if magic.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
            Compression::Zstd
        } else {
            Compression::None
        }
    }
}

/// What unpacking produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnpackedLayer {
    /// `sha256:` of the uncompressed tar stream.
    pub diff_id: String,
    /// `sha256:` of the bytes read (the blob as stored).
    pub compressed_digest: String,
    /// Bytes read from the blob.
    pub size: u64,
}

/// Why a layer could not be unpacked.
#[derive(Debug, thiserror::Error)]
pub enum UnpackError {
    #[error("layer {layer}: {source}")]
    Io {
        layer: String,
        #[source]
        source: io::Error,
    },
    #[error("layer {layer}: entry {entry:?}: {source}")]
    Entry {
        layer: String,
        entry: String,
        #[source]
        source: io::Error,
    },
    #[error("layer {layer}: entry {entry:?} {reason}")]
    Unsafe {
        layer: String,
        entry: String,
        reason: &'static str,
    },
    #[error("layer {layer}: digest mismatch: expected {expected}, got {actual}")]
    DigestMismatch {
        layer: String,
        expected: String,
        actual: String,
    },
}

/// Counts and hashes the bytes read through it.
struct Hashing<R> {
    inner: R,
    hasher: Sha256,
    count: u64,
}

impl<R: Read> Hashing<R> {
    fn new(inner: R) -> Self {
        Hashing {
            inner,
            hasher: Sha256::new(),
            count: 0,
        }
    }

    fn digest(&self) -> String {
        format!("sha256:{}", hex::encode(self.hasher.clone().finalize()))
    }
}

impl<R: Read> Read for Hashing<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        self.count += n as u64;
        Ok(n)
    }
}

/// Unpacks `blob` (compressed as `compression`) into `dest`, a new or
/// empty directory. `layer` names the layer in errors. When
/// `expected_digest` is given, the blob's sha256 must match it.
pub fn unpack_layer(
    blob: impl Read,
    compression: Compression,
    dest: &Path,
    layer: &str,
    expected_digest: Option<&str>,
) -> Result<UnpackedLayer, UnpackError> {
    let io_error = |source| UnpackError::Io {
        layer: layer.to_string(),
        source,
    };
    std::fs::create_dir_all(dest).map_err(io_error)?;
    let mut raw = Hashing::new(blob);
    let decoder: Box<dyn Read + '_> = match compression {
        Compression::None => Box::new(&mut raw),
        Compression::Gzip => Box::new(flate2::read::MultiGzDecoder::new(&mut raw)),
        Compression::Zstd => {
            Box::new(zstd::stream::read::Decoder::new(&mut raw).map_err(io_error)?)
        }
    };
    let mut plain = Hashing::new(decoder);
    {
        let mut archive = tar::Archive::new(&mut plain);
        let mut unpacker = entry::Unpacker::new(dest, layer);
        for item in archive.entries().map_err(io_error)? {
            let mut item = item.map_err(io_error)?;
            unpacker.unpack(&mut item)?;
        }
        unpacker.finish()?;
    }
    // Hash whatever follows the end-of-archive marker too.
    io::copy(&mut plain, &mut io::sink()).map_err(io_error)?;
    let diff_id = plain.digest();
    drop(plain);
    io::copy(&mut raw, &mut io::sink()).map_err(io_error)?;
    let compressed_digest = raw.digest();
    if let Some(expected) = expected_digest {
        if expected != compressed_digest {
            return Err(UnpackError::DigestMismatch {
                layer: layer.to_string(),
                expected: expected.to_string(),
                actual: compressed_digest,
            });
        }
    }
    Ok(UnpackedLayer {
        diff_id,
        compressed_digest,
        size: raw.count,
    })
}

#[cfg(test)]
mod tests;
