//! Service attributes about namespaces, devices and security, end to end
//! through `up`, `exec`, `top`, `stop` and `down`: `devices` and
//! `device_cgroup_rules` (nodes made, the devices cgroup denying what is
//! not allowed), `pid`/`ipc: service:` and `host`, `uts: host`,
//! `security_opt` (no-new-privileges, systempaths=unconfined),
//! `group_add`, `oom_kill_disable`, and invalid values refused before
//! anything is made.

mod support;

use support::containers::{can_run_containers, isolated};
use support::project::{bridges, Project};

fn out(p: &Project, service: &str, script: &str) -> String {
    let (code, text) = p.sh(service, script);
    assert_eq!(code, 0, "{service}: {script}: {text}");
    text.trim().to_string()
}

/// Nothing of the project is left: no container, network, or cgroup.
fn assert_nothing_left(p: &Project) {
    let runtime =
        berth_runtime::container::Runtime::with_helper(&p.root, support::containers::berth_bin());
    assert!(runtime.list().unwrap().is_empty(), "containers left");
    assert!(bridges().is_empty(), "bridges left: {:?}", bridges());
}

/// A character device node with an unassigned major number (240 is for
/// local use): opening it fails with ENXIO once the devices cgroup lets
/// the open through, and with EPERM when the cgroup denies it.
fn make_test_device(path: &std::path::Path, major: u64, minor: u64) {
    use nix::sys::stat::{makedev, mknod, Mode, SFlag};
    mknod(
        path,
        SFlag::S_IFCHR,
        Mode::from_bits_truncate(0o666),
        makedev(major, minor),
    )
    .unwrap();
}

const NO_DEVICE: &str = "No such device or address";
const DENIED: &str = "Operation not permitted";

#[test]
fn devices_are_mapped_and_the_device_cgroup_denies_the_rest() {
    if !can_run_containers() {
        return;
    }
    isolated(
        "devices_are_mapped_and_the_device_cgroup_denies_the_rest",
        || {
            let p = Project::new("");
            let test_dev = p.dir.join("testdev");
            make_test_device(&test_dev, 240, 0);
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&test_dev, std::fs::Permissions::from_mode(0o640)).unwrap();
            p.write(&format!(
                "name: devs
services:
  dev:
    image: berth.test/busybox:latest
    command: [sleep, '600']
    stop_signal: SIGKILL
    devices:
      - /dev/null:/dev/mynull
      - /dev/null:/dev/ro-null:r
      - source: {}
        target: /dev/sub/ro-test
        permissions: r
    device_cgroup_rules: ['c 240:7 rw', 'a 241:* rwm']
  privileged:
    image: berth.test/busybox:latest
    command: [sleep, '600']
    stop_signal: SIGKILL
    privileged: true
",
                test_dev.display()
            ));
            p.ok(&["up", "-d"]);
            // The nodes: type, numbers (hex), and they work.
            assert_eq!(
                out(&p, "dev", "stat -c '%F %t:%T' /dev/mynull /dev/ro-null"),
                "character special file 1:3\ncharacter special file 1:3"
            );
            assert_eq!(out(&p, "dev", "echo x > /dev/mynull && echo ok"), "ok");
            assert_eq!(
                out(&p, "dev", "stat -c '%F %t:%T %a' /dev/sub/ro-test"),
                "character special file f0:0 640"
            );
            // `r` only: reading gets past the cgroup (to the missing driver),
            // writing is denied by it.
            let (code, text) = p.sh("dev", "cat /dev/sub/ro-test");
            assert!(code != 0 && text.contains(NO_DEVICE), "{text}");
            let (code, text) = p.sh("dev", "echo x > /dev/sub/ro-test");
            assert!(code != 0 && text.contains(DENIED), "{text}");
            // Default deny: a node made inside the container (mknod is
            // allowed for every device) cannot be opened...
            let (code, text) = p.sh("dev", "mknod /tmp/d8 c 240 8 && cat /tmp/d8");
            assert!(code != 0 && text.contains(DENIED), "{text}");
            // ...unless device_cgroup_rules allow it; `a` covers block devices.
            let (code, text) = p.sh("dev", "mknod /tmp/d7 c 240 7 && cat /tmp/d7");
            assert!(code != 0 && text.contains(NO_DEVICE), "{text}");
            let (code, text) = p.sh("dev", "mknod /tmp/b3 b 241 3 && cat /tmp/b3");
            assert!(code != 0 && text.contains(NO_DEVICE), "{text}");
            // Docker's default devices stay usable.
            assert_eq!(
                out(
                    &p,
                    "dev",
                    "head -c 4 /dev/zero | wc -c; head -c 4 /dev/urandom | wc -c"
                ),
                "4\n4"
            );
            // Privileged: every device.
            let (code, text) = p.sh("privileged", "mknod /tmp/d8 c 240 8 && cat /tmp/d8");
            assert!(code != 0 && text.contains(NO_DEVICE), "{text}");
            p.ok(&["down"]);
            assert_nothing_left(&p);
        },
    );
}

