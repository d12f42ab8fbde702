//! Embedded DNS benchmark: A lookups of a service name against a server
//! serving one network namespace, from a client inside that namespace.
//! Prints queries per second and p50/p99 latency. Needs root:
//! `cargo bench --bench dns` (BERTH_BENCH_QUERIES=20000 by default).

use std::net::{Ipv4Addr, UdpSocket};
use std::time::{Duration, Instant};

use berth_runtime::dns::{DnsRecord, DnsServer, DnsTable, Querier};
use hickory_proto::op::{Message, Query};
use hickory_proto::rr::{Name, RecordType};

fn main() {
    if !nix::unistd::Uid::effective().is_root() {
        println!("skipping: the DNS benchmark needs root");
        return;
    }
    let queries: usize = std::env::var("BERTH_BENCH_QUERIES")
        .ok()
        .and_then(|q| q.parse().ok())
        .unwrap_or(20_000);
    let records: Vec<DnsRecord> = (0..3)
        .map(|i| DnsRecord {
            network: "front".into(),
            names: vec!["web".into(), format!("demo-web-{i}")],
            address: Ipv4Addr::new(10, 0, 0, 2 + i),
            container_id: format!("c{i}"),
        })
        .collect();
    let server = DnsServer::new(DnsTable::new(&records));
    // A thread in its own network namespace plays the container.
    let (tx, rx) = std::sync::mpsc::channel();
    let (go_tx, go_rx) = std::sync::mpsc::channel::<()>();
    let client = std::thread::spawn(move || {
        nix::sched::unshare(nix::sched::CloneFlags::CLONE_NEWNET).unwrap();
        berth_runtime::container::bring_loopback_up().unwrap();
        let tid = nix::unistd::gettid();
        tx.send(format!("/proc/self/task/{tid}/ns/net")).unwrap();
        go_rx.recv().unwrap();
        let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
        socket.connect("127.0.0.11:53").unwrap();
        socket
            .set_read_timeout(Some(Duration::from_secs(2)))
            .unwrap();
        let mut message = Message::new();
        message
            .set_id(7)
            .set_recursion_desired(true)
            .add_query(Query::query(
                Name::from_ascii("web.").unwrap(),
                RecordType::A,
            ));
        let query = message.to_vec().unwrap();
        let mut buffer = [0u8; 512];
        let mut latencies = Vec::with_capacity(queries);
        let started = Instant::now();
        for _ in 0..queries {
            let sent = Instant::now();
            socket.send(&query).unwrap();
            let n = socket.recv(&mut buffer).unwrap();
            latencies.push(sent.elapsed());
            assert!(n > 12);
        }
        (started.elapsed(), latencies)
    });
    let netns = rx.recv().unwrap();
    let handle = server
        .serve_container(
            std::path::Path::new(&netns),
            Querier {
                container_id: "bench".into(),
                networks: vec!["front".into()],
                upstreams: Vec::new(),
                internal: true,
            },
        )
        .unwrap();
    go_tx.send(()).unwrap();
    let (total, mut latencies) = client.join().unwrap();
    drop(handle);
    latencies.sort();
    let at = |p: f64| latencies[((latencies.len() - 1) as f64 * p) as usize];
    println!(
        "embedded DNS, one client: {:.0} queries/s   p50 {:.1} µs   p99 {:.1} µs   (n={})",
        queries as f64 / total.as_secs_f64(),
        at(0.50).as_secs_f64() * 1e6,
        at(0.99).as_secs_f64() * 1e6,
        latencies.len()
    );
}
