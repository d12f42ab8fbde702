//! Lifecycle hooks and legacy links through a compose file, end to end:
//! `post_start` output in `berth logs` with the hook's user, working
//! directory and environment; a failing `post_start` failing `up` and
//! `start`; `pre_stop` running before the stop signal on `stop`, `restart`,
//! a recreate and `down`; a failing or hanging `pre_stop` only warned
//! about; `links` aliases that only the linking container resolves; and
//! `external_links` to another project's container.

mod support;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use support::containers::{can_run_containers, isolated};
use support::project::Project;

/// `berth logs --no-log-prefix SERVICE` (stdout and stderr lines).
fn logs(p: &Project, service: &str) -> String {
    p.ok(&["logs", "--no-log-prefix", service])
}

/// Waits until the logs of `service` contain `text`.
fn wait_for_log(p: &Project, service: &str, text: &str) -> String {
    p.wait_for_logs(service, |logs| logs.contains(text))
}

/// The address of `container` on `network`, from the runtime's records.
fn address_of(root: &Path, container: &str, network: &str) -> String {
    let runtime =
        berth_runtime::container::Runtime::with_helper(root, support::containers::berth_bin());
    let record = runtime.lookup(container).unwrap();
    record
        .spec
        .endpoints
        .iter()
        .find(|e| e.network == network)
        .unwrap_or_else(|| panic!("{container} is not on {network}"))
        .address
        .to_string()
}

const POST_START: &str = "name: hooked
services:
  web:
    image: berth.test/busybox:latest
    command: [sh, -c, 'echo main program up; exec sleep 600']
    stop_signal: SIGKILL
    environment:
      FROM_SERVICE: service-value
      SHARED: from-service
    post_start:
      - command: [sh, -c, 'echo \"hook uid=$(id -u) pwd=$(pwd) var=$$HOOK_VAR svc=$$FROM_SERVICE shared=$$SHARED\"; echo hook-on-stderr >&2']
        user: '1000'
        working_dir: /home/app
        environment:
          HOOK_VAR: hook-value
          SHARED: from-hook
      - command: [sh, -c, 'echo second hook as $(id -un) in $(pwd); grep CapEff /proc/self/status']
      - command: [sh, -c, 'echo privileged hook; grep CapEff /proc/self/status']
        privileged: true
  console:
    image: berth.test/busybox:latest
    tty: true
    init: true
    command: [sleep, '600']
    stop_signal: SIGKILL
    post_start:
      - command: [echo, hook through the pty]
";

#[test]
fn post_start_output_is_in_the_logs_with_its_user_dir_and_environment() {
    if !can_run_containers() {
        return;
    }
    isolated(
        "post_start_output_is_in_the_logs_with_its_user_dir_and_environment",
        || {
            let p = Project::new(POST_START);
            p.ok(&["up", "-d"]);
            // The hooks have run when `up` returns: their lines are logged.
            // (Without the program's own line, which may come anywhere.)
            let out = logs(&p, "web").replace("main program up\n", "");
            assert!(
                out.contains(
                    "hook uid=1000 pwd=/home/app var=hook-value svc=service-value shared=from-hook\n"
                ),
                "{out}"
            );
            assert!(out.contains("hook-on-stderr\n"), "{out}");
            // Without user/working_dir: the container's own (root, /), with
            // Docker's default capabilities; `privileged` gives it them all.
            assert!(
                out.contains("second hook as root in /\nCapEff:\t00000000a80425fb\n"),
                "{out}"
            );
            let privileged = out
                .split("privileged hook\n")
                .nth(1)
                .and_then(|rest| rest.lines().next())
                .unwrap_or_default();
            assert!(
                privileged.starts_with("CapEff:") && !privileged.ends_with("00000000a80425fb"),
                "{out}"
            );
            assert!(
                wait_for_log(&p, "web", "main program up").contains("main program up\n"),
                "the program's own output is in the same log"
            );
            // The hook's stderr line is logged as the container's stderr.
            let runtime = berth_runtime::container::Runtime::with_helper(
                &p.root,
                support::containers::berth_bin(),
            );
            let mut streams = Vec::new();
            runtime
                .logs("hooked-web-1", false, |r| {
                    streams.push((r.stream, r.log.clone()));
                    true
                })
                .unwrap();
            assert!(
                streams.contains(&(
                    berth_runtime::container::Stream::Stderr,
                    "hook-on-stderr\n".to_string()
                )),
                "{streams:?}"
            );
            // A container on a pty (behind berth's init) logs its hooks too.
            let console = logs(&p, "console");
            assert!(console.contains("hook through the pty"), "{console:?}");
            // `restart` runs them again.
            p.ok(&["restart", "web"]);
            let out = logs(&p, "web");
            assert_eq!(out.matches("second hook as root").count(), 2, "{out}");
            p.ok(&["down"]);
        },
    );
}

