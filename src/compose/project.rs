//! From a merged, decoded file to a [`Project`]: profiles, normalization
//! (default network, resource names, env files, build defaults, secret
//! targets, unused resources dropped) and cross-reference validation.
//!
//! `config --no-normalize` skips what compose-go's `Normalize` step does and
//! nothing else ([`ProjectInputs::normalize`]): no implicit `default` network,
//! no `<project>_<key>` resource names, no `build.dockerfile` default, bare
//! build args left unresolved, `pull_policy: if_not_present` kept, and no
//! `depends_on` implied by `links`, `network_mode`/`ipc`/`pid: service:x` or
//! `volumes_from`. Env files, bare environment names, `build.context`, secret
//! targets, dropping unused resources and validation happen either way, as in
//! compose, where they are separate steps.

use super::dotenv;
use super::environment::Environment;
use super::error::Problem;
use super::model::{ComposeFile, EnvMap, FileObject, MountKind, Network, Project, Service, Volume};
use super::yaml::{FileId, NodePath, Span};
use crate::graph::{Dependency, DependencyKind, GraphError, GraphInput, ProjectGraph, ServiceDeps};
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

type Result<T> = std::result::Result<T, Problem>;

/// Everything `build_project` needs besides the decoded file.
pub struct ProjectInputs {
    pub name: String,
    pub file: ComposeFile,
    pub working_dir: PathBuf,
    pub config_files: Vec<PathBuf>,
    pub env_files: Vec<PathBuf>,
    pub profiles: Vec<String>,
    pub services: Vec<String>,
    pub env: Environment,
    /// `false` for `config --no-normalize`: see the module header.
    pub normalize: bool,
}

fn problem(path: NodePath, message: impl Into<String>) -> Problem {
    Problem::new(Span::synthetic(FileId(0)), path, message)
}

/// Builds the normalized, validated project; returns it with warnings.
pub fn build_project(inputs: ProjectInputs) -> Result<(Project, Vec<String>)> {
    let ProjectInputs {
        name,
        file,
        working_dir,
        config_files,
        env_files,
        profiles,
        services,
        env,
        normalize,
    } = inputs;
    let mut warnings = Vec::new();
    let all_profiles: BTreeSet<String> = file
        .services
        .values()
        .flat_map(|s| s.profiles.iter().cloned())
        .collect();

    for requested in &services {
        if !file.services.contains_key(requested) {
            return Err(problem(
                NodePath::root(),
                format!("no such service: {requested}"),
            ));
        }
    }
    let (mut enabled, disabled) = split_by_profiles(file.services, &profiles, &services);

    for (svc_name, service) in enabled.iter_mut() {
        normalize_service(svc_name, service, &env, &working_dir, normalize)?;
    }

    let mut networks: BTreeMap<String, Network> = file
        .networks
        .into_iter()
        .map(|(k, v)| (k, v.unwrap_or_default()))
        .collect();
    let mut volumes: BTreeMap<String, Volume> = file
        .volumes
        .into_iter()
        .map(|(k, v)| (k, v.unwrap_or_default()))
        .collect();
    let mut secrets = file.secrets;
    let mut configs = file.configs;

    if normalize {
        add_default_network(&mut enabled, &mut networks);
    }

    validate(
        &enabled, &networks, &volumes, &secrets, &configs, &disabled, normalize,
    )?;

    // Drop what no enabled service uses, as `docker compose config` does.
    let used = UsedResources::of(&enabled);
    networks.retain(|k, _| used.networks.contains(k));
    volumes.retain(|k, _| used.volumes.contains(k));
    secrets.retain(|k, _| used.secrets.contains(k));
    configs.retain(|k, _| used.configs.contains(k));

    if normalize {
        for (key, network) in networks.iter_mut() {
            network
                .name
                .get_or_insert_with(|| resource_name(&name, key, network.external));
        }
        for (key, volume) in volumes.iter_mut() {
            volume
                .name
                .get_or_insert_with(|| resource_name(&name, key, volume.external));
        }
        for object_map in [&mut secrets, &mut configs] {
            for (key, object) in object_map.iter_mut() {
                object
                    .name
                    .get_or_insert_with(|| resource_name(&name, key, object.external));
            }
        }
    }
    for (kind, objects) in [("secrets", &secrets), ("configs", &configs)] {
        for (key, object) in objects {
            check_file_object(kind, key, object, &env, &mut warnings)?;
        }
    }

    let project = Project {
        name,
        services: enabled,
        networks,
        volumes,
        secrets,
        configs,
        extensions: file.extensions,
        working_dir,
        config_files,
        env_files,
        environment: env.to_map(),
        disabled_services: disabled,
        all_profiles: all_profiles.into_iter().collect(),
    };
    Ok((project, warnings))
}

