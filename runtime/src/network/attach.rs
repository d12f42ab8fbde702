//! Plugging a network namespace into networks: one veth pair per endpoint,
//! the host end enslaved to the bridge, the peer created directly inside
//! the namespace (netlink's net-ns-fd attribute) as `eth0`, `eth1`, … with
//! its MAC, address, MTU; `lo` up; a default route via the gateway of the
//! first non-internal network. [`detach`] deletes the host ends that still
//! exist (they vanish by themselves when the namespace dies).

use std::fs::File;
use std::path::Path;

use super::netlink::Netlink;
use super::{ipam, netlink_err, Endpoint, NetworkError};

/// Connects the namespace `netns` (e.g. `/proc/PID/ns/net`) to `endpoints`, in order.
/// On failure, the veths made so far are deleted again.
pub fn attach(netns: &Path, endpoints: &[Endpoint]) -> Result<(), NetworkError> {
    let mut host = Netlink::open().map_err(netlink_err("", "open netlink"))?;
    let result = attach_inner(&mut host, netns, endpoints);
    if result.is_err() {
        for endpoint in endpoints {
            let _ = host.delete_link(&endpoint.host_veth);
        }
    }
    result
}

fn attach_inner(
    host: &mut Netlink,
    netns: &Path,
    endpoints: &[Endpoint],
) -> Result<(), NetworkError> {
    let ns_file = File::open(netns).map_err(|source| NetworkError::Io {
        context: format!("open network namespace {}", netns.display()),
        source,
    })?;
    let mut inner = Netlink::open_in(netns).map_err(|source| NetworkError::Io {
        context: format!("open netlink in {}", netns.display()),
        source,
    })?;
    for (i, endpoint) in endpoints.iter().enumerate() {
        let net = endpoint.network.as_str();
        let ifname = format!("eth{i}");
        let mac = ipam::parse_mac(&endpoint.mac).ok_or_else(|| NetworkError::Invalid {
            network: net.to_string(),
            message: format!("invalid MAC address {:?}", endpoint.mac),
        })?;
        let bridge = host
            .link_index(&endpoint.bridge)
            .map_err(netlink_err(net, "look up the bridge"))?
            .ok_or_else(|| NetworkError::Invalid {
                network: net.to_string(),
                message: format!("bridge {} does not exist", endpoint.bridge),
            })?;
        // A host end left by an earlier attach of the same container.
        host.delete_link(&endpoint.host_veth).map_err(netlink_err(
            net,
            format!("delete stale {}", endpoint.host_veth),
        ))?;
        host.add_veth(
            &endpoint.host_veth,
            &ifname,
            &ns_file,
            endpoint.mtu,
            Some(mac),
        )
        .map_err(netlink_err(
            net,
            format!("create veth {} / {ifname}", endpoint.host_veth),
        ))?;
        let index = host
            .link_index(&endpoint.host_veth)
            .map_err(netlink_err(net, "look up the veth"))?
            .ok_or_else(|| NetworkError::Invalid {
                network: net.to_string(),
                message: format!("veth {} vanished", endpoint.host_veth),
            })?;
        host.set_link(index, Some(bridge), None)
            .map_err(netlink_err(
                net,
                format!("enslave {} to {}", endpoint.host_veth, endpoint.bridge),
            ))?;
        let peer = inner
            .link_index(&ifname)
            .map_err(netlink_err(
                net,
                format!("look up {ifname} in the namespace"),
            ))?
            .ok_or_else(|| NetworkError::Invalid {
                network: net.to_string(),
                message: format!("{ifname} did not appear in {}", netns.display()),
            })?;
        inner
            .add_address(peer, endpoint.address, endpoint.prefix_len)
            .map_err(netlink_err(
                net,
                format!(
                    "add {}/{} to {ifname}",
                    endpoint.address, endpoint.prefix_len
                ),
            ))?;
        inner
            .set_link(peer, None, None)
            .map_err(netlink_err(net, format!("set {ifname} up")))?;
    }
    if let Some(lo) = inner
        .link_index("lo")
        .map_err(netlink_err("", "look up lo"))?
    {
        inner
            .set_link(lo, None, None)
            .map_err(netlink_err("", "set lo up"))?;
    }
    if let Some(first) = endpoints.iter().find(|e| !e.internal) {
        inner.add_default_route(first.gateway).map_err(netlink_err(
            &first.network,
            format!("add the default route via {}", first.gateway),
        ))?;
    }
    Ok(())
}

/// Deletes the host ends of `endpoints` that still exist, in parallel: each
/// deletion waits for the kernel's RCU grace period (~20 ms here), and
/// parallel deletions share their waits.
pub fn detach(endpoints: &[Endpoint]) -> Result<(), NetworkError> {
    let delete = |endpoint: &Endpoint| -> Result<(), NetworkError> {
        let mut host = Netlink::open().map_err(netlink_err(&endpoint.network, "open netlink"))?;
        host.delete_link(&endpoint.host_veth).map_err(netlink_err(
            &endpoint.network,
            format!("delete {}", endpoint.host_veth),
        ))?;
        Ok(())
    };
    if endpoints.len() <= 1 {
        return endpoints.iter().try_for_each(delete);
    }
    std::thread::scope(|scope| {
        let handles: Vec<_> = endpoints
            .iter()
            .map(|endpoint| scope.spawn(move || delete(endpoint)))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or(Ok(())))
            .collect::<Result<Vec<()>, _>>()
            .map(drop)
    })
}
