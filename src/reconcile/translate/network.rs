//! The namespaces a container shares and how it meets the network:
//! `network_mode` ([`NetworkMode`]), `ipc`, `pid` and `uts`
//! ([`NamespaceMode`]), the networks it attaches to in order
//! ([`Attachment`]) and its `extra_hosts`. What names another container
//! comes back as a join for the caller to resolve to a container ID;
//! addresses and `host-gateway` are the caller's, which allocates them.

use berth_runtime::container::etc_files::{extra_host_address, HOST_GATEWAY};
use berth_runtime::container::{Namespace, NetworkNamespace};

use crate::compose::model::Service;

use super::FieldError;

/// `network_mode` as berth honours it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NetworkMode {
    /// Unset, `bridge` or `default`: the service's own networks.
    Networks,
    Host,
    None,
    /// `service:NAME` or `container:NAME`: that container's namespace.
    Join(NamespaceMode),
}

impl NetworkMode {
    /// The namespace the spec gets now; a join's path is the caller's.
    pub fn namespace(&self) -> NetworkNamespace {
        match self {
            NetworkMode::Host => NetworkNamespace::Host,
            NetworkMode::None => NetworkNamespace::None,
            NetworkMode::Networks | NetworkMode::Join(_) => NetworkNamespace::New,
        }
    }
}

/// Parses `network_mode`.
pub fn network_mode(value: Option<&str>) -> Result<NetworkMode, String> {
    let joined = |name: &str, make: fn(String) -> NamespaceMode| match name {
        "" => Err(format!("{:?} names no container", value.unwrap_or(""))),
        name => Ok(NetworkMode::Join(make(name.to_string()))),
    };
    match value {
        None | Some("bridge" | "default") => Ok(NetworkMode::Networks),
        Some("host") => Ok(NetworkMode::Host),
        Some("none") => Ok(NetworkMode::None),
        Some(mode) => match mode.split_once(':') {
            Some(("service", name)) => joined(name, NamespaceMode::Service),
            Some(("container", name)) => joined(name, NamespaceMode::Container),
            _ => Err(format!("{mode:?} is not supported (expected bridge, host, none, service:NAME or container:NAME)")),
        },
    }
}

/// The `ipc`, `pid` and `uts` namespaces of a container, and the other
/// containers' namespaces it joins (set to `New` until the caller resolves them).
#[derive(Debug)]
pub struct Namespaces {
    pub ipc: Namespace,
    pub pid: Namespace,
    pub uts: Namespace,
    pub joins: Vec<NamespaceJoin>,
}

/// `ipc`, `pid` and `uts` of `service`.
pub fn namespaces(service: &Service) -> Result<Namespaces, FieldError> {
    let mode = |field: &str, value: &Option<String>| {
        namespace_mode(field, value.as_deref()).map_err(|message| FieldError::new(field, message))
    };
    let (ipc, pid, uts) = (
        mode("ipc", &service.ipc)?,
        mode("pid", &service.pid)?,
        mode("uts", &service.uts)?,
    );
    if uts == NamespaceMode::Host && service.hostname.as_deref().is_some_and(|h| !h.is_empty()) {
        return Err(FieldError::new(
            "uts",
            "\"host\" cannot be combined with hostname: the container has the host's name".into(),
        ));
    }
    let mut joins = Vec::new();
    let mut namespace = |field: &'static str, mode: NamespaceMode| match mode {
        NamespaceMode::Private => Namespace::New,
        NamespaceMode::Host => Namespace::Host,
        target => {
            joins.push(NamespaceJoin { field, target });
            // The caller sets the peer's container ID.
            Namespace::New
        }
    };
    let (ipc, pid, uts) = (
        namespace("ipc", ipc),
        namespace("pid", pid),
        namespace("uts", uts),
    );
    Ok(Namespaces {
        ipc,
        pid,
        uts,
        joins,
    })
}

