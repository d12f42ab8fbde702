//! A real stack end to end, as a docker compose user runs it: postgres 15
//! (its data in a named volume, running as user postgres), redis 7, a python
//! app using both by service name, and nginx in front
//! (`tests/real-stack/compose.yaml`). `up -d --wait`, a note posted through
//! nginx's published port lands in postgres, `down` then `up -d --wait`
//! still shows it, and `down -v` removes the volume.
//!
//! The images are Debian packages imported as images by
//! `tests/real-stack/build-images.sh` (debootstrap plus apt: minutes and
//! network access, so CI does not build them). The test runs when they are
//! in `$BERTH_REAL_STACK_IMAGES` or in the script's default cache
//! (`~/.cache/berth/real-stack`), and skips with a notice otherwise.

mod support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use support::containers::{can_run_containers, isolated};
use support::project::Project;

const IMAGES: [&str; 4] = ["postgres", "redis", "nginx", "app"];
const PORT: u16 = 8080;

/// Where build-images.sh put the images, when all of them are there.
fn image_dir() -> Option<PathBuf> {
    let dir = match std::env::var_os("BERTH_REAL_STACK_IMAGES") {
        Some(dir) => PathBuf::from(dir),
        None => {
            let cache = std::env::var_os("XDG_CACHE_HOME")
                .map(PathBuf::from)
                .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".cache")))?;
            cache.join("berth/real-stack")
        }
    };
    let complete = IMAGES.iter().all(|name| {
        ["tar", "changes", "ref"]
            .iter()
            .all(|ext| dir.join(format!("{name}.{ext}")).is_file())
    });
    if complete {
        Some(dir)
    } else {
        eprintln!(
            "skipping: the real-stack images are not in {} (build them with \
             tests/real-stack/build-images.sh [DIR], then set BERTH_REAL_STACK_IMAGES=DIR)",
            dir.display()
        );
        None
    }
}

/// `berth image import` of each image with its recorded config.
fn import_images(p: &Project, dir: &Path) {
    for name in IMAGES {
        let read = |ext: &str| std::fs::read_to_string(dir.join(format!("{name}.{ext}"))).unwrap();
        let reference = read("ref").trim().to_string();
        let changes = read("changes");
        let tar = dir.join(format!("{name}.tar"));
        let mut args = vec!["image", "import"];
        for change in changes.lines().filter(|l| !l.trim().is_empty()) {
            args.extend(["--change", change]);
        }
        args.extend([tar.to_str().unwrap(), reference.as_str()]);
        p.ok(&args);
    }
}

/// One HTTP/1.0 request to nginx on loopback; (status, body). nginx has no
/// health check, so `--wait` returns once it runs: the first request retries
/// (10 s at most) until nginx listens and reaches the app.
fn http(method: &str, path: &str) -> (u16, String) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match http_once(method, path) {
            Ok((status, body)) if status != 502 || Instant::now() > deadline => {
                return (status, body)
            }
            Err(err) if Instant::now() > deadline => panic!("{method} {path}: {err}"),
            _ => std::thread::sleep(Duration::from_millis(100)),
        }
    }
}

