//! `berth config`: the fully resolved project, or parts of it.

use super::args::{ConfigArgs, ConfigFormat, GlobalOptions};
use super::project::{load_project, load_project_with};
use crate::compose::hash::service_config_hash;
use crate::compose::model::Project;
use crate::compose::render::{render, Format, Loading};
use crate::compose::variables;
use anyhow::Context;
use std::collections::BTreeSet;

pub fn run(global: &GlobalOptions, args: &ConfigArgs) -> anyhow::Result<i32> {
    if args.variables {
        // The variables as written: read without interpolation.
        let project = load_project(global, &args.services, false)?.project;
        let found = variables::of_project(&project);
        print!(
            "{}",
            match args.format {
                ConfigFormat::Json => variables::json(&found),
                ConfigFormat::Yaml => variables::table(&found),
            }
        );
        return Ok(0);
    }
    // As in docker compose, `--compatibility` implies `--no-normalize` here.
    let skip_normalization = args.no_normalize || global.compatibility;
    let loaded = load_project_with(global, &args.services, |opts| {
        opts.interpolate = !args.no_interpolate;
        opts.keep_relative_paths = args.no_path_resolution;
        opts.skip_normalization = skip_normalization;
    })?;
    if args.environment {
        // What interpolation saw: the process environment and the env files.
        for (name, value) in &loaded.project.environment {
            println!("{name}={value}");
        }
        return Ok(0);
    }
    let mut project = loaded.project;
    if !args.services.is_empty() {
        keep_services(&mut project, &args.services);
    }
    if args.quiet {
        return Ok(0);
    }
    let text = if args.list_services {
        lines(project.services.keys().cloned())
    } else if args.volumes {
        lines(project.volumes.keys().cloned())
    } else if args.networks {
        lines(project.networks.keys().cloned())
    } else if args.list_profiles {
        lines(project.all_profiles.iter().cloned())
    } else if args.images {
        lines(project.services.iter().map(|(name, s)| {
            s.image
                .clone()
                .unwrap_or_else(|| format!("{}-{}", project.name, name))
        }))
    } else if let Some(which) = &args.hash {
        hashes(&project, which)?
    } else {
        let format = match args.format {
            ConfigFormat::Yaml => Format::Yaml,
            ConfigFormat::Json => Format::Json,
        };
        let loading = Loading {
            interpolated: !args.no_interpolate,
            normalized: !skip_normalization,
        };
        render(&project, format, loading)
    };
    match &args.output {
        Some(path) => {
            std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))?
        }
        None => print!("{text}"),
    }
    Ok(0)
}

fn lines(items: impl Iterator<Item = String>) -> String {
    items.map(|s| s + "\n").collect()
}

fn hashes(project: &Project, which: &str) -> anyhow::Result<String> {
    let names: Vec<String> = if which.trim() == "*" {
        project.services.keys().cloned().collect()
    } else {
        which
            .split(',')
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect()
    };
    let mut out = String::new();
    for name in names {
        let service = project
            .services
            .get(&name)
            .with_context(|| format!("no such service: {name}"))?;
        out.push_str(&format!("{name} {}\n", service_config_hash(service)));
    }
    Ok(out)
}

/// Keeps the named services and what they depend on.
fn keep_services(project: &mut Project, names: &[String]) {
    let mut keep: BTreeSet<String> = BTreeSet::new();
    let mut todo: Vec<String> = names.to_vec();
    while let Some(name) = todo.pop() {
        if !keep.insert(name.clone()) {
            continue;
        }
        if let Some(service) = project.services.get(&name) {
            todo.extend(service.depends_on.keys().cloned());
        }
    }
    project.services.retain(|name, _| keep.contains(name));
}
