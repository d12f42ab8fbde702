//! A compose service -> the runtime's `ContainerSpec` for one replica: the
//! process, identity, mounts, security and resource settings, and berth's
//! labels. Named and anonymous volumes come back as [`VolumeUse`]s for the
//! caller to turn into mounts (they need the volume store); host
//! directories that bind mounts need are listed to be created first.

use std::collections::BTreeMap;
use std::path::PathBuf;

use berth_runtime::container::cgroup::Hierarchies;
use berth_runtime::container::cgroup_view::CgroupNamespace;
use berth_runtime::container::devices::{host_devices, Device, DeviceRule};
use berth_runtime::container::rootfs::check_mount_destination;
use berth_runtime::container::{
    seccomp, ContainerSpec, InjectedFile, LogConfig, Mount, Namespace, ProcessSpec, Resources,
    Seccomp, Security, Ulimit,
};

use crate::compose::hash::service_config_hash;
use crate::compose::model::mounts::MountKind;
use crate::compose::model::service::Ulimit as ComposeUlimit;
use crate::compose::model::{Project, Service};

use super::files;
use crate::contract::annotations::{CONFIG_ANNOTATION, FILES_ANNOTATION};
use crate::contract::labels;

/// A volume a container mounts, resolved by the caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VolumeUse {
    /// Final volume name; `None` for an anonymous volume.
    pub name: Option<String>,
    pub target: String,
    pub read_only: bool,
    pub nocopy: bool,
}

/// The spec and what must exist before it can be created.
#[derive(Debug, Clone)]
pub struct Translated {
    pub spec: ContainerSpec,
    pub volumes: Vec<VolumeUse>,
    /// Bind sources to create when missing (`create_host_path`).
    pub host_dirs: Vec<PathBuf>,
    /// Namespaces of other containers to join (`ipc`/`pid: service:` or
    /// `container:`), for the caller to resolve to a container ID.
    pub joins: Vec<NamespaceJoin>,
    /// What is accepted but not honoured on this host, one sentence each
    /// naming the service (the caller logs them).
    pub warnings: Vec<String>,
}

/// Another container's namespace a service joins.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamespaceJoin {
    /// `ipc` or `pid`.
    pub field: &'static str,
    pub target: NamespaceMode,
}

/// A parsed `ipc`, `pid` or `uts` value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NamespaceMode {
    /// The container's own namespace (`private`, `shareable`, `none`, or unset).
    Private,
    Host,
    /// `service:NAME`: replica 1 of that service.
    Service(String),
    /// `container:NAME`: a container by name or ID.
    Container(String),
}

/// Parses `ipc`, `pid` or `uts` (`field`) as Docker accepts them.
pub fn namespace_mode(field: &str, value: Option<&str>) -> Result<NamespaceMode, String> {
    let value = value.unwrap_or("");
    let mode = match (field, value) {
        (_, "") | ("ipc", "private" | "shareable" | "none") => Some(NamespaceMode::Private),
        (_, "host") => Some(NamespaceMode::Host),
        ("ipc" | "pid", _) => match value.split_once(':') {
            Some(("service", name)) if !name.is_empty() => {
                Some(NamespaceMode::Service(name.to_string()))
            }
            Some(("container", name)) if !name.is_empty() => {
                Some(NamespaceMode::Container(name.to_string()))
            }
            _ => None,
        },
        _ => None,
    };
    mode.ok_or_else(|| {
        let expected = match field {
            "ipc" => "private, shareable, none, host, service:NAME or container:NAME",
            "pid" => "host, service:NAME or container:NAME",
            _ => "host",
        };
        format!("invalid value {value:?} (expected {expected})")
    })
}

/// `seccomp=…` as given in `security_opt`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum SeccompOption {
    /// Docker's default profile (no option, `builtin` or `default`).
    #[default]
    Default,
    Unconfined,
    /// A profile file in Docker's JSON format, as written.
    File(String),
}

/// `security_opt` as berth honours it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SecurityOptions {
    pub no_new_privileges: bool,
    pub seccomp: SeccompOption,
    /// Index of the `seccomp=` entry (errors name it).
    pub seccomp_index: usize,
    /// `systempaths=unconfined`.
    pub unmask_system_paths: bool,
    /// Options accepted but ignored on this host.
    pub warnings: Vec<String>,
}

