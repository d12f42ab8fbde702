//! The per-project supervisor: a detached process ([`run`]) that keeps a
//! project's containers served while they live, one file per job:
//!
//! - [`ports`]: publishes each container's `ports:` with the runtime's proxies;
//! - [`dns`]: serves the embedded DNS in each container's namespace, and opens
//!   its start gate once its names are in the table;
//! - [`watch`]: per container, health probes ([`health`]: the rules and the
//!   probe) and restarts ([`restart`]: the policies and their delays);
//! - [`live`]: which containers are served (running or at their start gate).
//!
//! What it reads about a container is the reconciler's [`crate::contract`];
//! what it writes for the commands is its [`state_files`]. Commands start,
//! ask and stop it through [`client`], over its [`control`] socket.

pub mod client;
pub mod control;
mod dns;
pub mod health;
mod live;
mod ports;
pub mod restart;
pub mod run;
pub mod state_files;
mod watch;

pub use client::{converge_now, ensure_running, stop, supervisor_pid, SUPERVISOR_ARG};
