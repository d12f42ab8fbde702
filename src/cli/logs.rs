//! `berth logs`: the project's container output, each line marked with its
//! container (`web-1  | `) as `docker compose logs` does. `--tail` is read
//! from the end of the log; `--follow` also follows the containers that
//! appear while it runs (a scale-up, a recreate's new container) and ends
//! once none is running.

use std::collections::BTreeSet;
use std::io::Write;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use anyhow::Context;
use berth_runtime::container::logs::LogOptions;
use berth_runtime::container::{ContainerError, LogRecord, Runtime};

use super::args::{GlobalOptions, LogsArgs};
use super::log_prefix::{display_name, use_color, Prefixes};
use super::project::load_project;
use crate::reconcile::temporary_name::original_name;
use crate::reconcile::{observe, ObservedContainer};

/// How often `--follow` looks for containers that appeared.
const WATCH_INTERVAL: Duration = Duration::from_millis(200);
/// How long `--follow` goes on with nothing running (a recreate's new
/// container starts right after it takes the old one's name).
const IDLE_GRACE: Duration = Duration::from_secs(1);

pub fn run(global: &GlobalOptions, args: &LogsArgs) -> anyhow::Result<i32> {
    let project = load_project(global, &[], true)?.project;
    let runtime = Runtime::new(&global.root).context("container runtime")?;
    let now = berth_runtime::timestamp::now_unix();
    let bound = |text: &Option<String>, flag: &str| {
        text.as_deref()
            .map(|t| time_bound(t, now).with_context(|| flag.to_string()))
            .transpose()
    };
    let options = LogOptions {
        follow: args.follow,
        tail: parse_tail(args.tail.as_deref())?,
        since: bound(&args.since, "--since")?,
        until: bound(&args.until, "--until")?,
    };
    let wanted = |c: &ObservedContainer| {
        !c.oneoff
            && (args.services.is_empty() || args.services.contains(&c.service))
            && args.index.is_none_or(|n| c.number == n)
    };
    let matching = || -> anyhow::Result<Vec<ObservedContainer>> {
        let all = runtime.list().context("listing containers")?;
        let mut found: Vec<_> = observe::project_containers(&all, &project.name)
            .into_iter()
            .filter(|c| wanted(c))
            .collect();
        found.sort_by(|a, b| (&a.service, a.number).cmp(&(&b.service, b.number)));
        Ok(found)
    };
    let containers = matching()?;
    let name_of =
        |c: &ObservedContainer| display_name(&project.name, &c.service, c.number, &c.name);
    let names: Vec<String> = containers.iter().map(name_of).collect();
    let prefixes = Prefixes::new(
        !args.no_log_prefix,
        use_color(args.no_color, &global.ansi),
        project.services.keys(),
        &names,
    );
    let out = Mutex::new(std::io::stdout());
    std::thread::scope(|scope| -> anyhow::Result<()> {
        let start_reader = |container: &ObservedContainer, options: LogOptions| {
            // A container not started yet has nothing to follow: it is
            // taken once it runs (or has run).
            if args.follow && is_created(&runtime, container) {
                return None;
            }
            let prefix = prefixes.prefix(&container.service, &name_of(container));
            let (runtime, out, id) = (&runtime, &out, container.id.clone());
            Some(scope.spawn(move || {
                let printed = runtime.logs_with(&id, &options, |record| {
                    print_record(out, &prefix, record, args.timestamps);
                    true
                });
                match printed {
                    // Removed meanwhile (replaced by a recreate).
                    Err(ContainerError::NotFound(_)) => Ok(()),
                    other => other,
                }
            }))
        };
        let mut readers = Vec::new();
        let mut seen = BTreeSet::new();
        for container in &containers {
            if let Some(reader) = start_reader(container, options) {
                seen.insert(container.id.clone());
                readers.push(reader);
            }
        }
        if args.follow {
            // What appears from now on is new: all of it is shown.
            let later = LogOptions {
                tail: None,
                ..options
            };
            let mut idle_since: Option<Instant> = None;
            loop {
                std::thread::sleep(WATCH_INTERVAL);
                let now = matching()?;
                for container in &now {
                    if seen.contains(&container.id) {
                        continue;
                    }
                    if let Some(reader) = start_reader(container, later) {
                        seen.insert(container.id.clone());
                        readers.push(reader);
                    }
                }
                let reading = readers.iter().any(|r| !r.is_finished());
                let busy = now
                    .iter()
                    .any(|c| c.running || original_name(&c.name).is_some());
                if reading || busy {
                    idle_since = None;
                } else if idle_since.get_or_insert_with(Instant::now).elapsed() > IDLE_GRACE {
                    break;
                }
            }
        }
        for reader in readers {
            reader
                .join()
                .map_err(|_| anyhow::anyhow!("a log reader panicked"))?
                .context("reading logs")?;
        }
        Ok(())
    })?;
    Ok(0)
}