/// Parses `security_opt` entries (`key=value` or the older `key:value`);
/// `lsms` are the host's active Linux security modules. Errors are
/// `(index, message)`.
pub fn security_options(
    options: &[String],
    lsms: &[String],
) -> Result<SecurityOptions, (usize, String)> {
    let mut parsed = SecurityOptions::default();
    for (index, option) in options.iter().enumerate() {
        let at = option.find(['=', ':']);
        let (key, value) = match at {
            Some(at) => (&option[..at], Some(&option[at + 1..])),
            None => (option.as_str(), None),
        };
        let fail = |message: String| (index, message);
        match (key, value) {
            ("no-new-privileges", None | Some("true")) => parsed.no_new_privileges = true,
            ("no-new-privileges", Some("false")) => parsed.no_new_privileges = false,
            ("no-new-privileges", Some(other)) => {
                return Err(fail(format!(
                    "invalid no-new-privileges value {other:?} (expected true or false)"
                )))
            }
            ("seccomp", Some(value)) if !value.is_empty() => {
                parsed.seccomp = match value {
                    "unconfined" => SeccompOption::Unconfined,
                    "builtin" | "default" => SeccompOption::Default,
                    file => SeccompOption::File(file.to_string()),
                };
                parsed.seccomp_index = index;
            }
            ("label", Some("disable")) | ("apparmor", Some("unconfined")) => {
                // berth applies no label or profile: this is what happens anyway.
            }
            ("label" | "apparmor", Some(value)) if !value.is_empty() => {
                let (module, name) = if key == "label" {
                    ("selinux", "SELinux")
                } else {
                    ("apparmor", "AppArmor")
                };
                if lsms.iter().any(|m| m == module) {
                    return Err(fail(format!(
                        "{option:?} is not supported: berth does not apply {name} {} (this host runs {name})",
                        if key == "label" { "labels" } else { "profiles" }
                    )));
                }
                parsed.warnings.push(format!(
                    "{option} is ignored: {name} is not enabled on this host"
                ));
            }
            ("systempaths", Some("unconfined")) => parsed.unmask_system_paths = true,
            ("systempaths", Some(other)) => {
                return Err(fail(format!(
                    "invalid systempaths value {other:?} (expected unconfined)"
                )))
            }
            _ => {
                return Err(fail(format!(
                    "unknown or incomplete security option {option:?} (berth knows no-new-privileges[=true|false], seccomp=unconfined|builtin|PROFILE.json, label=…, apparmor=…, systempaths=unconfined)"
                )))
            }
        }
    }
    Ok(parsed)
}

/// The seccomp setting of a service: a profile file (relative to the
/// project directory) is read and checked here, so a bad one is refused
/// before anything is made.
fn seccomp_setting(project: &Project, option: &SeccompOption) -> Result<Seccomp, String> {
    let file = match option {
        SeccompOption::Default => return Ok(Seccomp::Default),
        SeccompOption::Unconfined => return Ok(Seccomp::Unconfined),
        SeccompOption::File(file) => project.working_dir.join(file),
    };
    let json = std::fs::read_to_string(&file)
        .map_err(|err| format!("seccomp profile {}: {err}", file.display()))?;
    seccomp::Profile::parse(&json)
        .map_err(|err| format!("seccomp profile {}: {err}", file.display()))?;
    Ok(Seccomp::Profile {
        source: file.display().to_string(),
        json,
    })
}

/// The host's active Linux security modules (`/sys/kernel/security/lsm`,
/// else guessed from `/sys/fs/selinux` and the AppArmor module).
pub fn host_lsms() -> Vec<String> {
    if let Ok(text) = std::fs::read_to_string("/sys/kernel/security/lsm") {
        return text.trim().split(',').map(str::to_string).collect();
    }
    let mut found = Vec::new();
    if std::path::Path::new("/sys/fs/selinux/enforce").exists() {
        found.push("selinux".to_string());
    }
    let apparmor = std::fs::read_to_string("/sys/module/apparmor/parameters/enabled");
    if apparmor.is_ok_and(|t| t.trim() == "Y") {
        found.push("apparmor".to_string());
    }
    found
}

/// A service attribute berth cannot honour, named for the user.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("service {service:?}: {field}: {message}")]
pub struct TranslateError {
    pub service: String,
    pub field: String,
    pub message: String,
}

