//! `berth pull`: images from OCI distribution registries, with `oci-client`.
//!
//! Anonymous, or with the basic credentials `docker login` left in
//! `$DOCKER_CONFIG/config.json` (default `~/.docker/config.json`,
//! `auths.<registry>.auth` = base64 `user:pass`); oci-client turns them into a
//! bearer token when the registry asks for one. Plain HTTP for registries on
//! loopback (`localhost`, `127.0.0.0/8`, `::1`, any port), as Docker does for
//! insecure localhost registries; HTTPS otherwise. An index picks its
//! linux/amd64 image. Every manifest and blob is verified against its digest;
//! blobs already in the store are not downloaded again. The store lock is
//! held for the whole pull so no concurrent removal can collect blobs the
//! pull has fetched but not yet referenced. Layers download one after the
//! other, each with a progress bar on stderr (plain lines when stderr is not
//! a terminal, nothing when quiet).

use crate::image::store::layout::{
    self, descriptor, is_index, pick_linux_amd64, BlobWriter, Index, Manifest,
};
use crate::image::store::{short_id, ImageStore, StoreError};
use crate::image::{ImageReference, ReferenceError};
use base64::Engine as _;
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use oci_client::client::{ClientConfig, ClientProtocol};
use oci_client::errors::{OciDistributionError, OciErrorCode};
use oci_client::secrets::RegistryAuth;
use oci_client::{Client, Reference};
use std::io::{IsTerminal, Write};
use std::net::IpAddr;
use std::path::PathBuf;
use std::pin::Pin;
use std::task::{Context, Poll};

/// Why a pull failed. Each message names the reference and the registry.
#[derive(Debug, thiserror::Error)]
pub enum PullError {
    #[error("cannot reach registry {registry} to pull {reference}: {detail}")]
    Unreachable {
        reference: String,
        registry: String,
        detail: String,
    },
    #[error(
        "pull access denied for {reference}: registry {registry} answered unauthorized; {hint}"
    )]
    Unauthorized {
        reference: String,
        registry: String,
        hint: String,
    },
    #[error("manifest for {reference} not found on registry {registry}: no such repository, tag or digest")]
    ManifestUnknown { reference: String, registry: String },
    #[error("{reference} on registry {registry} has no linux/amd64 image (it has: {})", .available.join(", "))]
    NoPlatform {
        reference: String,
        registry: String,
        available: Vec<String>,
    },
    #[error("registry {registry} failed while pulling {reference}: {detail}")]
    Registry {
        reference: String,
        registry: String,
        detail: String,
    },
    #[error("reading registry credentials from {path}: {reason}")]
    Credentials { path: String, reason: String },
    #[error(transparent)]
    Reference(#[from] ReferenceError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// How a pull reports progress.
#[derive(Debug, Clone, Default)]
pub struct PullOptions {
    /// No progress output at all.
    pub quiet: bool,
}

/// What a pull brought in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PulledImage {
    /// The fully qualified reference pulled (`docker.io/library/redis:latest`).
    pub reference: String,
    /// Image ID.
    pub id: String,
    /// `repo@sha256:…` (familiar form), the digest the reference resolved to.
    pub repo_digest: String,
    /// False when every blob was already in the store.
    pub downloaded: bool,
}

const ACCEPTED: [&str; 4] = [
    layout::OCI_MANIFEST,
    layout::OCI_INDEX,
    layout::DOCKER_MANIFEST,
    layout::DOCKER_LIST,
];

/// Pulls an image into the store (blocking; runs its own Tokio runtime).
pub fn pull(
    store: &ImageStore,
    name: &str,
    options: &PullOptions,
) -> Result<PulledImage, PullError> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| StoreError::Io {
            action: "starting the network runtime".to_string(),
            source: e,
        })?;
    runtime.block_on(pull_async(store, name, options))
}

