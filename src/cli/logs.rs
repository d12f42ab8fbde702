//! `berth logs`: the project's container output, prefixed with the container
//! name as `docker compose logs` does, optionally followed.

use std::io::Write;
use std::sync::Mutex;

use anyhow::Context;
use berth_runtime::container::{LogRecord, Runtime};

use super::args::{GlobalOptions, LogsArgs};
use super::project::load_project;
use super::ps::{project_containers, service_of};

const COLORS: &[&str] = &["36", "33", "32", "35", "34", "96", "93", "92", "95", "94"];

pub fn run(global: &GlobalOptions, args: &LogsArgs) -> anyhow::Result<i32> {
    let project = load_project(global, &[], true)?.project;
    let containers: Vec<_> = project_containers(global, &project.name)?
        .into_iter()
        .filter(|c| args.services.is_empty() || args.services.iter().any(|s| s == service_of(c)))
        .collect();
    let runtime = Runtime::new(&global.root).context("container runtime")?;
    let width = containers
        .iter()
        .map(|c| c.record.name.len())
        .max()
        .unwrap_or(0);
    let color = !args.no_color
        && global.ansi != "never"
        && std::io::IsTerminal::is_terminal(&std::io::stdout());
    let now = berth_runtime::timestamp::now_unix();
    let since = args
        .since
        .as_deref()
        .map(|t| time_bound(t, now).context("--since"))
        .transpose()?;
    let until = args
        .until
        .as_deref()
        .map(|t| time_bound(t, now).context("--until"))
        .transpose()?;
    let in_window = |record: &LogRecord| {
        let Some(time) = berth_runtime::timestamp::parse_rfc3339(&record.time) else {
            return true;
        };
        since.is_none_or(|s| time >= s) && until.is_none_or(|u| time <= u)
    };
    let out = Mutex::new(std::io::stdout());
    std::thread::scope(|scope| -> anyhow::Result<()> {
        let mut handles = Vec::new();
        for (index, container) in containers.iter().enumerate() {
            let runtime = &runtime;
            let out = &out;
            let in_window = &in_window;
            let prefix = if args.no_log_prefix {
                String::new()
            } else if color {
                let code = COLORS[index % COLORS.len()];
                format!("\x1b[{code}m{:<width$}  |\x1b[0m ", container.record.name)
            } else {
                format!("{:<width$}  | ", container.record.name)
            };
            handles.push(scope.spawn(move || -> anyhow::Result<()> {
                let mut records: Vec<LogRecord> = Vec::new();
                let tail = args.tail.as_deref().and_then(|t| t.parse::<usize>().ok());
                if let (Some(tail), false) = (tail, args.follow) {
                    runtime.logs(&container.record.id, false, |r| {
                        if in_window(r) {
                            records.push(r.clone());
                        }
                        true
                    })?;
                    let skip = records.len().saturating_sub(tail);
                    for record in &records[skip..] {
                        print_record(out, &prefix, record, args.timestamps);
                    }
                    return Ok(());
                }
                runtime.logs(&container.record.id, args.follow, |r| {
                    if in_window(r) {
                        print_record(out, &prefix, r, args.timestamps);
                    }
                    // Past --until there is nothing more to follow.
                    until.is_none_or(|u| {
                        berth_runtime::timestamp::parse_rfc3339(&r.time).is_none_or(|t| t <= u)
                    })
                })?;
                Ok(())
            }));
        }
        for handle in handles {
            handle
                .join()
                .map_err(|_| anyhow::anyhow!("a log reader panicked"))??;
        }
        Ok(())
    })?;
    Ok(0)
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
}
