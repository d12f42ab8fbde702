//! Layer diffs: an overlay **upper directory** (what a container changed on
//! top of its image) becomes an OCI layer tarball.
//!
//! Entries are written in a fixed order (names sorted bytewise, a directory
//! before what it holds) with their mode, owner, modification time and the
//! extended attributes an image may carry (the unpacker's list:
//! `security.capability`, `user.*`, POSIX ACLs) as PAX `SCHILY.xattr.*`
//! records. Overlay's own markers become OCI's: a whiteout (a 0:0 character
//! device) is an empty `.wh.NAME` file, an opaque directory
//! (`trusted.overlay.opaque=y`) is followed by `.wh..wh..opq`. Files with
//! several links in the upper directory are stored once, the other names as
//! hard links to the first (in that order). Sockets are skipped, as Docker
//! does. Upper directories that depend on their lower layers (overlay
//! `redirect_dir` or `metacopy`) are refused: their content is not all there.
//!
//! The tar stream is compressed (gzip, zstd or none) as it is written, and
//! both the diff ID (sha256 of the tar) and the blob digest (sha256 of what
//! was written) are computed on the way, so the upper directory is read once.

use crate::image::store::layout::layer_media_type;
use crate::image::unpack::{xattr_allowed, Compression};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::ffi::OsString;
use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};

/// How a layer is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DiffOptions {
    /// Compression of the blob (gzip by default).
    pub compression: Compression,
    /// When set, every entry gets this modification time (seconds since the
    /// epoch) instead of its own: the same changes make the same layer.
    pub mtime: Option<u64>,
}

impl Default for DiffOptions {
    fn default() -> Self {
        DiffOptions {
            compression: Compression::Gzip,
            mtime: None,
        }
    }
}

/// What writing a layer produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LayerDiff {
    /// `sha256:` of the uncompressed tar (an image configuration's diff ID).
    pub diff_id: String,
    /// `sha256:` of the bytes written (the blob's digest).
    pub digest: String,
    /// Bytes written.
    pub size: u64,
    /// The OCI layer media type for the compression used.
    pub media_type: &'static str,
}

/// Why an upper directory could not be written as a layer.
#[derive(Debug, thiserror::Error)]
pub enum DiffError {
    #[error("archiving {path}: {source}")]
    Entry {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("{path}: {reason}")]
    Unsupported { path: PathBuf, reason: String },
    #[error("writing the layer: {source}")]
    Write {
        #[source]
        source: io::Error,
    },
}

const OPAQUE_XATTR: &str = "trusted.overlay.opaque";
const REDIRECT_XATTR: &str = "trusted.overlay.redirect";
const METACOPY_XATTR: &str = "trusted.overlay.metacopy";
const WHITEOUT_PREFIX: &str = ".wh.";
const OPAQUE_MARKER: &str = ".wh..wh..opq";
/// Mode of the `.wh.` entries (Docker's).
const WHITEOUT_MODE: u32 = 0o600;

/// Writes the changes recorded in `upper` as a layer to `out`.
pub fn write_layer(
    upper: &Path,
    out: impl Write,
    options: &DiffOptions,
) -> Result<LayerDiff, DiffError> {
    let write_err = |source| DiffError::Write { source };
    let encoder = Encoder::new(Hashing::new(out), options.compression).map_err(write_err)?;
    let mut walker = Walker {
        builder: tar::Builder::new(Hashing::new(encoder)),
        mtime: options.mtime,
        links: HashMap::new(),
    };
    let meta = fs::symlink_metadata(upper).map_err(|source| DiffError::Entry {
        path: upper.to_path_buf(),
        source,
    })?;
    if !meta.is_dir() {
        return Err(DiffError::Unsupported {
            path: upper.to_path_buf(),
            reason: "not a directory".to_string(),
        });
    }
    walker.walk(upper, Path::new(""))?;
    let plain = walker.builder.into_inner().map_err(write_err)?;
    let diff_id = plain.digest();
    let compressed = plain.inner.finish().map_err(write_err)?;
    Ok(LayerDiff {
        diff_id,
        digest: compressed.digest(),
        size: compressed.count,
        media_type: layer_media_type(options.compression),
    })
}

struct Walker<W: Write> {
    builder: tar::Builder<W>,
    mtime: Option<u64>,
    /// (device, inode) of files with several links → the name stored first.
    links: HashMap<(u64, u64), PathBuf>,
}