fn is_created(runtime: &Runtime, container: &ObservedContainer) -> bool {
    runtime
        .state(&container.id)
        .is_ok_and(|s| s.status == berth_runtime::container::Status::Created)
}

/// `--tail`: a number of lines, or `all` (as is a negative number).
fn parse_tail(text: Option<&str>) -> anyhow::Result<Option<usize>> {
    match text {
        None | Some("all") => Ok(None),
        Some(text) => match text.parse::<i64>() {
            Ok(n) if n < 0 => Ok(None),
            Ok(n) => Ok(Some(n as usize)),
            Err(_) => anyhow::bail!("--tail {text:?}: expected a number of lines or \"all\""),
        },
    }
}

/// A `--since`/`--until` value as Unix seconds: RFC 3339 (or a bare
/// date), a Unix timestamp, or a duration back from `now`.
fn time_bound(text: &str, now: i64) -> anyhow::Result<i64> {
    if let Ok(seconds) = text.parse::<f64>() {
        return Ok(seconds as i64);
    }
    if let Some(time) = berth_runtime::timestamp::parse_rfc3339(text)
        .or_else(|| berth_runtime::timestamp::parse_rfc3339(&format!("{text}T00:00:00Z")))
    {
        return Ok(time);
    }
    let ago = crate::compose::syntax::duration::parse_duration(text).map_err(|_| {
        anyhow::anyhow!(
            "{text:?}: expected a time (2024-01-02T15:04:05Z), a Unix timestamp or a duration (10m)"
        )
    })?;
    Ok(now - ago.as_nanos() / 1_000_000_000)
}

fn print_record(out: &Mutex<std::io::Stdout>, prefix: &str, record: &LogRecord, timestamps: bool) {
    let line = record.log.strip_suffix('\n').unwrap_or(&record.log);
    let mut out = out.lock().unwrap();
    let _ = if timestamps {
        writeln!(out, "{prefix}{} {line}", record.time)
    } else {
        writeln!(out, "{prefix}{line}")
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_bounds_in_every_form() {
        let now = 1_700_000_000;
        assert_eq!(time_bound("1699999000", now).unwrap(), 1_699_999_000);
        assert_eq!(time_bound("10m", now).unwrap(), now - 600);
        assert_eq!(time_bound("1h30m", now).unwrap(), now - 5400);
        assert_eq!(
            time_bound("2023-11-14T22:13:20Z", now).unwrap(),
            1_700_000_000
        );
        assert_eq!(time_bound("2023-11-14", now).unwrap(), 1_699_920_000);
        assert!(time_bound("yesterday", now).is_err());
    }

    #[test]
    fn tail_is_a_count_or_all() {
        assert_eq!(parse_tail(None).unwrap(), None);
        assert_eq!(parse_tail(Some("all")).unwrap(), None);
        assert_eq!(parse_tail(Some("-1")).unwrap(), None);
        assert_eq!(parse_tail(Some("0")).unwrap(), Some(0));
        assert_eq!(parse_tail(Some("25")).unwrap(), Some(25));
        let err = parse_tail(Some("ten")).unwrap_err().to_string();
        assert!(err.contains("--tail \"ten\""), "{err}");
    }
}
