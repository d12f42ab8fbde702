//! cgroups for containers on v1, v2 and hybrid hosts: find the hierarchies,
//! make one cgroup per container in each, write the limits into the hierarchy
//! that owns each controller, read OOM kills, and tear it all down.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::devices::DeviceRule;
use super::spec::Resources;

/// An error touching a cgroup file, naming the file.
#[derive(Debug, thiserror::Error)]
#[error("cgroup {path}: {source}")]
pub struct CgroupError {
    pub path: PathBuf,
    #[source]
    pub source: io::Error,
}

/// v1 controllers a container cgroup is made in (where mounted), and the
/// named systemd hierarchy (so the container's own view of it is its own).
const V1_CONTROLLERS: &[&str] = &[
    "memory",
    "cpu",
    "cpuacct",
    "cpuset",
    "pids",
    "devices",
    "freezer",
    "blkio",
    "name=systemd",
];

/// Super options of a v1 cgroup mount that are flags, not hierarchy names.
const V1_FLAGS: &[&str] = &[
    "rw",
    "ro",
    "noprefix",
    "xattr",
    "clone_children",
    "cpuset_v2_mode",
    "favordynmods",
];
/// Where cgroup hierarchies are mounted, on the host and in a container.
pub const CGROUP_ROOT: &str = "/sys/fs/cgroup";

/// v2 controllers berth writes limits for, when the unified hierarchy has them.
const V2_CONTROLLERS: &[&str] = &["memory", "cpu", "cpuset", "pids"];

/// The cgroup hierarchies mounted on this host.
#[derive(Debug, Clone, Default)]
pub struct Hierarchies {
    /// v1 controller name -> mount point (co-mounted controllers share one).
    pub v1: BTreeMap<String, PathBuf>,
    /// The v2 mount and the controllers it has, when mounted.
    pub unified: Option<(PathBuf, BTreeSet<String>)>,
    /// The v1 mounts holding a controller of [`V1_CONTROLLERS`], each with
    /// its hierarchy's names (`cpu`, `cpuacct`; `name=systemd`), as mounting
    /// that hierarchy again needs them.
    pub v1_mounts: Vec<(PathBuf, Vec<String>)>,
    /// Symlinks in the host's `/sys/fs/cgroup` (`cpu` -> `cpu,cpuacct`).
    pub links: Vec<(String, String)>,
}

impl Hierarchies {
    /// Reads `/proc/self/mountinfo`.
    /// Reads `/proc/self/mountinfo`, and the symlinks among the host's
    /// v1 hierarchies.
    pub fn detect() -> io::Result<Hierarchies> {
        let mut found = Hierarchies::parse(&fs::read_to_string("/proc/self/mountinfo")?);
        let root = Path::new(CGROUP_ROOT);
        if found
            .v1_mounts
            .iter()
            .any(|(mount, _)| mount.parent() == Some(root))
        {
            found.links = fs::read_dir(root)
                .into_iter()
                .flatten()
                .flatten()
                .filter_map(|entry| {
                    let target = fs::read_link(entry.path()).ok()?;
                    let name = entry.file_name().to_str()?.to_string();
                    Some((name, target.to_str()?.to_string()))
                })
                .collect();
            found.links.sort();
        }
        Ok(found)
    }

    /// Parses mountinfo text; the v2 controller list is read from the mount.
    pub fn parse(mountinfo: &str) -> Hierarchies {
        let mut found = Hierarchies::default();
        for line in mountinfo.lines() {
            let Some((left, right)) = line.split_once(" - ") else {
                continue;
            };
            let mount_point = match left.split(' ').nth(4) {
                Some(point) => PathBuf::from(point),
                None => continue,
            };
            let mut right = right.split(' ');
            let fs_type = right.next().unwrap_or_default();
            let super_options = right.nth(1).unwrap_or_default();
            match fs_type {
                "cgroup" => {
                    let mut used = false;
                    for option in super_options.split(',') {
                        if V1_CONTROLLERS.contains(&option) {
                            used |= !found.v1.contains_key(option);
                            found
                                .v1
                                .entry(option.to_string())
                                .or_insert_with(|| mount_point.clone());
                        }
                    }
                    if used {
                        let names = super_options
                            .split(',')
                            .filter(|o| !V1_FLAGS.contains(o) && !o.starts_with("release_agent="))
                            .map(str::to_string)
                            .collect();
                        found.v1_mounts.push((mount_point, names));
                    }
                }
                "cgroup2" if found.unified.is_none() => {
                    let controllers = fs::read_to_string(mount_point.join("cgroup.controllers"))
                        .unwrap_or_default()
                        .split_whitespace()
                        .map(str::to_string)
                        .collect();
                    found.unified = Some((mount_point, controllers));
                }
                _ => {}
            }
        }
        found
    }

