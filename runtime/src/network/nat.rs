//! Outbound access for a non-internal network: masquerade (source NAT to
//! the address of whichever host interface the packet leaves by) and a
//! forward filter that lets into the bridge only replies and the bridge's
//! own traffic, the way Docker's `FORWARD` rules do.
//!
//! Each network gets its own nftables table, `ip berth_<bridge>`, so adding
//! or removing one network never touches another's rules or anyone else's
//! tables, and deleting the table removes everything in it at once. Only
//! packets from or to the network's subnet and bridge are matched: the
//! host's own traffic goes through these chains untouched.
//!
//! Replies coming back from the uplink are routed to the bridge only when
//! the host forwards IPv4, so [`enable_forwarding`] turns on
//! `net.ipv4.ip_forward` (as Docker and Podman do); the per-bridge setting
//! alone covers one direction.

use ipnetwork::{IpNetwork, Ipv4Network};
use rustables::expr::{Cmp, CmpOp, Meta, MetaType};
use rustables::{
    Batch, Chain, ChainPolicy, ChainType, Hook, HookClass, MsgType, ProtocolFamily, Rule, Table,
};

use super::ipam::Subnet;

/// The name of the table holding one bridge's rules.
pub fn table_name(bridge: &str) -> String {
    format!("berth_{bridge}")
}

fn interface_bytes(name: &str) -> Vec<u8> {
    let mut bytes = name.as_bytes().to_vec();
    bytes.push(0);
    bytes
}

fn network(subnet: &Subnet) -> Result<IpNetwork, String> {
    Ipv4Network::new(subnet.address, subnet.prefix_len)
        .map(IpNetwork::V4)
        .map_err(|e| format!("subnet {subnet}: {e}"))
}

/// Installs the masquerade and forward rules of `bridge` (replacing any
/// left from an earlier run).
pub fn install(bridge: &str, subnet: &Subnet) -> Result<(), String> {
    let _ = remove(bridge);
    let net = network(subnet)?;
    let err = |e: rustables::error::BuilderError| format!("nftables rule for {bridge}: {e}");
    let mut batch = Batch::new();
    let table = Table::new(ProtocolFamily::Ipv4).with_name(table_name(bridge));
    batch.add(&table, MsgType::Add);

    // postrouting: ip saddr SUBNET oifname != BRIDGE masquerade
    let mut post = Chain::new(&table).with_name("postrouting");
    post.set_hook(Hook::new(HookClass::PostRouting, 100));
    post.set_type(ChainType::Nat);
    batch.add(&post, MsgType::Add);
    let masquerade = Rule::new(&post)
        .map_err(err)?
        .snetwork(net)
        .map_err(err)?
        .with_expr(Meta::new(MetaType::OifName))
        .with_expr(Cmp::new(CmpOp::Neq, interface_bytes(bridge)))
        .masquerade();
    batch.add(&masquerade, MsgType::Add);

    // forward, for packets leaving by the bridge: replies and the bridge's
    // own hairpin traffic pass, anything else routed in from elsewhere is
    // dropped (published ports are served by a proxy on the host).
    let mut forward = Chain::new(&table).with_name("forward");
    forward.set_hook(Hook::new(HookClass::Forward, 0));
    forward.set_type(ChainType::Filter);
    forward.set_policy(ChainPolicy::Accept);
    batch.add(&forward, MsgType::Add);
    let replies = Rule::new(&forward)
        .map_err(err)?
        .oiface(bridge)
        .map_err(err)?
        .established()
        .map_err(err)?
        .accept();
    batch.add(&replies, MsgType::Add);
    let hairpin = Rule::new(&forward)
        .map_err(err)?
        .oiface(bridge)
        .map_err(err)?
        .iiface(bridge)
        .map_err(err)?
        .accept();
    batch.add(&hairpin, MsgType::Add);
    let inbound = Rule::new(&forward)
        .map_err(err)?
        .oiface(bridge)
        .map_err(err)?
        .dnetwork(net)
        .map_err(err)?
        .drop();
    batch.add(&inbound, MsgType::Add);
    batch
        .send()
        .map_err(|e| format!("nftables table {}: {e}", table_name(bridge)))
}

/// Removes the table of `bridge`; a missing table is not an error.
pub fn remove(bridge: &str) -> Result<(), String> {
    let name = table_name(bridge);
    let tables = rustables::list_tables().map_err(|e| format!("list nftables tables: {e}"))?;
    let present = tables
        .iter()
        .any(|t| t.get_name().map(String::as_str) == Some(name.as_str()));
    if !present {
        return Ok(());
    }
    let mut batch = Batch::new();
    batch.add(
        &Table::new(ProtocolFamily::Ipv4).with_name(name.clone()),
        MsgType::Del,
    );
    batch
        .send()
        .map_err(|e| format!("delete nftables table {name}: {e}"))
}

/// Turns on `net.ipv4.ip_forward` in the current network namespace; returns
/// whether it was off before.
pub fn enable_forwarding() -> std::io::Result<bool> {
    const PATH: &str = "/proc/sys/net/ipv4/ip_forward";
    if std::fs::read_to_string(PATH)?.trim() == "1" {
        return Ok(false);
    }
    std::fs::write(PATH, "1")?;
    Ok(true)
}
