//! `berth run SERVICE [COMMAND…]`: a one-off container of a service, as
//! `docker compose run` makes it: the dependencies brought up first (unless
//! `--no-deps`), a container named `PROJECT-SERVICE-run-XXXXXXXXXXXX`
//! labelled `oneoff=True`, the service's ports left unpublished unless
//! `--service-ports`, no restart policy, stdin passed through, its output
//! streamed, and its exit code returned (`--rm` removes it afterwards).
//! When stdin and stdout are terminals it gets a TTY (`-T` to not), sized
//! as ours and resized with it; we attach before its program starts, so no
//! output is missed.

use std::collections::BTreeMap;
use std::io::{IsTerminal, Read};
use std::time::Duration;

use anyhow::{bail, Context};
use berth_runtime::container::{Runtime, Status};
use berth_runtime::network::NetworkStore;
use berth_runtime::volume::VolumeStore;

use super::args::{GlobalOptions, RunArgs};
use super::console::{terminal_size, Session};
use super::lock::{run_dir, ProjectLock};
use super::project::load_project;
use crate::compose::graph_input;
use crate::compose::model::{Service, ServicePort, ServiceVolume};
use crate::graph::ProjectGraph;
use crate::reconcile::engine::RuntimeEngine;
use crate::reconcile::translate::HostFacts;
use crate::reconcile::DesiredState;

pub fn run(global: &GlobalOptions, args: &RunArgs) -> anyhow::Result<i32> {
    let loaded = load_project(global, std::slice::from_ref(&args.service), true)?;
    let mut project = loaded.project;
    if !project.services.contains_key(&args.service) {
        bail!("no such service: {}", args.service);
    }
    super::up::check_attributes(&project, std::slice::from_ref(&args.service))?;
    // Its secrets and configs are read before its dependencies start.
    crate::reconcile::files::service_digests(&project, std::slice::from_ref(&args.service))?;
    // The host is read once; `run`'s overrides change nothing it answers.
    let host = HostFacts::detect(&project);
    crate::reconcile::translate::check(&project, std::slice::from_ref(&args.service), &host)?;
    let graph = ProjectGraph::new(&graph_input(&project.services))?;
    let dependencies = graph.dependencies(&args.service, true);
    if !args.no_deps && !dependencies.is_empty() {
        let mut words = vec!["up".to_string(), "-d".to_string()];
        if let Some(pull) = &args.pull {
            words.push(format!("--pull={pull}"));
        }
        if args.quiet_pull {
            words.push("--quiet-pull".into());
        }
        words.extend(dependencies.iter().cloned());
        let code = super::up::run_words(global, &words).context("starting the dependencies")?;
        if code != 0 {
            return Ok(code);
        }
    }

    let dir = project_dir(&project);
    let service = project.services.get_mut(&args.service).unwrap();
    apply_overrides(service, args, &dir)?;
    let tty = service.tty;
    let interactive = service.stdin_open;
    crate::reconcile::translate::check(&project, std::slice::from_ref(&args.service), &host)?;

    let _lock = ProjectLock::acquire(&run_dir(), &project.name)?;
    let store = berth_runtime::image::ImageStore::open(&global.root).context("image store")?;
    let images = super::up::images(
        &store,
        &project,
        std::slice::from_ref(&args.service),
        args.pull.as_deref(),
        args.quiet_pull,
    )?;
    let image_ids = images
        .iter()
        .map(|(s, (image, _))| (s.clone(), image.id.clone()))
        .collect();
    let desired = DesiredState::from_project(&project, &BTreeMap::new(), &image_ids);
    let runtime = Runtime::new(&global.root).context("container runtime")?;
    let engine = RuntimeEngine {
        project: &project,
        desired: &desired,
        runtime: runtime.clone(),
        networks: NetworkStore::open(&global.root).context("network store")?,
        images,
        stop_timeout: None,
        run_dir: run_dir(),
        volumes: VolumeStore::open(&global.root).context("volume store")?,
        root: global.root.clone(),
        renew_anon_volumes: false,
        host: &host,
    };
    create_missing_resources(&engine, &project.services[&args.service], &desired)?;
    let name = match &args.name {
        Some(name) => name.clone(),
        None => format!(
            "{}-{}-run-{}",
            project.name,
            args.service,
            &random_hex()?[..12]
        ),
    };
    crate::supervisor::ensure_running(&global.root, &run_dir(), &project.name)
        .context("starting the project's supervisor")?;
    engine.create_container_as(&args.service, 1, &name, true)?;
    let at_gate = || crate::supervisor::converge_now(&run_dir(), &project.name);
    let started = if args.detach {
        runtime.start_with(&name, at_gate).map(|_| None)
    } else {
        let size = if tty { terminal_size() } else { None };
        runtime
            .start_attached(&name, size, at_gate)
            .map(|(_, console)| Some(console))
    };
    let console = match started {
        Ok(console) => console,
        Err(err) => {
            if args.rm {
                let _ = engine.remove_container(&name);
            }
            return Err(err).with_context(|| format!("starting {name}"));
        }
    };
    // post_start hooks, as docker compose runs them for `run` too: a
    // failure fails the command once the container is done (its output,
    // hook output included, is still shown).
    let hook_failure = crate::reconcile::hooks::post_start(&runtime, &name).err();
    drop(_lock);
    let Some(console) = console else {
        if let Some(failure) = hook_failure {
            return Err(failure).with_context(|| format!("starting {name}"));
        }
        println!("{name}");
        return Ok(0);
    };
    let session = Session {
        tty,
        stdin: interactive,
        detach_keys: None,
        sig_proxy: (!tty).then_some((&runtime, name.as_str())),
    };
    session.run(console)?;
    let code = exit_code(&runtime, &name)?;
    if args.rm {
        let anonymous = anonymous_volumes_of(&runtime, &name);
        engine
            .remove_container(&name)
            .map_err(|e| anyhow::anyhow!("removing {name}: {e}"))?;
        for volume in anonymous {
            if let Err(err) = engine.volumes.remove(&global.root, &volume) {
                eprintln!("warning: anonymous volume {volume} of {name} kept: {err}");
            }
        }
    }
    if let Some(failure) = hook_failure {
        return Err(failure).with_context(|| format!("starting {name}"));
    }
    Ok(code)
}

