//! The build platform: berth builds for the machine it runs on only. This
//! gives the automatic platform ARGs (`TARGETPLATFORM`, `BUILDARCH`, …) and
//! decides whether a `FROM --platform=` value is the native one.

/// An OS/architecture/variant triple as OCI writes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Platform {
    pub os: String,
    pub architecture: String,
    pub variant: Option<String>,
}

impl Platform {
    /// The platform of the running machine.
    pub fn native() -> Platform {
        let (architecture, variant) = match std::env::consts::ARCH {
            "x86_64" => ("amd64", None),
            "aarch64" => ("arm64", None),
            "arm" => ("arm", Some("v7")),
            "x86" => ("386", None),
            "powerpc64" => ("ppc64le", None),
            "s390x" => ("s390x", None),
            "riscv64" => ("riscv64", None),
            other => (other, None),
        };
        Platform {
            os: "linux".into(),
            architecture: architecture.into(),
            variant: variant.map(String::from),
        }
    }

    /// `linux/amd64`, `linux/arm/v7`.
    pub fn spec(&self) -> String {
        match &self.variant {
            Some(v) => format!("{}/{}/{}", self.os, self.architecture, v),
            None => format!("{}/{}", self.os, self.architecture),
        }
    }

    /// Whether `value` (as `--platform=` writes it) names this platform.
    /// Accepts common aliases (`x86_64`, `aarch64`, `arm64/v8`) and a
    /// missing OS.
    pub fn matches(&self, value: &str) -> bool {
        let parts: Vec<String> = value
            .trim()
            .to_ascii_lowercase()
            .split('/')
            .map(String::from)
            .collect();
        let (os, rest) = match parts.first().map(String::as_str) {
            Some("linux") => ("linux", &parts[1..]),
            _ => ("linux", &parts[..]),
        };
        let Some(arch) = rest.first() else {
            return false;
        };
        let arch = match arch.as_str() {
            "x86_64" | "x86-64" => "amd64",
            "aarch64" => "arm64",
            "i386" | "i686" => "386",
            other => other,
        };
        let variant = rest.get(1).map(String::as_str);
        let variant_ok = match (&self.variant, variant) {
            (_, None) => true,
            (Some(mine), Some(v)) => mine == v,
            (None, Some("v8")) => arch == "arm64",
            (None, Some("v1")) => arch == "amd64",
            (None, Some(_)) => false,
        };
        rest.len() <= 2 && os == self.os && arch == self.architecture && variant_ok
    }

    /// The automatic platform ARGs, for target and build platform alike.
    pub fn automatic_args(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        for prefix in ["TARGET", "BUILD"] {
            out.push((format!("{prefix}PLATFORM"), self.spec()));
            out.push((format!("{prefix}OS"), self.os.clone()));
            out.push((format!("{prefix}ARCH"), self.architecture.clone()));
            out.push((
                format!("{prefix}VARIANT"),
                self.variant.clone().unwrap_or_default(),
            ));
        }
        out
    }
}

/// Build arguments usable in RUN without an ARG line (only when given).
pub const PROXY_ARGS: &[&str] = &[
    "HTTP_PROXY",
    "http_proxy",
    "HTTPS_PROXY",
    "https_proxy",
    "FTP_PROXY",
    "ftp_proxy",
    "NO_PROXY",
    "no_proxy",
    "ALL_PROXY",
    "all_proxy",
];

#[cfg(test)]
mod tests {
    use super::*;

    fn amd64() -> Platform {
        Platform {
            os: "linux".into(),
            architecture: "amd64".into(),
            variant: None,
        }
    }

    #[test]
    fn native_aliases_match() {
        let p = amd64();
        for v in [
            "linux/amd64",
            "linux/x86_64",
            "amd64",
            "LINUX/AMD64",
            "linux/amd64/v1",
        ] {
            assert!(p.matches(v), "{v}");
        }
        for v in [
            "linux/arm64",
            "windows/amd64",
            "linux",
            "",
            "linux/amd64/v3/x",
        ] {
            assert!(!p.matches(v), "{v}");
        }
    }

    #[test]
    fn automatic_args() {
        let args = amd64().automatic_args();
        assert!(args.contains(&("TARGETPLATFORM".into(), "linux/amd64".into())));
        assert!(args.contains(&("BUILDARCH".into(), "amd64".into())));
        assert!(args.contains(&("TARGETVARIANT".into(), String::new())));
    }
}