    /// The v2 controllers berth uses that are not already bound to v1.
    fn v2_controllers(&self) -> Vec<&'static str> {
        let Some((_, available)) = &self.unified else {
            return Vec::new();
        };
        V2_CONTROLLERS
            .iter()
            .copied()
            .filter(|c| available.contains(*c) && !self.v1.contains_key(*c))
            .collect()
    }

    /// The container's cgroup directories that exist now (for clean-up when
    /// the monitor that made them is gone).
    pub fn existing(&self, parent: &str, id: &str) -> ContainerCgroup {
        let mounts = self.v1.values().chain(self.unified.iter().map(|(m, _)| m));
        let mut paths: Vec<PathBuf> = mounts
            .map(|m| m.join(parent).join(id))
            .filter(|p| p.is_dir())
            .collect();
        paths.dedup();
        ContainerCgroup {
            paths,
            unified: None,
            memory_v1: None,
        }
    }

    /// Whether device rules can be enforced here: a v1 `devices` hierarchy,
    /// or a v2 one (an eBPF device filter on the container's cgroup).
    pub fn enforces_devices(&self) -> bool {
        self.v1.contains_key("devices") || self.unified.is_some()
    }

    /// Makes the container's cgroups under `parent/id` and writes `resources`
    /// and, when given, the device allow list (everything else denied).
    /// On error, whatever was made is removed again.
    pub fn create(
        &self,
        parent: &str,
        id: &str,
        resources: &Resources,
        devices: Option<&[DeviceRule]>,
    ) -> Result<ContainerCgroup, CgroupError> {
        let mut cgroup = ContainerCgroup::default();
        let result = self
            .create_into(&mut cgroup, parent, id, resources)
            .and_then(|()| match devices {
                Some(rules) => self.restrict_devices(&cgroup, parent, id, rules),
                None => Ok(()),
            });
        if let Err(err) = result {
            cgroup.remove();
            return Err(err);
        }
        Ok(cgroup)
    }

    /// Device policy in both places a device access is checked: the v1
    /// `devices` controller, and the eBPF filter of the task's v2 cgroup.
    /// A filter that cannot be loaded is an error only where no v1
    /// controller enforces the rules anyway.
    fn restrict_devices(
        &self,
        cgroup: &ContainerCgroup,
        parent: &str,
        id: &str,
        rules: &[DeviceRule],
    ) -> Result<(), CgroupError> {
        if let Some(mount) = self.v1.get("devices") {
            write_device_rules(&mount.join(parent).join(id), rules)?;
        }
        let Some(dir) = &cgroup.unified else {
            return Ok(());
        };
        match super::device_filter::attach(dir, rules) {
            Err(err) if self.v1.contains_key("devices") => {
                tracing::warn!("cgroup v2 device filter not loaded (v1 devices enforces): {err}");
                Ok(())
            }
            result => result.map_err(|source| CgroupError {
                path: dir.clone(),
                source,
            }),
        }
    }

    fn create_into(
        &self,
        cgroup: &mut ContainerCgroup,
        parent: &str,
        id: &str,
        resources: &Resources,
    ) -> Result<(), CgroupError> {
        let mut seen = BTreeSet::new();
        for (controller, mount) in &self.v1 {
            if !seen.insert(mount.clone()) {
                continue;
            }
            let parent_dir = mount.join(parent);
            let dir = parent_dir.join(id);
            make_dir(&parent_dir)?;
            if controller == "cpuset" || self.v1.get("cpuset") == Some(mount) {
                inherit_cpuset(mount, &parent_dir)?;
            }
            make_dir(&dir)?;
            cgroup.paths.push(dir.clone());
            if self.v1.get("cpuset") == Some(mount) {
                inherit_cpuset(&parent_dir, &dir)?;
            }
        }
        let v2 = self.v2_controllers();
        if let Some((mount, _)) = &self.unified {
            let parent_dir = mount.join(parent);
            make_dir(&parent_dir)?;
            if !v2.is_empty() {
                let enable: Vec<String> = v2.iter().map(|c| format!("+{c}")).collect();
                write(&mount.join("cgroup.subtree_control"), &enable.join(" "))?;
                write(
                    &parent_dir.join("cgroup.subtree_control"),
                    &enable.join(" "),
                )?;
            }
            let dir = parent_dir.join(id);
            make_dir(&dir)?;
            cgroup.paths.push(dir.clone());
            cgroup.unified = Some(dir);
        }
        for (controller, files) in limit_files(resources) {
            let (dir, writes) = if v2.contains(&controller) {
                (cgroup.unified.clone(), files.v2)
            } else {
                let dir = self
                    .v1
                    .get(controller)
                    .map(|mount| mount.join(parent).join(id));
                (dir, files.v1)
            };
            if writes.is_empty() {
                continue;
            }
            let Some(dir) = dir else {
                return Err(CgroupError {
                    path: PathBuf::from(controller),
                    source: io::Error::other(format!(
                        "the {controller} controller is not available on this host"
                    )),
                });
            };
            for (file, value) in writes {
                write(&dir.join(file), &value)?;
            }
        }
        cgroup.memory_v1 = self
            .v1
            .get("memory")
            .map(|mount| mount.join(parent).join(id));
        Ok(())
    }
}

