//! Pins: content a build in progress uses (its base image, the layers it
//! has made so far) that no image references yet, which the garbage
//! collection of `remove` must keep.
//!
//! A pin is a file `<root>/images/pins/<pid>-<n>.json` naming the process
//! that holds it (PID and start time) and the blobs and unpacked layers it
//! keeps. A pin whose process is gone (a build killed before it could clean
//! up) no longer keeps anything and is deleted by the next collection.
//! Pins are written and read with the store lock held.

use super::layout::{io_err, read_json, write_atomic};
use super::{ImageStore, StoreError};
use crate::container::state::{process_alive, process_start_time};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::fs;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};

/// Content kept alive by one build; see the module documentation.
#[derive(Debug)]
pub struct Pin {
    path: PathBuf,
    doc: PinDoc,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct PinDoc {
    pid: i32,
    #[serde(default)]
    start: Option<u64>,
    /// Blob digests (`sha256:…`).
    #[serde(default)]
    blobs: BTreeSet<String>,
    /// Diff IDs of unpacked layers.
    #[serde(default)]
    layers: BTreeSet<String>,
}

/// What live pins keep: blob digests and layer diff IDs.
#[derive(Debug, Default)]
pub(crate) struct Pinned {
    pub blobs: BTreeSet<String>,
    pub layers: BTreeSet<String>,
}

impl ImageStore {
    fn pins_dir(&self) -> PathBuf {
        self.images.join("pins")
    }

    /// A new, empty pin held by this process; hold the lock.
    pub(crate) fn pin_locked(&self) -> Result<Pin, StoreError> {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let dir = self.pins_dir();
        fs::create_dir_all(&dir).map_err(io_err(format!("creating {}", dir.display())))?;
        let pid = std::process::id() as i32;
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let pin = Pin {
            path: dir.join(format!("{pid}-{n}.json")),
            doc: PinDoc {
                pid,
                start: process_start_time(pid),
                ..PinDoc::default()
            },
        };
        pin.write()?;
        Ok(pin)
    }

    /// What the live pins keep; deletes the pins of processes that are gone.
    /// Hold the lock.
    pub(crate) fn pinned_locked(&self) -> Result<Pinned, StoreError> {
        let mut pinned = Pinned::default();
        let dir = self.pins_dir();
        let entries = match fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(pinned),
            Err(e) => return Err(io_err(format!("listing {}", dir.display()))(e)),
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let live = read_json::<PinDoc>(&path)
                .ok()
                .filter(|doc| process_alive(doc.pid, doc.start));
            match live {
                Some(doc) => {
                    pinned.blobs.extend(doc.blobs);
                    pinned.layers.extend(doc.layers);
                }
                None => {
                    tracing::debug!(pin = %path.display(), "removing the pin of a finished process");
                    let _ = fs::remove_file(&path);
                }
            }
        }
        Ok(pinned)
    }
}

impl Pin {
    /// Keeps more blobs and layers; hold the lock.
    pub(crate) fn add(
        &mut self,
        blobs: impl IntoIterator<Item = String>,
        layers: impl IntoIterator<Item = String>,
    ) -> Result<(), StoreError> {
        self.doc.blobs.extend(blobs);
        self.doc.layers.extend(layers);
        self.write()
    }

    /// Stops keeping anything; hold the lock.
    pub(crate) fn release(&self) -> Result<(), StoreError> {
        match fs::remove_file(&self.path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(io_err(format!("removing {}", self.path.display()))(e)),
        }
    }

    fn write(&self) -> Result<(), StoreError> {
        let bytes = serde_json::to_vec(&self.doc).expect("pin serializes");
        write_atomic(&self.path, &bytes)
    }
}
