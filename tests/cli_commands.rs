//! Commands a compose user reaches for daily: `cp` (both directions, a
//! volume path, `-` tar streams, escapes refused), `stats`, `scale`,
//! `restart --no-deps`, `down --rmi local` and `config --variables` /
//! `--environment` / `--no-path-resolution`, driven through the real binary.

mod support;

use std::io::Write;
use std::process::Stdio;

use support::containers::{can_run_containers, isolated};
use support::project::Project;

const APP: &str = "name: cmds
services:
  app:
    image: berth.test/busybox:latest
    command: [sleep, '600']
    stop_signal: SIGKILL
    mem_limit: 64m
    volumes: ['data:/data']
volumes:
  data: {}
";

fn inspect(p: &Project, container: &str, template: &str) -> String {
    p.ok(&["inspect", "--format", template, container])
        .trim()
        .to_string()
}

#[test]
fn cp_both_ways_with_a_volume_a_tar_stream_and_no_escape() {
    if !can_run_containers() {
        return;
    }
    isolated(
        "cp_both_ways_with_a_volume_a_tar_stream_and_no_escape",
        || {
            let p = Project::new(APP);
            p.ok(&["up", "-d"]);
            let local = p.dir.join("local");
            std::fs::create_dir_all(local.join("tree/sub")).unwrap();
            std::fs::write(local.join("hello.txt"), "hello\n").unwrap();
            std::fs::write(local.join("tree/a.txt"), "a\n").unwrap();
            std::fs::write(local.join("tree/sub/b.txt"), "b\n").unwrap();
            let at = |name: &str| local.join(name).to_str().unwrap().to_string();

            // In: a file to a new name, a directory into the volume.
            p.ok(&["cp", &at("hello.txt"), "app:/tmp/greeting"]);
            p.ok(&["cp", &at("tree"), "app:/data"]);
            assert_eq!(p.sh("app", "cat /tmp/greeting").1, "hello\n");
            assert_eq!(p.sh("app", "cat /data/tree/sub/b.txt").1, "b\n");
            // Without -a the files are root's.
            assert_eq!(p.sh("app", "stat -c %u:%g /data/tree/a.txt").1, "0:0\n");
            // `tree/.`: the contents only.
            p.sh("app", "mkdir /tmp/flat");
            p.ok(&["cp", &format!("{}/.", at("tree")), "app:/tmp/flat"]);
            assert_eq!(p.sh("app", "cat /tmp/flat/a.txt").1, "a\n");

            // Out: a file, and a directory from the volume.
            p.sh("app", "mkdir -p /data/made/deep && echo made > /data/made/deep/f && chown 1000:1000 /data/made/deep/f");
            p.ok(&["cp", "app:/tmp/greeting", &at("back.txt")]);
            assert_eq!(
                std::fs::read_to_string(local.join("back.txt")).unwrap(),
                "hello\n"
            );
            p.ok(&["cp", "-a", "app:/data/made", &at("out")]);
            assert_eq!(
                std::fs::read_to_string(local.join("out/deep/f")).unwrap(),
                "made\n"
            );
            use std::os::unix::fs::MetadataExt;
            assert_eq!(
                std::fs::metadata(local.join("out/deep/f")).unwrap().uid(),
                1000
            );

            // `-`: a tar stream out on stdout, and in on stdin.
            let out = p.berth(&["cp", "app:/data/made", "-"]);
            assert!(out.status.success(), "{}", support::stderr(&out));
            let mut archive = tar::Archive::new(&out.stdout[..]);
            let names: Vec<String> = archive
                .entries()
                .unwrap()
                .map(|e| e.unwrap().path().unwrap().display().to_string())
                .collect();
            assert!(names.iter().any(|n| n == "made/deep/f"), "{names:?}");
            let mut tar_in = tar::Builder::new(Vec::new());
            let mut header = tar::Header::new_gnu();
            header.set_size(6);
            header.set_mode(0o644);
            tar_in
                .append_data(&mut header, "streamed.txt", &b"piped\n"[..])
                .unwrap();
            let bytes = tar_in.into_inner().unwrap();
            let mut child = p
                .command(&["cp", "-", "app:/data"])
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap();
            child.stdin.take().unwrap().write_all(&bytes).unwrap();
            let done = child.wait_with_output().unwrap();
            assert!(done.status.success(), "{}", support::stderr(&done));
            assert_eq!(p.sh("app", "cat /data/streamed.txt").1, "piped\n");

            // `..` out of the root is refused; a symlink pointing out resolves
            // inside the container, never to the host's file.
            let secret = p.dir.join("host-secret");
            std::fs::write(&secret, "host only\n").unwrap();
            let out = p.berth(&["cp", "app:/../../../../etc/passwd", &at("passwd")]);
            assert!(!out.status.success());
            assert!(
                support::stderr(&out).contains("out of the container's root"),
                "{}",
                support::stderr(&out)
            );
            p.sh(
                "app",
                &format!("ln -s /../../../..{} /tmp/escape", secret.display()),
            );
            let out = p.berth(&["cp", "-L", "app:/tmp/escape", &at("escaped")]);
            assert!(!out.status.success(), "the host's file was copied out");
            assert!(!local.join("escaped").exists());
            // Writing through the link lands inside the container too.
            p.ok(&["cp", &at("hello.txt"), "app:/tmp/escape"]);
            assert_eq!(std::fs::read_to_string(&secret).unwrap(), "host only\n");

            // A stopped container: its root and volume are still there.
            p.ok(&["stop", "app"]);
            p.ok(&["cp", "app:/data/tree/a.txt", &at("stopped.txt")]);
            assert_eq!(
                std::fs::read_to_string(local.join("stopped.txt")).unwrap(),
                "a\n"
            );
            p.ok(&["cp", &at("hello.txt"), "app:/data/while-stopped"]);
            p.ok(&["start", "app"]);
            assert_eq!(p.sh("app", "cat /data/while-stopped").1, "hello\n");
            p.ok(&["down", "-t", "0", "-v"]);
        },
    );
}

