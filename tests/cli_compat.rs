//! What berth says about attributes it does not (fully) honour, as a user
//! sees it: warnings that name the attribute and go on, refusals that stop
//! before anything is made, commands berth lacks, platforms it cannot run,
//! pull policies (incl. `daily`/`every_`) and `up --pull`, `logging: none`,
//! and `deploy.restart_policy`.

mod support;

use std::time::Duration;

use support::containers::{can_run_containers, isolated};
use support::project::{bridges, Project};
use support::registry::{self, Registry};

fn ready() -> bool {
    if !can_run_containers() {
        eprintln!("skipping: needs root and user namespaces off");
        return false;
    }
    true
}

#[test]
fn warned_attributes_go_on_and_refused_ones_make_nothing() {
    if !ready() {
        return;
    }
    isolated(
        "warned_attributes_go_on_and_refused_ones_make_nothing",
        || {
            let p = Project::new(
                "name: compat
services:
  web:
    image: berth.test/busybox:latest
    command: [sleep, '600']
    stop_signal: SIGKILL
    cgroup_parent: custom.slice
    deploy:
      placement: {constraints: ['node.role == manager']}
",
            );
            let out = p.berth(&["up", "-d"]);
            let err = support::stderr(&out);
            assert!(out.status.success(), "{err}");
            assert!(
                err.contains("warning: compose.yaml: services.web.cgroup_parent: ignored: containers' cgroups are always under berth's own `berth` parent"),
                "{err}"
            );
            assert!(
                err.contains("warning: compose.yaml: services.web.deploy.placement: ignored: it configures a swarm service"),
                "{err}"
            );
            assert_eq!(p.ok(&["ps", "-q"]).lines().count(), 1);
            // Compose flags berth accepts but ignores say so; ones it refuses stop.
            let out = p.berth(&["--parallel", "4", "ps", "-q"]);
            assert!(out.status.success());
            assert!(
                support::stderr(&out)
                    .contains("warning: --parallel is ignored: berth chooses its own parallelism"),
                "{}",
                support::stderr(&out)
            );
            let out = p.berth(&["up", "-d", "--build"]);
            assert!(!out.status.success());
            assert!(support::stderr(&out).contains("berth does not build images"));
            assert!(p.ok(&["up", "-d", "--no-build", "--quiet-pull"]).is_empty());
            p.ok(&["down", "-t", "0"]);

            // Refused: nothing is made, every refusal is named at once.
            p.write(
                "name: compat
services:
  web:
    image: berth.test/busybox:latest
    command: [sleep, '600']
    storage_opt: {size: 1G}
    gpus: all
    networks: [back]
networks:
  back: {}
",
            );
            let out = p.berth(&["up", "-d"]);
            let err = support::stderr(&out);
            assert!(!out.status.success());
            assert!(
                err.contains(
                    "compose.yaml: services.web.storage_opt: storage options are not supported"
                ),
                "{err}"
            );
            assert!(
                err.contains("compose.yaml: services.web.gpus: GPUs are not supported"),
                "{err}"
            );
            assert_eq!(p.ok(&["ps", "-a", "-q"]), "");
            assert!(bridges().is_empty(), "{:?}", bridges());
            assert!(p.ok(&["network", "ls", "-q"]).trim().is_empty());

            // A value the runtime cannot take stops `up` before any
            // container is made, even one of a service that is fine.
            p.write(
                "name: compat
services:
  fine:
    image: berth.test/busybox:latest
    command: [sleep, '600']
  web:
    image: berth.test/busybox:latest
    depends_on: [fine]
    logging: {driver: syslog}
",
            );
            let out = p.berth(&["up", "-d"]);
            let err = support::stderr(&out);
            assert!(!out.status.success());
            assert!(
                err.contains("service \"web\": logging: log driver \"syslog\" is not supported"),
                "{err}"
            );
            assert_eq!(p.ok(&["ps", "-a", "-q"]), "");
            assert!(bridges().is_empty(), "{:?}", bridges());

            // A platform the host cannot run.
            let other = if std::env::consts::ARCH == "aarch64" {
                "linux/amd64"
            } else {
                "linux/arm64"
            };
            p.write(&format!(
                "name: compat\nservices:\n  web:\n    image: berth.test/busybox:latest\n    platform: {other}\n"
            ));
            let out = p.berth(&["up", "-d"]);
            let err = support::stderr(&out);
            assert!(!out.status.success());
            assert!(
                err.contains(&format!(
                    "services.web.platform: platform \"{other}\" is not supported on this host"
                )),
                "{err}"
            );
            assert_eq!(p.ok(&["ps", "-a", "-q"]), "");

            // A compose command berth does not have.
            let out = p.berth(&["build"]);
            let err = support::stderr(&out);
            assert!(!out.status.success());
            assert!(
                err.contains(
                    "`docker compose build` has no berth equivalent: berth does not build images"
                ),
                "{err}"
            );
        },
    );
}

