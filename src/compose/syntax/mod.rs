//! Parsers for the short syntaxes of Compose values: ports, volumes,
//! durations, byte sizes, shell-split command strings, extra_hosts.
//! Pure functions from strings to typed values, with messages fit to follow
//! `services.web.ports[0]: `.

pub mod bytes;
pub mod duration;
pub mod extra_hosts;
pub mod port;
pub mod shell;
pub mod volume;