#[test]
fn stats_no_stream_json_reads_the_cgroups() {
    if !can_run_containers() {
        return;
    }
    isolated("stats_no_stream_json_reads_the_cgroups", || {
        let p = Project::new(APP);
        p.ok(&["up", "-d"]);
        let out = p.ok(&["stats", "--no-stream", "--format", "json"]);
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines.len(), 1, "{out}");
        let row: serde_json::Value = serde_json::from_str(lines[0]).unwrap();
        assert_eq!(row["Name"], "cmds-app-1");
        let usage = row["MemUsage"].as_str().unwrap();
        let (used, limit) = usage.split_once(" / ").unwrap();
        assert_eq!(limit, "64MiB", "{row}");
        assert_ne!(used, "0B", "{row}");
        assert!(row["CPUPerc"].as_str().unwrap().ends_with('%'));
        assert_eq!(row["PIDs"], "1", "{row}");
        let table = p.ok(&["stats", "--no-stream"]);
        assert!(table.starts_with("CONTAINER ID"), "{table}");
        assert!(table.contains("MEM USAGE / LIMIT") && table.contains("cmds-app-1"));
        p.ok(&["down", "-t", "0", "-v"]);
    });
}

const TIERS: &str = "name: tiers
services:
  db:
    image: berth.test/busybox:latest
    command: [sleep, '600']
    stop_signal: SIGKILL
  api:
    image: berth.test/busybox:latest
    command: [sleep, '600']
    stop_signal: SIGKILL
    depends_on:
      db: {condition: service_started, restart: true}
";

