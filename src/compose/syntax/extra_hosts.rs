//! `extra_hosts` entries: `host:ip`, `host=ip` (IPv6 addresses may contain
//! colons, so `=` is tried first and `:` splits at the first colon).

/// Splits an entry into host name and address.
pub fn parse_entry(text: &str) -> Result<(String, String), String> {
    let (host, ip) = match text.split_once('=') {
        Some(pair) => pair,
        None => text.split_once(':').ok_or_else(|| {
            format!("invalid extra_hosts entry {text:?}: expected HOST:IP or HOST=IP")
        })?,
    };
    let host = host.trim();
    let ip = ip.trim().trim_start_matches('[').trim_end_matches(']');
    if host.is_empty() || ip.is_empty() {
        return Err(format!(
            "invalid extra_hosts entry {text:?}: expected HOST:IP or HOST=IP"
        ));
    }
    Ok((host.to_string(), ip.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries() {
        assert_eq!(
            parse_entry("somehost:162.242.195.82"),
            Ok(("somehost".into(), "162.242.195.82".into()))
        );
        assert_eq!(
            parse_entry("other=1.2.3.4"),
            Ok(("other".into(), "1.2.3.4".into()))
        );
        assert_eq!(parse_entry("v6:::1"), Ok(("v6".into(), "::1".into())));
        assert_eq!(parse_entry("v6=[::1]"), Ok(("v6".into(), "::1".into())));
        assert_eq!(
            parse_entry("gw:host-gateway"),
            Ok(("gw".into(), "host-gateway".into()))
        );
        assert!(parse_entry("nohost").is_err());
        assert!(parse_entry(":1.2.3.4").is_err());
    }
}
