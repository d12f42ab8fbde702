//! The project's dependency graph (services, networks, volumes) on petgraph:
//! start order in parallel levels, reverse order for stop, dependencies and
//! dependents of a service, cycle detection; rendered as text, DOT or Mermaid
//! for `berth graph`. It takes plain input data, not the Compose model.

use petgraph::algo::tarjan_scc;
use petgraph::graphmap::DiGraphMap;
use petgraph::Direction;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;

/// What the graph is built from.
#[derive(Debug, Clone, Default)]
pub struct GraphInput {
    pub services: Vec<ServiceDeps>,
    pub networks: Vec<String>,
    pub volumes: Vec<String>,
}

/// A service and what it needs.
#[derive(Debug, Clone, Default)]
pub struct ServiceDeps {
    pub name: String,
    pub needs: Vec<Dependency>,
    pub networks: Vec<String>,
    pub volumes: Vec<String>,
}

/// One edge: this service needs `service`, for this reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dependency {
    pub service: String,
    pub kind: DependencyKind,
}

/// Why one service needs another.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DependencyKind {
    DependsOn {
        condition: String,
        required: bool,
        restart: bool,
    },
    Link,
    NetworkMode,
    Ipc,
    Pid,
    VolumesFrom,
}

impl DependencyKind {
    /// A short label for renderings: the condition, or the kind.
    pub fn label(&self) -> String {
        match self {
            DependencyKind::DependsOn {
                condition,
                required,
                ..
            } => {
                if *required {
                    condition.clone()
                } else {
                    format!("{condition}, optional")
                }
            }
            DependencyKind::Link => "link".into(),
            DependencyKind::NetworkMode => "network_mode".into(),
            DependencyKind::Ipc => "ipc".into(),
            DependencyKind::Pid => "pid".into(),
            DependencyKind::VolumesFrom => "volumes_from".into(),
        }
    }

    /// The service attribute that declares this kind of dependency.
    pub fn attribute(&self) -> &'static str {
        match self {
            DependencyKind::DependsOn { .. } => "depends_on",
            DependencyKind::Link => "links",
            DependencyKind::NetworkMode => "network_mode",
            DependencyKind::Ipc => "ipc",
            DependencyKind::Pid => "pid",
            DependencyKind::VolumesFrom => "volumes_from",
        }
    }

    fn verb(&self) -> &'static str {
        match self {
            DependencyKind::DependsOn { .. } => "depends on",
            DependencyKind::Link => "links to",
            DependencyKind::NetworkMode => "uses the network_mode of",
            DependencyKind::Ipc => "uses the ipc namespace of",
            DependencyKind::Pid => "uses the pid namespace of",
            DependencyKind::VolumesFrom => "uses volumes_from",
        }
    }
}

/// Why a graph could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GraphError {
    #[error("service {service:?} {verb} undefined service {missing:?}")]
    UndefinedService {
        service: String,
        verb: &'static str,
        attribute: &'static str,
        missing: String,
    },
    #[error("dependency cycle between services: {}", .0.join(" -> "))]
    Cycle(Vec<String>),
}

/// The dependency graph of a project's services.
#[derive(Debug, Clone)]
pub struct ProjectGraph {
    names: Vec<String>,
    /// Edge a -> b: a needs b.
    graph: DiGraphMap<usize, ()>,
    edges: BTreeMap<(usize, usize), Vec<DependencyKind>>,
    networks: BTreeMap<String, Vec<String>>,
    volumes: BTreeMap<String, Vec<String>>,
}

