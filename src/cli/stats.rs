//! `berth stats`: the services' containers' resource usage in `docker
//! stats`' columns and units (CONTAINER ID, NAME, CPU %, MEM USAGE / LIMIT,
//! MEM %, NET I/O, BLOCK I/O, PIDS), refreshed every second (the screen
//! redrawn on a terminal), or one sample with `--no-stream`; `--format
//! json` prints one object per container per line, as Docker does. The
//! numbers come from [`berth_runtime::stats`].

use std::collections::BTreeMap;
use std::io::{IsTerminal, Write};
use std::time::Duration;

use anyhow::bail;
use berth_runtime::container::{ContainerInfo, Status};
use berth_runtime::stats::{self, Sample};

use super::args::{GlobalOptions, StatsArgs};
use super::project::load_project;
use super::ps::{project_containers, service_of};

/// Time between the two samples CPU use is computed from, and between refreshes.
const INTERVAL: Duration = Duration::from_secs(1);

pub fn run(global: &GlobalOptions, args: &StatsArgs) -> anyhow::Result<i32> {
    let json = match args.format.as_str() {
        "table" => false,
        "json" => true,
        other => bail!("--format {other:?}: expected table or json"),
    };
    let project = load_project(global, &[], true)?.project;
    for service in &args.services {
        if !project.services.contains_key(service) {
            bail!("no such service: {service}");
        }
    }
    let list = || -> anyhow::Result<Vec<ContainerInfo>> {
        Ok(project_containers(global, &project.name)?
            .into_iter()
            .filter(|c| {
                args.services.is_empty() || args.services.iter().any(|s| s == service_of(c))
            })
            .filter(|c| args.all || c.state.status == Status::Running)
            .collect())
    };
    let live = !args.no_stream && std::io::stdout().is_terminal();
    let mut previous: BTreeMap<String, Sample> = BTreeMap::new();
    let mut first = true;
    loop {
        let containers = list()?;
        let mut now: BTreeMap<String, Sample> = sample_all(&containers);
        if first {
            // CPU use needs two samples: the first pass only takes one.
            std::thread::sleep(if args.no_stream {
                INTERVAL / 2
            } else {
                INTERVAL
            });
            previous = now;
            now = sample_all(&containers);
            first = false;
        }
        let rows: Vec<Row> = containers
            .iter()
            .map(|c| {
                Row::new(
                    c,
                    now.get(&c.record.id),
                    previous.get(&c.record.id),
                    args.no_trunc,
                )
            })
            .collect();
        let mut out = std::io::stdout().lock();
        if live {
            // Docker's redraw: clear the screen, cursor home.
            write!(out, "\x1b[2J\x1b[H")?;
        }
        if json {
            for row in &rows {
                writeln!(out, "{}", row.json())?;
            }
        } else {
            write!(out, "{}", table(&rows))?;
        }
        out.flush()?;
        if args.no_stream {
            return Ok(0);
        }
        previous = now;
        std::thread::sleep(INTERVAL);
    }
}

fn sample_all(containers: &[ContainerInfo]) -> BTreeMap<String, Sample> {
    containers
        .iter()
        .filter(|c| c.state.status == Status::Running)
        .filter_map(|c| {
            let cgroup = c.state.cgroup.as_ref()?;
            let pid = c.state.pid?;
            match stats::sample(cgroup, pid) {
                Ok(sample) => Some((c.record.id.clone(), sample)),
                Err(err) => {
                    tracing::debug!("stats of {}: {err}", c.record.name);
                    None
                }
            }
        })
        .collect()
}

/// One container's line, as text cells.
struct Row {
    id: String,
    short_id: String,
    name: String,
    cpu: String,
    mem_usage: String,
    mem_percent: String,
    net: String,
    block: String,
    pids: String,
}

