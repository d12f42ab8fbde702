//! Device access: host device nodes mapped into a container (`devices:`),
//! device cgroup rules (`device_cgroup_rules:`, Docker's syntax), and the
//! policy a container's devices cgroup gets: deny everything, then allow
//! Docker's default devices, the mapped devices and the extra rules.
//! Privileged containers keep their parent's policy (all devices).

use std::fmt;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::Path;

use serde::{Deserialize, Serialize};

/// A device mapping or rule that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeviceError {
    #[error("invalid device cgroup rule {rule:?}: {reason} (expected TYPE MAJOR:MINOR ACCESS, as 'c 1:3 rwm': TYPE a, b or c; MAJOR and MINOR numbers or *; ACCESS of r, w and m)")]
    InvalidRule { rule: String, reason: String },
    #[error("invalid device permissions {0:?}: expected one or more of r, w and m")]
    InvalidAccess(String),
    #[error("device {path}: {reason}")]
    Host { path: String, reason: String },
}

/// `c`, `b`, or `a` (both) in a rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum DeviceType {
    Char,
    Block,
    All,
}

impl DeviceType {
    fn letter(self) -> char {
        match self {
            DeviceType::Char => 'c',
            DeviceType::Block => 'b',
            DeviceType::All => 'a',
        }
    }
}

/// One allow rule of a devices cgroup; `None` numbers are `*`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceRule {
    pub kind: DeviceType,
    pub major: Option<u64>,
    pub minor: Option<u64>,
    /// Some of `r`, `w`, `m`, each once.
    pub access: String,
}

impl DeviceRule {
    fn new(kind: DeviceType, major: Option<u64>, minor: Option<u64>, access: &str) -> DeviceRule {
        DeviceRule {
            kind,
            major,
            minor,
            access: access.to_string(),
        }
    }

    /// Parses Docker's `device_cgroup_rules` syntax: `c 1:3 mr`, `a 7:* rmw`,
    /// `b *:* m`.
    pub fn parse(text: &str) -> Result<DeviceRule, DeviceError> {
        let invalid = |reason: &str| DeviceError::InvalidRule {
            rule: text.to_string(),
            reason: reason.to_string(),
        };
        let parts: Vec<&str> = text.split_whitespace().collect();
        let [kind, numbers, access] = parts.as_slice() else {
            return Err(invalid("three fields are needed"));
        };
        let kind = match *kind {
            "c" => DeviceType::Char,
            "b" => DeviceType::Block,
            "a" => DeviceType::All,
            _ => return Err(invalid("the type must be a, b or c")),
        };
        let (major, minor) = numbers
            .split_once(':')
            .ok_or_else(|| invalid("the device numbers must be MAJOR:MINOR"))?;
        let number = |n: &str| -> Result<Option<u64>, DeviceError> {
            if n == "*" {
                return Ok(None);
            }
            if n.is_empty() || !n.bytes().all(|b| b.is_ascii_digit()) {
                return Err(invalid(&format!("{n:?} is not a number or *")));
            }
            n.parse()
                .map(Some)
                .map_err(|_| invalid(&format!("{n:?} is too large")))
        };
        let access = validate_access(access)
            .map_err(|_| invalid("the access must be some of r, w and m"))?;
        Ok(DeviceRule::new(
            kind,
            number(major)?,
            number(minor)?,
            &access,
        ))
    }

    /// What to write to `devices.allow` (v1): an `a` rule is written as a
    /// `c` and a `b` rule, since the kernel reads a bare `a` as "allow all".
    pub fn v1_lines(&self) -> Vec<String> {
        let kinds = match self.kind {
            DeviceType::All => vec![DeviceType::Char, DeviceType::Block],
            kind => vec![kind],
        };
        kinds
            .into_iter()
            .map(|kind| {
                DeviceRule {
                    kind,
                    ..self.clone()
                }
                .to_string()
            })
            .collect()
    }
}

impl fmt::Display for DeviceRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let number = |n: Option<u64>| n.map_or("*".to_string(), |n| n.to_string());
        write!(
            f,
            "{} {}:{} {}",
            self.kind.letter(),
            number(self.major),
            number(self.minor),
            self.access
        )
    }
}

/// Checks `r`/`w`/`m` permissions (each at most once, at least one) and
/// returns them in the order given.
pub fn validate_access(access: &str) -> Result<String, DeviceError> {
    let mut seen = String::new();
    for c in access.chars() {
        if !matches!(c, 'r' | 'w' | 'm') || seen.contains(c) {
            return Err(DeviceError::InvalidAccess(access.to_string()));
        }
        seen.push(c);
    }
    if seen.is_empty() {
        return Err(DeviceError::InvalidAccess(access.to_string()));
    }
    Ok(seen)
}

