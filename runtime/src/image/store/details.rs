//! What the store reports about images: rows for `berth images`, the
//! `docker image inspect`-shaped details, and what `remove` did.

use super::{ConfigDoc, Record};
use crate::image::ImageReference;
use serde::Serialize;

/// One row of `berth images`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ImageSummary {
    /// Familiar repository name (`redis`, `ghcr.io/org/tool`) or `<none>`.
    pub repository: String,
    /// Tag or `<none>`.
    pub tag: String,
    /// Image ID (`sha256:…` of the configuration).
    pub id: String,
    /// Manifest digest (`sha256:…`).
    pub digest: String,
    /// When the image was created (RFC 3339), if its configuration says.
    pub created: Option<String>,
    /// Content size: configuration plus layer blobs as stored, in bytes.
    pub size: u64,
}

/// `RootFS` of `docker image inspect`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RootFs {
    #[serde(rename = "Type")]
    pub kind: String,
    #[serde(rename = "Layers")]
    pub layers: Vec<String>,
}

/// The main fields of `docker image inspect`, with Docker's field names.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ImageDetails {
    pub id: String,
    pub repo_tags: Vec<String>,
    pub repo_digests: Vec<String>,
    pub created: String,
    pub architecture: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
    pub os: String,
    /// `Cmd`, `Entrypoint`, `Env`, `WorkingDir`, `User`, `ExposedPorts`,
    /// `Volumes`, `Labels`, `StopSignal`, `OnBuild`, `Healthcheck` and
    /// `Shell`, as the image configuration has them (absent ones are null,
    /// as Docker shows them, except `Healthcheck` and `Shell`: left out).
    pub config: serde_json::Map<String, serde_json::Value>,
    #[serde(rename = "RootFS")]
    pub root_fs: RootFs,
    pub size: u64,
    /// The manifest the image was found through (media type, digest, size).
    pub descriptor: super::Descriptor,
}

/// What `remove` did, in Docker's words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RemoveEvent {
    /// A name was removed (`Untagged: redis:latest`).
    Untagged(String),
    /// An image was deleted (`Deleted: sha256:…`).
    Deleted(String),
}

impl std::fmt::Display for RemoveEvent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RemoveEvent::Untagged(name) => write!(f, "Untagged: {name}"),
            RemoveEvent::Deleted(id) => write!(f, "Deleted: {id}"),
        }
    }
}

const CONFIG_FIELDS: [&str; 12] = [
    "Cmd",
    "Entrypoint",
    "Env",
    "WorkingDir",
    "User",
    "ExposedPorts",
    "Volumes",
    "Labels",
    "StopSignal",
    "Healthcheck",
    "OnBuild",
    "Shell",
];

pub(super) fn details(record: &Record, config: &ConfigDoc) -> ImageDetails {
    let familiar = |n: &String| {
        ImageReference::parse(n)
            .map(|r| r.familiar())
            .unwrap_or_else(|_| n.clone())
    };
    let mut shown = serde_json::Map::new();
    let source = config.config.clone().unwrap_or_default();
    for field in CONFIG_FIELDS {
        match source.get(field) {
            Some(value) => {
                shown.insert(field.to_string(), value.clone());
            }
            None if field == "Healthcheck" || field == "Shell" => {}
            None => {
                shown.insert(field.to_string(), serde_json::Value::Null);
            }
        }
    }
    for (field, value) in [("WorkingDir", ""), ("User", "")] {
        if shown[field].is_null() {
            shown.insert(field.to_string(), value.into());
        }
    }
    ImageDetails {
        id: record.id().to_string(),
        repo_tags: record
            .names
            .iter()
            .filter(|n| !n.contains('@'))
            .map(familiar)
            .collect(),
        repo_digests: record.repo_digests.iter().map(familiar).collect(),
        created: config.created.clone().unwrap_or_default(),
        architecture: config.architecture.clone(),
        variant: config.variant.clone(),
        os: config.os.clone(),
        config: shown,
        root_fs: RootFs {
            kind: if config.rootfs.kind.is_empty() {
                "layers".to_string()
            } else {
                config.rootfs.kind.clone()
            },
            layers: config.rootfs.diff_ids.clone(),
        },
        size: record.doc.config.size + record.doc.layers.iter().map(|l| l.size).sum::<u64>(),
        descriptor: record.manifest.clone(),
    }
}
