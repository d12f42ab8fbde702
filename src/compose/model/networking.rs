//! Published ports and a service's attachment to a network.

use super::scalars::StringMap;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ServicePort {
    #[serde(default, skip_serializing_if = "super::scalars::is_empty_text")]
    pub name: Option<String>,
    #[serde(default = "default_mode")]
    pub mode: String,
    #[serde(default, skip_serializing_if = "super::scalars::is_empty_text")]
    pub host_ip: Option<String>,
    pub target: u16,
    /// A port or a range (`"8000-8010"`), as written; absent for a random host port.
    #[serde(default, skip_serializing_if = "super::scalars::is_empty_text")]
    pub published: Option<String>,
    #[serde(default = "default_protocol")]
    pub protocol: String,
    #[serde(default, skip_serializing_if = "super::scalars::is_empty_text")]
    pub app_protocol: Option<String>,
}

fn default_mode() -> String {
    "ingress".into()
}

fn default_protocol() -> String {
    "tcp".into()
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct ServiceNetwork {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub priority: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gw_priority: Option<i64>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<String>,
    #[serde(skip_serializing_if = "super::scalars::is_empty_text")]
    pub ipv4_address: Option<String>,
    #[serde(skip_serializing_if = "super::scalars::is_empty_text")]
    pub ipv6_address: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub link_local_ips: Vec<String>,
    #[serde(skip_serializing_if = "super::scalars::is_empty_text")]
    pub mac_address: Option<String>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub driver_opts: StringMap,
    #[serde(skip_serializing_if = "super::scalars::is_empty_text")]
    pub interface_name: Option<String>,
}
