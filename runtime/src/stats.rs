//! A running container's resource usage, the numbers `docker stats` shows:
//! CPU time, memory use and limit, network and block I/O, process count.
//! Read from the container's cgroups (v1 controllers and/or cgroup v2,
//! wherever `cgroup.rs` placed it) and from `/proc/PID/net/dev` of its
//! first process, which shows the counters of the container's network
//! namespace. Rendering is the CLI's business.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use crate::container::cgroup::ContainerCgroup;

/// Why a sample could not be read.
#[derive(Debug, thiserror::Error)]
pub enum StatsError {
    #[error("reading {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    /// The container has no cgroup: it is not running.
    #[error("the container is not running")]
    NotRunning,
}

fn read(path: &Path) -> Result<String, StatsError> {
    fs::read_to_string(path).map_err(|source| StatsError::Read {
        path: path.to_path_buf(),
        source,
    })
}

/// One reading of a container's counters.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Sample {
    /// CPU time the container's processes used, in nanoseconds.
    pub cpu_ns: u64,
    /// CPU time the whole host used (every CPU), in nanoseconds.
    pub system_ns: u64,
    /// CPUs the host has online.
    pub online_cpus: u32,
    /// Memory in use, page cache that can be dropped left out (as Docker).
    pub memory_usage: u64,
    /// The memory limit, or the host's memory when there is none.
    pub memory_limit: u64,
    pub net_rx: u64,
    pub net_tx: u64,
    pub block_read: u64,
    pub block_write: u64,
    pub pids: u64,
}

impl Sample {
    /// CPU use between `earlier` and this sample, in percent of one CPU
    /// (Docker's formula: 400% is four CPUs busy).
    pub fn cpu_percent(&self, earlier: &Sample) -> f64 {
        let cpu = self.cpu_ns.saturating_sub(earlier.cpu_ns) as f64;
        let system = self.system_ns.saturating_sub(earlier.system_ns) as f64;
        if cpu <= 0.0 || system <= 0.0 {
            return 0.0;
        }
        cpu / system * f64::from(self.online_cpus.max(1)) * 100.0
    }

    /// Memory use in percent of the limit.
    pub fn memory_percent(&self) -> f64 {
        if self.memory_limit == 0 {
            return 0.0;
        }
        self.memory_usage as f64 / self.memory_limit as f64 * 100.0
    }
}

/// Reads the counters of a container whose cgroups are `cgroup` and
/// whose first process is `pid`.
pub fn sample(cgroup: &ContainerCgroup, pid: i32) -> Result<Sample, StatsError> {
    if cgroup.paths.is_empty() && cgroup.unified.is_none() {
        return Err(StatsError::NotRunning);
    }
    let host = read(Path::new("/proc/stat"))?;
    let host_memory = host_memory()?;
    let (net_rx, net_tx) = network(&read(&PathBuf::from(format!("/proc/{pid}/net/dev")))?);
    let (memory_usage, memory_limit) = memory(cgroup, host_memory)?;
    let (block_read, block_write) = block_io(cgroup);
    Ok(Sample {
        cpu_ns: cpu_time(cgroup)?,
        system_ns: system_time(&host),
        online_cpus: online_cpus(&host),
        memory_usage,
        memory_limit,
        net_rx,
        net_tx,
        block_read,
        block_write,
        pids: pids(cgroup),
    })
}

/// The first hierarchy directory of the container holding `file`.
fn v1_file(cgroup: &ContainerCgroup, file: &str) -> Option<PathBuf> {
    cgroup
        .paths
        .iter()
        .filter(|dir| Some(*dir) != cgroup.unified.as_ref())
        .map(|dir| dir.join(file))
        .find(|path| path.exists())
}

fn v2_file(cgroup: &ContainerCgroup, file: &str) -> Option<PathBuf> {
    cgroup
        .unified
        .as_ref()
        .map(|dir| dir.join(file))
        .filter(|path| path.exists())
}

