//! Unit tests of the store over temporary state roots: images are made with
//! `import` (one layer) and a hand-written OCI layout for `load`.

use super::*;
use crate::image::{import, load};

fn layer(text: &str) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    let mut header = tar::Header::new_gnu();
    header.set_size(text.len() as u64);
    header.set_mode(0o644);
    header.set_uid(0);
    header.set_gid(0);
    header.set_mtime(0);
    builder
        .append_data(&mut header, "etc/file", text.as_bytes())
        .unwrap();
    builder.into_inner().unwrap()
}

fn store() -> (tempfile::TempDir, ImageStore) {
    let dir = tempfile::tempdir().unwrap();
    let store = ImageStore::open(dir.path()).unwrap();
    (dir, store)
}

fn import_as(store: &ImageStore, text: &str, name: Option<&str>) -> String {
    import::import(store, &layer(text)[..], name, &[]).unwrap()
}

#[test]
fn opens_an_oci_layout() {
    let (dir, _store) = store();
    let layout = std::fs::read_to_string(dir.path().join("images/oci-layout")).unwrap();
    assert_eq!(layout, r#"{"imageLayoutVersion":"1.0.0"}"#);
    let index: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("images/index.json")).unwrap())
            .unwrap();
    assert_eq!(index["schemaVersion"], 2);
    assert!(dir.path().join("images/blobs/sha256").is_dir());
    assert!(dir.path().join("layers/sha256").is_dir());
    // Opening again keeps what is there.
    ImageStore::open(dir.path()).unwrap();
}

#[test]
fn resolves_by_name_id_prefix_and_digest() {
    let (dir, store) = store();
    let id = import_as(&store, "one", Some("redis:7"));
    let index: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("images/index.json")).unwrap())
            .unwrap();
    assert_eq!(
        index["manifests"][0]["annotations"][layout::REF_NAME],
        "docker.io/library/redis:7"
    );
    for name in [
        "redis:7",
        "docker.io/library/redis:7",
        &id,
        &id[7..19],
        &id[7..10],
    ] {
        let image = store.resolve(name).unwrap();
        assert_eq!(image.id, id, "{name}");
        assert_eq!(image.layers.len(), 1);
        assert_eq!(
            std::fs::read_to_string(image.layers[0].join("etc/file")).unwrap(),
            "one"
        );
    }
    let manifest = store.resolve("redis:7").unwrap().manifest_digest;
    assert_eq!(store.resolve(&manifest).unwrap().id, id);
    assert_eq!(store.resolve(&format!("redis@{manifest}")).unwrap().id, id);
    let err = store.resolve("redis").unwrap_err().to_string();
    assert_eq!(
        err,
        r#"image "redis" not found: pull it with "berth pull redis" or load it with "berth image load""#
    );
    assert!(matches!(
        store.resolve("Bad!"),
        Err(StoreError::InvalidReference(_))
    ));
}

#[test]
fn ambiguous_prefixes_are_refused() {
    let (_dir, store) = store();
    let mut ids = Vec::new();
    for i in 0..40 {
        ids.push(import_as(
            &store,
            &format!("content {i}"),
            Some(&format!("img:{i}")),
        ));
    }
    // Some single hex digit starts at least two of 40 IDs.
    let digit = "0123456789abcdef"
        .chars()
        .find(|c| ids.iter().filter(|id| id[7..].starts_with(*c)).count() > 1)
        .unwrap();
    assert!(matches!(
        store.resolve(&digit.to_string()),
        Err(StoreError::Ambiguous { .. })
    ));
}

#[test]
fn resolve_unpacks_missing_layers_lazily() {
    let (_dir, store) = store();
    import_as(&store, "lazy", Some("lazy:1"));
    let dir = store.resolve("lazy:1").unwrap().layers[0].clone();
    std::fs::remove_dir_all(&dir).unwrap();
    let again = store.resolve("lazy:1").unwrap();
    assert_eq!(again.layers[0], dir);
    assert!(dir.join("etc/file").is_file());
}

#[test]
fn tags_retag_and_keep_replaced_images_dangling() {
    let (_dir, store) = store();
    let first = import_as(&store, "a", Some("app:1"));
    store.tag("app:1", "app:stable").unwrap();
    assert!(matches!(
        store.tag("app:1", &format!("app@{first}")),
        Err(StoreError::TagWithDigest { .. })
    ));
    let second = import_as(&store, "b", Some("app:1"));
    let rows = store.list().unwrap();
    let pairs: Vec<(String, String, String)> = rows
        .iter()
        .map(|r| (r.repository.clone(), r.tag.clone(), r.id.clone()))
        .collect();
    assert!(
        pairs.contains(&("app".into(), "1".into(), second.clone())),
        "{pairs:?}"
    );
    assert!(
        pairs.contains(&("app".into(), "stable".into(), first.clone())),
        "{pairs:?}"
    );
    // Retagging the second image's only name away leaves it dangling.
    import_as(&store, "c", Some("app:1"));
    let rows = store.list().unwrap();
    assert!(rows
        .iter()
        .any(|r| r.id == second && r.repository == "<none>"));
    let details = store.inspect("app:stable").unwrap();
    assert_eq!(details.repo_tags, ["app:stable"]);
}

