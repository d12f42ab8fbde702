//! `berth up` / `berth down` end to end with busybox services: the plan,
//! detached and foreground runs, recreation on change, networks, and a
//! teardown that leaves nothing behind.

mod support;

use std::path::{Path, PathBuf};

use support::containers::{can_run_containers, isolated};
use support::project::{bridges, Project};

const COMPOSE: &str = "name: demo
services:
  server:
    image: berth.test/busybox:latest
    command: [sh, -c, 'echo server up; nc -ll -p 8080 -e echo pong']
  client:
    image: berth.test/busybox:latest
    depends_on: [server]
    environment: {MODE: one}
    stop_signal: SIGKILL
    command: [sh, -c, 'echo client $$MODE; sleep 60']
";

#[test]
fn up_plans_runs_recreates_and_down_removes_everything() {
    if !can_run_containers() {
        return;
    }
    isolated(
        "up_plans_runs_recreates_and_down_removes_everything",
        || {
            let p = Project::new(COMPOSE);
            let plan = p.ok(&["up", "--dry-run"]);
            assert_eq!(
                plan,
                "1. create network demo_default: missing\n\
             2. create container demo-server-1: missing (after 1)\n\
             3. start container demo-server-1: created (after 2)\n\
             4. create container demo-client-1: missing (after 1)\n\
             5. start container demo-client-1: created (after 3, 4)\n"
            );
            assert_eq!(p.ok(&["ps", "-a", "-q"]), "", "dry run changes nothing");
            let out = p.berth(&["up", "-d"]);
            let progress = support::stderr(&out);
            assert!(out.status.success(), "{progress}");
            assert!(
                progress.contains(" Network demo_default  Created"),
                "{progress}"
            );
            assert!(
                progress.contains(" Container demo-client-1  Started"),
                "{progress}"
            );
            let ps = p.ok(&["ps", "--services"]);
            assert_eq!(ps, "client\nserver\n");
            assert_eq!(bridges().iter().filter(|b| b.starts_with("br-")).count(), 1);

            // The client reaches the server by its service name and its
            // container name through the embedded DNS.
            for name in ["server", "demo-server-1"] {
                let script = format!("echo ping | nc -w 2 {name} 8080");
                let reply = p.ok(&["exec", "-T", "client", "sh", "-c", &script]);
                assert_eq!(reply, "pong\n", "via {name}");
            }
            let resolv = p.ok(&["exec", "-T", "client", "cat", "/etc/resolv.conf"]);
            assert!(resolv.starts_with("nameserver 127.0.0.11\n"), "{resolv}");
            assert_eq!(
                p.berth(&["exec", "-T", "client", "sh", "-c", "exit 7"])
                    .status
                    .code(),
                Some(7)
            );

            // Converged: nothing to do.
            assert_eq!(
                p.ok(&["up", "--dry-run"]),
                "nothing to do: the project is up to date\n"
            );

            // A changed environment recreates the client only.
            p.write(&COMPOSE.replace("MODE: one", "MODE: two"));
            let plan = p.ok(&["up", "--dry-run"]);
            assert!(
                plan.contains("recreate demo-client-1: environment changed"),
                "{plan}"
            );
            assert!(!plan.contains("demo-server-1"), "{plan}");
            p.ok(&["up", "-d"]);
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
            while !p.ok(&["logs", "client"]).contains("client two") {
                assert!(std::time::Instant::now() < deadline, "{}", p.ok(&["logs"]));
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
            assert_eq!(p.ok(&["ps", "-q"]).lines().count(), 2);

            // Scale up, then down removes everything including the network.
            p.ok(&["up", "-d", "--scale", "client=2"]);
            assert!(p.ok(&["ps"]).contains("demo-client-2"));
            p.ok(&["down", "-t", "1"]);
            assert_eq!(p.ok(&["ps", "-a", "-q"]), "");
            assert_eq!(bridges(), Vec::<String>::new());
        },
    );
}

#[test]
fn foreground_up_streams_logs_and_returns_exit_codes() {
    if !can_run_containers() {
        return;
    }
    isolated("foreground_up_streams_logs_and_returns_exit_codes", || {
        let compose = "name: fg
services:
  job:
    image: berth.test/busybox:latest
    command: [sh, -c, 'echo working; exit 4']
  other:
    image: berth.test/busybox:latest
    command: [sh, -c, 'echo other; sleep 30']
";
        let p = Project::new(compose);
        let out = p.berth(&["up", "--exit-code-from", "job", "-t", "1"]);
        let stdout = support::stdout(&out);
        assert_eq!(
            out.status.code(),
            Some(4),
            "{stdout}{}",
            support::stderr(&out)
        );
        assert!(stdout.contains("job-1    | working"), "{stdout}");
        assert!(stdout.contains("other-1  | other"), "{stdout}");
        // --abort-on-container-exit stopped the other service.
        assert_eq!(p.ok(&["ps", "-q"]), "");
        p.ok(&["down"]);
        assert_eq!(bridges(), Vec::<String>::new());
        let _ = Path::new("");
    });
}

#[test]
fn wait_health_checks_and_restart_policies() {
    if !can_run_containers() {
        return;
    }
    isolated("wait_health_checks_and_restart_policies", || {
        let compose = "name: hc
services:
  db:
    image: berth.test/busybox:latest
    command: [sh, -c, 'sleep 1; touch /tmp/ready; sleep 60']
    stop_signal: SIGKILL
    healthcheck:
      test: [CMD-SHELL, 'test -f /tmp/ready && echo ok']
      interval: 30s
      start_interval: 200ms
      start_period: 20s
  flaky:
    image: berth.test/busybox:latest
    command: [sh, -c, 'echo attempt; exit 1']
    restart: on-failure:2
";
        let p = Project::new(compose);
        let started = std::time::Instant::now();
        let out = p.berth(&["up", "-d", "--wait", "db"]);
        assert!(out.status.success(), "{}", support::stderr(&out));
        let took = started.elapsed();
        // The first probe runs at once, then every start_interval: healthy
        // soon after the file appears, not after a 30 s interval.
        assert!(took < std::time::Duration::from_secs(8), "{took:?}");
        let ps = p.ok(&["ps"]);
        assert!(ps.contains("(healthy)"), "{ps}");

        // on-failure:2 restarts twice, then leaves it exited.
        p.ok(&["up", "-d", "flaky"]);
        p.wait_for_logs("flaky", |logs| logs.matches("attempt").count() == 3);
        std::thread::sleep(std::time::Duration::from_millis(1500));
        assert_eq!(p.ok(&["logs", "flaky"]).matches("attempt").count(), 3);

        // An unhealthy service fails --wait with its probe output.
        let failing = compose
            .replace("test -f /tmp/ready && echo ok", "echo not ready; exit 1")
            .replace("start_period: 20s", "start_period: 0s")
            .replace("interval: 30s", "interval: 200ms");
        p.write(&failing);
        let out = p.berth(&["up", "-d", "--wait", "--wait-timeout", "20", "db"]);
        let err = support::stderr(&out);
        assert!(!out.status.success());
        assert!(err.contains("hc-db-1 is unhealthy: not ready"), "{err}");
        p.ok(&["down", "-t", "0"]);
        assert_eq!(p.ok(&["ps", "-a", "-q"]), "");
    });
}

/// berth probes before `interval` has passed, but such an early failure
/// does not count: with `retries: 1`, a check that fails once and then
/// passes leaves `--wait` successful, as in Docker (whose first probe
/// runs after 2 s and passes).
#[test]
fn an_early_failing_probe_does_not_fail_wait() {
    if !can_run_containers() {
        return;
    }
    isolated("an_early_failing_probe_does_not_fail_wait", || {
        let p = Project::new(
            "name: early
services:
  db:
    image: berth.test/busybox:latest
    command: [sleep, '60']
    stop_signal: SIGKILL
    healthcheck:
      test: [CMD-SHELL, 'test -f /tmp/probed || { touch /tmp/probed; echo first probe fails; exit 1; }']
      interval: 2s
      retries: 1
",
        );
        let out = p.berth(&["up", "-d", "--wait", "--wait-timeout", "20"]);
        assert!(out.status.success(), "{}", support::stderr(&out));
        let ps = p.ok(&["ps"]);
        assert!(ps.contains("(healthy)"), "{ps}");
        p.ok(&["down", "-t", "0"]);
    });
}

#[test]
fn depends_on_conditions_hold_dependents_back() {
    if !can_run_containers() {
        return;
    }
    isolated("depends_on_conditions_hold_dependents_back", || {
        let compose = "name: dep
services:
  db:
    image: berth.test/busybox:latest
    command: [sh, -c, 'sleep 1; touch /tmp/ready; exec sleep 60']
    stop_signal: SIGKILL
    healthcheck:
      test: [CMD, test, -f, /tmp/ready]
      start_interval: 100ms
      start_period: 30s
  migrate:
    image: berth.test/busybox:latest
    depends_on: {db: {condition: service_healthy}}
    command: [sh, -c, 'sleep 1; echo migrated']
  web:
    image: berth.test/busybox:latest
    depends_on: {migrate: {condition: service_completed_successfully}}
    stop_signal: SIGKILL
    command: [sh, -c, 'echo web started; sleep 60']
";
        let p = Project::new(compose);
        let out = p.berth(&["up", "-d"]);
        let progress = support::stderr(&out);
        assert!(out.status.success(), "{progress}");
        let position = |needle: &str| {
            progress
                .find(needle)
                .unwrap_or_else(|| panic!("{needle:?} in {progress}"))
        };
        assert!(
            position(" Container dep-db-1  Healthy")
                < position(" Container dep-migrate-1  Started")
        );
        assert!(
            position(" Container dep-migrate-1  Exited")
                < position(" Container dep-web-1  Started")
        );
        assert!(p.ok(&["logs", "migrate"]).contains("migrated"));

        // A failing one-shot dependency stops the dependents from starting.
        p.ok(&["down", "-t", "0"]);
        p.write(&compose.replace("echo migrated", "echo failed; exit 2"));
        let out = p.berth(&["up", "-d"]);
        let err = support::stderr(&out);
        assert!(!out.status.success());
        assert!(
            err.contains("dep-migrate-1 didn't complete successfully: exit 2"),
            "{err}"
        );
        // As in docker compose, web may have been created meanwhile, but it
        // was never started.
        let states = p.ok(&["ps", "-a", "--format", "{{.Name}} {{.State}}"]);
        assert!(
            !states.contains("dep-web-1 running") && !states.contains("dep-web-1 exited"),
            "{states}"
        );
        assert!(!p.ok(&["logs", "web"]).contains("web started"));
        p.ok(&["down", "-t", "0"]);
    });
}

#[test]
fn a_dependency_that_dies_is_shown_once_with_its_last_log_lines() {
    isolated(
        "a_dependency_that_dies_is_shown_once_with_its_last_log_lines",
        || {
            let p = Project::new(
                "name: died
services:
  db:
    image: berth.test/busybox:latest
    command: [sh, -c, 'echo starting db; echo FATAL: no password given >&2; exit 3']
    healthcheck:
      test: [CMD, 'false']
      interval: 1s
  web:
    image: berth.test/busybox:latest
    depends_on: {db: {condition: service_healthy}}
    command: [sleep, '60']
  worker:
    image: berth.test/busybox:latest
    depends_on: {db: {condition: service_healthy}}
    command: [sleep, '60']
",
            );
            let out = p.berth(&["up", "-d"]);
            let err = support::stderr(&out);
            assert!(!out.status.success(), "{err}");
            assert!(
                err.contains("dependency died-db-1 is not running (exit code 3)"),
                "{err}"
            );
            // Its last log lines, once, though two services waited for it.
            assert_eq!(err.matches("FATAL: no password given").count(), 1, "{err}");
            assert!(err.contains("starting db"), "{err}");
            assert_eq!(
                err.matches(" Container died-db-1  Error").count(),
                1,
                "{err}"
            );
            p.ok(&["down", "-t", "0"]);
        },
    );
}

/// A static UDP echo server for the busybox image (busybox has none),
/// built with the host's gcc into `dir`.
fn udp_echo_binary(dir: &Path) -> Option<PathBuf> {
    let source = dir.join("udpecho.c");
    std::fs::write(
        &source,
        r#"#include <netinet/in.h>
#include <sys/socket.h>
int main(void) {
    int s = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in a = {0}; a.sin_family = AF_INET; a.sin_port = htons(9999);
    if (bind(s, (struct sockaddr *)&a, sizeof a)) return 1;
    char b[2048];
    for (;;) {
        struct sockaddr_in from; socklen_t l = sizeof from;
        long n = recvfrom(s, b, sizeof b, 0, (struct sockaddr *)&from, &l);
        if (n > 0) sendto(s, b, n, 0, (struct sockaddr *)&from, l);
    }
}
"#,
    )
    .unwrap();
    let binary = dir.join("udpecho");
    let built = std::process::Command::new("gcc")
        .args(["-static", "-O2", "-o"])
        .arg(&binary)
        .arg(&source)
        .status()
        .is_ok_and(|s| s.success());
    built.then_some(binary)
}

#[test]
fn published_tcp_and_udp_ports_answer_on_loopback() {
    if !can_run_containers() {
        return;
    }
    isolated("published_tcp_and_udp_ports_answer_on_loopback", || {
        let tools = tempfile::tempdir().unwrap();
        let Some(udpecho) = udp_echo_binary(tools.path()) else {
            eprintln!("skipping: gcc -static is not available");
            return;
        };
        let compose = format!(
            "name: pub
services:
  web:
    image: berth.test/busybox:latest
    command: [sh, -c, 'nc -ll -p 8080 -e echo hello-from-web']
    stop_signal: SIGKILL
    ports: ['127.0.0.1:18080:8080', '8081']
  echo:
    image: berth.test/busybox:latest
    command: [/udpecho]
    stop_signal: SIGKILL
    volumes: ['{}:/udpecho:ro']
    ports: ['127.0.0.1:19999:9999/udp']
",
            udpecho.display()
        );
        let p = Project::new(&compose);
        p.ok(&["up", "-d", "--wait"]);
        // TCP on the fixed port.
        let mut reply = String::new();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        while !reply.contains("hello-from-web") {
            assert!(std::time::Instant::now() < deadline, "no TCP answer");
            if let Ok(mut stream) = std::net::TcpStream::connect("127.0.0.1:18080") {
                use std::io::Read;
                let _ = stream.read_to_string(&mut reply);
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        // UDP on the fixed port.
        let client = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        client
            .set_read_timeout(Some(std::time::Duration::from_millis(500)))
            .unwrap();
        let mut got = Vec::new();
        for _ in 0..10 {
            client.send_to(b"ping-udp", "127.0.0.1:19999").unwrap();
            let mut buffer = [0u8; 64];
            if let Ok(n) = client.recv(&mut buffer) {
                got = buffer[..n].to_vec();
                break;
            }
        }
        assert_eq!(got, b"ping-udp");
        // `port` prints the mappings, including the random one.
        assert_eq!(p.ok(&["port", "web", "8080"]), "127.0.0.1:18080\n");
        let random = p.ok(&["port", "web", "8081"]);
        assert!(
            random.starts_with("0.0.0.0:") && random.trim() != "0.0.0.0:0",
            "{random}"
        );
        assert_eq!(
            p.ok(&["port", "--protocol", "udp", "echo", "9999"]),
            "127.0.0.1:19999\n"
        );
        assert!(p.ok(&["ps"]).contains("127.0.0.1:18080->8080/tcp"));

        // Another project asking for the same port fails clearly, leaving nothing.
        let other = Project::new(&compose.replace("name: pub", "name: clash"));
        let out = other.berth(&["up", "-d", "web"]);
        let err = support::stderr(&out);
        assert!(!out.status.success());
        assert!(
            err.contains("service web: port 18080/tcp is already in use by process"),
            "{err}"
        );
        assert_eq!(other.ok(&["ps", "-a", "-q"]), "");
        other.ok(&["down"]);
        p.ok(&["down", "-t", "0"]);
        assert!(
            std::net::TcpListener::bind("127.0.0.1:18080").is_ok(),
            "port released"
        );
    });
}

#[test]
fn named_volumes_copy_up_survive_and_down_v_removes_them() {
    if !can_run_containers() {
        return;
    }
    isolated(
        "named_volumes_copy_up_survive_and_down_v_removes_them",
        || {
            let compose = "name: vol
services:
  app:
    image: berth.test/busybox:latest
    stop_signal: SIGKILL
    command: [sh, -c, 'ls /etc/data; cat /etc/data/note 2>/dev/null; echo kept > /etc/data/note; sleep 60']
    volumes:
      - data:/etc/data
      - ./host:/host
      - type: tmpfs
        target: /scratch
  nocopy:
    image: berth.test/busybox:latest
    stop_signal: SIGKILL
    command: [sh, -c, 'ls -A /srv | wc -l; sleep 60']
    volumes:
      - type: volume
        source: empty
        target: /srv
        volume: {nocopy: true}
  reader:
    image: berth.test/busybox:latest
    stop_signal: SIGKILL
    volumes_from: ['app:ro']
    command: [sh, -c, 'cat /etc/data/note; touch /etc/data/x 2>/dev/null || echo read-only; sleep 60']
volumes:
  data: {}
  empty: {}
";
            let p = Project::new(compose);
            // /etc/data does not exist in the image: use /etc instead for copy-up.
            let compose = compose
                .replace("data:/etc/data", "data:/etc")
                .replace("/etc/data", "/etc");
            p.write(&compose);
            p.ok(&["up", "-d"]);
            let wait_logs = |service: &str, needle: &str| {
                let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
                loop {
                    let logs = p.ok(&["logs", "--no-log-prefix", service]);
                    if logs.contains(needle) {
                        return logs;
                    }
                    assert!(std::time::Instant::now() < deadline, "{logs}");
                    std::thread::sleep(std::time::Duration::from_millis(50));
                }
            };
            // Copy-up: the image's /etc (passwd, group…) is in the new volume.
            let first = wait_logs("app", "passwd");
            assert!(first.contains("group"), "{first}");
            // nocopy leaves the volume empty.
            assert_eq!(wait_logs("nocopy", "0"), "0\n");
            assert!(
                p.dir.join("host").is_dir(),
                "a missing bind source is created"
            );
            let volumes = p.ok(&["volume", "ls", "-q"]);
            assert!(
                volumes.contains("vol_data") && volumes.contains("vol_empty"),
                "{volumes}"
            );
            // In use: refused.
            let out = p.berth(&["volume", "rm", "vol_data"]);
            assert!(!out.status.success());
            let err = support::stderr(&out);
            assert!(
                err.contains("volume \"vol_data\" is in use by container")
                    && err.contains("vol-app-1"),
                "{err}"
            );
            // The file written survives down (without -v) and is seen by the next container.
            p.ok(&["down", "-t", "0"]);
            assert!(p.ok(&["volume", "ls", "-q"]).contains("vol_data"));
            p.ok(&["up", "-d", "app"]);
            let second = wait_logs("app", "kept");
            assert!(second.contains("passwd"), "{second}");
            // volumes_from shares app's volume, read-only here.
            p.ok(&["up", "-d", "reader"]);
            assert_eq!(wait_logs("reader", "read-only"), "kept\nread-only\n");
            // down -v removes the project's volumes.
            p.ok(&["down", "-t", "0", "-v"]);
            assert_eq!(p.ok(&["volume", "ls", "-q"]), "");
        },
    );
}
