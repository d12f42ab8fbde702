//! A small synchronous rtnetlink client over `netlink-sys`: one socket, one
//! request at a time, acknowledged or dumped. Messages are built with
//! `netlink-packet-route`. A socket belongs to the network namespace it was
//! opened in; [`Netlink::open_in`] opens one inside another namespace from a
//! short-lived thread that joins it (threads may switch network namespace).

use std::io;
use std::net::{IpAddr, Ipv4Addr};
use std::os::fd::AsFd;
use std::path::Path;

use netlink_packet_core::{
    NetlinkHeader, NetlinkMessage, NetlinkPayload, NLM_F_ACK, NLM_F_CREATE, NLM_F_DUMP, NLM_F_EXCL,
    NLM_F_REQUEST,
};
use netlink_packet_route::address::{AddressAttribute, AddressMessage};
use netlink_packet_route::link::{
    InfoData, InfoKind, InfoVeth, LinkAttribute, LinkFlags, LinkInfo, LinkMessage,
};
use netlink_packet_route::route::{
    RouteAddress, RouteAttribute, RouteMessage, RouteProtocol, RouteScope, RouteType,
};
use netlink_packet_route::rule::{RuleAction, RuleAttribute, RuleMessage};
use netlink_packet_route::{AddressFamily, RouteNetlinkMessage};
use netlink_sys::{protocols::NETLINK_ROUTE, Socket, SocketAddr};

/// The protocol number berth's policy rules carry, so it only ever removes its own.
pub const RULE_PROTOCOL: u8 = 201;

/// A connected rtnetlink socket.
pub struct Netlink {
    socket: Socket,
    seq: u32,
}

/// An IPv4 address or route seen on the host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostNet {
    pub address: Ipv4Addr,
    pub prefix_len: u8,
    /// Interface name (empty when unknown).
    pub interface: String,
    /// `route` or `address`.
    pub kind: &'static str,
}

/// One of berth's policy rules (`from SRC to DST prohibit`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    pub priority: u32,
    pub src: Option<(Ipv4Addr, u8)>,
    pub dst: Option<(Ipv4Addr, u8)>,
}

impl Netlink {
    /// A socket in the calling thread's network namespace.
    pub fn open() -> io::Result<Netlink> {
        let mut socket = Socket::new(NETLINK_ROUTE)?;
        socket.bind_auto()?;
        socket.connect(&SocketAddr::new(0, 0))?;
        let _ = socket.set_ext_ack(true);
        Ok(Netlink { socket, seq: 1 })
    }

    /// A socket inside the network namespace `netns` (an nsfs file such as
    /// `/proc/PID/ns/net`). The calling thread enters the namespace only to
    /// make the socket and then returns to its own (a socket keeps the
    /// namespace it was made in). No extra thread: the per-container monitor
    /// calls this after `unshare(CLONE_NEWPID)`, where threads cannot start.
    pub fn open_in(netns: &Path) -> io::Result<Netlink> {
        let target = std::fs::File::open(netns)?;
        let own = std::fs::File::open("/proc/thread-self/ns/net")?;
        nix::sched::setns(target.as_fd(), nix::sched::CloneFlags::CLONE_NEWNET)
            .map_err(io::Error::from)?;
        let socket = Netlink::open();
        nix::sched::setns(own.as_fd(), nix::sched::CloneFlags::CLONE_NEWNET)
            .map_err(io::Error::from)?;
        socket
    }

    fn send(&mut self, message: RouteNetlinkMessage, flags: u16) -> io::Result<u32> {
        self.seq = self.seq.wrapping_add(1);
        let mut header = NetlinkHeader::default();
        header.flags = flags;
        header.sequence_number = self.seq;
        let mut packet = NetlinkMessage::new(header, NetlinkPayload::InnerMessage(message));
        packet.finalize();
        let mut buf = vec![0u8; packet.buffer_len()];
        packet.serialize(&mut buf);
        self.socket.send(&buf, 0)?;
        Ok(self.seq)
    }

