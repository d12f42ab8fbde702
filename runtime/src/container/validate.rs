//! What a container spec must satisfy before anything is made for it:
//! [`ContainerSpec::validate`] checks the spec on its own (no state root,
//! no host), so every rule is unit-tested here; the checks that need the
//! state root (the name, the peers whose namespaces it joins) stay in
//! `create`.

use super::spec::{ContainerSpec, Namespace, NetworkNamespace};
use super::{capabilities, rootfs};

impl ContainerSpec {
    /// Why this spec cannot become a container, in words for the user.
    pub fn validate(&self) -> Result<(), String> {
        if !self.endpoints.is_empty() && self.network != NetworkNamespace::New {
            return Err("network endpoints need a new network namespace".into());
        }
        let security = &self.security;
        capabilities::effective_set(&security.cap_add, &security.cap_drop, security.privileged)
            .map_err(|err| err.to_string())?;
        self.check_sysctls()?;
        if matches!(self.uts, Namespace::Join(_) | Namespace::Container(_)) {
            return Err("a UTS namespace can be new or the host's, not another container's".into());
        }
        self.check_paths()
    }

    /// Only namespaced sysctls, and IPC ones only with a private IPC
    /// namespace (net ones not in the host's network namespace).
    fn check_sysctls(&self) -> Result<(), String> {
        let host_net = self.network == NetworkNamespace::Host;
        let own_ipc = self.ipc == Namespace::New;
        match self
            .security
            .sysctls
            .keys()
            .find(|k| !rootfs::sysctl_allowed(k, host_net, own_ipc))
        {
            Some(bad) => Err(format!(
                "sysctl {bad:?} is not allowed in a container (only namespaced sysctls are, and IPC ones only with a private IPC namespace)"
            )),
            None => Ok(()),
        }
    }

    /// Device paths, mount targets and injected files are absolute; file
    /// modes are permission bits.
    fn check_paths(&self) -> Result<(), String> {
        if let Some(device) = self.devices.iter().find(|d| !d.path.starts_with('/')) {
            return Err(format!(
                "device path {:?} is not an absolute path",
                device.path
            ));
        }
        if let Some(mount) = self.mounts.iter().find(|m| !m.target().starts_with('/')) {
            return Err(format!(
                "mount target {:?} is not an absolute path",
                mount.target()
            ));
        }
        for file in &self.files {
            if !file.target.starts_with('/') || file.target == "/" {
                return Err(format!(
                    "{}: target {:?} is not an absolute file path",
                    file.description, file.target
                ));
            }
            if file.mode > 0o7777 {
                return Err(format!(
                    "{}: invalid mode {:o}",
                    file.description, file.mode
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::container::spec::{InjectedFile, Mount};

    fn spec() -> ContainerSpec {
        ContainerSpec::default()
    }

    fn refused(spec: &ContainerSpec) -> String {
        spec.validate().expect_err("refused")
    }

    #[test]
    fn a_plain_spec_is_valid() {
        spec().validate().unwrap();
    }

    #[test]
    fn endpoints_need_their_own_network_namespace() {
        let mut s = spec();
        s.endpoints = vec![crate::network::Endpoint {
            network: "n".into(),
            bridge: "br-n".into(),
            host_veth: "veth00000000".into(),
            address: "10.0.0.2".parse().unwrap(),
            prefix_len: 24,
            gateway: "10.0.0.1".parse().unwrap(),
            mac: "02:42:0a:00:00:02".into(),
            internal: false,
            mtu: None,
        }];
        s.network = NetworkNamespace::Host;
        assert!(refused(&s).contains("new network namespace"));
    }

    #[test]
    fn capabilities_and_sysctls_are_checked() {
        let mut s = spec();
        s.security.cap_add = vec!["NOT_A_CAP".into()];
        assert!(refused(&s).contains("NOT_A_CAP"), "{}", refused(&s));
        let mut s = spec();
        s.security
            .sysctls
            .insert("kernel.hostname".into(), "x".into());
        assert!(refused(&s).contains("kernel.hostname"));
        // An IPC sysctl only with a private IPC namespace.
        let mut s = spec();
        s.security
            .sysctls
            .insert("kernel.shmmax".into(), "1".into());
        s.validate().unwrap();
        s.ipc = Namespace::Host;
        assert!(refused(&s).contains("kernel.shmmax"));
    }

    #[test]
    fn uts_cannot_be_another_containers() {
        let mut s = spec();
        s.uts = Namespace::Container("abc".into());
        assert!(refused(&s).contains("UTS"));
    }

    #[test]
    fn paths_must_be_absolute_and_modes_permission_bits() {
        let mut s = spec();
        s.mounts = vec![Mount::Tmpfs {
            target: "tmp".into(),
            size: None,
            mode: None,
            read_only: false,
        }];
        assert!(refused(&s).contains("mount target \"tmp\""));
        let file = |target: &str, mode: u32| InjectedFile {
            description: "secret s".into(),
            target: target.into(),
            mode,
            ..InjectedFile::default()
        };
        let mut s = spec();
        s.files = vec![file("/", 0o400)];
        assert!(refused(&s).contains("secret s: target \"/\""));
        s.files = vec![file("/run/secrets/s", 0o17777)];
        assert!(refused(&s).contains("invalid mode"));
        s.files = vec![file("/run/secrets/s", 0o400)];
        s.validate().unwrap();
    }
}
