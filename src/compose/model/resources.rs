//! Top-level networks, volumes, secrets and configs.

use super::extensions::Extensions;
use super::scalars::is_false;
use super::service::StringMap;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct Network {
    #[serde(skip_serializing_if = "super::scalars::is_empty_text")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "super::scalars::is_empty_text")]
    pub driver: Option<String>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub driver_opts: StringMap,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ipam: Option<Ipam>,
    #[serde(skip_serializing_if = "is_false")]
    pub external: bool,
    #[serde(skip_serializing_if = "is_false")]
    pub internal: bool,
    #[serde(skip_serializing_if = "is_false")]
    pub attachable: bool,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: StringMap,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enable_ipv4: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enable_ipv6: Option<bool>,
    #[serde(rename = "$extensions", skip_serializing)]
    #[schemars(skip)]
    pub extensions: Extensions,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct Ipam {
    #[serde(skip_serializing_if = "super::scalars::is_empty_text")]
    pub driver: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub config: Vec<IpamPool>,
    /// Accepted, but not printed: compose's model has no place for it.
    #[serde(skip_serializing)]
    pub options: StringMap,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct IpamPool {
    #[serde(skip_serializing_if = "super::scalars::is_empty_text")]
    pub subnet: Option<String>,
    #[serde(skip_serializing_if = "super::scalars::is_empty_text")]
    pub gateway: Option<String>,
    #[serde(skip_serializing_if = "super::scalars::is_empty_text")]
    pub ip_range: Option<String>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub aux_addresses: StringMap,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct Volume {
    #[serde(skip_serializing_if = "super::scalars::is_empty_text")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "super::scalars::is_empty_text")]
    pub driver: Option<String>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub driver_opts: StringMap,
    #[serde(skip_serializing_if = "is_false")]
    pub external: bool,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: StringMap,
    #[serde(rename = "$extensions", skip_serializing)]
    #[schemars(skip)]
    pub extensions: Extensions,
}

/// A top-level secret or config: where its content comes from.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct FileObject {
    #[serde(skip_serializing_if = "super::scalars::is_empty_text")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "super::scalars::is_empty_text")]
    pub file: Option<String>,
    #[serde(skip_serializing_if = "super::scalars::is_empty_text")]
    pub environment: Option<String>,
    #[serde(skip_serializing_if = "super::scalars::is_empty_text")]
    pub content: Option<String>,
    #[serde(skip_serializing_if = "is_false")]
    pub external: bool,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: StringMap,
    #[serde(skip_serializing_if = "super::scalars::is_empty_text")]
    pub driver: Option<String>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub driver_opts: StringMap,
    #[serde(skip_serializing_if = "super::scalars::is_empty_text")]
    pub template_driver: Option<String>,
    #[serde(rename = "$extensions", skip_serializing)]
    #[schemars(skip)]
    pub extensions: Extensions,
}
