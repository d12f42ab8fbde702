//! Secrets, configs, labels and annotations as a `docker compose` user
//! meets them: contents, owners, modes and targets inside the container,
//! read-only, a changed secret recreating the container, errors that stop
//! `up` before anything exists, and `berth inspect`.

mod support;

use support::containers::{can_run_containers, isolated};
use support::project::{bridges, Project};

const SECRETS: &str = r#"name: sec
services:
  web:
    image: berth.test/busybox:latest
    command: [sleep, '600']
    stop_signal: SIGKILL
    secrets:
      - db_pass
      - source: db_pass
        target: /etc/db.pass
      - source: api_key
        target: api.txt
        uid: "1000"
        gid: "50"
        mode: 0400
    configs:
      - app_conf
      - source: site
        target: etc/site.conf
        mode: 0640
  locked:
    image: berth.test/busybox:latest
    command: [sleep, '600']
    stop_signal: SIGKILL
    read_only: true
    tmpfs: [/run]
    secrets: [db_pass]
secrets:
  db_pass:
    file: ./db_pass.txt
  api_key:
    environment: API_KEY
configs:
  app_conf:
    content: "port=${PORT:-8080}\n"
  site:
    file: ./site.conf
"#;

fn exec(p: &Project, script: &str) -> String {
    p.ok(&["exec", "-T", "web", "sh", "-c", script])
}

#[test]
fn secrets_and_configs_reach_the_container() {
    if !can_run_containers() {
        return;
    }
    isolated("secrets_and_configs_reach_the_container", || {
        let p = Project::new(SECRETS);
        std::fs::write(p.dir.join("db_pass.txt"), "hunter2\n").unwrap();
        std::fs::write(p.dir.join("site.conf"), "server {}\n").unwrap();
        // The environment interpolation uses: the project's .env.
        std::fs::write(p.dir.join(".env"), "API_KEY=k-123\n").unwrap();
        p.ok(&["up", "-d"]);

        // A secret from a file at its default target and at an absolute one.
        assert_eq!(exec(&p, "cat /run/secrets/db_pass"), "hunter2\n");
        assert_eq!(exec(&p, "cat /etc/db.pass"), "hunter2\n");
        // From the environment, at a relative target, with owner and mode.
        assert_eq!(exec(&p, "cat /run/secrets/api.txt"), "k-123");
        assert_eq!(
            exec(&p, "stat -c '%a %u %g' /run/secrets/api.txt"),
            "400 1000 50\n"
        );
        // Its owner reads it; another user does not.
        assert_eq!(
            p.ok(&[
                "exec",
                "-T",
                "-u",
                "1000",
                "web",
                "cat",
                "/run/secrets/api.txt"
            ]),
            "k-123"
        );
        let out = p.berth(&[
            "exec",
            "-T",
            "-u",
            "65534",
            "web",
            "cat",
            "/run/secrets/api.txt",
        ]);
        assert!(!out.status.success(), "another user read a 0400 secret");
        // Defaults: root-owned, 0444, so any user reads it.
        assert_eq!(
            p.ok(&[
                "exec",
                "-T",
                "-u",
                "65534",
                "web",
                "cat",
                "/run/secrets/db_pass"
            ]),
            "hunter2\n"
        );
        assert_eq!(
            exec(&p, "stat -c '%a %u %g' /run/secrets/db_pass"),
            "444 0 0\n"
        );
        // A config from inline content (interpolated) at /<name>, and one
        // from a file at a relative target (under /).
        assert_eq!(exec(&p, "cat /app_conf"), "port=8080\n");
        assert_eq!(exec(&p, "stat -c '%a %u %g' /app_conf"), "444 0 0\n");
        assert_eq!(exec(&p, "cat /etc/site.conf"), "server {}\n");
        assert_eq!(exec(&p, "stat -c '%a' /etc/site.conf"), "640\n");

        // A read-only root and a tmpfs on /run do not hide it.
        assert_eq!(
            p.ok(&["exec", "-T", "locked", "cat", "/run/secrets/db_pass"]),
            "hunter2\n"
        );

        // Read-only, even for root.
        let out = p.berth(&[
            "exec",
            "-T",
            "web",
            "sh",
            "-c",
            "echo x > /run/secrets/db_pass",
        ]);
        assert!(!out.status.success(), "writing a secret succeeded");
        assert!(
            support::stderr(&out).contains("Read-only file system"),
            "{}",
            support::stderr(&out)
        );
        let out = p.berth(&["exec", "-T", "web", "rm", "/app_conf"]);
        assert!(!out.status.success(), "removing a config succeeded");

        // The content is not kept in the container's config.
        let inspect = p.ok(&["inspect", "sec-web-1"]);
        assert!(!inspect.contains("hunter2"), "{inspect}");
        let mounts: serde_json::Value = serde_json::from_str(&inspect).unwrap();
        let targets: Vec<&str> = mounts[0]["Mounts"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|m| m["RW"] == false)
            .map(|m| m["Destination"].as_str().unwrap())
            .collect();
        assert_eq!(
            targets,
            [
                "/run/secrets/db_pass",
                "/etc/db.pass",
                "/run/secrets/api.txt",
                "/app_conf",
                "/etc/site.conf"
            ]
        );

        // Nothing changed: nothing recreated.
        let id = p.ok(&["ps", "-q", "web"]);
        let out = p.berth(&["up", "-d"]);
        assert!(out.status.success(), "{}", support::stderr(&out));
        assert_eq!(p.ok(&["ps", "-q", "web"]), id);

        // A changed secret file recreates the container, with the reason.
        std::fs::write(p.dir.join("db_pass.txt"), "correct horse\n").unwrap();
        let plan = p.ok(&["up", "-d", "--dry-run"]);
        assert!(
            plan.contains("recreate sec-web-1: content of secret db_pass changed"),
            "{plan}"
        );
        p.ok(&["up", "-d"]);
        assert_ne!(p.ok(&["ps", "-q", "web"]), id);
        assert_eq!(exec(&p, "cat /run/secrets/db_pass"), "correct horse\n");

        p.ok(&["down", "-t", "0"]);
        assert_eq!(p.ok(&["ps", "-a", "-q"]), "");
        assert_eq!(bridges(), Vec::<String>::new());
    });
}

