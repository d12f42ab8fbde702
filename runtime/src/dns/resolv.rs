//! The container's `/etc/resolv.conf` with the embedded DNS, and the host's
//! upstream servers.

use std::net::{IpAddr, SocketAddr};

/// `nameserver 127.0.0.11`, the host's `search` and `options` plus the
/// service's `dns_search` and `dns_opt`.
pub fn resolv_conf(host: &str, dns_search: &[String], dns_opt: &[String]) -> String {
    let mut search: Vec<String> = Vec::new();
    let mut options: Vec<String> = Vec::new();
    for line in host.lines() {
        let mut words = line.split_whitespace();
        match words.next() {
            Some("search") | Some("domain") => search.extend(words.map(str::to_string)),
            Some("options") => options.extend(words.map(str::to_string)),
            _ => {}
        }
    }
    if !dns_search.is_empty() {
        search = dns_search
            .iter()
            .filter(|s| s.as_str() != ".")
            .cloned()
            .collect();
    }
    for option in dns_opt {
        if !options.contains(option) {
            options.push(option.clone());
        }
    }
    let mut text = format!("nameserver {}\n", super::EMBEDDED_DNS);
    if !search.is_empty() {
        text.push_str(&format!("search {}\n", search.join(" ")));
    }
    if !options.is_empty() {
        text.push_str(&format!("options {}\n", options.join(" ")));
    }
    text
}

/// The `nameserver` entries of a resolv.conf, on port 53.
pub fn upstreams(resolv_conf: &str) -> Vec<SocketAddr> {
    resolv_conf
        .lines()
        .filter_map(|line| {
            let mut words = line.split_whitespace();
            (words.next() == Some("nameserver")).then(|| words.next())?
        })
        .filter_map(|address| address.parse::<IpAddr>().ok())
        .map(|ip| SocketAddr::new(ip, 53))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolv_conf_keeps_search_and_options() {
        let host = "nameserver 127.0.0.53\nsearch corp.example\noptions edns0 trust-ad\n";
        assert_eq!(
            resolv_conf(host, &[], &["ndots:2".into()]),
            "nameserver 127.0.0.11\nsearch corp.example\noptions edns0 trust-ad ndots:2\n"
        );
        assert_eq!(
            resolv_conf(host, &["a.test".into()], &[]),
            "nameserver 127.0.0.11\nsearch a.test\noptions edns0 trust-ad\n"
        );
        assert_eq!(upstreams(host), vec!["127.0.0.53:53".parse().unwrap()]);
    }
}
