//! The short syntax of `ports:` entries:
//! `[HOST_IP:][HOST_PORT[-END]:]CONTAINER_PORT[-END][/PROTOCOL]`.
//!
//! Compose (compose-go `ParsePortConfig` over docker/go-connections
//! `nat.ParsePortSpec`) reads it like this, and so do we:
//!
//! - the text is split at its last two colons: container part, host port,
//!   and everything before as the host IP, so unbracketed IPv6 works
//!   (`::1:8080:80`) as well as bracketed (`[::1]:8080:80`); the IP must be
//!   a literal address (no names, no zones), and `[]` means no IP;
//! - an empty host port means a random one (`127.0.0.1::80`, `:80`, `::80`);
//! - the protocol follows the first `/` of the container part; it is
//!   case-insensitive, printed lower-case, one of tcp (default), udp, sctp;
//!   `80/` is tcp and anything after a second `/` is ignored;
//! - a port is 0-65535 in plain decimal (leading zeros allowed, printed
//!   without them); a range is `START-END` with END >= START (Compose
//!   ignores anything after a second `-`); a container port of 0 is refused;
//! - a container range needs a host range of the same length (paired one to
//!   one) or no host port; a host range with a single container port is kept
//!   as the range to pick a host port from (`8000-8010:80`);
//! - the resulting entries come in the order Compose prints them: sorted as
//!   the strings `"<port>/<protocol>"`, so `8-10` gives 10, 8, 9.
//!
//! In the long syntax Compose keeps `published` verbatim (`"08080"`, even
//! `"abc"`); [`parse_published`] reads it the way the engine will.

/// One port mapping as Compose resolves it (one per container port).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ParsedPort {
    /// Host address to bind, without brackets (`"127.0.0.1"`, `"::1"`).
    pub host_ip: Option<String>,
    /// Container port, 1-65535.
    pub target: u16,
    /// Host port as Compose prints it: `"8080"`, or `"8000-8010"` for a
    /// range to pick from; `None` for a random host port.
    pub published: Option<String>,
    /// `"tcp"`, `"udp"` or `"sctp"`.
    pub protocol: String,
}

/// An inclusive range of port numbers (`start == end` for a single port).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PortRange {
    /// First port of the range.
    pub start: u16,
    /// Last port of the range (>= `start`).
    pub end: u16,
}

/// Parses one short-syntax `ports:` entry into the mappings Compose makes of
/// it, in Compose's order.
///
/// Errors read like `invalid port "80:abc": container port "abc" is not a number`.
pub fn parse_port(spec: &str) -> Result<Vec<ParsedPort>, String> {
    let invalid = |why: String| format!("invalid port {spec:?}: {why}");

    // Split at the last two colons.
    let mut pieces = spec.rsplitn(3, ':');
    let container_part = pieces.next().unwrap_or_default();
    let host_port = pieces.next().unwrap_or_default();
    let mut host_ip = pieces.next().unwrap_or_default();

    let (protocol, container_port) = split_protocol(container_part);

    if host_ip.starts_with('[') {
        host_ip = strip_brackets(host_ip).ok_or_else(|| {
            invalid(format!(
                "host IP {host_ip:?} must be an address in brackets, like [::1]"
            ))
        })?;
    }
    if !host_ip.is_empty() && !is_ip_address(host_ip) {
        return Err(invalid(format!("host IP {host_ip:?} is not an IP address")));
    }
    if container_port.is_empty() {
        return Err(invalid("no container port".to_owned()));
    }
    let container =
        parse_range(container_port).map_err(|why| invalid(format!("container {why}")))?;
    let host = if host_port.is_empty() {
        None
    } else {
        Some(parse_range(host_port).map_err(|why| invalid(format!("host {why}")))?)
    };
    let container_span = container.end - container.start;
    if let Some(host) = host {
        if host.end - host.start != container_span && container_span != 0 {
            return Err(invalid(format!(
                "host port range {host_port} and container port range {container_port} have different lengths"
            )));
        }
    }
    let protocol = protocol.to_ascii_lowercase();
    if !matches!(protocol.as_str(), "tcp" | "udp" | "sctp") {
        return Err(invalid(format!(
            "protocol {protocol:?} must be tcp, udp or sctp"
        )));
    }
    if container.start == 0 {
        return Err(invalid("container port must not be 0".to_owned()));
    }
    let host_ip = (!host_ip.is_empty()).then(|| host_ip.to_owned());

    let mut ports = Vec::new();
    for target in container.start..=container.end {
        let offset = target - container.start;
        let published = host.map(|host| {
            if container_span == 0 && host.start != host.end {
                format!("{}-{}", host.start, host.end)
            } else {
                // Equal spans: paired one to one, so this cannot overflow.
                host.start.saturating_add(offset).to_string()
            }
        });
        ports.push(ParsedPort {
            host_ip: host_ip.clone(),
            target,
            published,
            protocol: protocol.clone(),
        });
    }
    // Compose sorts by the text "<port>/<protocol>".
    ports.sort_by_cached_key(|p| format!("{}/{}", p.target, p.protocol));
    Ok(ports)
}

