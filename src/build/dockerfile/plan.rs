//! The stage planner: splits a parsed Dockerfile into stages (names,
//! indices, bases), resolves the ARGs before the first FROM (usable in FROM
//! lines only), selects the `--target`, builds the dependency graph of
//! stages (`FROM <stage>`, `COPY/ADD --from=<stage|index|image>`,
//! `RUN --mount=…,from=`), refuses cycles, skips unreachable stages and
//! groups the rest in levels whose stages can be built in parallel.

use super::ast::{CopyArgs, Dockerfile, Instruction, Located};
use super::error::DockerfileError;
use super::mounts::RunMount;
use super::platform::{Platform, PROXY_ARGS};
use super::words::{expand, Quotes};
use indexmap::IndexMap;
use petgraph::algo::tarjan_scc;
use petgraph::graphmap::DiGraphMap;
use std::collections::{BTreeMap, BTreeSet};

/// What the user asked of the build.
#[derive(Debug, Clone)]
pub struct BuildOptions {
    /// `--target`: the stage to build; the last one when absent.
    pub target: Option<String>,
    /// `--build-arg NAME=VALUE`.
    pub build_args: BTreeMap<String, String>,
    /// The platform built for (the native one).
    pub platform: Platform,
}

impl Default for BuildOptions {
    fn default() -> Self {
        BuildOptions {
            target: None,
            build_args: BTreeMap::new(),
            platform: Platform::native(),
        }
    }
}

/// What a stage starts from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StageBase {
    Scratch,
    Image(String),
    Stage(usize),
}

/// Where `COPY --from=` or a mount's `from=` takes files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SourceRef {
    Stage(usize),
    Image(String),
}

/// One stage of the Dockerfile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stage {
    pub index: usize,
    /// `AS name`, lowercased.
    pub name: Option<String>,
    /// Line of its FROM.
    pub line: usize,
    pub base: StageBase,
    /// The instructions after its FROM.
    pub instructions: Vec<Located>,
    /// Stages it needs, each with the line and instruction that needs it.
    pub needs: Vec<(usize, usize, &'static str)>,
    /// Images it copies or mounts from (besides its base).
    pub images: Vec<String>,
}

impl Stage {
    /// `name` or `#index`, as messages show a stage.
    pub fn label(&self) -> String {
        match &self.name {
            Some(n) => n.clone(),
            None => format!("#{}", self.index),
        }
    }
}

/// The planned build.
#[derive(Debug, Clone)]
pub struct BuildPlan {
    pub file: String,
    pub escape: char,
    pub platform: Platform,
    pub stages: Vec<Stage>,
    pub target: usize,
    /// Stages the target needs (itself included), dependencies first.
    pub order: Vec<usize>,
    /// `order` grouped: every stage of a level only needs earlier levels.
    pub levels: Vec<Vec<usize>>,
    /// ARGs before the first FROM with their values (None: declared, unset).
    pub global_args: IndexMap<String, Option<String>>,
    pub build_args: BTreeMap<String, String>,
    /// `--build-arg`s no ARG declares (Docker warns about them).
    pub unused_build_args: Vec<String>,
    /// Things the user may want to know (`# syntax=` ignored, …).
    pub notes: Vec<String>,
}

/// The variables visible to an instruction: ENV first, then ARGs in scope.
#[derive(Debug, Clone, Default)]
pub(crate) struct Scope {
    pub env: IndexMap<String, String>,
    pub args: IndexMap<String, Option<String>>,
}

impl Scope {
    pub fn get(&self, name: &str) -> Option<String> {
        self.env
            .get(name)
            .cloned()
            .or_else(|| self.args.get(name).cloned().flatten())
    }

    pub fn expand(&self, word: &str, escape: char) -> Result<String, String> {
        expand(word, escape, &|n| self.get(n), Quotes::Process)
    }

    /// Declares `ARG name[=default]` in this scope.
    pub fn declare_arg(
        &mut self,
        name: &str,
        default: Option<&str>,
        escape: char,
        build_args: &BTreeMap<String, String>,
        inherited: &IndexMap<String, Option<String>>,
    ) -> Result<(), String> {
        let value = match build_args.get(name) {
            Some(v) => Some(v.clone()),
            None => match default {
                Some(d) => Some(self.expand(d, escape)?),
                None => inherited.get(name).cloned().flatten(),
            },
        };
        self.args.insert(name.to_string(), value);
        Ok(())
    }
}

