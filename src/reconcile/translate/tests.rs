//! Translation tested without root: host facts are built by hand (or,
//! for the device nodes every host has, detected for the test project).

use super::security::cgroup_namespace;
use super::*;
use crate::compose::load_from_str;
use berth_runtime::container::{InjectedFile, Mount, Namespace, Seccomp};

const YAML: &str = r#"
services:
  web:
    image: busybox
    command: ["sh", "-c", "echo hi"]
    environment: {A: "1", B: ""}
    user: app
    working_dir: /srv
    tty: true
    cap_add: [NET_ADMIN]
    security_opt: [no-new-privileges:true]
    mem_limit: 64m
    cpus: 0.5
    pids_limit: 20
    ulimits: {nofile: {soft: 100, hard: 200}, nproc: 50}
    stop_signal: SIGUSR1
    stop_grace_period: 3s
    init: true
    read_only: true
    tmpfs: ["/run:size=1m,mode=0755"]
    volumes:
      - ./data:/data:ro
      - cache:/cache
      - /anon
    logging: {driver: json-file, options: {max-size: 1m, max-file: "3"}}
volumes:
  cache: {}
"#;

#[test]
fn a_service_becomes_a_container_spec() {
    let dir = tempfile::tempdir().unwrap();
    let project = load_from_str(YAML, dir.path()).unwrap().project;
    let service = &project.services["web"];
    let t = container_spec(
        &project,
        "web",
        service,
        2,
        "fuzz-web-2",
        &HostFacts::default(),
    )
    .unwrap();
    let spec = &t.spec;
    assert_eq!(spec.name, "fuzz-web-2");
    assert_eq!(spec.labels[labels::NUMBER], "2");
    assert_eq!(spec.labels[labels::SERVICE], "web");
    assert_eq!(
        spec.process.command.as_deref().unwrap(),
        ["sh", "-c", "echo hi"]
    );
    assert_eq!(spec.process.env, ["A=1", "B="]);
    assert_eq!(spec.process.user.as_deref(), Some("app"));
    assert!(spec.process.tty && spec.init && spec.read_only_rootfs);
    assert!(spec.security.no_new_privileges);
    assert_eq!(spec.resources.memory, Some(64 << 20));
    assert_eq!(spec.resources.cpus, Some(0.5));
    assert_eq!(spec.resources.pids_limit, Some(20));
    assert_eq!(spec.security.ulimits.len(), 2);
    assert_eq!(spec.stop_timeout, Some(std::time::Duration::from_secs(3)));
    assert_eq!(spec.log.max_size, Some(1 << 20));
    assert_eq!(spec.log.max_files, 3);
    assert!(
        matches!(&spec.mounts[0], Mount::Bind { target, read_only: true, .. } if target == "/data")
    );
    assert!(
        matches!(&spec.mounts[1], Mount::Tmpfs { target, size: Some(1048576), mode: Some(0o755), .. } if target == "/run")
    );
    assert_eq!(t.volumes.len(), 2);
    assert_eq!(t.volumes[0].name.as_deref(), Some("fuzz_cache"));
    assert_eq!(t.volumes[1].name, None);
    assert_eq!(t.host_dirs, vec![dir.path().join("data")]);
}

#[test]
fn mounts_over_the_root_proc_sys_or_dev_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let refused = |volumes: &str, privileged: bool| {
        let yaml = format!(
            "services:\n  web:\n    image: busybox\n    privileged: {privileged}\n{volumes}"
        );
        let project = load_from_str(&yaml, dir.path()).unwrap().project;
        container_spec(
            &project,
            "web",
            &project.services["web"],
            1,
            "web",
            &HostFacts::default(),
        )
        .err()
        .map(|err| err.to_string())
    };
    let err = refused("    volumes: [\"/tmp:/\"]\n", true).unwrap();
    assert!(err.contains("volumes[0]") && err.contains("root"), "{err}");
    let err = refused("    volumes: [\"/tmp:/proc\"]\n", true).unwrap();
    assert!(err.contains("inside /proc"), "{err}");
    let err = refused("    tmpfs: [\"/dev:size=1m\"]\n", false).unwrap();
    assert!(
        err.contains("tmpfs[0]") && err.contains("privileged"),
        "{err}"
    );
    assert!(refused("    volumes: [\"/tmp:/sys:ro\"]\n", false).is_some());
    assert!(refused("    volumes: [\"/tmp:/sys:ro\"]\n", true).is_none());
    assert!(refused("    volumes: [\"/tmp:/proc/meminfo\"]\n", false).is_none());
}

