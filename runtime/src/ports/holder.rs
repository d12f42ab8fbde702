//! Who holds a port: the socket's inode from `/proc/net/{tcp,udp}{,6}`,
//! matched against the `socket:[inode]` links under `/proc/*/fd`.

use std::fs;

use super::Protocol;

/// "process 1234 (nginx)" for a listening port, when it can be found.
pub fn port_holder(port: u16, protocol: Protocol) -> Option<String> {
    let tables: &[&str] = match protocol {
        Protocol::Tcp => &["/proc/net/tcp", "/proc/net/tcp6"],
        Protocol::Udp => &["/proc/net/udp", "/proc/net/udp6"],
    };
    let inode = tables.iter().find_map(|table| {
        let text = fs::read_to_string(table).ok()?;
        text.lines().skip(1).find_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let local_port = fields.get(1)?.rsplit(':').next()?;
            let listening = protocol == Protocol::Udp || fields.get(3) == Some(&"0A");
            (u16::from_str_radix(local_port, 16).ok()? == port && listening)
                .then(|| fields.get(9).map(|s| s.to_string()))?
        })
    })?;
    let target = format!("socket:[{inode}]");
    for entry in fs::read_dir("/proc").ok()?.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if !name.bytes().all(|b| b.is_ascii_digit()) {
            continue;
        }
        let Ok(fds) = fs::read_dir(entry.path().join("fd")) else {
            continue;
        };
        for fd in fds.flatten() {
            if fs::read_link(fd.path()).is_ok_and(|link| link.to_string_lossy() == target) {
                let comm = fs::read_to_string(entry.path().join("comm")).unwrap_or_default();
                return Some(format!("process {name} ({})", comm.trim()));
            }
        }
    }
    None
}