/// Services that name no network and share none join `default`, which then
/// exists even if the file does not declare it.
fn add_default_network(
    services: &mut BTreeMap<String, Service>,
    networks: &mut BTreeMap<String, Network>,
) {
    for service in services.values_mut() {
        if service.network_mode.is_none() && service.networks.is_empty() {
            service.networks.insert("default".into(), None);
        }
    }
    if services
        .values()
        .any(|s| s.networks.contains_key("default"))
    {
        networks.entry("default".into()).or_default();
    }
}

/// The name a network, volume, secret or config gets when it sets none:
/// its key if external, else `<project>_<key>`.
fn resource_name(project: &str, key: &str, external: bool) -> String {
    if external {
        key.to_string()
    } else {
        format!("{project}_{key}")
    }
}

/// Splits services into enabled and disabled by the active profiles; a
/// service named on the command line is always enabled.
fn split_by_profiles(
    services: BTreeMap<String, Service>,
    profiles: &[String],
    requested: &[String],
) -> (BTreeMap<String, Service>, BTreeMap<String, Service>) {
    let all = profiles.iter().any(|p| p == "*");
    let mut active: BTreeSet<&str> = profiles.iter().map(String::as_str).collect();
    for name in requested {
        if let Some(service) = services.get(name) {
            active.extend(service.profiles.iter().map(String::as_str));
        }
    }
    let active: BTreeSet<String> = active.into_iter().map(String::from).collect();
    let mut enabled = BTreeMap::new();
    let mut disabled = BTreeMap::new();
    for (name, service) in services {
        let on = all
            || service.profiles.is_empty()
            || requested.contains(&name)
            || service.profiles.iter().any(|p| active.contains(p));
        if on {
            enabled.insert(name, service);
        } else {
            disabled.insert(name, service);
        }
    }
    (enabled, disabled)
}

