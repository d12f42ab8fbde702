//! Stage evaluation: walks one planned stage from its base image's
//! configuration, runs the base's ONBUILD triggers first, keeps the ARG/ENV
//! scope as the reference defines it (ENV overrides ARG, ARGs are visible
//! from their line on, proxy build args reach RUN undeclared), substitutes
//! variables in the instructions that take them, and yields the steps the
//! builder executes plus the image configuration the stage ends with.

use super::ast::{Command, CopySource, Healthcheck, Instruction, Located};
use super::error::{DockerfileError, Problem};
use super::mounts::RunMount;
use super::parse::parse_trigger;
use super::plan::{resolve_ref, BuildPlan, Scope, SourceRef};
use super::platform::PROXY_ARGS;
use super::words::{expand, Quotes};
use indexmap::IndexMap;
use std::collections::BTreeSet;

/// The image configuration a stage starts from and ends with (the parts a
/// Dockerfile reads or writes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageConfig {
    pub env: IndexMap<String, String>,
    pub cmd: Option<Vec<String>>,
    pub entrypoint: Option<Vec<String>>,
    /// Absolute; `/` when unset.
    pub working_dir: String,
    pub user: String,
    /// `80/tcp`.
    pub exposed_ports: BTreeSet<String>,
    pub labels: IndexMap<String, String>,
    pub volumes: BTreeSet<String>,
    pub healthcheck: Option<Healthcheck>,
    pub stop_signal: Option<String>,
    /// SHELL; `["/bin/sh", "-c"]` by default.
    pub shell: Vec<String>,
    /// ONBUILD triggers, as written after the keyword.
    pub onbuild: Vec<String>,
    pub author: Option<String>,
}

impl Default for ImageConfig {
    fn default() -> Self {
        ImageConfig {
            env: IndexMap::new(),
            cmd: None,
            entrypoint: None,
            working_dir: "/".into(),
            user: String::new(),
            exposed_ports: BTreeSet::new(),
            labels: IndexMap::new(),
            volumes: BTreeSet::new(),
            healthcheck: None,
            stop_signal: None,
            shell: vec!["/bin/sh".into(), "-c".into()],
            onbuild: Vec::new(),
            author: None,
        }
    }
}

/// A file the builder writes before a RUN (a heredoc script with `#!`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InlineFile {
    pub path: String,
    pub content: String,
    pub mode: u32,
}

/// A RUN mount with its `from=` resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedMount {
    pub mount: RunMount,
    pub from: Option<SourceRef>,
}

/// A COPY/ADD source after substitution.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// A path or glob, relative to the context or the `--from` root.
    Path(String),
    /// A heredoc's content (substituted unless its delimiter was quoted).
    Inline { name: String, content: String },
}

/// The network of a RUN (`--network=`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunNetwork {
    /// The builder's usual network (also when the flag is absent).
    Default,
    None,
    /// The host's network (Docker asks for the `network.host` entitlement).
    Host,
}

/// What a step does to the filesystem (metadata-only steps change only the
/// configuration).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StepKind {
    Run {
        argv: Vec<String>,
        /// Image env plus the ARGs in scope.
        env: Vec<(String, String)>,
        mounts: Vec<ResolvedMount>,
        network: RunNetwork,
        files: Vec<InlineFile>,
    },
    Copy {
        add: bool,
        /// `None`: the build context.
        from: Option<SourceRef>,
        sources: Vec<Source>,
        /// Absolute; a trailing `/` kept (it makes the destination a directory).
        dest: String,
        chown: Option<String>,
        chmod: Option<u32>,
        link: bool,
        exclude: Vec<String>,
    },
    /// WORKDIR makes its directory.
    MakeDir(String),
    Config,
}

/// One step, with the configuration in force when it runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    pub line: usize,
    /// The instruction as written (for progress and cache keys).
    pub text: String,
    pub kind: StepKind,
    pub working_dir: String,
    pub user: String,
}

/// A stage ready to build.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpandedStage {
    pub steps: Vec<Step>,
    /// The configuration of the image the stage produces.
    pub config: ImageConfig,
}

