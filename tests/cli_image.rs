//! End-to-end tests of the image commands through the real binary, each with
//! its own `--root`: load (OCI layout and `docker save` archives), images,
//! inspect, import with `--change`, tag, rm with garbage collection, and pulls
//! from a local `docker-registry` (skipped with a notice when it or skopeo is
//! missing).

mod support;

use serde_json::Value;
use support::registry::{self, Registry};
use support::*;

fn json_lines(text: &str) -> Vec<Value> {
    text.lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect()
}

#[test]
fn loads_oci_and_docker_save_archives_lists_inspects_and_removes() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("state");
    let layer = rootfs_layer();

    // An OCI layout tarball, gzip-compressed as a whole.
    let layout = tmp.path().join("layout");
    let oci_manifest = write_oci_layout(
        &layout,
        &layer,
        &["sh", "-c", "echo oci"],
        serde_json::json!({"org.opencontainers.image.ref.name": "example.com/test/oci:1"}),
    );
    let oci_tar = tmp.path().join("oci.tar.gz");
    std::fs::write(&oci_tar, gzip(&tar_dir(&layout))).unwrap();
    let out = ok(berth(
        &root,
        &["image", "load", "-i", oci_tar.to_str().unwrap()],
        &[],
    ));
    assert_eq!(out, "Loaded image: example.com/test/oci:1\n");

    // A docker save archive with a plain layer (the same layer: shared on disk).
    let save_tar = tmp.path().join("save.tar");
    std::fs::write(&save_tar, docker_save(&layer, &["sh"], &["save/test:2"])).unwrap();
    let out = ok(berth(
        &root,
        &["image", "load", "--input", save_tar.to_str().unwrap(), "-q"],
        &[],
    ));
    assert_eq!(out, "Loaded image: save/test:2\n");

    // Loading again changes nothing.
    ok(berth(
        &root,
        &["image", "load", "-i", save_tar.to_str().unwrap()],
        &[],
    ));

    let rows = json_lines(&ok(berth(&root, &["images", "--format", "json"], &[])));
    assert_eq!(rows.len(), 2, "{rows:?}");
    let mut names: Vec<String> = rows
        .iter()
        .map(|r| {
            format!(
                "{}:{}",
                r["Repository"].as_str().unwrap(),
                r["Tag"].as_str().unwrap()
            )
        })
        .collect();
    names.sort();
    assert_eq!(names, ["example.com/test/oci:1", "save/test:2"]);
    assert!(rows.iter().all(|r| r["ID"].as_str().unwrap().len() == 12));
    let oci_row = rows
        .iter()
        .find(|r| r["Repository"] == "example.com/test/oci")
        .unwrap();
    assert_eq!(oci_row["Digest"], oci_manifest.as_str());

    let table = ok(berth(&root, &["image", "ls"], &[]));
    let header = table.lines().next().unwrap();
    for column in ["REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE"] {
        assert!(header.contains(column), "{table}");
    }
    let filtered = ok(berth(&root, &["images", "save/test"], &[]));
    assert_eq!(filtered.lines().count(), 2, "{filtered}");
    assert!(filtered.contains("save/test"), "{filtered}");

    let inspect: Value = serde_json::from_str(&ok(berth(
        &root,
        &["image", "inspect", "save/test:2", "example.com/test/oci:1"],
        &[],
    )))
    .unwrap();
    let images = inspect.as_array().unwrap();
    assert_eq!(images.len(), 2);
    let diff_id = sha256(&layer);
    let save_config = config_for(&layer, &["sh"]);
    assert_eq!(images[0]["Id"], sha256(&save_config).as_str());
    assert_eq!(images[0]["RepoTags"], serde_json::json!(["save/test:2"]));
    assert_eq!(images[0]["Config"]["Cmd"], serde_json::json!(["sh"]));
    assert_eq!(images[0]["Config"]["Labels"]["test"], "yes");
    assert_eq!(images[0]["Os"], "linux");
    assert_eq!(images[0]["Architecture"], "amd64");
    assert_eq!(images[0]["Created"], "2024-01-02T03:04:05Z");
    assert_eq!(images[0]["RootFS"]["Type"], "layers");
    assert_eq!(images[0]["RootFS"]["Layers"], serde_json::json!([diff_id]));
    assert_eq!(
        images[1]["Config"]["Cmd"],
        serde_json::json!(["sh", "-c", "echo oci"])
    );

    // The layer is unpacked once, and holds the files.
    let layer_dir = root.join("layers/sha256").join(&diff_id[7..]);
    assert_eq!(
        std::fs::read_to_string(layer_dir.join("etc/berth-test")).unwrap(),
        "hello from a berth test image\n"
    );
    assert_eq!(
        files_under(&root.join("layers/sha256"))
            .iter()
            .filter(|f| !f.contains('/'))
            .count(),
        1
    );

    // Short ID prefixes resolve like Docker's.
    let short_id = &images[0]["Id"].as_str().unwrap()[7..19];
    let by_id: Value =
        serde_json::from_str(&ok(berth(&root, &["image", "inspect", short_id], &[]))).unwrap();
    assert_eq!(by_id[0]["Id"], images[0]["Id"]);

    // Removing one image keeps the shared layer; removing both empties the store.
    let out = ok(berth(&root, &["rmi", "save/test:2"], &[]));
    assert!(
        out.starts_with("Untagged: save/test:2\nDeleted: sha256:"),
        "{out}"
    );
    assert!(layer_dir.is_dir());
    // Two names on one image: by ID needs -f (which is --force after rmi).
    ok(berth(
        &root,
        &["tag", "example.com/test/oci:1", "other:3"],
        &[],
    ));
    let oci_id = images[1]["Id"].as_str().unwrap().to_string();
    let refused = berth(&root, &["image", "rm", &oci_id[7..19]], &[]);
    assert!(!refused.status.success());
    assert!(
        stderr(&refused).contains("must be forced"),
        "{}",
        stderr(&refused)
    );
    let out = ok(berth(&root, &["image", "rm", "-f", &oci_id[7..19]], &[]));
    assert!(
        out.contains("Untagged: other:3") && out.contains(&format!("Deleted: {oci_id}")),
        "{out}"
    );
    assert_eq!(
        files_under(&root.join("images/blobs/sha256")),
        Vec::<String>::new()
    );
    assert_eq!(
        files_under(&root.join("layers/sha256")),
        Vec::<String>::new()
    );
    assert_eq!(ok(berth(&root, &["images", "-q"], &[])), "");
    let index: Value =
        serde_json::from_slice(&std::fs::read(root.join("images/index.json")).unwrap()).unwrap();
    assert_eq!(index["manifests"], serde_json::json!([]));
}

