//! A compose project in a temporary directory with its own state root, the
//! way the end-to-end tests drive `berth` as a user would; dropping it
//! removes whatever a failed test left (containers, networks).

use std::path::PathBuf;
use std::process::Output;

pub struct Project {
    _tmp: tempfile::TempDir,
    pub root: PathBuf,
    pub dir: PathBuf,
}

impl Project {
    pub fn new(compose: &str) -> Project {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("root");
        super::load_fixture_images(&root, &tmp.path().join("images"));
        let dir = tmp.path().join("demo");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("compose.yaml"), compose).unwrap();
        Project {
            _tmp: tmp,
            root,
            dir,
        }
    }

    pub fn write(&self, compose: &str) {
        std::fs::write(self.dir.join("compose.yaml"), compose).unwrap();
    }

    pub fn berth(&self, args: &[&str]) -> Output {
        let mut all = vec!["--project-directory", self.dir.to_str().unwrap()];
        all.extend_from_slice(args);
        super::berth(&self.root, &all, &[])
    }

    /// `berth ARGS…` for this project, not yet run (for a child the test
    /// talks to: stdin, signals, output while it runs).
    pub fn command(&self, args: &[&str]) -> std::process::Command {
        let mut command = std::process::Command::new(super::containers::berth_bin());
        command
            .arg("--root")
            .arg(&self.root)
            .arg("--project-directory")
            .arg(&self.dir)
            .args(args)
            .env("BERTH_RUN", self.root.join("run"));
        command
    }

    pub fn ok(&self, args: &[&str]) -> String {
        super::ok(self.berth(args))
    }

    /// Waits (at most 15 s) until `done` holds for `logs --no-log-prefix
    /// SERVICE`, and returns those logs; panics with them when it never does.
    #[allow(dead_code)]
    pub fn wait_for_logs(&self, service: &str, done: impl Fn(&str) -> bool) -> String {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
        loop {
            let logs = self.ok(&["logs", "--no-log-prefix", service]);
            if done(&logs) {
                return logs;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "logs of {service} never got there:\n{logs}"
            );
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
    }

    /// Runs `script` in the first container of `service`; (exit code, stdout+stderr).
    #[allow(dead_code)]
    pub fn sh(&self, service: &str, script: &str) -> (i32, String) {
        let out = self.berth(&["exec", "-T", service, "sh", "-c", script]);
        (
            out.status.code().unwrap_or(-1),
            super::stdout(&out) + &super::stderr(&out),
        )
    }

    /// The IPv4 addresses `nslookup NAME` prints from inside `service`, sorted.
    #[allow(dead_code)]
    pub fn lookup(&self, service: &str, name: &str) -> Vec<String> {
        let (_, out) = self.sh(service, &format!("nslookup {name} 2>&1"));
        let mut answers = Vec::new();
        let mut after_name = false;
        for line in out.lines() {
            if line.starts_with("Name:") {
                after_name = true;
            } else if let Some(address) = line.strip_prefix("Address:").map(str::trim) {
                if after_name && !address.contains(':') {
                    answers.push(address.split_whitespace().next().unwrap().to_string());
                }
            }
        }
        answers.sort();
        answers
    }
}

impl Drop for Project {
    /// A failing test still leaves no container, process or network behind.
    fn drop(&mut self) {
        if std::thread::panicking() {
            for entry in std::fs::read_dir(self.root.join("run"))
                .into_iter()
                .flatten()
                .flatten()
            {
                let log = std::fs::read_to_string(entry.path().join("supervisor.log"));
                eprintln!(
                    "supervisor log of {:?}:\n{}",
                    entry.file_name(),
                    log.unwrap_or_default()
                );
            }
        }
        let runtime = berth_runtime::container::Runtime::with_helper(
            &self.root,
            super::containers::berth_bin(),
        );
        for info in runtime.list().unwrap_or_default() {
            let _ = runtime.delete(&info.record.id, true);
        }
        if let Ok(networks) = berth_runtime::network::NetworkStore::open(&self.root) {
            for network in networks.list().unwrap_or_default() {
                let _ = networks.remove(&network.name, true);
            }
        }
        for entry in std::fs::read_dir(self.root.join("run"))
            .into_iter()
            .flatten()
            .flatten()
        {
            let project = entry.file_name().to_string_lossy().into_owned();
            berth::supervisor::stop(&self.root.join("run"), &project);
        }
    }
}

/// Bridges and veths in this (the test's own) network namespace, read over
/// netlink (`/sys/class/net` shows the namespace sysfs was mounted in).
pub fn bridges() -> Vec<String> {
    let mut netlink = berth_runtime::network::netlink::Netlink::open().unwrap();
    netlink
        .links()
        .unwrap()
        .into_iter()
        .map(|(_, name)| name)
        .filter(|n| n.starts_with("br-") || n.starts_with("veth"))
        .collect()
}