#[test]
fn pid_ipc_and_uts_namespaces_are_shared() {
    if !can_run_containers() {
        return;
    }
    isolated("pid_ipc_and_uts_namespaces_are_shared", || {
        let p = Project::new(
            "name: shared
services:
  main:
    image: berth.test/busybox:latest
    command: [sleep, '7100']
    stop_signal: SIGKILL
    ipc: shareable
  pidpeer:
    image: berth.test/busybox:latest
    command: [sleep, '7101']
    pid: service:main
    healthcheck: {test: [CMD, 'true'], interval: 1s}
  ipcpeer:
    image: berth.test/busybox:latest
    command: [sleep, '7102']
    stop_signal: SIGKILL
    ipc: service:main
  noshm:
    image: berth.test/busybox:latest
    command: [sleep, '7104']
    stop_signal: SIGKILL
    ipc: none
  hostns:
    image: berth.test/busybox:latest
    command: [sleep, '7103']
    pid: host
    ipc: host
    uts: host
    init: true
",
        );
        p.ok(&["up", "-d", "--wait"]);
        let ns =
            |service: &str, kind: &str| out(&p, service, &format!("readlink /proc/self/ns/{kind}"));
        let host_ns = |kind: &str| {
            std::fs::read_link(format!("/proc/self/ns/{kind}"))
                .unwrap()
                .display()
                .to_string()
        };
        // pid: service:main — one PID namespace; main's program is PID 1,
        // the peer's is not, and each sees the other.
        assert_eq!(ns("pidpeer", "pid"), ns("main", "pid"));
        assert_ne!(ns("main", "pid"), host_ns("pid"));
        assert_eq!(
            out(&p, "pidpeer", "tr '\\0' ' ' < /proc/1/cmdline"),
            "sleep 7100"
        );
        let seen = out(&p, "pidpeer", "ps -o pid,args");
        assert!(
            seen.contains("sleep 7100") && seen.contains("sleep 7101"),
            "{seen}"
        );
        let seen = out(&p, "main", "ps -o pid,args");
        assert!(seen.contains("sleep 7101"), "{seen}");
        assert_ne!(ns("pidpeer", "ipc"), ns("main", "ipc"));
        // ipc: service:main — one IPC namespace, not the PID namespace.
        assert_eq!(ns("ipcpeer", "ipc"), ns("main", "ipc"));
        assert_ne!(ns("ipcpeer", "pid"), ns("main", "pid"));
        // POSIX shared memory (/dev/shm) is shared with the namespace.
        out(&p, "main", "echo shared > /dev/shm/token");
        assert_eq!(out(&p, "ipcpeer", "cat /dev/shm/token"), "shared");
        let (code, _) = p.sh("pidpeer", "cat /dev/shm/token");
        assert_ne!(code, 0, "a private IPC namespace sees another's /dev/shm");
        // ipc: none: a private IPC namespace and no /dev/shm.
        assert_ne!(ns("noshm", "ipc"), ns("main", "ipc"));
        assert_eq!(
            out(&p, "noshm", "test -e /dev/shm || echo absent"),
            "absent"
        );
        assert_eq!(
            out(&p, "main", "test -d /dev/shm && echo present"),
            "present"
        );
        // ipc: host has the host's /dev/shm (this test's mount namespace).
        let token = format!("/dev/shm/berth-test-{}", std::process::id());
        std::fs::write(&token, "host\n").unwrap();
        let seen = p.sh("hostns", &format!("cat {token}"));
        std::fs::remove_file(&token).unwrap();
        assert_eq!(seen, (0, "host\n".to_string()));
        // host: the host's PID, IPC and UTS namespaces and host name.
        assert_eq!(ns("hostns", "pid"), host_ns("pid"));
        assert_eq!(ns("hostns", "ipc"), host_ns("ipc"));
        assert_eq!(ns("hostns", "uts"), host_ns("uts"));
        assert_ne!(ns("main", "uts"), host_ns("uts"));
        let hostname = nix::unistd::gethostname().unwrap();
        assert_eq!(out(&p, "hostns", "hostname"), hostname.to_string_lossy());
        assert_eq!(
            out(&p, "hostns", "cat /etc/hostname"),
            hostname.to_string_lossy()
        );
        // The host sees the program under its own PIDs.
        let seen = out(&p, "hostns", "ps -o args");
        assert!(
            seen.contains("sleep 7103") && seen.contains("sleep 7101"),
            "{seen}"
        );
        // top, health (up --wait got healthy), stop and kill still work.
        let top = p.ok(&["top", "pidpeer", "hostns"]);
        assert!(
            top.contains("sleep 7101") && top.contains("sleep 7103"),
            "{top}"
        );
        let ps = p.ok(&["ps", "pidpeer"]);
        assert!(ps.contains("healthy"), "{ps}");
        p.ok(&["stop", "-t", "5", "pidpeer", "hostns"]);
        let running = p.ok(&["ps", "--services", "--status", "running"]);
        assert_eq!(
            running.lines().collect::<Vec<_>>(),
            ["ipcpeer", "main", "noshm"]
        );
        assert!(
            !host_has_process("sleep 7103"),
            "pid: host program survived stop"
        );
        p.ok(&["start", "hostns"]);
        p.ok(&["kill", "hostns"]);
        // main restarted has a new PID namespace: pidpeer started again
        // joins that one, not the one it was created with.
        // (A namespace's inode number can be reused once the old one is
        // gone, so the new namespace is told apart by main's new program.)
        let pid_of_main = || p.ok(&["inspect", "-f", "{{.State.Pid}}", "shared-main-1"]);
        let before = pid_of_main();
        p.ok(&["restart", "main"]);
        assert_ne!(pid_of_main(), before);
        p.ok(&["start", "pidpeer"]);
        assert_eq!(ns("pidpeer", "pid"), ns("main", "pid"));
        assert_eq!(
            out(&p, "pidpeer", "tr '\\0' ' ' < /proc/1/cmdline"),
            "sleep 7100"
        );
        p.ok(&["down"]);
        assert_nothing_left(&p);
        for program in [
            "sleep 7100",
            "sleep 7101",
            "sleep 7102",
            "sleep 7103",
            "sleep 7104",
        ] {
            assert!(!host_has_process(program), "{program} left running");
        }
    });
}