/// Is this registry reached over plain HTTP (a loopback address)?
pub fn is_insecure_registry(registry: &str) -> bool {
    let host = if let Some(rest) = registry.strip_prefix('[') {
        rest.split(']').next().unwrap_or(rest)
    } else {
        registry.rsplit_once(':').map_or(registry, |(h, _)| h)
    };
    host == "localhost" || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// Pulls an image into the store.
pub async fn pull_async(
    store: &ImageStore,
    name: &str,
    options: &PullOptions,
) -> Result<PulledImage, PullError> {
    let reference = ImageReference::parse(name)?;
    let full = reference.to_string();
    let registry = reference.registry.clone();
    let ctx = Ctx {
        reference: full.clone(),
        registry: registry.clone(),
    };
    let (auth, auth_source) = credentials(&registry)?;
    let client = Client::new(ClientConfig {
        protocol: if is_insecure_registry(&registry) {
            ClientProtocol::Http
        } else {
            ClientProtocol::Https
        },
        platform_resolver: None,
        connect_timeout: Some(std::time::Duration::from_secs(15)),
        ..ClientConfig::default()
    });
    let oci_ref = match (&reference.digest, &reference.tag) {
        (Some(d), _) => {
            Reference::with_digest(registry.clone(), reference.repository.clone(), d.clone())
        }
        (None, tag) => Reference::with_tag(
            registry.clone(),
            reference.repository.clone(),
            tag.clone().unwrap_or_else(|| "latest".to_string()),
        ),
    };
    let progress = Progress::new(options.quiet);
    progress.line(&format!(
        "{}: Pulling from {}",
        reference
            .tag
            .as_deref()
            .or(reference.digest.as_deref())
            .unwrap_or("latest"),
        reference.repository
    ));

    let _lock = store.lock()?;
    // The manifest the reference names (maybe an index), verified.
    let (bytes, _) = client
        .pull_manifest_raw(&oci_ref, &auth, &ACCEPTED)
        .await
        .map_err(|e| ctx.classify(e, &auth_source))?;
    let top_digest = layout::sha256_digest(&bytes);
    if let Some(d) = &reference.digest {
        if *d != top_digest {
            return Err(StoreError::DigestMismatch {
                what: format!("manifest of {full}"),
                expected: d.clone(),
                actual: top_digest,
            }
            .into());
        }
    }
    let (manifest_bytes, manifest_digest) = if is_index(None, &bytes) {
        let index: Index = serde_json::from_slice(&bytes)
            .map_err(|e| ctx.registry(format!("invalid index: {e}")))?;
        let entry = pick_linux_amd64(&index).map_err(|available| PullError::NoPlatform {
            reference: full.clone(),
            registry: registry.clone(),
            available,
        })?;
        let by_digest = Reference::with_digest(
            registry.clone(),
            reference.repository.clone(),
            entry.digest.clone(),
        );
        let (bytes, _) = client
            .pull_manifest_raw(&by_digest, &auth, &ACCEPTED)
            .await
            .map_err(|e| ctx.classify(e, &auth_source))?;
        let digest = layout::sha256_digest(&bytes);
        if digest != entry.digest {
            return Err(StoreError::DigestMismatch {
                what: format!("linux/amd64 manifest of {full}"),
                expected: entry.digest.clone(),
                actual: digest,
            }
            .into());
        }
        (bytes, digest)
    } else {
        (bytes, top_digest.clone())
    };
    let manifest: Manifest = serde_json::from_slice(&manifest_bytes)
        .map_err(|e| ctx.registry(format!("invalid manifest {manifest_digest}: {e}")))?;

    let mut downloaded = false;
    for (blob, is_layer) in
        std::iter::once((&manifest.config, false)).chain(manifest.layers.iter().map(|l| (l, true)))
    {
        let short = short_id(&blob.digest).to_string();
        if store.has_blob(&blob.digest) {
            if is_layer {
                progress.line(&format!("{short}: Already exists"));
            }
            continue;
        }
        downloaded = true;
        let bar = if is_layer {
            progress.bar(&short, blob.size)
        } else {
            None
        };
        let mut writer = store.blob_writer_locked()?;
        {
            let sink = ProgressWriter {
                writer: &mut writer,
                bar: bar.as_ref(),
            };
            client
                .pull_blob(&oci_ref, blob.digest.as_str(), sink)
                .await
                .map_err(|e| ctx.classify(e, &auth_source))?;
        }
        writer.commit(Some(&blob.digest))?;
        if is_layer {
            progress.done(bar, &short, "Pull complete");
        }
    }
    let (stored, size) = store.ingest_bytes_locked(&manifest_bytes)?;
    debug_assert_eq!(stored, manifest_digest);
    let media_type = manifest
        .media_type
        .clone()
        .unwrap_or_else(|| layout::OCI_MANIFEST.to_string());
    let repository = crate::image::store::repository_of(&reference);
    let repo_digest = format!("{repository}@{top_digest}");
    let name = match &reference.digest {
        Some(_) => ImageReference {
            tag: None,
            ..reference.clone()
        },
        None => reference.clone(),
    };
    let id = store.add_image_locked(
        descriptor(&media_type, stored, size),
        &[name],
        Some(&repo_digest),
    )?;
    progress.line(&format!("Digest: {top_digest}"));
    progress.line(&if downloaded {
        format!(
            "Status: Downloaded newer image for {}",
            reference.familiar()
        )
    } else {
        format!("Status: Image is up to date for {}", reference.familiar())
    });
    Ok(PulledImage {
        reference: full,
        id,
        repo_digest: format!("{}@{top_digest}", repository.familiar()),
        downloaded,
    })
}

struct Ctx {
    reference: String,
    registry: String,
}

impl Ctx {
    fn registry(&self, detail: String) -> PullError {
        PullError::Registry {
            reference: self.reference.clone(),
            registry: self.registry.clone(),
            detail,
        }
    }

    fn classify(&self, err: OciDistributionError, auth_source: &Option<PathBuf>) -> PullError {
        let unauthorized = || PullError::Unauthorized {
            reference: self.reference.clone(),
            registry: self.registry.clone(),
            hint: match auth_source {
                Some(path) => format!(
                    "the credentials for {} in {} were refused",
                    self.registry,
                    path.display()
                ),
                None => format!(
                    "the repository may not exist or may need credentials: add them for {} to {}",
                    self.registry,
                    docker_config_path().display()
                ),
            },
        };
        let manifest_unknown = || PullError::ManifestUnknown {
            reference: self.reference.clone(),
            registry: self.registry.clone(),
        };
        match err {
            OciDistributionError::RequestError(e) => PullError::Unreachable {
                reference: self.reference.clone(),
                registry: self.registry.clone(),
                detail: error_chain(&e),
            },
            OciDistributionError::UnauthorizedError { .. }
            | OciDistributionError::AuthenticationFailure(_) => unauthorized(),
            OciDistributionError::ImageManifestNotFoundError(_) => manifest_unknown(),
            OciDistributionError::RegistryError { envelope, .. } => {
                let codes: Vec<&OciErrorCode> = envelope.errors.iter().map(|e| &e.code).collect();
                if codes
                    .iter()
                    .any(|c| matches!(c, OciErrorCode::Unauthorized | OciErrorCode::Denied))
                {
                    unauthorized()
                } else if codes.iter().any(|c| {
                    matches!(
                        c,
                        OciErrorCode::ManifestUnknown
                            | OciErrorCode::NameUnknown
                            | OciErrorCode::NotFound
                    )
                }) {
                    manifest_unknown()
                } else {
                    self.registry(
                        envelope
                            .errors
                            .iter()
                            .map(|e| format!("{:?}: {}", e.code, e.message))
                            .collect::<Vec<_>>()
                            .join("; "),
                    )
                }
            }
            OciDistributionError::ServerError {
                code: 401 | 403, ..
            } => unauthorized(),
            OciDistributionError::ServerError { code: 404, .. } => manifest_unknown(),
            OciDistributionError::DigestError(e) => {
                self.registry(format!("content does not match its digest: {e}"))
            }
            other => self.registry(error_chain(&other)),
        }
    }
}

fn error_chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(s) = source {
        let s_text = s.to_string();
        if !text.contains(&s_text) {
            text.push_str(": ");
            text.push_str(&s_text);
        }
        source = s.source();
    }
    text
}