impl Row {
    fn new(
        c: &ContainerInfo,
        now: Option<&Sample>,
        before: Option<&Sample>,
        no_trunc: bool,
    ) -> Row {
        let id = c.record.id.clone();
        let short_id = if no_trunc {
            id.clone()
        } else {
            id.chars().take(12).collect()
        };
        let name = c.record.name.clone();
        let Some(now) = now else {
            // Docker's cells for a container that does not run.
            return Row {
                id,
                short_id,
                name,
                cpu: "0.00%".into(),
                mem_usage: "0B / 0B".into(),
                mem_percent: "0.00%".into(),
                net: "0B / 0B".into(),
                block: "0B / 0B".into(),
                pids: "0".into(),
            };
        };
        let cpu = before.map_or(0.0, |before| now.cpu_percent(before));
        Row {
            id,
            short_id,
            name,
            cpu: format!("{cpu:.2}%"),
            mem_usage: format!(
                "{} / {}",
                binary_size(now.memory_usage),
                binary_size(now.memory_limit)
            ),
            mem_percent: format!("{:.2}%", now.memory_percent()),
            net: format!(
                "{} / {}",
                decimal_size(now.net_rx),
                decimal_size(now.net_tx)
            ),
            block: format!(
                "{} / {}",
                decimal_size(now.block_read),
                decimal_size(now.block_write)
            ),
            pids: now.pids.to_string(),
        }
    }

    /// Docker's `--format json` object (keys sorted as Go prints a map).
    fn json(&self) -> String {
        serde_json::json!({
            "BlockIO": self.block,
            "CPUPerc": self.cpu,
            "Container": self.id,
            "ID": self.short_id,
            "MemPerc": self.mem_percent,
            "MemUsage": self.mem_usage,
            "Name": self.name,
            "NetIO": self.net,
            "PIDs": self.pids,
        })
        .to_string()
    }
}

fn table(rows: &[Row]) -> String {
    let mut cells = vec![[
        "CONTAINER ID",
        "NAME",
        "CPU %",
        "MEM USAGE / LIMIT",
        "MEM %",
        "NET I/O",
        "BLOCK I/O",
        "PIDS",
    ]
    .map(String::from)];
    for r in rows {
        cells.push([
            r.short_id.clone(),
            r.name.clone(),
            r.cpu.clone(),
            r.mem_usage.clone(),
            r.mem_percent.clone(),
            r.net.clone(),
            r.block.clone(),
            r.pids.clone(),
        ]);
    }
    let mut out = Vec::new();
    let _ = super::image::write_table(&mut out, &cells);
    String::from_utf8_lossy(&out).into_owned()
}

/// Go's `%.<precision>g` for the values sizes take (below 10^precision).
fn significant(value: f64, precision: usize) -> String {
    if value == 0.0 {
        return "0".into();
    }
    let digits_before = (value.abs().log10().floor() as i64 + 1).max(1) as usize;
    let decimals = precision.saturating_sub(digits_before);
    let text = format!("{value:.decimals$}");
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        text
    }
}

fn scaled(mut size: f64, base: f64, units: &[&str], precision: usize) -> String {
    let mut unit = 0;
    while size >= base && unit + 1 < units.len() {
        size /= base;
        unit += 1;
    }
    format!("{}{}", significant(size, precision), units[unit])
}

/// Memory as Docker shows it: binary units, four significant digits (`1.5MiB`).
fn binary_size(bytes: u64) -> String {
    scaled(
        bytes as f64,
        1024.0,
        &["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"],
        4,
    )
}

/// I/O as Docker shows it: decimal units, three significant digits (`1.23kB`).
fn decimal_size(bytes: u64) -> String {
    scaled(
        bytes as f64,
        1000.0,
        &["B", "kB", "MB", "GB", "TB", "PB", "EB"],
        3,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_like_dockers() {
        assert_eq!(binary_size(64 * 1024 * 1024), "64MiB");
        assert_eq!(binary_size(1_617_920), "1.543MiB");
        assert_eq!(binary_size(0), "0B");
        assert_eq!(decimal_size(1234), "1.23kB");
        assert_eq!(decimal_size(648), "648B");
        assert_eq!(decimal_size(1_000_000), "1MB");
    }
}
