//! berth: a Compose-compatible, daemonless multi-container orchestrator.
//!
//! `compose` turns files into a typed project and `graph` orders it;
//! `compat` says what berth does with each attribute and flag; `reconcile`
//! plans and applies the project (`reconcile::translate` turns a service
//! into a container spec); `supervisor` keeps a project's ports, DNS,
//! health checks and restarts going; `contract` is what those two and the
//! CLI's readers share (labels and annotations); `cli` is the command-line
//! edge; `build` is the Dockerfile frontend (parser, stage planner,
//! .dockerignore, context digests). The container runtime lives in the `berth-runtime` crate.

pub mod build;
pub mod cli;
pub mod compat;
pub mod compose;
pub mod contract;
pub mod error_text;
pub mod graph;
pub mod reconcile;
pub mod supervisor;