impl<W: Write> Walker<W> {
    /// Archives what directory `abs` (at `rel` in the layer) holds.
    fn walk(&mut self, abs: &Path, rel: &Path) -> Result<(), DiffError> {
        let entry_err = |source| DiffError::Entry {
            path: abs.to_path_buf(),
            source,
        };
        let mut names: Vec<OsString> = fs::read_dir(abs)
            .map_err(entry_err)?
            .map(|e| e.map(|e| e.file_name()))
            .collect::<Result<_, _>>()
            .map_err(entry_err)?;
        names.sort();
        for name in names {
            self.entry(&abs.join(&name), &rel.join(&name))?;
        }
        Ok(())
    }

    fn entry(&mut self, abs: &Path, rel: &Path) -> Result<(), DiffError> {
        let entry_err = |source| DiffError::Entry {
            path: abs.to_path_buf(),
            source,
        };
        let meta = fs::symlink_metadata(abs).map_err(entry_err)?;
        let kind = meta.file_type();
        if kind.is_char_device() && meta.rdev() == 0 {
            let name = rel.file_name().expect("entries have names");
            let mut marker = OsString::from(WHITEOUT_PREFIX);
            marker.push(name);
            return self.marker(&rel.with_file_name(marker)).map_err(entry_err);
        }
        if kind.is_socket() {
            tracing::debug!(path = %abs.display(), "skipping a socket: tar cannot hold it");
            return Ok(());
        }
        for refused in [REDIRECT_XATTR, METACOPY_XATTR] {
            if xattr::get(abs, refused).map_err(entry_err)?.is_some() {
                return Err(DiffError::Unsupported {
                    path: abs.to_path_buf(),
                    reason: format!(
                        "has {refused}: the overlay was mounted with redirect_dir or metacopy, so this directory alone does not hold the changes"
                    ),
                });
            }
        }
        let mut header = tar::Header::new_gnu();
        header.set_mode(meta.mode() & 0o7777);
        header.set_uid(u64::from(meta.uid()));
        header.set_gid(u64::from(meta.gid()));
        header.set_mtime(
            self.mtime
                .unwrap_or_else(|| u64::try_from(meta.mtime()).unwrap_or(0)),
        );
        header.set_size(0);
        self.xattrs(abs).map_err(entry_err)?;
        if kind.is_dir() {
            header.set_entry_type(tar::EntryType::Directory);
            self.builder
                .append_data(&mut header, rel, io::empty())
                .map_err(entry_err)?;
            if xattr::get(abs, OPAQUE_XATTR)
                .map_err(entry_err)?
                .is_some_and(|v| v == b"y")
            {
                self.marker(&rel.join(OPAQUE_MARKER)).map_err(entry_err)?;
            }
            return self.walk(abs, rel);
        }
        if kind.is_symlink() {
            let target = fs::read_link(abs).map_err(entry_err)?;
            header.set_entry_type(tar::EntryType::Symlink);
            return self
                .builder
                .append_link(&mut header, rel, target)
                .map_err(entry_err);
        }
        if kind.is_file() {
            if meta.nlink() > 1 {
                let key = (meta.dev(), meta.ino());
                if let Some(first) = self.links.get(&key) {
                    header.set_entry_type(tar::EntryType::Link);
                    let first = first.clone();
                    return self
                        .builder
                        .append_link(&mut header, rel, first)
                        .map_err(entry_err);
                }
                self.links.insert(key, rel.to_path_buf());
            }
            header.set_entry_type(tar::EntryType::Regular);
            header.set_size(meta.len());
            let file = File::open(abs).map_err(entry_err)?;
            let content = Exact {
                inner: file.take(meta.len()),
                left: meta.len(),
            };
            return self
                .builder
                .append_data(&mut header, rel, content)
                .map_err(entry_err);
        }
        let device = |header: &mut tar::Header| -> io::Result<()> {
            let rdev = meta.rdev();
            header.set_device_major(nix::sys::stat::major(rdev) as u32)?;
            header.set_device_minor(nix::sys::stat::minor(rdev) as u32)
        };
        if kind.is_char_device() {
            header.set_entry_type(tar::EntryType::Char);
            device(&mut header).map_err(entry_err)?;
        } else if kind.is_block_device() {
            header.set_entry_type(tar::EntryType::Block);
            device(&mut header).map_err(entry_err)?;
        } else if kind.is_fifo() {
            header.set_entry_type(tar::EntryType::Fifo);
        } else {
            return Err(DiffError::Unsupported {
                path: abs.to_path_buf(),
                reason: "unknown file type".to_string(),
            });
        }
        self.builder
            .append_data(&mut header, rel, io::empty())
            .map_err(entry_err)
    }

