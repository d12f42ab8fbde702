//! End-to-end tests of the container runtime: real containers from a
//! busybox rootfs, each test in its own network and mount namespace with a
//! private state root.

mod support;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use berth_runtime::container::{
    ContainerSpec, ExecIo, ExecSpec, ProcessSpec, Resources, Runtime, Status,
};
use berth_runtime::image::ResolvedImage;
use support::{busybox_rootfs, can_run_containers, isolated};

struct Fixture {
    _dir: tempfile::TempDir,
    runtime: Runtime,
    image: ResolvedImage,
}

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let layer = dir.path().join("layers/busybox");
    busybox_rootfs(&layer);
    let config: oci_spec::image::ImageConfiguration = serde_json::from_str(
        r#"{"architecture":"amd64","os":"linux","config":{"Env":["PATH=/usr/sbin:/usr/bin:/sbin:/bin","IMAGE_VAR=from-image"],"Cmd":["sh"]},"rootfs":{"type":"layers","diff_ids":[]}}"#,
    )
    .unwrap();
    let image = ResolvedImage {
        id: "sha256:test".into(),
        manifest_digest: "sha256:test".into(),
        config,
        layers: vec![layer],
    };
    let runtime = Runtime::with_helper(dir.path().join("root"), support::berth_bin())
        .cgroup_parent(format!("berth-test-{}", std::process::id()));
    Fixture {
        _dir: dir,
        runtime,
        image,
    }
}

fn sh(script: &str) -> ContainerSpec {
    ContainerSpec {
        process: ProcessSpec {
            command: Some(vec!["sh".into(), "-c".into(), script.into()]),
            ..ProcessSpec::default()
        },
        ..ContainerSpec::default()
    }
}

fn output(f: &Fixture, id: &str) -> String {
    let mut text = String::new();
    f.runtime
        .logs(id, false, |record| {
            text.push_str(&record.log);
            true
        })
        .unwrap();
    text
}

/// Runs a container to completion and returns (exit code, output).
fn run(f: &Fixture, spec: ContainerSpec) -> (i32, String) {
    let record = f.runtime.create(spec, &f.image, None).unwrap();
    f.runtime.start(&record.id).unwrap();
    let state = f.runtime.wait(&record.id, Some(Duration::from_secs(30))).unwrap();
    assert_eq!(state.status, Status::Exited);
    let text = output(f, &record.id);
    f.runtime.delete(&record.id, true).unwrap();
    (state.exit_code.unwrap(), text)
}

fn cgroup_leftovers(parent: &str) -> Vec<PathBuf> {
    let mut left = Vec::new();
    for entry in std::fs::read_dir("/sys/fs/cgroup").unwrap().flatten() {
        let dir = entry.path().join(parent);
        if let Ok(children) = std::fs::read_dir(&dir) {
            left.extend(children.flatten().map(|c| c.path()).filter(|p| p.is_dir()));
        }
    }
    left
}

fn assert_clean(f: &Fixture) {
    let parent = format!("berth-test-{}", std::process::id());
    assert!(f.runtime.list().unwrap().is_empty());
    assert_eq!(cgroup_leftovers(&parent), Vec::<PathBuf>::new());
    for entry in std::fs::read_dir("/sys/fs/cgroup").unwrap().flatten() {
        let _ = std::fs::remove_dir(entry.path().join(&parent));
    }
}

#[test]
fn environment_identity_hostname() {
    if !can_run_containers() {
        return;
    }
    isolated("environment_identity_hostname", || {
        let f = fixture();
        let mut spec = sh("echo env=$IMAGE_VAR/$MINE; id -u; id -g; id -G; hostname; cat /etc/hostname; pwd; echo home=$HOME");
        spec.hostname = Some("web".into());
        spec.process.env = vec!["MINE=mine".into()];
        spec.process.user = Some("app".into());
        spec.process.group_add = vec!["7".into()];
        spec.process.working_dir = Some("/srv/data".into());
        let (code, out) = run(&f, spec);
        assert_eq!(code, 0, "{out}");
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(
            lines,
            vec!["env=from-image/mine", "1000", "1000", "1000 7 50", "web", "web", "/srv/data", "home=/home/app"],
        );
        assert_clean(&f);
    });
}

#[test]
fn exit_codes_and_start_errors() {
    if !can_run_containers() {
        return;
    }
    isolated("exit_codes_and_start_errors", || {
        let f = fixture();
        assert_eq!(run(&f, sh("exit 3")).0, 3);
        let mut missing = sh("");
        missing.process.command = Some(vec!["no-such-program".into()]);
        let record = f.runtime.create(missing, &f.image, None).unwrap();
        let err = f.runtime.start(&record.id).unwrap_err();
        assert_eq!(err.exit_code(), 127, "{err}");
        assert!(err.to_string().contains("executable file not found"), "{err}");
        f.runtime.delete(&record.id, true).unwrap();

        let mut not_exec = sh("");
        not_exec.process.command = Some(vec!["/etc/passwd".into()]);
        let record = f.runtime.create(not_exec, &f.image, None).unwrap();
        let err = f.runtime.start(&record.id).unwrap_err();
        assert_eq!(err.exit_code(), 126, "{err}");
        f.runtime.delete(&record.id, true).unwrap();

        let mut bad_user = sh("true");
        bad_user.process.user = Some("ghost".into());
        let record = f.runtime.create(bad_user, &f.image, None).unwrap();
        let err = f.runtime.start(&record.id).unwrap_err();
        assert!(err.to_string().contains("unable to find user ghost"), "{err}");
        f.runtime.delete(&record.id, true).unwrap();
        assert_clean(&f);
    });
}