impl BuildPlan {
    /// Evaluates stage `index` on top of `base` (the base image's
    /// configuration, or the configuration a parent stage ended with).
    pub fn expand_stage(
        &self,
        index: usize,
        base: &ImageConfig,
    ) -> Result<ExpandedStage, DockerfileError> {
        let stage = &self.stages[index];
        let mut config = base.clone();
        config.onbuild.clear();
        let mut walker = Walker {
            plan: self,
            scope: Scope::default(),
            cmd_from_base: base.cmd.is_some(),
            inherited: self
                .platform
                .automatic_args()
                .into_iter()
                .map(|(k, v)| (k, Some(v)))
                .chain(self.global_args.clone())
                .collect(),
            names: self.stages.iter().map(|s| s.name.clone()).collect(),
            steps: Vec::new(),
        };
        walker.scope.env = config.env.clone();
        for trigger in &base.onbuild {
            let located = parse_trigger(trigger, self.escape).map_err(|m| {
                DockerfileError::new(
                    &self.file,
                    stage.line,
                    "ONBUILD",
                    format!("the base image's trigger '{trigger}': {m}"),
                )
            })?;
            let located = Located {
                line: stage.line,
                ..located
            };
            walker.step(&located, &mut config).map_err(|m| {
                DockerfileError::new(
                    &self.file,
                    stage.line,
                    "ONBUILD",
                    format!("the base image's trigger '{trigger}': {m}"),
                )
            })?;
        }
        for located in &stage.instructions {
            walker.step(located, &mut config).map_err(|m| {
                DockerfileError::new(&self.file, located.line, located.instruction.keyword(), m)
            })?;
        }
        Ok(ExpandedStage {
            steps: walker.steps,
            config,
        })
    }
}

struct Walker<'a> {
    plan: &'a BuildPlan,
    scope: Scope,
    cmd_from_base: bool,
    inherited: IndexMap<String, Option<String>>,
    names: Vec<Option<String>>,
    steps: Vec<Step>,
}

