//! Published ports: a userland proxy from host sockets to a container's
//! address. The host socket is bound first, so a port in use fails at once
//! (naming the process that holds it, when it can be found), and publishing
//! a list is all-or-nothing. TCP connections are relayed in both directions
//! (half-close kept); UDP datagrams go through a per-client flow with an
//! idle timeout, so replies reach the client that asked.

mod holder;
mod tcp;
mod udp;

use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpListener, UdpSocket};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;

use serde::{Deserialize, Serialize};

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

/// Published ports of one container; dropping it closes them.
pub struct Publication {
    pub ports: Vec<PublishedPort>,
    stop: Arc<AtomicBool>,
    threads: Vec<JoinHandle<()>>,
}

impl Drop for Publication {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        for thread in self.threads.drain(..) {
            let _ = thread.join();
        }
    }
}

/// Binds every mapping (all or nothing), then starts relaying.
pub fn publish_all(mappings: &[PortMapping]) -> Result<Publication, PortError> {
    let mut bound = Vec::new();
    for mapping in mappings {
        // An error drops what was bound so far: nothing stays half-made.
        let (socket, port) = bind(mapping)?;
        bound.push((mapping.clone(), socket, port));
    }
    let stop = Arc::new(AtomicBool::new(false));
    let mut ports = Vec::new();
    let mut threads = Vec::new();
    for (mapping, socket, port) in bound {
        ports.push(PublishedPort {
            host_ip: mapping.host_ip.unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED)),
            host_port: port,
            protocol: mapping.protocol,
            target: mapping.target,
        });
        let stop = stop.clone();
        threads.push(match socket {
            Bound::Tcp(listener) => {
                std::thread::spawn(move || tcp::serve(listener, mapping.target, &stop))
            }
            Bound::Udp(socket) => {
                std::thread::spawn(move || udp::serve(socket, mapping.target, &stop))
            }
        });
    }
    Ok(Publication {
        ports,
        stop,
        threads,
    })
}

#[cfg(test)]
mod tests;
