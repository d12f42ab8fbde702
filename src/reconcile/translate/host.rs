//! What translation needs to know about this host, read once by the caller
//! ([`HostFacts::detect`]) and passed in, so the rest of `translate` reads
//! nothing of the host and is tested with facts built by hand: the active
//! Linux security modules, the cgroup hierarchies, the device nodes the
//! project's services map, and the host's `/etc/resolv.conf`.

use std::collections::BTreeMap;

use berth_runtime::container::cgroup::Hierarchies;
use berth_runtime::container::devices::{host_devices, Device};

use crate::compose::model::{Project, Service};

/// One `devices:` entry as looked up on the host: source, target and access.
pub type DeviceRequest = (String, String, String);

/// The host, as translation sees it.
#[derive(Debug, Clone, Default)]
pub struct HostFacts {
    /// Active Linux security modules (`selinux`, `apparmor`, …).
    pub lsms: Vec<String>,
    /// The mounted cgroup hierarchies.
    pub cgroups: Hierarchies,
    /// Each `devices:` entry of the project with a host path, and the
    /// device nodes it names (or why it names none).
    pub devices: BTreeMap<DeviceRequest, Result<Vec<Device>, String>>,
    /// The host's `/etc/resolv.conf` (empty when unreadable).
    pub resolv_conf: String,
}

impl HostFacts {
    /// Reads the host once for `project`: its devices are looked up here.
    pub fn detect(project: &Project) -> HostFacts {
        let mut devices = BTreeMap::new();
        for service in project.services.values() {
            for request in device_requests(service) {
                let found =
                    host_devices(&request.0, &request.1, &request.2).map_err(|err| err.to_string());
                devices.insert(request, found);
            }
        }
        HostFacts {
            lsms: host_lsms(),
            cgroups: Hierarchies::detect().unwrap_or_default(),
            devices,
            resolv_conf: std::fs::read_to_string("/etc/resolv.conf").unwrap_or_default(),
        }
    }

    /// The device nodes of one `devices:` entry, as [`HostFacts::detect`]
    /// found them.
    pub fn devices(&self, request: &DeviceRequest) -> Result<Vec<Device>, String> {
        self.devices
            .get(request)
            .cloned()
            .unwrap_or_else(|| Err(format!("device {}: not looked up on this host", request.0)))
    }
}

/// The host-path `devices:` entries of `service` (CDI names are refused by
/// translation, never looked up), with Docker's default access `rwm`.
pub fn device_requests(service: &Service) -> Vec<DeviceRequest> {
    service
        .devices
        .iter()
        .filter(|mapping| mapping.source.starts_with('/'))
        .map(|mapping| {
            let access = match mapping.permissions.as_str() {
                "" => "rwm",
                given => given,
            };
            (
                mapping.source.clone(),
                mapping.target.clone(),
                access.to_string(),
            )
        })
        .collect()
}

/// The host's active Linux security modules (`/sys/kernel/security/lsm`,
/// else guessed from `/sys/fs/selinux` and the AppArmor module).
fn host_lsms() -> Vec<String> {
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