#[test]
fn imports_a_rootfs_with_changes() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("state");
    let rootfs = tmp.path().join("rootfs.tar");
    std::fs::write(&rootfs, rootfs_layer()).unwrap();
    let id = ok(berth(
        &root,
        &[
            "image",
            "import",
            rootfs.to_str().unwrap(),
            "imported:1",
            "--change",
            r#"CMD ["sh"]"#,
            "--change",
            "ENV A=b",
            "-c",
            "EXPOSE 80/tcp",
            "-c",
            "ENTRYPOINT /bin/sh -x",
        ],
        &[],
    ));
    assert!(
        id.trim().starts_with("sha256:") && id.trim().len() == 71,
        "{id}"
    );
    let inspect: Value =
        serde_json::from_str(&ok(berth(&root, &["image", "inspect", "imported:1"], &[]))).unwrap();
    let image = &inspect[0];
    assert_eq!(image["Id"], id.trim());
    assert_eq!(image["Config"]["Cmd"], serde_json::json!(["sh"]));
    assert_eq!(image["Config"]["Env"], serde_json::json!(["A=b"]));
    assert_eq!(
        image["Config"]["ExposedPorts"],
        serde_json::json!({"80/tcp": {}})
    );
    assert_eq!(
        image["Config"]["Entrypoint"],
        serde_json::json!(["/bin/sh", "-c", "/bin/sh -x"])
    );
    assert_eq!(image["Os"], "linux");
    assert_eq!(image["Architecture"], "amd64");
    assert_eq!(
        image["RootFS"]["Layers"],
        serde_json::json!([sha256(&rootfs_layer())])
    );

    let bad = berth(
        &root,
        &[
            "image",
            "import",
            rootfs.to_str().unwrap(),
            "x:1",
            "-c",
            "RUN true",
        ],
        &[],
    );
    assert_eq!(bad.status.code(), Some(1));
    assert!(
        stderr(&bad).contains("unknown instruction \"RUN\""),
        "{}",
        stderr(&bad)
    );

    let out = ok(berth(&root, &["image", "rm", "imported:1"], &[]));
    assert!(out.contains("Deleted: sha256:"), "{out}");
    assert_eq!(
        files_under(&root.join("layers/sha256")),
        Vec::<String>::new()
    );
}