fn normalize_service(
    name: &str,
    service: &mut Service,
    env: &Environment,
    working_dir: &std::path::Path,
    normalize: bool,
) -> Result<()> {
    let path = NodePath::root().key("services").key(name);

    // env_file values first, then `environment` wins; bare names come from the environment.
    let mut environment = EnvMap::new();
    for (i, env_file) in service.env_file.iter().enumerate() {
        // Relative only under `config --no-path-resolution`: from the project directory.
        let file = working_dir.join(&env_file.path);
        let text = match std::fs::read_to_string(&file) {
            Ok(text) => text,
            Err(_) if !env_file.required => continue,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(problem(
                    path.key("env_file").index(i),
                    format!("env file {} not found", file.display()),
                ))
            }
            Err(e) => {
                return Err(problem(
                    path.key("env_file").index(i),
                    format!("env file {}: {e}", file.display()),
                ))
            }
        };
        let parsed = if env_file.format.as_deref() == Some("raw") {
            dotenv::parse_raw(&text)
        } else {
            dotenv::parse(&text, &|k| env.get(k))
        }
        .map_err(|e| {
            problem(
                path.key("env_file").index(i),
                format!("{}: {e}", file.display()),
            )
        })?;
        environment.extend(parsed);
    }
    for (key, value) in std::mem::take(&mut service.environment) {
        environment.insert(key, value);
    }
    for (key, value) in environment.iter_mut() {
        if value.is_none() {
            *value = env.get(key);
        }
    }
    service.environment = environment;
    service.env_file.clear();

    let mut from_files = super::model::StringMap::new();
    for (i, label_file) in std::mem::take(&mut service.label_file)
        .into_iter()
        .enumerate()
    {
        let text = std::fs::read_to_string(working_dir.join(&label_file)).map_err(|e| {
            problem(
                path.key("label_file").index(i),
                format!("cannot read label file {label_file}: {e}"),
            )
        })?;
        let parsed = dotenv::parse_raw(&text).map_err(|e| {
            problem(
                path.key("label_file").index(i),
                format!("{label_file}: {e}"),
            )
        })?;
        // Label files: `key=value` lines whose keys may hold any label characters; a
        // value in matching quotes loses them.
        from_files.extend(
            parsed
                .into_iter()
                .map(|(k, v)| (k, unquote(&v.unwrap_or_default()).to_string())),
        );
    }
    for (k, v) in from_files {
        service.labels.entry(k).or_insert(v);
    }

    if let Some(build) = &mut service.build {
        if build.context.is_none() {
            build.context = Some(working_dir.to_string_lossy().into_owned());
        }
        if normalize {
            if build.dockerfile.is_none() && build.dockerfile_inline.is_none() {
                build.dockerfile = Some("Dockerfile".into());
            }
            // A bare arg takes its value from the environment, or is dropped.
            let args = std::mem::take(&mut build.args);
            build.args = args
                .into_iter()
                .filter_map(|(k, v)| match v {
                    Some(v) => Some((k, Some(v))),
                    None => env.get(&k).map(|v| (k, Some(v))),
                })
                .collect();
        }
        build.extra_hosts.sort();
    }

    if normalize && service.pull_policy.as_deref() == Some("if_not_present") {
        service.pull_policy = Some("missing".into());
    }
    if service.image.as_deref() == Some("") {
        service.image = None;
    }
    if normalize {
        add_implicit_dependencies(service);
    }
    service.extra_hosts.sort();
    for secret in &mut service.secrets {
        if secret.target.is_none() {
            secret.target = Some(format!("/run/secrets/{}", secret.source));
        }
    }
    if let (Some(scale), Some(replicas)) = (
        service.scale,
        service.deploy.as_ref().and_then(|d| d.replicas),
    ) {
        if scale != replicas {
            return Err(problem(path.key("scale"), format!("can't set distinct values on 'scale' ({scale}) and 'deploy.replicas' ({replicas})")));
        }
    }
    Ok(())
}

/// `links`, `network_mode`/`ipc`/`pid: service:x` and `volumes_from` imply a
/// `depends_on` (as compose records it), unless one is declared.
fn add_implicit_dependencies(service: &mut Service) {
    use super::model::{DependencyCondition, ServiceDependency};
    let mut implied: Vec<(String, bool)> = Vec::new();
    for link in &service.links {
        implied.push((link.split(':').next().unwrap_or(link).to_string(), true));
    }
    for namespace in [&service.network_mode, &service.ipc, &service.pid] {
        if let Some(name) = service_ref(namespace.as_ref()) {
            implied.push((name.to_string(), true));
        }
    }
    for from in &service.volumes_from {
        if !from.starts_with("container:") {
            implied.push((from.split(':').next().unwrap_or(from).to_string(), false));
        }
    }
    for (name, restart) in implied {
        service.depends_on.entry(name).or_insert(ServiceDependency {
            condition: DependencyCondition::ServiceStarted,
            restart,
            required: true,
        });
    }
}

/// A secret or config has exactly one source (unless external); a source
/// variable that is not set is worth a warning.
fn check_file_object(
    kind: &str,
    key: &str,
    object: &FileObject,
    env: &Environment,
    warnings: &mut Vec<String>,
) -> Result<()> {
    let path = NodePath::root().key(kind).key(key);
    let sources = [
        object.file.is_some(),
        object.environment.is_some(),
        object.content.is_some(),
    ]
    .iter()
    .filter(|b| **b)
    .count();
    if !object.external && sources == 0 {
        return Err(problem(path, "needs one of file, environment or content"));
    }
    if sources > 1 {
        return Err(problem(
            path,
            "file, environment and content are mutually exclusive",
        ));
    }
    if let Some(var) = &object.environment {
        if env.get(var).is_none() {
            warnings.push(format!(
                "{kind}.{key}: environment variable {var:?} is not set"
            ));
        }
    }
    Ok(())
}

/// The resources enabled services refer to.
#[derive(Default)]
struct UsedResources {
    networks: BTreeSet<String>,
    volumes: BTreeSet<String>,
    secrets: BTreeSet<String>,
    configs: BTreeSet<String>,
}