/// Parses a `ports:` entry written as a YAML integer (`ports: [80]`), the
/// way Compose does: as its decimal text.
pub fn parse_port_number(value: i64) -> Result<Vec<ParsedPort>, String> {
    parse_port(&value.to_string())
}

/// Reads the long syntax's `published` value as the engine will: a port or
/// a `START-END` range of ports to pick from. `Ok(None)` for an empty value
/// (random host port). Compose's `config` prints the value verbatim.
pub fn parse_published(text: &str) -> Result<Option<PortRange>, String> {
    if text.is_empty() {
        return Ok(None);
    }
    parse_range(text)
        .map(Some)
        .map_err(|why| format!("invalid published port {text:?}: host {why}"))
}

/// Splits `80/udp` into (protocol, port) like go-connections'
/// `SplitProtoPort`: no protocol means tcp; empty text or an empty port gives
/// two empty strings.
fn split_protocol(text: &str) -> (&str, &str) {
    let mut parts = text.split('/');
    let port = parts.next().unwrap_or_default();
    if port.is_empty() {
        return ("", "");
    }
    match parts.next() {
        None | Some("") => ("tcp", port),
        Some(protocol) => (protocol, port),
    }
}

/// `[addr]` -> `addr`, with the rules of Go's `net.SplitHostPort`: the first
/// `]` must be the last character and no other `[` may appear.
fn strip_brackets(text: &str) -> Option<&str> {
    let inner = text.strip_prefix('[')?.strip_suffix(']')?;
    (!inner.contains('[') && !inner.contains(']')).then_some(inner)
}

/// Parses `N` or `START-END` (go-connections `ParsePortRange`). The error
/// text starts with "port" so callers can put "host" or "container" before it.
fn parse_range(text: &str) -> Result<PortRange, String> {
    let Some((first, rest)) = text.split_once('-') else {
        let port = parse_port_value(text)?;
        return Ok(PortRange {
            start: port,
            end: port,
        });
    };
    // Like Compose, anything after a second '-' is ignored.
    let second = rest.split('-').next().unwrap_or_default();
    let start = parse_port_value(first)?;
    let end = parse_port_value(second)?;
    if end < start {
        return Err(format!("port range {text} ends before it starts"));
    }
    Ok(PortRange { start, end })
}

/// A port number in plain decimal digits, 0-65535.
fn parse_port_value(text: &str) -> Result<u16, String> {
    if text.is_empty() || !text.bytes().all(|c| c.is_ascii_digit()) {
        return Err(format!("port {text:?} is not a number"));
    }
    text.parse::<u16>()
        .map_err(|_| format!("port {text} is out of range (0-65535)"))
}

/// Whether `text` is an IP address literal as Go's `net.ParseIP` accepts it:
/// dotted IPv4 without leading zeros, or IPv6 (with an optional trailing
/// dotted IPv4), without zone.
pub fn is_ip_address(text: &str) -> bool {
    match text.bytes().find(|&c| c == b'.' || c == b':' || c == b'%') {
        Some(b'.') => parse_ipv4(text.as_bytes()).is_some(),
        Some(b':') => parse_ipv6(text.as_bytes()),
        _ => false,
    }
}