fn project_dir(project: &crate::compose::model::Project) -> std::path::PathBuf {
    project.working_dir.clone()
}

/// The command line's changes to the service, as compose applies them.
fn apply_overrides(
    service: &mut Service,
    args: &RunArgs,
    project_dir: &std::path::Path,
) -> anyhow::Result<()> {
    if !args.command.is_empty() {
        service.command = Some(args.command.clone());
    }
    if let Some(entrypoint) = &args.entrypoint {
        service.entrypoint = Some(split_words(entrypoint)?);
    }
    for entry in &args.env {
        match entry.split_once('=') {
            Some((key, value)) => {
                service
                    .environment
                    .insert(key.to_string(), Some(value.to_string()));
            }
            None => {
                service
                    .environment
                    .insert(entry.clone(), std::env::var(entry).ok());
            }
        }
    }
    for entry in &args.label {
        let (key, value) = entry.split_once('=').unwrap_or((entry, ""));
        service.labels.insert(key.to_string(), value.to_string());
    }
    if args.user.is_some() {
        service.user = args.user.clone();
    }
    if args.workdir.is_some() {
        service.working_dir = args.workdir.clone();
    }
    if !args.service_ports {
        service.ports.clear();
    }
    for spec in &args.publish {
        let ports: Vec<ServicePort> = serde_json::from_value(serde_json::json!([spec]))
            .map_err(|e| anyhow::anyhow!("--publish {spec:?}: {e}"))?;
        service.ports.extend(ports);
    }
    for spec in &args.volume {
        let mut volume: ServiceVolume = serde_json::from_value(serde_json::json!(spec))
            .map_err(|e| anyhow::anyhow!("--volume {spec:?}: {e}"))?;
        if let Some(source) = volume.source.as_mut() {
            if source.starts_with('.') {
                *source = project_dir.join(&*source).to_string_lossy().into_owned();
            }
        }
        service.volumes.push(volume);
    }
    if !args.use_aliases {
        for network in service.networks.values_mut().flatten() {
            network.aliases.clear();
        }
    }
    service.restart = None;
    service.container_name = None;
    service.deploy = None;
    service.scale = None;
    service.tty = !args.no_tty && std::io::stdin().is_terminal() && std::io::stdout().is_terminal();
    service.stdin_open = args.interactive && !args.detach;
    Ok(())
}

