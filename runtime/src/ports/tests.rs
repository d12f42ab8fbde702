//! Proxy tests on loopback: TCP echo with a large payload and half-close,
//! UDP with two clients, a port in use naming its holder, rollback; the
//! bounds: UDP flows capped (least recently used evicted), TCP connections
//! capped and closed when idle.

use super::*;
use crate::test_support::threads;
use std::io::{Read, Write};
use std::net::{Shutdown, TcpStream};

fn tcp_echo() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            std::thread::spawn(move || {
                let mut stream = stream;
                let mut data = Vec::new();
                let _ = stream.read_to_end(&mut data);
                let _ = stream.write_all(&data);
            });
        }
    });
    address
}

fn udp_echo() -> SocketAddr {
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    let address = socket.local_addr().unwrap();
    std::thread::spawn(move || {
        let mut buffer = [0u8; 2048];
        while let Ok((n, from)) = socket.recv_from(&mut buffer) {
            let mut reply = b"echo:".to_vec();
            reply.extend_from_slice(&buffer[..n]);
            let _ = socket.send_to(&reply, from);
        }
    });
    address
}

fn mapping(protocol: Protocol, target: SocketAddr) -> PortMapping {
    PortMapping {
        host_ip: Some("127.0.0.1".parse().unwrap()),
        host_port: None,
        protocol,
        target,
    }
}

#[test]
fn tcp_relay_with_half_close_and_a_large_payload() {
    let publication = publish_all(&[mapping(Protocol::Tcp, tcp_echo())]).unwrap();
    let port = publication.ports[0].host_port;
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let payload: Vec<u8> = (0..2_000_000u32).map(|i| (i % 251) as u8).collect();
    let writer = {
        let mut stream = stream.try_clone().unwrap();
        let payload = payload.clone();
        std::thread::spawn(move || {
            stream.write_all(&payload).unwrap();
            stream.shutdown(Shutdown::Write).unwrap();
        })
    };
    let mut echoed = Vec::new();
    stream.read_to_end(&mut echoed).unwrap();
    writer.join().unwrap();
    assert_eq!(echoed, payload);
}

#[test]
fn udp_replies_reach_the_right_client() {
    let publication = publish_all(&[mapping(Protocol::Udp, udp_echo())]).unwrap();
    let port = publication.ports[0].host_port;
    let clients: Vec<UdpSocket> = (0..2)
        .map(|_| UdpSocket::bind("127.0.0.1:0").unwrap())
        .collect();
    for (i, client) in clients.iter().enumerate() {
        client
            .set_read_timeout(Some(std::time::Duration::from_secs(2)))
            .unwrap();
        client
            .send_to(format!("client{i}").as_bytes(), ("127.0.0.1", port))
            .unwrap();
    }
    for (i, client) in clients.iter().enumerate() {
        let mut buffer = [0u8; 64];
        let n = client.recv(&mut buffer).unwrap();
        assert_eq!(&buffer[..n], format!("echo:client{i}").as_bytes());
    }
}

#[test]
fn a_port_in_use_names_its_holder_and_nothing_stays_bound() {
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let udp_port = UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let free_udp = PortMapping {
        host_port: Some(udp_port),
        ..mapping(Protocol::Udp, udp_echo())
    };
    let clash = PortMapping {
        host_port: Some(port),
        ..mapping(Protocol::Tcp, tcp_echo())
    };
    let err = match publish_all(&[free_udp.clone(), clash]) {
        Err(err) => err,
        Ok(_) => panic!("must fail"),
    };
    let text = err.to_string();
    assert!(
        text.starts_with(&format!(
            "port {port}/tcp is already in use by process {}",
            std::process::id()
        )),
        "{text}"
    );
    // The UDP port bound first was released again: binding it works.
    UdpSocket::bind(("127.0.0.1", udp_port)).expect("rolled back");
}

fn fds() -> usize {
    std::fs::read_dir("/proc/self/fd").unwrap().count()
}

/// Replies with the address the datagram came from (the flow's socket).
fn udp_who_is_asking() -> SocketAddr {
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    let address = socket.local_addr().unwrap();
    std::thread::spawn(move || {
        let mut buffer = [0u8; 2048];
        while let Ok((_, from)) = socket.recv_from(&mut buffer) {
            let _ = socket.send_to(from.to_string().as_bytes(), from);
        }
    });
    address
}