#[test]
fn secrets_configs_and_annotations_reach_the_spec() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("pw"), "s3cret").unwrap();
    std::fs::create_dir(dir.path().join("certs")).unwrap();
    let yaml = "services:\n  web:\n    image: x\n    annotations: {a.b: c}\n    secrets: [{source: pw, mode: 0400, uid: '7'}]\n    configs: [certs]\nsecrets:\n  pw: {file: ./pw}\nconfigs:\n  certs: {file: ./certs}\n";
    let project = load_from_str(yaml, dir.path()).unwrap().project;
    let spec = container_spec(
        &project,
        "web",
        &project.services["web"],
        1,
        "x",
        &HostFacts::default(),
    )
    .unwrap()
    .spec;
    assert_eq!(
        spec.files,
        [InjectedFile {
            target: "/run/secrets/pw".into(),
            description: "secret pw".into(),
            content: b"s3cret".to_vec(),
            uid: 7,
            gid: 0,
            mode: 0o400,
        }]
    );
    // A directory is bound read-only as it is.
    assert!(spec.mounts.iter().any(|m| matches!(m,
        Mount::Bind { target, read_only: true, source, .. }
            if target == "/certs" && *source == dir.path().join("certs"))));
    assert_eq!(spec.user_annotations["a.b"], "c");
    assert!(!spec.user_annotations.contains_key(CONFIG_ANNOTATION));
    let digests: BTreeMap<String, String> =
        serde_json::from_str(&spec.annotations[FILES_ANNOTATION]).unwrap();
    assert_eq!(digests.keys().collect::<Vec<_>>(), ["secret pw"]);
}

#[test]
fn namespace_modes() {
    use NamespaceMode::*;
    let ok = |field, value| namespace_mode(field, Some(value)).unwrap();
    assert_eq!(namespace_mode("ipc", None).unwrap(), Private);
    assert_eq!(ok("ipc", "private"), Private);
    assert_eq!(ok("ipc", "shareable"), Private);
    assert_eq!(ok("ipc", "host"), Host);
    assert_eq!(ok("ipc", "service:db"), Service("db".into()));
    assert_eq!(ok("pid", "container:abc"), Container("abc".into()));
    assert_eq!(ok("pid", "host"), Host);
    assert_eq!(ok("uts", "host"), Host);
    assert_eq!(ok("uts", ""), Private);
    assert_eq!(ok("ipc", "none"), Private);
    for (field, value) in [
        ("ipc", "service:"),
        ("ipc", "Host"),
        ("pid", "private"),
        ("pid", "shareable"),
        ("pid", "container:"),
        ("uts", "private"),
        ("uts", "service:x"),
    ] {
        let err = namespace_mode(field, Some(value)).unwrap_err();
        assert!(
            err.starts_with(&format!("invalid value {value:?} (expected ")),
            "{err}"
        );
    }
}

#[test]
fn cgroup_namespaces() {
    use berth_runtime::container::cgroup_view::CgroupNamespace::*;
    let dir = tempfile::tempdir().unwrap();
    let translate = |attribute: &str| translate_in(dir.path(), attribute, |_| HostFacts::default());
    assert_eq!(translate("init: false").unwrap().spec.cgroupns, Private);
    assert_eq!(translate("cgroup: private").unwrap().spec.cgroupns, Private);
    assert_eq!(translate("cgroup: host").unwrap().spec.cgroupns, Host);
    assert_eq!(
        cgroup_namespace(Some("shared")).unwrap_err(),
        "\"shared\" is not \"host\" or \"private\""
    );
}