#[test]
fn logging_none_keeps_no_log_and_deploy_restart_policy_restarts() {
    if !ready() {
        return;
    }
    isolated(
        "logging_none_keeps_no_log_and_deploy_restart_policy_restarts",
        || {
            let p = Project::new(
                "name: logs
services:
  quiet:
    image: berth.test/busybox:latest
    command: [sh, -c, 'echo hidden; sleep 600']
    stop_signal: SIGKILL
    logging: {driver: none}
  loud:
    image: berth.test/busybox:latest
    command: [sh, -c, 'echo shown; sleep 600']
    stop_signal: SIGKILL
  flaky:
    image: berth.test/busybox:latest
    command: [sh, -c, 'echo attempt; exit 1']
    deploy:
      restart_policy: {condition: on-failure, max_attempts: 2}
",
            );
            p.ok(&["up", "-d", "--wait", "quiet", "loud"]);
            std::thread::sleep(Duration::from_millis(300));
            assert_eq!(p.ok(&["logs", "--no-log-prefix", "quiet"]), "");
            assert!(p.ok(&["logs", "loud"]).contains("shown"));
            let containers = p.root.join("containers");
            let logs_of = |name: &str| -> Vec<String> {
                let mut found = Vec::new();
                for entry in std::fs::read_dir(&containers).unwrap().flatten() {
                    let config = std::fs::read_to_string(entry.path().join("config.json"))
                        .unwrap_or_default();
                    if !config.contains(&format!("\"logs-{name}-1\"")) {
                        continue;
                    }
                    for file in support::files_under(&entry.path()) {
                        if file.ends_with("container.log") || file.contains("container.log.") {
                            found.push(file);
                        }
                    }
                }
                found
            };
            assert!(!logs_of("loud").is_empty(), "the loud service keeps a log");
            assert_eq!(logs_of("quiet"), Vec::<String>::new());

            // deploy.restart_policy applies when `restart` is not set.
            p.ok(&["up", "-d", "flaky"]);
            p.wait_for_logs("flaky", |logs| logs.matches("attempt").count() == 3);
            std::thread::sleep(Duration::from_millis(1500));
            assert_eq!(p.ok(&["logs", "flaky"]).matches("attempt").count(), 3);
            p.ok(&["down", "-t", "0"]);
        },
    );
}

fn pushed_layout(tmp: &std::path::Path) -> std::path::PathBuf {
    let layout = tmp.join("push-layout");
    support::write_oci_layout(
        &layout,
        &support::rootfs_layer(),
        &["sh"],
        serde_json::json!({"org.opencontainers.image.ref.name": "latest"}),
    );
    layout
}

/// Sets the time berth recorded for when `name` was last pulled.
fn age_image(root: &std::path::Path, name: &str, rfc3339: &str) {
    let path = root.join("images/index.json");
    let mut index: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let mut found = false;
    for entry in index["manifests"].as_array_mut().unwrap() {
        if entry["annotations"]["org.opencontainers.image.ref.name"] == name {
            entry["annotations"]["dev.berth.image.tagged"] = rfc3339.into();
            found = true;
        }
    }
    assert!(found, "{name} not in {index}");
    std::fs::write(&path, serde_json::to_vec(&index).unwrap()).unwrap();
}

#[test]
fn pull_policies_decide_when_to_pull() {
    if !ready() {
        return;
    }
    if let Some(missing) = registry::missing_tools(false) {
        eprintln!("skipping the pull policy test: {missing} not installed");
        return;
    }
    isolated("pull_policies_decide_when_to_pull", || {
        let p = Project::new("services: {}\n");
        let registry = Registry::start(&p.dir.join("registry"), None);
        registry.push(&pushed_layout(&p.dir), "latest", "test/app");
        let image = format!("{}/test/app:latest", registry.host());
        let compose = |policy: &str| {
            format!(
                "name: pulls\nservices:\n  app:\n    image: {image}\n    pull_policy: {policy}\n"
            )
        };
        let pulled = |out: &std::process::Output| {
            assert!(out.status.success(), "{}", support::stderr(out));
            support::stderr(out).contains("Pulling")
        };

        p.write(&compose("never"));
        let out = p.berth(&["create"]);
        assert!(!out.status.success());
        assert!(
            support::stderr(&out).contains("pull_policy never, and the image is not here"),
            "{}",
            support::stderr(&out)
        );

        p.write(&compose("missing"));
        assert!(pulled(&p.berth(&["create"])));
        assert!(!pulled(&p.berth(&["create"])));

        // daily: a fresh image is kept, one pulled two days ago is pulled again.
        p.write(&compose("daily"));
        assert!(!pulled(&p.berth(&["create"])));
        age_image(&p.root, &image, "2020-01-01T00:00:00Z");
        assert!(pulled(&p.berth(&["create"])));
        assert!(!pulled(&p.berth(&["create"])));
        p.write(&compose("every_2s"));
        assert!(!pulled(&p.berth(&["create"])));
        std::thread::sleep(Duration::from_millis(2100));
        assert!(pulled(&p.berth(&["create"])));

        // always, and --pull over the file's policy.
        p.write(&compose("always"));
        assert!(pulled(&p.berth(&["create"])));
        assert!(!pulled(&p.berth(&["create", "--pull", "missing"])));
        p.write(&compose("weekly"));
        assert!(pulled(&p.berth(&[
            "up",
            "-d",
            "--no-start",
            "--pull",
            "always"
        ])));

        p.write(&compose("every_day"));
        let out = p.berth(&["create"]);
        assert!(!out.status.success());
        assert!(
            support::stderr(&out).contains("invalid pull_policy \"every_day\""),
            "{}",
            support::stderr(&out)
        );
        p.ok(&["down"]);
    });
}
