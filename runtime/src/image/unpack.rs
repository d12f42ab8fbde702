//! Layer unpacking (stand-in).
//!
//! This is a minimal stand-in with the API of the real unpacker, which is
//! being written in parallel and replaces this file at merge. It decompresses
//! a layer blob, verifies its digest, computes its diff ID and extracts it
//! with the `tar` crate (which refuses paths escaping `dest`). It does not
//! handle whiteouts specially.

use sha2::{Digest, Sha256};
use std::io::{self, Read};
use std::path::Path;

/// How a layer blob is compressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    None,
    Gzip,
    Zstd,
}

impl Compression {
    /// The compression a layer media type implies; `None` for media types that
    /// are not layers.
    pub fn from_media_type(media_type: &str) -> Option<Compression> {
        match media_type {
            "application/vnd.oci.image.layer.v1.tar"
            | "application/vnd.oci.image.layer.nondistributable.v1.tar"
            | "application/vnd.docker.image.rootfs.diff.tar" => Some(Compression::None),
            "application/vnd.oci.image.layer.v1.tar+gzip"
            | "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip"
            | "application/vnd.docker.image.rootfs.diff.tar.gzip"
            | "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip" => {
                Some(Compression::Gzip)
            }
            "application/vnd.oci.image.layer.v1.tar+zstd"
            | "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd" => {
                Some(Compression::Zstd)
            }
            _ => None,
        }
    }

    /// The compression the first bytes of a blob reveal.
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

/// What unpacking a layer found out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnpackedLayer {
    /// Digest of the uncompressed tar stream (`sha256:…`).
    pub diff_id: String,
    /// Digest of the blob as given (`sha256:…`).
    pub compressed_digest: String,
    /// Size of the blob as given, in bytes.
    pub size: u64,
}

/// Why a layer could not be unpacked.
#[derive(Debug, thiserror::Error)]
pub enum UnpackError {
    #[error("{source}")]
    Io {
        layer: String,
        #[source]
        source: io::Error,
    },
    #[error("layer {layer}: digest mismatch: expected {expected}, got {actual}")]
    DigestMismatch {
        layer: String,
        expected: String,
        actual: String,
    },
}

struct HashingReader<R> {
    inner: R,
    hasher: Sha256,
    count: u64,
}

impl<R: Read> Read for HashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        self.count += n as u64;
        Ok(n)
    }
}

impl<R> HashingReader<R> {
    fn new(inner: R) -> Self {
        HashingReader {
            inner,
            hasher: Sha256::new(),
            count: 0,
        }
    }
    fn digest(&self) -> String {
        format!("sha256:{}", hex::encode(self.hasher.clone().finalize()))
    }
}

/// Unpacks one layer blob into `dest` (created if missing), verifying the
/// blob against `expected_digest` when given.
pub fn unpack_layer(
    blob: impl Read,
    compression: Compression,
    dest: &Path,
    layer: &str,
    expected_digest: Option<&str>,
) -> Result<UnpackedLayer, UnpackError> {
    let io_err = |source| UnpackError::Io {
        layer: layer.to_string(),
        source,
    };
    std::fs::create_dir_all(dest).map_err(io_err)?;
    let mut outer = HashingReader::new(blob);
    let diff_id = {
        let decoder: Box<dyn Read + '_> = match compression {
            Compression::None => Box::new(&mut outer),
            Compression::Gzip => Box::new(flate2::read::GzDecoder::new(&mut outer)),
            Compression::Zstd => {
                Box::new(zstd::stream::read::Decoder::new(&mut outer).map_err(io_err)?)
            }
        };
        let mut inner = HashingReader::new(decoder);
        {
            let mut archive = tar::Archive::new(&mut inner);
            archive.set_preserve_permissions(true);
            archive.set_preserve_ownerships(true);
            archive.set_overwrite(true);
            archive.unpack(dest).map_err(io_err)?;
        }
        io::copy(&mut inner, &mut io::sink()).map_err(io_err)?;
        inner.digest()
    };
    io::copy(&mut outer, &mut io::sink()).map_err(io_err)?;
    let compressed_digest = outer.digest();
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
        size: outer.count,
    })
}
