//! The typed Compose model in canonical (long) form: what the loader produces
//! and the reconciler consumes. Short syntaxes never reach these types; the
//! loader's `canonical` phase rewrites them first.

pub mod build;
pub mod deploy;
pub mod extensions;
pub mod mounts;
pub mod networking;
pub mod resources;
pub mod scalars;
pub mod service;

pub use build::BuildConfig;
pub use deploy::{DeployConfig, ResourceLimits, Resources, RestartPolicy};
pub use extensions::Extensions;
pub use mounts::{MountKind, ServiceConfigRef, ServiceVolume};
pub use networking::{ServiceNetwork, ServicePort};
pub use resources::{FileObject, Ipam, IpamPool, Network, Volume};
pub use scalars::{ByteSize, Duration, FileMode, Text};
pub use service::{
    DependencyCondition, EnvFile, EnvMap, Healthcheck, Service, ServiceDependency, StringMap,
};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::PathBuf;

/// What one compose file may hold at the top level (used to check its shape).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
#[schemars(
    title = "Compose file",
    description = "A Compose file as berth reads it."
)]
pub struct ComposeFile {
    /// Obsolete; accepted and ignored with a warning.
    #[serde(skip_serializing_if = "scalars::is_empty_text")]
    pub version: Option<String>,
    #[serde(skip_serializing_if = "scalars::is_empty_text")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub include: Vec<IncludeConfig>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub services: BTreeMap<String, Service>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub networks: BTreeMap<String, Option<Network>>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub volumes: BTreeMap<String, Option<Volume>>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub secrets: BTreeMap<String, FileObject>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub configs: BTreeMap<String, FileObject>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub models: Option<serde_json::Value>,
    #[serde(rename = "$extensions", skip_serializing)]
    #[schemars(skip)]
    pub extensions: Extensions,
}

/// One `include:` entry in long form.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct IncludeConfig {
    pub path: Vec<String>,
    #[serde(skip_serializing_if = "scalars::is_empty_text")]
    pub project_directory: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub env_file: Vec<String>,
}

/// A fully loaded, normalized project.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Project {
    pub name: String,
    pub services: BTreeMap<String, Service>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub networks: BTreeMap<String, Network>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub volumes: BTreeMap<String, Volume>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub secrets: BTreeMap<String, FileObject>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub configs: BTreeMap<String, FileObject>,
    #[serde(skip)]
    pub extensions: Extensions,
    /// The project directory (relative paths were resolved against it).
    #[serde(skip)]
    pub working_dir: PathBuf,
    /// The compose files that were loaded, in order.
    #[serde(skip)]
    pub config_files: Vec<PathBuf>,
    /// The env files that fed interpolation.
    #[serde(skip)]
    pub env_files: Vec<PathBuf>,
    /// The variables interpolation used (process environment, then
    /// `.env`/`--env-file`): where `environment:` secrets and configs
    /// take their values.
    #[serde(skip)]
    pub environment: BTreeMap<String, String>,
    /// Services left out because their profiles are not enabled.
    #[serde(skip)]
    pub disabled_services: BTreeMap<String, Service>,
    /// Every profile a service of the project mentions.
    #[serde(skip)]
    pub all_profiles: Vec<String>,
}
