//! End-to-end tests of the container runtime: real containers from a
//! busybox rootfs, each test in its own network and mount namespace with a
//! private state root.

mod support;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use berth_runtime::container::{
    ContainerSpec, ExecIo, ExecSpec, ProcessSpec, Resources, Runtime, Status,
};
use berth_runtime::image::ResolvedImage;
use support::containers::{busybox_rootfs, can_run_containers, isolated};

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
    let runtime = Runtime::with_helper(dir.path().join("root"), support::containers::berth_bin())
        .cgroup_parent(format!("berth-test-{}", std::process::id()));
    Fixture {
        _dir: dir,
        runtime,
        image,
    }
}

impl Drop for Fixture {
    /// Even a failing test leaves no container, process or cgroup behind.
    fn drop(&mut self) {
        for info in self.runtime.list().unwrap_or_default() {
            let _ = self.runtime.delete(&info.record.id, true);
        }
        let parent = format!("berth-test-{}", std::process::id());
        for entry in std::fs::read_dir("/sys/fs/cgroup").unwrap().flatten() {
            let _ = std::fs::remove_dir(entry.path().join(&parent));
        }
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
    run_image(f, &f.image, spec)
}

fn run_image(f: &Fixture, image: &ResolvedImage, spec: ContainerSpec) -> (i32, String) {
    let record = f.runtime.create(spec, image, None).unwrap();
    f.runtime.start(&record.id).unwrap();
    let state = f
        .runtime
        .wait(&record.id, Some(Duration::from_secs(30)))
        .unwrap();
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
            vec![
                "env=from-image/mine",
                "1000",
                "1000",
                "1000 7 50",
                "web",
                "web",
                "/srv/data",
                "home=/home/app"
            ],
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
        assert!(
            err.to_string().contains("executable file not found"),
            "{err}"
        );
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
        assert!(
            err.to_string().contains("unable to find user ghost"),
            "{err}"
        );
        f.runtime.delete(&record.id, true).unwrap();
        assert_clean(&f);
    });
}

fn status_field(out: &str, field: &str) -> String {
    out.lines()
        .find_map(|l| l.strip_prefix(&format!("{field}:")))
        .unwrap_or_default()
        .trim()
        .to_string()
}

#[test]
fn capabilities_and_proc_masks() {
    if !can_run_containers() {
        return;
    }
    isolated("capabilities_and_proc_masks", || {
        let f = fixture();
        let script = "cat /proc/self/status; cat /proc/kcore | wc -c; echo 1 > /proc/sys/kernel/domainname && echo wrote || echo refused";
        let (_, out) = run(&f, sh(script));
        assert_eq!(status_field(&out, "CapBnd"), "00000000a80425fb");
        assert_eq!(status_field(&out, "CapEff"), "00000000a80425fb");
        assert_eq!(status_field(&out, "NoNewPrivs"), "0");
        assert!(out.contains("\n0\n"), "kcore must be masked: {out}");
        assert!(
            out.contains("refused"),
            "/proc/sys must be read-only: {out}"
        );

        let mut spec = sh("cat /proc/self/status");
        spec.security.cap_add = vec!["NET_ADMIN".into()];
        spec.security.cap_drop = vec!["CHOWN".into(), "cap_kill".into()];
        spec.security.no_new_privileges = true;
        let (_, out) = run(&f, spec);
        let mask = u64::from_str_radix(&status_field(&out, "CapBnd"), 16).unwrap();
        assert_eq!(mask, (0xa80425fb | (1 << 12)) & !(1 << 0) & !(1 << 5));
        assert_eq!(status_field(&out, "NoNewPrivs"), "1");

        let mut spec = sh("cat /proc/self/status");
        spec.process.user = Some("1000".into());
        let (_, out) = run(&f, spec);
        assert_eq!(status_field(&out, "CapEff"), "0000000000000000");
        assert_eq!(status_field(&out, "CapBnd"), "00000000a80425fb");

        let mut spec = sh("cat /proc/self/status");
        spec.security.cap_drop = vec!["ALL".into()];
        let (_, out) = run(&f, spec);
        assert_eq!(status_field(&out, "CapEff"), "0000000000000000");
        assert_clean(&f);
    });
}

