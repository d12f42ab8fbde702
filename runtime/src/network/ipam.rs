//! IP address management, pure functions only: IPv4 subnets, the automatic
//! subnet pool (Docker's: 172.17.0.0/16 … 172.31.0.0/16 as /16s, then
//! 192.168.0.0/16 in /20s), endpoint address choice, Docker-style MAC
//! addresses and interface names derived from IDs.

use std::fmt;
use std::net::Ipv4Addr;
use std::str::FromStr;

use sha2::{Digest, Sha256};

/// An IPv4 network: address (host bits cleared) and prefix length.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Subnet {
    pub address: Ipv4Addr,
    pub prefix_len: u8,
}

fn mask(prefix_len: u8) -> u32 {
    if prefix_len == 0 {
        0
    } else {
        u32::MAX << (32 - u32::from(prefix_len))
    }
}

/// The broadcast address of `address/prefix_len`.
pub fn broadcast(address: Ipv4Addr, prefix_len: u8) -> Ipv4Addr {
    Ipv4Addr::from(u32::from(address) | !mask(prefix_len))
}

impl Subnet {
    /// `address/prefix_len` with the host bits cleared.
    pub fn new(address: Ipv4Addr, prefix_len: u8) -> Subnet {
        Subnet {
            address: Ipv4Addr::from(u32::from(address) & mask(prefix_len)),
            prefix_len,
        }
    }

    pub fn contains(&self, ip: Ipv4Addr) -> bool {
        u32::from(ip) & mask(self.prefix_len) == u32::from(self.address)
    }

    pub fn overlaps(&self, other: &Subnet) -> bool {
        self.contains(other.address) || other.contains(self.address)
    }

    /// Whether `other` lies wholly inside this subnet.
    pub fn covers(&self, other: &Subnet) -> bool {
        other.prefix_len >= self.prefix_len && self.contains(other.address)
    }

    pub fn broadcast(&self) -> Ipv4Addr {
        broadcast(self.address, self.prefix_len)
    }

    /// The first host address (the default gateway).
    pub fn first_host(&self) -> Ipv4Addr {
        Ipv4Addr::from(u32::from(self.address) + 1)
    }
}

impl fmt::Display for Subnet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.address, self.prefix_len)
    }
}

impl FromStr for Subnet {
    type Err = String;

    /// `a.b.c.d/n`; host bits must be clear (as Docker requires).
    fn from_str(text: &str) -> Result<Subnet, String> {
        let (ip, len) = text
            .split_once('/')
            .ok_or_else(|| format!("invalid subnet {text:?}: expected ADDRESS/PREFIX"))?;
        let ip: Ipv4Addr = ip
            .parse()
            .map_err(|_| format!("invalid subnet {text:?}: not an IPv4 address"))?;
        let len: u8 = len
            .parse()
            .ok()
            .filter(|l| *l <= 32)
            .ok_or_else(|| format!("invalid subnet {text:?}: prefix length must be 0..=32"))?;
        let subnet = Subnet::new(ip, len);
        if subnet.address != ip {
            return Err(format!(
                "invalid subnet {text:?}: host bits are set (did you mean {subnet}?)"
            ));
        }
        Ok(subnet)
    }
}

/// Something a new subnet must not overlap, with how to name it in an error.
#[derive(Debug, Clone)]
pub struct Taken {
    pub subnet: Subnet,
    /// e.g. `the host route 10.0.0.0/16 on eth0`, `network "back"`.
    pub what: String,
}

/// The first taken range that `subnet` overlaps.
pub fn conflict<'a>(subnet: &Subnet, taken: &'a [Taken]) -> Option<&'a Taken> {
    taken.iter().find(|t| t.subnet.overlaps(subnet))
}

/// The automatic pool, in order.
pub fn default_pool() -> impl Iterator<Item = Subnet> {
    let first = (17..=31u8).map(|b| Subnet::new(Ipv4Addr::new(172, b, 0, 0), 16));
    let second = (0..16u8).map(|i| Subnet::new(Ipv4Addr::new(192, 168, i * 16, 0), 20));
    first.chain(second)
}

/// The first pool subnet that overlaps nothing taken.
pub fn pick_subnet(taken: &[Taken]) -> Option<Subnet> {
    default_pool().find(|candidate| conflict(candidate, taken).is_none())
}

