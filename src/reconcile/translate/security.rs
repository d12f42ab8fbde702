//! What the container may do: capabilities, privileged mode, sysctls,
//! ulimits, `oom_score_adj`, the cgroup namespace, and `security_opt`
//! (no-new-privileges, seccomp, LSM labels, system paths). A seccomp
//! profile file is project input: it is read in one place,
//! [`read_seccomp_profile`], and checked before anything is made.

use std::path::Path;

use berth_runtime::container::cgroup_view::CgroupNamespace;
use berth_runtime::container::{seccomp, Seccomp, Security, Ulimit};

use crate::compose::model::service::Ulimit as ComposeUlimit;
use crate::compose::model::{Project, Service};

use super::host::HostFacts;
use super::FieldError;

/// The security settings of `service`, and the warnings for `security_opt`
/// entries accepted but not honoured on this host.
pub fn security(
    project: &Project,
    service_name: &str,
    service: &Service,
    host: &HostFacts,
) -> Result<(Security, Vec<String>), FieldError> {
    let options = if service.security_opt.is_empty() {
        SecurityOptions::default()
    } else {
        security_options(&service.security_opt, &host.lsms).map_err(|(index, message)| {
            FieldError::new(&format!("security_opt[{index}]"), message)
        })?
    };
    let warnings = options
        .warnings
        .iter()
        .map(|w| format!("service {service_name:?}: security_opt: {w}"))
        .collect();
    let mut security = Security {
        cap_add: service.cap_add.clone(),
        cap_drop: service.cap_drop.clone(),
        privileged: service.privileged,
        no_new_privileges: options.no_new_privileges,
        unmask_system_paths: options.unmask_system_paths,
        sysctls: service.sysctls.clone(),
        ulimits: ulimits(service),
        oom_score_adj: service.oom_score_adj.map(|s| s as i32),
        seccomp: Seccomp::Default,
    };
    let seccomp_field = format!("security_opt[{}]", options.seccomp_index);
    let fail = |message: String| FieldError::new(&seccomp_field, message);
    security.seccomp = seccomp_setting(&project.working_dir, &options.seccomp).map_err(fail)?;
    // What only the compiler finds; the default profile is compiled at create.
    if let Seccomp::Profile { source, .. } = &security.seccomp {
        seccomp::program_for(&security)
            .map_err(|err| fail(format!("seccomp profile {source}: {err}")))?;
    }
    Ok((security, warnings))
}

/// `ulimits:` as soft and hard limits (a single value is both).
fn ulimits(service: &Service) -> Vec<Ulimit> {
    service
        .ulimits
        .iter()
        .map(|(name, limit)| {
            let (soft, hard) = match limit {
                ComposeUlimit::Single(value) => (*value, *value),
                ComposeUlimit::Pair { soft, hard } => (*soft, *hard),
            };
            Ulimit {
                name: name.clone(),
                soft,
                hard,
            }
        })
        .collect()
}

/// `cgroup: host` or `private` (the default).
pub fn cgroup_namespace(value: Option<&str>) -> Result<CgroupNamespace, String> {
    match value {
        None | Some("private") => Ok(CgroupNamespace::Private),
        Some("host") => Ok(CgroupNamespace::Host),
        Some(other) => Err(format!("{other:?} is not \"host\" or \"private\"")),
    }
}

/// `seccomp=…` as given in `security_opt`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum SeccompOption {
    /// Docker's default profile (no option, `builtin` or `default`).
    #[default]
    Default,
    Unconfined,
    /// A profile file in Docker's JSON format, as written.
    File(String),
}

/// `security_opt` as berth honours it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SecurityOptions {
    pub no_new_privileges: bool,
    pub seccomp: SeccompOption,
    /// Index of the `seccomp=` entry (errors name it).
    pub seccomp_index: usize,
    /// `systempaths=unconfined`.
    pub unmask_system_paths: bool,
    /// Options accepted but ignored on this host.
    pub warnings: Vec<String>,
}

/// Parses `security_opt` entries (`key=value` or the older `key:value`);
/// `lsms` are the host's active Linux security modules. Errors are
/// `(index, message)`.
pub fn security_options(
    options: &[String],
    lsms: &[String],
) -> Result<SecurityOptions, (usize, String)> {
    let mut parsed = SecurityOptions::default();
    for (index, option) in options.iter().enumerate() {
        let at = option.find(['=', ':']);
        let (key, value) = match at {
            Some(at) => (&option[..at], Some(&option[at + 1..])),
            None => (option.as_str(), None),
        };
        let fail = |message: String| (index, message);
        match (key, value) {
            ("no-new-privileges", None | Some("true")) => parsed.no_new_privileges = true,
            ("no-new-privileges", Some("false")) => parsed.no_new_privileges = false,
            ("no-new-privileges", Some(other)) => {
                return Err(fail(format!(
                    "invalid no-new-privileges value {other:?} (expected true or false)"
                )))
            }
            ("seccomp", Some(value)) if !value.is_empty() => {
                parsed.seccomp = match value {
                    "unconfined" => SeccompOption::Unconfined,
                    "builtin" | "default" => SeccompOption::Default,
                    file => SeccompOption::File(file.to_string()),
                };
                parsed.seccomp_index = index;
            }
            ("label", Some("disable")) | ("apparmor", Some("unconfined")) => {
                // berth applies no label or profile: this is what happens anyway.
            }
            ("label" | "apparmor", Some(value)) if !value.is_empty() => {
                let (module, name) = if key == "label" {
                    ("selinux", "SELinux")
                } else {
                    ("apparmor", "AppArmor")
                };
                if lsms.iter().any(|m| m == module) {
                    return Err(fail(format!(
                        "{option:?} is not supported: berth does not apply {name} {} (this host runs {name})",
                        if key == "label" { "labels" } else { "profiles" }
                    )));
                }
                parsed.warnings.push(format!(
                    "{option} is ignored: {name} is not enabled on this host"
                ));
            }
            ("systempaths", Some("unconfined")) => parsed.unmask_system_paths = true,
            ("systempaths", Some(other)) => {
                return Err(fail(format!(
                    "invalid systempaths value {other:?} (expected unconfined)"
                )))
            }
            _ => {
                return Err(fail(format!(
                    "unknown or incomplete security option {option:?} (berth knows no-new-privileges[=true|false], seccomp=unconfined|builtin|PROFILE.json, label=…, apparmor=…, systempaths=unconfined)"
                )))
            }
        }
    }
    Ok(parsed)
}

/// The seccomp setting of a service: a profile file (relative to the
/// project directory) is read and checked here, so a bad one is refused
/// before anything is made.
fn seccomp_setting(project_dir: &Path, option: &SeccompOption) -> Result<Seccomp, String> {
    let file = match option {
        SeccompOption::Default => return Ok(Seccomp::Default),
        SeccompOption::Unconfined => return Ok(Seccomp::Unconfined),
        SeccompOption::File(file) => project_dir.join(file),
    };
    let json = read_seccomp_profile(&file)?;
    seccomp::Profile::parse(&json)
        .map_err(|err| format!("seccomp profile {}: {err}", file.display()))?;
    Ok(Seccomp::Profile {
        source: file.display().to_string(),
        json,
    })
}

/// The one place a seccomp profile file is read.
fn read_seccomp_profile(file: &Path) -> Result<String, String> {
    std::fs::read_to_string(file)
        .map_err(|err| format!("seccomp profile {}: {err}", file.display()))
}
