//! `berth ps` columns and filters as docker compose has them: PORTS lists
//! exposed ports, COMMAND is shell-quoted (truncated unless `--no-trunc`),
//! `--status` and `--filter status=…` take compose's state words and imply
//! `--all`, and `--orphans=false` leaves out containers of services no
//! longer in the file.

mod support;

use support::containers::{can_run_containers, isolated};
use support::project::Project;

const COMPOSE: &str = "name: cols
services:
  app:
    image: berth.test/busybox:latest
    command: [sh, -c, 'echo hi; sleep 600']
    stop_signal: SIGKILL
    expose: ['9000', 53/udp]
  job:
    image: berth.test/busybox:latest
    command: ['true']
";

/// The cells of `ps` table row for `name` (columns split on 3+ spaces).
fn row<'a>(table: &'a str, name: &str) -> Vec<&'a str> {
    let line = table
        .lines()
        .find(|l| l.starts_with(name))
        .unwrap_or_else(|| panic!("no row {name}:\n{table}"));
    line.split("   ")
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .collect()
}

#[test]
fn ps_shows_ports_quoted_commands_and_filters_like_compose() {
    if !can_run_containers() {
        return;
    }
    isolated(
        "ps_shows_ports_quoted_commands_and_filters_like_compose",
        || {
            let p = Project::new(COMPOSE);
            p.ok(&["up", "-d"]);
            let table = p.ok(&["ps"]);
            let app = row(&table, "cols-app-1");
            assert_eq!(app[2], "\"sh -c 'echo hi; sle…\"", "{table}");
            assert_eq!(app.last().unwrap(), &"9000/tcp, 53/udp", "{table}");
            let full = p.ok(&["ps", "--no-trunc"]);
            assert_eq!(
                row(&full, "cols-app-1")[2],
                "\"sh -c 'echo hi; sleep 600'\"",
                "{full}"
            );

            // The one-shot job exits; compose's state words select it
            // without -a.
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
            while p.ok(&["ps", "-q"]).lines().count() != 1 {
                assert!(std::time::Instant::now() < deadline, "job never exited");
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
            assert_eq!(p.ok(&["ps", "--services", "--status", "exited"]), "job\n");
            assert_eq!(
                p.ok(&["ps", "--services", "--filter", "status=exited"]),
                "job\n"
            );
            assert_eq!(
                p.ok(&[
                    "ps",
                    "--services",
                    "--filter",
                    "status=running",
                    "--filter",
                    "status=exited"
                ]),
                "app\njob\n"
            );
            let bad = p.berth(&["ps", "--filter", "status=sleeping"]);
            assert!(!bad.status.success());
            assert!(
                support::stderr(&bad).contains("expected one of paused, restarting"),
                "{}",
                support::stderr(&bad)
            );

            // `job` leaves the file: its container is an orphan.
            p.write(&COMPOSE[..COMPOSE.find("  job:").unwrap()]);
            assert_eq!(p.ok(&["ps", "-a", "--services"]), "app\njob\n");
            assert_eq!(
                p.ok(&["ps", "-a", "--services", "--orphans=false"]),
                "app\n"
            );
            p.ok(&["down", "--remove-orphans", "-t", "0"]);
        },
    );
}
