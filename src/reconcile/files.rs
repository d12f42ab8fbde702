//! Secrets and configs a service's containers get: each source (a file,
//! a variable of the project's environment, inline `content`) is read into
//! bytes with its target, owner and mode. Checked before anything is
//! created, and digested so that a changed content recreates the container
//! (the runtime copies the bytes at create time; see `InjectedFile`).

use std::collections::BTreeMap;
use std::path::PathBuf;

use sha2::{Digest, Sha256};

use crate::compose::model::{FileObject, Project, Service, ServiceConfigRef};

/// A secret or config a service cannot have, named for the user: the
/// service, its entry (`secrets[0]`) and what was wrong. Translation turns
/// it into its own error, with the same words.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("service {service:?}: {field}: {message}")]
pub struct FileError {
    pub service: String,
    pub field: String,
    pub message: String,
}

/// Default permission bits (as docker compose gives them).
pub const DEFAULT_MODE: u32 = 0o444;

/// Secret or config.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Secret,
    Config,
}

impl Kind {
    /// `secret`, `config`.
    pub fn word(self) -> &'static str {
        match self {
            Kind::Secret => "secret",
            Kind::Config => "config",
        }
    }

    /// Where a relative target goes: `/run/secrets/` or `/`.
    fn base(self) -> &'static str {
        match self {
            Kind::Secret => "/run/secrets/",
            Kind::Config => "/",
        }
    }
}

/// What the container sees at the target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Content {
    /// A copy, made when the container is created.
    Bytes(Vec<u8>),
    /// A directory source, bound read-only as it is (as docker compose does).
    Directory(PathBuf),
}

/// One secret or config of a service, ready for the container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceFile {
    pub kind: Kind,
    /// The key under top-level `secrets:`/`configs:`.
    pub source: String,
    /// Absolute path in the container.
    pub target: String,
    pub uid: u32,
    pub gid: u32,
    pub mode: u32,
    pub content: Content,
}

impl ServiceFile {
    /// `secret db_pass`.
    pub fn description(&self) -> String {
        format!("{} {}", self.kind.word(), self.source)
    }
}

/// The path in the container: the default when unset (`/run/secrets/<source>`
/// for a secret, `/<source>` for a config), a relative one under that
/// directory, an absolute one as written.
pub fn target_path(kind: Kind, source: &str, target: Option<&str>) -> String {
    match target.filter(|t| !t.is_empty()) {
        None => format!("{}{source}", kind.base()),
        Some(t) if t.starts_with('/') => t.to_string(),
        Some(t) => format!("{}{t}", kind.base()),
    }
}

/// The service's secrets then configs, with their contents read. Errors name
/// the service, the entry (`secrets[0]`), the secret and what was wrong.
pub fn service_files(
    project: &Project,
    service_name: &str,
    service: &Service,
) -> Result<Vec<ServiceFile>, FileError> {
    let mut files = Vec::new();
    for (kind, refs, defined) in [
        (Kind::Secret, &service.secrets, &project.secrets),
        (Kind::Config, &service.configs, &project.configs),
    ] {
        for (index, reference) in refs.iter().enumerate() {
            let fail = |message: String| FileError {
                service: service_name.to_string(),
                field: format!("{}s[{index}]", kind.word()),
                message: format!("{} {:?}: {message}", kind.word(), reference.source),
            };
            let object = defined
                .get(&reference.source)
                .ok_or_else(|| fail("is not defined at the top level".into()))?;
            files.push(resolve(kind, reference, object, project).map_err(fail)?);
        }
    }
    Ok(files)
}

