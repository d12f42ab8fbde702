//! Test helpers for the image tests: running berth against a private state
//! root, and building tiny images (OCI layouts and `docker save` archives)
//! from a static busybox, or a plain file when busybox is absent.

#![allow(dead_code)]

pub mod containers;
pub mod project;
pub mod registry;

use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub fn berth(root: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_berth"));
    cmd.arg("--root").arg(root).args(args).env_clear();
    cmd.env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", "/nonexistent-home")
        .env("BERTH_RUN", root.join("run"));
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("run berth")
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Asserts success and returns stdout.
pub fn ok(o: Output) -> String {
    assert!(
        o.status.success(),
        "berth failed ({}):\nstdout: {}\nstderr: {}",
        o.status,
        stdout(&o),
        stderr(&o)
    );
    stdout(&o)
}

pub fn sha256(bytes: &[u8]) -> String {
    format!("sha256:{}", hex(&Sha256::digest(bytes)))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(bytes).unwrap();
    enc.finish().unwrap()
}

fn header(size: u64, mode: u32) -> tar::Header {
    let mut header = tar::Header::new_gnu();
    header.set_size(size);
    header.set_mode(mode);
    header.set_uid(0);
    header.set_gid(0);
    header.set_mtime(1_700_000_000);
    header
}

/// A root filesystem layer: `bin/busybox` (+ `bin/sh` link) when the host has
/// a busybox, and always `etc/berth-test`.
pub fn rootfs_layer() -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    let busybox = ["/bin/busybox", "/usr/bin/busybox"]
        .into_iter()
        .map(PathBuf::from)
        .find(|p| p.is_file());
    if let Some(busybox) = busybox {
        builder
            .append_path_with_name(&busybox, "bin/busybox")
            .unwrap();
        let mut header = header(0, 0o777);
        header.set_entry_type(tar::EntryType::Symlink);
        builder
            .append_link(&mut header, "bin/sh", "busybox")
            .unwrap();
    }
    let text = b"hello from a berth test image\n";
    let mut header = header(text.len() as u64, 0o644);
    builder
        .append_data(&mut header, "etc/berth-test", &text[..])
        .unwrap();
    builder.into_inner().unwrap()
}

/// An image configuration for one layer.
pub fn config_for(layer_tar: &[u8], cmd: &[&str]) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({
        "created": "2024-01-02T03:04:05Z",
        "architecture": "amd64",
        "os": "linux",
        "config": {"Cmd": cmd, "Env": ["PATH=/bin"], "Labels": {"test": "yes"}},
        "rootfs": {"type": "layers", "diff_ids": [sha256(layer_tar)]},
    }))
    .unwrap()
}

/// Writes an OCI image layout with one image (gzip layer) into `dir`;
/// `annotations` go on its index.json entry. Returns the manifest digest.
pub fn write_oci_layout(
    dir: &Path,
    layer_tar: &[u8],
    cmd: &[&str],
    annotations: serde_json::Value,
) -> String {
    let blobs = dir.join("blobs/sha256");
    std::fs::create_dir_all(&blobs).unwrap();
    let put = |bytes: &[u8]| {
        let digest = sha256(bytes);
        std::fs::write(blobs.join(&digest[7..]), bytes).unwrap();
        digest
    };
    let layer = gzip(layer_tar);
    let config = config_for(layer_tar, cmd);
    let manifest = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": put(&config), "size": config.len()},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": put(&layer), "size": layer.len()}],
    }))
    .unwrap();
    let digest = put(&manifest);
    std::fs::write(dir.join("oci-layout"), br#"{"imageLayoutVersion":"1.0.0"}"#).unwrap();
    let index = serde_json::json!({
        "schemaVersion": 2,
        "manifests": [{
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "digest": digest,
            "size": manifest.len(),
            "annotations": annotations,
        }],
    });
    std::fs::write(dir.join("index.json"), serde_json::to_vec(&index).unwrap()).unwrap();
    digest
}

/// A tarball of a directory's contents.
pub fn tar_dir(dir: &Path) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    builder.append_dir_all(".", dir).unwrap();
    builder.into_inner().unwrap()
}

/// A `docker save` archive (classic layout: `<id>.json`, `<layer>/layer.tar`).
pub fn docker_save(layer_tar: &[u8], cmd: &[&str], repo_tags: &[&str]) -> Vec<u8> {
    let config = config_for(layer_tar, cmd);
    let config_name = format!("{}.json", &sha256(&config)[7..]);
    let layer_name = format!("{}/layer.tar", &sha256(layer_tar)[7..]);
    let manifest = serde_json::to_vec(&serde_json::json!([{
        "Config": config_name,
        "RepoTags": repo_tags,
        "Layers": [layer_name],
    }]))
    .unwrap();
    let mut builder = tar::Builder::new(Vec::new());
    for (name, bytes) in [
        (config_name.as_str(), &config[..]),
        (layer_name.as_str(), layer_tar),
        ("manifest.json", &manifest[..]),
    ] {
        let mut header = header(bytes.len() as u64, 0o644);
        builder.append_data(&mut header, name, bytes).unwrap();
    }
    builder.into_inner().unwrap()
}

/// Files under a directory (recursively), relative paths.
pub fn files_under(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() && !p.is_symlink() {
                stack.push(p.clone());
            }
            out.push(p.strip_prefix(dir).unwrap().display().to_string());
        }
    }
    out.sort();
    out
}

pub fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Builds the busybox test images (`fixtures/images/build.py`) into `images`
/// and loads them into the state root `root` with `berth image load`.
pub fn load_fixture_images(root: &Path, images: &Path) {
    let status = Command::new("python3")
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/fixtures/images/build.py"
        ))
        .arg(images)
        .status()
        .expect("run fixtures/images/build.py");
    assert!(status.success());
    ok(berth(
        root,
        &[
            "image",
            "load",
            "-i",
            images.join("busybox-oci.tar").to_str().unwrap(),
        ],
        &[],
    ));
}