/// Why a requested address cannot be used.
pub fn check_requested(
    subnet: &Subnet,
    gateway: Ipv4Addr,
    used: &[Ipv4Addr],
    ip: Ipv4Addr,
) -> Result<(), String> {
    if !subnet.contains(ip) {
        return Err(format!("address {ip} is not in subnet {subnet}"));
    }
    if ip == subnet.address || (subnet.prefix_len < 31 && ip == subnet.broadcast()) {
        return Err(format!(
            "address {ip} is the network or broadcast address of {subnet}"
        ));
    }
    if ip == gateway {
        return Err(format!("address {ip} is the gateway"));
    }
    if used.contains(&ip) {
        return Err(format!("address {ip} is already in use"));
    }
    Ok(())
}

/// The lowest free host address after the gateway, inside `range` when given
/// (else inside the subnet), skipping the network, broadcast, gateway and
/// used addresses.
pub fn pick_address(
    subnet: &Subnet,
    range: Option<&Subnet>,
    gateway: Ipv4Addr,
    used: &[Ipv4Addr],
) -> Option<Ipv4Addr> {
    let scope = range.unwrap_or(subnet);
    let start = u32::from(scope.address).max(u32::from(gateway).saturating_add(1));
    let start = if scope.contains(Ipv4Addr::from(start)) {
        start
    } else {
        u32::from(scope.address)
    };
    let end = u32::from(scope.broadcast());
    (start..=end)
        .chain(u32::from(scope.address)..start)
        .map(Ipv4Addr::from)
        .find(|ip| check_requested(subnet, gateway, used, *ip).is_ok())
}

/// Docker's MAC address for an IPv4 address: `02:42` then the four octets.
pub fn mac_for(ip: Ipv4Addr) -> String {
    let [a, b, c, d] = ip.octets();
    format!("02:42:{a:02x}:{b:02x}:{c:02x}:{d:02x}")
}

/// Parses `aa:bb:cc:dd:ee:ff`.
pub fn parse_mac(text: &str) -> Option<[u8; 6]> {
    let parts: Vec<&str> = text.split(':').collect();
    if parts.len() != 6 {
        return None;
    }
    let mut mac = [0u8; 6];
    for (byte, part) in mac.iter_mut().zip(parts) {
        if part.len() != 2 {
            return None;
        }
        *byte = u8::from_str_radix(part, 16).ok()?;
    }
    Some(mac)
}

/// The bridge name for a network ID: `br-` and the ID's first 12 hex digits.
pub fn bridge_name(id: &str) -> String {
    format!("br-{}", &id[..12.min(id.len())])
}

/// The host-side veth name of a container's endpoint on a network:
/// `veth` and 8 hex digits of a hash of both IDs (stable, so `detach` can
/// find it again; 12 characters, under the kernel's 15).
pub fn veth_name(network_id: &str, container_id: &str) -> String {
    let digest = Sha256::digest(format!("{network_id}/{container_id}").as_bytes());
    format!("veth{}", &hex::encode(digest)[..8])
}