    /// Reads replies to `seq` until the ACK (or the end of a dump).
    fn receive(&mut self, seq: u32) -> io::Result<Vec<RouteNetlinkMessage>> {
        let mut out = Vec::new();
        loop {
            let (buf, _) = self.socket.recv_from_full()?;
            let mut offset = 0;
            while offset < buf.len() {
                let packet = NetlinkMessage::<RouteNetlinkMessage>::deserialize(&buf[offset..])
                    .map_err(|e| io::Error::other(format!("netlink decode: {e}")))?;
                let len = packet.header.length as usize;
                if len == 0 {
                    break;
                }
                offset += (len + 3) & !3;
                if packet.header.sequence_number != seq {
                    continue;
                }
                match packet.payload {
                    NetlinkPayload::Done(_) => return Ok(out),
                    NetlinkPayload::Error(err) => {
                        return match err.code {
                            None => Ok(out),
                            Some(code) => Err(io::Error::from_raw_os_error(-code.get())),
                        }
                    }
                    NetlinkPayload::InnerMessage(m) => out.push(m),
                    _ => {}
                }
            }
        }
    }

    /// Sends a change and waits for its acknowledgement.
    fn request(&mut self, message: RouteNetlinkMessage, extra: u16) -> io::Result<()> {
        let seq = self.send(message, NLM_F_REQUEST | NLM_F_ACK | extra)?;
        self.receive(seq).map(drop)
    }

    fn dump(&mut self, message: RouteNetlinkMessage) -> io::Result<Vec<RouteNetlinkMessage>> {
        let seq = self.send(message, NLM_F_REQUEST | NLM_F_DUMP)?;
        self.receive(seq)
    }

    /// Every interface: (index, name).
    pub fn links(&mut self) -> io::Result<Vec<(u32, String)>> {
        let found = self.dump(RouteNetlinkMessage::GetLink(LinkMessage::default()))?;
        Ok(found
            .into_iter()
            .filter_map(|m| match m {
                RouteNetlinkMessage::NewLink(link) => {
                    let name = link.attributes.iter().find_map(|a| match a {
                        LinkAttribute::IfName(n) => Some(n.clone()),
                        _ => None,
                    })?;
                    Some((link.header.index, name))
                }
                _ => None,
            })
            .collect())
    }

    /// The index of the interface called `name`, if there is one.
    pub fn link_index(&mut self, name: &str) -> io::Result<Option<u32>> {
        let mut message = LinkMessage::default();
        message
            .attributes
            .push(LinkAttribute::IfName(name.to_string()));
        let seq = self.send(
            RouteNetlinkMessage::GetLink(message),
            NLM_F_REQUEST | NLM_F_ACK,
        )?;
        match self.receive(seq) {
            Ok(found) => Ok(found.into_iter().find_map(|m| match m {
                RouteNetlinkMessage::NewLink(link) => Some(link.header.index),
                _ => None,
            })),
            Err(err) if err.raw_os_error() == Some(libc::ENODEV) => Ok(None),
            Err(err) => Err(err),
        }
    }

    /// Creates a bridge.
    pub fn add_bridge(&mut self, name: &str, mtu: Option<u32>) -> io::Result<()> {
        let mut message = LinkMessage::default();
        message
            .attributes
            .push(LinkAttribute::IfName(name.to_string()));
        if let Some(mtu) = mtu {
            message.attributes.push(LinkAttribute::Mtu(mtu));
        }
        message
            .attributes
            .push(LinkAttribute::LinkInfo(vec![LinkInfo::Kind(
                InfoKind::Bridge,
            )]));
        self.request(
            RouteNetlinkMessage::NewLink(message),
            NLM_F_CREATE | NLM_F_EXCL,
        )
    }

