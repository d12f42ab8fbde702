//! End-to-end tests of `berth config` / `berth graph` through the real binary:
//! file discovery, project names, environment precedence, errors, warnings,
//! round trips and the config hash.

use std::path::Path;
use std::process::{Command, Output};

fn berth(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_berth"));
    cmd.current_dir(dir).args(args).env_clear();
    cmd.env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", "/nonexistent-home");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("run berth")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn write(dir: &Path, name: &str, text: &str) {
    let path = dir.join(name);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).unwrap();
    }
    std::fs::write(path, text).unwrap();
}

fn json(o: &Output) -> serde_json::Value {
    assert!(o.status.success(), "berth failed: {}", stderr(o));
    serde_json::from_slice(&o.stdout).expect("JSON output")
}

#[test]
fn discovers_file_in_parent_with_override_and_names_project_after_dir() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("My.Project");
    write(
        &root,
        "docker-compose.yml",
        "services:\n  web:\n    image: nginx\n",
    );
    write(
        &root,
        "docker-compose.override.yml",
        "services:\n  web:\n    environment: [DEBUG=1]\n",
    );
    let sub = root.join("src/deep");
    std::fs::create_dir_all(&sub).unwrap();
    let out = json(&berth(&sub, &["config", "--format", "json"], &[]));
    assert_eq!(out["name"], "myproject");
    assert_eq!(out["services"]["web"]["environment"]["DEBUG"], "1");
    assert_eq!(out["networks"]["default"]["name"], "myproject_default");
}

#[test]
fn project_name_precedence_and_validation() {
    let tmp = tempfile::tempdir().unwrap();
    write(
        tmp.path(),
        "compose.yaml",
        "name: fromfile\nservices:\n  a:\n    image: x\n",
    );
    assert_eq!(
        json(&berth(tmp.path(), &["config", "--format", "json"], &[]))["name"],
        "fromfile"
    );
    let env = [("COMPOSE_PROJECT_NAME", "fromenv")];
    assert_eq!(
        json(&berth(tmp.path(), &["config", "--format", "json"], &env))["name"],
        "fromenv"
    );
    assert_eq!(
        json(&berth(
            tmp.path(),
            &["-p", "flag", "config", "--format", "json"],
            &env
        ))["name"],
        "flag"
    );
    let bad = berth(tmp.path(), &["-p", "Bad Name", "config"], &[]);
    assert!(!bad.status.success());
    assert!(
        stderr(&bad).contains("invalid project name \"Bad Name\""),
        "{}",
        stderr(&bad)
    );
}

#[test]
fn shell_environment_wins_over_dotenv_and_unset_warns_once() {
    let tmp = tempfile::tempdir().unwrap();
    write(tmp.path(), ".env", "TAG=fromdotenv\nOTHER=\"x y\"\n");
    write(
        tmp.path(),
        "compose.yaml",
        "services:\n  a:\n    image: \"app:${TAG}\"\n    environment:\n      O: $OTHER\n      M1: ${MISSING}\n      M2: ${MISSING}\n",
    );
    let out = berth(tmp.path(), &["config", "--format", "json"], &[]);
    let v = json(&out);
    assert_eq!(v["services"]["a"]["image"], "app:fromdotenv");
    assert_eq!(v["services"]["a"]["environment"]["O"], "x y");
    assert_eq!(v["services"]["a"]["environment"]["M1"], "");
    assert_eq!(
        stderr(&out)
            .matches("The \"MISSING\" variable is not set")
            .count(),
        1,
        "{}",
        stderr(&out)
    );
    let v = json(&berth(
        tmp.path(),
        &["config", "--format", "json"],
        &[("TAG", "fromshell")],
    ));
    assert_eq!(v["services"]["a"]["image"], "app:fromshell");
}

#[test]
fn required_variable_error_names_variable_file_and_field() {
    let tmp = tempfile::tempdir().unwrap();
    write(
        tmp.path(),
        "compose.yaml",
        "services:\n  web:\n    image: \"nginx:${TAG:?TAG must be set}\"\n",
    );
    let out = berth(tmp.path(), &["config"], &[]);
    assert!(!out.status.success());
    let err = stderr(&out);
    for fact in [
        "compose.yaml",
        "services.web.image",
        "TAG",
        "TAG must be set",
        "line 3",
    ] {
        assert!(err.contains(fact), "missing {fact:?} in {err}");
    }
}

