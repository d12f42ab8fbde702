//! `extra_hosts:` entries: extra lines for the container's `/etc/hosts`.
//!
//! Compose (compose-go `HostsList`) accepts two forms, and so do we:
//!
//! - a list of `host=ip` or `host:ip` strings. The text is cut at its first
//!   `=` if it has one, else at its first `:` (so `host:::1` is `::1`, but
//!   `h:a=b` is host `h:a`, refused). The IP part may list several
//!   addresses separated by commas (`h=1.1.1.1,2.2.2.2`);
//! - a mapping `host: ip` or `host: [ip, ...]`; there a comma is not a
//!   separator.
//!
//! Either way the host must be non-empty and contain neither `:` nor `=`;
//! an IP written in brackets (`[::1]`) loses them; the IP is not checked
//! otherwise (`host-gateway`, empty, and even `notanip` pass `config`).
//! Compose's `config` prints the entries as a list of `host=ip` strings,
//! sorted as text, one per address ([`format_extra_hosts`]); the engine
//! gets `host:ip` ([`ExtraHost::engine_form`]).

use std::fmt;

/// One host name to address mapping.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ExtraHost {
    /// Host name.
    pub host: String,
    /// Address, without brackets; may be `host-gateway`.
    pub ip: String,
}

impl ExtraHost {
    /// The form the engine takes (`--add-host`): `host:ip`.
    pub fn engine_form(&self) -> String {
        format!("{}:{}", self.host, self.ip)
    }
}

impl fmt::Display for ExtraHost {
    /// Writes the form Compose's `config` prints: `host=ip`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}={}", self.host, self.ip)
    }
}

/// Parses one item of the list form (`host=ip`, `host:ip`,
/// `host=ip1,ip2`) into one mapping per address.
///
/// Errors read like `invalid extra host "noip": expected host=ip`.
pub fn parse_extra_host(entry: &str) -> Result<Vec<ExtraHost>, String> {
    let Some((host, ips)) = entry.split_once('=').or_else(|| entry.split_once(':')) else {
        return Err(format!("invalid extra host {entry:?}: expected host=ip"));
    };
    check_host(host).map_err(|why| format!("invalid extra host {entry:?}: {why}"))?;
    Ok(ips
        .split(',')
        .map(|ip| ExtraHost {
            host: host.to_owned(),
            ip: strip_brackets(ip).to_owned(),
        })
        .collect())
}

/// Parses one entry of the mapping form: a host and its address(es), each
/// taken whole (no comma splitting). A YAML number given as an address
/// is passed as its text.
///
/// Errors read like `invalid extra host "h:x": a host name must not contain ':' or '='`.
pub fn parse_extra_host_mapping<S: AsRef<str>>(
    host: &str,
    ips: &[S],
) -> Result<Vec<ExtraHost>, String> {
    check_host(host).map_err(|why| format!("invalid extra host {host:?}: {why}"))?;
    Ok(ips
        .iter()
        .map(|ip| ExtraHost {
            host: host.to_owned(),
            ip: strip_brackets(ip.as_ref()).to_owned(),
        })
        .collect())
}

/// The list Compose's `config` prints for these mappings: `host=ip`
/// strings, sorted as text (duplicates kept).
pub fn format_extra_hosts(hosts: &[ExtraHost]) -> Vec<String> {
    let mut lines: Vec<String> = hosts.iter().map(ExtraHost::to_string).collect();
    lines.sort();
    lines
}

/// A host name must be non-empty and free of the separators.
fn check_host(host: &str) -> Result<(), String> {
    if host.is_empty() {
        Err("the host name is empty".to_owned())
    } else if host.contains([':', '=']) {
        Err(format!("host name {host:?} must not contain ':' or '='"))
    } else {
        Ok(())
    }
}

