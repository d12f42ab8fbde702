//! The capability set of a container: Docker's default set, adjusted by
//! `cap_add`/`cap_drop` (with `ALL`) and `privileged`.

use caps::Capability;
use std::collections::HashSet;
use std::str::FromStr;

/// Docker's default capabilities for a container.
pub const DOCKER_DEFAULT: &[Capability] = &[
    Capability::CAP_CHOWN,
    Capability::CAP_DAC_OVERRIDE,
    Capability::CAP_FSETID,
    Capability::CAP_FOWNER,
    Capability::CAP_MKNOD,
    Capability::CAP_NET_RAW,
    Capability::CAP_SETGID,
    Capability::CAP_SETUID,
    Capability::CAP_SETFCAP,
    Capability::CAP_SETPCAP,
    Capability::CAP_NET_BIND_SERVICE,
    Capability::CAP_SYS_CHROOT,
    Capability::CAP_KILL,
    Capability::CAP_AUDIT_WRITE,
];

/// A capability name the kernel does not know.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown capability {0:?} (expected a name such as NET_ADMIN or CAP_NET_ADMIN, or ALL)")]
pub struct UnknownCapability(pub String);

fn parse(name: &str) -> Result<Option<Capability>, UnknownCapability> {
    let upper = name.trim().to_ascii_uppercase();
    if upper == "ALL" || upper == "CAP_ALL" {
        return Ok(None);
    }
    let canonical = if upper.starts_with("CAP_") {
        upper
    } else {
        format!("CAP_{upper}")
    };
    Capability::from_str(&canonical)
        .map(Some)
        .map_err(|_| UnknownCapability(name.to_string()))
}

/// The capabilities a container gets, as Docker computes them.
pub fn effective_set(
    cap_add: &[String],
    cap_drop: &[String],
    privileged: bool,
) -> Result<HashSet<Capability>, UnknownCapability> {
    let all: HashSet<Capability> = caps::all().into_iter().collect();
    if privileged {
        return Ok(all);
    }
    let parse_list = |names: &[String]| -> Result<(bool, HashSet<Capability>), UnknownCapability> {
        let mut has_all = false;
        let mut set = HashSet::new();
        for name in names {
            match parse(name)? {
                None => has_all = true,
                Some(cap) => {
                    set.insert(cap);
                }
            }
        }
        Ok((has_all, set))
    };
    let (add_all, add) = parse_list(cap_add)?;
    let (drop_all, drop) = parse_list(cap_drop)?;
    let mut set: HashSet<Capability> = if add_all {
        all
    } else if drop_all {
        HashSet::new()
    } else {
        DOCKER_DEFAULT.iter().copied().collect()
    };
    if !drop_all {
        set.retain(|cap| !drop.contains(cap));
    }
    set.extend(add);
    Ok(set)
}

/// The `/proc/PID/status` bitmask of a set (`CapBnd:` and friends).
pub fn mask(set: &HashSet<Capability>) -> u64 {
    set.iter().fold(0, |acc, cap| acc | cap.bitmask())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(items: &[&str]) -> Vec<String> {
        items.iter().map(|i| i.to_string()).collect()
    }

    #[test]
    fn default_set_matches_docker_mask() {
        let set = effective_set(&[], &[], false).unwrap();
        // `docker run busybox grep CapBnd /proc/self/status` prints 00000000a80425fb.
        assert_eq!(mask(&set), 0xa80425fb);
    }

    #[test]
    fn add_drop_and_all() {
        let set = effective_set(&names(&["net_admin"]), &names(&["CAP_CHOWN"]), false).unwrap();
        assert!(set.contains(&Capability::CAP_NET_ADMIN));
        assert!(!set.contains(&Capability::CAP_CHOWN));
        let only = effective_set(&names(&["NET_BIND_SERVICE"]), &names(&["ALL"]), false).unwrap();
        assert_eq!(
            only.into_iter().collect::<Vec<_>>(),
            vec![Capability::CAP_NET_BIND_SERVICE]
        );
        let everything_but =
            effective_set(&names(&["ALL"]), &names(&["SYS_ADMIN"]), false).unwrap();
        assert!(!everything_but.contains(&Capability::CAP_SYS_ADMIN));
        assert!(everything_but.contains(&Capability::CAP_NET_ADMIN));
        assert_eq!(
            effective_set(&names(&["BOGUS"]), &[], false).unwrap_err().to_string(),
            "unknown capability \"BOGUS\" (expected a name such as NET_ADMIN or CAP_NET_ADMIN, or ALL)"
        );
    }
}