#[test]
fn security_opt_variants() {
    let parse = |opts: &[&str], lsms: &[&str]| {
        let opts: Vec<String> = opts.iter().map(|o| o.to_string()).collect();
        let lsms: Vec<String> = lsms.iter().map(|o| o.to_string()).collect();
        security_options(&opts, &lsms)
    };
    for on in [
        "no-new-privileges",
        "no-new-privileges:true",
        "no-new-privileges=true",
    ] {
        assert!(parse(&[on], &[]).unwrap().no_new_privileges, "{on}");
    }
    for off in ["no-new-privileges:false", "no-new-privileges=false"] {
        assert!(!parse(&[off], &[]).unwrap().no_new_privileges, "{off}");
    }
    // Later entries win, as Docker reads them.
    assert!(
        !parse(&["no-new-privileges", "no-new-privileges=false"], &[])
            .unwrap()
            .no_new_privileges
    );
    let quiet = parse(
        &[
            "seccomp=unconfined",
            "seccomp:unconfined",
            "label=disable",
            "label:disable",
            "apparmor=unconfined",
        ],
        &["selinux", "apparmor"],
    )
    .unwrap();
    assert_eq!(
        quiet,
        SecurityOptions {
            seccomp: SeccompOption::Unconfined,
            seccomp_index: 1,
            ..SecurityOptions::default()
        }
    );
    for (value, expected) in [
        ("seccomp=builtin", SeccompOption::Default),
        ("seccomp=default", SeccompOption::Default),
        ("seccomp=p.json", SeccompOption::File("p.json".into())),
        (
            "seccomp:/abs/p.json",
            SeccompOption::File("/abs/p.json".into()),
        ),
    ] {
        assert_eq!(parse(&[value], &[]).unwrap().seccomp, expected, "{value}");
    }
    assert!(
        parse(&["systempaths=unconfined"], &[])
            .unwrap()
            .unmask_system_paths
    );
    // No such LSM on the host: accepted with a warning.
    let warned = parse(
        &["label=type:container_t", "apparmor=docker-default"],
        &["capability", "yama"],
    )
    .unwrap();
    assert_eq!(
        warned.warnings,
        [
            "label=type:container_t is ignored: SELinux is not enabled on this host",
            "apparmor=docker-default is ignored: AppArmor is not enabled on this host"
        ]
    );
    // The LSM is there but berth does not apply it: refused.
    let (index, message) =
        parse(&["no-new-privileges", "label:level:s0"], &["selinux"]).unwrap_err();
    assert_eq!(index, 1);
    assert!(
        message.contains("berth does not apply SELinux labels"),
        "{message}"
    );
    assert!(parse(&["apparmor=x"], &["apparmor"])
        .unwrap_err()
        .1
        .contains("AppArmor profiles"));
    for bad in [
        "seccomp",
        "seccomp=",
        "label",
        "systempaths=x",
        "no-new-privileges=yes",
        "nope",
        "mask=/proc/x",
    ] {
        assert!(parse(&[bad], &[]).is_err(), "{bad}");
    }
}

