//! Networks through a compose file, end to end: names, aliases and
//! hostnames resolve only on the networks a container shares, replicas all
//! answer under their service name, isolation between networks, internal
//! networks without a way out, and outbound access through masquerade to
//! an "outside" namespace that has no route back to the containers.

mod support;

use std::process::{Child, Command, Stdio};

use support::containers::{can_run_containers, isolated};
use support::project::{bridges, Project};

const COMPOSE: &str = "name: nets
services:
  web:
    image: berth.test/busybox:latest
    hostname: webhost
    command: [sh, -c, 'nc -ll -p 8080 -e echo web']
    networks:
      front:
        aliases: [www]
  api:
    image: berth.test/busybox:latest
    command: [sh, -c, 'nc -ll -p 8080 -e hostname']
    networks: [front]
  both:
    image: berth.test/busybox:latest
    command: [sleep, '600']
    stop_signal: SIGKILL
    networks: [front, back]
  loner:
    image: berth.test/busybox:latest
    command: [sleep, '600']
    stop_signal: SIGKILL
    # Names it does not know are forwarded here: nothing listens, so they
    # fail at once instead of waiting for the forwarding timeout.
    dns: [127.0.0.1]
    networks: [back]
  db:
    image: berth.test/busybox:latest
    command: [sh, -c, 'nc -ll -p 8080 -e echo db']
    networks: [back]
  sidecar:
    image: berth.test/busybox:latest
    command: [sleep, '600']
    stop_signal: SIGKILL
    network_mode: service:web
  sealed:
    image: berth.test/busybox:latest
    extra_hosts: ['gw=host-gateway', 'legacy:10.9.8.7']
    command: [sleep, '600']
    stop_signal: SIGKILL
    networks: [vault]
networks:
  front: {}
  back: {}
  vault:
    internal: true
";

/// An "outside" world: a namespace joined to this one by a veth pair
/// (`10.231.0.1` here, `10.231.0.2` there, this side's default route), with
/// a TCP server on 10.231.0.2:9000 and no route back to any container
/// subnet — a reply reaches a container only if its traffic was
/// masqueraded.
struct Outside {
    namespace: Child,
    server: Child,
}

impl Outside {
    fn new() -> Outside {
        let namespace = Command::new("unshare")
            .args(["--net", "--", "sleep", "600"])
            .spawn()
            .expect("unshare");
        let pid = namespace.id().to_string();
        let netns = format!("--net=/proc/{pid}/ns/net");
        let run = |args: &[&str]| {
            let status = Command::new(args[0]).args(&args[1..]).status().unwrap();
            assert!(status.success(), "{args:?}");
        };
        // Wait until the child has its own namespace.
        let own = std::fs::read_link("/proc/self/ns/net").unwrap();
        while std::fs::read_link(format!("/proc/{pid}/ns/net")).ok() == Some(own.clone()) {
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        run(&[
            "ip", "link", "add", "uplink0", "type", "veth", "peer", "name", "out0", "netns", &pid,
        ]);
        run(&["ip", "addr", "add", "10.231.0.1/24", "dev", "uplink0"]);
        run(&["ip", "link", "set", "uplink0", "up"]);
        run(&["ip", "route", "add", "default", "via", "10.231.0.2"]);
        for args in [
            &["ip", "addr", "add", "10.231.0.2/24", "dev", "out0"][..],
            &["ip", "link", "set", "out0", "up"],
            &["ip", "link", "set", "lo", "up"],
        ] {
            let mut all = vec!["nsenter", &netns];
            all.extend_from_slice(args);
            run(&all);
        }
        let server = Command::new("nsenter")
            .args([
                &netns, "busybox", "nc", "-ll", "-p", "9000", "-e", "echo", "outside",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        Outside { namespace, server }
    }
}

impl Drop for Outside {
    fn drop(&mut self) {
        for child in [&mut self.server, &mut self.namespace] {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

#[test]
fn names_isolation_replicas_and_outbound_access() {
    if !can_run_containers() || Command::new("ip").arg("-V").output().is_err() {
        return;
    }
    isolated("names_isolation_replicas_and_outbound_access", || {
        let outside = Outside::new();
        let p = Project::new(COMPOSE);
        p.ok(&["up", "-d", "--scale", "api=3"]);

        // Same network: service name, container name, alias and hostname.
        let web_ip = p.lookup("both", "nets-web-1");
        assert_eq!(web_ip.len(), 1, "{web_ip:?}");
        for name in ["web", "www", "webhost"] {
            assert_eq!(p.lookup("both", name), web_ip, "{name}");
        }
        let (code, reply) = p.sh("both", "nc -w 2 www 8080");
        assert_eq!((code, reply.as_str()), (0, "web\n"));

        // network_mode service:web shares web's namespace, hostname and
        // /etc/hosts.
        let (code, reply) = p.sh("sidecar", "hostname; nc -w 2 127.0.0.1 8080");
        assert_eq!((code, reply.as_str()), (0, "webhost\nweb\n"));

        // Three replicas, all under the service name, each answering.
        let replicas = p.lookup("both", "api");
        assert_eq!(replicas.len(), 3, "{replicas:?}");
        let mut hostnames: Vec<String> = replicas
            .iter()
            .map(|ip| p.sh("both", &format!("nc -w 2 {ip} 8080")).1)
            .collect();
        hostnames.sort();
        hostnames.dedup();
        assert_eq!(hostnames.len(), 3, "{hostnames:?}");

        // A container on both networks reaches both; one on `back` only
        // neither resolves nor reaches `front`.
        assert_eq!(p.sh("both", "nc -w 2 db 8080").1, "db\n");
        assert_eq!(p.lookup("loner", "db").len(), 1);
        for name in ["web", "www", "webhost", "nets-web-1", "api"] {
            assert_eq!(p.lookup("loner", name), Vec::<String>::new(), "{name}");
        }
        let (code, _) = p.sh("loner", &format!("nc -w 1 {} 8080", web_ip[0]));
        assert_ne!(code, 0, "back must not reach front");

        // Outbound: masqueraded for ordinary networks, none for internal.
        let (code, reply) = p.sh("both", "nc -w 2 10.231.0.2 9000");
        assert_eq!((code, reply.as_str()), (0, "outside\n"));
        let (code, reply) = p.sh("sealed", "nc -w 1 10.231.0.2 9000");
        assert_ne!(code, 0, "internal network reached outside: {reply}");
        let hosts = p.sh("sealed", "cat /etc/hosts").1;
        assert!(hosts.contains("10.9.8.7\tlegacy\n"), "{hosts}");
        let gateway = hosts
            .lines()
            .find_map(|l| l.strip_suffix("\tgw"))
            .unwrap_or_else(|| panic!("{hosts}"));
        assert!(gateway.ends_with(".1"), "{hosts}");

        p.ok(&["down", "-t", "0"]);
        assert_eq!(bridges(), Vec::<String>::new());
        let tables = Command::new("nft").args(["list", "tables"]).output();
        if let Ok(tables) = tables {
            let tables = support::stdout(&tables);
            assert!(!tables.contains("berth"), "{tables}");
        }
        drop(outside);
    });
}
