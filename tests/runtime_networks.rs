//! End-to-end tests of bridge networks: real busybox containers attached
//! to berth networks, each test in its own network and mount namespace
//! (root; skipped with a notice otherwise). Containers are created with a
//! new network namespace and attached through `/proc/PID/ns/net` of their
//! first process.

mod support;

use std::net::Ipv4Addr;
use std::path::Path;
use std::time::{Duration, Instant};

use berth_runtime::container::{ContainerSpec, ExecIo, ExecSpec, ProcessSpec, Runtime};
use berth_runtime::image::ResolvedImage;
use berth_runtime::network::nat;
use berth_runtime::network::netlink::Netlink;
use berth_runtime::network::{
    attach, detach, Endpoint, IpamPool, NetworkError, NetworkSpec, NetworkStore,
};
use support::containers::{busybox_rootfs, can_run_containers, isolated};

struct Fixture {
    dir: tempfile::TempDir,
    runtime: Runtime,
    image: ResolvedImage,
    store: NetworkStore,
}

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let layer = dir.path().join("layers/busybox");
    busybox_rootfs(&layer);
    let config: oci_spec::image::ImageConfiguration = serde_json::from_str(
        r#"{"architecture":"amd64","os":"linux","config":{"Env":["PATH=/usr/sbin:/usr/bin:/sbin:/bin"],"Cmd":["sh"]},"rootfs":{"type":"layers","diff_ids":[]}}"#,
    )
    .unwrap();
    let image = ResolvedImage {
        id: "sha256:test".into(),
        manifest_digest: "sha256:test".into(),
        config,
        layers: vec![layer],
    };
    let runtime = Runtime::with_helper(dir.path().join("root"), support::containers::berth_bin())
        .cgroup_parent(format!("berth-test-{}", std::process::id()));
    let store = NetworkStore::open(&dir.path().join("root")).unwrap();
    Fixture {
        dir,
        runtime,
        image,
        store,
    }
}

impl Drop for Fixture {
    /// Even a failing test leaves no container, cgroup or network behind.
    fn drop(&mut self) {
        for info in self.runtime.list().unwrap_or_default() {
            let _ = self.runtime.delete(&info.record.id, true);
        }
        for record in self.store.list().unwrap_or_default() {
            let _ = self.store.remove(&record.name, true);
        }
        let parent = format!("berth-test-{}", std::process::id());
        for entry in std::fs::read_dir("/sys/fs/cgroup").unwrap().flatten() {
            let _ = std::fs::remove_dir(entry.path().join(&parent));
        }
    }
}

fn network(f: &Fixture, name: &str, subnet: Option<&str>, internal: bool) -> String {
    let record = f
        .store
        .create(NetworkSpec {
            name: name.into(),
            internal,
            ipam: subnet
                .map(|s| {
                    vec![IpamPool {
                        subnet: Some(s.into()),
                        ..IpamPool::default()
                    }]
                })
                .unwrap_or_default(),
            ..NetworkSpec::default()
        })
        .unwrap();
    record.name
}

/// A running container serving `pong-NAME` on TCP 8080 (and logging what it
/// got), attached to `networks` in order.
struct Box {
    id: String,
    endpoints: Vec<Endpoint>,
}

fn server(f: &Fixture, name: &str, networks: &[&str]) -> Box {
    let script = format!("nc -ll -p 8080 -e sh -c 'read x; echo got-$x >&2; echo pong-{name}'");
    let spec = ContainerSpec {
        process: ProcessSpec {
            command: Some(vec!["sh".into(), "-c".into(), script]),
            ..ProcessSpec::default()
        },
        ..ContainerSpec::default()
    };
    let record = f.runtime.create(spec, &f.image, None).unwrap();
    let state = f.runtime.start(&record.id).unwrap();
    let endpoints: Vec<Endpoint> = networks
        .iter()
        .map(|n| f.store.allocate(n, &record.id, None, None).unwrap())
        .collect();
    let netns = format!("/proc/{}/ns/net", state.pid.unwrap());
    attach(Path::new(&netns), &endpoints).unwrap();
    Box {
        id: record.id,
        endpoints,
    }
}

