//! End-to-end tests of committing images: a container's changes to the
//! busybox test image become a layer of a new image (berth's own runtime,
//! no dockerd), which then runs, and which `berth image inspect` and
//! `berth image ls` show and `berth up` runs like any pulled image. Each
//! test runs in its own network and mount namespace with a private state
//! root.

mod support;

use std::path::Path;
use std::time::Duration;

use berth_runtime::container::{ContainerSpec, ProcessSpec, Runtime, Status};
use berth_runtime::image::commit::{Healthcheck, ImageBuild};
use berth_runtime::image::diff::DiffOptions;
use berth_runtime::image::{ImageStore, ResolvedImage};
use support::containers::{can_run_containers, isolated};

fn sh(script: &str) -> ContainerSpec {
    ContainerSpec {
        process: ProcessSpec {
            command: Some(vec!["sh".into(), "-c".into(), script.into()]),
            ..ProcessSpec::default()
        },
        ..ContainerSpec::default()
    }
}

/// Runs a container to its end; returns its ID (not deleted), exit code
/// and output.
fn run(runtime: &Runtime, image: &ResolvedImage, spec: ContainerSpec) -> (String, i32, String) {
    let record = runtime.create(spec, image, None).unwrap();
    runtime.start(&record.id).unwrap();
    let state = runtime
        .wait(&record.id, Some(Duration::from_secs(30)))
        .unwrap();
    assert_eq!(state.status, Status::Exited);
    let mut text = String::new();
    runtime
        .logs(&record.id, false, |r| {
            text.push_str(&r.log);
            true
        })
        .unwrap();
    (record.id, state.exit_code.unwrap(), text)
}

fn content_counts(root: &Path) -> (usize, usize) {
    let count = |d: &str| std::fs::read_dir(root.join(d)).unwrap().count();
    (count("images/blobs/sha256"), count("layers/sha256"))
}

const COMPOSE: &str = r#"
services:
  app:
    image: berth.test/built:1
    command: ["sh", "-c", "cat /etc/added; test -e /etc/issue || echo issue-gone"]
"#;

struct Cleanup(Runtime, String);

impl Drop for Cleanup {
    /// Even a failing test leaves no container or cgroup behind.
    fn drop(&mut self) {
        for info in self.0.list().unwrap_or_default() {
            let _ = self.0.delete(&info.record.id, true);
        }
        for entry in std::fs::read_dir("/sys/fs/cgroup").unwrap().flatten() {
            let _ = std::fs::remove_dir(entry.path().join(&self.1));
        }
    }
}

