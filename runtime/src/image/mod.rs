//! Images: references, the content store (OCI image layout under the state
//! root), safe layer unpacking, `docker save`/OCI-layout loading, rootfs
//! import, registry pulls, and building: layers from overlay upper
//! directories ([`diff`]) committed as new images ([`commit`]).
//!
//! What the container side needs from here is [`ResolvedImage`]: the image
//! configuration and its unpacked layer directories, bottom layer first.

pub mod commit;
pub mod diff;
pub mod import;
pub mod load;
pub mod pull;
pub mod reference;
pub mod store;
pub mod unpack;

pub use reference::{ImageReference, ReferenceError};
pub use store::{ImageDetails, ImageStore, ImageSummary, RemoveEvent, StoreError};

use std::path::PathBuf;

/// An image found in the store, ready to run.
#[derive(Debug, Clone)]
pub struct ResolvedImage {
    /// Image ID: the digest of its configuration blob (`sha256:…`).
    pub id: String,
    /// Digest of the manifest the image was found through (`sha256:…`).
    pub manifest_digest: String,
    /// The image configuration (ENTRYPOINT, CMD, ENV, USER, …).
    pub config: oci_spec::image::ImageConfiguration,
    /// Unpacked layer directories, bottom layer first (overlay lowerdirs are
    /// given top first, so reverse this).
    pub layers: Vec<PathBuf>,
}