#[test]
fn mounts_and_read_only_root() {
    if !can_run_containers() {
        return;
    }
    isolated("mounts_and_read_only_root", || {
        let f = fixture();
        let host_dir = tempfile::tempdir().unwrap();
        std::fs::write(host_dir.path().join("in.txt"), "from host\n").unwrap();
        let mut spec = sh(
            "cat /data/in.txt; echo out > /data/out.txt; touch /ro/x 2>/dev/null || echo ro-refused; \
             touch /rootfile 2>/dev/null || echo root-refused; echo tmp > /scratch/t && echo tmp-ok; \
             grep -E ' /(scratch|dev/shm|proc|sys|dev/pts|dev/mqueue) ' /proc/mounts | cut -d' ' -f2,3,4 | cut -d, -f1; \
             ls /dev; cat /etc/hosts | head -1",
        );
        spec.read_only_rootfs = true;
        spec.shm_size = Some(1 << 20);
        spec.mounts = vec![
            berth_runtime::container::Mount::Bind {
                source: host_dir.path().to_path_buf(),
                target: "/data".into(),
                read_only: false,
                propagation: None,
                recursive: true,
            },
            berth_runtime::container::Mount::Bind {
                source: host_dir.path().to_path_buf(),
                target: "/ro".into(),
                read_only: true,
                propagation: None,
                recursive: true,
            },
            berth_runtime::container::Mount::Tmpfs {
                target: "/scratch".into(),
                size: Some(1 << 20),
                mode: Some(0o755),
                read_only: false,
            },
        ];
        spec.etc_hosts = Some("10.0.0.5\tweb\n".into());
        let (code, out) = run(&f, spec);
        assert_eq!(code, 0, "{out}");
        assert!(out.contains("from host"), "{out}");
        assert_eq!(
            std::fs::read_to_string(host_dir.path().join("out.txt")).unwrap(),
            "out\n"
        );
        for expected in [
            "ro-refused",
            "root-refused",
            "tmp-ok",
            "/scratch tmpfs rw",
            "/dev/shm tmpfs rw",
            "/proc proc rw",
            "/sys sysfs ro",
            "/dev/pts devpts rw",
            "/dev/mqueue mqueue rw",
            "10.0.0.5\tweb",
        ] {
            assert!(out.contains(expected), "missing {expected:?} in:\n{out}");
        }
        for device in [
            "null", "zero", "full", "random", "urandom", "tty", "ptmx", "pts", "shm", "mqueue",
        ] {
            assert!(
                out.lines().any(|l| l == device),
                "missing /dev/{device} in:\n{out}"
            );
        }
        assert_clean(&f);
    });
}

#[test]
fn stop_grace_period_kill_and_signals() {
    if !can_run_containers() {
        return;
    }
    isolated("stop_grace_period_kill_and_signals", || {
        let f = fixture();
        // PID 1 ignores SIGTERM (no handler in a PID namespace's init).
        let mut spec = sh("trap '' TERM; while true; do sleep 0.1; done");
        spec.stop_timeout = Some(Duration::from_millis(500));
        let record = f.runtime.create(spec, &f.image, None).unwrap();
        f.runtime.start(&record.id).unwrap();
        let started = Instant::now();
        let state = f.runtime.stop(&record.id, None).unwrap();
        let took = started.elapsed();
        assert_eq!(state.status, Status::Exited);
        assert_eq!(state.exit_code, Some(137));
        assert_eq!(state.signal, Some(9));
        assert!(state.stop_requested, "a stop is recorded as on purpose");
        assert!(took >= Duration::from_millis(450), "{took:?}");
        assert!(took < Duration::from_secs(5), "{took:?}");
        f.runtime.delete(&record.id, false).unwrap();

        // A handler for the stop signal ends the process gracefully.
        let mut spec =
            sh("trap 'echo got-usr1; exit 7' USR1; echo ready; while true; do sleep 0.05; done");
        spec.stop_signal = Some("SIGUSR1".into());
        let record = f.runtime.create(spec, &f.image, None).unwrap();
        f.runtime.start(&record.id).unwrap();
        wait_for_log(&f, &record.id, "ready");
        let state = f
            .runtime
            .stop(&record.id, Some(Duration::from_secs(10)))
            .unwrap();
        assert_eq!(state.exit_code, Some(7));
        assert!(output(&f, &record.id).contains("got-usr1"));
        f.runtime.delete(&record.id, false).unwrap();

        // kill with any signal.
        let record = f.runtime.create(sh("sleep 100"), &f.image, None).unwrap();
        f.runtime.start(&record.id).unwrap();
        assert!(
            f.runtime.delete(&record.id, false).is_err(),
            "running containers need force"
        );
        f.runtime.kill(&record.id, "KILL").unwrap();
        let state = f
            .runtime
            .wait(&record.id, Some(Duration::from_secs(10)))
            .unwrap();
        assert_eq!(state.exit_code, Some(137));
        assert!(
            !state.stop_requested,
            "a plain kill (an OOM, a crash) is not on purpose"
        );
        f.runtime.delete(&record.id, false).unwrap();
        assert_clean(&f);
    });
}

