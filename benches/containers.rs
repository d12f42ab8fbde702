//! Container start-up benchmark: create + start + wait (+ delete) of `true`
//! in a busybox container, p50 and p95 over N runs, side by side with
//! Debian's `crun run` on the same rootfs as an OCI bundle, in the same run.
//!
//! Needs root, /bin/busybox and /usr/bin/crun. Run:
//! `cargo bench --bench containers` (BERTH_BENCH_RUNS=200 by default;
//! BERTH_BENCH_SECCOMP=unconfined runs berth's containers without the
//! default seccomp filter, to measure what the filter costs).

#[path = "../tests/support/containers.rs"]
mod support;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use berth_runtime::container::{ContainerSpec, ProcessSpec, Runtime};
use berth_runtime::image::ResolvedImage;

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index]
}

fn report(name: &str, mut samples: Vec<Duration>) {
    samples.sort();
    println!(
        "{name:<28} p50 {:>8.2} ms   p95 {:>8.2} ms   (n={})",
        percentile(&samples, 0.50).as_secs_f64() * 1e3,
        percentile(&samples, 0.95).as_secs_f64() * 1e3,
        samples.len()
    );
}

fn crun_config(rootfs: &std::path::Path) -> String {
    serde_json::json!({
        "ociVersion": "1.0.2",
        "process": {
            "terminal": false,
            "user": {"uid": 0, "gid": 0},
            "args": ["true"],
            "env": ["PATH=/usr/sbin:/usr/bin:/sbin:/bin"],
            "cwd": "/",
            "capabilities": {
                "bounding": ["CAP_CHOWN", "CAP_KILL"],
                "effective": ["CAP_CHOWN", "CAP_KILL"],
                "permitted": ["CAP_CHOWN", "CAP_KILL"]
            },
            "noNewPrivileges": true
        },
        "root": {"path": rootfs, "readonly": true},
        "hostname": "bench",
        "mounts": [
            {"destination": "/proc", "type": "proc", "source": "proc"},
            {"destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]},
            {"destination": "/dev/pts", "type": "devpts", "source": "devpts", "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"]},
            {"destination": "/dev/shm", "type": "tmpfs", "source": "shm", "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]},
            {"destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue", "options": ["nosuid", "noexec", "nodev"]},
            {"destination": "/sys", "type": "sysfs", "source": "sysfs", "options": ["nosuid", "noexec", "nodev", "ro"]}
        ],
        "linux": {
            "namespaces": [{"type": "pid"}, {"type": "network"}, {"type": "ipc"}, {"type": "uts"}, {"type": "mount"}],
            "maskedPaths": ["/proc/kcore", "/proc/keys", "/sys/firmware"],
            "readonlyPaths": ["/proc/sys", "/proc/sysrq-trigger"]
        }
    })
    .to_string()
}

fn main() {
    if !support::can_run_containers() {
        return;
    }
    let runs: usize = std::env::var("BERTH_BENCH_RUNS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(200);
    let dir = tempfile::tempdir().unwrap();
    let layer = dir.path().join("rootfs");
    support::busybox_rootfs(&layer);
    let config = serde_json::from_str(
        r#"{"architecture":"amd64","os":"linux","config":{"Cmd":["true"]},"rootfs":{"type":"layers","diff_ids":[]}}"#,
    )
    .unwrap();
    let image = ResolvedImage {
        id: "sha256:bench".into(),
        manifest_digest: "sha256:bench".into(),
        config,
        layers: vec![layer.clone()],
    };
    let runtime_root = dir.path().join("state");
    let runtime = Runtime::with_helper(dir.path().join("state"), support::berth_bin())
        .cgroup_parent(format!("berth-bench-{}", std::process::id()));
    let mut spec = ContainerSpec {
        process: ProcessSpec {
            command: Some(vec!["true".into()]),
            ..ProcessSpec::default()
        },
        ..ContainerSpec::default()
    };
    if std::env::var("BERTH_BENCH_SECCOMP").as_deref() == Ok("unconfined") {
        spec.security.seccomp = berth_runtime::container::Seccomp::Unconfined;
    }
    let mut berth_run = Vec::new();
    let mut berth_total = Vec::new();
    let mut phases = [Vec::new(), Vec::new(), Vec::new()];
    for _ in 0..runs {
        let started = Instant::now();
        let record = runtime.create(spec.clone(), &image, None).unwrap();
        let created = started.elapsed();
        runtime.start(&record.id).unwrap();
        let running = started.elapsed();
        let state = runtime.wait(&record.id, None).unwrap();
        phases[0].push(created);
        phases[1].push(running - created);
        phases[2].push(started.elapsed() - running);
        berth_run.push(started.elapsed());
        assert_eq!(state.exit_code, Some(0));
        if std::env::var_os("SHOW_MONITOR").is_some() {
            eprint!(
                "{}",
                std::fs::read_to_string(runtime_dir(&runtime_root, &record.id)).unwrap_or_default()
            );
        }
        runtime.delete(&record.id, false).unwrap();
        berth_total.push(started.elapsed());
    }
    for entry in std::fs::read_dir("/sys/fs/cgroup").unwrap().flatten() {
        let _ = std::fs::remove_dir(
            entry
                .path()
                .join(format!("berth-bench-{}", std::process::id())),
        );
    }
    report("berth create+start+wait", berth_run);
    report("berth ... + delete", berth_total);
    let [create, start, wait] = phases;
    report("  of which create", create);
    report("  of which start", start);
    report("  of which wait", wait);

    if !std::path::Path::new("/usr/bin/crun").exists() {
        println!("crun not installed (apt-get install crun): no comparison");
        return;
    }
    // crun 1.8 refuses hybrid hosts whose v2 mount has any controller;
    // hide that mount in a private mount namespace for the crun runs.
    nix::sched::unshare(nix::sched::CloneFlags::CLONE_NEWNS).unwrap();
    nix::mount::mount(
        None::<&str>,
        "/",
        None::<&str>,
        nix::mount::MsFlags::MS_REC | nix::mount::MsFlags::MS_PRIVATE,
        None::<&str>,
    )
    .unwrap();
    let _ = nix::mount::umount2("/sys/fs/cgroup/unified", nix::mount::MntFlags::MNT_DETACH);
    let bundle = dir.path().join("bundle");
    std::fs::create_dir_all(&bundle).unwrap();
    std::fs::write(bundle.join("config.json"), crun_config(&layer)).unwrap();
    let crun_root = dir.path().join("crun-state");
    let mut crun = Vec::new();
    for n in 0..runs {
        let started = Instant::now();
        let status = Command::new("/usr/bin/crun")
            .arg("--root")
            .arg(&crun_root)
            .args(["run", "--bundle"])
            .arg(&bundle)
            .arg(format!("bench-{}-{n}", std::process::id()))
            .stdin(Stdio::null())
            .status()
            .unwrap();
        crun.push(started.elapsed());
        assert!(status.success());
    }
    report("crun run (incl. delete)", crun);
}

fn runtime_dir(root: &std::path::Path, id: &str) -> std::path::PathBuf {
    root.join("containers").join(id).join("monitor.log")
}