#[test]
fn sharers_are_created_before_their_peer_runs_and_join_it_at_start() {
    if !can_run_containers() {
        return;
    }
    isolated(
        "sharers_are_created_before_their_peer_runs_and_join_it_at_start",
        || {
            let p = Project::new(
                "name: later
services:
  main:
    image: berth.test/busybox:latest
    command: [sleep, '7200']
    stop_signal: SIGKILL
  peer:
    image: berth.test/busybox:latest
    command: [sleep, '7201']
    stop_signal: SIGKILL
    pid: service:main
    ipc: service:main
",
            );
            p.ok(&["create"]);
            p.ok(&["start"]);
            let ns = |service: &str, kind: &str| {
                out(&p, service, &format!("readlink /proc/self/ns/{kind}"))
            };
            assert_eq!(ns("peer", "pid"), ns("main", "pid"));
            assert_eq!(ns("peer", "ipc"), ns("main", "ipc"));
            // main stopped: its PID namespace is gone, and so is peer's
            // program; peer cannot start without it.
            p.ok(&["stop", "main"]);
            let start = p.berth(&["start", "peer"]);
            let stderr = support::stderr(&start);
            assert!(!start.status.success(), "{stderr}");
            assert!(
                stderr.contains(
                    "cannot join the ipc namespace of container later-main-1: it is not running"
                ),
                "{stderr}"
            );
            p.ok(&["start", "main"]);
            p.ok(&["start", "peer"]);
            assert_eq!(ns("peer", "pid"), ns("main", "pid"));
            p.ok(&["down"]);
            assert_nothing_left(&p);
        },
    );
}

