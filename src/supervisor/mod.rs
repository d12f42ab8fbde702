//! The per-project supervisor: health checks and restart policies (the
//! rules, and probes run inside containers) and the long-running process
//! that applies them ([`process`]). The embedded DNS and the port proxies
//! join it as the networking pieces land.

pub mod control;
pub mod health;
pub mod process;
pub mod restart;
