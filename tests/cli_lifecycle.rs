//! The project lifecycle as a user lives it: a supervisor that dies without
//! taking the project down, concurrent commands on one project, orphans,
//! scaling up and down, and a second `up` that has nothing to do.

mod support;

use std::time::{Duration, Instant};

use support::containers::{can_run_containers, isolated};
use support::project::{bridges, Project};

const WEB: &str = "name: life
services:
  web:
    image: berth.test/busybox:latest
    command: [sh, -c, 'nc -ll -p 8080 -e echo pong']
    stop_signal: SIGKILL
    ports: ['127.0.0.1:18181:8080']
  client:
    image: berth.test/busybox:latest
    command: [sleep, '600']
    stop_signal: SIGKILL
";

fn supervisor_pid(p: &Project, project: &str) -> i32 {
    let path = p.root.join("run").join(project).join("supervisor.pid");
    std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .trim()
        .parse()
        .unwrap()
}

fn alive(pid: i32) -> bool {
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), None).is_ok()
}

fn sigkill(pid: i32) {
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(pid),
        nix::sys::signal::Signal::SIGKILL,
    )
    .unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    while alive(pid) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// What `127.0.0.1:PORT` answers, if anything.
fn ask(port: u16) -> Option<String> {
    use std::io::Read;
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream
        .set_read_timeout(Some(Duration::from_secs(2)))
        .unwrap();
    let mut reply = String::new();
    stream.read_to_string(&mut reply).ok()?;
    Some(reply)
}

fn by_name(p: &Project) -> String {
    p.ok(&["exec", "-T", "client", "sh", "-c", "nc -w 2 web 8080"])
}

#[test]
fn supervisor_killed_then_ps_up_and_down_still_work() {
    if !can_run_containers() {
        return;
    }
    isolated("supervisor_killed_then_ps_up_and_down_still_work", || {
        let p = Project::new(WEB);
        p.ok(&["up", "-d", "--wait"]);
        assert_eq!(by_name(&p), "pong\n");
        assert_eq!(ask(18181).as_deref(), Some("pong\n"));
        let ids = p.ok(&["ps", "-q"]);

        let first = supervisor_pid(&p, "life");
        sigkill(first);
        // The containers run on and every command works from disk.
        let ps = p.ok(&["ps"]);
        assert_eq!(ps.lines().count(), 3, "{ps}");
        assert!(ps.contains("life-web-1") && ps.contains("Up"), "{ps}");
        assert_eq!(p.ok(&["logs", "--no-log-prefix", "web"]), "");
        assert_eq!(p.ok(&["exec", "-T", "web", "echo", "still"]), "still\n");

        // `up` adopts what runs: nothing recreated, a new supervisor serves
        // the names and the published port again.
        let out = p.berth(&["up", "-d", "--wait"]);
        assert!(out.status.success(), "{}", support::stderr(&out));
        assert_eq!(p.ok(&["ps", "-q"]), ids, "nothing recreated");
        let second = supervisor_pid(&p, "life");
        assert_ne!(first, second);
        assert!(alive(second));
        assert_eq!(by_name(&p), "pong\n");
        assert_eq!(ask(18181).as_deref(), Some("pong\n"));

        // Killed again, `down` still removes everything.
        sigkill(second);
        p.ok(&["down", "-t", "0"]);
        assert_eq!(p.ok(&["ps", "-a", "-q"]), "");
        assert_eq!(bridges(), Vec::<String>::new());
        assert!(ask(18181).is_none(), "port released");
    });
}

#[test]
fn concurrent_ups_serialize_into_one_project() {
    if !can_run_containers() {
        return;
    }
    isolated("concurrent_ups_serialize_into_one_project", || {
        let p = Project::new(WEB);
        let args = ["up", "-d", "--scale", "client=2"];
        let outputs: Vec<_> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..2).map(|_| scope.spawn(|| p.berth(&args))).collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        for out in &outputs {
            assert!(out.status.success(), "{}", support::stderr(out));
        }
        let ps = p.ok(&["ps", "-a", "--format", "{{.Name}}"]);
        let mut names: Vec<&str> = ps.lines().collect();
        names.sort();
        assert_eq!(
            names,
            ["life-client-1", "life-client-2", "life-web-1"],
            "{ps}"
        );
        // One of them made everything; the other found nothing to do.
        let created: usize = outputs
            .iter()
            .map(|o| support::stderr(o).matches("  Created").count())
            .sum();
        assert_eq!(created, 4, "a network and three containers, once");
        p.ok(&["down", "-t", "0"]);
    });
}