    /// Creates a veth pair: `host` here, `peer` directly inside the namespace
    /// open as `peer_netns`, named `peer_name` there.
    pub fn add_veth(
        &mut self,
        host: &str,
        peer_name: &str,
        peer_netns: &std::fs::File,
        mtu: Option<u32>,
        peer_mac: Option<[u8; 6]>,
    ) -> io::Result<()> {
        use std::os::fd::AsRawFd;
        let mut peer = LinkMessage::default();
        peer.attributes
            .push(LinkAttribute::IfName(peer_name.to_string()));
        peer.attributes
            .push(LinkAttribute::NetNsFd(peer_netns.as_raw_fd()));
        if let Some(mac) = peer_mac {
            peer.attributes.push(LinkAttribute::Address(mac.to_vec()));
        }
        let mut message = LinkMessage::default();
        message
            .attributes
            .push(LinkAttribute::IfName(host.to_string()));
        if let Some(mtu) = mtu {
            message.attributes.push(LinkAttribute::Mtu(mtu));
            peer.attributes.push(LinkAttribute::Mtu(mtu));
        }
        message.attributes.push(LinkAttribute::LinkInfo(vec![
            LinkInfo::Kind(InfoKind::Veth),
            LinkInfo::Data(InfoData::Veth(InfoVeth::Peer(peer))),
        ]));
        self.request(
            RouteNetlinkMessage::NewLink(message),
            NLM_F_CREATE | NLM_F_EXCL,
        )
    }

    /// Sets a link up, and optionally its controller (bridge) and MTU.
    pub fn set_link(
        &mut self,
        index: u32,
        controller: Option<u32>,
        mtu: Option<u32>,
    ) -> io::Result<()> {
        let mut message = LinkMessage::default();
        message.header.index = index;
        message.header.flags = LinkFlags::Up;
        message.header.change_mask = LinkFlags::Up;
        if let Some(controller) = controller {
            message
                .attributes
                .push(LinkAttribute::Controller(controller));
        }
        if let Some(mtu) = mtu {
            message.attributes.push(LinkAttribute::Mtu(mtu));
        }
        self.request(RouteNetlinkMessage::SetLink(message), 0)
    }

    /// Deletes an interface; `Ok(false)` when it was already gone.
    pub fn delete_link(&mut self, name: &str) -> io::Result<bool> {
        let mut message = LinkMessage::default();
        message
            .attributes
            .push(LinkAttribute::IfName(name.to_string()));
        match self.request(RouteNetlinkMessage::DelLink(message), 0) {
            Ok(()) => Ok(true),
            Err(err) if err.raw_os_error() == Some(libc::ENODEV) => Ok(false),
            Err(err) => Err(err),
        }
    }

    /// Adds an IPv4 address to an interface.
    pub fn add_address(&mut self, index: u32, address: Ipv4Addr, prefix_len: u8) -> io::Result<()> {
        let mut message = AddressMessage::default();
        message.header.family = AddressFamily::Inet;
        message.header.prefix_len = prefix_len;
        message.header.index = index;
        message
            .attributes
            .push(AddressAttribute::Local(IpAddr::V4(address)));
        message
            .attributes
            .push(AddressAttribute::Address(IpAddr::V4(address)));
        let broadcast = super::ipam::broadcast(address, prefix_len);
        message
            .attributes
            .push(AddressAttribute::Broadcast(broadcast));
        match self.request(
            RouteNetlinkMessage::NewAddress(message),
            NLM_F_CREATE | NLM_F_EXCL,
        ) {
            Err(err) if err.raw_os_error() == Some(libc::EEXIST) => Ok(()),
            other => other,
        }
    }

    /// Adds a default route via `gateway`.
    pub fn add_default_route(&mut self, gateway: Ipv4Addr) -> io::Result<()> {
        let mut message = RouteMessage::default();
        message.header.address_family = AddressFamily::Inet;
        message.header.table = libc::RT_TABLE_MAIN;
        message.header.protocol = RouteProtocol::Boot;
        message.header.scope = RouteScope::Universe;
        message.header.kind = RouteType::Unicast;
        message
            .attributes
            .push(RouteAttribute::Gateway(RouteAddress::Inet(gateway)));
        self.request(
            RouteNetlinkMessage::NewRoute(message),
            NLM_F_CREATE | NLM_F_EXCL,
        )
    }