fn wait_for_log(f: &Fixture, id: &str, needle: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !output(f, id).contains(needle) {
        assert!(
            Instant::now() < deadline,
            "timed out waiting for {needle:?}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn init_reaps_zombies_and_forwards_signals() {
    if !can_run_containers() {
        return;
    }
    isolated("init_reaps_zombies_and_forwards_signals", || {
        let f = fixture();
        // Orphans re-parented to PID 1 must be reaped: with berth's init,
        // no zombie is left; the program is not PID 1.
        let script = "for i in 1 2 3 4 5; do (sh -c 'exit 0' &) ; done; sleep 0.5; \
                      echo zombies=$(grep -l '^State:.*Z' /proc/[0-9]*/status 2>/dev/null | wc -l); echo pid=$$; \
                      trap 'echo term; exit 5' TERM; echo ready; while true; do sleep 0.05; done";
        let mut spec = sh(script);
        spec.init = true;
        let record = f.runtime.create(spec, &f.image, None).unwrap();
        f.runtime.start(&record.id).unwrap();
        wait_for_log(&f, &record.id, "ready");
        let state = f
            .runtime
            .stop(&record.id, Some(Duration::from_secs(10)))
            .unwrap();
        let out = output(&f, &record.id);
        assert!(out.contains("zombies=0"), "{out}");
        assert!(out.contains("pid=2"), "{out}");
        assert!(out.contains("term"), "SIGTERM forwarded: {out}");
        assert_eq!(state.exit_code, Some(5), "{out}");
        f.runtime.delete(&record.id, false).unwrap();
        assert_clean(&f);
    });
}

#[test]
fn memory_oom_and_pids_limit() {
    if !can_run_containers() {
        return;
    }
    isolated("memory_oom_and_pids_limit", || {
        let f = fixture();
        let mut hog = sh("x=a; while true; do x=$x$x; done");
        hog.resources = Resources {
            memory: Some(32 << 20),
            memory_swap: Some(32 << 20),
            ..Resources::default()
        };
        let record = f.runtime.create(hog, &f.image, None).unwrap();
        f.runtime.start(&record.id).unwrap();
        let state = f
            .runtime
            .wait(&record.id, Some(Duration::from_secs(60)))
            .unwrap();
        assert_eq!(state.status, Status::Exited);
        assert_eq!(state.exit_code, Some(137));
        assert!(state.oom_killed, "{state:?}");
        f.runtime.delete(&record.id, false).unwrap();

        let mut forks = sh("sh -c 'for i in $(seq 1 30); do sleep 5 & done' 2>/dev/null; set -- /proc/[0-9]*; echo running=$#; kill -9 -1");
        forks.resources.pids_limit = Some(10);
        let (_, out) = run(&f, forks);
        let running: u32 = out
            .lines()
            .find_map(|l| l.strip_prefix("running="))
            .unwrap_or_else(|| panic!("no count in {out:?}"))
            .parse()
            .unwrap();
        assert!(
            (5..=10).contains(&running),
            "pids limit not enforced: {out}"
        );
        assert_clean(&f);
    });
}

#[test]
fn exec_logs_and_tty() {
    if !can_run_containers() {
        return;
    }
    isolated("exec_logs_and_tty", || {
        let f = fixture();
        let mut spec = sh("echo started; echo oops >&2; sleep 100");
        spec.process.env = vec!["FROM_CONTAINER=yes".into()];
        spec.process.user = Some("app".into());
        let record = f.runtime.create(spec, &f.image, None).unwrap();
        f.runtime.start(&record.id).unwrap();
        wait_for_log(&f, &record.id, "oops");
        let mut streams = Vec::new();
        f.runtime
            .logs(&record.id, false, |r| {
                streams.push((r.log.clone(), r.stream));
                true
            })
            .unwrap();
        assert!(streams.contains(&(
            "oops\n".to_string(),
            berth_runtime::container::Stream::Stderr
        )));

        let exec = ExecSpec {
            args: vec![
                "sh".into(),
                "-c".into(),
                "echo $FROM_CONTAINER $EXTRA $(id -u) $(pwd); ls /proc | grep -c '^[0-9]'; exit 4"
                    .into(),
            ],
            env: vec!["EXTRA=extra".into()],
            working_dir: Some("/tmp".into()),
            ..ExecSpec::default()
        };
        let out = f.runtime.exec(&record.id, &exec, ExecIo::Capture).unwrap();
        assert_eq!(out.exit_code, 4);
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.starts_with("yes extra 1000 /tmp\n"), "{text}");
        let as_root = ExecSpec {
            args: vec!["id".into(), "-u".into()],
            user: Some("0".into()),
            ..ExecSpec::default()
        };
        let out = f
            .runtime
            .exec(&record.id, &as_root, ExecIo::Capture)
            .unwrap();
        assert_eq!(String::from_utf8_lossy(&out.stdout), "0\n");
        let missing = ExecSpec {
            args: vec!["nope".into()],
            ..ExecSpec::default()
        };
        assert_eq!(
            f.runtime
                .exec(&record.id, &missing, ExecIo::Capture)
                .unwrap()
                .exit_code,
            127
        );
        let tty = ExecSpec {
            args: vec![
                "sh".into(),
                "-c".into(),
                "test -t 0 && test -t 1 && echo tty-yes".into(),
            ],
            tty: true,
            ..ExecSpec::default()
        };
        let out = f.runtime.exec(&record.id, &tty, ExecIo::Capture).unwrap();
        assert!(String::from_utf8_lossy(&out.stdout).contains("tty-yes"));

        // A time limit kills the helper and, with it, the program.
        let slow = ExecSpec {
            args: vec!["sleep".into(), "31".into()],
            ..ExecSpec::default()
        };
        let started = Instant::now();
        let out = f
            .runtime
            .exec(
                &record.id,
                &slow,
                ExecIo::CaptureWithin(Duration::from_millis(300)),
            )
            .unwrap();
        assert!(out.timed_out && started.elapsed() < Duration::from_secs(5));
        std::thread::sleep(Duration::from_millis(100));
        let count = ExecSpec {
            args: vec!["sh".into(), "-c".into(), "for p in /proc/[0-9]*; do cat $p/cmdline 2>/dev/null | tr '\\0' ' '; echo; done | grep -c '^sleep 31 $'".into()],
            ..ExecSpec::default()
        };
        let out = f.runtime.exec(&record.id, &count, ExecIo::Capture).unwrap();
        assert!(
            String::from_utf8_lossy(&out.stdout).ends_with("0\n"),
            "the timed-out program is gone: {:?}",
            String::from_utf8_lossy(&out.stdout)
        );

        // Follow: returns once the container stops, with every line.
        let follower = {
            let runtime = f.runtime.clone();
            let id = record.id.clone();
            std::thread::spawn(move || {
                let mut lines = 0;
                runtime
                    .logs(&id, true, |_| {
                        lines += 1;
                        true
                    })
                    .unwrap();
                lines
            })
        };
        std::thread::sleep(Duration::from_millis(200));
        f.runtime
            .stop(&record.id, Some(Duration::from_millis(200)))
            .unwrap();
        assert_eq!(follower.join().unwrap(), 2);
        f.runtime.delete(&record.id, false).unwrap();

        // A container with a terminal.
        let mut spec = sh("test -t 1 && echo has-tty; echo TERM=$TERM");
        spec.process.tty = true;
        let (code, out) = run(&f, spec);
        assert_eq!(code, 0);
        assert!(
            out.contains("has-tty") && out.contains("TERM=xterm"),
            "{out}"
        );
        assert_clean(&f);
    });
}

#[test]
fn sysctls_ulimits_oom_score_and_cpu_limits() {
    if !can_run_containers() {
        return;
    }
    isolated("sysctls_ulimits_oom_score_and_cpu_limits", || {
        let f = fixture();
        let mut spec = sh(
            "cat /proc/sys/net/ipv4/ip_unprivileged_port_start; ulimit -n; cat /proc/self/oom_score_adj; \
             cat /proc/sys/kernel/domainname; echo ready; sleep 100",
        );
        spec.security.sysctls = [(
            "net.ipv4.ip_unprivileged_port_start".to_string(),
            "80".to_string(),
        )]
        .into();
        spec.security.ulimits = vec![berth_runtime::container::Ulimit {
            name: "nofile".into(),
            soft: 1234,
            hard: 2048,
        }];
        spec.security.oom_score_adj = Some(500);
        spec.domainname = Some("example.test".into());
        spec.resources = Resources {
            cpus: Some(0.5),
            cpu_shares: Some(512),
            cpuset: Some("0".into()),
            memory: Some(64 << 20),
            ..Resources::default()
        };
        let record = f.runtime.create(spec, &f.image, None).unwrap();
        let state = f.runtime.start(&record.id).unwrap();
        wait_for_log(&f, &record.id, "ready");
        let out = output(&f, &record.id);
        assert_eq!(
            out.lines().collect::<Vec<_>>(),
            vec!["80", "1234", "500", "example.test", "ready"]
        );
        let cgroup = state.cgroup.clone().expect("cgroup recorded");
        let read = |controller: &str, file: &str| -> String {
            let dir = cgroup
                .paths
                .iter()
                .find(|p| p.starts_with(format!("/sys/fs/cgroup/{controller}")))
                .unwrap_or_else(|| panic!("no {controller} cgroup in {:?}", cgroup.paths));
            std::fs::read_to_string(dir.join(file))
                .unwrap()
                .trim()
                .to_string()
        };
        assert_eq!(read("cpu", "cpu.cfs_quota_us"), "50000");
        assert_eq!(read("cpu", "cpu.shares"), "512");
        assert_eq!(read("cpuset", "cpuset.cpus"), "0");
        assert_eq!(
            read("memory", "memory.limit_in_bytes"),
            (64u64 << 20).to_string()
        );
        f.runtime
            .stop(&record.id, Some(Duration::from_millis(100)))
            .unwrap();
        f.runtime.delete(&record.id, false).unwrap();

        // Sysctls that are not namespaced are refused at create.
        let mut bad = sh("true");
        bad.security.sysctls = [("kernel.panic".to_string(), "1".to_string())].into();
        let err = f.runtime.create(bad, &f.image, None).unwrap_err();
        assert!(err.to_string().contains("kernel.panic"), "{err}");

        // A working directory that is a file cannot be entered.
        let mut bad_dir = sh("true");
        bad_dir.process.working_dir = Some("/etc/passwd".into());
        let record = f.runtime.create(bad_dir, &f.image, None).unwrap();
        let err = f.runtime.start(&record.id).unwrap_err();
        assert!(
            err.to_string()
                .contains("working directory \"/etc/passwd\""),
            "{err}"
        );
        f.runtime.delete(&record.id, false).unwrap();
        assert_clean(&f);
    });
}

/// Builds the fixture images (fixtures/images/build.py) into `dir`.
fn fixture_images(dir: &std::path::Path) {
    let status = std::process::Command::new("python3")
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/fixtures/images/build.py"
        ))
        .arg(dir)
        .status()
        .expect("run fixtures/images/build.py");
    assert!(status.success());
}