#[test]
fn invalid_port_error_is_precise() {
    let tmp = tempfile::tempdir().unwrap();
    write(
        tmp.path(),
        "compose.yaml",
        "services:\n  web:\n    image: nginx\n    ports:\n      - \"80:abc\"\n",
    );
    let out = berth(tmp.path(), &["config"], &[]);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains("compose.yaml: services.web.ports[0]: "),
        "{err}"
    );
    assert!(err.contains("80:abc"), "{err}");
    assert!(err.contains("(line 5, column 9)"), "{err}");
}

#[test]
fn unknown_attribute_is_an_error_but_extensions_are_kept() {
    let tmp = tempfile::tempdir().unwrap();
    write(
        tmp.path(),
        "compose.yaml",
        "services:\n  web:\n    image: nginx\n    x-team: core\n    imagee: typo\n",
    );
    let out = berth(tmp.path(), &["config"], &[]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("services.web"), "{}", stderr(&out));
    assert!(stderr(&out).contains("imagee"), "{}", stderr(&out));
    write(
        tmp.path(),
        "compose.yaml",
        "x-top: 1\nservices:\n  web:\n    image: nginx\n    x-team: core\n",
    );
    let out = berth(tmp.path(), &["config"], &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("x-team: core"));
    assert!(stdout(&out).contains("x-top: 1"));
}