const FAILING: &str = "name: failing
services:
  bad:
    image: berth.test/busybox:latest
    command: [sleep, '600']
    stop_signal: SIGKILL
    post_start:
      - command: [sh, -c, 'echo first hook fine']
      - command: [sh, -c, 'echo second hook fails; exit 3']
  after:
    image: berth.test/busybox:latest
    command: [sleep, '600']
    stop_signal: SIGKILL
    depends_on: [bad]
";

#[test]
fn a_failing_post_start_fails_up_and_start() {
    if !can_run_containers() {
        return;
    }
    isolated("a_failing_post_start_fails_up_and_start", || {
        let p = Project::new(FAILING);
        let up = p.berth(&["up", "-d"]);
        let err = support::stderr(&up);
        assert_eq!(up.status.code(), Some(1), "{err}");
        for fact in [
            "service bad",
            "failing-bad-1",
            "post_start[1]",
            "exit 3",
            "exited with code 3",
        ] {
            assert!(err.contains(fact), "{fact:?} missing from:\n{err}");
        }
        // As with docker compose, the container runs on; what depends on it
        // is not started.
        p.ok(&["exec", "-T", "bad", "true"]);
        let running = p.ok(&["ps", "--format", "{{.Service}} {{.State}}"]);
        assert!(running.contains("bad running"), "{running}");
        assert!(!running.contains("after running"), "{running}");
        let out = logs(&p, "bad");
        assert!(
            out.contains("first hook fine\nsecond hook fails\n"),
            "{out}"
        );

        // A hook that cannot be run at all fails `start` the same way.
        p.write(&FAILING.replace("'echo second hook fails; exit 3'", "'exec /no/such/hook'"));
        p.ok(&["up", "-d", "--no-start", "--force-recreate", "bad"]);
        let start = p.berth(&["start", "bad"]);
        let err = support::stderr(&start);
        assert!(!start.status.success(), "{err}");
        assert!(
            err.contains("post_start[1]") && err.contains("exited with code 127"),
            "{err}"
        );
        p.ok(&["down"]);
    });
}

/// The main process records, when the stop signal reaches it, whether the
/// pre_stop hook's marker already exists; the hook logs a line and leaves
/// the marker (removed again after each stop).
const PRE_STOP: &str = "name: stopping
services:
  app:
    image: berth.test/busybox:latest
    stop_grace_period: 5s
    volumes: ['./shared:/shared']
    environment: {ROUND: '1'}
    command:
      - sh
      - -c
      - >-
        trap 'if [ -e /shared/hooked ]; then echo before >> /shared/order; else echo after >> /shared/order; fi; exit 0' TERM;
        echo app running;
        while true; do sleep 0.1; done
    pre_stop:
      - command: [sh, -c, 'echo pre_stop hook ran; touch /shared/hooked']
";

fn order(dir: &Path) -> Vec<String> {
    std::fs::read_to_string(dir.join("order"))
        .unwrap_or_default()
        .lines()
        .map(str::to_string)
        .collect()
}

