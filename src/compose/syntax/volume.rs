//! The short volume syntax `[SOURCE:]TARGET[:MODE]`. A source starting with
//! `/`, `.` or `~` is a bind mount, any other is a named volume; no source is
//! an anonymous volume. MODE is a comma list of ro, rw, z, Z, nocopy and the
//! propagation modes; others are ignored, as compose does.

/// What kind of mount the short syntax denotes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VolumeKind {
    Bind,
    Volume,
}

/// A parsed short volume entry (the source is kept as written).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedVolume {
    pub kind: VolumeKind,
    pub source: Option<String>,
    pub target: String,
    pub read_only: bool,
    pub propagation: Option<String>,
    pub selinux: Option<String>,
    pub nocopy: bool,
}

/// Parses a short volume entry.
pub fn parse_volume(text: &str) -> Result<ParsedVolume, String> {
    let fail = |why: &str| format!("invalid volume {text:?}: {why}");
    if text.is_empty() {
        return Err(fail("empty volume specification"));
    }
    let parts: Vec<&str> = text.split(':').collect();
    if parts.iter().any(|p| p.is_empty()) {
        return Err(fail("empty section between colons"));
    }
    let (source, target, mode) = match parts.as_slice() {
        [target] => (None, *target, None),
        [source, target] => (Some(*source), *target, None),
        [source, target, mode] => (Some(*source), *target, Some(*mode)),
        _ => return Err(fail("too many colons: expected [SOURCE:]TARGET[:MODE]")),
    };
    let kind = match source {
        Some(s) if s.starts_with('/') || s.starts_with('.') || s.starts_with('~') => {
            VolumeKind::Bind
        }
        _ => VolumeKind::Volume,
    };
    let mut volume = ParsedVolume {
        kind,
        source: source.map(String::from),
        target: target.to_string(),
        read_only: false,
        propagation: None,
        selinux: None,
        nocopy: false,
    };
    for option in mode.unwrap_or("").split(',').filter(|o| !o.is_empty()) {
        match option {
            "ro" => volume.read_only = true,
            "rw" => volume.read_only = false,
            "z" | "Z" => volume.selinux = Some(option.to_string()),
            "nocopy" => volume.nocopy = true,
            "shared" | "rshared" | "slave" | "rslave" | "private" | "rprivate" => {
                volume.propagation = Some(option.to_string())
            }
            _ => {}
        }
    }
    Ok(volume)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms() {
        let v = parse_volume("/a:/b").unwrap();
        assert_eq!(
            (v.kind, v.source.as_deref(), v.target.as_str()),
            (VolumeKind::Bind, Some("/a"), "/b")
        );
        let v = parse_volume("./a:/b:ro").unwrap();
        assert!(v.read_only && v.kind == VolumeKind::Bind);
        let v = parse_volume("data:/var/lib:nocopy").unwrap();
        assert!(v.nocopy && v.kind == VolumeKind::Volume);
        let v = parse_volume("/b").unwrap();
        assert_eq!((v.kind, v.source), (VolumeKind::Volume, None));
        let v = parse_volume("/a:/b:ro,Z,rslave").unwrap();
        assert_eq!(
            (v.selinux.as_deref(), v.propagation.as_deref(), v.read_only),
            (Some("Z"), Some("rslave"), true)
        );
        let v = parse_volume("~/x:/y").unwrap();
        assert_eq!(v.kind, VolumeKind::Bind);
        let v = parse_volume("/a:/b:cached").unwrap();
        assert!(!v.read_only);
    }

    #[test]
    fn errors() {
        assert!(parse_volume(":/b").unwrap_err().contains("empty section"));
        assert!(parse_volume("a:/b:ro:x")
            .unwrap_err()
            .contains("too many colons"));
        assert!(parse_volume("").is_err());
    }
}
