//! berth: a Compose-compatible, daemonless multi-container orchestrator.
//!
//! `compose` turns files into a typed project; `graph` orders it; `cli` is the
//! command-line edge. The container runtime lives in the `berth-runtime` crate.

pub mod cli;
pub mod compat;
pub mod compose;
pub mod contract;
pub mod graph;
pub mod reconcile;
pub mod supervisor;