#[test]
fn orphans_scaling_and_a_no_op_up() {
    if !can_run_containers() {
        return;
    }
    isolated("orphans_scaling_and_a_no_op_up", || {
        let p = Project::new(WEB);
        p.ok(&["up", "-d", "--scale", "client=3"]);
        assert_eq!(p.ok(&["ps", "-q", "client"]).lines().count(), 3);

        // Nothing changed: nothing done, quickly.
        let started = Instant::now();
        let out = p.berth(&["up", "-d", "--scale", "client=3"]);
        let took = started.elapsed();
        let progress = support::stderr(&out);
        assert!(out.status.success(), "{progress}");
        for verb in ["Created", "Started", "Removed", "Recreated"] {
            assert!(!progress.contains(verb), "{progress}");
        }
        assert!(took < Duration::from_secs(2), "no-op up took {took:?}");

        // Scale down to one: the highest numbers go.
        p.ok(&["up", "-d", "--scale", "client=1"]);
        let ps = p.ok(&["ps", "--format", "{{.Name}}"]);
        assert!(ps.contains("life-client-1"), "{ps}");
        assert!(!ps.contains("life-client-2") && !ps.contains("life-client-3"));

        // `client` leaves the file: reported as an orphan, kept until
        // --remove-orphans.
        p.write(&WEB.replace(
            "  client:\n    image: berth.test/busybox:latest\n    command: [sleep, '600']\n    stop_signal: SIGKILL\n",
            "",
        ));
        let out = p.berth(&["up", "-d"]);
        let err = support::stderr(&out);
        assert!(out.status.success(), "{err}");
        assert!(err.contains("orphan container life-client-1"), "{err}");
        assert!(err.contains("--remove-orphans"), "{err}");
        assert!(p.ok(&["ps", "-a"]).contains("life-client-1"));
        p.ok(&["up", "-d", "--remove-orphans"]);
        let ps = p.ok(&["ps", "-a", "--format", "{{.Name}}"]);
        assert_eq!(ps, "life-web-1\n");
        p.ok(&["down", "-t", "0"]);
    });
}

#[test]
fn run_makes_one_off_containers() {
    if !can_run_containers() {
        return;
    }
    isolated("run_makes_one_off_containers", || {
        let compose = "name: once
services:
  db:
    image: berth.test/busybox:latest
    command: [sh, -c, 'nc -ll -p 5432 -e echo dbdata']
    stop_signal: SIGKILL
  app:
    image: berth.test/busybox:latest
    depends_on: [db]
    command: [echo, default-command]
    environment: {A: from-file}
    ports: ['127.0.0.1:18282:80']
    volumes: [/scratch]
";
        let p = Project::new(compose);
        // The dependency comes up first; the service's command by default.
        assert_eq!(p.ok(&["run", "--rm", "app"]), "default-command\n");
        assert_eq!(p.ok(&["ps", "--services"]), "db\n");

        // A command, -e, the dependency by name, and its exit code.
        let out = p.berth(&[
            "run",
            "--rm",
            "-T",
            "-e",
            "B=cli",
            "app",
            "sh",
            "-c",
            "echo $A $B; nc -w 2 db 5432; echo oops >&2; exit 3",
        ]);
        assert_eq!(out.status.code(), Some(3), "{}", support::stderr(&out));
        assert_eq!(support::stdout(&out), "from-file cli\ndbdata\n");
        assert!(support::stderr(&out).contains("oops"));
        // Ports are not published by a run; -v after the service is the
        // command's own.
        assert!(
            std::net::TcpListener::bind("127.0.0.1:18282").is_ok(),
            "service ports are left alone"
        );
        assert_eq!(p.ok(&["run", "--rm", "app", "echo", "-v", "-p"]), "-v -p\n");

        // stdin reaches the container and its end ends the container's input.
        let mut child = p
            .command(&["run", "--rm", "-T", "app", "sh", "-c", "cat; echo after"])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        {
            use std::io::Write;
            let mut stdin = child.stdin.take().unwrap();
            stdin.write_all(b"through stdin\n").unwrap();
        }
        let out = child.wait_with_output().unwrap();
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            "through stdin\nafter\n"
        );

        // --rm leaves no container and no anonymous volume behind; -d and
        // --name keep one, labelled as a one-off and removed by down.
        assert_eq!(p.ok(&["volume", "ls", "-q"]), "");
        assert_eq!(
            p.ok(&["run", "-d", "--name", "side", "app", "sleep", "30"]),
            "side\n"
        );
        let all = p.ok(&["ps", "-a", "--format", "{{.Name}} {{.Service}}"]);
        assert_eq!(all, "once-db-1 db\nside app\n");
        // In a project, `images` lists what its containers use.
        let images = p.ok(&["images"]);
        let lines: Vec<&str> = images.lines().collect();
        assert!(lines[0].starts_with("CONTAINER"), "{images}");
        assert!(lines[1].starts_with("once-db-1") && lines[1].contains("berth.test/busybox"));
        assert!(lines[2].starts_with("side"), "{images}");
        p.ok(&["down", "-t", "0"]);
        assert_eq!(p.ok(&["ps", "-a", "-q"]), "");
    });
}

