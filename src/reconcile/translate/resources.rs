//! What the container may use: memory, CPU and pids limits (the service's
//! own fields first, then `deploy.resources`), device cgroup rules, the
//! host devices `devices:` maps, and the warnings for what this host's
//! cgroups cannot enforce.

use berth_runtime::container::cgroup::Hierarchies;
use berth_runtime::container::devices::{Device, DeviceRule};
use berth_runtime::container::Resources;

use crate::compose::model::Service;

use super::host::{device_requests, HostFacts};
use super::FieldError;

/// A positive byte count (0 and negatives mean "unset").
pub fn positive(bytes: i64) -> Option<u64> {
    u64::try_from(bytes).ok().filter(|b| *b > 0)
}

/// The cgroup limits of `service`.
pub fn resources(service: &Service) -> Result<Resources, FieldError> {
    let resources = service.deploy.as_ref().and_then(|d| d.resources.as_ref());
    let limits = resources.and_then(|r| r.limits.as_ref());
    let reservations = resources.and_then(|r| r.reservations.as_ref());
    Ok(Resources {
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
                DeviceRule::parse(rule).map_err(|err| {
                    FieldError::new(&format!("device_cgroup_rules[{index}]"), err.to_string())
                })
            })
            .collect::<Result<_, _>>()?,
        oom_kill_disable: service.oom_kill_disable,
    })
}

/// The host device nodes `devices:` maps, as `host` found them.
pub fn mapped_devices(service: &Service, host: &HostFacts) -> Result<Vec<Device>, FieldError> {
    let mut requests = device_requests(service).into_iter();
    let mut devices = Vec::new();
    for (index, mapping) in service.devices.iter().enumerate() {
        let field = format!("devices[{index}]");
        if !mapping.source.starts_with('/') {
            return Err(FieldError::new(
                &field,
                format!(
                    "{:?} is not a host device path (CDI device names are not supported)",
                    mapping.source
                ),
            ));
        }
        let request = requests.next().unwrap_or_default();
        let found = host
            .devices(&request)
            .map_err(|message| FieldError::new(&field, message))?;
        devices.extend(found);
    }
    Ok(devices)
}

/// What this host's cgroups cannot do of what the service asks: device
/// rules with neither a v1 devices controller nor cgroup v2, `oom_kill_disable` without v1
/// memory (and Docker's warning when it comes without a memory limit).
pub fn cgroup_warnings(
    service_name: &str,
    service: &Service,
    devices: &[Device],
    resources: &Resources,
    hierarchies: &Hierarchies,
) -> Vec<String> {
    let mut warnings = Vec::new();
    let needs_device_cgroup =
        !service.privileged && (!devices.is_empty() || !resources.device_rules.is_empty());
    let needs_oom_control = resources.oom_kill_disable;
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
