//! `RUN --mount=…`: the comma-separated `key=value` list parsed into a typed
//! mount (bind, cache, tmpfs, secret, ssh), with the reference's defaults
//! and aliases (`source`/`src`, `target`/`dst`/`destination`, `ro`, `rw`).

use super::error::Problem;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MountKind {
    Bind,
    Cache,
    Tmpfs,
    Secret,
    Ssh,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CacheSharing {
    Shared,
    Private,
    Locked,
}

/// One `--mount` of a RUN.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunMount {
    pub kind: MountKind,
    /// Where it appears in the build container (for secrets, defaults to
    /// `/run/secrets/<id>`).
    pub target: Option<String>,
    /// Path inside `from` (or the context) for bind and cache mounts.
    pub source: Option<String>,
    /// A stage name or index, or an image (bind and cache).
    pub from: Option<String>,
    pub readonly: bool,
    /// Cache and secret id; defaults to the target for caches.
    pub id: Option<String>,
    pub sharing: CacheSharing,
    pub mode: Option<u32>,
    pub uid: Option<u32>,
    pub gid: Option<u32>,
    pub required: bool,
    /// tmpfs size in bytes.
    pub size: Option<u64>,
    /// Secret exposed as this environment variable.
    pub env: Option<String>,
}

impl RunMount {
    /// Parses a `--mount` value (variables already substituted).
    pub fn parse(value: &str) -> Result<RunMount, Problem> {
        let mut mount = RunMount {
            kind: MountKind::Bind,
            target: None,
            source: None,
            from: None,
            readonly: true,
            id: None,
            sharing: CacheSharing::Shared,
            mode: None,
            uid: None,
            gid: None,
            required: false,
            size: None,
            env: None,
        };
        let fields: Vec<(String, Option<String>)> = value
            .split(',')
            .filter(|f| !f.trim().is_empty())
            .map(|f| match f.split_once('=') {
                Some((k, v)) => (k.trim().to_ascii_lowercase(), Some(v.trim().to_string())),
                None => (f.trim().to_ascii_lowercase(), None),
            })
            .collect();
        let mut readonly_given = None;
        // The type decides the defaults, so read it first.
        for (key, v) in &fields {
            if key == "type" {
                mount.kind = match v.as_deref() {
                    Some("bind") => MountKind::Bind,
                    Some("cache") => MountKind::Cache,
                    Some("tmpfs") => MountKind::Tmpfs,
                    Some("secret") => MountKind::Secret,
                    Some("ssh") => MountKind::Ssh,
                    other => {
                        return Err(format!(
                            "--mount type={}: expected bind, cache, tmpfs, secret or ssh",
                            other.unwrap_or("")
                        ))
                    }
                };
            }
        }
        for (key, v) in fields {
            let need = |v: Option<String>| {
                v.filter(|s| !s.is_empty())
                    .ok_or_else(|| format!("--mount {key} needs a value ({key}=...)"))
            };
            let number = |v: Option<String>, radix: u32| -> Result<u32, Problem> {
                let s = v.unwrap_or_default();
                u32::from_str_radix(&s, radix)
                    .map_err(|_| format!("--mount {key}={s}: expected a number"))
            };
            let boolean = |v: Option<String>| -> Result<bool, Problem> {
                match v.as_deref() {
                    None | Some("true") | Some("1") => Ok(true),
                    Some("false") | Some("0") => Ok(false),
                    Some(o) => Err(format!("--mount {key}={o}: expected true or false")),
                }
            };
            match key.as_str() {
                "type" => {}
                "target" | "dst" | "destination" => mount.target = Some(need(v)?),
                "source" | "src" => mount.source = Some(need(v)?),
                "from" => mount.from = Some(need(v)?),
                "id" => mount.id = Some(need(v)?),
                "ro" | "readonly" => readonly_given = Some(boolean(v)?),
                "rw" | "readwrite" => readonly_given = Some(!boolean(v)?),
                "required" => mount.required = boolean(v)?,
                "env" => mount.env = Some(need(v)?),
                "sharing" => {
                    mount.sharing = match v.as_deref() {
                        Some("shared") => CacheSharing::Shared,
                        Some("private") => CacheSharing::Private,
                        Some("locked") => CacheSharing::Locked,
                        other => {
                            return Err(format!(
                                "--mount sharing={}: expected shared, private or locked",
                                other.unwrap_or("")
                            ))
                        }
                    }
                }
                "mode" => mount.mode = Some(number(v, 8)?),
                "uid" => mount.uid = Some(number(v, 10)?),
                "gid" => mount.gid = Some(number(v, 10)?),
                "size" => mount.size = Some(parse_size(&need(v)?)?),
                other => return Err(format!("--mount: unknown option '{other}'")),
            }
        }
        mount.readonly = readonly_given.unwrap_or(mount.kind == MountKind::Bind);
        match mount.kind {
            MountKind::Secret => {
                if mount.id.is_none() {
                    mount.id = mount
                        .target
                        .as_deref()
                        .and_then(|t| t.rsplit('/').next())
                        .map(String::from);
                }
                if mount.id.is_none() {
                    return Err("--mount type=secret needs id= or target=".into());
                }
                if mount.target.is_none() && mount.env.is_none() {
                    mount.target = Some(format!(
                        "/run/secrets/{}",
                        mount.id.as_deref().unwrap_or("")
                    ));
                }
            }
            MountKind::Ssh => {
                if mount.target.is_none() {
                    mount.target = Some("/run/buildkit/ssh_agent.0".into());
                }
            }
            _ => {
                if mount.target.is_none() {
                    return Err(
                        "--mount needs target= (where it appears in the build container)".into(),
                    );
                }
            }
        }
        if mount.kind == MountKind::Cache && mount.id.is_none() {
            mount.id = mount.target.clone();
        }
        Ok(mount)
    }
}