#[test]
fn seccomp_profiles_are_read_and_checked() {
    let dir = tempfile::tempdir().unwrap();
    let translate = |opts: &str| {
        translate_in(dir.path(), &format!("security_opt: {opts}"), |_| {
            HostFacts::default()
        })
    };
    assert_eq!(
        translate("[]").unwrap().spec.security.seccomp,
        Seccomp::Default
    );
    assert_eq!(
        translate("[seccomp=unconfined]")
            .unwrap()
            .spec
            .security
            .seccomp,
        Seccomp::Unconfined
    );
    let profile = r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["mkdir"],"action":"SCMP_ACT_ERRNO"}]}"#;
    std::fs::write(dir.path().join("p.json"), profile).unwrap();
    let Seccomp::Profile { source, json } =
        translate("[seccomp=p.json]").unwrap().spec.security.seccomp
    else {
        panic!("not a profile");
    };
    assert_eq!(source, dir.path().join("p.json").display().to_string());
    assert_eq!(json, profile);
    std::fs::write(
        dir.path().join("bad.json"),
        r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["mkdir"],"action":"SCMP_ACT_ERRNO","args":[{"index":0,"op":"SCMP_CMP_ALMOST"}]}]}"#,
    )
    .unwrap();
    let err = translate("[no-new-privileges, seccomp=bad.json]")
        .unwrap_err()
        .to_string();
    let expected = format!(
        "service \"web\": security_opt[1]: seccomp profile {}: syscalls[0] (mkdir): unknown operator \"SCMP_CMP_ALMOST\"",
        dir.path().join("bad.json").display()
    );
    assert!(err.starts_with(&expected), "{err}");
    let missing = translate("[seccomp=missing.json]").unwrap_err().to_string();
    assert!(
        missing.contains("security_opt[0]: seccomp profile")
            && missing.contains("missing.json: No such file"),
        "{missing}"
    );
}

#[test]
fn devices_and_device_rules_are_checked() {
    let dir = tempfile::tempdir().unwrap();
    let translate = |attribute: &str| translate_in(dir.path(), attribute, HostFacts::detect);
    let t = translate("devices: ['/dev/null:/dev/mynull:rw']").unwrap();
    let device = &t.spec.devices[0];
    assert_eq!(
        (device.path.as_str(), device.major, device.minor),
        ("/dev/mynull", 1, 3)
    );
    assert_eq!(device.access, "rw");
    let t = translate("device_cgroup_rules: ['c 1:3 mr', 'a 7:* rmw']").unwrap();
    assert_eq!(t.spec.resources.device_rules.len(), 2);
    let err = translate("devices: [/dev/berth-none]").unwrap_err();
    assert_eq!(
        err.to_string(),
        "service \"web\": devices[0]: device /dev/berth-none: no such device on the host"
    );
    let err = translate("devices: ['nvidia.com/gpu=all']").unwrap_err();
    assert!(
        err.to_string()
            .contains("CDI device names are not supported"),
        "{err}"
    );
    let err = translate("device_cgroup_rules: ['c 1:3']").unwrap_err();
    assert!(
        err.to_string().starts_with(
            "service \"web\": device_cgroup_rules[0]: invalid device cgroup rule \"c 1:3\""
        ),
        "{err}"
    );
    let err = translate("ipc: bogus").unwrap_err();
    assert_eq!(err.field, "ipc");
    let t = translate("pid: container:other").unwrap();
    assert_eq!(
        t.joins,
        [NamespaceJoin {
            field: "pid",
            target: NamespaceMode::Container("other".into())
        }]
    );
    let t = translate("uts: host").unwrap();
    assert_eq!(t.spec.uts, Namespace::Host);
    let t = translate("oom_kill_disable: true").unwrap();
    assert!(t.spec.resources.oom_kill_disable);
    assert!(
        t.warnings.iter().any(|w| w.contains("oom_kill_disable")),
        "{:?}",
        t.warnings
    );
}

#[test]
fn unsupported_log_drivers_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let yaml = "services:\n  web:\n    image: x\n    logging: {driver: syslog}\n";
    let project = load_from_str(yaml, dir.path()).unwrap().project;
    let err = container_spec(
        &project,
        "web",
        &project.services["web"],
        1,
        "x",
        &HostFacts::default(),
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "service \"web\": logging: log driver \"syslog\" is not supported (berth supports json-file, local and none)"
    );
    assert_eq!(parse_size("1.5k"), Some(1536));
    assert_eq!(parse_size("10MB"), Some(10 << 20));
    assert_eq!(parse_size("x"), None);
}

/// Translates `web` of a one-service project in `dir` with `attribute`, on
/// the host that `host` describes for that project.
fn translate_in(
    dir: &std::path::Path,
    attribute: &str,
    host: impl Fn(&Project) -> HostFacts,
) -> Result<Translated, TranslateError> {
    let yaml = format!("services:\n  web:\n    image: x\n    {attribute}\n");
    let project = load_from_str(&yaml, dir).unwrap().project;
    container_spec(
        &project,
        "web",
        &project.services["web"],
        1,
        "x",
        &host(&project),
    )
}