/// Plans the build of `dockerfile` for `options`.
pub fn plan(dockerfile: &Dockerfile, options: &BuildOptions) -> Result<BuildPlan, DockerfileError> {
    let file = dockerfile.file.as_str();
    let escape = dockerfile.directives.escape;
    let err = |line: usize, kw: &str, msg: String| DockerfileError::new(file, line, kw, msg);
    let mut notes = Vec::new();
    if let Some(syntax) = &dockerfile.directives.syntax {
        notes.push(format!(
            "{file}: '# syntax={syntax}' is ignored: berth parses Dockerfiles with its built-in frontend"
        ));
    }

    // ARGs before the first FROM: global scope, for FROM lines only.
    let automatic: IndexMap<String, Option<String>> = options
        .platform
        .automatic_args()
        .into_iter()
        .map(|(k, v)| (k, Some(v)))
        .collect();
    let mut global = Scope {
        env: IndexMap::new(),
        args: automatic.clone(),
    };
    let mut declared: BTreeSet<String> = BTreeSet::new();
    let mut global_args = IndexMap::new();
    let mut iter = dockerfile.instructions.iter().peekable();
    while let Some(located) = iter.next_if(|l| !matches!(l.instruction, Instruction::From { .. })) {
        let Instruction::Arg(list) = &located.instruction else {
            return Err(err(
                located.line,
                located.instruction.keyword(),
                "only ARG may come before the first FROM".into(),
            ));
        };
        for (name, default) in list {
            global
                .declare_arg(
                    name,
                    default.as_deref(),
                    escape,
                    &options.build_args,
                    &automatic,
                )
                .map_err(|m| err(located.line, "ARG", m))?;
            declared.insert(name.clone());
            global_args.insert(name.clone(), global.args.get(name).cloned().flatten());
        }
    }

    // Stages: FROM lines and the instructions after them.
    let mut stages: Vec<Stage> = Vec::new();
    for located in iter {
        if let Instruction::From {
            image,
            name,
            platform,
        } = &located.instruction
        {
            let line = located.line;
            let image = global
                .expand(image, escape)
                .map_err(|m| err(line, "FROM", m))?;
            if image.is_empty() {
                return Err(err(
                    line,
                    "FROM",
                    "the image name is empty after substituting ARGs".into(),
                ));
            }
            if let Some(p) = platform {
                let p = global.expand(p, escape).map_err(|m| err(line, "FROM", m))?;
                if !options.platform.matches(&p) {
                    return Err(err(
                        line,
                        "FROM",
                        format!(
                            "--platform={p}: berth builds for the native platform only ({})",
                            options.platform.spec()
                        ),
                    ));
                }
            }
            if let Some(n) = name {
                if let Some(other) = stages.iter().find(|s| s.name.as_ref() == Some(n)) {
                    return Err(err(
                        line,
                        "FROM",
                        format!(
                            "duplicate stage name '{n}' (first used on line {})",
                            other.line
                        ),
                    ));
                }
            }
            let lowered = image.to_ascii_lowercase();
            let base = if lowered == "scratch" {
                StageBase::Scratch
            } else if let Some(s) = stages.iter().find(|s| s.name.as_deref() == Some(&lowered)) {
                StageBase::Stage(s.index)
            } else {
                StageBase::Image(image)
            };
            let index = stages.len();
            let mut needs = Vec::new();
            if let StageBase::Stage(s) = base {
                needs.push((s, line, "FROM"));
            }
            stages.push(Stage {
                index,
                name: name.clone(),
                line,
                base,
                instructions: Vec::new(),
                needs,
                images: Vec::new(),
            });
        } else {
            stages
                .last_mut()
                .expect("the first instruction here is a FROM")
                .instructions
                .push(located.clone());
        }
    }

    // Dependencies through --from, with each stage's ARG/ENV scope.
    let names: Vec<Option<String>> = stages.iter().map(|s| s.name.clone()).collect();
    for stage in &mut stages {
        let mut scope = Scope::default();
        for located in &stage.instructions {
            let line = located.line;
            let kw = located.instruction.keyword();
            let mut froms: Vec<String> = Vec::new();
            match &located.instruction {
                Instruction::Arg(list) => {
                    for (name, default) in list {
                        declared.insert(name.clone());
                        scope
                            .declare_arg(
                                name,
                                default.as_deref(),
                                escape,
                                &options.build_args,
                                &global_args,
                            )
                            .map_err(|m| err(line, kw, m))?;
                    }
                }
                Instruction::Env(pairs) => {
                    let mut updates = Vec::new();
                    for (k, v) in pairs {
                        let k = scope.expand(k, escape).map_err(|m| err(line, kw, m))?;
                        let v = scope.expand(v, escape).map_err(|m| err(line, kw, m))?;
                        updates.push((k, v));
                    }
                    scope.env.extend(updates);
                }
                Instruction::Copy(CopyArgs { from: Some(f), .. })
                | Instruction::Add(CopyArgs { from: Some(f), .. }) => froms.push(f.clone()),
                Instruction::Run(run) => {
                    for m in &run.mounts {
                        let m = scope.expand(m, escape).map_err(|e| err(line, kw, e))?;
                        let mount = RunMount::parse(&m).map_err(|e| err(line, kw, e))?;
                        if let Some(f) = mount.from {
                            froms.push(f);
                        }
                    }
                }
                _ => {}
            }
            for raw in froms {
                let value = scope.expand(&raw, escape).map_err(|m| err(line, kw, m))?;
                match resolve_ref(&value, &names).map_err(|m| err(line, kw, m))? {
                    SourceRef::Stage(s) => stage.needs.push((s, line, kw)),
                    SourceRef::Image(i) => {
                        if !stage.images.contains(&i) {
                            stage.images.push(i)
                        }
                    }
                }
            }
        }
    }

    let target = match &options.target {
        None => stages.len() - 1,
        Some(t) => {
            let lowered = t.to_ascii_lowercase();
            stages
                .iter()
                .position(|s| s.name.as_deref() == Some(&lowered))
                .ok_or_else(|| {
                    let known: Vec<String> = stages.iter().filter_map(|s| s.name.clone()).collect();
                    DockerfileError::new(
                        file,
                        0,
                        "--target",
                        format!(
                            "no stage named '{t}'; the stages are: {}",
                            if known.is_empty() {
                                "(none named)".to_string()
                            } else {
                                known.join(", ")
                            }
                        ),
                    )
                })?
        }
    };

    let (order, levels) = order_stages(file, &stages, target)?;

    let unused_build_args = options
        .build_args
        .keys()
        .filter(|k| !declared.contains(*k) && !PROXY_ARGS.contains(&k.as_str()))
        .cloned()
        .collect();

    Ok(BuildPlan {
        file: file.to_string(),
        escape,
        platform: options.platform.clone(),
        stages,
        target,
        order,
        levels,
        global_args,
        build_args: options.build_args.clone(),
        unused_build_args,
        notes,
    })
}