impl ProjectGraph {
    /// Builds the graph; refuses undefined services and cycles.
    pub fn new(input: &GraphInput) -> Result<Self, GraphError> {
        let mut names: Vec<String> = input.services.iter().map(|s| s.name.clone()).collect();
        names.sort();
        names.dedup();
        let index: BTreeMap<&str, usize> = names
            .iter()
            .enumerate()
            .map(|(i, n)| (n.as_str(), i))
            .collect();
        let mut graph = DiGraphMap::new();
        for i in 0..names.len() {
            graph.add_node(i);
        }
        let mut edges: BTreeMap<(usize, usize), Vec<DependencyKind>> = BTreeMap::new();
        let mut networks: BTreeMap<String, Vec<String>> = input
            .networks
            .iter()
            .map(|n| (n.clone(), Vec::new()))
            .collect();
        let mut volumes: BTreeMap<String, Vec<String>> = input
            .volumes
            .iter()
            .map(|v| (v.clone(), Vec::new()))
            .collect();
        let mut services: Vec<&ServiceDeps> = input.services.iter().collect();
        services.sort_by(|a, b| a.name.cmp(&b.name));
        for service in services {
            let from = index[service.name.as_str()];
            for dep in &service.needs {
                let Some(&to) = index.get(dep.service.as_str()) else {
                    return Err(GraphError::UndefinedService {
                        service: service.name.clone(),
                        verb: dep.kind.verb(),
                        attribute: dep.kind.attribute(),
                        missing: dep.service.clone(),
                    });
                };
                graph.add_edge(from, to, ());
                edges.entry((from, to)).or_default().push(dep.kind.clone());
            }
            for n in &service.networks {
                networks
                    .entry(n.clone())
                    .or_default()
                    .push(service.name.clone());
            }
            for v in &service.volumes {
                volumes
                    .entry(v.clone())
                    .or_default()
                    .push(service.name.clone());
            }
        }
        let g = ProjectGraph {
            names,
            graph,
            edges,
            networks,
            volumes,
        };
        g.check_cycles()?;
        Ok(g)
    }

    fn check_cycles(&self) -> Result<(), GraphError> {
        for i in 0..self.names.len() {
            if self.graph.contains_edge(i, i) {
                return Err(GraphError::Cycle(vec![
                    self.names[i].clone(),
                    self.names[i].clone(),
                ]));
            }
        }
        let mut cycles: Vec<Vec<usize>> = tarjan_scc(&self.graph)
            .into_iter()
            .filter(|c| c.len() > 1)
            .collect();
        cycles.sort_by_key(|c| c.iter().min().copied());
        let Some(component) = cycles.first() else {
            return Ok(());
        };
        // Walk the cycle from its smallest name, following edges inside the component.
        let members: BTreeSet<usize> = component.iter().copied().collect();
        let start = *members.iter().next().unwrap_or(&0);
        let mut path = vec![start];
        let mut current = start;
        loop {
            let next = self
                .graph
                .neighbors_directed(current, Direction::Outgoing)
                .filter(|n| members.contains(n))
                .min_by_key(|n| if *n == start { 0 } else { n + 1 });
            match next {
                Some(n) if n == start => break,
                Some(n) if !path.contains(&n) => {
                    path.push(n);
                    current = n;
                }
                _ => break,
            }
        }
        path.push(start);
        Err(GraphError::Cycle(
            path.into_iter().map(|i| self.names[i].clone()).collect(),
        ))
    }

    /// Service names, sorted.
    pub fn services(&self) -> &[String] {
        &self.names
    }

    fn idx(&self, name: &str) -> Option<usize> {
        self.names.binary_search_by(|n| n.as_str().cmp(name)).ok()
    }

    /// Levels of services; each level only needs earlier ones (start in parallel).
    pub fn start_levels(&self) -> Vec<Vec<String>> {
        self.levels(Direction::Outgoing)
    }

    /// Levels for stopping: dependents before what they depend on.
    pub fn stop_levels(&self) -> Vec<Vec<String>> {
        self.levels(Direction::Incoming)
    }

    fn levels(&self, wait_on: Direction) -> Vec<Vec<String>> {
        let n = self.names.len();
        let mut level = vec![0usize; n];
        let mut remaining: Vec<usize> = (0..n)
            .map(|i| self.graph.neighbors_directed(i, wait_on).count())
            .collect();
        let mut ready: Vec<usize> = (0..n).filter(|i| remaining[*i] == 0).collect();
        let mut done = 0;
        while let Some(i) = ready.pop() {
            done += 1;
            for j in self.graph.neighbors_directed(i, wait_on.opposite()) {
                level[j] = level[j].max(level[i] + 1);
                remaining[j] -= 1;
                if remaining[j] == 0 {
                    ready.push(j);
                }
            }
        }
        debug_assert_eq!(done, n, "cycles are refused in new()");
        let depth = level.iter().copied().max().map_or(0, |m| m + 1);
        let mut out = vec![Vec::new(); if n == 0 { 0 } else { depth }];
        for (i, l) in level.iter().enumerate() {
            out[*l].push(self.names[i].clone());
        }
        out
    }

    /// What `service` needs (directly, or transitively).
    pub fn dependencies(&self, service: &str, transitive: bool) -> Vec<String> {
        self.walk(service, Direction::Outgoing, transitive)
    }

    /// Who needs `service` (directly, or transitively).
    pub fn dependents(&self, service: &str, transitive: bool) -> Vec<String> {
        self.walk(service, Direction::Incoming, transitive)
    }