fn parse_size(s: &str) -> Result<u64, Problem> {
    let lower = s.to_ascii_lowercase();
    let digits_end = lower
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(lower.len());
    let n: u64 = lower[..digits_end]
        .parse()
        .map_err(|_| format!("--mount size={s}: expected a size such as 64m"))?;
    let scale = match lower[digits_end..]
        .trim_end_matches('b')
        .trim_end_matches('i')
    {
        "" => 1,
        "k" => 1 << 10,
        "m" => 1 << 20,
        "g" => 1 << 30,
        _ => return Err(format!("--mount size={s}: expected a size such as 64m")),
    };
    n.checked_mul(scale)
        .ok_or_else(|| format!("--mount size={s}: too large"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cache_mount_defaults() {
        let m = RunMount::parse("type=cache,target=/root/.cache/go-build").unwrap();
        assert_eq!(m.kind, MountKind::Cache);
        assert_eq!(m.id.as_deref(), Some("/root/.cache/go-build"));
        assert!(!m.readonly);
        assert_eq!(m.sharing, CacheSharing::Shared);
        let m = RunMount::parse("type=cache,target=/var/cache/apt,sharing=locked").unwrap();
        assert_eq!(m.sharing, CacheSharing::Locked);
    }

    #[test]
    fn bind_is_default_and_readonly() {
        let m = RunMount::parse("target=.,from=build,source=/out").unwrap();
        assert_eq!(m.kind, MountKind::Bind);
        assert!(m.readonly);
        assert_eq!(m.from.as_deref(), Some("build"));
        let m = RunMount::parse("type=bind,dst=/src,rw").unwrap();
        assert!(!m.readonly);
    }

    #[test]
    fn secrets_tmpfs_and_errors() {
        let m = RunMount::parse("type=secret,id=aws").unwrap();
        assert_eq!(m.target.as_deref(), Some("/run/secrets/aws"));
        let m = RunMount::parse("type=tmpfs,target=/tmp,size=64m").unwrap();
        assert_eq!(m.size, Some(64 << 20));
        assert!(RunMount::parse("type=nfs,target=/x")
            .unwrap_err()
            .contains("expected bind, cache"));
        assert!(RunMount::parse("type=cache")
            .unwrap_err()
            .contains("target="));
        assert!(RunMount::parse("type=cache,target=/x,colour=red")
            .unwrap_err()
            .contains("unknown option 'colour'"));
        assert!(RunMount::parse("type=cache,target=/x,mode=999").is_err());
    }
}