#[test]
fn missing_images_and_bad_archives_say_what_to_do() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("state");
    let out = berth(&root, &["image", "inspect", "redis:7"], &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains(r#"image "redis:7" not found: pull it with "berth pull redis:7" or load it with "berth image load""#),
        "{}",
        stderr(&out)
    );
    assert_eq!(stdout(&out).trim(), "[]");
    let junk = tmp.path().join("junk.tar");
    std::fs::write(&junk, tar_dir(&tmp.path().join("state/tmp"))).unwrap();
    let out = berth(&root, &["image", "load", "-i", junk.to_str().unwrap()], &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("neither manifest.json"),
        "{}",
        stderr(&out)
    );
    let out = berth(&root, &["rmi", "nothing:here"], &[]);
    assert_eq!(out.status.code(), Some(1));
    // The state root comes from BERTH_ROOT too.
    let out = ok(berth(
        tmp.path(),
        &["images", "-q"],
        &[("BERTH_ROOT", root.to_str().unwrap())],
    ));
    assert_eq!(out, "");
}

fn registry_fixture(tmp: &std::path::Path) -> std::path::PathBuf {
    let layout = tmp.join("push-layout");
    write_oci_layout(
        &layout,
        &rootfs_layer(),
        &["sh"],
        serde_json::json!({"org.opencontainers.image.ref.name": "latest"}),
    );
    layout
}