    fn walk(&self, service: &str, dir: Direction, transitive: bool) -> Vec<String> {
        let Some(start) = self.idx(service) else {
            return Vec::new();
        };
        let mut seen = BTreeSet::new();
        let mut todo = vec![start];
        while let Some(i) = todo.pop() {
            for j in self.graph.neighbors_directed(i, dir) {
                if seen.insert(j) && transitive {
                    todo.push(j);
                }
            }
        }
        seen.remove(&start);
        seen.into_iter().map(|i| self.names[i].clone()).collect()
    }

    /// The named services plus everything they transitively need, sorted.
    pub fn subset_with_dependencies(&self, names: &[String]) -> Vec<String> {
        let mut out: BTreeSet<String> = BTreeSet::new();
        for name in names {
            if self.idx(name).is_some() {
                out.insert(name.clone());
                out.extend(self.dependencies(name, true));
            }
        }
        out.into_iter().collect()
    }

    fn edge_list(&self) -> Vec<(&str, &str, String)> {
        self.edges
            .iter()
            .map(|((a, b), kinds)| {
                let label = kinds
                    .iter()
                    .map(DependencyKind::label)
                    .collect::<Vec<_>>()
                    .join(", ");
                (self.names[*a].as_str(), self.names[*b].as_str(), label)
            })
            .collect()
    }

    /// Human-readable text: start levels, edges, networks and volumes.
    pub fn render_text(&self) -> String {
        let mut out = String::from("Start order (services on one level start in parallel):\n");
        for (i, level) in self.start_levels().iter().enumerate() {
            let _ = writeln!(out, "  level {i}: {}", level.join(", "));
        }
        let edges = self.edge_list();
        if !edges.is_empty() {
            out.push_str("\nDependencies:\n");
            for (a, b, label) in edges {
                let _ = writeln!(out, "  {a} -> {b} ({label})");
            }
        }
        for (title, map) in [("Networks", &self.networks), ("Volumes", &self.volumes)] {
            if map.is_empty() {
                continue;
            }
            let _ = writeln!(out, "\n{title}:");
            for (name, users) in map {
                let users = if users.is_empty() {
                    "(unused)".to_string()
                } else {
                    users.join(", ")
                };
                let _ = writeln!(out, "  {name}: {users}");
            }
        }
        out
    }

