//! Published ports: a userland proxy from host sockets to a container's
//! address. The host socket is bound first, so a port in use fails at once
//! (naming the process that holds it, when it can be found), and publishing
//! a list is all-or-nothing. TCP connections are relayed in both directions
//! (half-close kept); UDP datagrams go through a per-client flow with an
//! idle timeout, so replies reach the client that asked. Relays are tasks
//! on the serving runtime ([`crate::serving`]), bounded per port by
//! [`Limits`]: connections and flows past the cap are refused (TCP) or
//! evict the least recently used flow (UDP), and idle ones are closed.

mod holder;
mod tcp;
mod udp;

use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpListener, UdpSocket};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::serving::{self, Tasks};

pub use holder::port_holder;

/// TCP or UDP.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Protocol {
    Tcp,
    Udp,
}

impl std::fmt::Display for Protocol {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Protocol::Tcp => "tcp",
            Protocol::Udp => "udp",
        })
    }
}

/// One port to publish.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PortMapping {
    /// Host address to listen on (all addresses when unset).
    pub host_ip: Option<IpAddr>,
    /// Host port (a free one when unset).
    pub host_port: Option<u16>,
    pub protocol: Protocol,
    /// Where the container listens (its address on its network).
    pub target: SocketAddr,
}

/// A port being published.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublishedPort {
    pub host_ip: IpAddr,
    pub host_port: u16,
    pub protocol: Protocol,
    pub target: SocketAddr,
}

/// Why a port could not be published.
#[derive(Debug, thiserror::Error)]
pub enum PortError {
    #[error("port {port}/{protocol} is already in use{}", holder.as_ref().map(|h| format!(" by {h}")).unwrap_or_default())]
    InUse {
        port: u16,
        protocol: Protocol,
        holder: Option<String>,
    },
    #[error("port {port}/{protocol}: {source}")]
    Io {
        port: u16,
        protocol: Protocol,
        #[source]
        source: std::io::Error,
    },
}

enum Bound {
    Tcp(TcpListener),
    Udp(UdpSocket),
}

fn bind(mapping: &PortMapping) -> Result<(Bound, u16), PortError> {
    let ip = mapping.host_ip.unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
    let port = mapping.host_port.unwrap_or(0);
    let address = SocketAddr::new(ip, port);
    let fail = |source: std::io::Error| {
        if source.kind() == std::io::ErrorKind::AddrInUse {
            PortError::InUse {
                port,
                protocol: mapping.protocol,
                holder: port_holder(port, mapping.protocol),
            }
        } else {
            PortError::Io {
                port,
                protocol: mapping.protocol,
                source,
            }
        }
    };
    let bound = match mapping.protocol {
        Protocol::Tcp => Bound::Tcp(TcpListener::bind(address).map_err(fail)?),
        Protocol::Udp => Bound::Udp(UdpSocket::bind(address).map_err(fail)?),
    };
    let local = match &bound {
        Bound::Tcp(l) => l.local_addr(),
        Bound::Udp(s) => s.local_addr(),
    }
    .map_err(|source| PortError::Io {
        port,
        protocol: mapping.protocol,
        source,
    })?;
    Ok((bound, local.port()))
}

/// What one published port may hold at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// TCP connections relayed at once; more are closed on arrival.
    pub tcp_connections: usize,
    /// A TCP connection with no byte either way for this long is closed.
    pub tcp_idle: Duration,
    /// UDP flows (client addresses) at once; a new one evicts the least
    /// recently used.
    pub udp_flows: usize,
    /// A UDP flow with no datagram either way for this long is dropped.
    pub udp_idle: Duration,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            tcp_connections: 256,
            tcp_idle: Duration::from_secs(3600),
            udp_flows: 256,
            udp_idle: Duration::from_secs(60),
        }
    }
}

/// Published ports of one container; dropping it closes them.
pub struct Publication {
    pub ports: Vec<PublishedPort>,
    _tasks: Tasks,
}

/// Binds every mapping (all or nothing), then starts relaying.
pub fn publish_all(mappings: &[PortMapping]) -> Result<Publication, PortError> {
    publish_all_with(mappings, Limits::default())
}

/// [`publish_all`] with other limits.
pub fn publish_all_with(
    mappings: &[PortMapping],
    limits: Limits,
) -> Result<Publication, PortError> {
    let mut bound = Vec::new();
    for mapping in mappings {
        // An error drops what was bound so far: nothing stays half-made.
        let (socket, port) = bind(mapping)?;
        bound.push((mapping.clone(), socket, port));
    }
    let handle = serving::handle().map_err(|source| PortError::Io {
        port: 0,
        protocol: mappings.first().map_or(Protocol::Tcp, |m| m.protocol),
        source,
    })?;
    let mut tasks = Tasks::new(handle.clone());
    let _runtime = handle.enter();
    let mut ports = Vec::new();
    for (mapping, socket, port) in bound {
        let fail = |source| PortError::Io {
            port,
            protocol: mapping.protocol,
            source,
        };
        ports.push(PublishedPort {
            host_ip: mapping.host_ip.unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED)),
            host_port: port,
            protocol: mapping.protocol,
            target: mapping.target,
        });
        let alive = tasks.alive();
        match socket {
            Bound::Tcp(listener) => {
                listener.set_nonblocking(true).map_err(fail)?;
                let listener = tokio::net::TcpListener::from_std(listener).map_err(fail)?;
                tasks.spawn(tcp::serve(listener, mapping.target, limits, alive));
            }
            Bound::Udp(socket) => {
                socket.set_nonblocking(true).map_err(fail)?;
                let socket = tokio::net::UdpSocket::from_std(socket).map_err(fail)?;
                tasks.spawn(udp::serve(socket, mapping.target, limits, alive));
            }
        }
    }
    Ok(Publication {
        ports,
        _tasks: tasks,
    })
}

#[cfg(test)]
mod tests;