impl UsedResources {
    fn of(services: &BTreeMap<String, Service>) -> Self {
        let mut used = UsedResources::default();
        for service in services.values() {
            used.networks.extend(service.networks.keys().cloned());
            for v in &service.volumes {
                if v.kind == MountKind::Volume {
                    if let Some(source) = &v.source {
                        used.volumes.insert(source.clone());
                    }
                }
            }
            used.secrets
                .extend(service.secrets.iter().map(|s| s.source.clone()));
            if let Some(build) = &service.build {
                used.secrets
                    .extend(build.secrets.iter().map(|s| s.source.clone()));
            }
            used.configs
                .extend(service.configs.iter().map(|c| c.source.clone()));
        }
        used
    }
}

/// The services a `service:NAME` reference names, if it is one.
fn service_ref(value: Option<&String>) -> Option<&str> {
    value.and_then(|v| v.strip_prefix("service:"))
}

fn validate(
    services: &BTreeMap<String, Service>,
    networks: &BTreeMap<String, Network>,
    volumes: &BTreeMap<String, Volume>,
    secrets: &BTreeMap<String, FileObject>,
    configs: &BTreeMap<String, FileObject>,
    disabled: &BTreeMap<String, Service>,
    normalized: bool,
) -> Result<()> {
    for (name, service) in services {
        let path = NodePath::root().key("services").key(name);
        if name.is_empty()
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
        {
            return Err(problem(path, format!("invalid service name {name:?}: only letters, digits, '.', '_' and '-' are allowed")));
        }
        if let Some(mode) = &service.network_mode {
            let explicit_networks = !(service.networks.len() == 1
                && service.networks.contains_key("default")
                && service.networks["default"].is_none());
            if explicit_networks && !service.networks.is_empty() {
                return Err(problem(path.key("network_mode"), format!("service {name:?} declares mutually exclusive `network_mode` ({mode}) and `networks`")));
            }
        }
        for net in service.networks.keys() {
            if !networks.contains_key(net) {
                return Err(problem(
                    path.key("networks"),
                    format!("service {name:?} refers to undefined network {net:?}"),
                ));
            }
        }
        for (i, v) in service.volumes.iter().enumerate() {
            if v.kind == MountKind::Volume {
                if let Some(source) = &v.source {
                    if !volumes.contains_key(source) {
                        return Err(problem(
                            path.key("volumes").index(i),
                            format!("service {name:?} refers to undefined volume {source:?}"),
                        ));
                    }
                }
            }
        }
        for (kind, refs, defined) in [
            ("secret", &service.secrets, secrets),
            ("config", &service.configs, configs),
        ] {
            for r in refs.iter() {
                if !defined.contains_key(&r.source) {
                    return Err(problem(
                        path.key(&format!("{kind}s")),
                        format!("service {name:?} refers to undefined {kind} {:?}", r.source),
                    ));
                }
            }
        }
        if service.image.is_none() && service.build.is_none() && service.provider.is_none() {
            return Err(problem(
                path,
                format!("service {name:?} has neither an image nor a build context specified"),
            ));
        }
        let limit_cpus = service
            .deploy
            .as_ref()
            .and_then(|d| d.resources.as_ref())
            .and_then(|r| r.limits.as_ref())
            .and_then(|l| l.cpus);
        if let (Some(cpus), Some(limit)) = (service.cpus, limit_cpus) {
            if cpus != limit {
                return Err(problem(path.key("cpus"), format!("can't set distinct values on 'cpus' ({cpus}) and 'deploy.resources.limits.cpus' ({limit})")));
            }
        }
        if let (Some(platform), Some(build)) = (&service.platform, &service.build) {
            if !build.platforms.is_empty() && !build.platforms.contains(platform) {
                return Err(problem(
                    path.key("build").key("platforms"),
                    format!("build.platforms must include the service's platform {platform:?}"),
                ));
            }
        }
        if service.container_name.is_some() && service.replicas() > 1 {
            return Err(problem(path.key("container_name"), format!("service {name:?} sets container_name, so it cannot run more than one container, but it asks for {} replicas", service.replicas())));
        }
        let referenced = service
            .depends_on
            .iter()
            .filter(|(_, d)| d.required)
            .map(|(n, _)| n.as_str())
            .chain(service_ref(service.network_mode.as_ref()))
            .chain(service_ref(service.ipc.as_ref()).filter(|_| normalized))
            .chain(service_ref(service.pid.as_ref()).filter(|_| normalized));
        for dep in referenced {
            if !services.contains_key(dep) && disabled.contains_key(dep) {
                return Err(problem(path.key("depends_on"), format!("service {name:?} depends on service {dep:?}, which is disabled by its profiles: enable them with --profile")));
            }
        }
    }
    let mut graph = graph_input_with_disabled(services, &disabled.keys().cloned().collect());
    if !normalized {
        // Unnormalized, compose checks `depends_on` (and `network_mode`) alone:
        // it is normalization that turns links, ipc, pid and volumes_from into
        // dependencies.
        for service in &mut graph.services {
            service.needs.retain(|d| {
                matches!(
                    d.kind,
                    DependencyKind::DependsOn { .. } | DependencyKind::NetworkMode
                )
            });
        }
    }
    ProjectGraph::new(&graph).map_err(|e| {
        let path = match &e {
            GraphError::UndefinedService {
                service, attribute, ..
            } => NodePath::root().key("services").key(service).key(attribute),
            GraphError::Cycle(_) => NodePath::root().key("services"),
        };
        problem(path, e.to_string())
    })?;
    Ok(())
}