/// Whether a process with exactly this command line runs (in this PID
/// namespace, the host's).
fn host_has_process(args: &str) -> bool {
    let wanted = args.replace(' ', "\0") + "\0";
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .bytes()
                .all(|b| b.is_ascii_digit())
        })
        .any(|e| std::fs::read(e.path().join("cmdline")).ok().as_deref() == Some(wanted.as_bytes()))
}

#[test]
fn security_options_group_add_and_oom_kill_disable() {
    if !can_run_containers() {
        return;
    }
    isolated("security_options_group_add_and_oom_kill_disable", || {
        let p = Project::new(
            "name: secopts
services:
  nnp:
    image: berth.test/busybox:latest
    command: [sleep, '600']
    stop_signal: SIGKILL
    security_opt: [no-new-privileges]
    group_add: ['1234', staff]
    oom_kill_disable: true
    mem_limit: 64m
  nnpfalse:
    image: berth.test/busybox:latest
    command: [sleep, '600']
    stop_signal: SIGKILL
    security_opt: ['no-new-privileges:false', 'seccomp=unconfined', 'label:disable', 'apparmor=unconfined']
  unconfined:
    image: berth.test/busybox:latest
    command: [sleep, '600']
    stop_signal: SIGKILL
    security_opt: ['no-new-privileges=true', 'systempaths=unconfined', 'label=type:container_t']
",
        );
        let up = p.berth(&["up", "-d"]);
        let stderr = support::stderr(&up);
        assert!(up.status.success(), "{stderr}");
        let selinux = std::fs::read_to_string("/sys/kernel/security/lsm")
            .unwrap_or_default()
            .contains("selinux");
        if !selinux {
            assert!(
                stderr.contains("service \"unconfined\": security_opt: label=type:container_t is ignored: SELinux is not enabled on this host"),
                "{stderr}"
            );
        }
        let nnp = |service: &str| out(&p, service, "grep NoNewPrivs /proc/1/status");
        assert_eq!(nnp("nnp"), "NoNewPrivs:\t1");
        assert_eq!(nnp("nnpfalse"), "NoNewPrivs:\t0");
        assert_eq!(nnp("unconfined"), "NoNewPrivs:\t1");
        // group_add: the main process and exec'd ones have the groups.
        let groups = out(&p, "nnp", "id -G; grep Groups /proc/1/status");
        let mut lines = groups.lines();
        let ids: Vec<&str> = lines.next().unwrap().split_whitespace().collect();
        assert!(ids.contains(&"1234") && ids.contains(&"50"), "{groups}");
        let status: Vec<&str> = lines.next().unwrap().split_whitespace().collect();
        assert!(
            status.contains(&"1234") && status.contains(&"50"),
            "{groups}"
        );
        // systempaths=unconfined: no masked or read-only /proc paths.
        let masked = "grep -cE ' /proc/(keys|sys|timer_list) ' /proc/self/mountinfo";
        assert_eq!(out(&p, "nnp", masked), "3");
        let (_, unmasked) = p.sh("unconfined", masked);
        assert_eq!(unmasked.trim(), "0");
        // oom_kill_disable: the v1 memory cgroup's switch.
        let runtime = berth_runtime::container::Runtime::with_helper(
            &p.root,
            support::containers::berth_bin(),
        );
        let info = runtime
            .list()
            .unwrap()
            .into_iter()
            .find(|c| c.record.name == "secopts-nnp-1")
            .unwrap();
        if let Some(memory) = info.state.cgroup.as_ref().and_then(|c| c.memory_v1.clone()) {
            let control = std::fs::read_to_string(memory.join("memory.oom_control")).unwrap();
            assert!(control.contains("oom_kill_disable 1"), "{control}");
            let other = runtime
                .list()
                .unwrap()
                .into_iter()
                .find(|c| c.record.name == "secopts-nnpfalse-1")
                .unwrap();
            let memory = other.state.cgroup.unwrap().memory_v1.unwrap();
            let control = std::fs::read_to_string(memory.join("memory.oom_control")).unwrap();
            assert!(control.contains("oom_kill_disable 0"), "{control}");
        }
        p.ok(&["down"]);
        assert_nothing_left(&p);
    });
}

