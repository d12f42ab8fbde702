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
    let out = Mutex::new(std::io::stdout());
    std::thread::scope(|scope| -> anyhow::Result<()> {
        let mut handles = Vec::new();
        for (index, container) in containers.iter().enumerate() {
            let runtime = &runtime;
            let out = &out;
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
                        records.push(r.clone());
                        true
                    })?;
                    let skip = records.len().saturating_sub(tail);
                    for record in &records[skip..] {
                        print_record(out, &prefix, record, args.timestamps);
                    }
                    return Ok(());
                }
                runtime.logs(&container.record.id, args.follow, |r| {
                    print_record(out, &prefix, r, args.timestamps);
                    true
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

fn print_record(out: &Mutex<std::io::Stdout>, prefix: &str, record: &LogRecord, timestamps: bool) {
    let line = record.log.strip_suffix('\n').unwrap_or(&record.log);
    let mut out = out.lock().unwrap();
    let _ = if timestamps {
        writeln!(out, "{prefix}{} {line}", record.time)
    } else {
        writeln!(out, "{prefix}{line}")
    };
}