/// Waits until the app has logged its start `times` times (its TERM trap
/// is set from then on).
fn wait_for_runs(p: &Project, times: usize) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while logs(p, "app").matches("app running").count() < times {
        assert!(Instant::now() < deadline, "app did not start {times} times");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Removes the hook's marker so the next stop proves itself again.
fn reset_marker(dir: &Path) {
    let _ = std::fs::remove_file(dir.join("hooked"));
}

#[test]
fn pre_stop_runs_before_the_stop_signal_on_every_stop() {
    if !can_run_containers() {
        return;
    }
    isolated("pre_stop_runs_before_the_stop_signal_on_every_stop", || {
        let p = Project::new(PRE_STOP);
        let shared: PathBuf = p.dir.join("shared");
        p.ok(&["up", "-d"]);
        wait_for_runs(&p, 1);

        p.ok(&["stop", "app"]);
        assert_eq!(order(&shared), ["before"], "stop");
        reset_marker(&shared);
        let out = logs(&p, "app");
        assert!(out.contains("pre_stop hook ran\n"), "{out}");

        p.ok(&["start", "app"]);
        wait_for_runs(&p, 2);
        p.ok(&["restart", "app"]);
        assert_eq!(order(&shared), ["before", "before"], "restart");
        reset_marker(&shared);
        wait_for_runs(&p, 3);

        // A changed configuration: `up` recreates the container, stopping
        // the old one through its hook.
        p.write(&PRE_STOP.replace("ROUND: '1'", "ROUND: '2'"));
        p.ok(&["up", "-d"]);
        assert_eq!(order(&shared), ["before", "before", "before"], "recreate");
        reset_marker(&shared);

        // Ctrl-C of a foreground `up` (attached to the running container).
        wait_for_runs(&p, 1);
        let mut child = p
            .command(&["up"])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdout = std::io::BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        while !line.contains("app running") {
            line.clear();
            let read = std::io::BufRead::read_line(&mut stdout, &mut line).unwrap();
            assert!(read > 0, "foreground up ended before attaching");
        }
        nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(child.id() as i32),
            nix::sys::signal::Signal::SIGINT,
        )
        .unwrap();
        let out = child.wait_with_output().unwrap();
        assert_eq!(out.status.code(), Some(130), "{}", support::stderr(&out));
        assert_eq!(order(&shared), ["before"; 4], "Ctrl-C");
        reset_marker(&shared);

        p.ok(&["up", "-d"]);
        wait_for_runs(&p, 2);
        p.ok(&["down"]);
        assert_eq!(order(&shared), ["before"; 5], "down");
    });
}

const PRE_STOP_FAILURES: &str = "name: warned
services:
  flaky:
    image: berth.test/busybox:latest
    command: [sleep, '600']
    stop_signal: SIGKILL
    pre_stop:
      - command: [sh, -c, 'echo flaky hook; exit 5']
  stuck:
    image: berth.test/busybox:latest
    command: [sleep, '600']
    stop_signal: SIGKILL
    stop_grace_period: 1s
    pre_stop:
      - command: [sleep, '600']
  quitter:
    image: berth.test/busybox:latest
    restart: always
    command: [sh, -c, 'trap \"exit 0\" USR1; while true; do sleep 0.1; done']
    pre_stop:
      # Ends the program itself: the stop is still one on purpose.
      - command: [sh, -c, 'kill -USR1 1; sleep 5']
  frozen:
    image: berth.test/busybox:latest
    command: [sleep, '600']
    stop_signal: SIGKILL
    pre_stop:
      - command: [echo, frozen hook ran]
";

#[test]
fn a_failing_or_hanging_pre_stop_is_a_warning_and_the_stop_goes_on() {
    if !can_run_containers() {
        return;
    }
    isolated(
        "a_failing_or_hanging_pre_stop_is_a_warning_and_the_stop_goes_on",
        || {
            let p = Project::new(PRE_STOP_FAILURES);
            p.ok(&["up", "-d"]);
            p.ok(&["pause", "frozen"]);
            let begun = Instant::now();
            let stop = p.berth(&["stop"]);
            let took = begun.elapsed();
            let err = support::stderr(&stop);
            assert!(stop.status.success(), "{err}");
            assert!(
                err.contains("warning: service flaky, container warned-flaky-1: pre_stop[0]")
                    && err.contains("exited with code 5"),
                "{err}"
            );
            // The hanging hook had the grace period (1 s), not forever.
            assert!(
                err.contains(
                    "warned-stuck-1: pre_stop[0] hook (sleep 600) did not finish within 1s"
                ),
                "{err}"
            );
            assert!(took < Duration::from_secs(8), "stop took {took:?}");
            // A hook that ends the program itself is no failure.
            assert!(!err.contains("quitter-1: pre_stop"), "{err}");
            // Longer than a restart policy's first delay.
            std::thread::sleep(Duration::from_millis(1500));
            let states = p.ok(&["ps", "-a", "--format", "{{.Service}} {{.State}}"]);
            for service in ["flaky", "stuck", "quitter", "frozen"] {
                assert!(
                    states.contains(&format!("{service} exited")),
                    "{service}: {states}"
                );
            }
            assert!(logs(&p, "flaky").contains("flaky hook\n"));
            // A paused container is thawed for its hook.
            assert!(logs(&p, "frozen").contains("frozen hook ran\n"));
            p.ok(&["down"]);
        },
    );
}

