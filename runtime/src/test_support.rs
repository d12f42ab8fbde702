//! Helpers shared by the runtime's unit tests: what this test process holds
//! (threads), for the tests that bound the servers' resources.

/// The number of threads of this process (`Threads:` of `/proc/self/status`).
pub fn threads() -> usize {
    std::fs::read_to_string("/proc/self/status")
        .unwrap()
        .lines()
        .find_map(|line| line.strip_prefix("Threads:"))
        .and_then(|n| n.trim().parse().ok())
        .unwrap()
}
