//! berth-runtime: the container runtime berth drives.
//!
//! It knows nothing about Compose. It owns the image store ([`image`]),
//! containers ([`container`]: namespaces, cgroups, seccomp, the device
//! filter), bridge networks ([`network`]), the embedded DNS ([`dns`]),
//! published ports ([`ports`], both on the small runtime in [`serving`]),
//! volumes ([`volume`]), and the state root's privacy ([`state_root`]) and
//! durable files ([`atomic_file`]). The `berth` crate's reconciler and
//! supervisor drive it.

pub mod atomic_file;
pub mod container;
pub mod dns;
pub mod image;
pub mod network;
pub mod ports;
pub mod serving;
pub mod state_root;
pub mod stats;
#[cfg(test)]
mod test_support;
pub mod timestamp;
pub mod unix_socket;
pub mod volume;

/// The runtime's version, reported by `berth version`.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
