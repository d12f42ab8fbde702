//! `berth ls`: the projects that have containers in this state root, with
//! their status (`running(2), exited(1)`) and compose files, as
//! `docker compose ls` prints them.

use std::collections::BTreeMap;

use berth_runtime::container::{Runtime, Status};

use super::args::{GlobalOptions, LsArgs};
use crate::contract::labels;

#[derive(Default)]
struct ProjectSummary {
    counts: BTreeMap<&'static str, usize>,
    files: String,
}

pub fn run(global: &GlobalOptions, args: &LsArgs) -> anyhow::Result<i32> {
    let runtime = Runtime::new(&global.root)?;
    let mut projects: BTreeMap<String, ProjectSummary> = BTreeMap::new();
    for info in runtime.list()? {
        let labels = &info.record.spec.labels;
        let Some(project) = labels.get(labels::PROJECT) else {
            continue;
        };
        let entry = projects.entry(project.clone()).or_default();
        let status = match info.state.status {
            Status::Running if info.state.paused => "paused",
            Status::Running => "running",
            Status::Created => "created",
            Status::Exited => "exited",
        };
        *entry.counts.entry(status).or_default() += 1;
        if entry.files.is_empty() {
            entry.files = labels
                .get(labels::CONFIG_FILES)
                .cloned()
                .unwrap_or_default();
        }
    }
    let shown: Vec<(String, String, String)> = projects
        .into_iter()
        .filter(|(_, p)| args.all || p.counts.contains_key("running"))
        .filter(|(name, _)| {
            args.filter
                .as_deref()
                .is_none_or(|f| filter_matches(f, name))
        })
        .map(|(name, p)| {
            let status = p
                .counts
                .iter()
                .map(|(s, n)| format!("{s}({n})"))
                .collect::<Vec<_>>()
                .join(", ");
            (name, status, p.files)
        })
        .collect();
    if args.quiet {
        for (name, _, _) in &shown {
            println!("{name}");
        }
        return Ok(0);
    }
    if args.format == "json" {
        let rows: Vec<serde_json::Value> = shown
            .iter()
            .map(|(name, status, files)| {
                serde_json::json!({"Name": name, "Status": status, "ConfigFiles": files})
            })
            .collect();
        println!("{}", serde_json::Value::Array(rows));
        return Ok(0);
    }
    let mut rows = vec![vec![
        "NAME".to_string(),
        "STATUS".into(),
        "CONFIG FILES".into(),
    ]];
    rows.extend(
        shown
            .into_iter()
            .map(|(name, status, files)| vec![name, status, files]),
    );
    print!("{}", super::template::table(&rows));
    Ok(0)
}

/// `--filter name=VALUE`: the project's name contains VALUE.
fn filter_matches(filter: &str, name: &str) -> bool {
    match filter.split_once('=') {
        Some(("name", value)) => name.contains(value),
        _ => true,
    }
}