#[test]
fn create_pause_top_ls_and_wait() {
    if !can_run_containers() {
        return;
    }
    isolated("create_pause_top_ls_and_wait", || {
        let compose = "name: ops
services:
  ticker:
    image: berth.test/busybox:latest
    command: [sh, -c, 'i=0; while :; do i=$$((i+1)); echo $$i > /tmp/tick; sleep 0.05; done']
    stop_signal: SIGKILL
  job:
    image: berth.test/busybox:latest
    command: [sh, -c, 'sleep 1; exit 5']
";
        let p = Project::new(compose);
        // create: containers exist, nothing runs.
        p.ok(&["create"]);
        let all = p.ok(&["ps", "-a", "--format", "{{.Name}} {{.State}}"]);
        assert_eq!(all, "ops-job-1 created\nops-ticker-1 created\n");
        assert_eq!(p.ok(&["ls"]).lines().count(), 1, "no running project yet");
        assert!(p.ok(&["ls", "-a"]).contains("created(2)"));

        let events = p
            .command(&["events", "--json"])
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(300));
        p.ok(&["up", "-d"]);
        let ls = p.ok(&["ls"]);
        assert!(ls.starts_with("NAME"), "{ls}");
        assert!(ls.contains("ops ") && ls.contains("running(2)"), "{ls}");
        assert!(ls.contains("compose.yaml"), "{ls}");
        assert_eq!(p.ok(&["ls", "-q"]), "ops\n");

        // top: the ticker's processes.
        let top = p.ok(&["top", "ticker"]);
        assert!(top.starts_with("ops-ticker-1\nUID"), "{top}");
        assert!(top.contains("while :"), "{top}");

        // pause freezes: the file stops changing; unpause resumes.
        let tick = || p.ok(&["exec", "-T", "ticker", "cat", "/tmp/tick"]);
        p.ok(&["pause", "ticker"]);
        std::thread::sleep(Duration::from_millis(200));
        let ps = p.ok(&["ps", "--format", "{{.Name}} {{.State}} {{.Status}}"]);
        assert!(ps.contains("ops-ticker-1 paused Up"), "{ps}");
        assert!(ps.contains("(Paused)"), "{ps}");
        p.ok(&["unpause", "ticker"]);
        std::thread::sleep(Duration::from_millis(200));
        let before = tick();
        std::thread::sleep(Duration::from_millis(300));
        assert_ne!(tick(), before, "running again");
        // wait: the job's exit code.
        let out = p.berth(&["wait", "job"]);
        assert_eq!(support::stdout(&out), "5\n");
        assert_eq!(out.status.code(), Some(5));
        // A paused project still comes down.
        p.ok(&["pause"]);
        p.ok(&["down", "-t", "1"]);
        std::thread::sleep(Duration::from_millis(300));
        nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(events.id() as i32),
            nix::sys::signal::Signal::SIGTERM,
        )
        .unwrap();
        let events = support::stdout(&events.wait_with_output().unwrap());
        let seen = |service: &str, action: &str| {
            events.lines().any(|line| {
                let event: serde_json::Value = serde_json::from_str(line).unwrap();
                event["service"] == service && event["action"] == action
            })
        };
        for action in ["start", "pause", "unpause", "die", "destroy"] {
            assert!(seen("ticker", action), "ticker {action}: {events}");
        }
        assert!(seen("job", "die"), "{events}");
        assert_eq!(p.ok(&["ps", "-a", "-q"]), "");
        assert_eq!(p.ok(&["ls", "-a", "-q"]), "");
    });
}