#[test]
fn stdin_and_compose_file_variable() {
    let tmp = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_berth"))
        .current_dir(tmp.path())
        .args(["-f", "-", "-p", "demo", "config", "--services"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"services:\n  b: {image: x}\n  a: {image: y}\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(stdout(&out), "a\nb\n");

    write(tmp.path(), "one.yaml", "services:\n  a:\n    image: one\n");
    write(tmp.path(), "two.yaml", "services:\n  a:\n    image: two\n");
    let v = json(&berth(
        tmp.path(),
        &["config", "--format", "json"],
        &[("COMPOSE_FILE", "one.yaml:two.yaml")],
    ));
    assert_eq!(v["services"]["a"]["image"], "two");
}

#[test]
fn config_output_round_trips() {
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/example");
    let first = berth(&example, &["config"], &[]);
    assert!(first.status.success(), "{}", stderr(&first));
    let tmp = tempfile::tempdir().unwrap();
    write(tmp.path(), "compose.yaml", &stdout(&first));
    let second = berth(tmp.path(), &["config"], &[]);
    assert!(second.status.success(), "{}", stderr(&second));
    assert_eq!(stdout(&first), stdout(&second));
}

#[test]
fn config_hash_is_stable_and_ignores_scale() {
    let tmp = tempfile::tempdir().unwrap();
    write(
        tmp.path(),
        "compose.yaml",
        "services:\n  web:\n    image: nginx\n    environment: [A=1]\n",
    );
    let h1 = stdout(&berth(tmp.path(), &["config", "--hash", "web"], &[]));
    let h2 = stdout(&berth(tmp.path(), &["config", "--hash", "*"], &[]));
    assert_eq!(h1, h2);
    assert!(h1.starts_with("web ") && h1.trim().len() == 4 + 64, "{h1}");
    write(tmp.path(), "compose.yaml", "services:\n  web:\n    image: nginx\n    environment: [A=1]\n    scale: 3\n    profiles: []\n");
    assert_eq!(
        stdout(&berth(tmp.path(), &["config", "--hash", "web"], &[])),
        h1
    );
    write(
        tmp.path(),
        "compose.yaml",
        "services:\n  web:\n    image: nginx\n    environment: [A=2]\n",
    );
    assert_ne!(
        stdout(&berth(tmp.path(), &["config", "--hash", "web"], &[])),
        h1
    );
}

#[test]
fn listing_flags() {
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/example");
    assert_eq!(
        stdout(&berth(&example, &["config", "--services"], &[])),
        "cache\ndb\nmigrate\nweb\nworker\n"
    );
    assert_eq!(
        stdout(&berth(&example, &["config", "--volumes"], &[])),
        "db-data\n"
    );
    assert_eq!(
        stdout(&berth(&example, &["config", "--networks"], &[])),
        "default\n"
    );
    let q = berth(&example, &["config", "-q"], &[]);
    assert!(q.status.success() && q.stdout.is_empty());
}

#[test]
fn profiles_enable_services() {
    let tmp = tempfile::tempdir().unwrap();
    write(tmp.path(), "compose.yaml", "services:\n  web: {image: a}\n  debug: {image: b, profiles: [dev]}\n  tool: {image: c, profiles: [tools]}\n");
    assert_eq!(
        stdout(&berth(tmp.path(), &["config", "--services"], &[])),
        "web\n"
    );
    assert_eq!(
        stdout(&berth(
            tmp.path(),
            &["--profile", "dev", "config", "--services"],
            &[]
        )),
        "debug\nweb\n"
    );
    assert_eq!(
        stdout(&berth(
            tmp.path(),
            &["config", "--services"],
            &[("COMPOSE_PROFILES", "dev,tools")]
        )),
        "debug\ntool\nweb\n"
    );
    assert_eq!(
        stdout(&berth(tmp.path(), &["config", "--profiles"], &[])),
        "dev\ntools\n"
    );
    assert_eq!(
        stdout(&berth(tmp.path(), &["config", "--services", "tool"], &[])),
        "tool\n"
    );
}

#[test]
fn dependency_cycle_names_every_service() {
    let tmp = tempfile::tempdir().unwrap();
    write(tmp.path(), "compose.yaml", "services:\n  a: {image: x, depends_on: [b]}\n  b: {image: x, depends_on: [c]}\n  c: {image: x, depends_on: [a]}\n");
    let out = berth(tmp.path(), &["config"], &[]);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(err.contains("cycle"), "{err}");
    for s in ["a", "b", "c"] {
        assert!(err.contains(s), "{err}");
    }
}

#[test]
fn billion_laughs_is_refused_quickly() {
    let tmp = tempfile::tempdir().unwrap();
    let mut text = String::from(
        "x-a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n",
    );
    let names = ["a", "b", "c", "d", "e", "f", "g", "h", "i"];
    for w in names.windows(2) {
        let (prev, cur) = (w[0], w[1]);
        text.push_str(&format!("x-{cur}: &{cur} [*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev}]\n"));
    }
    text.push_str("services:\n  web:\n    image: nginx\n    x-boom: *i\n");
    write(tmp.path(), "compose.yaml", &text);
    let start = std::time::Instant::now();
    let out = berth(tmp.path(), &["config"], &[]);
    assert!(!out.status.success());
    assert!(start.elapsed() < std::time::Duration::from_secs(5));
    assert!(stderr(&out).contains("alias"), "{}", stderr(&out));
}

#[test]
fn graph_prints_levels_and_formats() {
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/example");
    let text = stdout(&berth(&example, &["graph"], &[]));
    assert!(text.contains("db"), "{text}");
    let dot = stdout(&berth(&example, &["graph", "--format", "dot"], &[]));
    assert!(dot.trim_start().starts_with("digraph"), "{dot}");
    let mermaid = stdout(&berth(&example, &["graph", "--format", "mermaid"], &[]));
    assert!(
        mermaid.contains("flowchart") || mermaid.contains("graph"),
        "{mermaid}"
    );
}

#[test]
fn no_normalize_prints_the_model_as_merged() {
    let tmp = tempfile::tempdir().unwrap();
    write(
        tmp.path(),
        "compose.yaml",
        r#"services:
  web:
    image: nginx
    ports:
      - "8080:80"
    pull_policy: if_not_present
    links: [db]
  db:
    image: postgres
    networks: [back]
networks:
  back:
volumes:
  unused:
"#,
    );
    // What `docker compose -p demo config --no-normalize` v2.29.7 prints: ports
    // in long syntax, but no `default` network, no resource names, no
    // depends_on implied by the link and pull_policy as written.
    let expected = r#"name: demo
services:
  db:
    image: postgres
    networks:
      back: null
  web:
    image: nginx
    links:
      - db
    ports:
      - mode: ingress
        target: 80
        published: "8080"
        protocol: tcp
    pull_policy: if_not_present
networks:
  back: {}
"#;
    let out = berth(tmp.path(), &["-p", "demo", "config", "--no-normalize"], &[]);
    assert!(out.status.success(), "berth failed: {}", stderr(&out));
    assert_eq!(stdout(&out), expected);

    // `--compatibility` means the same to `config`, as in docker compose.
    let out = berth(
        tmp.path(),
        &["-p", "demo", "--compatibility", "config"],
        &[],
    );
    assert_eq!(stdout(&out), expected);

    // Normalized (the default), all of that is added.
    let normal = json(&berth(
        tmp.path(),
        &["-p", "demo", "config", "--format", "json"],
        &[],
    ));
    assert_eq!(normal["networks"]["default"]["name"], "demo_default");
    assert_eq!(normal["networks"]["back"]["name"], "demo_back");
    assert_eq!(normal["services"]["web"]["pull_policy"], "missing");
    assert_eq!(
        normal["services"]["web"]["depends_on"]["db"]["condition"],
        "service_started"
    );
}
