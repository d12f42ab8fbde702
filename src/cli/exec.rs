//! `berth exec SERVICE COMMAND…`: run a command in a running container of a
//! service (replica `--index`, default 1), as `docker compose exec`. A pty
//! is allocated when stdin is a terminal (`-T` to not; `-i` and `-t` are
//! accepted, as compose's defaults); our terminal is raw meanwhile.

use std::io::IsTerminal;

use anyhow::{bail, Context};
use berth_runtime::container::{ContainerInfo, ExecIo, ExecSpec, Runtime, Status};

use super::args::{ExecArgs, GlobalOptions};
use super::console::RawTerminal;
use super::project::load_project;
use super::ps::{project_containers, service_of};
use crate::contract::labels;

pub fn run(global: &GlobalOptions, args: &ExecArgs) -> anyhow::Result<i32> {
    let container = running_container(global, &args.service, args.index)?;
    let runtime = Runtime::new(&global.root).context("container runtime")?;
    let spec = ExecSpec {
        args: args.command.clone(),
        env: args.env.clone(),
        working_dir: args.workdir.clone(),
        user: args.user.clone(),
        tty: !args.no_tty && std::io::stdin().is_terminal() && std::io::stdout().is_terminal(),
        privileged: args.privileged,
    };
    if args.detach {
        let id = container.record.id.clone();
        std::thread::spawn(move || runtime.exec(&id, &spec, ExecIo::Capture));
        return Ok(0);
    }
    let raw = if spec.tty { RawTerminal::enter() } else { None };
    let watch = match &raw {
        Some(raw) => Some(raw.restore_on_termination()?),
        None => None,
    };
    let output = runtime.exec(&container.record.id, &spec, ExecIo::Inherit);
    if let Some(watch) = watch {
        watch.close();
    }
    drop(raw);
    let output = output.with_context(|| format!("exec in {}", container.record.name))?;
    Ok(output.exit_code)
}

/// Container number `index` of `service`, which must be running.
pub(super) fn running_container(
    global: &GlobalOptions,
    service: &str,
    index: u32,
) -> anyhow::Result<ContainerInfo> {
    let project = load_project(global, &[], true)?.project;
    if !project.services.contains_key(service) {
        bail!("no such service: {service}");
    }
    let containers = project_containers(global, &project.name)?;
    let container = containers
        .into_iter()
        .filter(|c| service_of(c) == service)
        .find(|c| {
            c.record.spec.labels.get(labels::NUMBER).map(String::as_str) == Some(&index.to_string())
        })
        .with_context(|| format!("service {service:?} has no container number {index}"))?;
    if container.state.status != Status::Running {
        bail!("container {} is not running", container.record.name);
    }
    Ok(container)
}