/// Denies every device, then allows `rules` (v1 `devices` controller).
fn write_device_rules(dir: &Path, rules: &[DeviceRule]) -> Result<(), CgroupError> {
    write(&dir.join("devices.deny"), "a")?;
    for rule in rules {
        for line in rule.v1_lines() {
            write(&dir.join("devices.allow"), &line)?;
        }
    }
    Ok(())
}

/// Files to write per controller, for each cgroup version.
#[derive(Default)]
struct LimitFiles {
    v1: Vec<(&'static str, String)>,
    v2: Vec<(&'static str, String)>,
}

const CFS_PERIOD: u64 = 100_000;

fn limit_files(resources: &Resources) -> Vec<(&'static str, LimitFiles)> {
    let mut memory = LimitFiles::default();
    if let Some(limit) = resources.memory_reservation {
        memory
            .v1
            .push(("memory.soft_limit_in_bytes", limit.to_string()));
        memory.v2.push(("memory.low", limit.to_string()));
    }
    if let Some(limit) = resources.memory {
        memory.v1.push(("memory.limit_in_bytes", limit.to_string()));
        memory.v2.push(("memory.max", limit.to_string()));
        match resources.memory_swap {
            Some(-1) => {
                memory.v1.push(("memory.memsw.limit_in_bytes", "-1".into()));
                memory.v2.push(("memory.swap.max", "max".into()));
            }
            Some(total) if total > 0 => {
                memory
                    .v1
                    .push(("memory.memsw.limit_in_bytes", total.to_string()));
                let swap = (total as u64).saturating_sub(limit);
                memory.v2.push(("memory.swap.max", swap.to_string()));
            }
            _ => {}
        }
    }
    if resources.oom_kill_disable {
        // cgroup v2 has no switch for this; callers warn.
        memory.v1.push(("memory.oom_control", "1".into()));
    }
    let mut cpu = LimitFiles::default();
    if let Some(cpus) = resources.cpus.filter(|c| *c > 0.0) {
        let quota = (cpus * CFS_PERIOD as f64).round() as u64;
        cpu.v1.push(("cpu.cfs_period_us", CFS_PERIOD.to_string()));
        cpu.v1.push(("cpu.cfs_quota_us", quota.to_string()));
        cpu.v2.push(("cpu.max", format!("{quota} {CFS_PERIOD}")));
    }
    if let Some(shares) = resources.cpu_shares.filter(|s| *s > 0) {
        cpu.v1.push(("cpu.shares", shares.to_string()));
        cpu.v2
            .push(("cpu.weight", shares_to_weight(shares).to_string()));
    }
    let mut cpuset = LimitFiles::default();
    if let Some(cpus) = resources.cpuset.as_ref().filter(|c| !c.is_empty()) {
        cpuset.v1.push(("cpuset.cpus", cpus.clone()));
        cpuset.v2.push(("cpuset.cpus", cpus.clone()));
    }
    let mut pids = LimitFiles::default();
    if let Some(limit) = resources.pids_limit {
        let value = if limit <= 0 {
            "max".to_string()
        } else {
            limit.to_string()
        };
        pids.v1.push(("pids.max", value.clone()));
        pids.v2.push(("pids.max", value));
    }
    vec![
        ("memory", memory),
        ("cpu", cpu),
        ("cpuset", cpuset),
        ("pids", pids),
    ]
}

/// cpu.shares (2..262144) to cpu.weight (1..10000), the conversion runc uses.
pub fn shares_to_weight(shares: u64) -> u64 {
    let shares = shares.clamp(2, 262_144);
    1 + ((shares - 2) * 9999) / 262_142
}

fn make_dir(dir: &Path) -> Result<(), CgroupError> {
    match fs::create_dir(dir) {
        Err(err) if err.kind() != io::ErrorKind::AlreadyExists => Err(CgroupError {
            path: dir.to_path_buf(),
            source: err,
        }),
        _ => Ok(()),
    }
}

fn write(path: &Path, value: &str) -> Result<(), CgroupError> {
    fs::write(path, value).map_err(|source| CgroupError {
        path: path.to_path_buf(),
        source,
    })
}

/// A new v1 cpuset cgroup is unusable until it has CPUs and memory nodes.
fn inherit_cpuset(from: &Path, to: &Path) -> Result<(), CgroupError> {
    for file in ["cpuset.cpus", "cpuset.mems"] {
        let current = fs::read_to_string(to.join(file)).unwrap_or_default();
        if current.trim().is_empty() {
            let value = fs::read_to_string(from.join(file)).map_err(|source| CgroupError {
                path: from.join(file),
                source,
            })?;
            write(&to.join(file), value.trim())?;
        }
    }
    Ok(())
}

/// One container's cgroups, one directory per hierarchy.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ContainerCgroup {
    pub paths: Vec<PathBuf>,
    pub unified: Option<PathBuf>,
    pub memory_v1: Option<PathBuf>,
}

impl ContainerCgroup {
    /// Moves a process into every hierarchy of the container.
    pub fn add_process(&self, pid: i32) -> Result<(), CgroupError> {
        for dir in &self.paths {
            write(&dir.join("cgroup.procs"), &pid.to_string())?;
        }
        Ok(())
    }

