//! Before a container is made: are the fixed host ports it publishes free?
//! (The supervisor binds them when the container starts; see
//! `supervisor/ports.rs`.)

use std::net::{IpAddr, Ipv4Addr, TcpListener, UdpSocket};

use berth_runtime::ports::{port_holder, PortError, Protocol};

use super::EngineError;
use crate::contract::annotations::PortRequest;

/// Fails when a fixed host port is taken by something other than this
/// project's supervisor (which holds the ports of containers being replaced).
pub(super) fn check_ports_free(
    service_name: &str,
    requests: &[PortRequest],
    supervisor_pid: Option<u32>,
) -> Result<(), EngineError> {
    for request in requests.iter().filter(|r| r.host_ports.len() == 1) {
        let port = request.host_ports[0];
        let ip = request.host_ip.unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
        let free = match request.protocol {
            Protocol::Tcp => TcpListener::bind((ip, port)).is_ok(),
            Protocol::Udp => UdpSocket::bind((ip, port)).is_ok(),
        };
        if free {
            continue;
        }
        let holder = port_holder(port, request.protocol);
        let ours = |holder: &String| {
            supervisor_pid.is_some_and(|pid| holder.starts_with(&format!("process {pid} ")))
        };
        if holder.as_ref().is_some_and(ours) {
            continue;
        }
        return Err(EngineError::PortInUse {
            service: service_name.to_string(),
            source: PortError::InUse {
                port,
                protocol: request.protocol,
                holder,
            },
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_port_held_by_another_process_is_named_with_its_holder() {
        let held = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
        let port = held.local_addr().unwrap().port();
        let request = PortRequest {
            host_ip: Some(IpAddr::V4(Ipv4Addr::LOCALHOST)),
            host_ports: vec![port],
            target: 80,
            protocol: Protocol::Tcp,
        };
        let err = check_ports_free("web", std::slice::from_ref(&request), None).unwrap_err();
        assert!(
            matches!(&err, EngineError::PortInUse { service, source: PortError::InUse { port: p, .. } } if service == "web" && *p == port),
            "{err:?}"
        );
        // Held by this project's supervisor (here: this process): free.
        check_ports_free("web", &[request], Some(std::process::id())).unwrap();
        drop(held);
    }
}
