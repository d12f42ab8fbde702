//! berth-runtime: the container runtime berth drives.
//!
//! It knows nothing about Compose. The image store, containers, networks, DNS
//! and volumes arrive issue by issue; the reconciler in the `berth` crate
//! drives the runtime through a narrow trait.

pub mod image;

/// The runtime's version, reported by `berth version`.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