const LINKS: &str = "name: linked
services:
  db:
    image: berth.test/busybox:latest
    command: [sleep, '600']
    stop_signal: SIGKILL
  web:
    image: berth.test/busybox:latest
    command: [sleep, '600']
    stop_signal: SIGKILL
    links: ['db:database', cache]
  cache:
    image: berth.test/busybox:latest
    command: [sleep, '600']
    stop_signal: SIGKILL
  bystander:
    image: berth.test/busybox:latest
    command: [sleep, '600']
    stop_signal: SIGKILL
    # Names it does not know are forwarded here: nothing listens.
    dns: [127.0.0.1]
  island:
    image: berth.test/busybox:latest
    command: [sleep, '600']
    stop_signal: SIGKILL
    links: ['db:database']
    networks: [elsewhere]
networks:
  elsewhere: {}
";

#[test]
fn a_links_alias_resolves_in_the_linking_container() {
    if !can_run_containers() {
        return;
    }
    isolated("a_links_alias_resolves_in_the_linking_container", || {
        let p = Project::new(LINKS);
        // `up web` brings its linked services up first.
        p.ok(&["up", "-d", "web"]);
        let running = p.ok(&["ps", "--format", "{{.Service}}"]);
        assert!(
            running.contains("db") && running.contains("cache"),
            "{running}"
        );
        let db = address_of(&p.root, "linked-db-1", "linked_default");
        assert_eq!(p.lookup("web", "database"), std::slice::from_ref(&db));
        assert_eq!(p.lookup("web", "cache").len(), 1);
        let ping = p.berth(&["exec", "-T", "web", "ping", "-c1", "-W2", "database"]);
        assert!(
            ping.status.success(),
            "{}{}",
            support::stdout(&ping),
            support::stderr(&ping)
        );
        // As with Docker, a link's alias is the linking container's alone.
        p.ok(&["up", "-d", "bystander"]);
        assert_eq!(p.lookup("bystander", "database"), Vec::<String>::new());
        assert_eq!(p.lookup("bystander", "db"), [db]);
        // A link to a service on no network of its own: a warning.
        let up = p.berth(&["up", "-d", "island"]);
        let err = support::stderr(&up);
        assert!(up.status.success(), "{err}");
        assert!(
            err.contains("warning: service island: links db: the services share no network"),
            "{err}"
        );
        p.ok(&["down"]);
    });
}

const EXTERNAL_TARGET: &str = "name: alpha
services:
  store:
    image: berth.test/busybox:latest
    command: [sleep, '600']
    stop_signal: SIGKILL
";

const EXTERNAL_LINKER: &str = "name: beta
services:
  client:
    image: berth.test/busybox:latest
    command: [sleep, '600']
    stop_signal: SIGKILL
    external_links: ['alpha-store-1:legacy-store', 'alpha-store-1', 'ghost-1']
    networks: [default, shared]
networks:
  shared:
    name: alpha_default
    external: true
";

#[test]
fn an_external_link_resolves_another_projects_container() {
    if !can_run_containers() {
        return;
    }
    isolated(
        "an_external_link_resolves_another_projects_container",
        || {
            let p = Project::new(EXTERNAL_TARGET);
            p.ok(&["up", "-d"]);
            let second = p.dir.parent().unwrap().join("beta");
            std::fs::create_dir_all(&second).unwrap();
            std::fs::write(second.join("compose.yaml"), EXTERNAL_LINKER).unwrap();
            let beta = |args: &[&str]| {
                let mut all = vec!["--project-directory", second.to_str().unwrap()];
                all.extend_from_slice(args);
                support::berth(&p.root, &all, &[])
            };
            let up = beta(&["up", "-d"]);
            let err = support::stderr(&up);
            assert!(up.status.success(), "{err}");
            // A target that does not exist: a warning, the rest works.
            assert!(
                err.contains("warning: service client: external_links ghost-1: no such container"),
                "{err}"
            );
            let store = address_of(&p.root, "alpha-store-1", "alpha_default");
            let lookup_in_beta = |name: &str| {
                let out = beta(&["exec", "-T", "client", "nslookup", name]);
                support::stdout(&out)
            };
            for name in ["legacy-store", "alpha-store-1"] {
                let out = lookup_in_beta(name);
                assert!(
                    out.lines()
                        .skip_while(|l| !l.starts_with("Name:"))
                        .any(|l| l.contains(&store)),
                    "{name} -> {out}"
                );
            }
            let out = beta(&["exec", "-T", "client", "ping", "-c1", "-W2", "legacy-store"]);
            assert!(out.status.success(), "{}", support::stdout(&out));
            support::ok(beta(&["down"]));
            p.ok(&["down"]);
        },
    );
}