impl Walker<'_> {
    fn word(&self, w: &str) -> Result<String, Problem> {
        self.scope.expand(w, self.plan.escape)
    }

    fn argv(&self, command: &Command, config: &ImageConfig) -> Vec<String> {
        match command {
            Command::Exec(list) => list.clone(),
            Command::Shell(text) => {
                let mut argv = config.shell.clone();
                argv.push(text.clone());
                argv
            }
        }
    }

    fn step(&mut self, located: &Located, config: &mut ImageConfig) -> Result<(), Problem> {
        let escape = self.plan.escape;
        let kind = match &located.instruction {
            Instruction::From { .. } => return Err("FROM can't be used here".into()),
            Instruction::Arg(list) => {
                for (name, default) in list {
                    self.scope.declare_arg(
                        name,
                        default.as_deref(),
                        escape,
                        &self.plan.build_args,
                        &self.inherited,
                    )?;
                }
                StepKind::Config
            }
            Instruction::Env(pairs) => {
                let mut updates = Vec::new();
                for (k, v) in pairs {
                    updates.push((self.word(k)?, self.word(v)?));
                }
                for (k, v) in updates {
                    self.scope.env.insert(k.clone(), v.clone());
                    config.env.insert(k, v);
                }
                StepKind::Config
            }
            Instruction::Label(pairs) => {
                for (k, v) in pairs {
                    let (k, v) = (self.word(k)?, self.word(v)?);
                    config.labels.insert(k, v);
                }
                StepKind::Config
            }
            Instruction::Maintainer(m) => {
                config.author = Some(m.clone());
                StepKind::Config
            }
            Instruction::Workdir(w) => {
                let w = self.word(w)?;
                config.working_dir = clean_path(&join(&config.working_dir, &w));
                StepKind::MakeDir(config.working_dir.clone())
            }
            Instruction::User(u) => {
                config.user = self.word(u)?;
                StepKind::Config
            }
            Instruction::Expose(ports) => {
                for p in ports {
                    config.exposed_ports.insert(exposed_port(&self.word(p)?)?);
                }
                StepKind::Config
            }
            Instruction::Volume(list) => {
                for v in list {
                    let v = self.word(v)?;
                    if v.trim().is_empty() {
                        return Err("VOLUME path is empty after substitution".into());
                    }
                    config.volumes.insert(v);
                }
                StepKind::Config
            }
            Instruction::Stopsignal(s) => {
                config.stop_signal = Some(stop_signal(&self.word(s)?)?);
                StepKind::Config
            }
            Instruction::Shell(list) => {
                config.shell = list.clone();
                StepKind::Config
            }
            Instruction::Cmd(c) => {
                config.cmd = Some(self.argv(c, config));
                self.cmd_from_base = false;
                StepKind::Config
            }
            Instruction::Entrypoint(c) => {
                config.entrypoint = Some(self.argv(c, config));
                if self.cmd_from_base {
                    // An inherited CMD no longer fits a new ENTRYPOINT.
                    config.cmd = None;
                    self.cmd_from_base = false;
                }
                StepKind::Config
            }
            Instruction::Healthcheck(h) => {
                config.healthcheck = Some(h.clone());
                StepKind::Config
            }
            Instruction::Onbuild(trigger) => {
                config.onbuild.push(trigger.text.clone());
                StepKind::Config
            }
            Instruction::Run(run) => {
                let mut files = Vec::new();
                let argv = match (&run.command, run.heredocs.as_slice()) {
                    (Command::Shell(text), [only]) if is_heredoc_word(text.trim()) => {
                        if only.content.starts_with("#!") {
                            let path = format!("/dev/pipes/{}", only.name);
                            files.push(InlineFile {
                                path: path.clone(),
                                content: only.content.clone(),
                                mode: 0o755,
                            });
                            vec![path]
                        } else {
                            let mut argv = config.shell.clone();
                            argv.push(only.content.clone());
                            argv
                        }
                    }
                    (Command::Shell(text), heredocs) if !heredocs.is_empty() => {
                        let mut script = text.clone();
                        script.push('\n');
                        for h in heredocs {
                            script.push_str(&h.content);
                            script.push_str(&h.name);
                            script.push('\n');
                        }
                        let mut argv = config.shell.clone();
                        argv.push(script);
                        argv
                    }
                    (command, _) => self.argv(command, config),
                };
                let mut mounts = Vec::new();
                for m in &run.mounts {
                    let mount = RunMount::parse(&self.word(m)?)?;
                    let from = match &mount.from {
                        Some(f) => Some(resolve_ref(f, &self.names)?),
                        None => None,
                    };
                    mounts.push(ResolvedMount { mount, from });
                }
                StepKind::Run {
                    argv,
                    env: self.run_env(),
                    mounts,
                    network: match run.network.as_deref() {
                        Some("none") => RunNetwork::None,
                        Some("host") => RunNetwork::Host,
                        _ => RunNetwork::Default,
                    },
                    files,
                }
            }
            Instruction::Copy(args) | Instruction::Add(args) => {
                let add = matches!(located.instruction, Instruction::Add(_));
                let mut sources = Vec::new();
                for s in &args.sources {
                    sources.push(match s {
                        CopySource::Path(p) => {
                            let p = self.word(p)?;
                            check_source(&p, add)?;
                            Source::Path(p)
                        }
                        CopySource::Inline(h) => Source::Inline {
                            name: h.name.clone(),
                            content: if h.expand {
                                expand(&h.content, escape, &|n| self.scope.get(n), Quotes::Keep)?
                            } else {
                                h.content.clone()
                            },
                        },
                    });
                }
                let dest = self.word(&args.dest)?;
                if sources.len() > 1 && !dest.ends_with('/') {
                    return Err(format!(
                        "with more than one source the destination must be a directory ending in '/', got '{dest}'"
                    ));
                }
                let keep_slash = dest.ends_with('/') || dest == "." || dest.ends_with("/.");
                let mut dest = clean_path(&join(&config.working_dir, &dest));
                if keep_slash && dest != "/" {
                    dest.push('/');
                }
                let from = match &args.from {
                    Some(f) => Some(resolve_ref(&self.word(f)?, &self.names)?),
                    None => None,
                };
                let chmod = match &args.chmod {
                    Some(m) => {
                        let m = self.word(m)?;
                        Some(
                            u32::from_str_radix(&m, 8)
                                .ok()
                                .filter(|v| *v <= 0o7777)
                                .ok_or_else(|| {
                                    format!("--chmod={m}: expected an octal mode such as 755")
                                })?,
                        )
                    }
                    None => None,
                };
                let chown = args.chown.as_deref().map(|c| self.word(c)).transpose()?;
                let exclude = args
                    .exclude
                    .iter()
                    .map(|e| self.word(e))
                    .collect::<Result<_, _>>()?;
                if args.checksum.is_some() {
                    return Err("--checksum applies to URLs, which berth does not download".into());
                }
                StepKind::Copy {
                    add,
                    from,
                    sources,
                    dest,
                    chown,
                    chmod,
                    link: args.link,
                    exclude,
                }
            }
        };
        self.steps.push(Step {
            line: located.line,
            text: located.text.clone(),
            kind,
            working_dir: config.working_dir.clone(),
            user: config.user.clone(),
        });
        Ok(())
    }

    /// The environment of a RUN: the image's env, the ARGs in scope that no
    /// ENV overrides, and the proxy build args.
    fn run_env(&self) -> Vec<(String, String)> {
        let mut env: IndexMap<String, String> = self.scope.env.clone();
        for (k, v) in &self.scope.args {
            if let Some(v) = v {
                env.entry(k.clone()).or_insert_with(|| v.clone());
            }
        }
        for name in PROXY_ARGS {
            if let Some(v) = self.plan.build_args.get(*name) {
                env.entry(name.to_string()).or_insert_with(|| v.clone());
            }
        }
        env.into_iter().collect()
    }
}

