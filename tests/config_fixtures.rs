//! Runs every case in `fixtures/compose/` through the real `berth config`.
//!
//! Valid cases must print exactly `expected.json` (produced by the reference
//! implementation, see `tools/oracle-fixtures`; the case directory appears as
//! `$FIXTURE_DIR`) or `expected.txt`; invalid cases must fail, never panic, and
//! name every fact listed in `expected-error`. All failures are reported at
//! once. `FIXTURE=name cargo test --test config_fixtures` runs one case.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

struct Case {
    name: String,
    dir: PathBuf,
}

/// The corpus roots: cases written with the loader, and a second,
/// independently written corpus (same layout).
const ROOTS: [&str; 2] = ["fixtures/compose", "fixtures/compose-more"];

fn cases() -> Vec<Case> {
    let only = std::env::var("FIXTURE").ok();
    let mut cases: Vec<Case> = ROOTS
        .iter()
        .map(|root| Path::new(env!("CARGO_MANIFEST_DIR")).join(root))
        .flat_map(|root| std::fs::read_dir(root).into_iter().flatten().flatten())
        .filter(|e| e.path().is_dir())
        .map(|e| Case {
            name: e.file_name().to_string_lossy().into_owned(),
            dir: e.path(),
        })
        .filter(|c| only.as_ref().is_none_or(|o| o == &c.name))
        .collect();
    cases.sort_by(|a, b| a.name.cmp(&b.name));
    cases
}

fn read(path: &Path) -> Option<String> {
    std::fs::read_to_string(path).ok()
}

/// Runs berth for a case: `[global args] config [--format json] [config args]`.
fn run(case: &Case, json: bool) -> std::process::Output {
    let args = read(&case.dir.join("args")).unwrap_or_default();
    let mut lines = args.lines();
    let global: Vec<&str> = lines.next().unwrap_or("").split_whitespace().collect();
    let local: Vec<&str> = lines.next().unwrap_or("").split_whitespace().collect();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_berth"));
    cmd.current_dir(&case.dir).env_clear();
    cmd.env("PATH", std::env::var("PATH").unwrap_or_default());
    // The expected outputs were produced with HOME=/root (`~` expands to it).
    cmd.env("HOME", "/root");
    for line in read(&case.dir.join("env")).unwrap_or_default().lines() {
        if let Some((k, v)) = line.split_once('=') {
            cmd.env(k, v);
        }
    }
    cmd.args(&global).arg("config");
    if json {
        cmd.args(["--format", "json"]);
    }
    cmd.args(&local);
    cmd.output().expect("run berth")
}

fn replace_dir(value: Value, dir: &str) -> Value {
    match value {
        Value::String(s) => Value::String(s.replace(dir, "$FIXTURE_DIR")),
        Value::Array(items) => {
            Value::Array(items.into_iter().map(|v| replace_dir(v, dir)).collect())
        }
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| (k, replace_dir(v, dir)))
                .collect(),
        ),
        other => other,
    }
}

/// The first place two JSON values differ, as a JSON pointer with both sides.
fn first_difference(expected: &Value, got: &Value, pointer: &str) -> Option<String> {
    match (expected, got) {
        (Value::Object(a), Value::Object(b)) => {
            for (k, v) in a {
                let p = format!("{pointer}/{k}");
                match b.get(k) {
                    None => return Some(format!("{p}: missing (expected {v})")),
                    Some(w) => {
                        if let Some(d) = first_difference(v, w, &p) {
                            return Some(d);
                        }
                    }
                }
            }
            b.iter()
                .find(|(k, _)| !a.contains_key(*k))
                .map(|(k, v)| format!("{pointer}/{k}: unexpected {v}"))
        }
        (Value::Array(a), Value::Array(b)) if a.len() == b.len() => a
            .iter()
            .zip(b)
            .enumerate()
            .find_map(|(i, (v, w))| first_difference(v, w, &format!("{pointer}/{i}"))),
        _ if expected == got => None,
        _ => Some(format!("{pointer}: expected {expected}, got {got}")),
    }
}

fn check(case: &Case) -> Result<(), String> {
    let args = read(&case.dir.join("args")).unwrap_or_default();
    let listing_flags = [
        "--services",
        "--images",
        "--volumes",
        "--profiles",
        "--networks",
        "--hash",
    ];
    let listing = args
        .lines()
        .nth(1)
        .is_some_and(|l| listing_flags.iter().any(|f| l.contains(f)));
    let expected_text = read(&case.dir.join("expected.txt"));
    let out = run(case, expected_text.is_none() && !listing);
    let stderr = String::from_utf8_lossy(&out.stderr);
    if stderr.contains("panicked") {
        return Err(format!("berth panicked:\n{stderr}"));
    }
    if let Some(facts) = read(&case.dir.join("expected-error")) {
        if out.status.success() {
            return Err("expected an error, but berth succeeded".into());
        }
        let missing: Vec<&str> = facts
            .lines()
            .filter(|f| !f.is_empty() && !stderr.contains(f))
            .collect();
        if !missing.is_empty() {
            return Err(format!(
                "error message lacks {missing:?}:\n  {}",
                stderr.trim()
            ));
        }
        return Ok(());
    }
    if !out.status.success() {
        return Err(format!("berth failed:\n  {}", stderr.trim()));
    }
    if let Some(text) = expected_text {
        let got = String::from_utf8_lossy(&out.stdout);
        return if got.trim_end() == text.trim_end() {
            Ok(())
        } else {
            Err(format!("expected:\n{text}got:\n{got}"))
        };
    }
    let expected: Value = read(&case.dir.join("expected.json"))
        .and_then(|t| serde_json::from_str(&t).ok())
        .ok_or("no expected.json, expected.txt or expected-error")?;
    let got: Value =
        serde_json::from_slice(&out.stdout).map_err(|e| format!("output is not JSON: {e}"))?;
    let dir = case.dir.to_string_lossy();
    let got = replace_dir(got, &dir);
    match first_difference(&expected, &got, "") {
        None => Ok(()),
        Some(diff) => Err(diff),
    }
}

#[test]
fn every_fixture_case() {
    let cases = cases();
    assert!(!cases.is_empty(), "no fixture cases found");
    let failures: Vec<String> = cases
        .iter()
        .filter_map(|case| check(case).err().map(|e| format!("[{}] {e}", case.name)))
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}