fn resolve(
    kind: Kind,
    reference: &ServiceConfigRef,
    object: &FileObject,
    project: &Project,
) -> Result<ServiceFile, String> {
    if object.external {
        return Err("is external: not supported without a swarm (berth reads secrets and configs from file, environment or content)".into());
    }
    if let Some(driver) = object.driver.as_deref().filter(|d| !d.is_empty()) {
        return Err(format!(
            "driver {driver:?} is not supported (berth reads secrets and configs from file, environment or content)"
        ));
    }
    if let Some(driver) = object.template_driver.as_deref().filter(|d| !d.is_empty()) {
        return Err(format!(
            "template_driver {driver:?} is not supported (the content is used as it is)"
        ));
    }
    let id = |what: &str, text: Option<&crate::compose::model::Text>| -> Result<u32, String> {
        match text.map(|t| t.0.trim()).filter(|t| !t.is_empty()) {
            None => Ok(0),
            Some(t) => t.parse().map_err(|_| {
                format!("invalid {what} {t:?}: expected a number (names are not looked up)")
            }),
        }
    };
    let uid = id("uid", reference.uid.as_ref())?;
    let gid = id("gid", reference.gid.as_ref())?;
    let mode = reference.mode.as_ref().map_or(DEFAULT_MODE, |m| m.0);
    let content = if let Some(path) = &object.file {
        read_file(path, reference)?
    } else if let Some(variable) = &object.environment {
        let value = project.environment.get(variable).ok_or_else(|| {
            format!("environment variable {variable:?} is not set (set it in the shell, .env or an --env-file)")
        })?;
        Content::Bytes(value.clone().into_bytes())
    } else if let Some(content) = &object.content {
        Content::Bytes(content.clone().into_bytes())
    } else {
        return Err("needs one of file, environment or content".into());
    };
    Ok(ServiceFile {
        kind,
        source: reference.source.clone(),
        target: target_path(kind, &reference.source, reference.target.as_deref()),
        uid,
        gid,
        mode,
        content,
    })
}

fn read_file(path: &str, reference: &ServiceConfigRef) -> Result<Content, String> {
    let failed = |err: std::io::Error| format!("file {path}: {}", io_text(&err));
    let meta = std::fs::metadata(path).map_err(failed)?;
    if meta.is_dir() {
        if reference.uid.is_some() || reference.gid.is_some() || reference.mode.is_some() {
            return Err(format!(
                "file {path} is a directory: uid, gid and mode apply only to files"
            ));
        }
        return Ok(Content::Directory(PathBuf::from(path)));
    }
    std::fs::read(path).map(Content::Bytes).map_err(failed)
}

/// An I/O error without Rust's `(os error N)` tail.
fn io_text(err: &std::io::Error) -> String {
    let text = err.to_string();
    match text.find(" (os error") {
        Some(at) => text[..at].to_string(),
        None => text,
    }
}

/// `secret db_pass` -> SHA-256 of the content, for the copies (a bound
/// directory is live and has none). Target, owner and mode are in the
/// service configuration, whose hash covers them.
pub fn digests(files: &[ServiceFile]) -> BTreeMap<String, String> {
    files
        .iter()
        .filter_map(|file| match &file.content {
            Content::Bytes(bytes) => {
                let digest: String = Sha256::digest(bytes)
                    .iter()
                    .map(|b| format!("{b:02x}"))
                    .collect();
                Some((file.description(), digest))
            }
            Content::Directory(_) => None,
        })
        .collect()
}

/// Reads the secrets and configs of `services` (files, variables,
/// contents): a missing source fails here, before anything is created.
/// Returns service -> [`digests`].
pub fn service_digests(
    project: &Project,
    services: &[String],
) -> Result<BTreeMap<String, BTreeMap<String, String>>, FileError> {
    let mut all = BTreeMap::new();
    for name in services {
        if let Some(service) = project.services.get(name) {
            all.insert(
                name.clone(),
                digests(&service_files(project, name, service)?),
            );
        }
    }
    Ok(all)
}

