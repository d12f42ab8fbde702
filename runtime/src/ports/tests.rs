//! Proxy tests on loopback: TCP echo with a large payload and half-close,
//! UDP with two clients, a port in use naming its holder, rollback.

use super::*;
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
