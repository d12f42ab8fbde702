//! `berth volume ls|inspect|create|rm|prune`, as `docker volume` has them.

use std::collections::BTreeMap;

use anyhow::{bail, Context};
use berth_runtime::volume::{VolumeRecord, VolumeStore};

use super::args::{GlobalOptions, VolumeCommand};

fn parse_pairs(pairs: &[String], what: &str) -> anyhow::Result<BTreeMap<String, String>> {
    pairs
        .iter()
        .map(|pair| {
            pair.split_once('=')
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .with_context(|| format!("{what} {pair:?}: expected KEY=VALUE"))
        })
        .collect()
}

fn matches(record: &VolumeRecord, filters: &[String]) -> bool {
    filters.iter().all(|filter| match filter.split_once('=') {
        Some(("label", label)) => match label.split_once('=') {
            Some((k, v)) => record.labels.get(k).map(String::as_str) == Some(v),
            None => record.labels.contains_key(label),
        },
        Some(("name", name)) => record.name.contains(name),
        _ => true,
    })
}

fn inspect_json(record: &VolumeRecord) -> serde_json::Value {
    serde_json::json!({
        "CreatedAt": record.created,
        "Driver": record.driver,
        "Labels": record.labels,
        "Mountpoint": record.mountpoint,
        "Name": record.name,
        "Options": record.options,
        "Scope": "local",
    })
}

pub fn run(global: &GlobalOptions, command: &VolumeCommand) -> anyhow::Result<i32> {
    let store = VolumeStore::open(&global.root).context("volume store")?;
    match command {
        VolumeCommand::Ls(args) => {
            let volumes: Vec<VolumeRecord> = store
                .list()?
                .into_iter()
                .filter(|v| matches(v, &args.filter))
                .collect();
            if args.quiet {
                for v in &volumes {
                    println!("{}", v.name);
                }
            } else if args.format == "json" {
                for v in &volumes {
                    println!(
                        "{}",
                        serde_json::json!({"Driver": v.driver, "Labels": v.labels, "Mountpoint": v.mountpoint, "Name": v.name, "Scope": "local"})
                    );
                }
            } else {
                println!("DRIVER    VOLUME NAME");
                for v in &volumes {
                    println!("{:<10}{}", v.driver, v.name);
                }
            }
        }
        VolumeCommand::Inspect(args) => {
            let mut found = Vec::new();
            let mut missing = None;
            for name in &args.volumes {
                match store.get(name) {
                    Ok(record) => found.push(inspect_json(&record)),
                    Err(err) => missing = Some(err),
                }
            }
            println!("{}", serde_json::to_string_pretty(&found)?);
            if let Some(err) = missing {
                return Err(err.into());
            }
        }
        VolumeCommand::Create(args) => {
            let labels = parse_pairs(&args.labels, "--label")?;
            let options = parse_pairs(&args.options, "--opt")?;
            if let Some(driver) = args.driver.as_deref().filter(|d| *d != "local") {
                bail!("volume driver {driver:?} is not supported (berth has the local driver)");
            }
            let (record, _) = store.create(&args.name, labels, options)?;
            println!("{}", record.name);
        }
        VolumeCommand::Rm(args) => {
            let mut failed = false;
            for name in &args.volumes {
                match store.remove(&global.root, name) {
                    Ok(()) => println!("{name}"),
                    Err(err) => {
                        eprintln!("error: {err}");
                        failed = true;
                    }
                }
            }
            return Ok(if failed { 1 } else { 0 });
        }
        VolumeCommand::Prune(args) => {
            let mut reclaimed = Vec::new();
            for volume in store.list()? {
                let anonymous =
                    volume.name.len() == 64 && volume.name.bytes().all(|b| b.is_ascii_hexdigit());
                if (!args.all && !anonymous) || !matches(&volume, &args.filter) {
                    continue;
                }
                if store.users(&global.root, &volume.name).is_empty()
                    && store.remove(&global.root, &volume.name).is_ok()
                {
                    reclaimed.push(volume.name);
                }
            }
            if !reclaimed.is_empty() {
                println!("Deleted Volumes:");
                for name in &reclaimed {
                    println!("{name}");
                }
            }
        }
    }
    Ok(0)
}
