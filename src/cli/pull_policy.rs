//! When a service's image is pulled (`pull_policy`, `up --pull`) and which
//! platform it may be for (`platform`, `DOCKER_DEFAULT_PLATFORM`): berth runs
//! the host's platform only and says so instead of failing at exec time.

use std::time::{Duration, SystemTime};

/// A parsed `pull_policy` (or `--pull`) value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PullPolicy {
    Always,
    /// Pull only when the image is not in the store (the default).
    Missing,
    Never,
    /// Build instead of pulling (refused: berth has no builder).
    Build,
    /// Pull when the image's name was last set (pulled, loaded, tagged)
    /// longer ago than this (`daily`, `weekly`, `every_12h`).
    OlderThan(Duration),
}

impl PullPolicy {
    /// Parses compose's values (`if_not_present` is `missing`).
    pub fn parse(text: &str) -> Result<PullPolicy, String> {
        Ok(match text {
            "always" => PullPolicy::Always,
            "" | "missing" | "if_not_present" => PullPolicy::Missing,
            "never" => PullPolicy::Never,
            "build" => PullPolicy::Build,
            "daily" => PullPolicy::OlderThan(Duration::from_secs(24 * 3600)),
            "weekly" => PullPolicy::OlderThan(Duration::from_secs(7 * 24 * 3600)),
            other => match other.strip_prefix("every_") {
                Some(every) => PullPolicy::OlderThan(
                    parse_every(every)
                        .ok_or_else(|| format!("invalid pull_policy {other:?}: expected every_<duration> such as every_12h or every_1d30m"))?,
                ),
                None => return Err(format!(
                    "invalid pull_policy {other:?} (expected always, missing, never, build, daily, weekly or every_<duration>)"
                )),
            },
        })
    }

    /// Whether to pull, given when the image's name was last set (`None`:
    /// the image is not in the store).
    pub fn must_pull(&self, tagged: Option<Option<SystemTime>>, now: SystemTime) -> bool {
        match (self, tagged) {
            (PullPolicy::Always, _) => true,
            (PullPolicy::Never | PullPolicy::Build, _) => false,
            (_, None) => true,
            (PullPolicy::Missing, Some(_)) => false,
            (PullPolicy::OlderThan(_), Some(None)) => true,
            (PullPolicy::OlderThan(age), Some(Some(at))) => {
                now.duration_since(at).unwrap_or_default() >= *age
            }
        }
    }
}

/// `12h`, `1d`, `1w2d`, `30m`, `45s` (compose's units, several may follow each other).
fn parse_every(text: &str) -> Option<Duration> {
    let mut total = 0u64;
    let mut number = String::new();
    for c in text.chars() {
        if c.is_ascii_digit() {
            number.push(c);
            continue;
        }
        let unit = match c {
            'w' => 7 * 24 * 3600,
            'd' => 24 * 3600,
            'h' => 3600,
            'm' => 60,
            's' => 1,
            _ => return None,
        };
        total += number.parse::<u64>().ok()? * unit;
        number.clear();
    }
    if !number.is_empty() || total == 0 {
        return None;
    }
    Some(Duration::from_secs(total))
}

/// The platform this host runs (`linux/amd64`, `linux/arm64`, …).
pub fn host_platform() -> (&'static str, &'static str) {
    let arch = match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "x86" => "386",
        "arm" => "arm",
        "powerpc64" => "ppc64le",
        "s390x" => "s390x",
        "riscv64" => "riscv64",
        other => other,
    };
    ("linux", arch)
}

/// Normalizes `os/arch[/variant]` the way registries name platforms.
fn normalize(text: &str) -> Option<(String, String)> {
    let mut parts = text.trim().split('/');
    let os = parts.next()?.to_ascii_lowercase();
    let arch = parts.next()?.to_ascii_lowercase();
    let arch = match arch.as_str() {
        "x86_64" | "x86-64" => "amd64".to_string(),
        "aarch64" => "arm64".to_string(),
        _ => arch,
    };
    (!os.is_empty() && !arch.is_empty()).then_some((os, arch))
}

/// Refuses a platform other than the host's.
pub fn check_platform(text: &str) -> Result<(), String> {
    let (host_os, host_arch) = host_platform();
    let Some((os, arch)) = normalize(text) else {
        return Err(format!(
            "invalid platform {text:?} (expected os/arch, such as {host_os}/{host_arch})"
        ));
    };
    if os != host_os || arch != host_arch {
        return Err(format!(
            "platform {text:?} is not supported on this host: berth runs {host_os}/{host_arch} images only (no emulation)"
        ));
    }
    Ok(())
}

/// Refuses an image built for another platform than the host's.
pub fn check_image_platform(reference: &str, os: &str, arch: &str) -> Result<(), String> {
    let (host_os, host_arch) = host_platform();
    let (os, arch) = normalize(&format!("{os}/{arch}")).unwrap_or_default();
    if (!os.is_empty() && os != host_os) || (!arch.is_empty() && arch != host_arch) {
        return Err(format!(
            "image {reference} is for {os}/{arch}, but this host runs {host_os}/{host_arch} (berth does not emulate other platforms)"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policies_parse_like_compose() {
        assert_eq!(PullPolicy::parse("if_not_present"), Ok(PullPolicy::Missing));
        assert_eq!(
            PullPolicy::parse("every_1d12h"),
            Ok(PullPolicy::OlderThan(Duration::from_secs(36 * 3600)))
        );
        assert_eq!(
            PullPolicy::parse("weekly"),
            Ok(PullPolicy::OlderThan(Duration::from_secs(7 * 86400)))
        );
        assert!(PullPolicy::parse("every_").is_err());
        assert!(PullPolicy::parse("every_5x").is_err());
        assert!(PullPolicy::parse("sometimes")
            .unwrap_err()
            .contains("expected always, missing"));
    }

    #[test]
    fn age_decides_for_periodic_policies() {
        let now = SystemTime::now();
        let hour_ago = Some(Some(now - Duration::from_secs(3600)));
        let daily = PullPolicy::parse("daily").unwrap();
        assert!(!daily.must_pull(hour_ago, now));
        assert!(PullPolicy::parse("every_30m")
            .unwrap()
            .must_pull(hour_ago, now));
        assert!(daily.must_pull(None, now));
        assert!(daily.must_pull(Some(None), now));
        assert!(!PullPolicy::Missing.must_pull(hour_ago, now));
        assert!(PullPolicy::Missing.must_pull(None, now));
        assert!(PullPolicy::Always.must_pull(hour_ago, now));
        assert!(!PullPolicy::Never.must_pull(None, now));
    }

    #[test]
    fn only_the_hosts_platform_runs() {
        let (os, arch) = host_platform();
        assert_eq!(check_platform(&format!("{os}/{arch}")), Ok(()));
        let other = if arch == "arm64" { "amd64" } else { "arm64" };
        let err = check_platform(&format!("linux/{other}")).unwrap_err();
        assert!(err.contains("no emulation"), "{err}");
        assert!(check_platform("linux")
            .unwrap_err()
            .contains("expected os/arch"));
        assert!(check_image_platform("x", os, arch).is_ok());
        assert!(check_image_platform("x", "linux", other)
            .unwrap_err()
            .contains(&format!("image x is for linux/{other}")));
    }
}