#[test]
fn remove_untags_then_deletes_and_collects_garbage() {
    let (dir, store) = store();
    let id = import_as(&store, "shared", Some("x:1"));
    store.tag("x:1", "y:1").unwrap();
    assert!(matches!(
        store.remove(&id, false),
        Err(StoreError::MultipleReferences { .. })
    ));
    assert_eq!(
        store.remove("x:1", false).unwrap(),
        [RemoveEvent::Untagged("x:1".into())]
    );
    assert!(store.resolve("y:1").is_ok());
    let events = store.remove("y:1", false).unwrap();
    assert_eq!(
        events,
        [
            RemoveEvent::Untagged("y:1".into()),
            RemoveEvent::Deleted(id.clone())
        ]
    );
    assert_eq!(
        std::fs::read_dir(dir.path().join("images/blobs/sha256"))
            .unwrap()
            .count(),
        0
    );
    assert_eq!(
        std::fs::read_dir(dir.path().join("layers/sha256"))
            .unwrap()
            .count(),
        0
    );
    assert!(matches!(
        store.remove("y:1", false),
        Err(StoreError::NotFound { .. })
    ));
}

#[test]
fn blobs_are_verified_on_ingest() {
    let (_dir, store) = store();
    let (digest, size) = store.ingest_blob(&b"hello"[..], None).unwrap();
    assert_eq!(size, 5);
    assert_eq!(digest, layout::sha256_digest(b"hello"));
    assert!(store.has_blob(&digest));
    store.ingest_blob(&b"hello"[..], Some(&digest)).unwrap();
    let err = store.ingest_blob(&b"hullo"[..], Some(&digest)).unwrap_err();
    assert!(matches!(err, StoreError::DigestMismatch { .. }), "{err}");
    // No temporary file is left behind.
    let leftovers = std::fs::read_dir(store.blob_path(&digest).unwrap().parent().unwrap())
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .starts_with(".tmp")
        })
        .count();
    assert_eq!(leftovers, 0);
}

#[test]
fn loads_nested_oci_index_picking_linux_amd64() {
    let (_dir, store) = store();
    let src = tempfile::tempdir().unwrap();
    let blobs = src.path().join("blobs/sha256");
    std::fs::create_dir_all(&blobs).unwrap();
    let put = |bytes: &[u8]| {
        let d = layout::sha256_digest(bytes);
        std::fs::write(blobs.join(&d[7..]), bytes).unwrap();
        (d, bytes.len())
    };
    let image = |text: &str, arch: &str| {
        let l = layer(text);
        let (ld, ls) = put(&l);
        let config = serde_json::json!({"architecture": arch, "os": "linux",
            "rootfs": {"type": "layers", "diff_ids": [layout::sha256_digest(&l)]}});
        let (cd, cs) = put(config.to_string().as_bytes());
        let manifest = serde_json::json!({"schemaVersion": 2, "mediaType": layout::OCI_MANIFEST,
            "config": {"mediaType": layout::OCI_CONFIG, "digest": cd, "size": cs},
            "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": ld, "size": ls}]});
        let (md, ms) = put(manifest.to_string().as_bytes());
        (md, ms, cd)
    };
    let (arm, arm_size, _) = image("arm", "arm64");
    let (amd, amd_size, amd_config) = image("amd", "amd64");
    let nested = serde_json::json!({"schemaVersion": 2, "mediaType": layout::OCI_INDEX, "manifests": [
        {"mediaType": layout::OCI_MANIFEST, "digest": arm, "size": arm_size, "platform": {"os": "linux", "architecture": "arm64"}},
        {"mediaType": layout::OCI_MANIFEST, "digest": amd, "size": amd_size, "platform": {"os": "linux", "architecture": "amd64"}},
    ]});
    let (nd, ns) = put(nested.to_string().as_bytes());
    let index = serde_json::json!({"schemaVersion": 2, "manifests": [{"mediaType": layout::OCI_INDEX,
        "digest": nd, "size": ns, "annotations": {"io.containerd.image.name": "docker.io/library/multi:1",
        "org.opencontainers.image.ref.name": "1"}}]});
    std::fs::write(src.path().join("index.json"), index.to_string()).unwrap();
    std::fs::write(
        src.path().join("oci-layout"),
        r#"{"imageLayoutVersion":"1.0.0"}"#,
    )
    .unwrap();
    let mut builder = tar::Builder::new(Vec::new());
    builder.append_dir_all(".", src.path()).unwrap();
    let archive = builder.into_inner().unwrap();

    let loaded = load::load(&store, &archive[..]).unwrap();
    assert_eq!(loaded.len(), 1);
    assert_eq!(loaded[0].report(), ["Loaded image: multi:1"]);
    assert_eq!(loaded[0].id, amd_config);
    let image = store.resolve("multi:1").unwrap();
    assert_eq!(image.manifest_digest, amd);
    assert_eq!(
        std::fs::read_to_string(image.layers[0].join("etc/file")).unwrap(),
        "amd"
    );
    assert!(
        !store.has_blob(&arm),
        "only the linux/amd64 image is copied"
    );
}
