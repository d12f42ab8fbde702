//! The embedded DNS: every container on a berth network resolves through
//! `127.0.0.11` inside its own network namespace. A long-lived process (the
//! project's supervisor; a test) serves it: [`table`] is the pure lookup,
//! swapped whole on change; [`answer`] turns a query into a reply or a
//! forward; [`server`] binds the sockets in each container's namespace and
//! forwards from the host's; [`redirect`] sends `127.0.0.11:53` to the
//! server's port with an nftables DNAT in the container's namespace, so a
//! container may run its own server on port 53; [`resolv`] writes the
//! container's `resolv.conf`.

pub mod answer;
pub mod redirect;
pub mod resolv;
pub mod server;
pub mod table;

pub use server::{DnsServer, Querier, ServingHandle};
pub use table::{DnsLink, DnsRecord, DnsTable};

/// The address containers resolve through.
pub const EMBEDDED_DNS: std::net::Ipv4Addr = std::net::Ipv4Addr::new(127, 0, 0, 11);