fn is_heredoc_word(text: &str) -> bool {
    text.starts_with("<<") && !text.contains(char::is_whitespace)
}

fn check_source(path: &str, add: bool) -> Result<(), Problem> {
    let lowered = path.to_ascii_lowercase();
    let remote = ["http://", "https://", "git://", "git@", "ssh://"]
        .iter()
        .any(|p| lowered.starts_with(p));
    if remote {
        return Err(if add {
            format!("ADD {path}: berth builds offline and does not download; fetch the file into the build context and COPY it")
        } else {
            format!("COPY {path}: COPY takes files from the context, not URLs")
        });
    }
    Ok(())
}

fn join(base: &str, path: &str) -> String {
    if path.starts_with('/') {
        path.to_string()
    } else {
        format!("{}/{}", base.trim_end_matches('/'), path)
    }
}

/// A normalised absolute path: no `.`, `..` or repeated `/`.
pub fn clean_path(path: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            p => parts.push(p),
        }
    }
    format!("/{}", parts.join("/"))
}

/// `80`, `80/udp`, `8000-8010/tcp` → `80/tcp`, ….
fn exposed_port(value: &str) -> Result<String, Problem> {
    let (ports, proto) = value.split_once('/').unwrap_or((value, "tcp"));
    let proto = proto.to_ascii_lowercase();
    if !matches!(proto.as_str(), "tcp" | "udp" | "sctp") {
        return Err(format!(
            "EXPOSE {value}: the protocol must be tcp, udp or sctp"
        ));
    }
    let valid = |p: &str| p.parse::<u16>().is_ok_and(|n| n > 0);
    let ok = match ports.split_once('-') {
        Some((a, b)) => valid(a) && valid(b),
        None => valid(ports),
    };
    if !ok {
        return Err(format!(
            "EXPOSE {value}: expected <port>[-<port>][/<protocol>] with ports 1-65535"
        ));
    }
    Ok(format!("{ports}/{proto}"))
}

fn stop_signal(value: &str) -> Result<String, Problem> {
    let number_ok = value.parse::<u8>().is_ok_and(|n| (1..=64).contains(&n));
    let upper = value.to_ascii_uppercase();
    let name = upper.strip_prefix("SIG").unwrap_or(&upper);
    let name_ok = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '+' || c == '-');
    if number_ok || name_ok {
        Ok(value.to_string())
    } else {
        Err(format!(
            "STOPSIGNAL {value}: expected a signal name (SIGTERM) or number"
        ))
    }
}

#[cfg(test)]
mod tests;
