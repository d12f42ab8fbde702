//! Helpers for container tests: root checks, per-test isolation in fresh
//! network and mount namespaces, and a busybox rootfs from Debian's
//! busybox-static.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

/// The berth binary under test.
pub fn berth_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_berth"))
}

/// Whether the tests can do root things here (namespaces, mounts, cgroups).
pub fn can_run_containers() -> bool {
    let root = nix_uid_is_root();
    let busybox = Path::new("/bin/busybox").exists();
    if !root || !busybox {
        eprintln!(
            "skipping: container tests need root and /bin/busybox (apt-get install busybox-static)"
        );
    }
    root && busybox
}

fn nix_uid_is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .any(|l| l.starts_with("Uid:") && l.split_whitespace().nth(1) == Some("0"))
}

const ISOLATED_ENV: &str = "BERTH_TEST_ISOLATED";

/// Runs `body` in a fresh network and mount namespace: the test re-runs
/// itself (this one test, by exact name) under `unshare -n -m`, so what it
/// makes cannot touch the host's network or mount table, and whatever it
/// leaks dies with the namespaces.
pub fn isolated(test_name: &str, body: impl FnOnce()) {
    if std::env::var_os(ISOLATED_ENV).is_some() {
        // `unshare --net` leaves loopback down.
        berth_runtime::container::bring_loopback_up().expect("loopback up");
        body();
        return;
    }
    let exe = std::env::current_exe().unwrap();
    let status = Command::new("unshare")
        .args(["--net", "--mount", "--propagation", "private", "--"])
        .arg(exe)
        .args([test_name, "--exact", "--nocapture", "--test-threads=1"])
        .env(ISOLATED_ENV, "1")
        .status()
        .expect("run unshare");
    assert!(
        status.success(),
        "isolated test {test_name} failed: {status}"
    );
}

/// A rootfs directory with busybox and its applets, plus passwd/group.
pub fn busybox_rootfs(dir: &Path) {
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    std::fs::copy("/bin/busybox", bin.join("busybox")).unwrap();
    let list = Command::new("/bin/busybox").arg("--list").output().unwrap();
    for applet in String::from_utf8_lossy(&list.stdout).lines() {
        let _ = std::os::unix::fs::symlink("busybox", bin.join(applet));
    }
    for sub in ["etc", "tmp", "root", "home/app", "proc", "sys", "dev"] {
        std::fs::create_dir_all(dir.join(sub)).unwrap();
    }
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(dir.join("tmp"), std::fs::Permissions::from_mode(0o1777)).unwrap();
    std::os::unix::fs::chown(dir.join("home/app"), Some(1000), Some(1000)).unwrap();
    std::fs::write(
        dir.join("etc/passwd"),
        "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000::/home/app:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("etc/group"),
        "root:x:0:\nstaff:x:50:app\napp:x:1000:\nnogroup:x:65534:\n",
    )
    .unwrap();
}
