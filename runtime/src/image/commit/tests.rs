//! Unit tests of committing: images built on an imported base and on
//! scratch, checked through the store as `image ls`/`inspect` read it.

use super::*;
use crate::image::import;
use std::fs;

fn base_layer() -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    for (path, text) in [("etc/issue", "base\n"), ("etc/keep", "kept\n")] {
        let mut header = tar::Header::new_gnu();
        header.set_size(text.len() as u64);
        header.set_mode(0o644);
        header.set_mtime(0);
        builder
            .append_data(&mut header, path, text.as_bytes())
            .unwrap();
    }
    builder.into_inner().unwrap()
}

fn store_with_base() -> (tempfile::TempDir, ImageStore, String) {
    let dir = tempfile::tempdir().unwrap();
    let store = ImageStore::open(&dir.path().join("root")).unwrap();
    let changes = [
        "ENV PATH=/bin BASE=1".to_string(),
        "CMD [\"sh\"]".to_string(),
    ];
    let id = import::import(&store, &base_layer()[..], Some("base:1"), &changes).unwrap();
    (dir, store, id)
}

/// An upper directory adding `etc/new` (no whiteouts: those need root).
fn upper(dir: &Path, text: &str) -> PathBuf {
    let upper = dir.join(format!("upper-{text}"));
    fs::create_dir_all(upper.join("etc")).unwrap();
    fs::write(upper.join("etc/new"), text).unwrap();
    upper
}

fn blobs_and_layers(root: &Path) -> (usize, usize) {
    let count = |d: &str| fs::read_dir(root.join(d)).unwrap().count();
    (count("images/blobs/sha256"), count("layers/sha256"))
}

#[test]
fn a_base_plus_steps_becomes_an_image_the_store_lists() {
    let (dir, store, base_id) = store_with_base();
    let mut build = ImageBuild::from_base(&store, "base:1").unwrap();
    assert_eq!(build.config().cmd, Some(vec!["sh".to_string()]));
    build.config_mut().set_env("BASE", "2");
    build.config_mut().set_env("NEW", "yes");
    build.add_history("ENV BASE=2 NEW=yes");
    let options = DiffOptions::default();
    let layer = build
        .add_layer(
            &upper(dir.path(), "one"),
            &options,
            "RUN echo one > /etc/new",
        )
        .unwrap();
    // The next step runs on base + new layer, with the configuration so far.
    let running = build.image().unwrap();
    assert_eq!(running.layers.len(), 2);
    assert_eq!(
        fs::read_to_string(running.layers[1].join("etc/new")).unwrap(),
        "one"
    );
    let config = build.config_mut();
    config.cmd = Some(vec!["/bin/app".into()]);
    config.entrypoint = Some(vec!["/entry".into()]);
    config.user = Some("1000:50".into());
    config.working_dir = Some("/srv".into());
    config.set_label("org.example.x", "y");
    config.expose("8080/tcp");
    config.add_volume("/data");
    config.stop_signal = Some("SIGINT".into());
    config.on_build = Some(vec!["RUN true".into()]);
    config.healthcheck = Some(Healthcheck {
        test: vec!["CMD-SHELL".into(), "true".into()],
        interval: Some(5_000_000_000),
        retries: Some(3),
        ..Healthcheck::default()
    });
    build.add_history("CMD [\"/bin/app\"]");
    let committed = build.commit(Some("built:v1")).unwrap();

    let details = store.inspect("built:v1").unwrap();
    assert_eq!(details.id, committed.id);
    assert_eq!(details.repo_tags, ["built:v1"]);
    assert_eq!(details.os, "linux");
    assert_eq!(details.root_fs.layers.len(), 2);
    assert_eq!(details.root_fs.layers[1], layer.diff_id);
    let c = &details.config;
    assert_eq!(c["Env"], json!(["PATH=/bin", "BASE=2", "NEW=yes"]));
    assert_eq!(c["Cmd"], json!(["/bin/app"]));
    assert_eq!(c["Entrypoint"], json!(["/entry"]));
    assert_eq!(c["User"], "1000:50");
    assert_eq!(c["WorkingDir"], "/srv");
    assert_eq!(c["Labels"], json!({"org.example.x": "y"}));
    assert_eq!(c["ExposedPorts"], json!({"8080/tcp": {}}));
    assert_eq!(c["Volumes"], json!({"/data": {}}));
    assert_eq!(c["StopSignal"], "SIGINT");
    assert_eq!(c["OnBuild"], json!(["RUN true"]));
    assert_eq!(
        c["Healthcheck"],
        json!({"Test": ["CMD-SHELL", "true"], "Interval": 5_000_000_000i64, "Retries": 3})
    );

    let config: Value = serde_json::from_slice(&store.read_blob(&committed.id).unwrap()).unwrap();
    let history = config["history"].as_array().unwrap();
    let steps: Vec<(&str, bool)> = history
        .iter()
        .map(|h| {
            (
                h["created_by"].as_str().unwrap(),
                h["empty_layer"].as_bool().unwrap_or(false),
            )
        })
        .collect();
    assert_eq!(
        steps,
        [
            ("berth image import", false),
            ("ENV BASE=2 NEW=yes", true),
            ("RUN echo one > /etc/new", false),
            ("CMD [\"/bin/app\"]", true),
        ]
    );
    assert_eq!(config["architecture"], "amd64");

    let rows = store.list().unwrap();
    assert!(rows
        .iter()
        .any(|r| r.repository == "built" && r.tag == "v1" && r.id == committed.id));
    let image = store.resolve("built:v1").unwrap();
    assert_eq!(image.layers[0], store.resolve(&base_id).unwrap().layers[0]);
    assert_eq!(
        fs::read_to_string(image.layers[1].join("etc/new")).unwrap(),
        "one"
    );
    let manifest: Value =
        serde_json::from_slice(&store.read_blob(&committed.manifest_digest).unwrap()).unwrap();
    assert_eq!(manifest["mediaType"], layout::OCI_MANIFEST);
    assert_eq!(manifest["layers"][1]["digest"], layer.digest);
    assert_eq!(
        manifest["layers"][1]["mediaType"],
        "application/vnd.oci.image.layer.v1.tar+gzip"
    );
    // No pin is left once the image is committed.
    let pins = dir.path().join("root/images/pins");
    assert_eq!(fs::read_dir(pins).unwrap().count(), 0);
}

