//! Network benchmark: create a network, allocate and attach 10 endpoints
//! (10 holder network namespaces, `unshare --net sleep` processes made once),
//! then detach, release and remove it all; p50 and p95 over N runs.
//!
//! Needs root; runs in its own network namespace. Run:
//! `cargo bench --bench networks` (BERTH_BENCH_RUNS=20 by default).

#[path = "../tests/support/containers.rs"]
mod support;

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use berth_runtime::network::{attach, detach, NetworkSpec, NetworkStore};

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index]
}

fn main() {
    let root = std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .any(|l| l.starts_with("Uid:") && l.split_whitespace().nth(1) == Some("0"));
    if !root {
        eprintln!("skipping: the network benchmark needs root");
        return;
    }
    support::isolated("networks", run);
}

fn run() {
    let runs: usize = std::env::var("BERTH_BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20);
    let dir = tempfile::tempdir().unwrap();
    let store = NetworkStore::open(dir.path()).unwrap();
    let mut holders: Vec<std::process::Child> = (0..10)
        .map(|_| {
            Command::new("unshare")
                .args(["--net", "sleep", "600"])
                .stdin(Stdio::null())
                .spawn()
                .unwrap()
        })
        .collect();
    // Wait until each holder has its own namespace.
    let own = std::fs::read_link("/proc/self/ns/net").unwrap();
    for h in &holders {
        let path = format!("/proc/{}/ns/net", h.id());
        while std::fs::read_link(&path).map(|l| l == own).unwrap_or(true) {
            std::thread::sleep(Duration::from_millis(5));
        }
    }
    let netns: Vec<PathBuf> = holders
        .iter()
        .map(|h| PathBuf::from(format!("/proc/{}/ns/net", h.id())))
        .collect();
    let mut samples = Vec::new();
    let mut phases = [PHASES.map(|_| Duration::ZERO); 1];
    let phases = &mut phases[0];
    for _ in 0..runs {
        let start = Instant::now();
        let mut mark = start;
        let mut lap = |phase: usize| {
            let now = Instant::now();
            phases[phase] += now - mark;
            mark = now;
        };
        store
            .create(NetworkSpec {
                name: "bench".into(),
                ..NetworkSpec::default()
            })
            .unwrap();
        lap(0);
        let mut all = Vec::new();
        for (i, ns) in netns.iter().enumerate() {
            let endpoint = store
                .allocate("bench", &format!("c{i}"), None, None)
                .unwrap();
            lap(1);
            attach(ns, std::slice::from_ref(&endpoint)).unwrap();
            lap(2);
            all.push(endpoint);
        }
        detach(&all).unwrap();
        lap(3);
        for i in 0..netns.len() {
            store.release("bench", &format!("c{i}")).unwrap();
        }
        lap(4);
        store.remove("bench", false).unwrap();
        lap(5);
        samples.push(start.elapsed());
    }
    for h in &mut holders {
        let _ = h.kill();
        let _ = h.wait();
    }
    samples.sort();
    println!(
        "create + attach 10 + teardown   p50 {:>8.2} ms   p95 {:>8.2} ms   (n={})",
        percentile(&samples, 0.50).as_secs_f64() * 1e3,
        percentile(&samples, 0.95).as_secs_f64() * 1e3,
        samples.len()
    );
    for (name, total) in PHASES.iter().zip(phases.iter()) {
        println!(
            "  {name:<28} mean {:>8.2} ms",
            total.as_secs_f64() * 1e3 / runs as f64
        );
    }
}

const PHASES: [&str; 6] = [
    "create network",
    "allocate 10 endpoints",
    "attach 10 veths",
    "detach 10 veths",
    "release 10 endpoints",
    "remove network",
];