/// Another container's namespace a service joins.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamespaceJoin {
    /// `ipc` or `pid`.
    pub field: &'static str,
    pub target: NamespaceMode,
}

/// A parsed `ipc`, `pid` or `uts` value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NamespaceMode {
    /// The container's own namespace (`private`, `shareable`, `none`, or unset).
    Private,
    Host,
    /// `service:NAME`: replica 1 of that service.
    Service(String),
    /// `container:NAME`: a container by name or ID.
    Container(String),
}

/// Parses `ipc`, `pid` or `uts` (`field`) as Docker accepts them.
pub fn namespace_mode(field: &str, value: Option<&str>) -> Result<NamespaceMode, String> {
    let value = value.unwrap_or("");
    let mode = match (field, value) {
        (_, "") | ("ipc", "private" | "shareable" | "none") => Some(NamespaceMode::Private),
        (_, "host") => Some(NamespaceMode::Host),
        ("ipc" | "pid", _) => match value.split_once(':') {
            Some(("service", name)) if !name.is_empty() => {
                Some(NamespaceMode::Service(name.to_string()))
            }
            Some(("container", name)) if !name.is_empty() => {
                Some(NamespaceMode::Container(name.to_string()))
            }
            _ => None,
        },
        _ => None,
    };
    mode.ok_or_else(|| {
        let expected = match field {
            "ipc" => "private, shareable, none, host, service:NAME or container:NAME",
            "pid" => "host, service:NAME or container:NAME",
            _ => "host",
        };
        format!("invalid value {value:?} (expected {expected})")
    })
}

/// A network of the service's `networks:`, as the caller attaches it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attachment {
    /// The network's key in the project.
    pub key: String,
    pub ipv4_address: Option<std::net::Ipv4Addr>,
    /// The network's `mac_address`, else the service's.
    pub mac_address: Option<String>,
}

/// `networks:` in attach order: highest `priority` first, then by key.
pub fn attachments(service: &Service) -> Result<Vec<Attachment>, FieldError> {
    let mut attached: Vec<(i64, Attachment)> = Vec::new();
    for (key, options) in &service.networks {
        let options = options.as_ref();
        let ipv4_address = options
            .and_then(|o| o.ipv4_address.as_deref())
            .map(|ip| {
                ip.parse().map_err(|_| {
                    FieldError::new(
                        &format!("networks.{key}"),
                        format!("invalid ipv4_address {ip:?}"),
                    )
                })
            })
            .transpose()?;
        let mac_address = options
            .and_then(|o| o.mac_address.clone())
            .or_else(|| service.mac_address.clone());
        let priority = options.and_then(|o| o.priority).unwrap_or(0);
        attached.push((
            priority,
            Attachment {
                key: key.clone(),
                ipv4_address,
                mac_address,
            },
        ));
    }
    attached.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.key.cmp(&b.1.key)));
    Ok(attached.into_iter().map(|(_, a)| a).collect())
}

/// One `extra_hosts:` entry, `HOST=ADDRESS`; the address (an IP or
/// `host-gateway`) is resolved by the caller, which knows the gateway.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExtraHost {
    pub host: String,
    pub address: String,
}

/// `extra_hosts:` of `service`.
pub fn extra_hosts(service: &Service) -> Result<Vec<ExtraHost>, FieldError> {
    service
        .extra_hosts
        .iter()
        .enumerate()
        .map(|(index, entry)| {
            let fail = |message: String| FieldError::new(&format!("extra_hosts[{index}]"), message);
            let (host, address) = entry
                .split_once('=')
                .ok_or_else(|| fail(format!("invalid entry {entry:?} (expected HOST=ADDRESS)")))?;
            if address != HOST_GATEWAY {
                extra_host_address(address, None).map_err(fail)?;
            }
            Ok(ExtraHost {
                host: host.to_string(),
                address: address.to_string(),
            })
        })
        .collect()
}