    /// How many times the kernel's OOM killer killed a process in here.
    pub fn oom_kills(&self) -> u64 {
        let read_counter = |path: PathBuf, key: &str| -> Option<u64> {
            let text = fs::read_to_string(path).ok()?;
            text.lines().find_map(|line| {
                let (name, value) = line.split_once(' ')?;
                (name == key).then(|| value.trim().parse().ok())?
            })
        };
        let v1 = self
            .memory_v1
            .as_ref()
            .and_then(|dir| read_counter(dir.join("memory.oom_control"), "oom_kill"));
        let v2 = self
            .unified
            .as_ref()
            .and_then(|dir| read_counter(dir.join("memory.events"), "oom_kill"));
        v1.unwrap_or(0) + v2.unwrap_or(0)
    }

    /// Freezes (`true`) or thaws every process of the container: the v1
    /// freezer hierarchy when there is one, else cgroup v2's `cgroup.freeze`.
    pub fn freeze(&self, frozen: bool) -> Result<(), CgroupError> {
        let v1 = self
            .paths
            .iter()
            .find(|dir| dir.join("freezer.state").exists());
        if let Some(dir) = v1 {
            return write(
                &dir.join("freezer.state"),
                if frozen { "FROZEN" } else { "THAWED" },
            );
        }
        let v2 = self
            .unified
            .as_ref()
            .map(|dir| dir.join("cgroup.freeze"))
            .filter(|file| file.exists());
        match v2 {
            Some(file) => write(&file, if frozen { "1" } else { "0" }),
            None => Err(CgroupError {
                path: self.paths.first().cloned().unwrap_or_default(),
                source: std::io::Error::new(
                    std::io::ErrorKind::Unsupported,
                    "no freezer: neither a v1 freezer hierarchy nor cgroup v2",
                ),
            }),
        }
    }