/// What changed between the digests a container was made with and the
/// current ones: `secret db_pass, config app changed`, or `None`.
pub fn describe_changes(
    old: &BTreeMap<String, String>,
    new: &BTreeMap<String, String>,
) -> Option<String> {
    let changed: Vec<&str> = old
        .keys()
        .chain(new.keys())
        .filter(|k| old.get(*k) != new.get(*k))
        .map(String::as_str)
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    if changed.is_empty() {
        return None;
    }
    Some(format!("content of {} changed", changed.join(", ")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compose::load_from_str;

    fn project(yaml: &str, dir: &std::path::Path) -> Project {
        load_from_str(yaml, dir).unwrap().project
    }

    #[test]
    fn targets_resolve_like_docker_compose() {
        assert_eq!(target_path(Kind::Secret, "db", None), "/run/secrets/db");
        assert_eq!(target_path(Kind::Secret, "db", Some("")), "/run/secrets/db");
        assert_eq!(
            target_path(Kind::Secret, "db", Some("pw.txt")),
            "/run/secrets/pw.txt"
        );
        assert_eq!(target_path(Kind::Secret, "db", Some("/etc/pw")), "/etc/pw");
        assert_eq!(target_path(Kind::Config, "app", None), "/app");
        assert_eq!(
            target_path(Kind::Config, "app", Some("etc/app.conf")),
            "/etc/app.conf"
        );
        assert_eq!(target_path(Kind::Config, "app", Some("/a/b")), "/a/b");
    }

    #[test]
    fn sources_owners_and_modes() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("pw.txt"), "s3cret").unwrap();
        let yaml = r#"
services:
  web:
    image: x
    secrets:
      - pw
      - source: token
        target: tok
        uid: "1000"
        gid: "50"
        mode: 0400
    configs:
      - app
      - source: app
        target: /etc/app.conf
secrets:
  pw: {file: ./pw.txt}
  token: {environment: TOKEN}
configs:
  app: {content: "port=${PORT:-80}"}
"#;
        let mut p = project(yaml, dir.path());
        p.environment.insert("TOKEN".into(), "abc".into());
        let files = service_files(&p, "web", &p.services["web"]).unwrap();
        let summary: Vec<(String, u32, u32, u32)> = files
            .iter()
            .map(|f| (f.target.clone(), f.uid, f.gid, f.mode))
            .collect();
        assert_eq!(
            summary,
            [
                ("/run/secrets/pw".to_string(), 0, 0, 0o444),
                ("/run/secrets/tok".to_string(), 1000, 50, 0o400),
                ("/app".to_string(), 0, 0, 0o444),
                ("/etc/app.conf".to_string(), 0, 0, 0o444),
            ]
        );
        assert_eq!(files[0].content, Content::Bytes(b"s3cret".to_vec()));
        assert_eq!(files[1].content, Content::Bytes(b"abc".to_vec()));
        assert_eq!(files[2].content, Content::Bytes(b"port=80".to_vec()));
        let before = digests(&files);
        assert_eq!(before.len(), 3, "{before:?}");
        std::fs::write(dir.path().join("pw.txt"), "changed").unwrap();
        let after = digests(&service_files(&p, "web", &p.services["web"]).unwrap());
        assert_eq!(
            describe_changes(&before, &after).as_deref(),
            Some("content of secret pw changed")
        );
        assert_eq!(describe_changes(&after, &after), None);
    }

    #[test]
    fn errors_name_the_service_entry_and_what_is_wrong() {
        let dir = tempfile::tempdir().unwrap();
        let check = |yaml: &str| {
            let p = project(yaml, dir.path());
            service_files(&p, "web", &p.services["web"])
                .unwrap_err()
                .to_string()
        };
        let missing = dir.path().join("nope.txt");
        assert_eq!(
            check("services:\n  web:\n    image: x\n    secrets: [db]\nsecrets:\n  db: {file: ./nope.txt}\n"),
            format!(
                "service \"web\": secrets[0]: secret \"db\": file {}: No such file or directory",
                missing.display()
            )
        );
        assert_eq!(
            check("services:\n  web:\n    image: x\n    secrets: [db]\nsecrets:\n  db: {environment: BERTH_UNSET_VAR_X}\n"),
            "service \"web\": secrets[0]: secret \"db\": environment variable \"BERTH_UNSET_VAR_X\" is not set (set it in the shell, .env or an --env-file)"
        );
        assert_eq!(
            check("services:\n  web:\n    image: x\n    configs: [c]\nconfigs:\n  c: {external: true}\n"),
            "service \"web\": configs[0]: config \"c\": is external: not supported without a swarm (berth reads secrets and configs from file, environment or content)"
        );
        assert!(check(
            "services:\n  web:\n    image: x\n    configs: [c]\nconfigs:\n  c: {content: x, template_driver: golang}\n"
        )
        .contains("configs[0]: config \"c\": template_driver \"golang\" is not supported"));
        assert!(check(
            "services:\n  web:\n    image: x\n    secrets: [s]\nsecrets:\n  s: {content: x, driver: vault}\n"
        )
        .contains("secrets[0]: secret \"s\": driver \"vault\" is not supported"));
        assert!(check(
            "services:\n  web:\n    image: x\n    secrets: [{source: s, uid: app}]\nsecrets:\n  s: {content: x}\n"
        )
        .contains("invalid uid \"app\": expected a number"));
    }
}
