//! Seccomp end to end through `up`, `exec` and `inspect`: every container
//! gets Docker's default profile (`Seccomp: 2`, no user namespaces, no
//! mount namespaces without CAP_SYS_ADMIN), `exec` runs under the same
//! filter (`exec --privileged` without), `seccomp=unconfined` and
//! `privileged` run without one, a profile file in Docker's JSON format is
//! applied, and a bad profile is refused before anything is made.

mod support;

use support::containers::{can_run_containers, isolated};
use support::project::{bridges, Project};

fn out(p: &Project, service: &str, script: &str) -> String {
    let (code, text) = p.sh(service, script);
    assert_eq!(code, 0, "{service}: {script}: {text}");
    text.trim().to_string()
}

/// The `Seccomp:` mode of the exec'd shell and of the container's PID 1.
fn seccomp_modes(p: &Project, service: &str) -> String {
    out(
        p,
        service,
        "grep Seccomp: /proc/self/status /proc/1/status | tr -d '\\t ' | cut -d: -f3 | tr '\\n' ' '",
    )
}

fn assert_nothing_left(p: &Project) {
    let runtime =
        berth_runtime::container::Runtime::with_helper(&p.root, support::containers::berth_bin());
    assert!(runtime.list().unwrap().is_empty(), "containers left");
    assert!(bridges().is_empty(), "bridges left: {:?}", bridges());
}

/// Docker's default action, except `mkdir` and `mkdirat`, which fail with EPERM.
const NO_MKDIR: &str = r#"{
  "defaultAction": "SCMP_ACT_ALLOW",
  "archMap": [{"architecture": "SCMP_ARCH_X86_64", "subArchitectures": ["SCMP_ARCH_X86", "SCMP_ARCH_X32"]}],
  "syscalls": [
    {"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1}
  ]
}"#;

