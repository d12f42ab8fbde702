//! The per-project supervisor's pieces: health checks (this module so far);
//! restart policies, the embedded DNS and port proxies join as they land.

pub mod health;