#[test]
fn wait_tolerates_recovery_and_reports_each_failure() {
    if !can_run_containers() {
        return;
    }
    isolated("wait_tolerates_recovery_and_reports_each_failure", || {
        let compose = "name: ci
services:
  flaky:
    image: berth.test/busybox:latest
    restart: on-failure
    stop_signal: SIGKILL
    command: [sh, -c, 'test -f /tmp/once || { touch /tmp/once; echo first try fails; exit 1; }; sleep 60']
  slow:
    image: berth.test/busybox:latest
    stop_signal: SIGKILL
    command: [sh, -c, 'echo warming up; sleep 60']
    healthcheck:
      test: [CMD-SHELL, 'echo not yet; exit 1']
      interval: 200ms
      start_period: 60s
      start_interval: 200ms
";
        let p = Project::new(compose);
        // flaky fails once and recovers under its restart policy: success.
        let out = p.berth(&["up", "-d", "--wait", "--wait-timeout", "20", "flaky"]);
        assert!(out.status.success(), "{}", support::stderr(&out));
        // It did fail once (`--wait` may have answered while the first
        // try was still running: it is running, the policy restarts it).
        p.wait_for_logs("flaky", |logs| logs.contains("first try fails"));

        // slow never becomes healthy within the timeout: named, with its
        // last check and its logs.
        let out = p.berth(&["up", "-d", "--wait", "--wait-timeout", "2"]);
        let err = support::stderr(&out);
        assert!(!out.status.success());
        assert!(err.contains("timed out waiting"), "{err}");
        assert!(
            err.contains("container ci-slow-1 is still starting"),
            "{err}"
        );
        assert!(err.contains("not yet"), "{err}");
        assert!(err.contains("    warming up"), "{err}");
        let report = &err[err.find("timed out waiting").unwrap()..];
        assert!(!report.contains("ci-flaky-1"), "flaky is fine: {err}");
        p.ok(&["down", "-t", "0"]);
    });
}

#[test]
fn ctrl_c_stops_a_foreground_up_gracefully() {
    if !can_run_containers() {
        return;
    }
    isolated("ctrl_c_stops_a_foreground_up_gracefully", || {
        let compose = "name: fg
services:
  web:
    image: berth.test/busybox:latest
    command: [sh, -c, 'trap \"echo got TERM; exit 0\" TERM; echo ready; sleep 60 & wait']
";
        let p = Project::new(compose);
        let child = p
            .command(&["--progress", "json", "up"])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        while !p.ok(&["logs", "web"]).contains("ready") {
            assert!(Instant::now() < deadline, "web never became ready");
            std::thread::sleep(Duration::from_millis(50));
        }
        nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(child.id() as i32),
            nix::sys::signal::Signal::SIGINT,
        )
        .unwrap();
        let out = child.wait_with_output().unwrap();
        let (stdout, stderr) = (support::stdout(&out), support::stderr(&out));
        assert_eq!(out.status.code(), Some(130), "{stdout}{stderr}");
        assert!(stdout.contains("web-1  | ready"), "{stdout}");
        // Gracefully: the container's own TERM handler ran.
        assert!(stdout.contains("web-1  | got TERM"), "{stdout}");
        assert!(stderr.contains("Gracefully stopping"), "{stderr}");
        assert!(
            stderr.contains(r#"{"id":"Container fg-web-1","status":"Stopped"}"#),
            "{stderr}"
        );
        assert_eq!(p.ok(&["ps", "-q"]), "", "stopped");
        assert_eq!(p.ok(&["ps", "-a", "-q"]).lines().count(), 1, "kept");
        // logs --since / --until windows.
        assert!(p.ok(&["logs", "--since", "10m", "web"]).contains("ready"));
        assert_eq!(p.ok(&["logs", "--until", "2000-01-01", "web"]), "");
        assert_eq!(
            p.ok(&["logs", "--since", "2099-01-01T00:00:00Z", "web"]),
            ""
        );
        p.ok(&["down"]);
    });
}
