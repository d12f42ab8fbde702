//! A container's cgroups, end to end through `up`, `exec` and `down`: its
//! private cgroup namespace and its own cgroups mounted read-only at
//! `/sys/fs/cgroup` (its limits readable there), `cgroup: host`, writable
//! mounts for privileged containers, and the cgroup v2 eBPF device filter
//! (which denies what the v1 devices controller would let through).

mod support;

use std::path::PathBuf;

use support::containers::{berth_bin, can_run_containers, isolated};
use support::project::{bridges, Project};

fn out(p: &Project, service: &str, script: &str) -> String {
    let (code, text) = p.sh(service, script);
    assert_eq!(code, 0, "{service}: {script}: {text}");
    text.trim().to_string()
}

fn runtime(p: &Project) -> berth_runtime::container::Runtime {
    berth_runtime::container::Runtime::with_helper(&p.root, berth_bin())
}

/// The host directories of a running container's cgroups.
fn cgroup_dirs(p: &Project, container: &str) -> Vec<PathBuf> {
    let state = runtime(p).state(container).unwrap();
    let dirs = state.cgroup.expect("a running container has cgroups").paths;
    assert!(!dirs.is_empty());
    dirs
}

/// Nothing of the project is left: no container, bridge or cgroup.
fn assert_nothing_left(p: &Project, cgroups: &[PathBuf]) {
    assert!(runtime(p).list().unwrap().is_empty(), "containers left");
    assert!(bridges().is_empty(), "bridges left: {:?}", bridges());
    for dir in cgroups {
        assert!(!dir.exists(), "cgroup left: {}", dir.display());
    }
}

#[test]
fn a_container_sees_its_own_cgroups() {
    if !can_run_containers() {
        return;
    }
    isolated("a_container_sees_its_own_cgroups", || {
        let p = Project::new(
            "name: cg
services:
  own:
    image: berth.test/busybox:latest
    command: [sleep, '600']
    stop_signal: SIGKILL
    mem_limit: 64m
    pids_limit: 50
  hostns:
    image: berth.test/busybox:latest
    command: [sleep, '600']
    stop_signal: SIGKILL
    mem_limit: 32m
    cgroup: host
  privileged:
    image: berth.test/busybox:latest
    command: [sleep, '600']
    stop_signal: SIGKILL
    privileged: true
",
        );
        p.ok(&["up", "-d"]);
        let mut cgroups = Vec::new();
        for name in ["cg-own-1", "cg-hostns-1", "cg-privileged-1"] {
            cgroups.extend(cgroup_dirs(&p, name));
        }
        // Its limits, from its own cgroups.
        assert_eq!(
            out(&p, "own", "cat /sys/fs/cgroup/memory/memory.limit_in_bytes"),
            "67108864"
        );
        assert_eq!(out(&p, "own", "cat /sys/fs/cgroup/pids/pids.max"), "50");
        // Its cgroup is the root of its namespace, for PID 1 and for exec.
        for pid in ["1", "self"] {
            let text = out(&p, "own", &format!("cat /proc/{pid}/cgroup"));
            assert!(
                text.lines().all(|line| line.ends_with(":/")),
                "/proc/{pid}/cgroup: {text}"
            );
        }
        // The host's layout, mirrored (hierarchies berth places containers in).
        let host = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
        let listing = out(&p, "own", "ls /sys/fs/cgroup");
        if host.contains(" /sys/fs/cgroup/memory ") {
            assert!(listing.lines().any(|l| l == "memory"), "{listing}");
        }
        if host.contains(" /sys/fs/cgroup/unified ") {
            assert!(listing.lines().any(|l| l == "unified"), "{listing}");
            assert_eq!(
                out(
                    &p,
                    "own",
                    "find /sys/fs/cgroup/unified -mindepth 1 -type d | wc -l"
                ),
                "0",
                "the container's v2 cgroup is the root of what it sees"
            );
        }
        // Read-only, and /sys stays read-only under it.
        for script in [
            "echo 1 > /sys/fs/cgroup/memory/memory.limit_in_bytes",
            "mkdir /sys/fs/cgroup/memory/sub",
            "mkdir /sys/fs/cgroup/new",
            "echo 1 > /sys/kernel/profiling",
        ] {
            let (code, text) = p.sh("own", script);
            assert!(
                code != 0 && text.contains("Read-only file system"),
                "{script}: {text}"
            );
        }
        assert_eq!(
            out(&p, "own", "cat /sys/fs/cgroup/memory/memory.limit_in_bytes"),
            "67108864"
        );
        // `cgroup: host`: host paths, and still its own cgroup mounted.
        let text = out(&p, "hostns", "cat /proc/self/cgroup");
        let memory_line = text.lines().find(|l| l.contains(":memory:")).unwrap();
        assert!(memory_line.contains("/berth"), "{text}");
        assert_eq!(
            out(
                &p,
                "hostns",
                "cat /sys/fs/cgroup/memory/memory.limit_in_bytes"
            ),
            "33554432"
        );
        // Privileged: writable, as Docker mounts them.
        assert_eq!(
            out(
                &p,
                "privileged",
                "mkdir /sys/fs/cgroup/memory/sub && rmdir /sys/fs/cgroup/memory/sub && echo ok"
            ),
            "ok"
        );
        p.ok(&["down"]);
        assert_nothing_left(&p, &cgroups);
    });
}