    /// Graphviz DOT.
    pub fn render_dot(&self) -> String {
        let q = |s: &str| format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""));
        let mut out =
            String::from("digraph compose {\n  rankdir=LR;\n  node [fontname=\"Helvetica\"];\n");
        for name in &self.names {
            let _ = writeln!(
                out,
                "  {} [shape=box, label={}];",
                q(&format!("service:{name}")),
                q(name)
            );
        }
        for name in self.networks.keys() {
            let _ = writeln!(
                out,
                "  {} [shape=ellipse, label={}];",
                q(&format!("network:{name}")),
                q(&format!("network {name}"))
            );
        }
        for name in self.volumes.keys() {
            let _ = writeln!(
                out,
                "  {} [shape=cylinder, label={}];",
                q(&format!("volume:{name}")),
                q(&format!("volume {name}"))
            );
        }
        for (a, b, label) in self.edge_list() {
            let _ = writeln!(
                out,
                "  {} -> {} [label={}];",
                q(&format!("service:{a}")),
                q(&format!("service:{b}")),
                q(&label)
            );
        }
        for (prefix, map) in [("network", &self.networks), ("volume", &self.volumes)] {
            for (name, users) in map {
                for user in users {
                    let _ = writeln!(
                        out,
                        "  {} -> {} [style=dashed];",
                        q(&format!("service:{user}")),
                        q(&format!("{prefix}:{name}"))
                    );
                }
            }
        }
        out.push_str("}\n");
        out
    }

    /// Mermaid flowchart.
    pub fn render_mermaid(&self) -> String {
        let id = |prefix: &str, s: &str| {
            let clean: String = s
                .chars()
                .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
                .collect();
            format!("{prefix}_{clean}")
        };
        let label = |s: &str| s.replace('"', "#quot;");
        let mut out = String::from("flowchart TD\n");
        for name in &self.names {
            let _ = writeln!(out, "  {}[\"{}\"]", id("svc", name), label(name));
        }
        for name in self.networks.keys() {
            let _ = writeln!(out, "  {}([\"network {}\"])", id("net", name), label(name));
        }
        for name in self.volumes.keys() {
            let _ = writeln!(out, "  {}[(\"volume {}\")]", id("vol", name), label(name));
        }
        for (a, b, l) in self.edge_list() {
            let _ = writeln!(
                out,
                "  {} -->|\"{}\"| {}",
                id("svc", a),
                label(&l),
                id("svc", b)
            );
        }
        for (prefix, map) in [("net", &self.networks), ("vol", &self.volumes)] {
            for (name, users) in map {
                for user in users {
                    let _ = writeln!(out, "  {} -.- {}", id("svc", user), id(prefix, name));
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn svc(name: &str, needs: &[&str]) -> ServiceDeps {
        ServiceDeps {
            name: name.into(),
            needs: needs
                .iter()
                .map(|n| Dependency {
                    service: n.to_string(),
                    kind: DependencyKind::DependsOn {
                        condition: "service_started".into(),
                        required: true,
                        restart: false,
                    },
                })
                .collect(),
            ..ServiceDeps::default()
        }
    }

    fn graph(services: Vec<ServiceDeps>) -> Result<ProjectGraph, GraphError> {
        ProjectGraph::new(&GraphInput {
            services,
            ..GraphInput::default()
        })
    }

    #[test]
    fn diamond_levels_and_dependents() {
        let g = graph(vec![
            svc("web", &["api", "cache"]),
            svc("api", &["db"]),
            svc("cache", &["db"]),
            svc("db", &[]),
        ])
        .unwrap();
        assert_eq!(
            g.start_levels(),
            vec![vec!["db"], vec!["api", "cache"], vec!["web"]]
        );
        assert_eq!(
            g.stop_levels(),
            vec![vec!["web"], vec!["api", "cache"], vec!["db"]]
        );
        assert_eq!(g.dependents("db", true), vec!["api", "cache", "web"]);
        assert_eq!(g.dependents("db", false), vec!["api", "cache"]);
        assert_eq!(g.dependencies("web", true), vec!["api", "cache", "db"]);
        assert_eq!(
            g.subset_with_dependencies(&["api".into()]),
            vec!["api", "db"]
        );
    }

    #[test]
    fn independent_services_share_a_level() {
        let g = graph(vec![svc("b", &[]), svc("a", &[]), svc("c", &["a"])]).unwrap();
        assert_eq!(g.start_levels(), vec![vec!["a", "b"], vec!["c"]]);
    }

    #[test]
    fn cycles_are_named() {
        let err = graph(vec![svc("a", &["b"]), svc("b", &["c"]), svc("c", &["a"])]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "dependency cycle between services: a -> b -> c -> a"
        );
        let err = graph(vec![svc("a", &["b"]), svc("b", &["a"])]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "dependency cycle between services: a -> b -> a"
        );
        let err = graph(vec![svc("a", &["a"])]).unwrap_err();
        assert_eq!(err.to_string(), "dependency cycle between services: a -> a");
    }

    #[test]
    fn undefined_dependency() {
        let err = graph(vec![svc("web", &["db"])]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "service \"web\" depends on undefined service \"db\""
        );
    }

    #[test]
    fn renderings() {
        let mut web = svc("web", &["db"]);
        web.networks = vec!["front".into()];
        let g = ProjectGraph::new(&GraphInput {
            services: vec![web, svc("db", &[])],
            networks: vec!["front".into()],
            volumes: vec![],
        })
        .unwrap();
        let text = g.render_text();
        assert!(
            text.contains("level 0: db")
                && text.contains("level 1: web")
                && text.contains("web -> db (service_started)"),
            "{text}"
        );
        assert!(text.contains("front: web"), "{text}");
        let dot = g.render_dot();
        assert!(
            dot.starts_with("digraph compose {")
                && dot.contains("\"service:web\" -> \"service:db\""),
            "{dot}"
        );
        let mermaid = g.render_mermaid();
        assert!(
            mermaid.starts_with("flowchart TD")
                && mermaid.contains("svc_web -->|\"service_started\"| svc_db"),
            "{mermaid}"
        );
    }

    #[test]
    fn large_graphs_are_fast() {
        let services: Vec<ServiceDeps> = (0..1000)
            .map(|i| {
                if i == 0 {
                    svc("s0", &[])
                } else {
                    svc(&format!("s{i}"), &[&format!("s{}", i - 1)])
                }
            })
            .collect();
        let start = std::time::Instant::now();
        let g = graph(services).unwrap();
        assert_eq!(g.start_levels().len(), 1000);
        assert!(start.elapsed() < std::time::Duration::from_secs(2));
    }
}