/// `key value` lines (`memory.stat`, `cpu.stat`): the value of `key`.
fn keyed(text: &str, key: &str) -> Option<u64> {
    text.lines().find_map(|line| {
        let (name, value) = line.split_once(' ')?;
        (name == key).then(|| value.trim().parse().ok())?
    })
}

fn cpu_time(cgroup: &ContainerCgroup) -> Result<u64, StatsError> {
    if let Some(path) = v1_file(cgroup, "cpuacct.usage") {
        return Ok(read(&path)?.trim().parse().unwrap_or(0));
    }
    if let Some(path) = v2_file(cgroup, "cpu.stat") {
        return Ok(keyed(&read(&path)?, "usage_usec").unwrap_or(0) * 1000);
    }
    Ok(0)
}

/// Clock ticks per second of `/proc/stat` (USER_HZ, 100 on Linux).
const USER_HZ: u64 = 100;

/// Host CPU time from the `cpu` line of `/proc/stat`, as Docker sums it
/// (user nice system idle iowait irq softirq steal).
fn system_time(proc_stat: &str) -> u64 {
    let Some(line) = proc_stat.lines().find(|l| l.starts_with("cpu ")) else {
        return 0;
    };
    let ticks: u64 = line
        .split_whitespace()
        .skip(1)
        .take(8)
        .filter_map(|v| v.parse::<u64>().ok())
        .sum();
    ticks * (1_000_000_000 / USER_HZ)
}

fn online_cpus(proc_stat: &str) -> u32 {
    let counted = proc_stat
        .lines()
        .filter(|l| l.starts_with("cpu") && l.as_bytes().get(3).is_some_and(u8::is_ascii_digit))
        .count();
    u32::try_from(counted).unwrap_or(1).max(1)
}

fn host_memory() -> Result<u64, StatsError> {
    let text = read(Path::new("/proc/meminfo"))?;
    let kib = text
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|v| v.split_whitespace().next()?.parse::<u64>().ok())
        .unwrap_or(0);
    Ok(kib * 1024)
}

/// (usage, limit): usage less inactive page cache, limit capped at the
/// host's memory (an unlimited cgroup shows the host's, as Docker does).
fn memory(cgroup: &ContainerCgroup, host_memory: u64) -> Result<(u64, u64), StatsError> {
    let cap = |limit: u64| {
        if host_memory > 0 {
            limit.min(host_memory)
        } else {
            limit
        }
    };
    if let Some(dir) = cgroup
        .memory_v1
        .as_ref()
        .filter(|d| d.join("memory.usage_in_bytes").exists())
    {
        let usage: u64 = read(&dir.join("memory.usage_in_bytes"))?
            .trim()
            .parse()
            .unwrap_or(0);
        let stat = read(&dir.join("memory.stat")).unwrap_or_default();
        let inactive = keyed(&stat, "total_inactive_file").unwrap_or(0);
        let limit: u64 = read(&dir.join("memory.limit_in_bytes"))?
            .trim()
            .parse()
            .unwrap_or(u64::MAX);
        return Ok((usage.saturating_sub(inactive), cap(limit)));
    }
    if let Some(current) = v2_file(cgroup, "memory.current") {
        let usage: u64 = read(&current)?.trim().parse().unwrap_or(0);
        let stat = v2_file(cgroup, "memory.stat")
            .map(|p| read(&p).unwrap_or_default())
            .unwrap_or_default();
        let inactive = keyed(&stat, "inactive_file").unwrap_or(0);
        let limit = v2_file(cgroup, "memory.max")
            .and_then(|p| read(&p).ok())
            .and_then(|t| t.trim().parse::<u64>().ok())
            .unwrap_or(u64::MAX);
        return Ok((usage.saturating_sub(inactive), cap(limit)));
    }
    Ok((0, cap(u64::MAX)))
}

