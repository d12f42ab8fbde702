//! `schemas/compose.schema.json` is generated from the model types: it must be
//! up to date, and it must accept every valid compose file in `fixtures/`.
//! Regenerate with `BERTH_UPDATE_SCHEMA=1 cargo test --test schema`.

use berth::compose::schema::compose_schema_text;
use berth::compose::yaml::{parse_documents, to_json, FileId, ParseLimits};
use std::path::{Path, PathBuf};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn schema_file_is_up_to_date() {
    let path = repo().join("schemas/compose.schema.json");
    let generated = compose_schema_text();
    if std::env::var_os("BERTH_UPDATE_SCHEMA").is_some() {
        std::fs::write(&path, &generated).unwrap();
    }
    let on_disk = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        on_disk == generated,
        "schemas/compose.schema.json is stale: run `BERTH_UPDATE_SCHEMA=1 cargo test --test schema`"
    );
}

/// The compose files of the valid fixture cases (those with an expected output).
fn valid_fixture_files() -> Vec<PathBuf> {
    let mut files = vec![repo().join("fixtures/example/compose.yaml")];
    let Ok(cases) = std::fs::read_dir(repo().join("fixtures/compose")) else {
        return files;
    };
    for case in cases.flatten() {
        let dir = case.path();
        let valid = dir.join("expected.json").is_file() || dir.join("expected.txt").is_file();
        if valid && dir.join("compose.yaml").is_file() {
            files.push(dir.join("compose.yaml"));
        }
    }
    files.sort();
    files
}

fn as_json(path: &Path) -> Option<serde_json::Value> {
    let text = std::fs::read_to_string(path).ok()?;
    let docs = parse_documents(&text, FileId(0), ParseLimits::default()).ok()?;
    docs.first().map(to_json)
}

#[test]
fn schema_accepts_every_valid_fixture() {
    let schema: serde_json::Value = serde_json::from_str(&compose_schema_text()).unwrap();
    let validator = jsonschema::validator_for(&schema).expect("the schema compiles");
    let mut failures = Vec::new();
    let files = valid_fixture_files();
    for file in &files {
        let Some(instance) = as_json(file) else {
            continue;
        };
        let errors: Vec<String> = validator
            .iter_errors(&instance)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .take(3)
            .collect();
        if !errors.is_empty() {
            failures.push(format!("{}:\n  {}", file.display(), errors.join("\n  ")));
        }
    }
    assert!(files.len() > 1, "no fixtures found");
    assert!(
        failures.is_empty(),
        "{} file(s) rejected by the schema:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn schema_rejects_unknown_attributes() {
    let schema: serde_json::Value = serde_json::from_str(&compose_schema_text()).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let bad = serde_json::json!({"services": {"web": {"image": "x", "imagee": "typo"}}});
    assert!(!validator.is_valid(&bad));
    let good = serde_json::json!({"services": {"web": {"image": "x", "x-any": 1, "ports": ["80:80", 81, {"target": 82}]}}});
    assert!(validator.is_valid(&good));
}