/// A `--from` value: a stage name, a stage index, or an image.
pub(crate) fn resolve_ref(value: &str, names: &[Option<String>]) -> Result<SourceRef, String> {
    let lowered = value.to_ascii_lowercase();
    if let Some(i) = names.iter().position(|n| n.as_deref() == Some(&lowered)) {
        return Ok(SourceRef::Stage(i));
    }
    if let Ok(i) = value.parse::<usize>() {
        if i < names.len() {
            return Ok(SourceRef::Stage(i));
        }
        return Err(format!(
            "--from={value}: there is no stage {value} (the stages are numbered 0 to {})",
            names.len() - 1
        ));
    }
    if value.is_empty() {
        return Err("--from is empty after substituting variables".into());
    }
    Ok(SourceRef::Image(value.to_string()))
}

/// The stages the target needs, dependencies first, and their levels;
/// a cycle is an error naming the instruction that closes it.
fn order_stages(
    file: &str,
    stages: &[Stage],
    target: usize,
) -> Result<(Vec<usize>, Vec<Vec<usize>>), DockerfileError> {
    let mut reachable = BTreeSet::new();
    let mut todo = vec![target];
    while let Some(s) = todo.pop() {
        if reachable.insert(s) {
            todo.extend(stages[s].needs.iter().map(|n| n.0));
        }
    }
    let mut graph: DiGraphMap<usize, ()> = DiGraphMap::new();
    for &s in &reachable {
        graph.add_node(s);
        for &(dep, _, _) in &stages[s].needs {
            graph.add_edge(dep, s, ());
        }
    }
    for component in tarjan_scc(&graph) {
        let in_cycle = component.len() > 1
            || component
                .first()
                .is_some_and(|&s| stages[s].needs.iter().any(|n| n.0 == s));
        if !in_cycle {
            continue;
        }
        let members: BTreeSet<usize> = component.iter().copied().collect();
        let (stage, (dep, line, kw)) = members
            .iter()
            .flat_map(|&s| {
                stages[s]
                    .needs
                    .iter()
                    .filter(|n| members.contains(&n.0))
                    .map(move |n| (s, *n))
            })
            .max_by_key(|(_, n)| n.1)
            .expect("a cycle has an edge");
        let path: Vec<String> = members.iter().map(|&s| stages[s].label()).collect();
        return Err(DockerfileError::new(
            file,
            line,
            kw,
            format!(
                "stage '{}' needs stage '{}', which needs it back: circular dependency between stages {}",
                stages[stage].label(),
                stages[dep].label(),
                path.join(", ")
            ),
        ));
    }
    let mut level_of: BTreeMap<usize, usize> = BTreeMap::new();
    let mut order = Vec::new();
    // Stages only need earlier-resolved ones; iterate until all are placed.
    while level_of.len() < reachable.len() {
        for &s in &reachable {
            if level_of.contains_key(&s) {
                continue;
            }
            let deps: Vec<usize> = stages[s].needs.iter().map(|n| n.0).collect();
            if deps.iter().all(|d| level_of.contains_key(d)) {
                let level = deps.iter().map(|d| level_of[d] + 1).max().unwrap_or(0);
                level_of.insert(s, level);
                order.push(s);
            }
        }
    }
    let depth = level_of.values().max().map_or(0, |m| m + 1);
    let mut levels = vec![Vec::new(); depth];
    for (&s, &l) in &level_of {
        levels[l].push(s);
    }
    order.sort_by_key(|s| (level_of[s], *s));
    Ok((order, levels))
}

#[cfg(test)]
mod tests;