/// `$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`.
pub fn docker_config_path() -> PathBuf {
    match std::env::var_os("DOCKER_CONFIG") {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir).join("config.json"),
        _ => PathBuf::from(std::env::var_os("HOME").unwrap_or_default())
            .join(".docker")
            .join("config.json"),
    }
}

/// The host a `docker login` key names (`https://index.docker.io/v1/` → `docker.io`).
fn auth_key_host(key: &str) -> String {
    let rest = key
        .strip_prefix("https://")
        .or_else(|| key.strip_prefix("http://"))
        .unwrap_or(key);
    let host = rest.split('/').next().unwrap_or(rest);
    match host {
        "index.docker.io" | "registry-1.docker.io" | "registry.hub.docker.com" => {
            "docker.io".to_string()
        }
        other => other.to_string(),
    }
}

/// Credentials for a registry from the Docker configuration, and where they came from.
fn credentials(registry: &str) -> Result<(RegistryAuth, Option<PathBuf>), PullError> {
    let path = docker_config_path();
    let text = match std::fs::read(&path) {
        Ok(text) => text,
        Err(_) => return Ok((RegistryAuth::Anonymous, None)),
    };
    let fail = |reason: String| PullError::Credentials {
        path: path.display().to_string(),
        reason,
    };
    let config: serde_json::Value =
        serde_json::from_slice(&text).map_err(|e| fail(e.to_string()))?;
    let Some(auths) = config.get("auths").and_then(|a| a.as_object()) else {
        return Ok((RegistryAuth::Anonymous, None));
    };
    let Some(entry) = auths
        .iter()
        .find(|(key, _)| auth_key_host(key) == registry)
        .map(|(_, v)| v)
    else {
        return Ok((RegistryAuth::Anonymous, None));
    };
    if let Some(auth) = entry
        .get("auth")
        .and_then(|a| a.as_str())
        .filter(|a| !a.is_empty())
    {
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(auth.trim())
            .map_err(|e| fail(format!("auths.{registry}.auth is not base64: {e}")))?;
        let decoded = String::from_utf8(decoded)
            .map_err(|_| fail(format!("auths.{registry}.auth is not UTF-8")))?;
        let (user, pass) = decoded
            .split_once(':')
            .ok_or_else(|| fail(format!("auths.{registry}.auth is not user:password")))?;
        return Ok((
            RegistryAuth::Basic(user.to_string(), pass.to_string()),
            Some(path),
        ));
    }
    let field = |name: &str| entry.get(name).and_then(|v| v.as_str()).map(str::to_string);
    if let (Some(user), Some(pass)) = (field("username"), field("password")) {
        return Ok((RegistryAuth::Basic(user, pass), Some(path)));
    }
    Ok((RegistryAuth::Anonymous, None))
}

