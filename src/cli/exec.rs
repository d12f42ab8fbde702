//! `berth exec SERVICE COMMAND…`: run a command in a running container of a
//! service (replica `--index`, default 1), as `docker compose exec`.

use std::io::IsTerminal;

use anyhow::{bail, Context};
use berth_runtime::container::{ExecIo, ExecSpec, Runtime, Status};

use super::args::{ExecArgs, GlobalOptions};
use super::project::load_project;
use super::ps::{project_containers, service_of};
use crate::contract::labels;

pub fn run(global: &GlobalOptions, args: &ExecArgs) -> anyhow::Result<i32> {
    let project = load_project(global, &[], true)?.project;
    if !project.services.contains_key(&args.service) {
        bail!("no such service: {}", args.service);
    }
    let containers = project_containers(global, &project.name)?;
    let container = containers
        .iter()
        .filter(|c| service_of(c) == args.service)
        .find(|c| {
            c.record.spec.labels.get(labels::NUMBER).map(String::as_str)
                == Some(&args.index.to_string())
        })
        .with_context(|| {
            format!(
                "service {:?} has no container number {}",
                args.service, args.index
            )
        })?;
    if container.state.status != Status::Running {
        bail!("container {} is not running", container.record.name);
    }
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
    let output = runtime
        .exec(&container.record.id, &spec, ExecIo::Inherit)
        .with_context(|| format!("exec in {}", container.record.name))?;
    Ok(output.exit_code)
}
