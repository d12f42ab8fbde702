//! `berth image import`: a root filesystem tarball becomes a one-layer image,
//! like `docker import FILE NAME[:TAG]`, with Dockerfile-style `--change`
//! instructions (`CMD`, `ENTRYPOINT`, `ENV`, `WORKDIR`, `USER`, `EXPOSE`,
//! `LABEL`, `VOLUME`, `STOPSIGNAL`) applied to the configuration.
//!
//! The tarball is stored as given (plain, gzip or zstd; the layer's media type
//! says which); the configuration says linux/amd64, created now.

use crate::image::store::layout::{self, descriptor, layer_media_type, oci_manifest};
use crate::image::store::{ImageStore, StoreError};
use crate::image::unpack::Compression;
use crate::image::{ImageReference, ReferenceError};
use crate::timestamp as time;
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};
use std::io::{self, Read};

/// Why an import failed.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("--change {change:?}: {reason}")]
    Change { change: String, reason: String },
    #[error(transparent)]
    Reference(#[from] ReferenceError),
    #[error("{action}: {source}")]
    Io {
        action: String,
        #[source]
        source: io::Error,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
}

const SUPPORTED: &str = "CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, STOPSIGNAL, USER, VOLUME, WORKDIR";

/// Imports a root filesystem tarball as an image named `name` (or unnamed);
/// returns the image ID.
pub fn import(
    store: &ImageStore,
    rootfs: impl Read,
    name: Option<&str>,
    changes: &[String],
) -> Result<String, ImportError> {
    let reference = name.map(ImageReference::parse).transpose()?;
    let mut container_config = Map::new();
    for change in changes {
        apply_change(&mut container_config, change)?;
    }
    let _lock = store.lock()?;
    let mut writer = store.blob_writer_locked()?;
    writer.copy_from(rootfs)?;
    let (digest, size) = writer.commit(None)?;
    let blob = store.blob_path(&digest)?;
    let io_err = |source| ImportError::Io {
        action: format!("reading {}", blob.display()),
        source,
    };
    let mut magic = Vec::with_capacity(4);
    std::fs::File::open(&blob)
        .map_err(io_err)?
        .take(4)
        .read_to_end(&mut magic)
        .map_err(io_err)?;
    let compression = Compression::sniff(&magic);
    let diff_id = {
        let file = std::fs::File::open(&blob).map_err(io_err)?;
        let mut reader = crate::image::load::decompressed(file).map_err(io_err)?;
        let mut hasher = HashWriter(Sha256::new());
        io::copy(&mut reader, &mut hasher).map_err(io_err)?;
        format!("sha256:{}", hex::encode(hasher.0.finalize()))
    };
    let created = time::format_rfc3339(time::now_unix());
    let mut config = json!({
        "created": created,
        "architecture": "amd64",
        "os": "linux",
    });
    if !container_config.is_empty() {
        config["config"] = Value::Object(container_config);
    }
    config["rootfs"] = json!({"type": "layers", "diff_ids": [diff_id]});
    config["history"] = json!([{"created": created, "created_by": "berth image import", "comment": "Imported from tarball"}]);
    let config_bytes = serde_json::to_vec(&config).expect("config serializes");
    let (config_digest, config_size) = store.ingest_bytes_locked(&config_bytes)?;
    let manifest = oci_manifest(
        descriptor(layout::OCI_CONFIG, config_digest, config_size),
        vec![descriptor(layer_media_type(compression), digest, size)],
    );
    let (manifest_digest, manifest_size) = store.ingest_bytes_locked(&manifest)?;
    let names: Vec<ImageReference> = reference.into_iter().collect();
    Ok(store.add_image_locked(
        descriptor(layout::OCI_MANIFEST, manifest_digest, manifest_size),
        &names,
        None,
    )?)
}

struct HashWriter(Sha256);

impl io::Write for HashWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.update(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Applies one `--change` instruction to an image's container configuration
/// (the `config` object: `Cmd`, `Env`, …).
pub fn apply_change(config: &mut Map<String, Value>, change: &str) -> Result<(), ImportError> {
    let fail = |reason: String| ImportError::Change {
        change: change.to_string(),
        reason,
    };
    let trimmed = change.trim();
    let (instruction, rest) = match trimmed.split_once(char::is_whitespace) {
        Some((i, r)) => (i, r.trim()),
        None => (trimmed, ""),
    };
    let instruction = instruction.to_ascii_uppercase();
    if rest.is_empty() && instruction != "CMD" && instruction != "ENTRYPOINT" {
        if !SUPPORTED.split(", ").any(|s| s == instruction) {
            return Err(fail(format!(
                "unknown instruction {instruction:?}; berth image import accepts {SUPPORTED}"
            )));
        }
        return Err(fail(format!("{instruction} needs an argument")));
    }
    match instruction.as_str() {
        "CMD" | "ENTRYPOINT" => {
            let value = command_form(rest).map_err(fail)?;
            let key = if instruction == "CMD" {
                "Cmd"
            } else {
                "Entrypoint"
            };
            config.insert(key.to_string(), value);
        }
        "ENV" => {
            let words = split_words(rest).map_err(fail)?;
            let pairs: Vec<(String, String)> = if words[0].contains('=') {
                words
                    .iter()
                    .map(|w| {
                        w.split_once('=')
                            .map(|(k, v)| (k.to_string(), v.to_string()))
                            .ok_or_else(|| fail(format!("{w:?} is not KEY=VALUE")))
                    })
                    .collect::<Result<_, _>>()?
            } else {
                let (key, value) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
                let value = split_words(value.trim()).map_err(fail)?.join(" ");
                vec![(key.to_string(), value)]
            };
            let env = config
                .entry("Env")
                .or_insert_with(|| Value::Array(Vec::new()));
            let list = env.as_array_mut().expect("Env is a list");
            for (key, value) in pairs {
                if key.is_empty() {
                    return Err(fail("the variable name is empty".to_string()));
                }
                list.retain(|e| {
                    e.as_str().and_then(|e| e.split_once('=')).map(|(k, _)| k) != Some(key.as_str())
                });
                list.push(Value::String(format!("{key}={value}")));
            }
        }
        "WORKDIR" => {
            config.insert("WorkingDir".into(), Value::String(rest.to_string()));
        }
        "USER" => {
            config.insert("User".into(), Value::String(rest.to_string()));
        }
        "STOPSIGNAL" => {
            config.insert("StopSignal".into(), Value::String(rest.to_string()));
        }
        "EXPOSE" => {
            let ports = object_entry(config, "ExposedPorts");
            for word in split_words(rest).map_err(fail)? {
                let (port, proto) = word.split_once('/').unwrap_or((&word, "tcp"));
                let proto = proto.to_ascii_lowercase();
                let valid_port = |p: &str| p.parse::<u16>().is_ok_and(|p| p > 0);
                let valid = match port.split_once('-') {
                    Some((a, b)) => valid_port(a) && valid_port(b),
                    None => valid_port(port),
                };
                if !valid || !matches!(proto.as_str(), "tcp" | "udp" | "sctp") {
                    return Err(fail(format!(
                        "invalid port {word:?}: expected PORT[/tcp|udp|sctp] with PORT 1-65535"
                    )));
                }
                ports.insert(format!("{port}/{proto}"), json!({}));
            }
        }
        "LABEL" => {
            let words = split_words(rest).map_err(fail)?;
            let labels = object_entry(config, "Labels");
            for word in words {
                let (k, v) = word
                    .split_once('=')
                    .ok_or_else(|| fail(format!("{word:?} is not KEY=VALUE")))?;
                labels.insert(k.to_string(), Value::String(v.to_string()));
            }
        }
        "VOLUME" => {
            let paths: Vec<String> = if rest.starts_with('[') {
                serde_json::from_str(rest)
                    .map_err(|e| fail(format!("not a JSON list of strings: {e}")))?
            } else {
                split_words(rest).map_err(fail)?
            };
            let volumes = object_entry(config, "Volumes");
            for path in paths {
                volumes.insert(path, json!({}));
            }
        }
        other => {
            return Err(fail(format!(
                "unknown instruction {other:?}; berth image import accepts {SUPPORTED}"
            )))
        }
    }
    Ok(())
}

fn object_entry<'a>(config: &'a mut Map<String, Value>, key: &str) -> &'a mut Map<String, Value> {
    let value = config
        .entry(key)
        .or_insert_with(|| Value::Object(Map::new()));
    if !value.is_object() {
        *value = Value::Object(Map::new());
    }
    value.as_object_mut().expect("object")
}