/// Bytes received and sent on every interface but loopback.
fn network(net_dev: &str) -> (u64, u64) {
    let mut totals = (0, 0);
    for line in net_dev.lines().skip(2) {
        let Some((name, counters)) = line.split_once(':') else {
            continue;
        };
        if name.trim() == "lo" {
            continue;
        }
        let fields: Vec<u64> = counters
            .split_whitespace()
            .filter_map(|v| v.parse().ok())
            .collect();
        if fields.len() >= 9 {
            totals.0 += fields[0];
            totals.1 += fields[8];
        }
    }
    totals
}

/// Bytes read and written on block devices.
fn block_io(cgroup: &ContainerCgroup) -> (u64, u64) {
    let v1 = [
        "blkio.throttle.io_service_bytes_recursive",
        "blkio.throttle.io_service_bytes",
        "blkio.io_service_bytes_recursive",
    ]
    .iter()
    .find_map(|file| v1_file(cgroup, file));
    if let Some(text) = v1.and_then(|p| fs::read_to_string(p).ok()) {
        let mut totals = (0, 0);
        for line in text.lines() {
            let fields: Vec<&str> = line.split_whitespace().collect();
            if let [_, op, value] = fields[..] {
                let value: u64 = value.parse().unwrap_or(0);
                match op {
                    "Read" => totals.0 += value,
                    "Write" => totals.1 += value,
                    _ => {}
                }
            }
        }
        return totals;
    }
    if let Some(text) = v2_file(cgroup, "io.stat").and_then(|p| fs::read_to_string(p).ok()) {
        return io_stat(&text);
    }
    (0, 0)
}

/// cgroup v2 `io.stat`: `MAJ:MIN rbytes=N wbytes=N …` per device.
fn io_stat(text: &str) -> (u64, u64) {
    let mut totals = (0, 0);
    for field in text.split_whitespace() {
        if let Some((key, value)) = field.split_once('=') {
            let value: u64 = value.parse().unwrap_or(0);
            match key {
                "rbytes" => totals.0 += value,
                "wbytes" => totals.1 += value,
                _ => {}
            }
        }
    }
    totals
}

fn pids(cgroup: &ContainerCgroup) -> u64 {
    v1_file(cgroup, "pids.current")
        .or_else(|| v2_file(cgroup, "pids.current"))
        .and_then(|p| fs::read_to_string(p).ok())
        .and_then(|t| t.trim().parse().ok())
        .unwrap_or_else(|| cgroup.processes().len() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_cpu_time_and_cpus_from_proc_stat() {
        let text = "cpu  10 0 5 80 5 0 0 0 3 0\ncpu0 5 0 2 40 3 0 0 0 0 0\ncpu1 5 0 3 40 2 0 0 0 0 0\nintr 1\n";
        assert_eq!(system_time(text), 100 * 10_000_000);
        assert_eq!(online_cpus(text), 2);
    }

    #[test]
    fn network_counters_leave_out_loopback() {
        let text = "Inter-|   Receive                                                |  Transmit\n face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed\n    lo:     100       1    0    0    0     0          0         0      100       1    0    0    0     0       0          0\n  eth0:    2000      10    0    0    0     0          0         0      3000      12    0    0    0     0       0          0\n";
        assert_eq!(network(text), (2000, 3000));
    }

    #[test]
    fn io_stat_sums_devices() {
        let text =
            "8:0 rbytes=4096 wbytes=512 rios=1 wios=1\n8:16 rbytes=4 wbytes=8 rios=1 wios=1\n";
        assert_eq!(io_stat(text), (4100, 520));
    }

    #[test]
    fn cpu_percent_is_dockers_formula() {
        let a = Sample {
            cpu_ns: 0,
            system_ns: 0,
            online_cpus: 4,
            ..Sample::default()
        };
        let b = Sample {
            cpu_ns: 500,
            system_ns: 1000,
            online_cpus: 4,
            ..Sample::default()
        };
        assert!((b.cpu_percent(&a) - 200.0).abs() < 1e-9);
        assert_eq!(a.cpu_percent(&b), 0.0);
    }
}