#[test]
fn images_from_the_store_run_with_layers_and_whiteouts() {
    if !can_run_containers() {
        return;
    }
    isolated(
        "images_from_the_store_run_with_layers_and_whiteouts",
        || {
            let f = fixture();
            let images = tempfile::tempdir().unwrap();
            fixture_images(images.path());
            let root = f._dir.path().join("root");
            for archive in ["busybox-oci.tar", "busybox-docker.tar"] {
                let out = support::berth(
                    &root,
                    &[
                        "image",
                        "load",
                        "-i",
                        images.path().join(archive).to_str().unwrap(),
                    ],
                    &[],
                );
                assert!(out.status.success(), "{}", support::stderr(&out));
            }
            let store = berth_runtime::image::ImageStore::open(&root).unwrap();
            let layered = store.resolve("berth.test/busybox:layered").unwrap();
            assert_eq!(layered.layers.len(), 2);
            let spec = sh("cat /etc/motd; test -e /etc/issue && echo issue-present || echo issue-gone; ls /srv; id -un app");
            let record = f
                .runtime
                .create(spec, &layered, Some("berth.test/busybox:layered"))
                .unwrap();
            f.runtime.start(&record.id).unwrap();
            let state = f
                .runtime
                .wait(&record.id, Some(Duration::from_secs(20)))
                .unwrap();
            let out = output(&f, &record.id);
            assert_eq!(state.exit_code, Some(0), "{out}");
            assert_eq!(out, "added by the second layer\nissue-gone\ntop.txt\napp\n");
            f.runtime.delete(&record.id, false).unwrap();

            // The image's CMD (`sh`) runs when none is given; with no stdin it exits 0.
            let latest = store.resolve("berth.test/busybox:latest").unwrap();
            let (code, out) = run_image(&f, &latest, ContainerSpec::default());
            assert_eq!((code, out.as_str()), (0, ""));
            let (code, out) = run_image(&f, &latest, sh("cat /srv/base.txt; cat /etc/issue"));
            assert_eq!(code, 0);
            assert_eq!(out, "from the base layer\nberth test image\n");
            assert_clean(&f);
        },
    );
}

