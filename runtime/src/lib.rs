//! berth-runtime: the container runtime berth drives.
//!
//! It knows nothing about Compose. It owns the image store ([`image`]) and
//! containers ([`container`]) and bridge networks ([`network`]); DNS and volumes arrive issue by
//! issue. The reconciler in the `berth` crate drives it through a narrow trait.

pub mod atomic_file;
pub mod container;
pub mod dns;
pub mod image;
pub mod network;
pub mod ports;
pub mod serving;
pub mod state_root;
#[cfg(test)]
mod test_support;
pub mod timestamp;
pub mod unix_socket;
pub mod volume;

/// The runtime's version, reported by `berth version`.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
