//! Flood benchmark for the servers a supervisor runs: the embedded DNS with
//! a silent upstream takes 10,000 forwarded queries, and a UDP published
//! port takes datagrams from 5,000 distinct loopback sources. Prints the
//! process's thread and fd counts (from `/proc/self`) before, at the peak
//! during, and after each flood, and fails when the peak thread count
//! reaches [`THREAD_BOUND`]. The DNS part needs root (a network
//! namespace); the UDP part runs as anyone.
//! `cargo bench --bench flood` (BERTH_FLOOD_QUERIES, BERTH_FLOOD_SOURCES).

use std::net::{Ipv4Addr, SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use berth_runtime::dns::{DnsRecord, DnsServer, DnsTable, Querier};
use berth_runtime::ports::{publish_all, PortMapping, Protocol};
use hickory_proto::op::{Message, Query};
use hickory_proto::rr::{Name, RecordType};

/// The serving process must stay below this many threads under a flood.
const THREAD_BOUND: usize = 64;

fn threads() -> usize {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find_map(|line| line.strip_prefix("Threads:"))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or(0)
}

fn fds() -> usize {
    std::fs::read_dir("/proc/self/fd").map_or(0, |dir| dir.count())
}

/// Samples the thread and fd counts every few milliseconds; the peaks.
struct Sampler {
    stop: Arc<AtomicBool>,
    peak_threads: Arc<AtomicUsize>,
    peak_fds: Arc<AtomicUsize>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Sampler {
    fn start() -> Sampler {
        let stop = Arc::new(AtomicBool::new(false));
        let peak_threads = Arc::new(AtomicUsize::new(0));
        let peak_fds = Arc::new(AtomicUsize::new(0));
        let thread = {
            let (stop, peak_threads, peak_fds) =
                (stop.clone(), peak_threads.clone(), peak_fds.clone());
            std::thread::spawn(move || {
                while !stop.load(Ordering::SeqCst) {
                    peak_threads.fetch_max(threads(), Ordering::SeqCst);
                    peak_fds.fetch_max(fds(), Ordering::SeqCst);
                    std::thread::sleep(Duration::from_millis(5));
                }
            })
        };
        Sampler {
            stop,
            peak_threads,
            peak_fds,
            thread: Some(thread),
        }
    }

    /// Stops sampling: (peak threads, peak fds).
    fn finish(mut self) -> (usize, usize) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
        (
            self.peak_threads.load(Ordering::SeqCst),
            self.peak_fds.load(Ordering::SeqCst),
        )
    }
}

fn report(what: &str, before: (usize, usize), peak: (usize, usize), after: (usize, usize)) -> bool {
    let within = peak.0 < THREAD_BOUND;
    println!(
        "{what}: threads {} -> peak {} -> {}   fds {} -> peak {} -> {}   {}",
        before.0,
        peak.0,
        after.0,
        before.1,
        peak.1,
        after.1,
        if within {
            format!("(under {THREAD_BOUND} threads)")
        } else {
            format!("EXCEEDS {THREAD_BOUND} threads")
        }
    );
    within
}

fn env_count(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(default)
}

fn query(id: u16, name: &str) -> Vec<u8> {
    let mut message = Message::new();
    message
        .set_id(id)
        .set_recursion_desired(true)
        .add_query(Query::query(Name::from_ascii(name).unwrap(), RecordType::A));
    message.to_vec().unwrap()
}

/// 10,000 forwards to an upstream that never answers; then `web` must
/// still be answered.
fn dns_flood() -> bool {
    let queries = env_count("BERTH_FLOOD_QUERIES", 10_000);
    // Silent: bound (so no ICMP refusal), never read.
    let silent = UdpSocket::bind("127.0.0.1:0").unwrap();
    let upstream = silent.local_addr().unwrap();
    let server = DnsServer::new(DnsTable::new(&[DnsRecord {
        network: "front".into(),
        names: vec!["web".into()],
        address: Ipv4Addr::new(10, 0, 0, 2),
        container_id: "web".into(),
    }]));
    let (ns_tx, ns_rx) = std::sync::mpsc::channel();
    let (go_tx, go_rx) = std::sync::mpsc::channel::<()>();
    let (flooded_tx, flooded_rx) = std::sync::mpsc::channel::<()>();
    let (check_tx, check_rx) = std::sync::mpsc::channel::<()>();
    // A thread in its own network namespace plays the container.
    let client = std::thread::spawn(move || {
        nix::sched::unshare(nix::sched::CloneFlags::CLONE_NEWNET).unwrap();
        berth_runtime::container::bring_loopback_up().unwrap();
        ns_tx
            .send(format!("/proc/self/task/{}/ns/net", nix::unistd::gettid()))
            .unwrap();
        go_rx.recv().unwrap();
        let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
        socket.connect("127.0.0.11:53").unwrap();
        for i in 0..queries {
            let _ = socket.send(&query(i as u16, &format!("n{i}.flood.test.")));
            if i % 500 == 499 {
                // Keep the server's receive buffer from overflowing.
                std::thread::sleep(Duration::from_millis(2));
            }
        }
        flooded_tx.send(()).unwrap();
        check_rx.recv().unwrap();
        socket
            .set_read_timeout(Some(Duration::from_millis(200)))
            .unwrap();
        let mut buffer = [0u8; 512];
        while socket.recv(&mut buffer).is_ok() {}
        socket
            .set_read_timeout(Some(Duration::from_secs(2)))
            .unwrap();
        socket.send(&query(0xbeef, "web.")).unwrap();
        let started = Instant::now();
        loop {
            match socket.recv(&mut buffer) {
                Ok(n) if n > 2 && buffer[..2] == [0xbe, 0xef] => {
                    return Some(started.elapsed());
                }
                Ok(_) => continue,
                Err(_) => return None,
            }
        }
    });
    let netns = ns_rx.recv().unwrap();
    let before = (threads(), fds());
    let handle = server
        .serve_container(
            std::path::Path::new(&netns),
            Querier {
                container_id: "flood".into(),
                networks: vec!["front".into()],
                upstreams: vec![upstream],
                internal: false,
            },
        )
        .unwrap();
    let sampler = Sampler::start();
    go_tx.send(()).unwrap();
    flooded_rx.recv().unwrap();
    // Every forward times out (2 s) by now.
    std::thread::sleep(Duration::from_secs(3));
    let peak = sampler.finish();
    check_tx.send(()).unwrap();
    let answered = client.join().unwrap();
    let after = (threads(), fds());
    drop(handle);
    println!(
        "embedded DNS after the flood: `web` {}",
        answered.map_or("NOT ANSWERED".to_string(), |t| format!(
            "answered in {:.1} ms",
            t.as_secs_f64() * 1e3
        ))
    );
    report(
        &format!("embedded DNS, {queries} forwards to a silent upstream"),
        before,
        peak,
        after,
    ) && answered.is_some()
}

/// Datagrams from 5,000 loopback sources (127.1.x.y) to a published port.
fn udp_flood() -> bool {
    let sources = env_count("BERTH_FLOOD_SOURCES", 5_000);
    let echo = UdpSocket::bind("127.0.0.1:0").unwrap();
    let target = echo.local_addr().unwrap();
    std::thread::spawn(move || {
        let mut buffer = [0u8; 2048];
        while let Ok((n, from)) = echo.recv_from(&mut buffer) {
            let _ = echo.send_to(&buffer[..n], from);
        }
    });
    let before = (threads(), fds());
    let publication = publish_all(&[PortMapping {
        host_ip: Some("127.0.0.1".parse().unwrap()),
        host_port: None,
        protocol: Protocol::Udp,
        target,
    }])
    .unwrap();
    let port: SocketAddr = ([127, 0, 0, 1], publication.ports[0].host_port).into();
    let sampler = Sampler::start();
    for i in 0..sources {
        let source = Ipv4Addr::new(127, 1, (i / 250) as u8, (i % 250 + 1) as u8);
        // Bound, sent from and closed at once: the fds counted are the proxy's.
        if let Ok(socket) = UdpSocket::bind((source, 0)) {
            let _ = socket.send_to(b"flood", port);
        }
        if i % 250 == 249 {
            std::thread::sleep(Duration::from_millis(2));
        }
    }
    std::thread::sleep(Duration::from_secs(1));
    let peak = sampler.finish();
    // A fresh client is still served.
    let client = UdpSocket::bind("127.0.0.1:0").unwrap();
    client
        .set_read_timeout(Some(Duration::from_secs(2)))
        .unwrap();
    client.send_to(b"hello", port).unwrap();
    let mut buffer = [0u8; 64];
    let served = matches!(client.recv(&mut buffer), Ok(5));
    let after = (threads(), fds());
    drop(publication);
    println!(
        "UDP port proxy after the flood: a new client {}",
        if served { "is served" } else { "is NOT served" }
    );
    report(
        &format!("UDP port proxy, {sources} sources"),
        before,
        peak,
        after,
    ) && served
}

fn main() {
    let mut within = udp_flood();
    if nix::unistd::Uid::effective().is_root() {
        within &= dns_flood();
    } else {
        println!("skipping the DNS flood: it needs root (a network namespace)");
    }
    if !within {
        std::process::exit(1);
    }
}
