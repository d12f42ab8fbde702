//! berth-runtime: the container runtime berth drives.
//!
//! It knows nothing about Compose. Later issues add the image store, containers,
//! networks, DNS and volumes here; the reconciler in the `berth` crate drives it
//! through a narrow trait.

/// The runtime's version, reported by `berth version`.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
