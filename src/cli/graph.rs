//! `berth graph`: the dependency graph as text, DOT or Mermaid.

use super::args::{GlobalOptions, GraphArgs, GraphFormat};
use super::project::load_project;
use crate::compose::graph_input;
use crate::graph::ProjectGraph;

pub fn run(global: &GlobalOptions, args: &GraphArgs) -> anyhow::Result<i32> {
    let loaded = load_project(global, &[], true)?;
    let project = &loaded.project;
    let mut input = graph_input(&project.services);
    input.networks = project.networks.keys().cloned().collect();
    input.volumes = project.volumes.keys().cloned().collect();
    let graph = ProjectGraph::new(&input)?;
    let text = match args.format {
        GraphFormat::Text => graph.render_text(),
        GraphFormat::Dot => graph.render_dot(),
        GraphFormat::Mermaid => graph.render_mermaid(),
    };
    print!("{text}");
    Ok(0)
}