const NO_DEVICE: &str = "No such device or address";
const DENIED: &str = "Operation not permitted";

/// On a host with a cgroup v2 hierarchy, the container's v2 cgroup holds an
/// eBPF device filter: a node of an unassigned major (240) made inside the
/// container cannot be opened even when the v1 devices controller is told
/// to allow it (EPERM from the filter; without it, ENXIO from the missing
/// driver), while a mapped device of that major gets through.
#[test]
fn the_v2_device_filter_denies_unlisted_devices() {
    if !can_run_containers() {
        return;
    }
    let has_v2 = std::fs::read_to_string("/proc/self/mountinfo")
        .unwrap()
        .lines()
        .any(|line| line.contains(" - cgroup2 "));
    if !has_v2 {
        eprintln!("skipping: no cgroup v2 hierarchy");
        return;
    }
    isolated("the_v2_device_filter_denies_unlisted_devices", || {
        let p = Project::new("");
        let test_dev = p.dir.join("testdev");
        nix::sys::stat::mknod(
            &test_dev,
            nix::sys::stat::SFlag::S_IFCHR,
            nix::sys::stat::Mode::from_bits_truncate(0o666),
            nix::sys::stat::makedev(240, 5),
        )
        .unwrap();
        p.write(&format!(
            "name: filter
services:
  dev:
    image: berth.test/busybox:latest
    command: [sleep, '600']
    stop_signal: SIGKILL
    devices: ['{}:/dev/mapped']
",
            test_dev.display()
        ));
        p.ok(&["up", "-d"]);
        let cgroups = cgroup_dirs(&p, "filter-dev-1");
        let unified = cgroups
            .iter()
            .find(|dir| dir.join("cgroup.controllers").exists())
            .expect("a v2 cgroup");
        if let Ok(shown) = std::process::Command::new("bpftool")
            .args(["cgroup", "show"])
            .arg(unified)
            .output()
        {
            // Where bpftool is installed: the filter is attached there.
            let shown = String::from_utf8_lossy(&shown.stdout);
            assert!(shown.contains("cgroup_device"), "{shown}");
        }
        // The harness widens the v1 policy (where there is one) to all of
        // major 240: only the eBPF filter is left to deny.
        if let Some(v1) = cgroups
            .iter()
            .find(|dir| dir.join("devices.allow").exists())
        {
            std::fs::write(v1.join("devices.allow"), "c 240:* rwm").unwrap();
        }
        let (code, text) = p.sh("dev", "mknod /tmp/unlisted c 240 0 && cat /tmp/unlisted");
        assert!(code != 0 && text.contains(DENIED), "{text}");
        // The mapped node (240:5) passes the filter and reaches the driver.
        let (code, text) = p.sh("dev", "cat /dev/mapped");
        assert!(code != 0 && text.contains(NO_DEVICE), "{text}");
        // Docker's defaults stay usable.
        assert_eq!(out(&p, "dev", "echo x > /dev/null && echo ok"), "ok");
        p.ok(&["down"]);
        assert_nothing_left(&p, &cgroups);
    });
}