#[test]
fn default_unconfined_privileged_and_custom_profiles() {
    if !can_run_containers() {
        return;
    }
    isolated("default_unconfined_privileged_and_custom_profiles", || {
        let p = Project::new(
            "name: seccomp
services:
  default:
    image: berth.test/busybox:latest
    command: [sleep, '600']
    stop_signal: SIGKILL
  nnp:
    image: berth.test/busybox:latest
    command: [sleep, '600']
    stop_signal: SIGKILL
    user: '1000:1000'
    security_opt: [no-new-privileges]
  withinit:
    image: berth.test/busybox:latest
    command: [sleep, '600']
    init: true
  nonroot:
    image: berth.test/busybox:latest
    command: [sleep, '600']
    stop_signal: SIGKILL
    user: '1000:1000'
  unconfined:
    image: berth.test/busybox:latest
    command: [sleep, '600']
    stop_signal: SIGKILL
    security_opt: ['seccomp=unconfined']
  privileged:
    image: berth.test/busybox:latest
    command: [sleep, '600']
    stop_signal: SIGKILL
    privileged: true
  custom:
    image: berth.test/busybox:latest
    command: [sleep, '600']
    stop_signal: SIGKILL
    security_opt: ['seccomp=profiles/no-mkdir.json']
",
        );
        std::fs::create_dir_all(p.dir.join("profiles")).unwrap();
        std::fs::write(p.dir.join("profiles/no-mkdir.json"), NO_MKDIR).unwrap();
        p.ok(&["up", "-d"]);

        // Docker's default profile, on PID 1 (berth's reaper with `init`)
        // and on what exec runs, also for a non-root user with or without
        // no_new_privs.
        for service in ["default", "nnp", "nonroot", "withinit"] {
            assert_eq!(seccomp_modes(&p, service), "2 2", "{service}");
        }
        let (code, text) = p.sh("default", "unshare -U -r true");
        assert_ne!(code, 0, "unshare -U -r worked under the default profile");
        assert!(text.contains("Operation not permitted"), "{text}");
        let (code, text) = p.sh("default", "unshare -m true");
        assert_ne!(code, 0, "unshare -m worked without CAP_SYS_ADMIN");
        assert!(text.contains("Operation not permitted"), "{text}");
        // The container otherwise works.
        assert_eq!(
            out(
                &p,
                "default",
                "mkdir /tmp/d && echo hi > /tmp/d/f && cat /tmp/d/f"
            ),
            "hi"
        );
        assert_eq!(out(&p, "nonroot", "id -u"), "1000");
        // exec --privileged runs without a filter, as Docker's.
        let privileged_exec = p.ok(&[
            "exec",
            "-T",
            "--privileged",
            "default",
            "grep",
            "Seccomp:",
            "/proc/self/status",
        ]);
        assert_eq!(privileged_exec.split_whitespace().nth(1), Some("0"));

        // No filter at all.
        assert_eq!(seccomp_modes(&p, "unconfined"), "0 0");
        assert_eq!(out(&p, "unconfined", "unshare -U -r id -u"), "0");
        assert_eq!(seccomp_modes(&p, "privileged"), "0 0");

        // The custom profile: mkdir fails with EPERM, the rest works.
        assert_eq!(seccomp_modes(&p, "custom"), "2 2");
        let (code, text) = p.sh("custom", "mkdir /tmp/x");
        assert_ne!(code, 0);
        assert!(text.contains("Operation not permitted"), "{text}");
        assert_eq!(
            out(
                &p,
                "custom",
                "echo hi > /tmp/f && cat /tmp/f && unshare -U -r id -u"
            ),
            "hi\n0"
        );

        // inspect shows the options that change Docker's defaults.
        let inspect = |service: &str| {
            let id = p.ok(&["ps", "-q", service]).trim().to_string();
            p.ok(&[
                "inspect",
                "--format",
                "{{json .HostConfig.SecurityOpt}}",
                &id,
            ])
            .trim()
            .to_string()
        };
        assert_eq!(inspect("default"), "null");
        assert_eq!(inspect("unconfined"), r#"["seccomp=unconfined"]"#);
        assert_eq!(
            inspect("custom"),
            format!(
                r#"["seccomp={}"]"#,
                p.dir.join("profiles/no-mkdir.json").display()
            )
        );
        p.ok(&["down"]);
        assert_nothing_left(&p);
    });
}

#[test]
fn a_bad_profile_is_refused_before_anything_is_made() {
    if !can_run_containers() {
        return;
    }
    isolated("a_bad_profile_is_refused_before_anything_is_made", || {
        let p = Project::new(
            "name: badseccomp
services:
  fine:
    image: berth.test/busybox:latest
    command: [sleep, '600']
  web:
    image: berth.test/busybox:latest
    command: [sleep, '600']
    security_opt: [no-new-privileges, 'seccomp=bad.json']
",
        );
        let bad = p.dir.join("bad.json");
        std::fs::write(
            &bad,
            r#"{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":["read"],"action":"SCMP_ACT_ALLOW"},{"names":["mkdir"],"action":"SCMP_ACT_DENY"}]}"#,
        )
        .unwrap();
        let output = p.berth(&["up", "-d"]);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "{stderr}");
        let expected = format!(
            "service \"web\": security_opt[1]: seccomp profile {}: syscalls[1] (mkdir): unknown action \"SCMP_ACT_DENY\"",
            bad.display()
        );
        assert!(stderr.contains(&expected), "{stderr}");
        // A missing file names the file.
        std::fs::remove_file(&bad).unwrap();
        let output = p.berth(&["up", "-d"]);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "{stderr}");
        assert!(
            stderr.contains("security_opt[1]: seccomp profile")
                && stderr.contains("bad.json: No such file or directory"),
            "{stderr}"
        );
        assert_nothing_left(&p);
    });
}

/// A container created before berth had seccomp (no `seccomp` field in its
/// record, no program file) gets Docker's default profile at its next start.
#[test]
fn a_container_created_before_seccomp_gets_the_default_at_restart() {
    if !can_run_containers() {
        return;
    }
    isolated(
        "a_container_created_before_seccomp_gets_the_default_at_restart",
        || {
            let p = Project::new(
                "name: oldrecord
services:
  old:
    image: berth.test/busybox:latest
    command: [sleep, '600']
    stop_signal: SIGKILL
",
            );
            p.ok(&["up", "-d"]);
            let id = p.ok(&["ps", "-q", "old"]).trim().to_string();
            p.ok(&["stop", "old"]);
            let dir = p.root.join("containers").join(&id);
            let config = dir.join("config.json");
            let mut record: serde_json::Value =
                serde_json::from_str(&std::fs::read_to_string(&config).unwrap()).unwrap();
            let security = record["spec"]["security"].as_object_mut().unwrap();
            assert!(security.remove("seccomp").is_some());
            std::fs::write(&config, record.to_string()).unwrap();
            std::fs::remove_file(dir.join("seccomp.bpf")).unwrap();
            p.ok(&["start", "old"]);
            assert_eq!(seccomp_modes(&p, "old"), "2 2");
            let (code, _) = p.sh("old", "unshare -U -r true");
            assert_ne!(code, 0);
            p.ok(&["down"]);
            assert_nothing_left(&p);
        },
    );
}