#[test]
fn scale_then_restart_with_and_without_deps() {
    if !can_run_containers() {
        return;
    }
    isolated("scale_then_restart_with_and_without_deps", || {
        let p = Project::new(TIERS);
        p.ok(&["up", "-d"]);
        p.ok(&["scale", "api=3"]);
        assert_eq!(p.ok(&["ps", "-q", "api"]).lines().count(), 3);
        p.ok(&["scale", "api=1"]);
        let ps = p.ok(&["ps", "--format", "{{.Name}}"]);
        assert!(
            ps.contains("tiers-api-1") && !ps.contains("tiers-api-2"),
            "{ps}"
        );

        let started = |name: &str| inspect(&p, name, "{{.State.StartedAt}}");
        let (db, api) = (started("tiers-db-1"), started("tiers-api-1"));
        std::thread::sleep(std::time::Duration::from_millis(1100));
        p.ok(&["restart", "--no-deps", "db"]);
        assert_ne!(started("tiers-db-1"), db);
        assert_eq!(started("tiers-api-1"), api, "--no-deps restarted api");
        // Without it, api (restart: true on db) follows.
        let db = started("tiers-db-1");
        std::thread::sleep(std::time::Duration::from_millis(1100));
        p.ok(&["restart", "db"]);
        assert_ne!(started("tiers-db-1"), db);
        assert_ne!(started("tiers-api-1"), api);
        p.ok(&["down", "-t", "0"]);
    });
}

#[test]
fn down_rmi_local_removes_the_projects_image_only() {
    if !can_run_containers() {
        return;
    }
    isolated("down_rmi_local_removes_the_projects_image_only", || {
        let p = Project::new(
            "name: rmi
services:
  app:
    image: rmi-app
    command: [sleep, '600']
    stop_signal: SIGKILL
  other:
    image: berth.test/busybox:latest
    command: [sleep, '600']
    stop_signal: SIGKILL
",
        );
        p.ok(&["tag", "berth.test/busybox:latest", "rmi-app"]);
        p.ok(&["up", "-d"]);
        let out = p.berth(&["down", "-t", "0", "--rmi", "local"]);
        assert!(out.status.success(), "{}", support::stderr(&out));
        assert!(
            support::stderr(&out).contains("rmi-app"),
            "{}",
            support::stderr(&out)
        );
        let images = p.ok(&["image", "ls", "--format", "json"]);
        assert!(!images.contains("rmi-app"), "{images}");
        assert!(images.contains("berth.test/busybox"), "{images}");
        let out = p.berth(&["down", "--rmi", "some"]);
        assert!(!out.status.success());
    });
}

#[test]
fn config_variables_and_environment() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("compose.yaml"),
        "services:\n  web:\n    image: \"busybox:${TAG:-1.36}\"\n    environment:\n      A: ${FOO:-x}\n      B: ${NEEDED:?set it}\n    volumes: ['./data:/data']\n",
    )
    .unwrap();
    std::fs::write(dir.path().join(".env"), "NEEDED=yes\n").unwrap();
    let root = dir.path().join("root");
    let d = dir.path().to_str().unwrap();
    let out = support::ok(support::berth(
        &root,
        &["--project-directory", d, "config", "--variables"],
        &[],
    ));
    let foo = out
        .lines()
        .find(|l| l.starts_with("FOO "))
        .unwrap_or_default();
    assert_eq!(
        foo.split_whitespace().collect::<Vec<_>>(),
        ["FOO", "false", "x"],
        "{out}"
    );
    assert!(
        out.lines()
            .any(|l| l.starts_with("NEEDED") && l.contains("true")),
        "{out}"
    );
    let json = support::ok(support::berth(
        &root,
        &[
            "--project-directory",
            d,
            "config",
            "--variables",
            "--format",
            "json",
        ],
        &[],
    ));
    let parsed: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(parsed["TAG"]["DefaultValue"], "1.36");
    let env = support::ok(support::berth(
        &root,
        &["--project-directory", d, "config", "--environment"],
        &[("FROM_SHELL", "1")],
    ));
    assert!(env.lines().any(|l| l == "NEEDED=yes"), "{env}");
    assert!(env.lines().any(|l| l == "FROM_SHELL=1"), "{env}");
    let kept = support::ok(support::berth(
        &root,
        &["--project-directory", d, "config", "--no-path-resolution"],
        &[],
    ));
    assert!(kept.contains("source: ./data"), "{kept}");
    let resolved = support::ok(support::berth(
        &root,
        &["--project-directory", d, "config"],
        &[],
    ));
    assert!(
        resolved.contains(&format!("source: {d}/data")),
        "{resolved}"
    );
}