#[test]
fn network_namespaces_privileged_and_stdin_open() {
    if !can_run_containers() {
        return;
    }
    isolated("network_namespaces_privileged_and_stdin_open", || {
        use berth_runtime::container::NetworkNamespace;
        let f = fixture();
        // stdin_open: `cat` keeps reading an open stdin instead of seeing EOF.
        let mut holder = sh("readlink /proc/self/ns/net; cat; echo eof");
        holder.process.stdin_open = true;
        let a = f.runtime.create(holder, &f.image, None).unwrap();
        let state = f.runtime.start(&a.id).unwrap();
        std::thread::sleep(Duration::from_millis(300));
        assert_eq!(f.runtime.state(&a.id).unwrap().status, Status::Running);
        wait_for_log(&f, &a.id, "net:");
        let a_net = output(&f, &a.id).trim().to_string();
        let host_net = std::fs::read_link("/proc/self/ns/net").unwrap();
        assert_ne!(
            a_net,
            host_net.to_string_lossy(),
            "a new namespace by default"
        );

        // Join the first container's namespace through /proc/PID/ns/net.
        let mut joiner = sh("readlink /proc/self/ns/net");
        joiner.network =
            NetworkNamespace::Join(format!("/proc/{}/ns/net", state.pid.unwrap()).into());
        let (_, out) = run(&f, joiner);
        assert_eq!(out.trim(), a_net);

        let mut host = sh("readlink /proc/self/ns/net; grep -c . /sys/class/net/lo/address");
        host.network = NetworkNamespace::Host;
        let (code, out) = run(&f, host);
        assert_eq!(code, 0, "{out}");
        assert_eq!(out.lines().next().unwrap(), host_net.to_string_lossy());

        let mut privileged = sh("grep CapEff /proc/self/status; touch /proc/sys/kernel/domainname && echo proc-sys-writable");
        privileged.security.privileged = true;
        let (_, out) = run(&f, privileged);
        // Every capability this (root) test process has itself.
        let own = status_field(
            &std::fs::read_to_string("/proc/self/status").unwrap(),
            "CapBnd",
        );
        assert_eq!(status_field(&out, "CapEff"), own, "{out}");
        assert!(out.contains("proc-sys-writable"), "{out}");
        f.runtime.delete(&a.id, true).unwrap();
        assert_clean(&f);
    });
}

