//! `berth port SERVICE PRIVATE_PORT`: the public address a container port
//! is published on, as `docker compose port` prints it.

use anyhow::{bail, Context};

use super::args::{GlobalOptions, PortArgs};
use super::project::load_project;
use super::ps::{project_containers, service_of};
use crate::contract::labels;

pub fn run(global: &GlobalOptions, args: &PortArgs) -> anyhow::Result<i32> {
    let project = load_project(global, &[], true)?.project;
    if !project.services.contains_key(&args.service) {
        bail!("no such service: {}", args.service);
    }
    let containers = project_containers(global, &project.name)?;
    let number = args.index.to_string();
    let container = containers
        .iter()
        .filter(|c| service_of(c) == args.service)
        .find(|c| c.record.spec.labels.get(labels::NUMBER) == Some(&number))
        .with_context(|| {
            format!(
                "service {:?} has no container number {}",
                args.service, args.index
            )
        })?;
    let published = crate::supervisor::state_files::read_ports(
        &super::lock::run_dir(),
        &project.name,
        &container.record.id,
    );
    let found = published
        .iter()
        .find(|p| p.target.port() == args.private_port && p.protocol.to_string() == args.protocol);
    match found {
        Some(port) => {
            println!("{}:{}", port.host_ip, port.host_port);
            Ok(0)
        }
        None => bail!(
            "no port {}/{} published for service {:?}",
            args.private_port,
            args.protocol,
            args.service
        ),
    }
}