/// Splits `--entrypoint` as a shell would (quotes and backslashes).
fn split_words(text: &str) -> anyhow::Result<Vec<String>> {
    let mut words = Vec::new();
    let mut word: Option<String> = None;
    let mut chars = text.chars();
    let mut quote: Option<char> = None;
    while let Some(c) = chars.next() {
        match (quote, c) {
            (None, c) if c.is_whitespace() => {
                if let Some(w) = word.take() {
                    words.push(w);
                }
            }
            (None, '\'' | '"') => {
                quote = Some(c);
                word.get_or_insert_with(String::new);
            }
            (Some(q), c) if c == q => quote = None,
            (Some('\''), c) => word.get_or_insert_with(String::new).push(c),
            (_, '\\') => {
                let next = chars.next().unwrap_or('\\');
                word.get_or_insert_with(String::new).push(next);
            }
            (_, c) => word.get_or_insert_with(String::new).push(c),
        }
    }
    if quote.is_some() {
        bail!("--entrypoint {text:?}: unterminated quote");
    }
    words.extend(word);
    Ok(words)
}

/// The service's networks and named volumes, made when missing (a `run
/// --no-deps` on a project that was never up).
fn create_missing_resources(
    engine: &RuntimeEngine,
    service: &Service,
    desired: &DesiredState,
) -> anyhow::Result<()> {
    let networks: Vec<String> = engine
        .networks
        .list()?
        .into_iter()
        .map(|n| n.name)
        .collect();
    let keys: Vec<String> = if service.network_mode.is_some() {
        Vec::new()
    } else if service.networks.is_empty() {
        vec!["default".to_string()]
    } else {
        service.networks.keys().cloned().collect()
    };
    for key in keys {
        if let Some(network) = desired.networks.get(&key) {
            if !networks.contains(&network.name) {
                engine.create_network(&network.name)?;
            }
        }
    }
    let volumes: Vec<String> = engine.volumes.list()?.into_iter().map(|v| v.name).collect();
    for volume in &service.volumes {
        let Some(source) = volume.source.as_ref() else {
            continue;
        };
        if let Some(named) = desired.volumes.get(source) {
            if !volumes.contains(&named.name) {
                engine.create_volume(&named.name)?;
            }
        }
    }
    Ok(())
}

/// The anonymous volumes the container was given.
fn anonymous_volumes_of(runtime: &Runtime, name: &str) -> Vec<String> {
    runtime
        .lookup(name)
        .ok()
        .map(|record| {
            crate::contract::annotations::anonymous_volumes(&record.spec)
                .into_values()
                .collect()
        })
        .unwrap_or_default()
}

fn random_hex() -> anyhow::Result<String> {
    let mut bytes = [0u8; 16];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut bytes))
        .context("reading /dev/urandom")?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// The exit code of the container, once its program has ended.
fn exit_code(runtime: &Runtime, name: &str) -> anyhow::Result<i32> {
    let mut state = runtime.wait(name, None)?;
    while state.status == Status::Running {
        std::thread::sleep(Duration::from_millis(10));
        state = runtime.state(name)?;
    }
    Ok(state.exit_code.unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entrypoint_words_split_like_a_shell() {
        assert_eq!(
            split_words(r#"sh -c 'echo "a b"' x\ y"#).unwrap(),
            ["sh", "-c", r#"echo "a b""#, "x y"]
        );
        assert_eq!(split_words("''").unwrap(), [""]);
        assert!(split_words("'open").is_err());
    }
}
