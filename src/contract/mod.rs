//! The contract between the reconciler, the supervisor and the commands:
//! what berth writes on every container it makes and reads back later. The
//! [`labels`] find a project's containers (the one query: [`containers`])
//! and its networks and volumes; the
//! [`annotations`] hand a container's configuration, ports, DNS names,
//! anonymous volumes and secret digests from the reconciler, which writes
//! them at create time, to the supervisor and the commands, which read them.
//!
//! It sits beside `reconcile` and `supervisor`, not inside either: both
//! depend on it and neither on the other through it, so a reader follows a
//! key from its writer to its readers here, in one file per kind.

pub mod annotations;
pub mod containers;
pub mod labels;
