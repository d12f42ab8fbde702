//! Benchmark: load and validate a generated 200-service project.
fn main() {}
