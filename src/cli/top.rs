//! `berth top [SERVICE…]`: the processes of each running container, read
//! from its cgroups and `/proc`, in `docker compose top`'s columns.

use berth_runtime::container::Status;

use super::args::{GlobalOptions, ServicesArgs};
use super::project::load_project;
use super::ps::{project_containers, service_of};

/// One row of the table.
struct Process {
    uid: String,
    pid: i32,
    ppid: String,
    stime: String,
    tty: String,
    time: String,
    cmd: String,
}

pub fn run(global: &GlobalOptions, args: &ServicesArgs) -> anyhow::Result<i32> {
    let project = load_project(global, &[], true)?.project;
    let mut containers = project_containers(global, &project.name)?;
    containers.sort_by(|a, b| a.record.name.cmp(&b.record.name));
    let boot = boot_time();
    let ticks = nix::unistd::sysconf(nix::unistd::SysconfVar::CLK_TCK)
        .ok()
        .flatten()
        .unwrap_or(100) as u64;
    let mut first = true;
    for c in containers
        .iter()
        .filter(|c| c.state.status == Status::Running)
        .filter(|c| args.services.is_empty() || args.services.iter().any(|s| s == service_of(c)))
    {
        let pids = c
            .state
            .cgroup
            .as_ref()
            .map(|g| g.processes())
            .unwrap_or_default();
        let rows: Vec<Process> = pids
            .into_iter()
            .filter_map(|pid| read_process(pid, boot, ticks))
            .collect();
        if !first {
            println!();
        }
        first = false;
        println!("{}", c.record.name);
        let header = ["UID", "PID", "PPID", "C", "STIME", "TTY", "TIME", "CMD"];
        let mut cells: Vec<Vec<String>> = vec![header.map(String::from).to_vec()];
        cells.extend(rows.into_iter().map(|p| {
            vec![
                p.uid,
                p.pid.to_string(),
                p.ppid,
                "0".into(),
                p.stime,
                p.tty,
                p.time,
                p.cmd,
            ]
        }));
        print!("{}", super::template::table(&cells));
    }
    Ok(0)
}

/// Seconds since the epoch at boot (`btime` in /proc/stat).
fn boot_time() -> u64 {
    std::fs::read_to_string("/proc/stat")
        .ok()
        .and_then(|t| {
            t.lines()
                .find_map(|l| l.strip_prefix("btime ").and_then(|v| v.trim().parse().ok()))
        })
        .unwrap_or(0)
}

fn read_process(pid: i32, boot: u64, ticks: u64) -> Option<Process> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let (_, rest) = stat.rsplit_once(')')?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // Fields after the name: state(0) ppid(1) … tty_nr(4) … utime(11)
    // stime(12) … starttime(19).
    let number = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0)
    };
    let cpu = (number(11) + number(12)) / ticks.max(1);
    let started = boot + number(19) / ticks.max(1);
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let uid = status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))
        .and_then(|v| v.split_whitespace().next())
        .unwrap_or("?");
    let uid = if uid == "0" {
        "root".to_string()
    } else {
        uid.to_string()
    };
    let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
    let cmd = String::from_utf8_lossy(&cmdline)
        .split('\0')
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    let cmd = if cmd.is_empty() {
        stat.split_once('(')
            .and_then(|(_, r)| r.rsplit_once(')'))
            .map(|(name, _)| format!("[{name}]"))
            .unwrap_or_default()
    } else {
        cmd
    };
    Some(Process {
        uid,
        pid,
        ppid: fields.get(1).unwrap_or(&"0").to_string(),
        stime: clock(started),
        tty: if number(4) == 0 {
            "?".into()
        } else {
            "pts".into()
        },
        time: format!("{:02}:{:02}:{:02}", cpu / 3600, cpu / 60 % 60, cpu % 60),
        cmd,
    })
}

/// `HH:MM` (UTC) of a time in seconds since the epoch.
fn clock(seconds: u64) -> String {
    format!("{:02}:{:02}", seconds / 3600 % 24, seconds / 60 % 60)
}