/// Dotted-quad IPv4: four fields of 0-255, no leading zeros.
fn parse_ipv4(text: &[u8]) -> Option<[u8; 4]> {
    let mut fields = [0u8; 4];
    let mut count = 0usize;
    for field in text.split(|&c| c == b'.') {
        if field.is_empty() || (field.len() > 1 && field.first() == Some(&b'0')) {
            return None;
        }
        if !field.iter().all(u8::is_ascii_digit) || field.len() > 3 {
            return None;
        }
        let value = field
            .iter()
            .fold(0u32, |acc, &d| acc * 10 + u32::from(d - b'0'));
        *fields.get_mut(count)? = u8::try_from(value).ok()?;
        count += 1;
    }
    (count == 4).then_some(fields)
}

/// IPv6 as Go's `netip.ParseAddr` reads it (a zone makes `net.ParseIP` fail).
fn parse_ipv6(text: &[u8]) -> bool {
    if text.contains(&b'%') {
        return false;
    }
    let mut rest = text;
    let mut groups = 0usize; // 16-bit groups filled, counting an IPv4 as 2
    let mut ellipsis = false;
    if rest.starts_with(b"::") {
        ellipsis = true;
        rest = rest.get(2..).unwrap_or_default();
        if rest.is_empty() {
            return true;
        }
    }
    while groups < 8 {
        let digits = rest.iter().take_while(|c| c.is_ascii_hexdigit()).count();
        if digits == 0 || digits > 4 {
            return false;
        }
        if rest.get(digits) == Some(&b'.') {
            // A trailing IPv4 takes the last two groups.
            if (!ellipsis && groups != 6) || groups + 2 > 8 {
                return false;
            }
            if parse_ipv4(rest).is_none() {
                return false;
            }
            groups += 2;
            rest = &[];
            break;
        }
        groups += 1;
        rest = rest.get(digits..).unwrap_or_default();
        if rest.is_empty() {
            break;
        }
        if rest.first() != Some(&b':') || rest.len() == 1 {
            return false;
        }
        rest = rest.get(1..).unwrap_or_default();
        if rest.first() == Some(&b':') {
            if ellipsis {
                return false;
            }
            ellipsis = true;
            rest = rest.get(1..).unwrap_or_default();
            if rest.is_empty() {
                break;
            }
        }
    }
    if !rest.is_empty() {
        return false;
    }
    if groups < 8 {
        ellipsis
    } else {
        // "::" must stand for at least one group of zeros.
        !ellipsis
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn port(ip: Option<&str>, target: u16, published: Option<&str>, protocol: &str) -> ParsedPort {
        ParsedPort {
            host_ip: ip.map(str::to_owned),
            target,
            published: published.map(str::to_owned),
            protocol: protocol.to_owned(),
        }
    }

    fn ok(spec: &str) -> Vec<ParsedPort> {
        parse_port(spec).unwrap_or_else(|e| panic!("{spec}: {e}"))
    }

    fn err(spec: &str) -> String {
        match parse_port(spec) {
            Ok(p) => panic!("{spec} should be refused, got {p:?}"),
            Err(e) => e,
        }
    }

    #[test]
    fn single_ports() {
        assert_eq!(ok("80"), [port(None, 80, None, "tcp")]);
        assert_eq!(ok("8080:80"), [port(None, 80, Some("8080"), "tcp")]);
        assert_eq!(ok("65535"), [port(None, 65535, None, "tcp")]);
        assert_eq!(ok("0080:080"), [port(None, 80, Some("80"), "tcp")]);
        assert_eq!(ok("0:80"), [port(None, 80, Some("0"), "tcp")]);
        assert_eq!(
            parse_port_number(80).unwrap(),
            [port(None, 80, None, "tcp")]
        );
    }

    #[test]
    fn host_ips() {
        assert_eq!(
            ok("127.0.0.1:8080:80"),
            [port(Some("127.0.0.1"), 80, Some("8080"), "tcp")]
        );
        assert_eq!(
            ok("[::1]:8080:80"),
            [port(Some("::1"), 80, Some("8080"), "tcp")]
        );
        assert_eq!(
            ok("::1:8080:80"),
            [port(Some("::1"), 80, Some("8080"), "tcp")]
        );
        assert_eq!(
            ok("::ffff:1.2.3.4:80:80"),
            [port(Some("::ffff:1.2.3.4"), 80, Some("80"), "tcp")]
        );
        assert_eq!(
            ok("[127.0.0.1]:80:80"),
            [port(Some("127.0.0.1"), 80, Some("80"), "tcp")]
        );
        assert_eq!(ok("[]:80:80"), [port(None, 80, Some("80"), "tcp")]);
        assert_eq!(
            ok("127.0.0.1::80"),
            [port(Some("127.0.0.1"), 80, None, "tcp")]
        );
        assert_eq!(ok("1.2.3.4::80"), [port(Some("1.2.3.4"), 80, None, "tcp")]);
        assert_eq!(ok(":80"), [port(None, 80, None, "tcp")]);
        assert_eq!(ok("::80"), [port(None, 80, None, "tcp")]);
    }

    #[test]
    fn protocols() {
        assert_eq!(ok("80/udp"), [port(None, 80, None, "udp")]);
        assert_eq!(ok("80/sctp"), [port(None, 80, None, "sctp")]);
        assert_eq!(ok("80/TCP"), [port(None, 80, None, "tcp")]);
        assert_eq!(ok("80/"), [port(None, 80, None, "tcp")]);
        assert_eq!(ok("80/tcp/x"), [port(None, 80, None, "tcp")]);
        assert_eq!(ok("80//udp"), [port(None, 80, None, "tcp")]);
    }

    #[test]
    fn ranges() {
        assert_eq!(
            ok("8000-8010:80"),
            [port(None, 80, Some("8000-8010"), "tcp")]
        );
        assert_eq!(ok("8000-8000:80"), [port(None, 80, Some("8000"), "tcp")]);
        assert_eq!(ok("8080:80-80"), [port(None, 80, Some("8080"), "tcp")]);
        assert_eq!(
            ok("3000-3002"),
            [
                port(None, 3000, None, "tcp"),
                port(None, 3001, None, "tcp"),
                port(None, 3002, None, "tcp"),
            ]
        );
        assert_eq!(
            ok("127.0.0.1:8000-8001:80-81/udp"),
            [
                port(Some("127.0.0.1"), 80, Some("8000"), "udp"),
                port(Some("127.0.0.1"), 81, Some("8001"), "udp"),
            ]
        );
        assert_eq!(
            ok("8000-8001:80-81/UDP"),
            [
                port(None, 80, Some("8000"), "udp"),
                port(None, 81, Some("8001"), "udp")
            ]
        );
        // Compose ignores what follows a second '-'.
        assert_eq!(
            ok("80-81-82"),
            [port(None, 80, None, "tcp"), port(None, 81, None, "tcp")]
        );
        assert_eq!(
            ok("8000-8001-9:80"),
            [port(None, 80, Some("8000-8001"), "tcp")]
        );
        assert_eq!(ok("1-65535").len(), 65535);
    }

    #[test]
    fn order_is_compose_text_order() {
        let targets: Vec<u16> = ok("8-10").iter().map(|p| p.target).collect();
        assert_eq!(targets, [10, 8, 9]);
        let pairs: Vec<(u16, Option<String>)> = ok("1008-1010:98-100")
            .into_iter()
            .map(|p| (p.target, p.published))
            .collect();
        assert_eq!(
            pairs,
            [
                (100, Some("1010".to_owned())),
                (98, Some("1008".to_owned())),
                (99, Some("1009".to_owned())),
            ]
        );
    }

    #[test]
    fn errors() {
        assert_eq!(
            err("80:abc"),
            "invalid port \"80:abc\": container port \"abc\" is not a number"
        );
        assert_eq!(
            err("70000:80"),
            "invalid port \"70000:80\": host port 70000 is out of range (0-65535)"
        );
        assert_eq!(
            err("65536"),
            "invalid port \"65536\": container port 65536 is out of range (0-65535)"
        );
        assert_eq!(
            err("80:0"),
            "invalid port \"80:0\": container port must not be 0"
        );
        assert_eq!(err("0"), "invalid port \"0\": container port must not be 0");
        assert_eq!(
            err("0-2"),
            "invalid port \"0-2\": container port must not be 0"
        );
        assert_eq!(
            err("8000-8001:80-82"),
            "invalid port \"8000-8001:80-82\": host port range 8000-8001 and container port range 80-82 have different lengths"
        );
        assert_eq!(
            err("80:80-81"),
            "invalid port \"80:80-81\": host port range 80 and container port range 80-81 have different lengths"
        );
        assert_eq!(
            err("80/xyz"),
            "invalid port \"80/xyz\": protocol \"xyz\" must be tcp, udp or sctp"
        );
        assert_eq!(
            err("80-79"),
            "invalid port \"80-79\": container port range 80-79 ends before it starts"
        );
        assert_eq!(
            err("localhost:80:80"),
            "invalid port \"localhost:80:80\": host IP \"localhost\" is not an IP address"
        );
        assert_eq!(
            err("[::1]x:80:80"),
            "invalid port \"[::1]x:80:80\": host IP \"[::1]x\" must be an address in brackets, like [::1]"
        );
        assert_eq!(err("80:"), "invalid port \"80:\": no container port");
        assert_eq!(err("/tcp"), "invalid port \"/tcp\": no container port");
        assert_eq!(err(""), "invalid port \"\": no container port");
        for bad in [
            "+80",
            " 80",
            "80 ",
            "1.2.3.4:80",
            ":::80",
            "[[::1]]:80:80",
            "fe80::1%eth0:80:80",
            "127.0.0.01:80:80",
            "8000-8010:80-81",
            "80-",
            "-80",
            "a-b",
            "1:2:3:4",
            "80:80:80:80",
            "1-2/udp:80",
            "٨٠",
        ] {
            assert!(parse_port(bad).is_err(), "{bad:?} should be refused");
        }
        assert!(parse_port_number(-80).is_err());
        assert!(parse_port_number(0).is_err());
        assert!(parse_port_number(65536).is_err());
    }

    #[test]
    fn published_long_form() {
        assert_eq!(parse_published(""), Ok(None));
        assert_eq!(
            parse_published("8080"),
            Ok(Some(PortRange {
                start: 8080,
                end: 8080
            }))
        );
        assert_eq!(
            parse_published("08080"),
            Ok(Some(PortRange {
                start: 8080,
                end: 8080
            }))
        );
        assert_eq!(
            parse_published("8000-8010"),
            Ok(Some(PortRange {
                start: 8000,
                end: 8010
            }))
        );
        assert_eq!(
            parse_published("abc").unwrap_err(),
            "invalid published port \"abc\": host port \"abc\" is not a number"
        );
        assert!(parse_published("8001-8000").is_err());
        assert!(parse_published("70000").is_err());
    }

    #[test]
    fn ip_addresses_like_go() {
        for good in [
            "127.0.0.1",
            "0.0.0.0",
            "255.255.255.255",
            "::",
            "::1",
            "1::",
            "1:2:3:4:5:6:7:8",
            "1:2:3:4:5:6:7::",
            "::2:3:4:5:6:7:8",
            "::ffff:1.2.3.4",
            "::1.2.3.4",
            "1:2:3:4:5:6:1.2.3.4",
            "1::1.2.3.4",
            "FE80::ABCD",
            "0000:0000::0",
        ] {
            assert!(is_ip_address(good), "{good} should be accepted");
        }
        for bad in [
            "",
            "localhost",
            "1.2.3",
            "1.2.3.4.5",
            "01.2.3.4",
            "1.2.3.256",
            "1..2.3",
            ".1.2.3",
            "1.2.3.4.",
            "1.2.3.-4",
            "1:2:3:4:5:6:7:8:9",
            "1:2:3:4:5:6:7:8::",
            "::1:2:3:4:5:6:7:8",
            "1::2::3",
            "12345::",
            ":1",
            "1:",
            "1:::2",
            "fe80::1%eth0",
            "%eth0",
            "::ffff:01.2.3.4",
            "1:2:3:4:5:6:7:1.2.3.4",
            "1.2.3.4::",
            "::1.2.3",
            ":::",
            "g::",
            "1:2:3:4:5:1.2.3.4",
            "0x1.2.3.4",
            "1.2.3.0004",
            "::1 ",
        ] {
            assert!(!is_ip_address(bad), "{bad:?} should be refused");
        }
    }

    #[test]
    fn never_panics_on_odd_input() {
        let pieces = [
            "1", ":", "-", "/", "[", "]", "0", "65535", "65536", "udp", ".", "é", "",
        ];
        for a in pieces {
            for b in pieces {
                for c in pieces {
                    for d in pieces {
                        let _ = parse_port(&format!("{a}{b}{c}{d}"));
                    }
                }
            }
        }
    }
}
