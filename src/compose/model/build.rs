//! `build:` in canonical form (the string form becomes `{context: ...}`).

use super::extensions::Extensions;
use super::mounts::ServiceConfigRef;
use super::scalars::{is_false, ByteSize};
use super::scalars::{StringMap, Ulimit};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct BuildConfig {
    #[serde(skip_serializing_if = "super::scalars::is_empty_text")]
    pub context: Option<String>,
    #[serde(skip_serializing_if = "super::scalars::is_empty_text")]
    pub dockerfile: Option<String>,
    #[serde(skip_serializing_if = "super::scalars::is_empty_text")]
    pub dockerfile_inline: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub entitlements: Vec<String>,
    /// Build arguments; an argument without a value that the environment does not set is dropped.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub args: BTreeMap<String, Option<String>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ssh: Vec<String>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: StringMap,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub cache_from: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub cache_to: Vec<String>,
    #[serde(skip_serializing_if = "is_false")]
    pub no_cache: bool,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub additional_contexts: StringMap,
    #[serde(skip_serializing_if = "is_false")]
    pub pull: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub extra_hosts: Vec<String>,
    #[serde(skip_serializing_if = "super::scalars::is_empty_text")]
    pub isolation: Option<String>,
    #[serde(skip_serializing_if = "super::scalars::is_empty_text")]
    pub network: Option<String>,
    #[serde(skip_serializing_if = "super::scalars::is_empty_text")]
    pub target: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub secrets: Vec<ServiceConfigRef>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shm_size: Option<ByteSize>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub ulimits: BTreeMap<String, Ulimit>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub platforms: Vec<String>,
    #[serde(skip_serializing_if = "is_false")]
    pub privileged: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provenance: Option<serde_json::Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sbom: Option<serde_json::Value>,
    #[serde(rename = "$extensions", skip_serializing)]
    #[schemars(skip)]
    pub extensions: Extensions,
}