#[test]
fn health_probes_run_inside_the_container_with_a_time_limit() {
    if !can_run_containers() {
        return;
    }
    isolated(
        "health_probes_run_inside_the_container_with_a_time_limit",
        || {
            use berth::supervisor::health::{probe, HealthConfig, HealthState, HealthStatus};
            let f = fixture();
            let record = f.runtime.create(sh("sleep 100"), &f.image, None).unwrap();
            f.runtime.start(&record.id).unwrap();
            let mut config = HealthConfig {
                argv: vec![
                    "sh".into(),
                    "-c".into(),
                    "test -f /tmp/ready && echo ready".into(),
                ],
                interval: Duration::from_secs(30),
                timeout: Duration::from_secs(5),
                retries: 1,
                start_period: Duration::ZERO,
                start_interval: Duration::from_secs(5),
            };
            let mut state = HealthState::default();
            // (A probe at Docker's first probe time: a failure counts.)
            state.record(
                probe(&f.runtime, &record.id, &config),
                &config,
                config.interval,
            );
            assert_eq!(state.status, HealthStatus::Unhealthy);
            let touch = ExecSpec {
                args: vec!["touch".into(), "/tmp/ready".into()],
                ..ExecSpec::default()
            };
            f.runtime.exec(&record.id, &touch, ExecIo::Capture).unwrap();
            // (A probe at Docker's first probe time: a failure counts.)
            state.record(
                probe(&f.runtime, &record.id, &config),
                &config,
                config.interval,
            );
            assert_eq!(state.status, HealthStatus::Healthy);
            assert_eq!(state.last_output(), Some("ready\n"));
            config.argv = vec!["sleep".into(), "10".into()];
            config.timeout = Duration::from_millis(200);
            let started = Instant::now();
            let result = probe(&f.runtime, &record.id, &config);
            assert!(started.elapsed() < Duration::from_secs(3));
            assert_eq!(result.exit_code, -1);
            assert!(
                result.output.contains("exceeded timeout"),
                "{}",
                result.output
            );
            f.runtime.delete(&record.id, true).unwrap();
            assert_clean(&f);
        },
    );
}