/// The devices every unprivileged container may use, as Docker (runc)
/// allows them: creating any node (`m`), and null, zero, full, random,
/// urandom, tty, console, ptmx and the pty slaves.
pub fn default_rules() -> Vec<DeviceRule> {
    use DeviceType::{Block, Char};
    vec![
        DeviceRule::new(Char, None, None, "m"),
        DeviceRule::new(Block, None, None, "m"),
        DeviceRule::new(Char, Some(1), Some(3), "rwm"),
        DeviceRule::new(Char, Some(1), Some(5), "rwm"),
        DeviceRule::new(Char, Some(1), Some(7), "rwm"),
        DeviceRule::new(Char, Some(1), Some(8), "rwm"),
        DeviceRule::new(Char, Some(1), Some(9), "rwm"),
        DeviceRule::new(Char, Some(5), Some(0), "rwm"),
        DeviceRule::new(Char, Some(5), Some(1), "rwm"),
        DeviceRule::new(Char, Some(5), Some(2), "rwm"),
        DeviceRule::new(Char, Some(136), None, "rwm"),
    ]
}

/// A device node to make inside the container, copied from the host's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Device {
    /// Absolute path inside the container.
    pub path: String,
    /// `Char` or `Block`.
    pub kind: DeviceType,
    pub major: u64,
    pub minor: u64,
    /// Permission bits of the host's node.
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
    /// cgroup access: some of `r`, `w`, `m`.
    pub access: String,
}

impl Device {
    /// The allow rule for this node.
    pub fn rule(&self) -> DeviceRule {
        DeviceRule::new(self.kind, Some(self.major), Some(self.minor), &self.access)
    }
}

/// Reads the host's device `source` (a node, or a directory whose device
/// nodes are all mapped below `target`, as Docker does for `/dev/snd`).
pub fn host_devices(source: &str, target: &str, access: &str) -> Result<Vec<Device>, DeviceError> {
    let host = |reason: String| DeviceError::Host {
        path: source.to_string(),
        reason,
    };
    let access = validate_access(access)?;
    if !target.starts_with('/') {
        return Err(host(format!(
            "the container path {target:?} is not absolute"
        )));
    }
    let meta = std::fs::metadata(source).map_err(|err| match err.kind() {
        std::io::ErrorKind::NotFound => host("no such device on the host".to_string()),
        _ => host(err.to_string()),
    })?;
    if meta.is_dir() {
        let mut found = Vec::new();
        collect_dir(Path::new(source), target, &access, &mut found, 0)
            .map_err(|err| host(err.to_string()))?;
        if found.is_empty() {
            return Err(host("the directory holds no device nodes".to_string()));
        }
        return Ok(found);
    }
    node(&meta, target, &access)
        .map(|device| vec![device])
        .ok_or_else(|| host("not a character or block device".to_string()))
}

fn node(meta: &std::fs::Metadata, target: &str, access: &str) -> Option<Device> {
    let kind = if meta.file_type().is_char_device() {
        DeviceType::Char
    } else if meta.file_type().is_block_device() {
        DeviceType::Block
    } else {
        return None;
    };
    let rdev = meta.rdev();
    Some(Device {
        path: target.to_string(),
        kind,
        major: nix::sys::stat::major(rdev),
        minor: nix::sys::stat::minor(rdev),
        mode: meta.mode() & 0o7777,
        uid: meta.uid(),
        gid: meta.gid(),
        access: access.to_string(),
    })
}

fn collect_dir(
    dir: &Path,
    target: &str,
    access: &str,
    found: &mut Vec<Device>,
    depth: u32,
) -> std::io::Result<()> {
    if depth > 16 {
        return Ok(());
    }
    let mut entries: Vec<_> = std::fs::read_dir(dir)?.flatten().collect();
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let meta = entry.metadata()?;
        let name = entry.file_name().to_string_lossy().to_string();
        let inside = format!("{}/{name}", target.trim_end_matches('/'));
        if meta.is_dir() {
            collect_dir(&entry.path(), &inside, access, found, depth + 1)?;
        } else if let Some(device) = node(&meta, &inside, access) {
            found.push(device);
        }
    }
    Ok(())
}