/// Translates replica `number` of `service` (named `service_name`).
pub fn container_spec(
    project: &Project,
    service_name: &str,
    service: &Service,
    number: u32,
    container_name: &str,
) -> Result<Translated, TranslateError> {
    let fail = |field: &str, message: String| TranslateError {
        service: service_name.to_string(),
        field: field.to_string(),
        message,
    };
    let mut labels: BTreeMap<String, String> = service.labels.clone();
    for (key, value) in [
        (labels::PROJECT, project.name.clone()),
        (labels::SERVICE, service_name.to_string()),
        (labels::NUMBER, number.to_string()),
        (labels::CONFIG_HASH, service_config_hash(service)),
        (labels::ONEOFF, "False".to_string()),
        (
            labels::WORKING_DIR,
            project.working_dir.display().to_string(),
        ),
        (
            labels::CONFIG_FILES,
            project
                .config_files
                .iter()
                .map(|f| f.display().to_string())
                .collect::<Vec<_>>()
                .join(","),
        ),
    ] {
        labels.insert(key.to_string(), value);
    }
    let env = service
        .environment
        .iter()
        .filter_map(|(key, value)| value.as_ref().map(|v| format!("{key}={v}")))
        .collect();
    let process = ProcessSpec {
        entrypoint: service.entrypoint.clone(),
        command: service.command.clone(),
        env,
        working_dir: service.working_dir.clone(),
        user: service.user.clone(),
        group_add: service.group_add.iter().map(|g| g.0.clone()).collect(),
        tty: service.tty,
        stdin_open: service.stdin_open,
        stdin_once: false,
    };
    let mut mounts = Vec::new();
    let mut volumes = Vec::new();
    let mut host_dirs = Vec::new();
    for (index, volume) in service.volumes.iter().enumerate() {
        let field = format!("volumes[{index}]");
        check_mount_destination(&volume.target, service.privileged)
            .map_err(|message| fail(&field, message))?;
        match volume.kind {
            MountKind::Bind => {
                let source = volume
                    .source
                    .clone()
                    .ok_or_else(|| fail(&field, "a bind mount needs a source".into()))?;
                let bind = volume.bind.clone().unwrap_or_default();
                if bind.create_host_path {
                    host_dirs.push(PathBuf::from(&source));
                }
                mounts.push(Mount::Bind {
                    source: PathBuf::from(source),
                    target: volume.target.clone(),
                    read_only: volume.read_only,
                    propagation: bind.propagation.clone(),
                    recursive: bind.recursive.as_deref() != Some("disabled"),
                });
            }
            MountKind::Volume => {
                let name = volume.source.as_ref().map(|key| {
                    project
                        .volumes
                        .get(key)
                        .and_then(|v| v.name.clone())
                        .unwrap_or_else(|| format!("{}_{key}", project.name))
                });
                volumes.push(VolumeUse {
                    name,
                    target: volume.target.clone(),
                    read_only: volume.read_only,
                    nocopy: volume.volume.as_ref().is_some_and(|v| v.nocopy),
                });
            }
            MountKind::Tmpfs => {
                let options = volume.tmpfs.clone().unwrap_or_default();
                mounts.push(Mount::Tmpfs {
                    target: volume.target.clone(),
                    size: options.size.map(|s| s.0.max(0) as u64),
                    mode: options.mode.map(|m| m.0),
                    read_only: volume.read_only,
                });
            }
            other => {
                return Err(fail(
                    &field,
                    format!("mounts of type {other:?} are not supported yet").to_lowercase(),
                ))
            }
        }
    }
    for (index, entry) in service.tmpfs.iter().enumerate() {
        let (target, options) = entry.split_once(':').unwrap_or((entry, ""));
        check_mount_destination(target, service.privileged)
            .map_err(|message| fail(&format!("tmpfs[{index}]"), message))?;
        let mut size = None;
        let mut mode = None;
        for option in options.split(',').filter(|o| !o.is_empty()) {
            if let Some(value) = option.strip_prefix("size=") {
                size = Some(parse_size(value).ok_or_else(|| {
                    fail(
                        &format!("tmpfs[{index}]"),
                        format!("invalid size {value:?}"),
                    )
                })?);
            } else if let Some(value) = option.strip_prefix("mode=") {
                mode = Some(u32::from_str_radix(value, 8).map_err(|_| {
                    fail(
                        &format!("tmpfs[{index}]"),
                        format!("invalid mode {value:?}"),
                    )
                })?);
            }
        }
        mounts.push(Mount::Tmpfs {
            target: target.to_string(),
            size,
            mode,
            read_only: options.split(',').any(|o| o == "ro"),
        });
    }
    let limits = service
        .deploy
        .as_ref()
        .and_then(|d| d.resources.as_ref())
        .and_then(|r| r.limits.as_ref());
    let reservations = service
        .deploy
        .as_ref()
        .and_then(|d| d.resources.as_ref())
        .and_then(|r| r.reservations.as_ref());
    let positive = |bytes: i64| u64::try_from(bytes).ok().filter(|b| *b > 0);
    let mut warnings = Vec::new();
    let resources = Resources {
        memory: service
            .mem_limit
            .as_ref()
            .and_then(|m| positive(m.0))
            .or_else(|| {
                limits
                    .and_then(|l| l.memory.as_ref())
                    .and_then(|m| positive(m.0))
            }),
        memory_swap: service.memswap_limit.as_ref().map(|m| m.0),
        memory_reservation: service
            .mem_reservation
            .as_ref()
            .and_then(|m| positive(m.0))
            .or_else(|| {
                reservations
                    .and_then(|r| r.memory.as_ref())
                    .and_then(|m| positive(m.0))
            }),
        cpus: service.cpus.or_else(|| limits.and_then(|l| l.cpus)),
        cpu_shares: service.cpu_shares.and_then(|s| u64::try_from(s).ok()),
        cpuset: service.cpuset.clone(),
        pids_limit: service.pids_limit.or_else(|| limits.and_then(|l| l.pids)),
        device_rules: service
            .device_cgroup_rules
            .iter()
            .enumerate()
            .map(|(index, rule)| {
                DeviceRule::parse(rule)
                    .map_err(|err| fail(&format!("device_cgroup_rules[{index}]"), err.to_string()))
            })
            .collect::<Result<_, _>>()?,
        oom_kill_disable: service.oom_kill_disable,
    };
    let devices = mapped_devices(service).map_err(|(field, message)| fail(&field, message))?;
    warnings.extend(cgroup_warnings(service_name, service, &devices, &resources));
    let mode = |field: &str, value: &Option<String>| {
        namespace_mode(field, value.as_deref()).map_err(|message| fail(field, message))
    };
    let (ipc, pid, uts) = (
        mode("ipc", &service.ipc)?,
        mode("pid", &service.pid)?,
        mode("uts", &service.uts)?,
    );
    if uts == NamespaceMode::Host && service.hostname.as_deref().is_some_and(|h| !h.is_empty()) {
        return Err(fail(
            "uts",
            "\"host\" cannot be combined with hostname: the container has the host's name".into(),
        ));
    }
    let mut joins = Vec::new();
    let mut namespace = |field: &'static str, mode: NamespaceMode| match mode {
        NamespaceMode::Private => Namespace::New,
        NamespaceMode::Host => Namespace::Host,
        target => {
            joins.push(NamespaceJoin { field, target });
            // The caller sets the peer's container ID.
            Namespace::New
        }
    };
    let (ipc, pid, uts) = (
        namespace("ipc", ipc),
        namespace("pid", pid),
        namespace("uts", uts),
    );
    let options = if service.security_opt.is_empty() {
        SecurityOptions::default()
    } else {
        security_options(&service.security_opt, &host_lsms())
            .map_err(|(index, message)| fail(&format!("security_opt[{index}]"), message))?
    };
    warnings.extend(
        options
            .warnings
            .iter()
            .map(|w| format!("service {service_name:?}: security_opt: {w}")),
    );
    let mut security = Security {
        cap_add: service.cap_add.clone(),
        cap_drop: service.cap_drop.clone(),
        privileged: service.privileged,
        no_new_privileges: options.no_new_privileges,
        unmask_system_paths: options.unmask_system_paths,
        sysctls: service.sysctls.clone(),
        ulimits: service
            .ulimits
            .iter()
            .map(|(name, limit)| {
                let (soft, hard) = match limit {
                    ComposeUlimit::Single(value) => (*value, *value),
                    ComposeUlimit::Pair { soft, hard } => (*soft, *hard),
                };
                Ulimit {
                    name: name.clone(),
                    soft,
                    hard,
                }
            })
            .collect(),
        oom_score_adj: service.oom_score_adj.map(|s| s as i32),
        seccomp: Seccomp::Default,
    };
    let seccomp_field = format!("security_opt[{}]", options.seccomp_index);
    security.seccomp =
        seccomp_setting(project, &options.seccomp).map_err(|m| fail(&seccomp_field, m))?;
    // What only the compiler finds; the default profile is compiled at create.
    if let Seccomp::Profile { source, .. } = &security.seccomp {
        seccomp::program_for(&security)
            .map_err(|err| fail(&seccomp_field, format!("seccomp profile {source}: {err}")))?;
    }
    let log = log_config(service).map_err(|message| fail("logging", message))?;
    let mut annotations = BTreeMap::new();
    if let Ok(config) = serde_json::to_string(service) {
        annotations.insert(CONFIG_ANNOTATION.to_string(), config);
    }
    let service_files = files::service_files(project, service_name, service)?;
    let digests = files::digests(&service_files);
    if !digests.is_empty() {
        if let Ok(text) = serde_json::to_string(&digests) {
            annotations.insert(FILES_ANNOTATION.to_string(), text);
        }
    }
    let mut injected = Vec::new();
    for file in service_files {
        let description = file.description();
        match file.content {
            files::Content::Bytes(content) => injected.push(InjectedFile {
                target: file.target,
                description,
                content,
                uid: file.uid,
                gid: file.gid,
                mode: file.mode,
            }),
            files::Content::Directory(source) => mounts.push(Mount::Bind {
                source,
                target: file.target,
                read_only: true,
                propagation: None,
                recursive: true,
            }),
        }
    }
    let spec = ContainerSpec {
        id: None,
        endpoints: Vec::new(),
        start_gate: false,
        name: container_name.to_string(),
        labels,
        annotations,
        user_annotations: service.annotations.clone(),
        files: injected,
        process,
        hostname: service.hostname.clone(),
        domainname: service.domainname.clone(),
        mounts,
        read_only_rootfs: service.read_only,
        shm_size: service.shm_size.as_ref().and_then(|s| positive(s.0)),
        no_shm: service.ipc.as_deref() == Some("none"),
        etc_hosts: None,
        resolv_conf: None,
        network: Default::default(),
        ipc,
        pid,
        uts,
        cgroupns: cgroup_namespace(service.cgroup.as_deref()).map_err(|m| fail("cgroup", m))?,
        devices,
        security,
        resources,
        init: service.init.unwrap_or(false),
        stop_signal: service.stop_signal.clone(),
        stop_timeout: service.stop_grace_period.as_ref().map(|d| d.as_std()),
        log,
    };
    Ok(Translated {
        spec,
        volumes,
        host_dirs,
        joins,
        warnings,
    })
}