#[test]
fn pulls_from_a_local_registry() {
    if let Some(missing) = registry::missing_tools(false) {
        eprintln!("skipping the registry pull test: {missing} not installed (apt-get install docker-registry skopeo)");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("state");
    let registry = Registry::start(&tmp.path().join("registry"), None);
    registry.push(&registry_fixture(tmp.path()), "latest", "test/busybox");
    let name = format!("{}/test/busybox:latest", registry.host());

    let out = berth(&root, &["pull", &name], &[]);
    assert_eq!(ok(out.clone()), format!("{name}\n"));
    let progress = stderr(&out);
    assert!(
        progress.contains("Pull complete") && progress.contains("Digest: sha256:"),
        "{progress}"
    );

    let rows = json_lines(&ok(berth(&root, &["images", "--format", "json"], &[])));
    assert_eq!(rows.len(), 1);
    assert_eq!(
        rows[0]["Repository"],
        format!("{}/test/busybox", registry.host())
    );
    assert_eq!(rows[0]["Tag"], "latest");
    let inspect: Value =
        serde_json::from_str(&ok(berth(&root, &["image", "inspect", &name], &[]))).unwrap();
    let digests = inspect[0]["RepoDigests"].as_array().unwrap();
    assert_eq!(digests.len(), 1);
    assert!(
        digests[0]
            .as_str()
            .unwrap()
            .starts_with(&format!("{}/test/busybox@sha256:", registry.host())),
        "{digests:?}"
    );
    assert_eq!(inspect[0]["Config"]["Cmd"], serde_json::json!(["sh"]));
    let layer = &inspect[0]["RootFS"]["Layers"][0].as_str().unwrap()[7..];
    assert!(root
        .join("layers/sha256")
        .join(layer)
        .join("etc/berth-test")
        .is_file());

    // Again: nothing downloaded; quiet prints only the name.
    let out = ok(berth(&root, &["image", "pull", "-q", &name], &[]));
    assert_eq!(out, format!("{name}\n"));
    let again = berth(&root, &["pull", &name], &[]);
    assert!(
        stderr(&again).contains("Already exists") && stderr(&again).contains("up to date"),
        "{}",
        stderr(&again)
    );

    // As `docker compose pull`: the project's service images.
    let project = tmp.path().join("project");
    std::fs::create_dir_all(&project).unwrap();
    std::fs::write(
        project.join("compose.yaml"),
        format!("services:\n  app:\n    image: {name}\n  other:\n    image: {name}\n"),
    )
    .unwrap();
    let fresh = tmp.path().join("fresh-state");
    let dir = project.to_str().unwrap();
    assert_eq!(
        ok(berth(
            &fresh,
            &["--project-directory", dir, "pull", "-q"],
            &[]
        )),
        format!("{name}\n")
    );
    assert_eq!(
        ok(berth(
            &fresh,
            &["--project-directory", dir, "pull", "-q", "app"],
            &[]
        )),
        format!("{name}\n")
    );

    // By digest.
    let by_digest = digests[0].as_str().unwrap().to_string();
    ok(berth(&root, &["pull", "-q", &by_digest], &[]));
    let inspect: Value =
        serde_json::from_str(&ok(berth(&root, &["image", "inspect", &by_digest], &[]))).unwrap();
    assert_eq!(inspect[0]["Id"], inspect[0]["Id"]);

    // Errors name the reference and the registry.
    let missing = format!("{}/test/nothing:1", registry.host());
    let out = berth(&root, &["pull", &missing], &[]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("not found") && err.contains(&missing) && err.contains(&registry.host()),
        "{err}"
    );

    let closed = format!("127.0.0.1:{}/test/busybox:latest", registry::free_port());
    let out = berth(&root, &["pull", &closed], &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("cannot reach registry 127.0.0.1:"),
        "{}",
        stderr(&out)
    );

    // Removing the pulled image removes its blobs and layers.
    ok(berth(&root, &["rmi", "-f", &name], &[]));
    ok(berth(&root, &["rmi", &by_digest], &[])).to_string();
    assert_eq!(
        files_under(&root.join("images/blobs/sha256")),
        Vec::<String>::new()
    );
    assert_eq!(
        files_under(&root.join("layers/sha256")),
        Vec::<String>::new()
    );
}

#[test]
fn pulls_with_basic_auth_from_docker_config() {
    if let Some(missing) = registry::missing_tools(true) {
        eprintln!("skipping the registry auth test: {missing} not installed (apt-get install docker-registry skopeo apache2-utils)");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("state");
    let registry = Registry::start(&tmp.path().join("registry"), Some(("berth", "s3cret")));
    registry.push(&registry_fixture(tmp.path()), "latest", "private/app");
    let name = format!("{}/private/app:latest", registry.host());

    let out = berth(&root, &["pull", &name], &[]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("unauthorized") && err.contains(&name), "{err}");

    let docker_config = tmp.path().join("docker-config");
    std::fs::create_dir_all(&docker_config).unwrap();
    let write_config = |pass: &str| {
        let config = serde_json::json!({"auths": {registry.host(): {"auth": base64(format!("berth:{pass}").as_bytes())}}});
        std::fs::write(docker_config.join("config.json"), config.to_string()).unwrap();
    };
    write_config("wrong");
    let env = [("DOCKER_CONFIG", docker_config.to_str().unwrap())];
    let out = berth(&root, &["pull", &name], &env);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("were refused"), "{}", stderr(&out));

    write_config("s3cret");
    assert_eq!(
        ok(berth(&root, &["pull", "-q", &name], &env)),
        format!("{name}\n")
    );
    ok(berth(&root, &["image", "inspect", &name], &[]));
}

#[test]
fn the_same_image_loaded_twice_in_two_formats_is_listed_once() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("state");
    let layer = rootfs_layer();
    // Same config (so the same image ID) under two manifests: gzip layer in
    // the OCI layout, plain layer in the docker save archive.
    let layout = tmp.path().join("layout");
    write_oci_layout(
        &layout,
        &layer,
        &["sh"],
        serde_json::json!({"org.opencontainers.image.ref.name": "same/image:1"}),
    );
    let oci_tar = tmp.path().join("oci.tar");
    std::fs::write(&oci_tar, tar_dir(&layout)).unwrap();
    let save_tar = tmp.path().join("save.tar");
    std::fs::write(&save_tar, docker_save(&layer, &["sh"], &["same/image:1"])).unwrap();
    for archive in [&oci_tar, &save_tar] {
        ok(berth(
            &root,
            &["image", "load", "-i", archive.to_str().unwrap()],
            &[],
        ));
    }
    let rows = json_lines(&ok(berth(&root, &["images", "--format", "json"], &[])));
    assert_eq!(
        rows.len(),
        1,
        "no dangling duplicate of the same image: {rows:?}"
    );
    assert_eq!(rows[0]["Repository"], "same/image");
}