/// Translates `web` of a one-service project with `attribute` on `host`.
fn translate_on(attribute: &str, host: &HostFacts) -> Result<Translated, TranslateError> {
    let dir = tempfile::tempdir().unwrap();
    translate_in(dir.path(), attribute, |_| host.clone())
}

#[test]
fn ports_become_requests_and_unpublishable_ones_are_refused() {
    use berth_runtime::ports::Protocol;
    let host = HostFacts::default();
    let t = translate_on(
        "ports: ['127.0.0.1:8000-8002:80/udp', '9000:90', '53']",
        &host,
    )
    .unwrap();
    assert_eq!(
        t.ports,
        [
            PortRequest {
                host_ip: Some("127.0.0.1".parse().unwrap()),
                host_ports: vec![8000, 8001, 8002],
                target: 80,
                protocol: Protocol::Udp,
            },
            PortRequest {
                host_ip: None,
                host_ports: vec![9000],
                target: 90,
                protocol: Protocol::Tcp,
            },
            PortRequest {
                host_ip: None,
                host_ports: Vec::new(),
                target: 53,
                protocol: Protocol::Tcp,
            },
        ]
    );
    let err = translate_on("ports: ['9000:90', '80:80/sctp']", &host).unwrap_err();
    assert_eq!(
        err.to_string(),
        "service \"web\": ports[1]: protocol \"sctp\" is not supported (tcp or udp)"
    );
    let err = translate_on("ports: [{target: 80, host_ip: nowhere}]", &host).unwrap_err();
    assert_eq!(err.field, "ports[0]");
    assert_eq!(err.message, "invalid host_ip \"nowhere\"");
}

#[test]
fn network_modes_are_parsed_before_anything_is_made() {
    use berth_runtime::container::NetworkNamespace;
    let host = HostFacts::default();
    let t = translate_on("network_mode: host", &host).unwrap();
    assert_eq!(t.network_mode, NetworkMode::Host);
    assert_eq!(t.spec.network, NetworkNamespace::Host);
    let t = translate_on("network_mode: none", &host).unwrap();
    assert_eq!(t.spec.network, NetworkNamespace::None);
    let t = translate_on("network_mode: bridge", &host).unwrap();
    assert_eq!(t.network_mode, NetworkMode::Networks);
    let t = translate_on("network_mode: 'container:db'", &host).unwrap();
    assert_eq!(
        t.network_mode,
        NetworkMode::Join(NamespaceMode::Container("db".into()))
    );
    assert_eq!(t.spec.network, NetworkNamespace::New);
    assert_eq!(
        network::network_mode(Some("service:db")).unwrap(),
        NetworkMode::Join(NamespaceMode::Service("db".into()))
    );
    assert!(network::network_mode(Some("container:")).is_err());
    let err = translate_on("network_mode: bogus", &host).unwrap_err();
    assert_eq!(err.field, "network_mode");
    assert!(
        err.message.starts_with("\"bogus\" is not supported"),
        "{err}"
    );
}

#[test]
fn check_refuses_ports_and_network_modes() {
    let dir = tempfile::tempdir().unwrap();
    let yaml =
        "services:\n  fine:\n    image: x\n  web:\n    image: x\n    ports: ['80:80/sctp']\n";
    let project = load_from_str(yaml, dir.path()).unwrap().project;
    let host = HostFacts::default();
    assert!(check(&project, &["fine".to_string()], &host).is_ok());
    let err = check(&project, &["fine".to_string(), "web".to_string()], &host).unwrap_err();
    assert_eq!(
        (err.service.as_str(), err.field.as_str()),
        ("web", "ports[0]")
    );
}