    /// Processes still in the container's cgroups.
    pub fn processes(&self) -> BTreeSet<i32> {
        self.paths
            .iter()
            .filter_map(|dir| fs::read_to_string(dir.join("cgroup.procs")).ok())
            .flat_map(|text| {
                text.split_whitespace()
                    .filter_map(|pid| pid.parse().ok())
                    .collect::<Vec<i32>>()
            })
            .collect()
    }

    /// Kills whatever is left and removes the directories. Best effort: a
    /// directory that cannot be removed within a second is left and logged.
    pub fn remove(&self) {
        let deadline = Instant::now() + Duration::from_secs(1);
        loop {
            let left = self.processes();
            for pid in &left {
                let _ = nix::sys::signal::kill(
                    nix::unistd::Pid::from_raw(*pid),
                    nix::sys::signal::Signal::SIGKILL,
                );
            }
            let mut busy = false;
            for dir in &self.paths {
                match fs::remove_dir(dir) {
                    Ok(()) => {}
                    Err(err) if err.kind() == io::ErrorKind::NotFound => {}
                    Err(_) => busy = true,
                }
            }
            if !busy {
                return;
            }
            if Instant::now() > deadline {
                tracing::warn!(paths = ?self.paths, "cgroup still busy; left in place");
                return;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MOUNTINFO: &str = "\
30 23 0:26 / /sys/fs/cgroup rw - tmpfs tmpfs rw,mode=755
31 30 0:27 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
32 30 0:28 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct
33 30 0:29 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
34 30 0:30 / /sys/fs/cgroup/net_cls,net_prio rw - cgroup cgroup rw,net_cls,net_prio
35 30 0:31 / /sys/fs/cgroup/systemd rw - cgroup cgroup rw,name=systemd
36 30 0:32 / /nonexistent/unified rw - cgroup2 cgroup2 rw
";

    #[test]
    fn hybrid_mountinfo() {
        let found = Hierarchies::parse(MOUNTINFO);
        assert_eq!(found.v1["memory"], PathBuf::from("/sys/fs/cgroup/memory"));
        assert_eq!(found.v1["cpu"], PathBuf::from("/sys/fs/cgroup/cpu"));
        assert!(!found.v1.contains_key("net_cls"));
        let (mount, controllers) = found.unified.unwrap();
        assert_eq!(mount, PathBuf::from("/nonexistent/unified"));
        assert!(controllers.is_empty());
    }

    #[test]
    fn limits_in_both_versions() {
        let files = limit_files(&Resources {
            memory: Some(64 << 20),
            memory_swap: Some(128 << 20),
            cpus: Some(1.5),
            cpu_shares: Some(512),
            pids_limit: Some(20),
            oom_kill_disable: true,
            ..Resources::default()
        });
        let get = |controller: &str| files.iter().find(|(c, _)| *c == controller).unwrap();
        let memory = &get("memory").1;
        assert!(memory
            .v1
            .contains(&("memory.memsw.limit_in_bytes", (128u64 << 20).to_string())));
        assert!(memory
            .v2
            .contains(&("memory.swap.max", (64u64 << 20).to_string())));
        assert!(memory.v1.contains(&("memory.oom_control", "1".to_string())));
        assert!(!memory.v2.iter().any(|(file, _)| file.contains("oom")));
        let cpu = &get("cpu").1;
        assert!(cpu.v1.contains(&("cpu.cfs_quota_us", "150000".to_string())));
        assert!(cpu.v2.contains(&("cpu.max", "150000 100000".to_string())));
        assert!(cpu.v2.contains(&("cpu.weight", "20".to_string())));
        assert_eq!(get("pids").1.v1, vec![("pids.max", "20".to_string())]);
        assert_eq!(shares_to_weight(1024), 39);
        assert_eq!(shares_to_weight(2), 1);
        assert_eq!(shares_to_weight(262_144), 10_000);
    }
}
