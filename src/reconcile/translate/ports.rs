//! `ports:` as the supervisor publishes them: each entry checked and turned
//! into a [`PortRequest`] (protocol, host address, host ports to try), so an
//! entry berth cannot publish is refused before anything is made.

use berth_runtime::ports::Protocol;

use super::{FieldError, PortRequest};
use crate::compose::model::networking::ServicePort;
use crate::compose::model::Service;

/// `ports:` entries of `service` as requests; errors name the entry.
pub fn port_requests(service: &Service) -> Result<Vec<PortRequest>, FieldError> {
    service
        .ports
        .iter()
        .enumerate()
        .map(|(index, port)| {
            port_request(port)
                .map_err(|message| FieldError::new(&format!("ports[{index}]"), message))
        })
        .collect()
}

/// One `ports:` entry.
fn port_request(port: &ServicePort) -> Result<PortRequest, String> {
    let protocol = match port.protocol.as_str() {
        "" | "tcp" => Protocol::Tcp,
        "udp" => Protocol::Udp,
        other => return Err(format!("protocol {other:?} is not supported (tcp or udp)")),
    };
    let host_ip = match port.host_ip.as_deref().filter(|ip| !ip.is_empty()) {
        Some(ip) => Some(
            ip.trim_matches(['[', ']'])
                .parse()
                .map_err(|_| format!("invalid host_ip {ip:?}"))?,
        ),
        None => None,
    };
    let host_ports = match port.published.as_deref().filter(|p| !p.is_empty()) {
        None => Vec::new(),
        Some(text) => {
            let (start, end) = text.split_once('-').unwrap_or((text, text));
            let parse = |p: &str| {
                p.parse::<u16>()
                    .map_err(|_| format!("invalid published port {text:?}"))
            };
            let (start, end) = (parse(start)?, parse(end)?);
            if start > end {
                return Err(format!("invalid published range {text:?}"));
            }
            (start..=end).collect()
        }
    };
    Ok(PortRequest {
        host_ip,
        host_ports,
        target: port.target,
        protocol,
    })
}