#[test]
fn endpoints_are_attached_before_the_program_starts() {
    if !can_run_containers() {
        return;
    }
    isolated("endpoints_are_attached_before_the_program_starts", || {
        use berth_runtime::network::{NetworkSpec, NetworkStore};
        let f = fixture();
        let networks = NetworkStore::open(&f._dir.path().join("root")).unwrap();
        let front = networks
            .create(NetworkSpec {
                name: "front".into(),
                ..NetworkSpec::default()
            })
            .unwrap();
        let with_endpoint = |name: &str, script: &str| {
            let id = berth_runtime::container::new_id().unwrap();
            let mut spec = sh(script);
            spec.name = name.into();
            spec.id = Some(id.clone());
            spec.endpoints = vec![networks.allocate("front", &id, None, None).unwrap()];
            spec
        };
        // The server sees eth0 with its address as soon as it starts.
        let server = with_endpoint(
            "server",
            "ip -4 -o addr show eth0 | awk '{print $4}'; echo ready; nc -l -p 8080 -e echo pong",
        );
        let server_ip = server.endpoints[0].address;
        let record = f.runtime.create(server, &f.image, None).unwrap();
        f.runtime.start(&record.id).unwrap();
        wait_for_log(&f, &record.id, "ready");
        let subnet_prefix = front.subnet.split('/').nth(1).unwrap().to_string();
        assert!(output(&f, &record.id).starts_with(&format!("{server_ip}/{subnet_prefix}\n")));
        let client = with_endpoint("client", &format!("echo ping | nc -w 2 {server_ip} 8080"));
        let (code, out) = run(&f, client);
        assert_eq!((code, out.as_str()), (0, "pong\n"));
        f.runtime.delete(&record.id, true).unwrap();
        networks.remove("front", true).unwrap();
        assert!(!std::path::Path::new("/sys/class/net")
            .join(&front.bridge)
            .exists());
        assert_clean(&f);
    });
}

/// A fake upstream DNS server on 127.0.0.1 (in the test's own namespace):
/// `example.test` is 192.0.2.7, everything else NXDOMAIN.
fn fake_upstream() -> std::net::SocketAddr {
    use hickory_proto::op::{Message, MessageType, ResponseCode};
    use hickory_proto::rr::{rdata::A, RData, Record};
    let socket = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let address = socket.local_addr().unwrap();
    std::thread::spawn(move || {
        let mut buffer = [0u8; 2048];
        while let Ok((n, from)) = socket.recv_from(&mut buffer) {
            let Ok(request) = Message::from_vec(&buffer[..n]) else {
                continue;
            };
            let mut response = Message::new();
            response
                .set_id(request.id())
                .set_message_type(MessageType::Response)
                .set_recursion_available(true);
            for q in request.queries() {
                response.add_query(q.clone());
                if q.name().to_ascii().trim_end_matches('.') == "example.test"
                    && q.query_type() == hickory_proto::rr::RecordType::A
                {
                    response.add_answer(Record::from_rdata(
                        q.name().clone(),
                        60,
                        RData::A(A::new(192, 0, 2, 7)),
                    ));
                } else {
                    response.set_response_code(ResponseCode::NXDomain);
                }
            }
            let _ = socket.send_to(&response.to_vec().unwrap(), from);
        }
    });
    address
}

