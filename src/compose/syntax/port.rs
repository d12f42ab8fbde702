//! The short port syntax
//! `[HOST_IP:][HOST_PORT[-END]:]CONTAINER_PORT[-END][/PROTOCOL]`, expanded into
//! one entry per container port, as `docker compose config` shows them.

use std::net::IpAddr;

/// One published (or exposed) port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedPort {
    pub host_ip: Option<String>,
    pub target: u16,
    /// A host port or range (`"8000-8010"`); `None` for a random host port.
    pub published: Option<String>,
    pub protocol: String,
}

/// Parses a short port entry.
pub fn parse_port(text: &str) -> Result<Vec<ParsedPort>, String> {
    let fail = |why: String| format!("invalid port {text:?}: {why}");
    let (spec, protocol) = match text.rsplit_once('/') {
        Some((spec, proto)) => (spec, proto.to_ascii_lowercase()),
        None => (text, "tcp".to_string()),
    };
    if !matches!(protocol.as_str(), "tcp" | "udp" | "sctp") {
        return Err(fail(format!(
            "unknown protocol {protocol:?} (use tcp, udp or sctp)"
        )));
    }
    let (raw_ip, host, container) = split_parts(spec);
    let host_ip = match raw_ip {
        Some(ip) => {
            let bare = ip.trim_start_matches('[').trim_end_matches(']');
            if bare.parse::<IpAddr>().is_err() {
                return Err(fail(format!("invalid host IP address {ip:?}")));
            }
            Some(bare.to_string())
        }
        None => None,
    };
    let (c_start, c_end) = parse_range(container).ok_or_else(|| {
        fail(format!(
            "container port must be a number or a range, got {container:?}"
        ))
    })?;
    let host_range = match host {
        Some(h) if !h.is_empty() => Some(parse_range(h).ok_or_else(|| {
            fail(format!(
                "host port must be a number or a range from 0 to 65535, got {h:?}"
            ))
        })?),
        _ => None,
    };
    let c_len = c_end - c_start;
    let mut ports = Vec::new();
    match host_range {
        None => {
            for target in c_start..=c_end {
                ports.push(ParsedPort {
                    host_ip: host_ip.clone(),
                    target,
                    published: None,
                    protocol: protocol.clone(),
                });
            }
        }
        Some((h_start, h_end)) if c_len == 0 && h_end != h_start => {
            ports.push(ParsedPort {
                host_ip,
                target: c_start,
                published: Some(format!("{h_start}-{h_end}")),
                protocol,
            });
        }
        Some((h_start, h_end)) => {
            if h_end - h_start != c_len {
                return Err(fail(format!(
                    "the host range {}-{} and the container range {}-{} have different lengths",
                    h_start, h_end, c_start, c_end
                )));
            }
            for offset in 0..=c_len {
                ports.push(ParsedPort {
                    host_ip: host_ip.clone(),
                    target: c_start + offset,
                    published: Some((h_start + offset).to_string()),
                    protocol: protocol.clone(),
                });
            }
        }
    }
    Ok(ports)
}

/// Splits into (ip, host port, container port) on the last two colons, so
/// IPv6 host addresses (bracketed or not) keep theirs.
fn split_parts(spec: &str) -> (Option<&str>, Option<&str>, &str) {
    let parts: Vec<&str> = spec.split(':').collect();
    match parts.as_slice() {
        [container] => (None, None, container),
        [host, container] => (None, Some(host), container),
        [ip, host, container] => (Some(ip), Some(host), container),
        _ => {
            let n = parts.len();
            let ip_len = spec.len() - parts[n - 1].len() - parts[n - 2].len() - 2;
            (Some(&spec[..ip_len]), Some(parts[n - 2]), parts[n - 1])
        }
    }
}

/// `80` or `8000-8010` (inclusive, start <= end); None when malformed.
pub fn parse_range(text: &str) -> Option<(u16, u16)> {
    let (a, b) = text.split_once('-').unwrap_or((text, text));
    let start = parse_number(a)?;
    let end = parse_number(b)?;
    (start <= end).then_some((start, end))
}

fn parse_number(text: &str) -> Option<u16> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse::<u16>().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(ip: Option<&str>, target: u16, published: Option<&str>, proto: &str) -> ParsedPort {
        ParsedPort {
            host_ip: ip.map(String::from),
            target,
            published: published.map(String::from),
            protocol: proto.into(),
        }
    }

    #[test]
    fn short_forms() {
        assert_eq!(parse_port("80").unwrap(), [p(None, 80, None, "tcp")]);
        assert_eq!(
            parse_port("8080:80").unwrap(),
            [p(None, 80, Some("8080"), "tcp")]
        );
        assert_eq!(
            parse_port("127.0.0.1:8080:80").unwrap(),
            [p(Some("127.0.0.1"), 80, Some("8080"), "tcp")]
        );
        assert_eq!(
            parse_port("127.0.0.1::80").unwrap(),
            [p(Some("127.0.0.1"), 80, None, "tcp")]
        );
        assert_eq!(
            parse_port("8000-8001:80-81/udp").unwrap(),
            [
                p(None, 80, Some("8000"), "udp"),
                p(None, 81, Some("8001"), "udp")
            ]
        );
        assert_eq!(
            parse_port("8000-8010:80").unwrap(),
            [p(None, 80, Some("8000-8010"), "tcp")]
        );
        assert_eq!(parse_port("3000-3002").unwrap().len(), 3);
        assert_eq!(
            parse_port("[::1]:8080:80").unwrap(),
            [p(Some("::1"), 80, Some("8080"), "tcp")]
        );
        assert_eq!(
            parse_port("::1:8080:80").unwrap(),
            [p(Some("::1"), 80, Some("8080"), "tcp")]
        );
        assert_eq!(
            parse_port("0.0.0.0:80:80/sctp").unwrap(),
            [p(Some("0.0.0.0"), 80, Some("80"), "sctp")]
        );
        assert_eq!(parse_port(":80").unwrap(), [p(None, 80, None, "tcp")]);
        assert_eq!(parse_port("0:80").unwrap(), [p(None, 80, Some("0"), "tcp")]);
    }

    #[test]
    fn errors_say_what_is_wrong() {
        assert_eq!(
            parse_port("80:abc").unwrap_err(),
            "invalid port \"80:abc\": container port must be a number or a range, got \"abc\""
        );
        assert!(parse_port("80-81:90-92")
            .unwrap_err()
            .contains("different lengths"));
        assert!(parse_port("70000:80").unwrap_err().contains("host port"));
        assert!(parse_port("80:80:80:80").unwrap_err().contains("host IP"));
        assert!(parse_port("80/xyz").unwrap_err().contains("protocol"));
        assert!(parse_port("").is_err());
        assert!(parse_port("90-80").is_err());
    }
}