#[test]
fn invalid_values_are_refused_before_anything_is_made() {
    if !can_run_containers() {
        return;
    }
    isolated("invalid_values_are_refused_before_anything_is_made", || {
        let p = Project::new("");
        let cases: &[(&str, &str)] = &[
            (
                "ipc: bogus",
                "service \"bad\": ipc: invalid value \"bogus\" (expected private, shareable, none, host, service:NAME or container:NAME)",
            ),
            (
                "pid: private",
                "service \"bad\": pid: invalid value \"private\" (expected host, service:NAME or container:NAME)",
            ),
            (
                "uts: container:other",
                "service \"bad\": uts: invalid value \"container:other\" (expected host)",
            ),
            (
                "uts: host|hostname: mine",
                "service \"bad\": uts: \"host\" cannot be combined with hostname",
            ),
            (
                "devices: [/dev/berth-no-such-device]",
                "service \"bad\": devices[0]: device /dev/berth-no-such-device: no such device on the host",
            ),
            (
                "devices: ['/dev/null:/dev/n:rwx']",
                "service \"bad\": devices[0]: invalid device permissions \"rwx\"",
            ),
            (
                "device_cgroup_rules: ['c 1:3 rwm', 'c 1:x r']",
                "service \"bad\": device_cgroup_rules[1]: invalid device cgroup rule \"c 1:x r\": \"x\" is not a number or *",
            ),
            (
                "security_opt: [seccomp=/etc/profile.json]",
                "service \"bad\": security_opt[0]: seccomp profile /etc/profile.json: No such file or directory",
            ),
            (
                "security_opt: [no-new-privileges, bogus=1]",
                "service \"bad\": security_opt[1]: unknown or incomplete security option \"bogus=1\"",
            ),
            (
                "security_opt: ['no-new-privileges:maybe']",
                "service \"bad\": security_opt[0]: invalid no-new-privileges value \"maybe\" (expected true or false)",
            ),
            (
                "security_opt: [systempaths=confined]",
                "service \"bad\": security_opt[0]: invalid systempaths value \"confined\" (expected unconfined)",
            ),
        ];
        for (attribute, message) in cases {
            p.write(&format!(
                "name: bad
services:
  good:
    image: berth.test/busybox:latest
    command: [sleep, '600']
  bad:
    image: berth.test/busybox:latest
    command: [sleep, '600']
    {}
",
                attribute.replace('|', "\n    ")
            ));
            let up = p.berth(&["up", "-d"]);
            let stderr = support::stderr(&up);
            assert!(!up.status.success(), "{attribute}: accepted");
            assert!(stderr.contains(message), "{attribute}: {stderr}");
            assert_nothing_left(&p);
        }
    });
}

#[test]
fn a_missing_host_device_fails_run_too() {
    if !can_run_containers() {
        return;
    }
    isolated("a_missing_host_device_fails_run_too", || {
        let p = Project::new(
            "name: runbad
services:
  bad:
    image: berth.test/busybox:latest
    devices: [/dev/berth-gone]
",
        );
        let out = p.berth(&["run", "--rm", "-T", "bad", "true"]);
        assert!(!out.status.success());
        let stderr = support::stderr(&out);
        assert!(
            stderr.contains("devices[0]: device /dev/berth-gone: no such device on the host"),
            "{stderr}"
        );
        assert_nothing_left(&p);
    });
}
