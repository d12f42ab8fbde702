//! The project's dependency graph (services, networks, volumes) on petgraph:
//! start order in parallel levels, reverse order for stop, dependents of a
//! service, cycle detection; rendered as text, DOT or Mermaid for `berth graph`.
