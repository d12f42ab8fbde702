//! Reconcile: what the project asks for ([`desired`]) and what the runtime
//! reports ([`observe`], always re-read, never cached) become a [`plan`] of
//! single actions, each with a human reason and the steps it must wait for.
//! The planner is pure: it is unit-tested against in-memory observed states,
//! and `up --dry-run` prints its plan.

pub mod desired;
pub mod engine;
pub mod executor;
pub mod files;
pub mod hooks;
pub mod observe;
pub mod plan;
pub mod planner;
pub mod temporary_name;
pub mod translate;

pub use desired::{DesiredService, DesiredState};
pub use executor::{execute, Engine, Event, ExecuteError};
pub use observe::{ObservedContainer, ObservedState};
pub use plan::{Action, Plan, Step};
pub use planner::{plan, PlanError, PlanOptions};