#[test]
fn udp_flows_from_many_sources_stay_bounded() {
    let limits = Limits::default();
    let publication = publish_all(&[mapping(Protocol::Udp, udp_echo())]).unwrap();
    let port: SocketAddr = ([127, 0, 0, 1], publication.ports[0].host_port).into();
    let (threads_before, fds_before) = (threads(), fds());
    let sources = 4 * limits.udp_flows;
    for i in 0..sources {
        let source = Ipv4Addr::new(127, 3, (i / 250) as u8, (i % 250 + 1) as u8);
        let socket = UdpSocket::bind((source, 0)).unwrap();
        socket.send_to(b"hello", port).unwrap();
        if i % 100 == 99 {
            std::thread::sleep(std::time::Duration::from_millis(2));
        }
    }
    std::thread::sleep(std::time::Duration::from_millis(500));
    let (new_threads, new_fds) = (
        threads().saturating_sub(threads_before),
        fds().saturating_sub(fds_before),
    );
    assert!(new_threads < 16, "{new_threads} new threads");
    // A socket per flow, a few more closing; other tests' fds besides.
    assert!(new_fds < limits.udp_flows + 64, "{new_fds} new fds");
    let client = UdpSocket::bind("127.0.0.1:0").unwrap();
    client
        .set_read_timeout(Some(std::time::Duration::from_secs(2)))
        .unwrap();
    client.send_to(b"still", port).unwrap();
    let mut buffer = [0u8; 64];
    let n = client.recv(&mut buffer).unwrap();
    assert_eq!(&buffer[..n], b"echo:still");
}

#[test]
fn a_new_udp_source_past_the_cap_evicts_the_least_recently_used_flow() {
    let limits = Limits {
        udp_flows: 2,
        ..Limits::default()
    };
    let publication =
        publish_all_with(&[mapping(Protocol::Udp, udp_who_is_asking())], limits).unwrap();
    let port = publication.ports[0].host_port;
    let clients: Vec<UdpSocket> = (0..3)
        .map(|_| UdpSocket::bind("127.0.0.1:0").unwrap())
        .collect();
    // The flow a client goes through: the address the target sees.
    let flow_of = |client: &UdpSocket| {
        client
            .set_read_timeout(Some(std::time::Duration::from_secs(2)))
            .unwrap();
        client.send_to(b"?", ("127.0.0.1", port)).unwrap();
        let mut buffer = [0u8; 64];
        let n = client.recv(&mut buffer).unwrap();
        String::from_utf8_lossy(&buffer[..n]).into_owned()
    };
    let first = flow_of(&clients[0]);
    let second = flow_of(&clients[1]);
    assert_eq!(flow_of(&clients[0]), first, "a flow is kept while in use");
    // Full: the third evicts the second (used least recently), not the first.
    flow_of(&clients[2]);
    assert_eq!(flow_of(&clients[0]), first);
    assert_ne!(flow_of(&clients[1]), second, "the second flow was evicted");
}

#[test]
fn tcp_connections_past_the_cap_are_closed_and_idle_ones_cut() {
    let limits = Limits {
        tcp_connections: 2,
        tcp_idle: std::time::Duration::from_millis(600),
        ..Limits::default()
    };
    let publication = publish_all_with(&[mapping(Protocol::Tcp, tcp_echo())], limits).unwrap();
    let port = publication.ports[0].host_port;
    let closed_within = |stream: &mut TcpStream, limit: std::time::Duration| {
        stream.set_read_timeout(Some(limit)).unwrap();
        let mut buffer = [0u8; 16];
        matches!(stream.read(&mut buffer), Ok(0))
            || matches!(stream.read(&mut buffer), Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset)
    };
    let started = std::time::Instant::now();
    let mut held: Vec<TcpStream> = (0..2)
        .map(|_| TcpStream::connect(("127.0.0.1", port)).unwrap())
        .collect();
    std::thread::sleep(std::time::Duration::from_millis(100));
    let mut third = TcpStream::connect(("127.0.0.1", port)).unwrap();
    assert!(
        closed_within(&mut third, std::time::Duration::from_millis(300)),
        "past the cap"
    );
    // The held ones send nothing: cut after the idle timeout.
    for stream in &mut held {
        assert!(closed_within(stream, std::time::Duration::from_secs(3)));
    }
    assert!(started.elapsed() >= limits.tcp_idle);
    // Their slots are free again.
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream.write_all(b"again").unwrap();
    stream.shutdown(Shutdown::Write).unwrap();
    let mut echoed = Vec::new();
    stream.read_to_end(&mut echoed).unwrap();
    assert_eq!(echoed, b"again");
}
