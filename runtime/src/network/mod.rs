//! Bridge networks: records on disk ([`NetworkStore`]), address management
//! ([`ipam`]), Linux bridges and veth pairs made over rtnetlink
//! ([`netlink`], [`attach`]) and the isolation between networks
//! ([`isolation`]). Everything is synchronous: it runs in berth's
//! single-threaded per-container monitor as well as in the CLI.
//!
//! A network is a Linux bridge holding the gateway address. A container
//! joins it through a veth pair whose peer is created directly inside the
//! container's network namespace (`eth0`, `eth1`, … in the order given).

pub mod attach;
pub mod ipam;
pub mod isolation;
pub mod nat;
pub mod netlink;
pub mod store;

use std::collections::BTreeMap;
use std::io;
use std::net::Ipv4Addr;

use serde::{Deserialize, Serialize};

pub use attach::{attach, detach};
pub use store::NetworkStore;

/// Bridge driver option naming the bridge interface.
pub const OPT_BRIDGE_NAME: &str = "com.docker.network.bridge.name";
/// Bridge driver option giving the MTU.
pub const OPT_MTU: &str = "com.docker.network.driver.mtu";
/// Bridge driver option: traffic between containers of the network (only `true` is supported).
pub const OPT_ENABLE_ICC: &str = "com.docker.network.bridge.enable_icc";

/// What a caller asks for when it creates a network.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NetworkSpec {
    pub name: String,
    pub labels: BTreeMap<String, String>,
    /// No route out: containers reach only each other.
    pub internal: bool,
    pub enable_ipv6: bool,
    pub mtu: Option<u32>,
    /// Bridge driver options (`com.docker.network.bridge.name`, `…driver.mtu`, …).
    pub driver_opts: BTreeMap<String, String>,
    /// At most one IPv4 pool is used; empty means automatic.
    pub ipam: Vec<IpamPool>,
}

/// One IPAM pool as Compose writes it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IpamPool {
    pub subnet: Option<String>,
    pub ip_range: Option<String>,
    pub gateway: Option<String>,
}

/// An address handed to a container.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Allocation {
    pub address: Ipv4Addr,
    pub mac: String,
}

/// A network as stored in `<root>/networks/<name>.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NetworkRecord {
    pub name: String,
    /// 64 hex digits.
    pub id: String,
    /// The bridge interface.
    pub bridge: String,
    /// `a.b.c.d/n`.
    pub subnet: String,
    pub gateway: Ipv4Addr,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip_range: Option<String>,
    pub internal: bool,
    pub labels: BTreeMap<String, String>,
    /// RFC 3339.
    pub created: String,
    /// The driver options as given.
    pub options: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mtu: Option<u32>,
    /// Addresses handed out, by container ID.
    #[serde(default)]
    pub endpoints: BTreeMap<String, Allocation>,
}

impl NetworkRecord {
    /// The subnet, parsed.
    pub fn subnet(&self) -> Result<ipam::Subnet, NetworkError> {
        self.subnet
            .parse()
            .map_err(|message| NetworkError::Invalid {
                network: self.name.clone(),
                message,
            })
    }
}

/// One container's place on one network: what [`attach`] needs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Endpoint {
    pub network: String,
    pub bridge: String,
    /// The host side of the veth pair (`veth` + 8 hex digits).
    pub host_veth: String,
    pub address: Ipv4Addr,
    pub prefix_len: u8,
    pub gateway: Ipv4Addr,
    /// `02:42:…` from the address unless the caller gave one.
    pub mac: String,
    pub internal: bool,
    pub mtu: Option<u32>,
}

/// What went wrong, naming the network and what was expected.
#[derive(Debug, thiserror::Error)]
pub enum NetworkError {
    #[error("network {0:?} not found")]
    NotFound(String),
    #[error("network {network:?}: {message}")]
    Invalid { network: String, message: String },
    #[error("network {network:?}: IPv6 is not supported yet")]
    Ipv6Unsupported { network: String },
    #[error("network {network:?} has {count} active endpoint(s) ({containers}): disconnect them first or force the removal")]
    InUse {
        network: String,
        count: usize,
        containers: String,
    },
    #[error("network {network:?}: {action}: {source}")]
    Netlink {
        network: String,
        action: String,
        #[source]
        source: io::Error,
    },
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: io::Error,
    },
}

fn netlink_err(
    network: &str,
    action: impl Into<String>,
) -> impl FnOnce(io::Error) -> NetworkError + '_ {
    let action = action.into();
    move |source| NetworkError::Netlink {
        network: network.to_string(),
        action,
        source,
    }
}

fn io_err(context: impl Into<String>) -> impl FnOnce(io::Error) -> NetworkError {
    let context = context.into();
    move |source| NetworkError::Io { context, source }
}