/// Whether `name` is a valid interface name (1..=15 bytes, no `/`, space or `:`).
pub fn valid_ifname(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 15
        && name != "."
        && name != ".."
        && !name
            .bytes()
            .any(|b| b == b'/' || b == b':' || b.is_ascii_whitespace())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(text: &str) -> Subnet {
        text.parse().unwrap()
    }

    fn taken(text: &str) -> Taken {
        Taken {
            subnet: s(text),
            what: text.into(),
        }
    }

    #[test]
    fn parse_and_overlap() {
        assert_eq!(s("10.1.0.0/16").to_string(), "10.1.0.0/16");
        assert!("10.1.0.1/16"
            .parse::<Subnet>()
            .unwrap_err()
            .contains("host bits"));
        assert!("10.1.0.0/33".parse::<Subnet>().is_err());
        assert!("fd00::/64".parse::<Subnet>().is_err());
        assert!(s("10.0.0.0/8").overlaps(&s("10.5.0.0/24")));
        assert!(s("10.5.0.0/24").overlaps(&s("10.0.0.0/8")));
        assert!(!s("10.5.0.0/24").overlaps(&s("10.5.1.0/24")));
        assert!(s("10.5.0.0/16").covers(&s("10.5.3.0/24")));
        assert!(!s("10.5.3.0/24").covers(&s("10.5.0.0/16")));
        assert_eq!(s("10.5.0.0/24").broadcast(), Ipv4Addr::new(10, 5, 0, 255));
    }

    #[test]
    fn pool_skips_host_routes_and_networks() {
        assert_eq!(pick_subnet(&[]), Some(s("172.17.0.0/16")));
        let busy = [
            taken("172.17.0.0/16"), // docker0
            taken("172.18.5.0/24"), // a host route inside the next candidate
            taken("172.19.0.1/32"), // a host address
            taken("172.16.0.0/12"), // covers the whole 172 pool
        ];
        assert_eq!(pick_subnet(&busy[..3]), Some(s("172.20.0.0/16")));
        assert_eq!(pick_subnet(&busy), Some(s("192.168.0.0/20")));
        let mut all: Vec<Taken> = default_pool()
            .map(|subnet| Taken {
                subnet,
                what: String::new(),
            })
            .collect();
        assert_eq!(pick_subnet(&all), None);
        all.pop();
        assert_eq!(pick_subnet(&all), Some(s("192.168.240.0/20")));
    }

    #[test]
    fn addresses_after_gateway_and_in_range() {
        let net = s("10.9.0.0/24");
        let gw = net.first_host();
        assert_eq!(
            pick_address(&net, None, gw, &[]),
            Some(Ipv4Addr::new(10, 9, 0, 2))
        );
        let used = [Ipv4Addr::new(10, 9, 0, 2), Ipv4Addr::new(10, 9, 0, 4)];
        assert_eq!(
            pick_address(&net, None, gw, &used),
            Some(Ipv4Addr::new(10, 9, 0, 3))
        );
        let range = s("10.9.0.128/25");
        assert_eq!(
            pick_address(&net, Some(&range), gw, &used),
            Some(Ipv4Addr::new(10, 9, 0, 128))
        );
        // A gateway in the middle: addresses after it first, then from the start.
        let gw = Ipv4Addr::new(10, 9, 0, 254);
        assert_eq!(
            pick_address(&net, None, gw, &[]),
            Some(Ipv4Addr::new(10, 9, 0, 1))
        );
        let tiny = s("10.9.0.0/30");
        let gw = tiny.first_host();
        assert_eq!(
            pick_address(&tiny, None, gw, &[]),
            Some(Ipv4Addr::new(10, 9, 0, 2))
        );
        assert_eq!(
            pick_address(&tiny, None, gw, &[Ipv4Addr::new(10, 9, 0, 2)]),
            None
        );
    }

    #[test]
    fn requested_addresses() {
        let net = s("10.9.0.0/24");
        let gw = net.first_host();
        let used = [Ipv4Addr::new(10, 9, 0, 7)];
        assert!(check_requested(&net, gw, &used, Ipv4Addr::new(10, 9, 0, 8)).is_ok());
        for (ip, why) in [
            (Ipv4Addr::new(10, 9, 1, 8), "not in subnet"),
            (Ipv4Addr::new(10, 9, 0, 0), "network or broadcast"),
            (Ipv4Addr::new(10, 9, 0, 255), "network or broadcast"),
            (gw, "gateway"),
            (Ipv4Addr::new(10, 9, 0, 7), "already in use"),
        ] {
            let err = check_requested(&net, gw, &used, ip).unwrap_err();
            assert!(err.contains(why), "{ip}: {err}");
        }
    }

    #[test]
    fn macs_and_names() {
        assert_eq!(mac_for(Ipv4Addr::new(172, 17, 0, 2)), "02:42:ac:11:00:02");
        assert_eq!(
            parse_mac("02:42:ac:11:00:02"),
            Some([0x02, 0x42, 0xac, 0x11, 0, 2])
        );
        assert_eq!(parse_mac("02:42:ac:11:00"), None);
        assert_eq!(parse_mac("02:42:ac:11:00:zz"), None);
        let id = "0123456789abcdef".repeat(4);
        assert_eq!(bridge_name(&id), "br-0123456789ab");
        let veth = veth_name(&id, "c1");
        assert_eq!(veth.len(), 12);
        assert!(veth.starts_with("veth"));
        assert_eq!(veth, veth_name(&id, "c1"));
        assert_ne!(veth, veth_name(&id, "c2"));
        assert!(valid_ifname("br-0123456789ab"));
        assert!(!valid_ifname("a-very-long-bridge-name"));
        assert!(!valid_ifname("a/b"));
    }
}