/// `cgroup: host` or `private` (the default).
fn cgroup_namespace(value: Option<&str>) -> Result<CgroupNamespace, String> {
    match value {
        None | Some("private") => Ok(CgroupNamespace::Private),
        Some("host") => Ok(CgroupNamespace::Host),
        Some(other) => Err(format!("{other:?} is not \"host\" or \"private\"")),
    }
}

/// The host device nodes `devices:` maps; errors are (field, message).
fn mapped_devices(service: &Service) -> Result<Vec<Device>, (String, String)> {
    let mut devices = Vec::new();
    for (index, mapping) in service.devices.iter().enumerate() {
        let field = format!("devices[{index}]");
        if !mapping.source.starts_with('/') {
            return Err((
                field,
                format!(
                    "{:?} is not a host device path (CDI device names are not supported)",
                    mapping.source
                ),
            ));
        }
        let permissions = match mapping.permissions.as_str() {
            "" => "rwm",
            given => given,
        };
        let found = host_devices(&mapping.source, &mapping.target, permissions)
            .map_err(|err| (field, err.to_string()))?;
        devices.extend(found);
    }
    Ok(devices)
}

/// What this host's cgroups cannot do of what the service asks: device
/// rules with neither a v1 devices controller nor cgroup v2, `oom_kill_disable` without v1
/// memory (and Docker's warning when it comes without a memory limit).
fn cgroup_warnings(
    service_name: &str,
    service: &Service,
    devices: &[Device],
    resources: &Resources,
) -> Vec<String> {
    let mut warnings = Vec::new();
    let needs_device_cgroup =
        !service.privileged && (!devices.is_empty() || !resources.device_rules.is_empty());
    let needs_oom_control = resources.oom_kill_disable;
    if !needs_device_cgroup && !needs_oom_control {
        return warnings;
    }
    let hierarchies = Hierarchies::detect().unwrap_or_default();
    if needs_device_cgroup && !hierarchies.enforces_devices() {
        warnings.push(format!(
            "service {service_name:?}: devices/device_cgroup_rules: device access is not restricted: this host has neither a cgroup v1 devices controller nor cgroup v2 (for an eBPF device filter)"
        ));
    }
    if needs_oom_control && !hierarchies.v1.contains_key("memory") {
        warnings.push(format!(
            "service {service_name:?}: oom_kill_disable is ignored: cgroup v2 has no way to disable the OOM killer"
        ));
    } else if needs_oom_control && resources.memory.is_none() {
        warnings.push(format!(
            "service {service_name:?}: oom_kill_disable without a memory limit may let the container exhaust the host's memory"
        ));
    }
    warnings
}