/// `up` fails, naming the service, the entry and the problem, and nothing
/// (container, network, supervisor) is left behind.
fn refused(p: &Project, compose: &str, expected: &str) {
    p.write(compose);
    let out = p.berth(&["up", "-d"]);
    let err = support::stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains(expected), "expected {expected:?} in:\n{err}");
    assert!(!err.contains("Created"), "{err}");
    assert_eq!(p.ok(&["ps", "-a", "-q"]), "");
    assert_eq!(bridges(), Vec::<String>::new());
    assert!(
        !p.root.join("run/bad/supervisor.pid").exists(),
        "a supervisor was started"
    );
}

#[test]
fn bad_sources_fail_before_anything_is_created() {
    if !can_run_containers() {
        return;
    }
    isolated("bad_sources_fail_before_anything_is_created", || {
        let base = "name: bad
services:
  web:
    image: berth.test/busybox:latest
    command: [sleep, '600']
  other:
    image: berth.test/busybox:latest
    command: [sleep, '600']
";
        let p = Project::new(base);
        let missing = p.dir.join("db_pass.txt");
        refused(
            &p,
            &format!("{base}    secrets: [db_pass]\nsecrets:\n  db_pass:\n    file: ./db_pass.txt\n"),
            &format!(
                "error: service \"other\": secrets[0]: secret \"db_pass\": file {}: No such file or directory",
                missing.display()
            ),
        );
        refused(
            &p,
            &format!("{base}    secrets: [token]\nsecrets:\n  token:\n    environment: BERTH_TEST_UNSET\n"),
            "service \"other\": secrets[0]: secret \"token\": environment variable \"BERTH_TEST_UNSET\" is not set",
        );
        refused(
            &p,
            &format!("{base}    configs: [shared]\nconfigs:\n  shared:\n    external: true\n"),
            "compose.yaml: configs.shared.external: external configs are not supported without a swarm",
        );
        refused(
            &p,
            &format!("{base}    configs: [tpl]\nconfigs:\n  tpl:\n    content: x\n    template_driver: golang\n"),
            "compose.yaml: configs.tpl.template_driver: template drivers are not supported without a swarm",
        );
        // `run` refuses before it starts anything either.
        p.write(&format!(
            "{base}    depends_on: [web]\n    secrets: [db_pass]\nsecrets:\n  db_pass:\n    file: ./db_pass.txt\n"
        ));
        let out = p.berth(&["run", "--rm", "other", "true"]);
        assert!(!out.status.success());
        assert!(
            support::stderr(&out).contains("secret \"db_pass\": file"),
            "{}",
            support::stderr(&out)
        );
        assert_eq!(p.ok(&["ps", "-a", "-q"]), "");
        assert_eq!(bridges(), Vec::<String>::new());
    });
}

