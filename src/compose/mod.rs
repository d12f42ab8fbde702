//! The Compose project model: find the files, load YAML, interpolate, merge,
//! apply extends/include/profiles, validate, normalize into a typed
//! [`model::Project`], and render it back (`berth config`).
//!
//! Nothing here knows about the container runtime.

mod canonical;
pub mod discover;
pub mod dotenv;
pub mod environment;
pub mod error;
pub mod hash;
pub mod interpolate;
mod loader;
mod merge;
pub mod model;
pub mod paths;
mod project;
pub mod render;
pub mod schema;
pub mod syntax;
mod validate;
pub mod variables;
pub mod yaml;

pub use error::{ComposeError, Problem, SourceMap};
pub use loader::{load, load_from_str, LoadOptions, Loaded};
pub use project::graph_input;