/// The graph module's view of the services.
pub fn graph_input(services: &BTreeMap<String, Service>) -> GraphInput {
    graph_input_with_disabled(services, &BTreeSet::new())
}

/// Like [`graph_input`]; optional dependencies on `disabled` services are left out.
fn graph_input_with_disabled(
    services: &BTreeMap<String, Service>,
    disabled: &BTreeSet<String>,
) -> GraphInput {
    let services = services
        .iter()
        .map(|(name, s)| {
            let mut needs: Vec<Dependency> = Vec::new();
            for link in &s.links {
                let target = link.split(':').next().unwrap_or(link);
                needs.push(Dependency {
                    service: target.to_string(),
                    kind: DependencyKind::Link,
                });
            }
            if let Some(dep) = service_ref(s.network_mode.as_ref()) {
                needs.push(Dependency {
                    service: dep.to_string(),
                    kind: DependencyKind::NetworkMode,
                });
            }
            if let Some(dep) = service_ref(s.ipc.as_ref()) {
                needs.push(Dependency {
                    service: dep.to_string(),
                    kind: DependencyKind::Ipc,
                });
            }
            if let Some(dep) = service_ref(s.pid.as_ref()) {
                needs.push(Dependency {
                    service: dep.to_string(),
                    kind: DependencyKind::Pid,
                });
            }
            for from in &s.volumes_from {
                if from.starts_with("container:") {
                    continue;
                }
                let target = from.split(':').next().unwrap_or(from);
                needs.push(Dependency {
                    service: target.to_string(),
                    kind: DependencyKind::VolumesFrom,
                });
            }
            needs.extend(
                s.depends_on
                    .iter()
                    .filter(|(dep, d)| {
                        d.required || services.contains_key(*dep) || !disabled.contains(*dep)
                    })
                    .map(|(dep, d)| Dependency {
                        service: dep.clone(),
                        kind: DependencyKind::DependsOn {
                            condition: d.condition.as_str().to_string(),
                            required: d.required,
                            restart: d.restart,
                        },
                    }),
            );
            ServiceDeps {
                name: name.clone(),
                needs,
                networks: s.networks.keys().cloned().collect(),
                volumes: s
                    .volumes
                    .iter()
                    .filter(|v| v.kind == MountKind::Volume)
                    .filter_map(|v| v.source.clone())
                    .collect(),
            }
        })
        .collect();
    GraphInput {
        services,
        networks: Vec::new(),
        volumes: Vec::new(),
    }
}

/// `"x"` or `'x'` -> `x`; anything else as is (label file values).
fn unquote(value: &str) -> &str {
    let v = value.trim();
    for quote in ['"', '\''] {
        if let Some(inner) = v.strip_prefix(quote).and_then(|r| r.strip_suffix(quote)) {
            return inner;
        }
    }
    v
}
