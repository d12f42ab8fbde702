//! `berth cp`: copy files between a service's container and the local
//! filesystem, as `docker compose cp` (both directions, `-` for a tar
//! stream, `--index`, `--all`, `-a`, `-L`). The container's side is the
//! runtime's copy helper ([`berth_runtime::container::copy`]), which sees
//! the container's own files, volumes included, and resolves every path
//! inside its root; the local side archives or extracts with the same
//! placement rules.

use std::io::Write;
use std::path::Path;
use std::process::Stdio;

use anyhow::{bail, Context};
use berth_runtime::container::copy::{self, CopyRequest};
use berth_runtime::container::{ContainerInfo, Runtime};

use super::args::{CpArgs, GlobalOptions};
use super::project::load_project;
use super::ps::{project_containers, service_of};
use crate::contract::labels;

/// `SERVICE:PATH` → (service, path); a local path → `None`. A colon after
/// a `/` belongs to a local path (`./a:b`), as Docker reads it.
fn split_service(arg: &str) -> Option<(&str, &str)> {
    if arg.starts_with('/') || arg.starts_with('.') {
        return None;
    }
    let (service, path) = arg.split_once(':')?;
    (!service.is_empty() && !service.contains('/')).then_some((service, path))
}

pub fn run(global: &GlobalOptions, args: &CpArgs) -> anyhow::Result<i32> {
    let from = split_service(&args.source);
    let to = split_service(&args.destination);
    let project = load_project(global, &[], true)?.project;
    let runtime = Runtime::new(&global.root).context("container runtime")?;
    match (from, to) {
        (Some(_), Some(_)) => bail!("copying between services is not supported"),
        (None, None) => bail!("must specify at least one container source (SERVICE:PATH)"),
        (Some((service, path)), None) => {
            let containers = targets(global, &project, service, args, false)?;
            copy_out(&runtime, &containers[0], path, &args.destination, args)
        }
        (None, Some((service, path))) => {
            let containers = targets(global, &project, service, args, true)?;
            for container in &containers {
                copy_in(&runtime, container, &args.source, path, args)?;
            }
            Ok(0)
        }
    }
}

/// The containers a copy goes to or comes from: `--index N`, else every
/// one of the service when copying to it (one-offs too with `--all`), the
/// first when copying from it.
fn targets(
    global: &GlobalOptions,
    project: &crate::compose::model::Project,
    service: &str,
    args: &CpArgs,
    to_service: bool,
) -> anyhow::Result<Vec<ContainerInfo>> {
    if !project.services.contains_key(service) {
        bail!("no such service: {service}");
    }
    let is_oneoff = |c: &ContainerInfo| {
        c.record.spec.labels.get(labels::ONEOFF).map(String::as_str) == Some("True")
    };
    let of_service: Vec<ContainerInfo> = project_containers(global, &project.name)?
        .into_iter()
        .filter(|c| service_of(c) == service)
        .collect();
    if args.index > 0 {
        let found = of_service
            .into_iter()
            .find(|c| {
                c.record.spec.labels.get(labels::NUMBER).map(String::as_str)
                    == Some(&args.index.to_string())
                    && !is_oneoff(c)
            })
            .with_context(|| {
                format!("service {service:?} has no container number {}", args.index)
            })?;
        return Ok(vec![found]);
    }
    let mut found: Vec<ContainerInfo> = of_service
        .into_iter()
        .filter(|c| args.all || !is_oneoff(c))
        .collect();
    if found.is_empty() {
        bail!("no container found for service {service:?}");
    }
    if !to_service {
        found.truncate(1);
    }
    Ok(found)
}

fn copy_out(
    runtime: &Runtime,
    container: &ContainerInfo,
    path: &str,
    dest: &str,
    args: &CpArgs,
) -> anyhow::Result<i32> {
    let name = &container.record.name;
    let request = CopyRequest::Out {
        path: path.to_string(),
        follow_link: args.follow_link,
    };
    let mut helper = runtime
        .copy(
            &container.record.id,
            &request,
            Stdio::null(),
            Stdio::piped(),
        )
        .with_context(|| format!("copying from {name}"))?;
    let stream = helper
        .child
        .stdout
        .take()
        .context("the copy helper's output")?;
    let local = if dest == "-" {
        let mut stream = stream;
        std::io::copy(&mut stream, &mut std::io::stdout().lock())
            .map(drop)
            .context("writing the archive to standard output")
    } else {
        copy::extract(
            stream,
            Path::new(dest),
            dest,
            copy::contents_only(path),
            args.archive,
        )
        .map_err(anyhow::Error::from)
    };
    // The helper's own error (a missing path, say) explains an empty stream.
    helper
        .finish()
        .with_context(|| format!("copying {path} from {name}"))?;
    local.with_context(|| format!("copying {path} from {name} to {dest}"))?;
    std::io::stdout().flush().ok();
    Ok(0)
}

fn copy_in(
    runtime: &Runtime,
    container: &ContainerInfo,
    source: &str,
    path: &str,
    args: &CpArgs,
) -> anyhow::Result<()> {
    let name = &container.record.name;
    if source == "-" {
        let request = CopyRequest::InRaw {
            path: path.to_string(),
            keep_owner: args.archive,
        };
        let helper = runtime
            .copy(
                &container.record.id,
                &request,
                Stdio::inherit(),
                Stdio::null(),
            )
            .with_context(|| format!("copying to {name}"))?;
        return helper
            .finish()
            .with_context(|| format!("copying standard input to {name}:{path}"));
    }
    // Checked here, so a bad source never starts the helper.
    std::fs::symlink_metadata(source)
        .with_context(|| format!("{source}: no such file or directory"))?;
    let request = CopyRequest::In {
        path: path.to_string(),
        contents_only: copy::contents_only(source),
        keep_owner: args.archive,
    };
    let mut helper = runtime
        .copy(
            &container.record.id,
            &request,
            Stdio::piped(),
            Stdio::null(),
        )
        .with_context(|| format!("copying to {name}"))?;
    let stdin = helper
        .child
        .stdin
        .take()
        .context("the copy helper's input")?;
    let local = copy::archive(
        Path::new(source.trim_end_matches("/.")),
        source,
        args.follow_link,
        std::io::BufWriter::new(stdin),
    );
    helper
        .finish()
        .with_context(|| format!("copying {source} to {name}:{path}"))?;
    local.with_context(|| format!("copying {source} to {name}:{path}"))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::split_service;

    #[test]
    fn service_paths_and_local_paths() {
        assert_eq!(split_service("web:/etc/hosts"), Some(("web", "/etc/hosts")));
        assert_eq!(split_service("web:data"), Some(("web", "data")));
        assert_eq!(split_service("./a:b"), None);
        assert_eq!(split_service("/tmp/x"), None);
        assert_eq!(split_service("-"), None);
        assert_eq!(split_service("dir/a:b"), None);
    }
}