#[test]
fn inspect_shows_labels_and_annotations() {
    if !can_run_containers() {
        return;
    }
    isolated("inspect_shows_labels_and_annotations", || {
        let p = Project::new(
            "name: ins
services:
  web:
    image: berth.test/busybox:latest
    command: [sleep, '600']
    stop_signal: SIGKILL
    environment: {MODE: test}
    labels: {com.example.team: web}
    label_file: ./web.labels
    annotations: {org.example.note: hello, com.example.ticket: '42'}
    healthcheck: {test: [CMD, 'true'], interval: 1s}
",
        );
        std::fs::write(
            p.dir.join("web.labels"),
            "com.example.from-file=yes\n# a comment\ncom.example.quoted=\"q v\"\n",
        )
        .unwrap();
        p.ok(&["up", "-d", "--wait"]);
        let id = p.ok(&["ps", "-q"]).trim().to_string();

        let text = p.ok(&["inspect", "ins-web-1"]);
        let all: serde_json::Value = serde_json::from_str(&text).unwrap();
        let c = &all[0];
        assert_eq!(all.as_array().unwrap().len(), 1);
        assert!(c["Id"].as_str().unwrap().starts_with(&id));
        assert_eq!(c["Name"], "/ins-web-1");
        assert_eq!(c["State"]["Status"], "running");
        assert_eq!(c["State"]["Running"], true);
        assert!(c["State"]["Pid"].as_i64().unwrap() > 0);
        assert_eq!(c["State"]["Health"]["Status"], "healthy");
        assert_eq!(c["State"]["Health"]["Log"][0]["ExitCode"], 0);
        assert_eq!(c["Path"], "sleep");
        assert_eq!(c["Args"], serde_json::json!(["600"]));
        assert_eq!(c["Config"]["Image"], "berth.test/busybox:latest");
        assert!(c["Config"]["Env"]
            .as_array()
            .unwrap()
            .contains(&serde_json::json!("MODE=test")));
        let labels = &c["Config"]["Labels"];
        assert_eq!(labels["com.example.team"], "web");
        assert_eq!(labels["com.example.from-file"], "yes");
        assert_eq!(labels["com.example.quoted"], "q v");
        assert_eq!(labels["berth.service"], "web");
        assert_eq!(
            c["HostConfig"]["Annotations"],
            serde_json::json!({"org.example.note": "hello", "com.example.ticket": "42"}),
            "only the user's annotations"
        );
        let networks = c["NetworkSettings"]["Networks"].as_object().unwrap();
        let default = &networks["ins_default"];
        assert!(default["IPAddress"].as_str().unwrap().contains('.'));
        assert!(default["Aliases"]
            .as_array()
            .unwrap()
            .contains(&serde_json::json!("web")));

        // By ID prefix, several at once, and through a template.
        let by_prefix: serde_json::Value =
            serde_json::from_str(&p.ok(&["inspect", &id[..6], "ins-web-1"])).unwrap();
        assert_eq!(by_prefix.as_array().unwrap().len(), 2);
        assert_eq!(
            p.ok(&[
                "inspect",
                "-f",
                "{{.State.Status}} {{index .Config.Labels \"com.example.from-file\"}} {{json .HostConfig.Annotations}}",
                "ins-web-1"
            ]),
            "running yes {\"com.example.ticket\":\"42\",\"org.example.note\":\"hello\"}\n"
        );

        // An unknown container: an error naming it, exit 1; the known ones
        // are still shown.
        let out = p.berth(&["inspect", "ins-web-1", "nope"]);
        assert_eq!(out.status.code(), Some(1));
        assert!(
            support::stderr(&out).contains("no such container: nope"),
            "{}",
            support::stderr(&out)
        );
        let shown: serde_json::Value = serde_json::from_str(&support::stdout(&out)).unwrap();
        assert_eq!(shown.as_array().unwrap().len(), 1);

        p.ok(&["stop", "-t", "0"]);
        assert_eq!(
            p.ok(&[
                "inspect",
                "--format",
                "{{.State.Status}} {{.State.Running}}",
                "ins-web-1"
            ]),
            "exited false\n"
        );
        p.ok(&["down", "-t", "0"]);
        assert_eq!(bridges(), Vec::<String>::new());
    });
}