    /// Every IPv4 route (all tables) and address in this namespace.
    pub fn host_networks(&mut self) -> io::Result<Vec<HostNet>> {
        let names: std::collections::HashMap<u32, String> = self.links()?.into_iter().collect();
        let mut found = Vec::new();
        let mut route = RouteMessage::default();
        route.header.address_family = AddressFamily::Inet;
        for message in self.dump(RouteNetlinkMessage::GetRoute(route))? {
            let RouteNetlinkMessage::NewRoute(route) = message else {
                continue;
            };
            if route.header.address_family != AddressFamily::Inet
                || route.header.kind != RouteType::Unicast
                || route.header.destination_prefix_length == 0
            {
                continue;
            }
            let mut dst = None;
            let mut oif = None;
            for attr in &route.attributes {
                match attr {
                    RouteAttribute::Destination(RouteAddress::Inet(a)) => dst = Some(*a),
                    RouteAttribute::Oif(i) => oif = Some(*i),
                    _ => {}
                }
            }
            if let Some(address) = dst {
                found.push(HostNet {
                    address,
                    prefix_len: route.header.destination_prefix_length,
                    interface: oif.and_then(|i| names.get(&i).cloned()).unwrap_or_default(),
                    kind: "route",
                });
            }
        }
        let mut address = AddressMessage::default();
        address.header.family = AddressFamily::Inet;
        for message in self.dump(RouteNetlinkMessage::GetAddress(address))? {
            let RouteNetlinkMessage::NewAddress(a) = message else {
                continue;
            };
            for attr in &a.attributes {
                if let AddressAttribute::Local(IpAddr::V4(ip)) = attr {
                    found.push(HostNet {
                        address: *ip,
                        prefix_len: 32,
                        interface: names.get(&a.header.index).cloned().unwrap_or_default(),
                        kind: "address",
                    });
                }
            }
        }
        Ok(found)
    }

    fn rule_message(rule: &Rule) -> RuleMessage {
        let mut message = RuleMessage::default();
        message.header.family = AddressFamily::Inet;
        message.header.action = RuleAction::Prohibit;
        message
            .attributes
            .push(RuleAttribute::Priority(rule.priority));
        message
            .attributes
            .push(RuleAttribute::Protocol(RouteProtocol::from(RULE_PROTOCOL)));
        if let Some((ip, len)) = rule.src {
            message.header.src_len = len;
            message
                .attributes
                .push(RuleAttribute::Source(IpAddr::V4(ip)));
        }
        if let Some((ip, len)) = rule.dst {
            message.header.dst_len = len;
            message
                .attributes
                .push(RuleAttribute::Destination(IpAddr::V4(ip)));
        }
        message
    }

    /// Adds a `prohibit` policy rule (an existing identical rule is fine).
    pub fn add_rule(&mut self, rule: &Rule) -> io::Result<()> {
        match self.request(
            RouteNetlinkMessage::NewRule(Self::rule_message(rule)),
            NLM_F_CREATE | NLM_F_EXCL,
        ) {
            Err(err) if err.raw_os_error() == Some(libc::EEXIST) => Ok(()),
            other => other,
        }
    }

    /// Removes a rule added by [`Netlink::add_rule`]; a missing one is fine.
    pub fn delete_rule(&mut self, rule: &Rule) -> io::Result<()> {
        match self.request(RouteNetlinkMessage::DelRule(Self::rule_message(rule)), 0) {
            Err(err) if err.raw_os_error() == Some(libc::ENOENT) => Ok(()),
            other => other,
        }
    }

    /// berth's own IPv4 policy rules (those carrying [`RULE_PROTOCOL`]).
    pub fn berth_rules(&mut self) -> io::Result<Vec<Rule>> {
        let mut query = RuleMessage::default();
        query.header.family = AddressFamily::Inet;
        let mut rules = Vec::new();
        for message in self.dump(RouteNetlinkMessage::GetRule(query))? {
            let RouteNetlinkMessage::NewRule(rule) = message else {
                continue;
            };
            let mut found = Rule {
                priority: 0,
                src: None,
                dst: None,
            };
            let mut ours = false;
            for attr in &rule.attributes {
                match attr {
                    RuleAttribute::Priority(p) => found.priority = *p,
                    RuleAttribute::Protocol(p) => ours = u8::from(*p) == RULE_PROTOCOL,
                    RuleAttribute::Source(IpAddr::V4(ip)) => {
                        found.src = Some((*ip, rule.header.src_len))
                    }
                    RuleAttribute::Destination(IpAddr::V4(ip)) => {
                        found.dst = Some((*ip, rule.header.dst_len))
                    }
                    _ => {}
                }
            }
            if ours {
                rules.push(found);
            }
        }
        Ok(rules)
    }
}
