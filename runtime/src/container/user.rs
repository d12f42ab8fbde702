//! `user[:group]` resolved against the container's own `/etc/passwd` and
//! `/etc/group`, with Docker's rules and error messages.

use std::fmt;

/// Who the process runs as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub uid: u32,
    pub gid: u32,
    /// Supplementary groups: the user's memberships plus `group_add`.
    pub groups: Vec<u32>,
    /// Home directory from passwd (`/` when unknown).
    pub home: String,
}

/// Why a user or group could not be resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserError(pub String);

impl fmt::Display for UserError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

struct PasswdEntry<'a> {
    name: &'a str,
    uid: u32,
    gid: u32,
    home: &'a str,
}

struct GroupEntry<'a> {
    name: &'a str,
    gid: u32,
    members: Vec<&'a str>,
}

fn passwd_entries(passwd: &str) -> impl Iterator<Item = PasswdEntry<'_>> {
    passwd.lines().filter_map(|line| {
        let fields: Vec<&str> = line.split(':').collect();
        if fields.len() < 4 || line.starts_with('#') {
            return None;
        }
        Some(PasswdEntry {
            name: fields[0],
            uid: fields[2].parse().ok()?,
            gid: fields[3].parse().ok()?,
            home: fields.get(5).copied().unwrap_or("/"),
        })
    })
}

fn group_entries(group: &str) -> impl Iterator<Item = GroupEntry<'_>> {
    group.lines().filter_map(|line| {
        let fields: Vec<&str> = line.split(':').collect();
        if fields.len() < 3 || line.starts_with('#') {
            return None;
        }
        Some(GroupEntry {
            name: fields[0],
            gid: fields[2].parse().ok()?,
            members: fields
                .get(3)
                .map(|m| m.split(',').filter(|m| !m.is_empty()).collect())
                .unwrap_or_default(),
        })
    })
}

fn lookup_group(group: &str, spec: &str) -> Result<u32, UserError> {
    if let Some(entry) = group_entries(group).find(|entry| entry.name == spec) {
        return Ok(entry.gid);
    }
    spec.parse().map_err(|_| {
        UserError(format!(
            "unable to find group {spec}: no matching entries in group file"
        ))
    })
}

/// Resolves `user` (`""`, `name`, `uid`, `name:group`, `uid:gid`) and `group_add`
/// against the contents of `/etc/passwd` and `/etc/group` (empty when missing).
pub fn resolve(
    user: &str,
    group_add: &[String],
    passwd: &str,
    group: &str,
) -> Result<Identity, UserError> {
    let (user_part, group_part) = match user.split_once(':') {
        Some((u, g)) => (u, Some(g)),
        None => (user, None),
    };
    let user_part = if user_part.is_empty() { "0" } else { user_part };
    let entry = passwd_entries(passwd)
        .find(|entry| entry.name == user_part)
        .or_else(|| {
            let uid: u32 = user_part.parse().ok()?;
            passwd_entries(passwd).find(|entry| entry.uid == uid)
        });
    let (uid, mut gid, home, name) = match entry {
        Some(entry) => (entry.uid, entry.gid, entry.home.to_string(), entry.name),
        None => {
            let uid: u32 = user_part.parse().map_err(|_| {
                UserError(format!(
                    "unable to find user {user_part}: no matching entries in passwd file"
                ))
            })?;
            (uid, 0, "/".to_string(), "")
        }
    };
    if let Some(group_spec) = group_part.filter(|g| !g.is_empty()) {
        gid = lookup_group(group, group_spec)?;
    }
    let mut groups = vec![gid];
    if !name.is_empty() {
        for entry in group_entries(group) {
            if entry.members.contains(&name) && !groups.contains(&entry.gid) {
                groups.push(entry.gid);
            }
        }
    }
    for extra in group_add {
        let extra_gid = lookup_group(group, extra)?;
        if !groups.contains(&extra_gid) {
            groups.push(extra_gid);
        }
    }
    Ok(Identity {
        uid,
        gid,
        groups,
        home,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const PASSWD: &str = "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000::/home/app:/bin/sh\nnobody:x:65534:65534::/nonexistent:/bin/false\n";
    const GROUP: &str = "root:x:0:\nstaff:x:50:app\napp:x:1000:\nnogroup:x:65534:\n";

    fn ids(user: &str, add: &[&str]) -> Result<Identity, UserError> {
        let add: Vec<String> = add.iter().map(|a| a.to_string()).collect();
        resolve(user, &add, PASSWD, GROUP)
    }

    #[test]
    fn names_and_numbers() {
        let root = ids("", &[]).unwrap();
        assert_eq!((root.uid, root.gid, root.home.as_str()), (0, 0, "/root"));
        let app = ids("app", &[]).unwrap();
        assert_eq!((app.uid, app.gid), (1000, 1000));
        assert_eq!(app.groups, vec![1000, 50]);
        assert_eq!(app.home, "/home/app");
        let numeric = ids("1000:50", &[]).unwrap();
        assert_eq!((numeric.uid, numeric.gid), (1000, 50));
        let unknown = ids("4242", &[]).unwrap();
        assert_eq!(
            (unknown.uid, unknown.gid, unknown.home.as_str()),
            (4242, 0, "/")
        );
        let named_group = ids("4242:nogroup", &["staff", "7"]).unwrap();
        assert_eq!(named_group.gid, 65534);
        assert_eq!(named_group.groups, vec![65534, 50, 7]);
    }

    #[test]
    fn unknown_names_are_errors() {
        assert_eq!(
            ids("ghost", &[]).unwrap_err().to_string(),
            "unable to find user ghost: no matching entries in passwd file"
        );
        assert!(ids("app:ghosts", &[])
            .unwrap_err()
            .to_string()
            .contains("unable to find group ghosts"));
        assert!(ids("app", &["ghosts"]).is_err());
    }
}
