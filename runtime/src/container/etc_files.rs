//! The per-container `/etc/hosts` as Docker writes it: loopback entries,
//! `extra_hosts` (with `host-gateway` replaced by the gateway address), then
//! the container's own addresses with its hostname and aliases.

use std::net::IpAddr;

/// One line of `/etc/hosts`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostEntry {
    pub address: IpAddr,
    pub names: Vec<String>,
}

/// The loopback lines every container gets.
pub const LOOPBACK_HOSTS: &str = "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\nfe00::0\tip6-localnet\nff00::0\tip6-mcastprefix\nff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n";

/// The special `extra_hosts` value that stands for the host as seen from the container.
pub const HOST_GATEWAY: &str = "host-gateway";

/// Parses an `extra_hosts` address, replacing `host-gateway` with `gateway`.
pub fn extra_host_address(value: &str, gateway: Option<IpAddr>) -> Result<IpAddr, String> {
    if value == HOST_GATEWAY {
        return gateway.ok_or_else(|| {
            "extra_hosts uses host-gateway but the container has no network with a gateway"
                .to_string()
        });
    }
    value
        .trim_start_matches('[')
        .trim_end_matches(']')
        .parse()
        .map_err(|_| format!("invalid IP address {value:?} in extra_hosts"))
}

/// Builds the file: loopback, extra hosts, then the container's own entries.
pub fn hosts_file(extra: &[HostEntry], own: &[HostEntry]) -> String {
    let mut text = String::from(LOOPBACK_HOSTS);
    for entry in extra.iter().chain(own) {
        if entry.names.is_empty() {
            continue;
        }
        text.push_str(&format!("{}\t{}\n", entry.address, entry.names.join(" ")));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_file_order_and_gateway() {
        let gateway: IpAddr = "172.18.0.1".parse().unwrap();
        let extra = vec![HostEntry {
            address: extra_host_address(HOST_GATEWAY, Some(gateway)).unwrap(),
            names: vec!["host.docker.internal".into()],
        }];
        let own = vec![HostEntry {
            address: "172.18.0.2".parse().unwrap(),
            names: vec!["a1b2c3d4e5f6".into(), "web".into()],
        }];
        let text = hosts_file(&extra, &own);
        assert!(text.starts_with("127.0.0.1\tlocalhost\n"));
        assert!(text.ends_with("172.18.0.1\thost.docker.internal\n172.18.0.2\ta1b2c3d4e5f6 web\n"));
        assert_eq!(
            extra_host_address("[::1]", None).unwrap().to_string(),
            "::1"
        );
        assert!(extra_host_address(HOST_GATEWAY, None).is_err());
        assert!(extra_host_address("not-an-ip", None).is_err());
    }
}