/// A layer entry with an explicit kind and mode (and link target).
fn layer_entry(
    builder: &mut tar::Builder<Vec<u8>>,
    name: &str,
    kind: tar::EntryType,
    mode: u32,
    link: Option<&str>,
) {
    let mut header = tar::Header::new_gnu();
    header.set_entry_type(kind);
    header.set_size(0);
    header.set_mode(mode);
    header.set_mtime(1_700_000_000);
    match link {
        Some(link) => builder.append_link(&mut header, name, link).unwrap(),
        None => builder.append_data(&mut header, name, &b""[..]).unwrap(),
    }
}

#[test]
fn a_hostile_layer_cannot_chmod_a_host_file() {
    use std::os::unix::fs::PermissionsExt;
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("state");
    let host = tmp.path().join("host-secret");
    std::fs::write(&host, "secret").unwrap();
    std::fs::set_permissions(&host, std::fs::Permissions::from_mode(0o600)).unwrap();
    let host_path = host.to_str().unwrap();

    // d/ (04777), then d -> the host file; and the same through a hardlink
    // (s -> host file, e/ 04777, e hardlinked to s).
    let mut builder = tar::Builder::new(Vec::new());
    layer_entry(&mut builder, "d/", tar::EntryType::Directory, 0o4777, None);
    layer_entry(
        &mut builder,
        "d",
        tar::EntryType::Symlink,
        0o777,
        Some(host_path),
    );
    layer_entry(
        &mut builder,
        "s",
        tar::EntryType::Symlink,
        0o777,
        Some(host_path),
    );
    layer_entry(&mut builder, "e/", tar::EntryType::Directory, 0o6777, None);
    layer_entry(&mut builder, "e", tar::EntryType::Link, 0o777, Some("s"));
    let layer = builder.into_inner().unwrap();
    let archive = tmp.path().join("hostile.tar");
    std::fs::write(&archive, docker_save(&layer, &["sh"], &["hostile/layer:1"])).unwrap();

    ok(berth(
        &root,
        &["image", "load", "-i", archive.to_str().unwrap()],
        &[],
    ));
    let mode = std::fs::metadata(&host).unwrap().permissions().mode() & 0o7777;
    assert_eq!(mode, 0o600, "the host file's mode was changed to {mode:o}");
    assert_eq!(std::fs::read_to_string(&host).unwrap(), "secret");
}
