//! The names the embedded DNS answers: for each container address on each
//! network, its service name, container name, hostname and aliases. Pure
//! data; a query only sees the networks the asking container is on.

use std::collections::{BTreeMap, BTreeSet};
use std::net::Ipv4Addr;

/// One container address on one network and the names it answers to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DnsRecord {
    pub network: String,
    pub names: Vec<String>,
    pub address: Ipv4Addr,
    pub container_id: String,
}

/// The lookup table, built once per change.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DnsTable {
    /// (network, lowercased name) -> addresses, in record order.
    by_name: BTreeMap<(String, String), Vec<Ipv4Addr>>,
    /// (network, address) -> the container's first name.
    by_address: BTreeMap<(String, Ipv4Addr), String>,
}

fn normalize(name: &str) -> String {
    name.trim_end_matches('.').to_ascii_lowercase()
}

impl DnsTable {
    pub fn new(records: &[DnsRecord]) -> DnsTable {
        let mut table = DnsTable::default();
        for record in records {
            for name in &record.names {
                let entry = table
                    .by_name
                    .entry((record.network.clone(), normalize(name)))
                    .or_default();
                if !entry.contains(&record.address) {
                    entry.push(record.address);
                }
            }
            if let Some(first) = record.names.first() {
                table
                    .by_address
                    .entry((record.network.clone(), record.address))
                    .or_insert_with(|| first.clone());
            }
        }
        table
    }

    /// Addresses of `name` on any of `networks` (`None` when the name is not
    /// known there at all).
    pub fn lookup(&self, name: &str, networks: &[String]) -> Option<Vec<Ipv4Addr>> {
        let name = normalize(name);
        let mut found: Option<Vec<Ipv4Addr>> = None;
        let mut seen = BTreeSet::new();
        for network in networks {
            if let Some(addresses) = self.by_name.get(&(network.clone(), name.clone())) {
                let list = found.get_or_insert_with(Vec::new);
                for address in addresses {
                    if seen.insert(*address) {
                        list.push(*address);
                    }
                }
            }
        }
        found
    }

    /// The name of the container at `address` on one of `networks`.
    pub fn reverse(&self, address: Ipv4Addr, networks: &[String]) -> Option<&str> {
        networks
            .iter()
            .find_map(|n| self.by_address.get(&(n.clone(), address)))
            .map(String::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(network: &str, names: &[&str], ip: [u8; 4]) -> DnsRecord {
        DnsRecord {
            network: network.into(),
            names: names.iter().map(|n| n.to_string()).collect(),
            address: Ipv4Addr::from(ip),
            container_id: format!("{names:?}"),
        }
    }

    #[test]
    fn scoped_to_the_askers_networks() {
        let table = DnsTable::new(&[
            record("front", &["web", "demo-web-1", "www"], [10, 0, 0, 2]),
            record("front", &["web", "demo-web-2"], [10, 0, 0, 3]),
            record("back", &["db", "demo-db-1"], [10, 1, 0, 2]),
        ]);
        let front = vec!["front".to_string()];
        assert_eq!(
            table.lookup("WEB.", &front),
            Some(vec![Ipv4Addr::new(10, 0, 0, 2), Ipv4Addr::new(10, 0, 0, 3)])
        );
        assert_eq!(
            table.lookup("www", &front),
            Some(vec![Ipv4Addr::new(10, 0, 0, 2)])
        );
        assert_eq!(
            table.lookup("db", &front),
            None,
            "not on the asker's networks"
        );
        let both = vec!["front".to_string(), "back".to_string()];
        assert_eq!(
            table.lookup("db", &both),
            Some(vec![Ipv4Addr::new(10, 1, 0, 2)])
        );
        assert_eq!(
            table.reverse(Ipv4Addr::new(10, 0, 0, 3), &front),
            Some("web")
        );
        assert_eq!(table.reverse(Ipv4Addr::new(10, 1, 0, 2), &front), None);
    }
}
