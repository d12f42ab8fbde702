//! Image references normalized the way Docker does: `redis` is
//! `docker.io/library/redis:latest`, `host:port/repo:tag` names a registry,
//! `@sha256:…` pins a digest.

use std::fmt;

/// The registry Docker assumes when a reference names none.
pub const DEFAULT_REGISTRY: &str = "docker.io";
/// The tag assumed when a reference has neither tag nor digest.
pub const DEFAULT_TAG: &str = "latest";

/// Why a string is not an image reference.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid image reference {reference:?}: {reason}")]
pub struct ReferenceError {
    pub reference: String,
    pub reason: &'static str,
}

/// A fully qualified image reference.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ImageReference {
    /// Registry host, with its port if any (`docker.io`, `localhost:5000`).
    pub registry: String,
    /// Repository path within the registry (`library/redis`).
    pub repository: String,
    /// Tag; `latest` when the reference had neither tag nor digest.
    pub tag: Option<String>,
    /// Content digest (`sha256:…`), when pinned.
    pub digest: Option<String>,
}

impl ImageReference {
    /// Parses and normalizes a reference as Docker does.
    pub fn parse(text: &str) -> Result<Self, ReferenceError> {
        let fail = |reason| ReferenceError {
            reference: text.to_string(),
            reason,
        };
        if text.is_empty() {
            return Err(fail("it is empty"));
        }
        let (name_and_tag, digest) = match text.split_once('@') {
            Some((rest, digest)) => (rest, Some(digest)),
            None => (text, None),
        };
        if let Some(d) = digest {
            if !is_digest(d) {
                return Err(fail("the digest must look like sha256:<64 hex digits>"));
            }
        }
        let last_slash = name_and_tag.rfind('/').map_or(0, |i| i + 1);
        let (name, tag) = match name_and_tag[last_slash..].rfind(':') {
            Some(i) => (
                &name_and_tag[..last_slash + i],
                Some(&name_and_tag[last_slash + i + 1..]),
            ),
            None => (name_and_tag, None),
        };
        if let Some(t) = tag {
            if !is_tag(t) {
                return Err(fail("a tag is up to 128 letters, digits, '_', '.' and '-', not starting with '.' or '-'"));
            }
        }
        let (registry, path) = match name.split_once('/') {
            Some((first, rest)) if first.contains(['.', ':']) || first == "localhost" => {
                (first.to_string(), rest.to_string())
            }
            Some(_) => (DEFAULT_REGISTRY.to_string(), name.to_string()),
            None => (DEFAULT_REGISTRY.to_string(), format!("library/{name}")),
        };
        if registry.is_empty() || path.is_empty() {
            return Err(fail("the repository name is empty"));
        }
        if path.chars().any(|c| c.is_ascii_uppercase()) {
            return Err(fail("repository names must be lowercase"));
        }
        if !path.split('/').all(is_path_component) {
            return Err(fail("repository path components are lowercase letters and digits, separated by '.', '_', '__' or '-'"));
        }
        let tag = match (tag, digest) {
            (None, None) => Some(DEFAULT_TAG.to_string()),
            (t, _) => t.map(str::to_string),
        };
        Ok(ImageReference {
            registry,
            repository: path,
            tag,
            digest: digest.map(str::to_string),
        })
    }

    /// The short form Docker shows (`redis:latest`, `user/app:1`, `ghcr.io/x/y:2`).
    pub fn familiar(&self) -> String {
        let name = if self.registry == DEFAULT_REGISTRY {
            self.repository
                .strip_prefix("library/")
                .unwrap_or(&self.repository)
                .to_string()
        } else {
            format!("{}/{}", self.registry, self.repository)
        };
        self.with_suffix(name)
    }

    fn with_suffix(&self, mut name: String) -> String {
        if let Some(tag) = &self.tag {
            name.push(':');
            name.push_str(tag);
        }
        if let Some(digest) = &self.digest {
            name.push('@');
            name.push_str(digest);
        }
        name
    }
}

impl fmt::Display for ImageReference {
    /// The fully qualified form (`docker.io/library/redis:latest`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.with_suffix(format!("{}/{}", self.registry, self.repository)))
    }
}

fn is_tag(tag: &str) -> bool {
    let mut chars = tag.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
        && tag.len() <= 128
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
}

fn is_digest(digest: &str) -> bool {
    match digest.split_once(':') {
        Some(("sha256", hex)) => {
            hex.len() == 64
                && hex
                    .bytes()
                    .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
        }
        Some((algorithm, hex)) => {
            !algorithm.is_empty()
                && algorithm
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '.' | '_' | '-'))
                && hex.len() >= 32
                && hex.bytes().all(|b| b.is_ascii_hexdigit())
        }
        None => false,
    }
}

/// `[a-z0-9]+` runs joined by one separator: `.`, `_`, `__` or any number of `-`.
fn is_path_component(component: &str) -> bool {
    let bytes = component.as_bytes();
    let alnum = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    if bytes.is_empty() || !alnum(bytes[0]) || !alnum(bytes[bytes.len() - 1]) {
        return false;
    }
    let mut i = 0;
    while i < bytes.len() {
        if alnum(bytes[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < bytes.len() && !alnum(bytes[i]) {
            i += 1;
        }
        let sep = &component[start..i];
        if !(sep == "." || sep == "_" || sep == "__" || sep.bytes().all(|b| b == b'-')) {
            return false;
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn full(text: &str) -> String {
        ImageReference::parse(text).unwrap().to_string()
    }

    #[test]
    fn normalizes_like_docker() {
        assert_eq!(full("redis"), "docker.io/library/redis:latest");
        assert_eq!(full("redis:7-alpine"), "docker.io/library/redis:7-alpine");
        assert_eq!(full("user/app"), "docker.io/user/app:latest");
        assert_eq!(
            full("localhost:5000/team/app:1.2"),
            "localhost:5000/team/app:1.2"
        );
        assert_eq!(full("localhost/app"), "localhost/app:latest");
        assert_eq!(full("ghcr.io/org/tool:v1"), "ghcr.io/org/tool:v1");
        assert_eq!(
            full("127.0.0.1:5000/busybox"),
            "127.0.0.1:5000/busybox:latest"
        );
        let digest = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
        assert_eq!(
            full(&format!("redis@{digest}")),
            format!("docker.io/library/redis@{digest}")
        );
        assert_eq!(
            full(&format!("redis:7@{digest}")),
            format!("docker.io/library/redis:7@{digest}")
        );
        assert_eq!(full("a__b/c-----d.e:x"), "docker.io/a__b/c-----d.e:x");
    }

    #[test]
    fn familiar_names() {
        assert_eq!(
            ImageReference::parse("docker.io/library/redis")
                .unwrap()
                .familiar(),
            "redis:latest"
        );
        assert_eq!(
            ImageReference::parse("user/app:2").unwrap().familiar(),
            "user/app:2"
        );
        assert_eq!(
            ImageReference::parse("localhost:5000/x")
                .unwrap()
                .familiar(),
            "localhost:5000/x:latest"
        );
    }

    #[test]
    fn refuses_invalid_references() {
        for bad in [
            "",
            "Redis",
            "user/App",
            "redis:",
            "redis:-x",
            "redis@sha256:abc",
            "a//b",
            "-a",
            "a-",
            "a..b",
            "/x",
            "x/",
            "redis:7 8",
        ] {
            let err = ImageReference::parse(bad).expect_err(bad);
            assert!(err.to_string().contains("invalid image reference"), "{err}");
        }
    }
}
