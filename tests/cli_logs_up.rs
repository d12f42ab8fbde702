//! The daily habits of a docker compose user around output: `logs -f --tail`
//! and following containers that appear later, a foreground `up` stopped with
//! Ctrl-C (dependents first; a second Ctrl-C kills), `attach: false`, and an
//! `up` whose output pipe closes halfway through a recreate.

mod support;

use std::io::BufRead;
use std::process::{Child, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use support::containers::{can_run_containers, isolated};
use support::project::Project;

/// What a child prints on stdout, collected as it comes.
struct Output {
    text: Arc<Mutex<String>>,
}

impl Output {
    fn of(child: &mut Child) -> Output {
        let text = Arc::new(Mutex::new(String::new()));
        let stdout = child.stdout.take().unwrap();
        let sink = text.clone();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                let mut text = sink.lock().unwrap();
                text.push_str(&line);
                text.push('\n');
            }
        });
        Output { text }
    }

    fn now(&self) -> String {
        self.text.lock().unwrap().clone()
    }

    /// Waits (at most 20 s) until `done` holds for what was printed.
    fn wait_for(&self, what: &str, done: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let text = self.now();
            if done(&text) {
                return text;
            }
            assert!(Instant::now() < deadline, "never got {what}:\n{text}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

fn sigint(child: &Child) {
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGINT,
    )
    .unwrap();
}

/// Waits (at most `limit`) for the child to end; kills it and fails if not.
fn wait_within(mut child: Child, limit: Duration) -> std::process::ExitStatus {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("still running after {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

const COUNTER: &str = "name: tail
services:
  web:
    image: berth.test/busybox:latest
    command: [sh, -c, 'for i in $$(seq 1 20); do echo line $$i; done; until [ -e /tmp/go ]; do sleep 0.1; done; echo after; sleep 600']
    stop_signal: SIGKILL
";

#[test]
fn logs_follow_tails_then_follows_new_lines_and_new_containers() {
    if !can_run_containers() {
        return;
    }
    isolated(
        "logs_follow_tails_then_follows_new_lines_and_new_containers",
        || {
            let p = Project::new(COUNTER);
            p.ok(&["up", "-d"]);
            p.wait_for_logs("web", |logs| logs.contains("line 20"));
            let mut child = p
                .command(&["logs", "-f", "--tail", "3"])
                .stdout(Stdio::piped())
                .spawn()
                .unwrap();
            let out = Output::of(&mut child);
            let first = out.wait_for("the tail", |t| t.lines().count() >= 3);
            assert_eq!(
                first, "web-1  | line 18\nweb-1  | line 19\nweb-1  | line 20\n",
                "exactly the last 3 lines, prefixed as docker compose does"
            );
            p.ok(&["exec", "-T", "web", "touch", "/tmp/go"]);
            out.wait_for("the new line", |t| t.contains("web-1  | after"));
            // A container made after `logs -f` started is followed too.
            p.ok(&["up", "-d", "--scale", "web=2"]);
            out.wait_for("web-2's lines", |t| t.contains("web-2  | line 20"));
            // So is the new container of a recreate.
            p.ok(&[
                "up",
                "-d",
                "--force-recreate",
                "-t",
                "0",
                "--scale",
                "web=2",
            ]);
            out.wait_for("the recreated web-1's lines", |t| {
                t.contains("web-1  | line 1\n")
            });
            p.ok(&["down", "-t", "0"]);
            // Nothing left to follow: it ends on its own.
            let status = wait_within(child, Duration::from_secs(15));
            assert!(status.success(), "{status}");
            // --index picks one replica; --tail 0 prints nothing.
            p.ok(&["up", "-d", "--scale", "web=2"]);
            p.wait_for_logs("web", |logs| logs.matches("line 20").count() == 2);
            let second = p.ok(&["logs", "--index", "2", "--tail", "1", "web"]);
            assert_eq!(second, "web-2  | line 20\n");
            assert_eq!(p.ok(&["logs", "--tail", "0"]), "");
            p.ok(&["down", "-t", "0"]);
        },
    );
}

const ORDERED: &str = "name: order
services:
  db:
    image: berth.test/busybox:latest
    command: [sh, -c, 'trap \"echo db >> /shared/order; exit 0\" TERM; echo db ready; sleep 600 & wait']
    volumes: [shared:/shared]
  web:
    image: berth.test/busybox:latest
    depends_on: [db]
    command: [sh, -c, 'trap \"sleep 1; echo web >> /shared/order; exit 0\" TERM; echo web ready; sleep 600 & wait']
    volumes: [shared:/shared]
  noisy:
    image: berth.test/busybox:latest
    attach: false
    command: [sh, -c, 'echo hidden line; sleep 600']
    stop_signal: SIGKILL
volumes:
  shared: {}
";

#[test]
fn foreground_up_stops_dependents_first_and_leaves_out_unattached_services() {
    if !can_run_containers() {
        return;
    }
    isolated(
        "foreground_up_stops_dependents_first_and_leaves_out_unattached_services",
        || {
            let p = Project::new(ORDERED);
            let mut child = p
                .command(&["up"])
                .stdout(Stdio::piped())
                .stderr(Stdio::null())
                .spawn()
                .unwrap();
            let out = Output::of(&mut child);
            out.wait_for("both ready", |t| {
                t.contains("web-1  | web ready") && t.contains("db-1   | db ready")
            });
            p.wait_for_logs("noisy", |logs| logs.contains("hidden line"));
            sigint(&child);
            let status = wait_within(child, Duration::from_secs(30));
            assert_eq!(status.code(), Some(130));
            let text = out.now();
            assert!(!text.contains("hidden line"), "attach: false: {text}");
            // web's trap takes a second: db stopping alongside would come first.
            let (_, order) = read_order(&p);
            assert_eq!(order, "web\ndb\n", "dependents stop first");
            p.ok(&["down", "-t", "0"]);
        },
    );
}

/// The stop order the services wrote to their shared volume.
fn read_order(p: &Project) -> (i32, String) {
    p.ok(&["up", "-d", "db"]);
    let out = p.berth(&["exec", "-T", "db", "cat", "/shared/order"]);
    (out.status.code().unwrap_or(-1), support::stdout(&out))
}

#[test]
fn a_second_ctrl_c_kills_at_once() {
    if !can_run_containers() {
        return;
    }
    isolated("a_second_ctrl_c_kills_at_once", || {
        let p = Project::new(
            "name: stubborn
services:
  mule:
    image: berth.test/busybox:latest
    command: [sh, -c, 'trap \"\" TERM; echo ignoring TERM; while true; do sleep 1; done']
    stop_grace_period: 2m
",
        );
        let mut child = p
            .command(&["up"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let out = Output::of(&mut child);
        out.wait_for("the service", |t| t.contains("ignoring TERM"));
        sigint(&child);
        // The graceful stop has begun: it would take two minutes.
        std::thread::sleep(Duration::from_millis(1500));
        assert!(child.try_wait().unwrap().is_none(), "still stopping");
        let pressed = Instant::now();
        sigint(&child);
        let status = wait_within(child, Duration::from_secs(20));
        assert_eq!(status.code(), Some(130));
        assert!(pressed.elapsed() < Duration::from_secs(10));
        assert_eq!(p.ok(&["ps", "-q"]), "", "killed");
        p.ok(&["down", "-t", "0"]);
    });
}

#[test]
fn a_closed_pipe_leaves_no_half_done_recreate() {
    if !can_run_containers() {
        return;
    }
    isolated("a_closed_pipe_leaves_no_half_done_recreate", || {
        let p = Project::new(
            "name: pipe
services:
  a:
    image: berth.test/busybox:latest
    command: [sh, -c, 'echo a up; sleep 600']
    stop_signal: SIGKILL
",
        );
        p.ok(&["up", "-d"]);
        // `berth up --force-recreate 2>&1 | head -N`: the pipe closes after
        // N progress lines, at each point of the recreate in turn.
        for lines in 1..=10 {
            let berth = p.command(&["up", "-d", "--force-recreate", "-t", "0"]);
            let mut script = format!("'{}'", berth.get_program().to_string_lossy());
            for arg in berth.get_args() {
                script.push_str(&format!(" '{}'", arg.to_string_lossy()));
            }
            script.push_str(&format!(" 2>&1 | head -{lines}"));
            let mut shell = std::process::Command::new("sh");
            shell.arg("-c").arg(script);
            for (key, value) in berth.get_envs() {
                if let Some(value) = value {
                    shell.env(key, value);
                }
            }
            let child = shell.stdout(Stdio::null()).spawn().unwrap();
            wait_within(child, Duration::from_secs(60));
            p.ok(&["up", "-d"]);
            let names = p.ok(&["ps", "-a", "--format", "{{.Name}} {{.State}}"]);
            assert_eq!(names, "pipe-a-1 running\n", "cut after {lines} lines");
        }
        p.ok(&["down", "-t", "0"]);
    });
}