/// `["a","b"]` (exec form) or `a b` (shell form: `["/bin/sh","-c","a b"]`).
fn command_form(rest: &str) -> Result<Value, String> {
    if rest.starts_with('[') {
        if let Ok(list) = serde_json::from_str::<Vec<String>>(rest) {
            return Ok(json!(list));
        }
    }
    if rest.is_empty() {
        return Ok(Value::Null);
    }
    Ok(json!(["/bin/sh", "-c", rest]))
}

/// Splits on whitespace, honouring double and single quotes and backslashes.
fn split_words(text: &str) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match c {
            '"' | '\'' => {
                in_word = true;
                loop {
                    match chars.next() {
                        None => return Err(format!("unterminated {c} quote")),
                        Some(q) if q == c => break,
                        Some('\\') if c == '"' => match chars.next() {
                            Some(e) => word.push(e),
                            None => return Err(format!("unterminated {c} quote")),
                        },
                        Some(other) => word.push(other),
                    }
                }
            }
            '\\' => {
                in_word = true;
                if let Some(e) = chars.next() {
                    word.push(e);
                }
            }
            c if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            c => {
                in_word = true;
                word.push(c);
            }
        }
    }
    if in_word {
        words.push(word);
    }
    Ok(words)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn applied(changes: &[&str]) -> Value {
        let mut config = Map::new();
        for c in changes {
            apply_change(&mut config, c).unwrap();
        }
        Value::Object(config)
    }

    #[test]
    fn applies_dockerfile_instructions() {
        let config = applied(&[
            r#"CMD ["sh", "-c", "echo hi"]"#,
            "ENTRYPOINT /entry.sh --flag",
            "ENV A=b C=\"d e\"",
            "ENV F g h",
            "ENV A=z",
            "WORKDIR /srv",
            "USER 1000:1000",
            "EXPOSE 80 53/udp 8000-8001/tcp",
            "LABEL org.x=1 \"my key\"='a b'",
            "VOLUME /data /cache",
            "STOPSIGNAL SIGTERM",
            "cmd [\"top\"]",
        ]);
        assert_eq!(config["Cmd"], json!(["top"]));
        assert_eq!(
            config["Entrypoint"],
            json!(["/bin/sh", "-c", "/entry.sh --flag"])
        );
        assert_eq!(config["Env"], json!(["C=d e", "F=g h", "A=z"]));
        assert_eq!(config["WorkingDir"], "/srv");
        assert_eq!(config["User"], "1000:1000");
        assert_eq!(
            config["ExposedPorts"],
            json!({"80/tcp": {}, "53/udp": {}, "8000-8001/tcp": {}})
        );
        assert_eq!(config["Labels"], json!({"org.x": "1", "my key": "a b"}));
        assert_eq!(config["Volumes"], json!({"/data": {}, "/cache": {}}));
        assert_eq!(config["StopSignal"], "SIGTERM");
    }

    #[test]
    fn refuses_unknown_or_malformed_changes() {
        for (change, needle) in [
            ("RUN apt-get update", "unknown instruction \"RUN\""),
            ("FROM x", "accepts CMD, ENTRYPOINT"),
            ("EXPOSE 99999", "invalid port"),
            ("EXPOSE 80/xyz", "invalid port"),
            ("LABEL novalue", "is not KEY=VALUE"),
            ("ENV A=b c", "is not KEY=VALUE"),
            ("ENV A=\"b", "unterminated"),
            ("WORKDIR", "needs an argument"),
        ] {
            let err = apply_change(&mut Map::new(), change)
                .unwrap_err()
                .to_string();
            assert!(err.contains(needle), "{change}: {err}");
            assert!(err.contains("--change"), "{err}");
        }
    }
}
