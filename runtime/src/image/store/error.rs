//! Errors of the image store, worded so a user knows what to do next.

use crate::image::unpack::UnpackError;
use crate::image::ReferenceError;
use std::io;

/// Why an image store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("image {name:?} not found: pull it with \"berth pull {name}\" or load it with \"berth image load\"")]
    NotFound { name: String },
    #[error(
        "image ID prefix {prefix:?} is ambiguous: it matches {count} images; give more digits"
    )]
    Ambiguous { prefix: String, count: usize },
    #[error(transparent)]
    InvalidReference(#[from] ReferenceError),
    #[error("refusing to tag with a digest reference {name:?}: give a tag instead")]
    TagWithDigest { name: String },
    #[error("unable to delete {id} (must be forced): image is referenced by {names}; use -f or remove the names one by one")]
    MultipleReferences { id: String, names: String },
    #[error("{what} does not match its digest: expected {expected}, got {actual} (the content is damaged or was tampered with)")]
    DigestMismatch {
        what: String,
        expected: String,
        actual: String,
    },
    #[error("blob {digest} is missing from the image store; pull or load the image again")]
    MissingBlob { digest: String },
    #[error(
        "the image store is damaged: {what}: {reason}; remove the image and pull or load it again"
    )]
    Corrupt { what: String, reason: String },
    #[error("unpacking layer {layer}: {source}")]
    Unpack {
        layer: String,
        #[source]
        source: UnpackError,
    },
    #[error("{action}: {source}")]
    Io {
        action: String,
        #[source]
        source: io::Error,
    },
}
