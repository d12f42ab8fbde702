//! What the runtime reports about a project, as the planner needs it.

use std::collections::{BTreeMap, BTreeSet};

/// A container of the project, found by its labels.
#[derive(Debug, Clone, PartialEq)]
pub struct ObservedContainer {
    pub id: String,
    pub name: String,
    pub service: String,
    pub number: u32,
    pub oneoff: bool,
    pub config_hash: String,
    pub image_id: String,
    pub running: bool,
    /// The normalized service configuration it was made from (for reasons).
    pub config: Option<serde_json::Value>,
    /// Where the project that made it lives (for orphan reports).
    pub working_dir: Option<String>,
    pub config_files: Option<String>,
    /// Digests of the secrets and configs it was made with.
    pub files: BTreeMap<String, String>,
}

/// Everything of the project that exists now.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ObservedState {
    pub containers: Vec<ObservedContainer>,
    /// Names of networks that exist.
    pub networks: BTreeSet<String>,
    /// Names of volumes that exist.
    pub volumes: BTreeSet<String>,
}