/// The devices cgroup rules of a container, or `None` for "allow all"
/// (privileged): Docker's defaults, the mapped nodes, then `extra`.
pub fn cgroup_rules(
    privileged: bool,
    devices: &[Device],
    extra: &[DeviceRule],
) -> Option<Vec<DeviceRule>> {
    if privileged {
        return None;
    }
    let mut rules = default_rules();
    rules.extend(devices.iter().map(Device::rule));
    rules.extend(extra.iter().cloned());
    Some(rules)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_parse_like_docker() {
        let rule = DeviceRule::parse("c 1:3 mr").unwrap();
        assert_eq!(rule.to_string(), "c 1:3 mr");
        assert_eq!(rule.v1_lines(), ["c 1:3 mr"]);
        let rule = DeviceRule::parse("a 7:* rmw").unwrap();
        assert_eq!(
            (rule.kind, rule.major, rule.minor),
            (DeviceType::All, Some(7), None)
        );
        assert_eq!(rule.v1_lines(), ["c 7:* rmw", "b 7:* rmw"]);
        assert_eq!(
            DeviceRule::parse("b *:*   m").unwrap().to_string(),
            "b *:* m"
        );
        for bad in [
            "",
            "c 1:3",
            "x 1:3 r",
            "c 1 r",
            "c a:3 r",
            "c 1:3 rx",
            "c 1:3 rr",
            "c -1:3 r",
            "c 1:3 r extra",
        ] {
            let err = DeviceRule::parse(bad).unwrap_err().to_string();
            assert!(
                err.starts_with(&format!("invalid device cgroup rule {bad:?}")),
                "{err}"
            );
        }
    }

    #[test]
    fn access_is_checked() {
        assert_eq!(validate_access("rwm").unwrap(), "rwm");
        assert_eq!(validate_access("r").unwrap(), "r");
        assert!(validate_access("").is_err());
        assert!(validate_access("rwx").is_err());
        assert!(validate_access("rr").is_err());
    }

    #[test]
    fn host_nodes_are_read() {
        let null = host_devices("/dev/null", "/dev/mynull", "r").unwrap();
        assert_eq!(null.len(), 1);
        let device = &null[0];
        assert_eq!(
            (device.kind, device.major, device.minor),
            (DeviceType::Char, 1, 3)
        );
        assert_eq!(device.path, "/dev/mynull");
        assert_eq!(device.rule().to_string(), "c 1:3 r");
        let err = host_devices("/dev/berth-missing", "/dev/x", "rwm").unwrap_err();
        assert_eq!(
            err.to_string(),
            "device /dev/berth-missing: no such device on the host"
        );
        let err = host_devices("/etc/hostname", "/dev/x", "rwm").unwrap_err();
        assert!(
            err.to_string().contains("not a character or block device"),
            "{err}"
        );
        assert!(host_devices("/dev/null", "/dev/x", "q").is_err());
    }

    #[test]
    fn a_directory_maps_every_node_below_it() {
        use nix::sys::stat::{makedev, mknod, Mode, SFlag};
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        std::fs::write(dir.path().join("plain"), "").unwrap();
        for (name, minor) in [("b", 2), ("sub/a", 1)] {
            let node = mknod(
                &dir.path().join(name),
                SFlag::S_IFCHR,
                Mode::from_bits_truncate(0o600),
                makedev(240, minor),
            );
            if node.is_err() {
                return; // not root: nothing to test here
            }
        }
        let source = dir.path().to_str().unwrap();
        let found = host_devices(source, "/dev/snd/", "rw").unwrap();
        let paths: Vec<(&str, u64)> = found.iter().map(|d| (d.path.as_str(), d.minor)).collect();
        assert_eq!(paths, [("/dev/snd/b", 2), ("/dev/snd/sub/a", 1)]);
        assert!(found.iter().all(|d| d.mode == 0o600 && d.access == "rw"));
        std::fs::remove_file(dir.path().join("b")).unwrap();
        std::fs::remove_file(dir.path().join("sub/a")).unwrap();
        let err = host_devices(source, "/dev/x", "rw").unwrap_err();
        assert!(
            err.to_string()
                .ends_with("the directory holds no device nodes"),
            "{err}"
        );
    }

    #[test]
    fn policy() {
        assert_eq!(cgroup_rules(true, &[], &[]), None);
        let extra = DeviceRule::parse("c 10:200 rwm").unwrap();
        let rules = cgroup_rules(false, &[], std::slice::from_ref(&extra)).unwrap();
        assert_eq!(rules[0].to_string(), "c *:* m");
        assert!(rules.iter().any(|r| r.to_string() == "c 136:* rwm"));
        assert_eq!(rules.last(), Some(&extra));
    }
}