/// Translates one replica of each of `services` and discards the result:
/// the first value that cannot be honoured, before anything is made.
pub fn check(project: &Project, services: &[String]) -> Result<(), TranslateError> {
    for name in services {
        if let Some(service) = project.services.get(name) {
            container_spec(project, name, service, 1, name)?;
        }
    }
    Ok(())
}

/// `json-file` (default) and `local` keep the log (with `max-size`/`max-file`);
/// `none` discards it; other drivers are refused.
fn log_config(service: &Service) -> Result<LogConfig, String> {
    let Some(logging) = &service.logging else {
        return Ok(LogConfig::default());
    };
    match logging.driver.as_deref().unwrap_or("json-file") {
        "json-file" | "local" => {
            let max_size = match logging.options.get("max-size") {
                Some(size) => {
                    Some(parse_size(size).ok_or_else(|| format!("invalid max-size {size:?}"))?)
                }
                None => None,
            };
            let max_files = match logging.options.get("max-file") {
                Some(count) => count
                    .parse::<u32>()
                    .ok()
                    .filter(|c| *c > 0)
                    .ok_or_else(|| {
                        format!("invalid max-file {count:?} (expected a positive number)")
                    })?,
                None => 1,
            };
            Ok(LogConfig {
                enabled: true,
                max_size,
                max_files,
            })
        }
        "none" => Ok(LogConfig {
            enabled: false,
            ..LogConfig::default()
        }),
        other => Err(format!(
            "log driver {other:?} is not supported (berth supports json-file, local and none)"
        )),
    }
}