#[test]
fn host_facts_built_by_hand_decide_what_the_host_allows() {
    use berth_runtime::container::cgroup::Hierarchies;
    use berth_runtime::container::devices::{Device, DeviceType};
    // No SELinux here: a label is accepted with a warning; with it, refused.
    let t = translate_on("security_opt: ['label=level:s0']", &HostFacts::default()).unwrap();
    assert!(
        t.warnings[0].contains("SELinux is not enabled"),
        "{:?}",
        t.warnings
    );
    let selinux = HostFacts {
        lsms: vec!["selinux".into()],
        ..HostFacts::default()
    };
    let err = translate_on("security_opt: ['label=level:s0']", &selinux).unwrap_err();
    assert_eq!(err.field, "security_opt[0]");
    // Devices come from the facts, not from /dev.
    let gpu = Device {
        path: "/dev/gpu".into(),
        kind: DeviceType::Char,
        major: 195,
        minor: 0,
        mode: 0o666,
        uid: 0,
        gid: 0,
        access: "rw".into(),
    };
    let mut host = HostFacts::default();
    let request = (
        "/dev/nvidia0".to_string(),
        "/dev/gpu".to_string(),
        "rw".to_string(),
    );
    host.devices.insert(request, Ok(vec![gpu.clone()]));
    let t = translate_on("devices: ['/dev/nvidia0:/dev/gpu:rw']", &host).unwrap();
    assert_eq!(t.spec.devices, [gpu]);
    // Neither a v1 devices controller nor cgroup v2: a warning.
    assert!(
        t.warnings
            .iter()
            .any(|w| w.contains("device access is not restricted")),
        "{:?}",
        t.warnings
    );
    let err = translate_on("devices: ['/dev/nvidia1']", &host).unwrap_err();
    assert_eq!(
        err.to_string(),
        "service \"web\": devices[0]: device /dev/nvidia1: not looked up on this host"
    );
    // With cgroup v2 and v1 memory: no device warning, oom_kill_disable honoured.
    let mut cgroups = Hierarchies {
        unified: Some(("/sys/fs/cgroup".into(), Default::default())),
        ..Hierarchies::default()
    };
    cgroups
        .v1
        .insert("memory".into(), "/sys/fs/cgroup/memory".into());
    host.cgroups = cgroups;
    let t = translate_on(
        "devices: ['/dev/nvidia0:/dev/gpu:rw']\n    oom_kill_disable: true\n    mem_limit: 64m",
        &host,
    )
    .unwrap();
    assert!(t.warnings.is_empty(), "{:?}", t.warnings);
}

#[test]
fn networks_are_ordered_and_extra_hosts_checked() {
    let dir = tempfile::tempdir().unwrap();
    let yaml = "services:\n  web:\n    image: x\n    mac_address: '02:00:00:00:00:01'\n    networks:\n      back: {ipv4_address: 10.5.0.9}\n      front: {priority: 10, mac_address: '02:00:00:00:00:02'}\n    extra_hosts: ['db=10.0.0.2', 'gw=host-gateway']\nnetworks:\n  back: {}\n  front: {}\n";
    let project = load_from_str(yaml, dir.path()).unwrap().project;
    let t = container_spec(
        &project,
        "web",
        &project.services["web"],
        1,
        "x",
        &HostFacts::default(),
    )
    .unwrap();
    assert_eq!(
        t.attachments,
        [
            Attachment {
                key: "front".into(),
                ipv4_address: None,
                mac_address: Some("02:00:00:00:00:02".into()),
            },
            Attachment {
                key: "back".into(),
                ipv4_address: Some("10.5.0.9".parse().unwrap()),
                mac_address: Some("02:00:00:00:00:01".into()),
            },
        ]
    );
    assert_eq!(
        t.extra_hosts,
        [
            ExtraHost {
                host: "db".into(),
                address: "10.0.0.2".into()
            },
            ExtraHost {
                host: "gw".into(),
                address: "host-gateway".into()
            },
        ]
    );
    let host = HostFacts::default();
    let err = translate_on("extra_hosts: ['db=nowhere']", &host).unwrap_err();
    assert_eq!(err.field, "extra_hosts[0]");
    assert!(err.message.contains("\"nowhere\""), "{err}");
}
