//! `berth network …`: create, ls, inspect, rm and prune bridge networks,
//! with Docker's output shapes.

use std::collections::BTreeMap;
use std::io::Write;

use anyhow::Context;
use berth_runtime::network::{IpamPool, NetworkRecord, NetworkSpec, NetworkStore};
use serde_json::json;

use super::args::{
    GlobalOptions, ImagesFormat, NetworkCommand, NetworkCreateArgs, NetworkInspectArgs,
    NetworkLsArgs, NetworkPruneArgs, NetworkRmArgs,
};
use super::image::write_table;

fn open_store(global: &GlobalOptions) -> anyhow::Result<NetworkStore> {
    NetworkStore::open(&global.root)
        .with_context(|| format!("opening the network store under {}", global.root.display()))
}

/// Runs a `network` subcommand.
pub fn run(global: &GlobalOptions, command: &NetworkCommand) -> anyhow::Result<i32> {
    match command {
        NetworkCommand::Create(args) => create(global, args),
        NetworkCommand::Ls(args) => list(global, args),
        NetworkCommand::Inspect(args) => inspect(global, args),
        NetworkCommand::Rm(args) => remove(global, args),
        NetworkCommand::Prune(args) => prune(global, args),
    }
}

fn key_values(what: &str, items: &[String]) -> anyhow::Result<BTreeMap<String, String>> {
    items
        .iter()
        .map(|item| {
            let (k, v) = item.split_once('=').unwrap_or((item.as_str(), ""));
            if k.is_empty() {
                anyhow::bail!("invalid {what} {item:?}: expected KEY=VALUE");
            }
            Ok((k.to_string(), v.to_string()))
        })
        .collect()
}

fn create(global: &GlobalOptions, args: &NetworkCreateArgs) -> anyhow::Result<i32> {
    let store = open_store(global)?;
    let pool = IpamPool {
        subnet: args.subnet.clone(),
        ip_range: args.ip_range.clone(),
        gateway: args.gateway.clone(),
    };
    let spec = NetworkSpec {
        name: args.name.clone(),
        labels: key_values("label", &args.labels)?,
        internal: args.internal,
        driver_opts: key_values("option", &args.options)?,
        ipam: if pool == IpamPool::default() {
            Vec::new()
        } else {
            vec![pool]
        },
        ..NetworkSpec::default()
    };
    let record = store
        .create(spec)
        .with_context(|| format!("creating network {:?}", args.name))?;
    println!("{}", record.id);
    Ok(0)
}

fn short(id: &str) -> &str {
    &id[..12.min(id.len())]
}

fn list(global: &GlobalOptions, args: &NetworkLsArgs) -> anyhow::Result<i32> {
    let store = open_store(global)?;
    let records = store.list().context("listing networks")?;
    let mut out = std::io::stdout().lock();
    if args.quiet {
        for record in &records {
            writeln!(out, "{}", short(&record.id))?;
        }
        return Ok(0);
    }
    match args.format {
        ImagesFormat::Json => {
            for r in &records {
                let labels: Vec<String> =
                    r.labels.iter().map(|(k, v)| format!("{k}={v}")).collect();
                let row = json!({
                    "CreatedAt": r.created,
                    "Driver": "bridge",
                    "ID": short(&r.id),
                    "IPv6": "false",
                    "Internal": r.internal.to_string(),
                    "Labels": labels.join(","),
                    "Name": r.name,
                    "Scope": "local",
                });
                writeln!(out, "{}", serde_json::to_string(&row)?)?;
            }
        }
        ImagesFormat::Table => {
            let mut table = vec![["NETWORK ID", "NAME", "DRIVER", "SCOPE"].map(String::from)];
            for r in &records {
                table.push([
                    short(&r.id).to_string(),
                    r.name.clone(),
                    "bridge".into(),
                    "local".into(),
                ]);
            }
            write_table(&mut out, &table)?;
        }
    }
    Ok(0)
}

/// Docker's `network inspect` shape for one record.
fn inspect_json(r: &NetworkRecord) -> serde_json::Value {
    let mut config = serde_json::Map::new();
    config.insert("Subnet".into(), json!(r.subnet));
    config.insert("Gateway".into(), json!(r.gateway.to_string()));
    if let Some(range) = &r.ip_range {
        config.insert("IPRange".into(), json!(range));
    }
    json!({
        "Name": r.name,
        "Id": r.id,
        "Created": r.created,
        "Scope": "local",
        "Driver": "bridge",
        "EnableIPv6": false,
        "IPAM": {"Driver": "default", "Options": {}, "Config": [config]},
        "Internal": r.internal,
        "Attachable": false,
        "Ingress": false,
        "ConfigOnly": false,
        "Containers": {},
        "Options": r.options,
        "Labels": r.labels,
    })
}

fn inspect(global: &GlobalOptions, args: &NetworkInspectArgs) -> anyhow::Result<i32> {
    let store = open_store(global)?;
    let mut found = Vec::new();
    let mut code = 0;
    for name in &args.networks {
        match store.get(name) {
            Ok(record) => found.push(inspect_json(&record)),
            Err(err) => {
                eprintln!("Error: {err}");
                code = 1;
            }
        }
    }
    println!("{}", serde_json::to_string_pretty(&found)?);
    Ok(code)
}

fn remove(global: &GlobalOptions, args: &NetworkRmArgs) -> anyhow::Result<i32> {
    let store = open_store(global)?;
    let mut code = 0;
    for name in &args.networks {
        match store.remove(name, args.force) {
            Ok(_) => println!("{name}"),
            Err(err) => {
                eprintln!("Error: {err}");
                code = 1;
            }
        }
    }
    Ok(code)
}

fn prune(global: &GlobalOptions, _args: &NetworkPruneArgs) -> anyhow::Result<i32> {
    let store = open_store(global)?;
    let removed = store.prune().context("pruning networks")?;
    if !removed.is_empty() {
        println!("Deleted Networks:");
        for name in removed {
            println!("{name}");
        }
    }
    Ok(0)
}
