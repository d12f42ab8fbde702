//! A throwaway registry for pull tests: Debian's `docker-registry` on
//! 127.0.0.1 with a free port and private storage, optionally with htpasswd
//! basic auth; `skopeo` pushes fixtures into it. Killed by PID on drop.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const REGISTRY: &str = "/usr/bin/docker-registry";

pub struct Registry {
    child: Child,
    pub port: u16,
    pub dir: PathBuf,
    creds: Option<(String, String)>,
}

/// Why the registry tests cannot run here, if they cannot.
pub fn missing_tools(auth: bool) -> Option<String> {
    let mut missing = Vec::new();
    if !Path::new(REGISTRY).is_file() {
        missing.push("docker-registry");
    }
    if !on_path("skopeo") {
        missing.push("skopeo");
    }
    if auth && !on_path("htpasswd") {
        missing.push("htpasswd (apache2-utils)");
    }
    (!missing.is_empty()).then(|| missing.join(", "))
}

fn on_path(tool: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|p| std::env::split_paths(&p).any(|d| d.join(tool).is_file()))
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Registry {
    /// Starts a registry in `dir` (with basic auth for `creds` if given).
    pub fn start(dir: &Path, creds: Option<(&str, &str)>) -> Registry {
        let port = free_port();
        let storage = dir.join("storage");
        std::fs::create_dir_all(&storage).unwrap();
        let mut config = format!(
            "version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: {}\nhttp:\n  addr: 127.0.0.1:{port}\n",
            storage.display()
        );
        if let Some((user, pass)) = creds {
            let htpasswd = dir.join("htpasswd");
            let status = Command::new("htpasswd")
                .args(["-Bbc"])
                .arg(&htpasswd)
                .args([user, pass])
                .stderr(Stdio::null())
                .status()
                .unwrap();
            assert!(status.success(), "htpasswd failed");
            config.push_str(&format!(
                "auth:\n  htpasswd:\n    realm: berth-test\n    path: {}\n",
                htpasswd.display()
            ));
        }
        let config_path = dir.join("config.yml");
        std::fs::write(&config_path, config).unwrap();
        let child = Command::new(REGISTRY)
            .arg("serve")
            .arg(&config_path)
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(dir.join("registry.log")).unwrap())
            .spawn()
            .expect("start docker-registry");
        let registry = Registry {
            child,
            port,
            dir: dir.to_path_buf(),
            creds: creds.map(|(u, p)| (u.to_string(), p.to_string())),
        };
        registry.wait_ready();
        registry
    }

    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    fn wait_ready(&self) {
        let deadline = Instant::now() + Duration::from_secs(15);
        while Instant::now() < deadline {
            if let Ok(mut stream) = TcpStream::connect(("127.0.0.1", self.port)) {
                let _ = stream.write_all(b"GET /v2/ HTTP/1.0\r\nHost: localhost\r\n\r\n");
                let mut answer = String::new();
                let _ = stream.read_to_string(&mut answer);
                if answer.starts_with("HTTP/1.") {
                    return;
                }
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let log = std::fs::read_to_string(self.dir.join("registry.log")).unwrap_or_default();
        panic!("docker-registry did not start on port {}: {log}", self.port);
    }

    /// Pushes an OCI layout directory (whose index entry is named `tag`) as `repo:tag`.
    pub fn push(&self, layout: &Path, tag: &str, repo: &str) {
        let policy = self.dir.join("policy.json");
        std::fs::write(
            &policy,
            r#"{"default":[{"type":"insecureAcceptAnything"}]}"#,
        )
        .unwrap();
        let mut cmd = Command::new("skopeo");
        cmd.arg("--policy")
            .arg(&policy)
            .args(["copy", "--quiet", "--dest-tls-verify=false"]);
        if let Some((user, pass)) = &self.creds {
            cmd.arg(format!("--dest-creds={user}:{pass}"));
        }
        let out = cmd
            .arg(format!("oci:{}:{tag}", layout.display()))
            .arg(format!("docker://{}/{repo}:{tag}", self.host()))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "skopeo copy failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
