//! Service volumes (bind, volume, tmpfs, image) and secret/config references,
//! in canonical long form.

use super::scalars::{is_false, ByteSize, FileMode, Text};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ServiceVolume {
    #[serde(rename = "type")]
    pub kind: MountKind,
    #[serde(default, skip_serializing_if = "super::scalars::is_empty_text")]
    pub source: Option<String>,
    pub target: String,
    #[serde(default, skip_serializing_if = "is_false")]
    pub read_only: bool,
    #[serde(default, skip_serializing_if = "super::scalars::is_empty_text")]
    pub consistency: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bind: Option<BindOptions>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub volume: Option<VolumeOptions>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tmpfs: Option<TmpfsOptions>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<ImageOptions>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum MountKind {
    Bind,
    Volume,
    Tmpfs,
    Image,
    Npipe,
    Cluster,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct BindOptions {
    #[serde(skip_serializing_if = "super::scalars::is_empty_text")]
    pub selinux: Option<String>,
    #[serde(skip_serializing_if = "super::scalars::is_empty_text")]
    pub propagation: Option<String>,
    #[serde(skip_serializing_if = "is_false")]
    pub create_host_path: bool,
    #[serde(skip_serializing_if = "super::scalars::is_empty_text")]
    pub recursive: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct VolumeOptions {
    #[serde(skip_serializing_if = "is_false")]
    pub nocopy: bool,
    #[serde(skip_serializing_if = "super::scalars::is_empty_text")]
    pub subpath: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct TmpfsOptions {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size: Option<ByteSize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mode: Option<FileMode>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct ImageOptions {
    #[serde(skip_serializing_if = "super::scalars::is_empty_text")]
    pub subpath: Option<String>,
}

/// A service's use of a secret or config (`secrets: [name]` or the long form).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ServiceConfigRef {
    pub source: String,
    #[serde(default, skip_serializing_if = "super::scalars::is_empty_text")]
    pub target: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uid: Option<Text>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gid: Option<Text>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<FileMode>,
}