/// Feeds downloaded bytes into a blob writer and a progress bar.
struct ProgressWriter<'a> {
    writer: &'a mut BlobWriter,
    bar: Option<&'a ProgressBar>,
}

impl tokio::io::AsyncWrite for ProgressWriter<'_> {
    fn poll_write(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let this = self.get_mut();
        let n = this.writer.write(buf)?;
        if let Some(bar) = this.bar {
            bar.inc(n as u64);
        }
        Poll::Ready(Ok(n))
    }
    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

/// Progress output on stderr: bars on a terminal, lines otherwise, or nothing.
enum Progress {
    Quiet,
    Plain,
    Bars(MultiProgress),
}

impl Progress {
    fn new(quiet: bool) -> Progress {
        if quiet {
            Progress::Quiet
        } else if std::io::stderr().is_terminal() {
            Progress::Bars(MultiProgress::with_draw_target(ProgressDrawTarget::stderr()))
        } else {
            Progress::Plain
        }
    }

    fn line(&self, text: &str) {
        match self {
            Progress::Quiet => {}
            Progress::Plain => {
                let _ = writeln!(std::io::stderr(), "{text}");
            }
            Progress::Bars(multi) => {
                let _ = multi.println(text);
            }
        }
    }

    fn bar(&self, short: &str, size: u64) -> Option<ProgressBar> {
        match self {
            Progress::Quiet => None,
            Progress::Plain => {
                self.line(&format!("{short}: Pulling fs layer"));
                None
            }
            Progress::Bars(multi) => {
                let bar = multi.add(ProgressBar::new(size));
                bar.set_style(
                    ProgressStyle::with_template(
                        "{prefix}: {msg:16} [{bar:40}] {bytes}/{total_bytes}",
                    )
                    .expect("valid template")
                    .progress_chars("=> "),
                );
                bar.set_prefix(short.to_string());
                bar.set_message("Downloading");
                Some(bar)
            }
        }
    }

    fn done(&self, bar: Option<ProgressBar>, short: &str, message: &'static str) {
        match bar {
            Some(bar) => bar.finish_with_message(message),
            None => self.line(&format!("{short}: {message}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_registries_use_plain_http() {
        for r in [
            "localhost",
            "localhost:5000",
            "127.0.0.1:5000",
            "127.1.2.3",
            "[::1]:5000",
        ] {
            assert!(is_insecure_registry(r), "{r}");
        }
        for r in [
            "docker.io",
            "ghcr.io",
            "10.0.0.1:5000",
            "example.com:5000",
            "localhost.example.com",
        ] {
            assert!(!is_insecure_registry(r), "{r}");
        }
    }

    #[test]
    fn docker_login_keys_name_hosts() {
        assert_eq!(auth_key_host("https://index.docker.io/v1/"), "docker.io");
        assert_eq!(auth_key_host("ghcr.io"), "ghcr.io");
        assert_eq!(auth_key_host("http://127.0.0.1:5000"), "127.0.0.1:5000");
    }
}