/// `10m`, `1g`, `512k`, `100` (bytes) as Docker parses them (binary units).
fn parse_size(text: &str) -> Option<u64> {
    let text = text.trim().to_ascii_lowercase();
    let digits_end = text
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(digits_end);
    let number: f64 = number.parse().ok()?;
    let factor: u64 = match unit.trim_end_matches('b').trim_end_matches('i') {
        "" => 1,
        "k" => 1 << 10,
        "m" => 1 << 20,
        "g" => 1 << 30,
        "t" => 1 << 40,
        _ => return None,
    };
    Some((number * factor as f64) as u64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compose::load_from_str;

    const YAML: &str = r#"
services:
  web:
    image: busybox
    command: ["sh", "-c", "echo hi"]
    environment: {A: "1", B: ""}
    user: app
    working_dir: /srv
    tty: true
    cap_add: [NET_ADMIN]
    security_opt: [no-new-privileges:true]
    mem_limit: 64m
    cpus: 0.5
    pids_limit: 20
    ulimits: {nofile: {soft: 100, hard: 200}, nproc: 50}
    stop_signal: SIGUSR1
    stop_grace_period: 3s
    init: true
    read_only: true
    tmpfs: ["/run:size=1m,mode=0755"]
    volumes:
      - ./data:/data:ro
      - cache:/cache
      - /anon
    logging: {driver: json-file, options: {max-size: 1m, max-file: "3"}}
volumes:
  cache: {}
"#;

    #[test]
    fn a_service_becomes_a_container_spec() {
        let dir = tempfile::tempdir().unwrap();
        let project = load_from_str(YAML, dir.path()).unwrap().project;
        let service = &project.services["web"];
        let t = container_spec(&project, "web", service, 2, "fuzz-web-2").unwrap();
        let spec = &t.spec;
        assert_eq!(spec.name, "fuzz-web-2");
        assert_eq!(spec.labels[labels::NUMBER], "2");
        assert_eq!(spec.labels[labels::SERVICE], "web");
        assert_eq!(
            spec.process.command.as_deref().unwrap(),
            ["sh", "-c", "echo hi"]
        );
        assert_eq!(spec.process.env, ["A=1", "B="]);
        assert_eq!(spec.process.user.as_deref(), Some("app"));
        assert!(spec.process.tty && spec.init && spec.read_only_rootfs);
        assert!(spec.security.no_new_privileges);
        assert_eq!(spec.resources.memory, Some(64 << 20));
        assert_eq!(spec.resources.cpus, Some(0.5));
        assert_eq!(spec.resources.pids_limit, Some(20));
        assert_eq!(spec.security.ulimits.len(), 2);
        assert_eq!(spec.stop_timeout, Some(std::time::Duration::from_secs(3)));
        assert_eq!(spec.log.max_size, Some(1 << 20));
        assert_eq!(spec.log.max_files, 3);
        assert!(
            matches!(&spec.mounts[0], Mount::Bind { target, read_only: true, .. } if target == "/data")
        );
        assert!(
            matches!(&spec.mounts[1], Mount::Tmpfs { target, size: Some(1048576), mode: Some(0o755), .. } if target == "/run")
        );
        assert_eq!(t.volumes.len(), 2);
        assert_eq!(t.volumes[0].name.as_deref(), Some("fuzz_cache"));
        assert_eq!(t.volumes[1].name, None);
        assert_eq!(t.host_dirs, vec![dir.path().join("data")]);
    }

    #[test]
    fn mounts_over_the_root_proc_sys_or_dev_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let refused = |volumes: &str, privileged: bool| {
            let yaml = format!(
                "services:\n  web:\n    image: busybox\n    privileged: {privileged}\n{volumes}"
            );
            let project = load_from_str(&yaml, dir.path()).unwrap().project;
            container_spec(&project, "web", &project.services["web"], 1, "web")
                .err()
                .map(|err| err.to_string())
        };
        let err = refused("    volumes: [\"/tmp:/\"]\n", true).unwrap();
        assert!(err.contains("volumes[0]") && err.contains("root"), "{err}");
        let err = refused("    volumes: [\"/tmp:/proc\"]\n", true).unwrap();
        assert!(err.contains("inside /proc"), "{err}");
        let err = refused("    tmpfs: [\"/dev:size=1m\"]\n", false).unwrap();
        assert!(
            err.contains("tmpfs[0]") && err.contains("privileged"),
            "{err}"
        );
        assert!(refused("    volumes: [\"/tmp:/sys:ro\"]\n", false).is_some());
        assert!(refused("    volumes: [\"/tmp:/sys:ro\"]\n", true).is_none());
        assert!(refused("    volumes: [\"/tmp:/proc/meminfo\"]\n", false).is_none());
    }

    #[test]
    fn secrets_configs_and_annotations_reach_the_spec() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("pw"), "s3cret").unwrap();
        std::fs::create_dir(dir.path().join("certs")).unwrap();
        let yaml = "services:\n  web:\n    image: x\n    annotations: {a.b: c}\n    secrets: [{source: pw, mode: 0400, uid: '7'}]\n    configs: [certs]\nsecrets:\n  pw: {file: ./pw}\nconfigs:\n  certs: {file: ./certs}\n";
        let project = load_from_str(yaml, dir.path()).unwrap().project;
        let spec = container_spec(&project, "web", &project.services["web"], 1, "x")
            .unwrap()
            .spec;
        assert_eq!(
            spec.files,
            [InjectedFile {
                target: "/run/secrets/pw".into(),
                description: "secret pw".into(),
                content: b"s3cret".to_vec(),
                uid: 7,
                gid: 0,
                mode: 0o400,
            }]
        );
        // A directory is bound read-only as it is.
        assert!(spec.mounts.iter().any(|m| matches!(m,
            Mount::Bind { target, read_only: true, source, .. }
                if target == "/certs" && *source == dir.path().join("certs"))));
        assert_eq!(spec.user_annotations["a.b"], "c");
        assert!(!spec.user_annotations.contains_key(CONFIG_ANNOTATION));
        let digests: BTreeMap<String, String> =
            serde_json::from_str(&spec.annotations[FILES_ANNOTATION]).unwrap();
        assert_eq!(digests.keys().collect::<Vec<_>>(), ["secret pw"]);
    }

    #[test]
    fn namespace_modes() {
        use NamespaceMode::*;
        let ok = |field, value| namespace_mode(field, Some(value)).unwrap();
        assert_eq!(namespace_mode("ipc", None).unwrap(), Private);
        assert_eq!(ok("ipc", "private"), Private);
        assert_eq!(ok("ipc", "shareable"), Private);
        assert_eq!(ok("ipc", "host"), Host);
        assert_eq!(ok("ipc", "service:db"), Service("db".into()));
        assert_eq!(ok("pid", "container:abc"), Container("abc".into()));
        assert_eq!(ok("pid", "host"), Host);
        assert_eq!(ok("uts", "host"), Host);
        assert_eq!(ok("uts", ""), Private);
        assert_eq!(ok("ipc", "none"), Private);
        for (field, value) in [
            ("ipc", "service:"),
            ("ipc", "Host"),
            ("pid", "private"),
            ("pid", "shareable"),
            ("pid", "container:"),
            ("uts", "private"),
            ("uts", "service:x"),
        ] {
            let err = namespace_mode(field, Some(value)).unwrap_err();
            assert!(
                err.starts_with(&format!("invalid value {value:?} (expected ")),
                "{err}"
            );
        }
    }

    #[test]
    fn cgroup_namespaces() {
        use berth_runtime::container::cgroup_view::CgroupNamespace::*;
        let dir = tempfile::tempdir().unwrap();
        let translate = |attribute: &str| {
            let yaml = format!("services:\n  web:\n    image: x\n    {attribute}\n");
            let project = load_from_str(&yaml, dir.path()).unwrap().project;
            container_spec(&project, "web", &project.services["web"], 1, "x")
        };
        assert_eq!(translate("init: false").unwrap().spec.cgroupns, Private);
        assert_eq!(translate("cgroup: private").unwrap().spec.cgroupns, Private);
        assert_eq!(translate("cgroup: host").unwrap().spec.cgroupns, Host);
        assert_eq!(
            cgroup_namespace(Some("shared")).unwrap_err(),
            "\"shared\" is not \"host\" or \"private\""
        );
    }

    #[test]
    fn security_opt_variants() {
        let parse = |opts: &[&str], lsms: &[&str]| {
            let opts: Vec<String> = opts.iter().map(|o| o.to_string()).collect();
            let lsms: Vec<String> = lsms.iter().map(|o| o.to_string()).collect();
            security_options(&opts, &lsms)
        };
        for on in [
            "no-new-privileges",
            "no-new-privileges:true",
            "no-new-privileges=true",
        ] {
            assert!(parse(&[on], &[]).unwrap().no_new_privileges, "{on}");
        }
        for off in ["no-new-privileges:false", "no-new-privileges=false"] {
            assert!(!parse(&[off], &[]).unwrap().no_new_privileges, "{off}");
        }
        // Later entries win, as Docker reads them.
        assert!(
            !parse(&["no-new-privileges", "no-new-privileges=false"], &[])
                .unwrap()
                .no_new_privileges
        );
        let quiet = parse(
            &[
                "seccomp=unconfined",
                "seccomp:unconfined",
                "label=disable",
                "label:disable",
                "apparmor=unconfined",
            ],
            &["selinux", "apparmor"],
        )
        .unwrap();
        assert_eq!(
            quiet,
            SecurityOptions {
                seccomp: SeccompOption::Unconfined,
                seccomp_index: 1,
                ..SecurityOptions::default()
            }
        );
        for (value, expected) in [
            ("seccomp=builtin", SeccompOption::Default),
            ("seccomp=default", SeccompOption::Default),
            ("seccomp=p.json", SeccompOption::File("p.json".into())),
            (
                "seccomp:/abs/p.json",
                SeccompOption::File("/abs/p.json".into()),
            ),
        ] {
            assert_eq!(parse(&[value], &[]).unwrap().seccomp, expected, "{value}");
        }
        assert!(
            parse(&["systempaths=unconfined"], &[])
                .unwrap()
                .unmask_system_paths
        );
        // No such LSM on the host: accepted with a warning.
        let warned = parse(
            &["label=type:container_t", "apparmor=docker-default"],
            &["capability", "yama"],
        )
        .unwrap();
        assert_eq!(
            warned.warnings,
            [
                "label=type:container_t is ignored: SELinux is not enabled on this host",
                "apparmor=docker-default is ignored: AppArmor is not enabled on this host"
            ]
        );
        // The LSM is there but berth does not apply it: refused.
        let (index, message) =
            parse(&["no-new-privileges", "label:level:s0"], &["selinux"]).unwrap_err();
        assert_eq!(index, 1);
        assert!(
            message.contains("berth does not apply SELinux labels"),
            "{message}"
        );
        assert!(parse(&["apparmor=x"], &["apparmor"])
            .unwrap_err()
            .1
            .contains("AppArmor profiles"));
        for bad in [
            "seccomp",
            "seccomp=",
            "label",
            "systempaths=x",
            "no-new-privileges=yes",
            "nope",
            "mask=/proc/x",
        ] {
            assert!(parse(&[bad], &[]).is_err(), "{bad}");
        }
    }

    #[test]
    fn seccomp_profiles_are_read_and_checked() {
        let dir = tempfile::tempdir().unwrap();
        let translate = |opts: &str| {
            let yaml = format!("services:\n  web:\n    image: x\n    security_opt: {opts}\n");
            let project = load_from_str(&yaml, dir.path()).unwrap().project;
            container_spec(&project, "web", &project.services["web"], 1, "x")
        };
        assert_eq!(
            translate("[]").unwrap().spec.security.seccomp,
            Seccomp::Default
        );
        assert_eq!(
            translate("[seccomp=unconfined]")
                .unwrap()
                .spec
                .security
                .seccomp,
            Seccomp::Unconfined
        );
        let profile = r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["mkdir"],"action":"SCMP_ACT_ERRNO"}]}"#;
        std::fs::write(dir.path().join("p.json"), profile).unwrap();
        let Seccomp::Profile { source, json } =
            translate("[seccomp=p.json]").unwrap().spec.security.seccomp
        else {
            panic!("not a profile");
        };
        assert_eq!(source, dir.path().join("p.json").display().to_string());
        assert_eq!(json, profile);
        std::fs::write(
            dir.path().join("bad.json"),
            r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["mkdir"],"action":"SCMP_ACT_ERRNO","args":[{"index":0,"op":"SCMP_CMP_ALMOST"}]}]}"#,
        )
        .unwrap();
        let err = translate("[no-new-privileges, seccomp=bad.json]")
            .unwrap_err()
            .to_string();
        let expected = format!(
            "service \"web\": security_opt[1]: seccomp profile {}: syscalls[0] (mkdir): unknown operator \"SCMP_CMP_ALMOST\"",
            dir.path().join("bad.json").display()
        );
        assert!(err.starts_with(&expected), "{err}");
        let missing = translate("[seccomp=missing.json]").unwrap_err().to_string();
        assert!(
            missing.contains("security_opt[0]: seccomp profile")
                && missing.contains("missing.json: No such file"),
            "{missing}"
        );
    }

    #[test]
    fn devices_and_device_rules_are_checked() {
        let dir = tempfile::tempdir().unwrap();
        let translate = |attribute: &str| {
            let yaml = format!("services:\n  web:\n    image: x\n    {attribute}\n");
            let project = load_from_str(&yaml, dir.path()).unwrap().project;
            container_spec(&project, "web", &project.services["web"], 1, "x")
        };
        let t = translate("devices: ['/dev/null:/dev/mynull:rw']").unwrap();
        let device = &t.spec.devices[0];
        assert_eq!(
            (device.path.as_str(), device.major, device.minor),
            ("/dev/mynull", 1, 3)
        );
        assert_eq!(device.access, "rw");
        let t = translate("device_cgroup_rules: ['c 1:3 mr', 'a 7:* rmw']").unwrap();
        assert_eq!(t.spec.resources.device_rules.len(), 2);
        let err = translate("devices: [/dev/berth-none]").unwrap_err();
        assert_eq!(
            err.to_string(),
            "service \"web\": devices[0]: device /dev/berth-none: no such device on the host"
        );
        let err = translate("devices: ['nvidia.com/gpu=all']").unwrap_err();
        assert!(
            err.to_string()
                .contains("CDI device names are not supported"),
            "{err}"
        );
        let err = translate("device_cgroup_rules: ['c 1:3']").unwrap_err();
        assert!(
            err.to_string().starts_with(
                "service \"web\": device_cgroup_rules[0]: invalid device cgroup rule \"c 1:3\""
            ),
            "{err}"
        );
        let err = translate("ipc: bogus").unwrap_err();
        assert_eq!(err.field, "ipc");
        let t = translate("pid: container:other").unwrap();
        assert_eq!(
            t.joins,
            [NamespaceJoin {
                field: "pid",
                target: NamespaceMode::Container("other".into())
            }]
        );
        let t = translate("uts: host").unwrap();
        assert_eq!(t.spec.uts, Namespace::Host);
        let t = translate("oom_kill_disable: true").unwrap();
        assert!(t.spec.resources.oom_kill_disable);
        assert!(
            t.warnings.iter().any(|w| w.contains("oom_kill_disable")),
            "{:?}",
            t.warnings
        );
    }

    #[test]
    fn unsupported_log_drivers_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let yaml = "services:\n  web:\n    image: x\n    logging: {driver: syslog}\n";
        let project = load_from_str(yaml, dir.path()).unwrap().project;
        let err = container_spec(&project, "web", &project.services["web"], 1, "x").unwrap_err();
        assert_eq!(
            err.to_string(),
            "service \"web\": logging: log driver \"syslog\" is not supported (berth supports json-file, local and none)"
        );
        assert_eq!(parse_size("1.5k"), Some(1536));
        assert_eq!(parse_size("10MB"), Some(10 << 20));
        assert_eq!(parse_size("x"), None);
    }
}
