//! What a docker compose user sees every day, end to end: the progress of
//! `up`/`stop`/`start`/`down` as plain lines when piped, JSON lines, nothing
//! when quiet, and a live view on a terminal (driven through tmux) that
//! leaves one line per resource with its final state; a no-op `up -d` saying
//! each service is Running; `--help` with the command's own options first;
//! shell completion down to service names; and one clear line for a user
//! who is not root.

mod support;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use support::containers::{berth_bin, can_run_containers, isolated};
use support::project::Project;

const COMPOSE: &str = "name: prog
services:
  db:
    image: berth.test/busybox:latest
    command: [sleep, '600']
    stop_signal: SIGKILL
    healthcheck:
      test: [CMD, 'true']
      interval: 1s
  web:
    image: berth.test/busybox:latest
    command: [sleep, '600']
    stop_signal: SIGKILL
    depends_on: [db]
";

#[test]
fn progress_is_plain_when_piped_json_when_asked_and_quiet_when_quiet() {
    if !can_run_containers() {
        return;
    }
    isolated(
        "progress_is_plain_when_piped_json_when_asked_and_quiet_when_quiet",
        || {
            let p = Project::new(COMPOSE);
            let out = p.berth(&["up", "-d"]);
            let progress = support::stderr(&out);
            assert!(out.status.success(), "{progress}");
            for line in progress.lines() {
                assert!(line.starts_with(' '), "not a plain progress line: {line:?}");
            }
            assert!(
                !progress.contains('\u{1b}'),
                "escape codes when piped: {progress:?}"
            );
            assert!(
                progress.contains(" Network prog_default  Created"),
                "{progress}"
            );
            assert!(
                progress.contains(" Container prog-web-1  Starting"),
                "{progress}"
            );
            assert!(
                progress.contains(" Container prog-web-1  Started"),
                "{progress}"
            );

            // Nothing to change: each service says it is running.
            let out = p.berth(&["up", "-d"]);
            let progress = support::stderr(&out);
            assert!(out.status.success(), "{progress}");
            assert_eq!(
                progress,
                " Container prog-db-1  Running\n Container prog-web-1  Running\n"
            );

            // --wait ends with every service's final state.
            let out = p.berth(&["up", "-d", "--wait"]);
            let progress = support::stderr(&out);
            assert!(out.status.success(), "{progress}");
            assert!(
                progress.contains(" Container prog-db-1  Healthy"),
                "{progress}"
            );
            assert!(
                progress.contains(" Container prog-web-1  Running"),
                "{progress}"
            );

            let out = p.berth(&["--progress", "json", "stop"]);
            let progress = support::stderr(&out);
            assert!(out.status.success(), "{progress}");
            let events: Vec<serde_json::Value> = progress
                .lines()
                .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l:?}: {e}")))
                .collect();
            assert!(
                events.contains(
                    &serde_json::json!({"id": "Container prog-web-1", "status": "Stopped"})
                ),
                "{progress}"
            );
            assert!(events
                .iter()
                .all(|e| e["id"].is_string() && e["status"].is_string()));

            let out = p.berth(&["--progress", "quiet", "start"]);
            assert!(out.status.success(), "{}", support::stderr(&out));
            assert_eq!(support::stderr(&out), "", "quiet prints nothing");
            assert_eq!(
                p.ok(&["ps", "-q"]).lines().count(),
                2,
                "started all the same"
            );

            let out = p.berth(&["--progress", "plain", "down"]);
            let progress = support::stderr(&out);
            assert!(out.status.success(), "{progress}");
            assert!(
                progress.contains(" Container prog-db-1  Removed"),
                "{progress}"
            );
            assert!(
                progress.contains(" Network prog_default  Removed"),
                "{progress}"
            );
        },
    );
}

/// A private tmux server (its own socket name) for one command, killed
/// once it has run: each run gets a fresh server, so none starts while the
/// last one is still shutting down.
struct Tmux {
    socket: String,
}