#[test]
fn a_container_s_changes_become_an_image_that_runs_and_is_listed() {
    if !can_run_containers() {
        return;
    }
    isolated(
        "a_container_s_changes_become_an_image_that_runs_and_is_listed",
        || {
            let project = support::project::Project::new(COMPOSE);
            let root = project.root.clone();
            let parent = format!("berth-test-commit-{}", std::process::id());
            let runtime = Runtime::with_helper(&root, support::containers::berth_bin())
                .cgroup_parent(parent.clone());
            let cleanup = Cleanup(runtime.clone(), parent);
            let store = ImageStore::open(&root).unwrap();
            let before = content_counts(&root);

            // A RUN step: add a file, delete one, replace a directory, link.
            let mut build = ImageBuild::from_base(&store, "berth.test/busybox:latest").unwrap();
            let step = "echo added > /etc/added && rm /etc/issue && rm -rf /srv && mkdir /srv \
                        && echo fresh > /srv/fresh.txt && ln /etc/added /etc/added.hard \
                        && ln -s added /etc/added.sym";
            let (id, code, out) = run(&runtime, &build.image().unwrap(), sh(step));
            assert_eq!(code, 0, "{out}");
            let upper = runtime.upper_dir(&id).unwrap();
            build
                .add_layer(
                    &upper,
                    &DiffOptions::default(),
                    &format!("RUN /bin/sh -c {step}"),
                )
                .unwrap();
            runtime.delete(&id, false).unwrap();

            // Metadata-only steps.
            let config = build.config_mut();
            config.set_env("BUILT", "yes");
            config.cmd = Some(vec!["sh".into(), "-c".into(), "echo from-cmd".into()]);
            config.working_dir = Some("/srv".into());
            config.user = Some("app".into());
            config.set_label("org.example.step", "commit");
            config.expose("8080/tcp");
            config.add_volume("/data");
            config.stop_signal = Some("SIGINT".into());
            config.healthcheck = Some(Healthcheck {
                test: vec!["CMD-SHELL".into(), "true".into()],
                interval: Some(2_000_000_000),
                ..Healthcheck::default()
            });
            build.add_history("ENV BUILT=yes");
            let committed = build.commit(Some("berth.test/built:1")).unwrap();

            let image = store.resolve("berth.test/built:1").unwrap();
            assert_eq!(image.id, committed.id);
            assert_eq!(image.layers.len(), 2);
            let check = "cat /etc/added /srv/fresh.txt; test -e /etc/issue && echo issue-present \
                         || echo issue-gone; ls -a /srv | tr '\\n' ' '; echo; cat /etc/added.sym; \
                         stat -c %h /etc/added; pwd; id -un; echo $BUILT";
            let (id, code, out) = run(&runtime, &image, sh(check));
            assert_eq!(code, 0, "{out}");
            assert_eq!(
                out,
                "added\nfresh\nissue-gone\n. .. fresh.txt \nadded\n2\n/srv\napp\nyes\n"
            );
            runtime.delete(&id, false).unwrap();
            // The image's own CMD runs when none is given.
            let (id, code, out) = run(&runtime, &image, ContainerSpec::default());
            assert_eq!((code, out.as_str()), (0, "from-cmd\n"));
            runtime.delete(&id, false).unwrap();
            // The base is unchanged.
            let base = store.resolve("berth.test/busybox:latest").unwrap();
            let (id, _, out) = run(&runtime, &base, sh("cat /etc/issue; ls /srv"));
            assert_eq!(out, "berth test image\nbase.txt\n");
            runtime.delete(&id, false).unwrap();

            let inspect = support::ok(support::berth(
                &root,
                &["image", "inspect", "berth.test/built:1"],
                &[],
            ));
            let details: serde_json::Value = serde_json::from_str(&inspect).unwrap();
            let c = &details[0]["Config"];
            assert_eq!(details[0]["Id"], committed.id.as_str());
            assert_eq!(
                details[0]["RepoTags"],
                serde_json::json!(["berth.test/built:1"])
            );
            assert_eq!(details[0]["RootFS"]["Layers"].as_array().unwrap().len(), 2);
            assert!(c["Env"]
                .as_array()
                .unwrap()
                .contains(&serde_json::json!("BUILT=yes")));
            assert_eq!(c["Cmd"], serde_json::json!(["sh", "-c", "echo from-cmd"]));
            assert_eq!(c["WorkingDir"], "/srv");
            assert_eq!(c["User"], "app");
            assert_eq!(c["Labels"]["org.example.step"], "commit");
            assert_eq!(c["ExposedPorts"], serde_json::json!({"8080/tcp": {}}));
            assert_eq!(c["Volumes"], serde_json::json!({"/data": {}}));
            assert_eq!(c["StopSignal"], "SIGINT");
            assert_eq!(
                c["Healthcheck"]["Test"],
                serde_json::json!(["CMD-SHELL", "true"])
            );
            let ls = support::ok(support::berth(&root, &["image", "ls"], &[]));
            let row = ls
                .lines()
                .find(|l| l.starts_with("berth.test/built "))
                .unwrap_or_else(|| panic!("no row for the built image:\n{ls}"));
            let columns: Vec<&str> = row.split_whitespace().collect();
            assert_eq!(columns[1], "1", "{ls}");
            assert!(committed.id[7..].starts_with(columns[2]), "{ls}");

            // `up` runs it as a service's image.
            project.ok(&["up", "-d"]);
            let logs = project.wait_for_logs("app", |l| l.contains("issue-gone"));
            assert_eq!(logs, "added\nissue-gone\n");
            project.ok(&["down"]);

            // A build that fails before its commit leaves nothing in the store.
            let after = content_counts(&root);
            assert!(after.0 > before.0 && after.1 > before.1);
            {
                let mut failing = ImageBuild::from_base(&store, "berth.test/built:1").unwrap();
                let (id, code, _) = run(&runtime, &failing.image().unwrap(), sh("echo x > /tmp/x"));
                assert_eq!(code, 0);
                failing
                    .add_layer(
                        &runtime.upper_dir(&id).unwrap(),
                        &DiffOptions::default(),
                        "RUN x",
                    )
                    .unwrap();
                runtime.delete(&id, false).unwrap();
                let (id, code, _) = run(&runtime, &failing.image().unwrap(), sh("exit 3"));
                assert_eq!(code, 3);
                runtime.delete(&id, false).unwrap();
                // The step failed: the build is abandoned (dropped).
            }
            assert_eq!(content_counts(&root), after);
            assert!(runtime.list().unwrap().is_empty());
            drop(cleanup);
        },
    );
}