#[test]
fn a_build_dropped_before_its_commit_leaves_nothing() {
    let (dir, store, _) = store_with_base();
    let root = dir.path().join("root");
    let before = blobs_and_layers(&root);
    {
        let mut build = ImageBuild::from_base(&store, "base:1").unwrap();
        build
            .add_layer(
                &upper(dir.path(), "two"),
                &DiffOptions::default(),
                "RUN two",
            )
            .unwrap();
        assert_eq!(blobs_and_layers(&root), (before.0 + 1, before.1 + 1));
        // A removal meanwhile keeps what the build uses: the base too.
        store.remove("base:1", false).unwrap();
        let running = build.image().unwrap();
        assert!(running.layers.iter().all(|l| l.is_dir()));
        // A failed step: the build is dropped.
        let err = build
            .add_layer(
                &dir.path().join("missing"),
                &DiffOptions::default(),
                "RUN x",
            )
            .unwrap_err();
        assert!(err.to_string().contains("missing"), "{err}");
    }
    assert_eq!(blobs_and_layers(&root), (0, 0));
    assert_eq!(store.list().unwrap().len(), 0);
    assert_eq!(fs::read_dir(root.join("images/pins")).unwrap().count(), 0);
}

#[test]
fn an_abandoned_build_keeps_other_images() {
    let (dir, store, base_id) = store_with_base();
    let root = dir.path().join("root");
    let before = blobs_and_layers(&root);
    {
        let mut build = ImageBuild::from_base(&store, &base_id).unwrap();
        build
            .add_layer(
                &upper(dir.path(), "three"),
                &DiffOptions::default(),
                "RUN three",
            )
            .unwrap();
    }
    assert_eq!(blobs_and_layers(&root), before);
    assert_eq!(store.resolve("base:1").unwrap().id, base_id);
}

#[test]
fn stale_pins_of_dead_processes_keep_nothing() {
    let (dir, store, _) = store_with_base();
    let root = dir.path().join("root");
    let pins = root.join("images/pins");
    fs::create_dir_all(&pins).unwrap();
    // PID 0 is never a process of ours: the pin is stale.
    fs::write(
        pins.join("0-0.json"),
        r#"{"pid":0,"start":1,"blobs":[],"layers":[]}"#,
    )
    .unwrap();
    store.remove("base:1", false).unwrap();
    assert_eq!(blobs_and_layers(&root), (0, 0));
    assert!(!pins.join("0-0.json").exists());
}

#[test]
fn scratch_builds_have_only_their_own_layers() {
    let dir = tempfile::tempdir().unwrap();
    let store = ImageStore::open(&dir.path().join("root")).unwrap();
    let mut build = ImageBuild::scratch(&store).unwrap();
    build.set_created(1_700_000_000);
    let options = DiffOptions {
        mtime: Some(0),
        ..DiffOptions::default()
    };
    build
        .add_layer(&upper(dir.path(), "four"), &options, "COPY new /etc/new")
        .unwrap();
    build.config_mut().cmd = Some(vec!["/etc/new".into()]);
    build.add_history("CMD [\"/etc/new\"]");
    let first = build.commit(None).unwrap();
    let details = store.inspect(&first.id).unwrap();
    assert!(details.repo_tags.is_empty());
    assert_eq!(details.root_fs.layers.len(), 1);
    assert_eq!(details.created, "2023-11-14T22:13:20Z");
    assert_eq!(details.architecture, native_architecture());
    // The same steps at a fixed time make the same image.
    let mut again = ImageBuild::scratch(&store).unwrap();
    again.set_created(1_700_000_000);
    again
        .add_layer(&upper(dir.path(), "four"), &options, "COPY new /etc/new")
        .unwrap();
    again.config_mut().cmd = Some(vec!["/etc/new".into()]);
    again.add_history("CMD [\"/etc/new\"]");
    assert_eq!(again.commit(Some("scratchy")).unwrap(), first);
    let rows = store.list().unwrap();
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0].repository, "scratchy");
}

#[test]
fn a_bad_tag_is_refused_and_leaves_nothing() {
    let (dir, store, _) = store_with_base();
    let root = dir.path().join("root");
    let before = blobs_and_layers(&root);
    let mut build = ImageBuild::from_base(&store, "base:1").unwrap();
    build
        .add_layer(
            &upper(dir.path(), "five"),
            &DiffOptions::default(),
            "RUN five",
        )
        .unwrap();
    let err = build.commit(Some("Bad Name")).unwrap_err();
    assert!(matches!(err, CommitError::Reference(_)), "{err}");
    assert_eq!(blobs_and_layers(&root), before);
    let err = ImageBuild::from_base(&store, "nothere:1").unwrap_err();
    assert!(err.to_string().contains("nothere"), "{err}");
}
