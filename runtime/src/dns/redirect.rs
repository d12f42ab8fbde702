//! `127.0.0.11:53` -> `127.0.0.11:PORT` (UDP and TCP) with an nftables DNAT
//! in the calling thread's network namespace (berth's own `ip berth_dns`
//! table, hook `output`). The server's sockets use a random port, so a
//! container may bind port 53 itself (any address) and both keep working,
//! the way Docker's embedded DNS does with iptables.

use std::net::{IpAddr, Ipv4Addr};

use rustables::expr::{Immediate, Nat, NatType, Register};
use rustables::{
    Batch, Chain, ChainType, Hook, HookClass, MsgType, Protocol, ProtocolFamily, Rule, Table,
};

/// berth's table in the container's namespace.
pub const TABLE: &str = "berth_dns";

/// Installs the redirect; call from a thread inside the container's namespace.
pub fn redirect_to(address: Ipv4Addr, port: u16) -> Result<(), String> {
    let mut batch = Batch::new();
    let table = Table::new(ProtocolFamily::Ipv4).with_name(TABLE);
    // add + delete + add: whatever an earlier call left goes, in the same
    // atomic batch, so the redirect points at this port only.
    batch.add(&table, MsgType::Add);
    batch.add(&table, MsgType::Del);
    batch.add(&table, MsgType::Add);
    let mut chain = Chain::new(&table).with_name("output");
    chain.set_hook(Hook::new(HookClass::Out, -100));
    chain.set_type(ChainType::Nat);
    batch.add(&chain, MsgType::Add);
    for protocol in [Protocol::UDP, Protocol::TCP] {
        let rule = Rule::new(&chain)
            .map_err(|e| e.to_string())?
            .daddr(IpAddr::V4(address))
            .dport(53, protocol)
            .with_expr(Immediate::new_data(
                address.octets().to_vec(),
                Register::Reg1,
            ))
            .with_expr(Immediate::new_data(
                port.to_be_bytes().to_vec(),
                Register::Reg2,
            ))
            .with_expr(
                Nat::default()
                    .with_nat_type(NatType::DNat)
                    .with_family(ProtocolFamily::Ipv4)
                    .with_ip_register(Register::Reg1)
                    .with_port_register(Register::Reg2),
            );
        batch.add(&rule, MsgType::Add);
    }
    batch
        .send()
        .map_err(|e| format!("nftables redirect of {address}:53 to port {port}: {e}"))
}