fn exec(f: &Fixture, b: &Box, script: &str) -> (i32, String) {
    let spec = ExecSpec {
        args: vec!["sh".into(), "-c".into(), script.into()],
        ..ExecSpec::default()
    };
    let out = f.runtime.exec(&b.id, &spec, ExecIo::Capture).unwrap();
    (
        out.exit_code,
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

/// Sends `ping` to `ip:8080` from inside `from`; the reply, or None.
fn talk(f: &Fixture, from: &Box, ip: Ipv4Addr) -> Option<String> {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let (code, out) = exec(f, from, &format!("echo ping | nc -w 2 {ip} 8080"));
        if code == 0 && out.contains("pong") {
            return Some(out.trim().to_string());
        }
        if Instant::now() > deadline {
            return None;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn unreachable(f: &Fixture, from: &Box, ip: Ipv4Addr) {
    let (code, out) = exec(f, from, &format!("echo ping | nc -w 2 {ip} 8080"));
    assert!(
        code != 0 && !out.contains("pong"),
        "{ip} should be unreachable: {code} {out}"
    );
}

fn log(f: &Fixture, b: &Box) -> String {
    let mut text = String::new();
    f.runtime
        .logs(&b.id, false, |record| {
            text.push_str(&record.log);
            true
        })
        .unwrap();
    text
}

/// Interfaces of this (the test's) namespace: `/sys` here is still the
/// host's sysfs, so they are read over netlink.
fn interfaces() -> Vec<String> {
    let mut names: Vec<String> = Netlink::open()
        .unwrap()
        .links()
        .unwrap()
        .into_iter()
        .map(|(_, name)| name)
        .collect();
    names.sort();
    names
}

fn finish(f: &Fixture, boxes: Vec<Box>) {
    for b in boxes {
        f.runtime.delete(&b.id, true).unwrap();
        // The namespace died with the container: its veths are gone already.
        detach(&b.endpoints).unwrap();
        for e in &b.endpoints {
            f.store.release(&e.network, &b.id).unwrap();
        }
    }
    for record in f.store.list().unwrap() {
        f.store.remove(&record.name, false).unwrap();
    }
    assert_eq!(interfaces(), vec!["lo".to_string()]);
    assert!(Netlink::open().unwrap().berth_rules().unwrap().is_empty());
    assert!(f.store.list().unwrap().is_empty());
    assert!(f.runtime.list().unwrap().is_empty());
}

#[test]
fn same_network_talks_other_networks_do_not() {
    if !can_run_containers() {
        return;
    }
    isolated("same_network_talks_other_networks_do_not", || {
        let f = fixture();
        let a = network(&f, "front", Some("10.77.0.0/24"), false);
        let b = network(&f, "back", None, false);
        assert_eq!(f.store.get(&b).unwrap().subnet, "172.17.0.0/16");
        let c1 = server(&f, "c1", &[&a]);
        let c2 = server(&f, "c2", &[&a]);
        let c3 = server(&f, "c3", &[&b]);
        let both = server(&f, "both", &[&a, &b]);
        assert_eq!(c1.endpoints[0].address, Ipv4Addr::new(10, 77, 0, 2));
        assert_eq!(c2.endpoints[0].address, Ipv4Addr::new(10, 77, 0, 3));
        assert_eq!(c1.endpoints[0].mac, "02:42:0a:4d:00:02");

        // Same network: data both ways.
        let reply = talk(&f, &c2, c1.endpoints[0].address).expect("c2 reaches c1");
        assert_eq!(reply, "pong-c1");
        // The monitor writes the server's output to the log as it comes:
        // give it a moment on a loaded machine.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        while !log(&f, &c1).contains("got-ping") && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        assert!(log(&f, &c1).contains("got-ping"), "{}", log(&f, &c1));
        // Another network: nothing.
        unreachable(&f, &c3, c1.endpoints[0].address);
        unreachable(&f, &c1, c3.endpoints[0].address);
        // It is berth's routing rules that stop it: without them the
        // packets are routed (forwarding is on for both) but dropped by the
        // forward filter; without both, the host routes between bridges.
        let mut nl = Netlink::open().unwrap();
        let rules = nl.berth_rules().unwrap();
        assert_eq!(rules.len(), 2, "{rules:?}");
        for rule in &rules {
            nl.delete_rule(rule).unwrap();
        }
        unreachable(&f, &c3, c1.endpoints[0].address);
        let records = [f.store.get(&a).unwrap(), f.store.get(&b).unwrap()];
        for record in &records {
            nat::remove(&record.bridge).unwrap();
        }
        assert_eq!(talk(&f, &c3, c1.endpoints[0].address).unwrap(), "pong-c1");
        for rule in &rules {
            nl.add_rule(rule).unwrap();
        }
        unreachable(&f, &c3, c1.endpoints[0].address);
        for record in &records {
            nat::install(&record.bridge, &record.subnet().unwrap()).unwrap();
        }
        // On both: reaches both, eth0 on the first network, eth1 on the second.
        assert_eq!(talk(&f, &both, c1.endpoints[0].address).unwrap(), "pong-c1");
        assert_eq!(talk(&f, &both, c3.endpoints[0].address).unwrap(), "pong-c3");
        let (_, macs) = exec(
            &f,
            &both,
            "cat /sys/class/net/eth0/address /sys/class/net/eth1/address; ip -4 addr show eth0; ip route",
        );
        let lines: Vec<&str> = macs.lines().collect();
        assert_eq!(lines[0], both.endpoints[0].mac);
        assert_eq!(lines[1], both.endpoints[1].mac);
        assert!(
            macs.contains(&format!("{}/24", both.endpoints[0].address)),
            "{macs}"
        );
        assert!(macs.contains("default via 10.77.0.1 dev eth0"), "{macs}");

        // Busy networks are kept.
        assert!(matches!(
            f.store.remove(&a, false),
            Err(NetworkError::InUse { count: 3, .. })
        ));
        assert!(f.store.prune().unwrap().is_empty());
        finish(&f, vec![c1, c2, c3, both]);
    });
}

#[test]
fn internal_network_has_no_way_out() {
    if !can_run_containers() {
        return;
    }
    isolated("internal_network_has_no_way_out", || {
        let f = fixture();
        let inner = network(&f, "inner", None, true);
        let outer = network(&f, "outer", None, false);
        let only = server(&f, "only", &[&inner]);
        let (_, routes) = exec(&f, &only, "ip route");
        assert!(!routes.contains("default"), "{routes}");
        // Internal first: the default route still goes through the other network.
        let mixed = server(&f, "mixed", &[&inner, &outer]);
        let (_, routes) = exec(&f, &mixed, "ip route");
        let gw = f.store.get(&outer).unwrap().gateway;
        assert!(
            routes.contains(&format!("default via {gw} dev eth1")),
            "{routes}"
        );
        // Inside the internal network they talk; out of it nothing is routed.
        assert_eq!(
            talk(&f, &mixed, only.endpoints[0].address).unwrap(),
            "pong-only"
        );
        unreachable(&f, &only, mixed.endpoints[1].address);
        finish(&f, vec![only, mixed]);
    });
}

#[test]
fn store_records_ipam_and_recreated_bridges() {
    if !can_run_containers() {
        return;
    }
    isolated("store_records_ipam_and_recreated_bridges", || {
        let f = fixture();
        let spec = NetworkSpec {
            name: "pinned".into(),
            labels: [("com.example".to_string(), "x".to_string())].into(),
            ipam: vec![IpamPool {
                subnet: Some("10.88.0.0/16".into()),
                ip_range: Some("10.88.5.0/24".into()),
                gateway: Some("10.88.0.254".into()),
            }],
            driver_opts: [
                (
                    "com.docker.network.bridge.name".to_string(),
                    "berth-pin".to_string(),
                ),
                (
                    "com.docker.network.driver.mtu".to_string(),
                    "1400".to_string(),
                ),
            ]
            .into(),
            ..NetworkSpec::default()
        };
        let record = f.store.create(spec.clone()).unwrap();
        assert_eq!(record.id.len(), 64);
        assert_eq!(record.bridge, "berth-pin");
        assert_eq!(record.gateway, Ipv4Addr::new(10, 88, 0, 254));
        let link = std::process::Command::new("ip")
            .args(["-o", "link", "show", "berth-pin"])
            .output()
            .unwrap();
        let link = String::from_utf8_lossy(&link.stdout);
        assert!(link.contains("mtu 1400"), "{link}");
        assert!(f.dir.path().join("root/networks/pinned.json").exists());
        let e1 = f.store.allocate("pinned", "c1", None, None).unwrap();
        assert_eq!(e1.address, Ipv4Addr::new(10, 88, 5, 0));
        let e2 = f
            .store
            .allocate(
                "pinned",
                "c2",
                Some(Ipv4Addr::new(10, 88, 9, 9)),
                Some("02:00:00:00:00:01".into()),
            )
            .unwrap();
        assert_eq!(e2.mac, "02:00:00:00:00:01");
        let err = f
            .store
            .allocate("pinned", "c3", Some(Ipv4Addr::new(10, 88, 9, 9)), None)
            .unwrap_err()
            .to_string();
        assert!(err.contains("already in use"), "{err}");
        assert_eq!(f.store.allocate("pinned", "c1", None, None).unwrap(), e1);

        // Overlaps are refused with what they overlap.
        let err = f
            .store
            .create(NetworkSpec {
                name: "clash".into(),
                ipam: vec![IpamPool {
                    subnet: Some("10.88.7.0/24".into()),
                    ..IpamPool::default()
                }],
                ..NetworkSpec::default()
            })
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("network \"clash\": subnet 10.88.7.0/24 overlaps network \"pinned\""),
            "{err}"
        );
        let err = f
            .store
            .create(NetworkSpec {
                name: "v6".into(),
                enable_ipv6: true,
                ..NetworkSpec::default()
            })
            .unwrap_err()
            .to_string();
        assert!(err.contains("IPv6 is not supported yet"), "{err}");

        // The bridge gone (say, after a reboot): create makes it again.
        Netlink::open().unwrap().delete_link("berth-pin").unwrap();
        let again = f.store.create(spec).unwrap();
        assert_eq!(again.id, record.id);
        assert!(interfaces().contains(&"berth-pin".to_string()));

        f.store.release("pinned", "c1").unwrap();
        f.store.release("pinned", "c2").unwrap();
        assert_eq!(f.store.prune().unwrap(), vec!["pinned".to_string()]);
        finish(&f, Vec::new());
    });
}