/// `[addr]` -> `addr` when there is something between the brackets.
fn strip_brackets(ip: &str) -> &str {
    match ip.strip_prefix('[').and_then(|rest| rest.strip_suffix(']')) {
        Some(inner) if !inner.is_empty() => inner,
        _ => ip,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn host(host: &str, ip: &str) -> ExtraHost {
        ExtraHost {
            host: host.to_owned(),
            ip: ip.to_owned(),
        }
    }

    fn ok(entry: &str) -> Vec<ExtraHost> {
        parse_extra_host(entry).unwrap_or_else(|e| panic!("{entry}: {e}"))
    }

    #[test]
    fn list_items() {
        assert_eq!(
            ok("somehost:162.242.195.82"),
            [host("somehost", "162.242.195.82")]
        );
        assert_eq!(
            ok("somehost=162.242.195.82"),
            [host("somehost", "162.242.195.82")]
        );
        assert_eq!(ok("h:::1"), [host("h", "::1")]);
        assert_eq!(ok("h=::1"), [host("h", "::1")]);
        assert_eq!(ok("h=[::1]"), [host("h", "::1")]);
        assert_eq!(ok("h:[::1]"), [host("h", "::1")]);
        assert_eq!(ok("h=host-gateway"), [host("h", "host-gateway")]);
        assert_eq!(ok("h:host-gateway"), [host("h", "host-gateway")]);
        assert_eq!(
            ok("h=1.1.1.1,2.2.2.2"),
            [host("h", "1.1.1.1"), host("h", "2.2.2.2")]
        );
        assert_eq!(ok("h=[::1],[::2]"), [host("h", "::1"), host("h", "::2")]);
        assert_eq!(
            ok("h=1.1.1.1,1.1.1.1"),
            [host("h", "1.1.1.1"), host("h", "1.1.1.1")]
        );
        assert_eq!(ok("h="), [host("h", "")]);
        assert_eq!(ok("h:"), [host("h", "")]);
        assert_eq!(ok("h=,"), [host("h", ""), host("h", "")]);
        assert_eq!(ok("h=a=b"), [host("h", "a=b")]);
        assert_eq!(ok("h=notanip"), [host("h", "notanip")]);
        assert_eq!(ok("h=[]"), [host("h", "[]")]);
        assert_eq!(ok("h=[1]"), [host("h", "1")]);
        assert_eq!(ok(" h = 1.1.1.1 "), [host(" h ", " 1.1.1.1 ")]);
    }

    #[test]
    fn list_errors() {
        assert_eq!(
            parse_extra_host("noip").unwrap_err(),
            "invalid extra host \"noip\": expected host=ip"
        );
        assert_eq!(
            parse_extra_host("=1.1.1.1").unwrap_err(),
            "invalid extra host \"=1.1.1.1\": the host name is empty"
        );
        assert!(parse_extra_host(":1.1.1.1").is_err());
        assert_eq!(
            parse_extra_host("h:a=b").unwrap_err(),
            "invalid extra host \"h:a=b\": host name \"h:a\" must not contain ':' or '='"
        );
        assert!(parse_extra_host("").is_err());
    }

    #[test]
    fn mapping_entries() {
        assert_eq!(
            parse_extra_host_mapping("h", &["1.1.1.1"]).unwrap(),
            [host("h", "1.1.1.1")]
        );
        assert_eq!(
            parse_extra_host_mapping("h", &["1.1.1.1", "[::2]"]).unwrap(),
            [host("h", "1.1.1.1"), host("h", "::2")]
        );
        assert_eq!(
            parse_extra_host_mapping("h", &["1.1.1.1,2.2.2.2".to_owned()]).unwrap(),
            [host("h", "1.1.1.1,2.2.2.2")]
        );
        assert_eq!(
            parse_extra_host_mapping("h", &[""]).unwrap(),
            [host("h", "")]
        );
        assert_eq!(
            parse_extra_host_mapping("h:x", &["1.1.1.1"]).unwrap_err(),
            "invalid extra host \"h:x\": host name \"h:x\" must not contain ':' or '='"
        );
        assert!(parse_extra_host_mapping("", &["1.1.1.1"]).is_err());
        assert!(parse_extra_host_mapping::<&str>("h", &[])
            .unwrap()
            .is_empty());
    }

    #[test]
    fn formats_like_compose_config() {
        let mut all = Vec::new();
        for entry in ["zz=1.1.1.1", "aa=2.2.2.2", "h=1.1.1.1,2.2.2.2", "h=3.3.3.3"] {
            all.extend(ok(entry));
        }
        assert_eq!(
            format_extra_hosts(&all),
            [
                "aa=2.2.2.2",
                "h=1.1.1.1",
                "h=2.2.2.2",
                "h=3.3.3.3",
                "zz=1.1.1.1"
            ]
        );
        let mut all = Vec::new();
        for entry in ["B=1", "a=1", "A=2", "a:0", "a-b=1", "a.b=2"] {
            all.extend(ok(entry));
        }
        assert_eq!(
            format_extra_hosts(&all),
            ["A=2", "B=1", "a-b=1", "a.b=2", "a=0", "a=1"]
        );
        assert_eq!(ok("h:::1")[0].to_string(), "h=::1");
        assert_eq!(ok("h=::1")[0].engine_form(), "h:::1");
        assert!(format_extra_hosts(&[]).is_empty());
    }
}