impl Tmux {
    fn run(&self, args: &[&str]) -> String {
        let out = Command::new("tmux")
            .args(["-L", &self.socket, "-f", "/dev/null"])
            .args(args)
            .output()
            .expect("run tmux");
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr)
    }

    /// Runs `command` in a 160x40 terminal and returns the screen once it
    /// has exited, with its exit code.
    fn screen_after(command: &str) -> (String, i32) {
        static RUNS: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let run = RUNS.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let tmux = Tmux {
            socket: format!("berth-test-{}-{run}", std::process::id()),
        };
        tmux.run(&[
            "new-session",
            "-d",
            "-x",
            "160",
            "-y",
            "40",
            &format!("{command}; echo \"exit=$?\"; sleep 60"),
        ]);
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let screen = tmux.run(&["capture-pane", "-p"]);
            if let Some(code) = screen
                .lines()
                .find_map(|l| l.trim().strip_prefix("exit=").map(str::to_string))
            {
                return (screen, code.parse().unwrap_or(-1));
            }
            assert!(Instant::now() < deadline, "never finished:\n{screen}");
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        self.run(&["kill-server"]);
        let _ = std::fs::remove_file(format!("/tmp/tmux-0/{}", self.socket));
    }
}

fn shell_quote(path: &Path) -> String {
    format!("'{}'", path.display().to_string().replace('\'', r"'\''"))
}

#[test]
fn a_terminal_shows_one_line_per_resource_with_its_final_state() {
    if !can_run_containers() || Command::new("tmux").arg("-V").output().is_err() {
        return;
    }
    isolated(
        "a_terminal_shows_one_line_per_resource_with_its_final_state",
        || {
            let p = Project::new(COMPOSE);
            let berth = format!(
                "BERTH_RUN={} {} --root {} --project-directory {}",
                shell_quote(&p.root.join("run")),
                shell_quote(&berth_bin()),
                shell_quote(&p.root),
                shell_quote(&p.dir)
            );
            let (screen, code) = Tmux::screen_after(&format!("{berth} up -d --wait"));
            assert_eq!(code, 0, "{screen}");
            let lines: Vec<&str> = screen.lines().map(str::trim_end).collect();
            assert!(
                lines.iter().any(|l| l.starts_with("[+] Running 3/3")),
                "{screen}"
            );
            let line_of = |id: &str| {
                let found: Vec<&&str> = lines.iter().filter(|l| l.contains(id)).collect();
                assert_eq!(
                    found.len(),
                    1,
                    "one line for {id}, updated in place:\n{screen}"
                );
                found[0].to_string()
            };
            let network = line_of("Network prog_default ");
            assert!(network.starts_with(" ✔ Network prog_default"), "{screen}");
            assert!(network.contains(" Created "), "{screen}");
            let db = line_of("Container prog-db-1 ");
            assert!(
                db.starts_with(" ✔ ") && db.contains(" Healthy "),
                "{screen}"
            );
            let web = line_of("Container prog-web-1 ");
            assert!(
                web.starts_with(" ✔ ") && web.contains(" Running "),
                "{screen}"
            );
            assert!(web.ends_with('s'), "elapsed time: {screen}");

            let (screen, code) = Tmux::screen_after(&format!("{berth} down"));
            assert_eq!(code, 0, "{screen}");
            assert!(
                screen
                    .lines()
                    .any(|l| l.starts_with(" ✔ Container prog-web-1") && l.contains(" Removed ")),
                "{screen}"
            );
            let (screen, _) = Tmux::screen_after(&format!("{berth} --progress plain ps"));
            assert!(!screen.contains("[+]"), "{screen}");
        },
    );
}

#[test]
fn help_lists_the_commands_own_options_before_the_global_ones() {
    let out = Command::new(berth_bin())
        .args(["logs", "--help"])
        .output()
        .unwrap();
    let help = support::stdout(&out);
    assert!(out.status.success(), "{help}");
    let own = help.find("--follow").expect("logs' own options");
    let global = help.find("Global options:").expect("a global section");
    assert!(own < global, "{help}");
    assert!(
        help[global..].contains("--project-name") && !help[..global].contains("--project-name"),
        "{help}"
    );
    assert!(!help[global..].contains("--follow"), "{help}");
    let since = &help[help.find("--since").unwrap()..];
    let since = &since[..since.find("--until").unwrap()];
    assert!(!since.contains("Only these services"), "{since}");
}