#[test]
fn embedded_dns_answers_by_network_forwards_and_follows_changes() {
    if !can_run_containers() {
        return;
    }
    isolated(
        "embedded_dns_answers_by_network_forwards_and_follows_changes",
        || {
            use berth_runtime::dns::{
                resolv::resolv_conf, DnsRecord, DnsServer, DnsTable, Querier,
            };
            use std::net::Ipv4Addr;
            let f = fixture();
            let record = |network: &str, names: &[&str], ip: [u8; 4]| DnsRecord {
                network: network.into(),
                names: names.iter().map(|n| n.to_string()).collect(),
                address: Ipv4Addr::from(ip),
                container_id: names[0].to_string(),
            };
            let mut records = vec![
                record("front", &["web", "demo-web-1"], [10, 0, 0, 2]),
                record("front", &["web", "demo-web-2"], [10, 0, 0, 3]),
                record("back", &["db", "demo-db-1"], [10, 1, 0, 2]),
            ];
            let server = DnsServer::new(DnsTable::new(&records));
            let upstream = fake_upstream();
            // Container A asks; container B runs its own DNS server on port 53.
            let mut a = sh("sleep 100");
            a.resolv_conf = Some(resolv_conf("", &[], &[]));
            let a = f.runtime.create(a, &f.image, None).unwrap();
            let a_state = f.runtime.start(&a.id).unwrap();
            let querier = Querier {
                container_id: a.id.clone(),
                networks: vec!["front".into()],
                upstreams: vec![upstream],
                internal: false,
            };
            let serving = server
                .serve_container(
                    &std::path::PathBuf::from(format!("/proc/{}/ns/net", a_state.pid.unwrap())),
                    querier.clone(),
                )
                .unwrap();
            let ask = |name: &str| -> String {
                let spec = ExecSpec {
                    args: vec!["nslookup".into(), name.into()],
                    ..ExecSpec::default()
                };
                let out = f.runtime.exec(&a.id, &spec, ExecIo::Capture).unwrap();
                format!(
                    "{}{}",
                    String::from_utf8_lossy(&out.stdout),
                    String::from_utf8_lossy(&out.stderr)
                )
            };
            let web = ask("web");
            assert!(
                web.contains("10.0.0.2") && web.contains("10.0.0.3"),
                "{web}"
            );
            assert!(!ask("db").contains("10.1.0.2"), "db is on another network");
            let forwarded = ask("example.test");
            assert!(forwarded.contains("192.0.2.7"), "{forwarded}");
            // A third replica appears: answered at once.
            records.push(record("front", &["web", "demo-web-3"], [10, 0, 0, 4]));
            server.update(DnsTable::new(&records));
            assert!(ask("web").contains("10.0.0.4"));

            // B binds 0.0.0.0:53 itself and still starts; 127.0.0.11 still answers it.
            let mut b = sh("sleep 100");
            b.resolv_conf = Some(resolv_conf("", &[], &[]));
            let b = f.runtime.create(b, &f.image, None).unwrap();
            let b_state = f.runtime.start(&b.id).unwrap();
            let serving_b = server
                .serve_container(
                    &std::path::PathBuf::from(format!("/proc/{}/ns/net", b_state.pid.unwrap())),
                    querier,
                )
                .unwrap();
            std::thread::sleep(Duration::from_millis(200));
            let check = ExecSpec {
                args: vec![
                    "sh".into(),
                    "-c".into(),
                    "timeout 1 nc -l -p 53 </dev/null 2>/dev/null; echo rc=$?; nslookup web".into(),
                ],
                ..ExecSpec::default()
            };
            let out = f.runtime.exec(&b.id, &check, ExecIo::Capture).unwrap();
            let text = String::from_utf8_lossy(&out.stdout);
            // busybox has no UDP server to try; TCP on 0.0.0.0:53 binds (nothing of
            // berth's holds port 53: the redirect sends 127.0.0.11:53 elsewhere).
            assert!(
                text.starts_with("rc=143\n"),
                "B can bind port 53 itself: {text}"
            );
            assert!(text.contains("10.0.0.2"), "{text}");
            drop(serving);
            drop(serving_b);
            f.runtime.delete(&a.id, true).unwrap();
            f.runtime.delete(&b.id, true).unwrap();
            assert_clean(&f);
        },
    );
}

#[test]
fn dns_redirect_replaces_an_earlier_one() {
    if !can_run_containers() {
        return;
    }
    isolated("dns_redirect_replaces_an_earlier_one", || {
        use berth_runtime::dns::redirect::redirect_to;
        let address = std::net::Ipv4Addr::new(127, 0, 0, 11);
        let old = std::net::UdpSocket::bind((address, 40001)).unwrap();
        let new = std::net::UdpSocket::bind((address, 40002)).unwrap();
        for socket in [&old, &new] {
            socket
                .set_read_timeout(Some(Duration::from_millis(300)))
                .unwrap();
        }
        redirect_to(address, 40001).unwrap();
        redirect_to(address, 40002).unwrap();
        let client = std::net::UdpSocket::bind((address, 0)).unwrap();
        client.send_to(b"question", (address, 53)).unwrap();
        let mut buffer = [0u8; 16];
        let (length, _) = new.recv_from(&mut buffer).expect("the new port gets it");
        assert_eq!(&buffer[..length], b"question");
        assert!(
            old.recv_from(&mut buffer).is_err(),
            "the old redirect is gone"
        );
    });
}
