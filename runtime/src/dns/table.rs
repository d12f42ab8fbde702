//! The names the embedded DNS answers: for each container address on each
//! network, its service name, container name, hostname and aliases. Pure
//! data; a query only sees the networks the asking container is on. Legacy
//! links (`links`, `external_links`) add names only their linking container
//! resolves, as Docker's links do.

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

/// A name only one container resolves: a link's alias (`links: [db:database]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DnsLink {
    /// The linking container, the only one the name answers.
    pub asker: String,
    pub name: String,
    /// The linked container's addresses on the networks the asker is on.
    pub addresses: Vec<Ipv4Addr>,
}

/// The lookup table, built once per change.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DnsTable {
    /// (asking container ID, lowercased name) -> addresses.
    links: BTreeMap<(String, String), Vec<Ipv4Addr>>,
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

    /// A table with names per network and per-container link names.
    pub fn with_links(records: &[DnsRecord], links: &[DnsLink]) -> DnsTable {
        let mut table = DnsTable::new(records);
        for link in links.iter().filter(|l| !l.addresses.is_empty()) {
            let entry = table
                .links
                .entry((link.asker.clone(), normalize(&link.name)))
                .or_default();
            for address in &link.addresses {
                if !entry.contains(address) {
                    entry.push(*address);
                }
            }
        }
        table
    }

    /// Addresses of `name` for container `asker` on `networks`: its links
    /// first (a link's alias shadows a name on the network, as in Docker),
    /// then the names of the networks.
    pub fn lookup_for(
        &self,
        asker: &str,
        name: &str,
        networks: &[String],
    ) -> Option<Vec<Ipv4Addr>> {
        if let Some(addresses) = self.links.get(&(asker.to_string(), normalize(name))) {
            return Some(addresses.clone());
        }
        self.lookup(name, networks)
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

    #[test]
    fn link_names_answer_only_their_linking_container() {
        let db = Ipv4Addr::new(10, 0, 0, 9);
        let table = DnsTable::with_links(
            &[record("front", &["db", "demo-db-1"], [10, 0, 0, 9])],
            &[
                DnsLink {
                    asker: "web-id".into(),
                    name: "Database".into(),
                    addresses: vec![db, db],
                },
                // A link whose target is down names nothing.
                DnsLink {
                    asker: "web-id".into(),
                    name: "cache".into(),
                    addresses: Vec::new(),
                },
            ],
        );
        let front = vec!["front".to_string()];
        assert_eq!(
            table.lookup_for("web-id", "database.", &front),
            Some(vec![db])
        );
        assert_eq!(table.lookup_for("other-id", "database", &front), None);
        assert_eq!(table.lookup_for("web-id", "cache", &front), None);
        // Network names still answer the linking container.
        assert_eq!(table.lookup_for("web-id", "db", &front), Some(vec![db]));
    }
}