#[test]
fn bash_completion_parses_and_completes_service_names() {
    let Ok(bash) = Command::new("bash").arg("--version").output() else {
        return;
    };
    assert!(bash.status.success());
    let script = Command::new(berth_bin())
        .args(["completion", "bash"])
        .output()
        .unwrap();
    assert!(script.status.success());
    let dir = tempfile::tempdir().unwrap();
    let script_path = dir.path().join("berth.bash");
    std::fs::write(&script_path, &script.stdout).unwrap();
    let check = Command::new("bash")
        .arg("-n")
        .arg(&script_path)
        .output()
        .unwrap();
    assert!(check.status.success(), "{}", support::stderr(&check));
    for shell in ["zsh", "fish"] {
        let out = Command::new(berth_bin())
            .args(["completion", shell])
            .output()
            .unwrap();
        assert!(out.status.success() && !out.stdout.is_empty(), "{shell}");
    }

    std::fs::write(
        dir.path().join("other.yaml"),
        "services:\n  web: {image: a}\n  worker: {image: b}\n  db: {image: c}\n",
    )
    .unwrap();
    // What bash does on `berth -f other.yaml logs w<TAB>`: call the
    // registered function, which runs berth to get the candidates.
    let bin_dir = berth_bin().parent().unwrap().to_path_buf();
    let complete = |words: &str, current: &str| {
        let out = Command::new("bash")
            .arg("-c")
            .arg(format!(
                "source {script}; COMP_WORDS=({words}); COMP_CWORD=$(( ${{#COMP_WORDS[@]}} - 1 )); \
                 COMP_TYPE=9; _clap_complete_berth berth '{current}' x; printf '%s\\n' \"${{COMPREPLY[@]}}\"",
                script = shell_quote(&script_path),
            ))
            .current_dir(dir.path())
            .env(
                "PATH",
                format!("{}:{}", bin_dir.display(), std::env::var("PATH").unwrap()),
            )
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", support::stderr(&out));
        let mut found: Vec<String> = support::stdout(&out)
            .lines()
            .map(|l| l.trim().to_string())
            .filter(|l| !l.is_empty() && !l.starts_with('-'))
            .collect();
        found.sort();
        found
    };
    assert_eq!(
        complete("berth -f other.yaml logs w", "w"),
        ["web", "worker"]
    );
    assert_eq!(
        complete("berth -f other.yaml restart ''", ""),
        ["db", "web", "worker"]
    );
    assert!(complete("berth do", "do").contains(&"down".to_string()));
}

/// `berth ARGS…` as the unprivileged user nobody (uid and gid 65534, no
/// supplementary groups).
fn berth_as_nobody(root: &Path, args: &[&str]) -> std::process::Output {
    Command::new("setpriv")
        .args([
            "--reuid",
            "65534",
            "--regid",
            "65534",
            "--clear-groups",
            "--",
        ])
        .arg(berth_bin())
        .arg("--root")
        .arg(root)
        .args(args)
        .current_dir("/")
        .env("BERTH_RUN", root.join("run"))
        .output()
        .expect("run berth as nobody")
}

#[test]
fn without_root_commands_say_so_in_one_line() {
    if !can_run_containers() {
        return;
    }
    let p = Project::new(COMPOSE);
    std::fs::create_dir_all(&p.root).unwrap();
    for args in [
        &["up", "-d"][..],
        &["down"],
        &["stop"],
        &["network", "create", "n"],
    ] {
        let out = berth_as_nobody(&p.root, args);
        let stderr = support::stderr(&out);
        assert!(!out.status.success(), "{args:?}");
        assert_eq!(stderr.lines().count(), 1, "{args:?}: {stderr}");
        assert!(stderr.starts_with("berth needs root"), "{args:?}: {stderr}");
    }
    for args in [&["ps"][..], &["ls"], &["logs"]] {
        let out = berth_as_nobody(&p.root, args);
        let stderr = support::stderr(&out);
        assert!(!out.status.success(), "{args:?}: {stderr}");
        assert_eq!(support::stdout(&out), "", "no empty table");
        assert!(
            stderr.contains("cannot read the state root"),
            "{args:?}: {stderr}"
        );
    }
    // Commands that need nothing of the state still work.
    let out = berth_as_nobody(&p.root, &["version", "--short"]);
    assert!(out.status.success(), "{}", support::stderr(&out));
}
