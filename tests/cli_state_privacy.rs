//! The state root and run directory are root's alone, end to end: after
//! `up` of a service with a secret in its environment, an unprivileged host
//! user can neither read the container's `config.json` nor list `layers/`
//! (the images' setuid binaries and device nodes); the modes match
//! Docker's; a root an earlier berth left open is tightened by the next
//! command; and a container running as a non-root user still reaches its
//! root filesystem, its volume and its bind mount.

mod support;

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use support::containers::{can_run_containers, isolated};
use support::project::Project;

const NOBODY: u32 = 65534;

fn mode(path: &Path) -> u32 {
    std::fs::symlink_metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .mode()
        & 0o7777
}

/// Runs busybox `applet args…` as the unprivileged host user nobody
/// (uid and gid 65534, no supplementary groups); (success, output).
fn as_nobody(applet: &str, args: &[&Path]) -> (bool, String) {
    let out = Command::new("/bin/busybox")
        .arg(applet)
        .args(args)
        .uid(NOBODY)
        .gid(NOBODY)
        .output()
        .expect("run busybox as nobody");
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (out.status.success(), text)
}

/// The one container's directory under `containers/`.
fn container_dir(root: &Path) -> PathBuf {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(root.join("containers"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(dirs.len(), 1, "{dirs:?}");
    dirs.pop().unwrap()
}

#[test]
fn state_is_private_and_non_root_containers_still_run() {
    if !can_run_containers() {
        return;
    }
    isolated("state_is_private_and_non_root_containers_still_run", || {
        let p = Project::new("");
        let bind = p.dir.join("shared");
        std::fs::create_dir(&bind).unwrap();
        std::fs::write(bind.join("hello"), "hello from the host\n").unwrap();
        p.write(
            "name: private
services:
  app:
    image: berth.test/busybox:latest
    command: [sleep, '600']
    stop_signal: SIGKILL
    user: '1000'
    environment:
      SECRET_TOKEN: hunter2
    volumes:
      - data:/data
      - ./shared:/shared:ro
volumes:
  data: {}
",
        );
        p.ok(&["up", "-d"]);
        let root = &p.root;
        let run = root.join("run");
        let container = container_dir(root);
        let config = container.join("config.json");
        assert!(std::fs::read_to_string(&config)
            .unwrap()
            .contains("hunter2"));

        // The modes, as Docker's /var/lib/docker.
        for (path, expected) in [
            (root.clone(), 0o710),
            (root.join("containers"), 0o710),
            (container.clone(), 0o710),
            (config.clone(), 0o600),
            (container.join("state.json"), 0o600),
            (root.join("layers"), 0o710),
            (root.join("images"), 0o700),
            (root.join("volumes"), 0o701),
            (root.join("volumes/private_data"), 0o700),
            (root.join("volumes/private_data/volume.json"), 0o600),
            (root.join("networks"), 0o700),
            (run.clone(), 0o700),
            (run.join("private"), 0o700),
            (run.join("private/supervisor.pid"), 0o600),
        ] {
            assert_eq!(
                mode(&path),
                expected,
                "{}: {:o}",
                path.display(),
                mode(&path)
            );
        }

        // An unprivileged host user reaches none of it.
        let (read, text) = as_nobody("cat", &[&config]);
        assert!(!read, "nobody read config.json: {text}");
        assert!(!text.contains("hunter2"));
        for dir in [
            root.join("layers"),
            root.join("layers/sha256"),
            root.clone(),
        ] {
            let (listed, text) = as_nobody("ls", &[&dir]);
            assert!(!listed, "nobody listed {}: {text}", dir.display());
        }
        let (listed, text) = as_nobody("ls", &[&run]);
        assert!(!listed, "nobody listed the run directory: {text}");

        // The container's non-root user still has its root filesystem,
        // its volume, its bind mount and its /etc files.
        let (code, text) = p.sh(
            "app",
            "id -u && cat /shared/hello && ls -d /data && ls /bin/busybox \
                 && cat /etc/hostname >/dev/null && cat /etc/resolv.conf >/dev/null \
                 && echo ok >/tmp/probe && cat /tmp/probe",
        );
        assert_eq!(code, 0, "{text}");
        assert_eq!(
            text.lines().collect::<Vec<_>>(),
            ["1000", "hello from the host", "/data", "/bin/busybox", "ok"]
        );

        // A root an earlier berth left open is tightened by the next command.
        for dir in [
            root,
            &root.join("containers"),
            &container,
            &root.join("layers"),
            &run,
        ] {
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        std::fs::set_permissions(&config, std::fs::Permissions::from_mode(0o644)).unwrap();
        let (read, _) = as_nobody("cat", &[&config]);
        assert!(
            read,
            "the loosened root should be readable before the next command"
        );
        p.ok(&["ps"]);
        assert_eq!(mode(root), 0o710);
        assert_eq!(mode(&root.join("containers")), 0o710);
        assert_eq!(mode(&container), 0o710);
        assert_eq!(mode(&config), 0o600);
        assert_eq!(mode(&root.join("layers")), 0o710);
        assert_eq!(mode(&run), 0o700);
        let (read, text) = as_nobody("cat", &[&config]);
        assert!(!read, "nobody read config.json after ps: {text}");

        p.ok(&["down", "-v"]);
    });
}