fn http_once(method: &str, path: &str) -> std::io::Result<(u16, String)> {
    let mut stream = TcpStream::connect(("127.0.0.1", PORT))?;
    stream.set_read_timeout(Some(Duration::from_secs(20)))?;
    write!(
        stream,
        "{method} {path} HTTP/1.0\r\nHost: localhost\r\nContent-Length: 0\r\n\r\n"
    )?;
    let mut response = String::new();
    stream.read_to_string(&mut response)?;
    let (head, body) = response.split_once("\r\n\r\n").unwrap_or((&response, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    Ok((status, body.to_string()))
}

fn up(p: &Project) {
    let started = Instant::now();
    let out = p.berth(&["up", "-d", "--wait", "--wait-timeout", "180"]);
    if !out.status.success() {
        let logs = p.berth(&["logs", "--no-color"]);
        panic!(
            "up -d --wait failed:\n{}\n{}\nlogs:\n{}{}",
            support::stdout(&out),
            support::stderr(&out),
            support::stdout(&logs),
            support::stderr(&logs)
        );
    }
    eprintln!("up -d --wait took {:?}", started.elapsed());
}

fn project_volumes(p: &Project) -> Vec<String> {
    p.ok(&["volume", "ls", "-q"])
        .lines()
        .filter(|v| v.starts_with("realstack_"))
        .map(str::to_string)
        .collect()
}

#[test]
fn postgres_redis_app_behind_nginx_keep_data_across_down_and_up() {
    if !can_run_containers() {
        return;
    }
    let Some(images) = image_dir() else {
        return;
    };
    isolated(
        "postgres_redis_app_behind_nginx_keep_data_across_down_and_up",
        || {
            let stack = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/real-stack");
            let p = Project::new(&std::fs::read_to_string(stack.join("compose.yaml")).unwrap());
            for file in ["app.py", "nginx.conf"] {
                std::fs::copy(stack.join(file), p.dir.join(file)).unwrap();
            }
            import_images(&p, &images);

            up(&p);
            let ps = p.ok(&["ps", "--format", "{{.Service}} {{.Status}}"]);
            for service in ["db", "cache", "app"] {
                assert!(
                    ps.lines()
                        .any(|l| l.starts_with(service) && l.contains("(healthy)")),
                    "{service} is not healthy after up --wait:\n{ps}"
                );
            }
            let (status, body) = http("POST", "/notes?text=kept-in-postgres");
            assert_eq!(status, 201, "POST /notes through nginx: {body}");
            let (status, body) = http("GET", "/notes");
            assert_eq!(status, 200, "GET /notes through nginx: {body}");
            assert!(body.contains("note: kept-in-postgres\n"), "{body}");
            assert!(body.contains("visits: 1\n"), "redis counted: {body}");

            // postgres runs as the image's postgres user, and its data is in
            // the named volume.
            let (code, out) = p.sh("db", "id -un; stat -c '%U %a' \"$PGDATA\"");
            assert_eq!(code, 0, "{out}");
            assert_eq!(out, "postgres\npostgres 700\n");

            p.ok(&["down"]);
            assert_eq!(project_volumes(&p), ["realstack_pgdata"]);
            up(&p);
            let (status, body) = http("GET", "/notes");
            assert_eq!(status, 200, "GET /notes after down/up: {body}");
            assert!(
                body.contains("note: kept-in-postgres\n"),
                "the note did not survive down/up: {body}"
            );

            p.ok(&["down", "-v"]);
            assert_eq!(project_volumes(&p), Vec::<String>::new());
            assert_eq!(p.ok(&["ps", "-a", "-q"]), "");
        },
    );
}

// What the real stack found, each on its own with the busybox test image.

/// A database service as real stacks write it: `{soft, hard}` ulimits and a
/// secret with a file mode. Its health check is still probed (the kept
/// configuration reads back), so `service_healthy` and `--wait` work, and
/// its restart policy still applies.
const LIMITED_DB: &str = r#"name: limited
services:
  db:
    image: berth.test/busybox:latest
    command: [sh, -c, 'sleep 1; touch /tmp/ready; exec sleep 600']
    stop_signal: SIGKILL
    ulimits:
      nofile: {soft: 512, hard: 1024}
    secrets:
      - source: pw
        mode: 0440
    healthcheck:
      test: [CMD, test, -e, /tmp/ready]
      interval: 1s
  app:
    image: berth.test/busybox:latest
    command: [sleep, '600']
    stop_signal: SIGKILL
    depends_on:
      db: {condition: service_healthy}
secrets:
  pw: {file: ./pw.txt}
"#;

#[test]
fn service_with_ulimits_and_secret_modes_keeps_its_health_check() {
    if !can_run_containers() {
        return;
    }
    isolated(
        "service_with_ulimits_and_secret_modes_keeps_its_health_check",
        || {
            let p = Project::new(LIMITED_DB);
            std::fs::write(p.dir.join("pw.txt"), "secret\n").unwrap();
            let out = p.berth(&["up", "-d", "--wait", "--wait-timeout", "30"]);
            assert!(
                out.status.success(),
                "up --wait: {}{}",
                support::stdout(&out),
                support::stderr(&out)
            );
            let ps = p.ok(&["ps", "--format", "{{.Service}} {{.Status}}"]);
            assert!(
                ps.lines()
                    .any(|l| l.starts_with("db ") && l.ends_with("(healthy)")),
                "{ps}"
            );
            p.ok(&["down"]);
        },
    );
}

/// `exec` (and so a health check) runs with the container's ulimits, as
/// Docker's does, not with berth's own.
#[test]
fn exec_runs_with_the_containers_ulimits() {
    if !can_run_containers() {
        return;
    }
    isolated("exec_runs_with_the_containers_ulimits", || {
        let p = Project::new(
            "name: limits
services:
  app:
    image: berth.test/busybox:latest
    command: [sleep, '600']
    stop_signal: SIGKILL
    ulimits:
      nofile: {soft: 512, hard: 1024}
",
        );
        p.ok(&["up", "-d"]);
        let (code, out) = p.sh("app", "ulimit -n; ulimit -Hn");
        assert_eq!((code, out.as_str()), (0, "512\n1024\n"));
        p.ok(&["down"]);
    });
}
