//! The per-project supervisor's pieces: health checks and restart policies
//! (the rules, and probes run inside containers); the long-running process
//! that applies them, serves the embedded DNS and the port proxies joins as
//! the networking pieces land.

pub mod health;
pub mod restart;
