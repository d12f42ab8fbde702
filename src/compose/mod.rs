//! The Compose project model: find the files, load YAML, interpolate, merge,
//! apply extends/include/profiles, validate, normalize into a typed
//! [`model::Project`], and render it back (`berth config`).
//!
//! Nothing here knows about the container runtime.

pub mod dotenv;
pub mod error;
pub mod interpolate;
pub mod model;
pub mod syntax;
pub mod yaml;

pub use error::{ComposeError, Problem, SourceMap};