    /// An empty `.wh.` file (a whiteout or the opaque marker).
    fn marker(&mut self, rel: &Path) -> io::Result<()> {
        let mut header = tar::Header::new_gnu();
        header.set_entry_type(tar::EntryType::Regular);
        header.set_mode(WHITEOUT_MODE);
        header.set_uid(0);
        header.set_gid(0);
        header.set_size(0);
        header.set_mtime(self.mtime.unwrap_or(0));
        self.builder.append_data(&mut header, rel, io::empty())
    }

    /// A PAX header with the extended attributes of `abs` an image may
    /// carry, sorted by name; nothing when there are none.
    fn xattrs(&mut self, abs: &Path) -> io::Result<()> {
        let mut names: Vec<OsString> = xattr::list(abs)?
            .filter(|n| n.to_str().is_some_and(xattr_allowed))
            .collect();
        if names.is_empty() {
            return Ok(());
        }
        names.sort();
        let mut records = Vec::new();
        for name in names {
            let Some(value) = xattr::get(abs, &name)? else {
                continue;
            };
            let mut key = b"SCHILY.xattr.".to_vec();
            key.extend_from_slice(name.as_bytes());
            records.extend(pax_record(&key, &value));
        }
        let mut header = tar::Header::new_ustar();
        header.set_path("PaxHeaders/xattrs")?;
        header.set_entry_type(tar::EntryType::XHeader);
        header.set_mode(0o644);
        header.set_mtime(0);
        header.set_size(records.len() as u64);
        header.set_cksum();
        self.builder.append(&header, &records[..])
    }
}

/// One PAX record: `LEN KEY=VALUE\n`, where LEN counts the whole record,
/// its own digits included.
fn pax_record(key: &[u8], value: &[u8]) -> Vec<u8> {
    let rest = key.len() + value.len() + 3; // space, '=', newline
    let mut len = rest + 1;
    while len != rest + len.to_string().len() {
        len = rest + len.to_string().len();
    }
    let mut record = format!("{len} ").into_bytes();
    record.extend_from_slice(key);
    record.push(b'=');
    record.extend_from_slice(value);
    record.push(b'\n');
    record
}

/// A file's content that must be exactly as long as its header says (a
/// file that shrank while archived would corrupt the tar).
struct Exact<R> {
    inner: R,
    left: u64,
}

impl<R: Read> Read for Exact<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if n == 0 && self.left > 0 && !buf.is_empty() {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the file shrank while it was archived",
            ));
        }
        self.left -= n as u64;
        Ok(n)
    }
}

/// Hashes and counts what is written through it.
struct Hashing<W> {
    inner: W,
    hasher: Sha256,
    count: u64,
}

impl<W> Hashing<W> {
    fn new(inner: W) -> Self {
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

impl<W: Write> Write for Hashing<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.count += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// The compressor between the tar stream and the blob.
enum Encoder<W: Write> {
    Plain(W),
    Gzip(flate2::write::GzEncoder<W>),
    Zstd(zstd::stream::write::Encoder<'static, W>),
}

impl<W: Write> Encoder<W> {
    fn new(out: W, compression: Compression) -> io::Result<Self> {
        Ok(match compression {
            Compression::None => Encoder::Plain(out),
            // The gzip header's time is 0: the same tar makes the same blob.
            Compression::Gzip => Encoder::Gzip(flate2::write::GzEncoder::new(
                out,
                flate2::Compression::default(),
            )),
            Compression::Zstd => Encoder::Zstd(zstd::stream::write::Encoder::new(out, 3)?),
        })
    }

    fn finish(self) -> io::Result<W> {
        let mut out = match self {
            Encoder::Plain(out) => out,
            Encoder::Gzip(gz) => gz.finish()?,
            Encoder::Zstd(zst) => zst.finish()?,
        };
        out.flush()?;
        Ok(out)
    }
}

impl<W: Write> Write for Encoder<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Encoder::Plain(w) => w.write(buf),
            Encoder::Gzip(w) => w.write(buf),
            Encoder::Zstd(w) => w.write(buf),
        }
    }
    fn flush(&mut self) -> io::Result<()> {
        match self {
            Encoder::Plain(w) => w.flush(),
            Encoder::Gzip(w) => w.flush(),
            Encoder::Zstd(w) => w.flush(),
        }
    }
}

#[cfg(test)]
mod tests;
