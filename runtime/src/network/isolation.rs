//! Isolation between networks with IPv4 policy routing rules, not netfilter.
//!
//! Traffic inside one network is bridged (layer 2) and never routed, so
//! rules do not affect it. Traffic between two berth networks is routed by
//! the host; for every pair of networks berth adds `from A to B prohibit`
//! and `from B to A prohibit`, and for an internal network `from S
//! prohibit`, so nothing it sends is routed anywhere (the host's own
//! addresses stay reachable: the `local` table is looked up at priority 0,
//! before these rules, so the host can still talk to its containers). The rules carry berth's own protocol
//! number ([`netlink::RULE_PROTOCOL`]) and priority [`RULE_PRIORITY`], and
//! only rules carrying both are ever removed.
//!
//! Forwarding is enabled per bridge (`net.ipv4.conf.<bridge>.forwarding`)
//! for non-internal networks; outbound NAT and the global forwarding switch
//! are in [`super::nat`].

use std::io;

use super::ipam::Subnet;
use super::netlink::{Netlink, Rule};

/// Priority of berth's rules: after `local` (0), before `main` (32766).
pub const RULE_PRIORITY: u32 = 32000;

fn pair(from: Option<&Subnet>, to: Option<&Subnet>) -> Rule {
    Rule {
        priority: RULE_PRIORITY,
        src: from.map(|s| (s.address, s.prefix_len)),
        dst: to.map(|s| (s.address, s.prefix_len)),
    }
}

/// The rules network `subnet` needs against the `others`.
pub fn rules_for(subnet: &Subnet, internal: bool, others: &[Subnet]) -> Vec<Rule> {
    let mut rules = Vec::new();
    if internal {
        rules.push(pair(Some(subnet), None));
    }
    for other in others.iter().filter(|o| *o != subnet) {
        rules.push(pair(Some(subnet), Some(other)));
        rules.push(pair(Some(other), Some(subnet)));
    }
    rules
}

/// Adds the rules of one network (existing ones are kept).
pub fn apply(
    nl: &mut Netlink,
    subnet: &Subnet,
    internal: bool,
    others: &[Subnet],
) -> io::Result<()> {
    for rule in rules_for(subnet, internal, others) {
        nl.add_rule(&rule)?;
    }
    Ok(())
}

/// Removes every berth rule naming `subnet` as source or destination.
pub fn remove(nl: &mut Netlink, subnet: &Subnet) -> io::Result<()> {
    let mine = Some((subnet.address, subnet.prefix_len));
    for rule in nl.berth_rules()? {
        if rule.priority == RULE_PRIORITY && (rule.src == mine || rule.dst == mine) {
            nl.delete_rule(&rule)?;
        }
    }
    Ok(())
}

/// Turns IPv4 forwarding on or off for packets arriving on `bridge` only.
pub fn set_forwarding(bridge: &str, on: bool) -> io::Result<()> {
    std::fs::write(
        format!("/proc/sys/net/ipv4/conf/{bridge}/forwarding"),
        if on { "1" } else { "0" },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_both_ways_and_internal() {
        let a: Subnet = "10.1.0.0/24".parse().unwrap();
        let b: Subnet = "10.2.0.0/24".parse().unwrap();
        let rules = rules_for(&a, false, &[a, b]);
        assert_eq!(rules.len(), 2);
        assert_eq!(rules[0].src, Some((a.address, 24)));
        assert_eq!(rules[0].dst, Some((b.address, 24)));
        assert_eq!(rules[1].src, Some((b.address, 24)));
        let rules = rules_for(&a, true, &[]);
        assert_eq!(rules.len(), 1);
        assert_eq!((rules[0].src, rules[0].dst), (Some((a.address, 24)), None));
    }
}
