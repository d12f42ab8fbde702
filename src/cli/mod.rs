//! The command-line edge: argument parsing and one module per command.

/// Runs berth with the process arguments; returns the exit code.
pub fn run() -> anyhow::Result<i32> {
    Ok(0)
}
