//! The loading pipeline: decide files, directory, environment and name;
//! per file parse -> interpolate -> canonicalize -> extends -> include; merge
//! files in order; decode into the typed model; then profiles, normalization
//! and validation (see `project.rs`).

use super::canonical::canonicalize_file;
use super::discover;
use super::environment::Environment;
use super::error::{ComposeError, Problem, SourceMap};
use super::interpolate::interpolate_tree;
use super::merge::{merge, same_value, strip_tags};
use super::model::{ComposeFile, IncludeConfig, Project};
use super::paths::PathResolver;
use super::project::{build_project, ProjectInputs};
use super::yaml::{self, FileId, Mapping, Node, NodePath, ParseLimits, Span, Value};
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

/// How deep `extends` chains and nested `include`s may go.
const MAX_NESTING: usize = 64;

/// What the command line (and environment) asked for.
#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    /// `-f` files in order; `-` is standard input.
    pub files: Vec<PathBuf>,
    /// `-p`.
    pub project_name: Option<String>,
    /// `--project-directory`.
    pub project_directory: Option<PathBuf>,
    /// `--env-file` (repeatable).
    pub env_files: Vec<PathBuf>,
    /// `--profile` (repeatable).
    pub profiles: Vec<String>,
    /// Services named on the command line: their profiles are enabled.
    pub services: Vec<String>,
    /// `false` for `config --no-interpolate`.
    pub interpolate: bool,
    /// `config --no-path-resolution`: relative paths stay as written.
    pub keep_relative_paths: bool,
    /// `config --no-normalize`: skip compose's normalization step (see `project.rs`).
    pub skip_normalization: bool,
    /// The process environment.
    pub process_env: Vec<(String, String)>,
    /// The directory the command runs in.
    pub cwd: PathBuf,
    /// Standard input's content, when a file is `-`.
    pub stdin: Option<String>,
}

/// A loaded project plus what the user should be told about it.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub project: Project,
    pub warnings: Vec<String>,
}

/// Loads a project as `docker compose` would.
pub fn load(opts: &LoadOptions) -> Result<Loaded, ComposeError> {
    let mut loader = Loader::new(opts);
    let project = loader.run(opts)?;
    Ok(Loaded {
        project,
        warnings: loader.warnings,
    })
}

/// Loads a single compose document given as text (used by fuzzing and tests).
pub fn load_from_str(text: &str, dir: &Path) -> Result<Loaded, ComposeError> {
    let opts = LoadOptions {
        files: vec![PathBuf::from("-")],
        stdin: Some(text.to_string()),
        cwd: dir.to_path_buf(),
        project_directory: Some(dir.to_path_buf()),
        project_name: Some("fuzz".into()),
        interpolate: true,
        ..LoadOptions::default()
    };
    load(&opts)
}

struct Loader {
    sources: SourceMap,
    env: Environment,
    warnings: Vec<String>,
    warned_vars: HashSet<String>,
    interpolate: bool,
    home: Option<PathBuf>,
    cwd: PathBuf,
    stdin: Option<String>,
    /// Files read for `extends: {file: …}`, canonicalized, by path.
    extended_files: HashMap<PathBuf, Node>,
}

impl Loader {
    fn new(opts: &LoadOptions) -> Self {
        let env = Environment::from_process(opts.process_env.iter().cloned());
        let home = env.get("HOME").map(PathBuf::from);
        Loader {
            sources: SourceMap::default(),
            env,
            warnings: Vec::new(),
            warned_vars: HashSet::new(),
            interpolate: opts.interpolate,
            home,
            cwd: opts.cwd.clone(),
            stdin: opts.stdin.clone(),
            extended_files: HashMap::new(),
        }
    }

    fn run(&mut self, opts: &LoadOptions) -> Result<Project, ComposeError> {
        let explicit_dir = opts.project_directory.as_ref().map(|d| self.absolute(d));
        let env_files =
            self.env_files(opts, explicit_dir.as_deref().unwrap_or(&self.cwd.clone()))?;
        let files = self.config_files(opts, explicit_dir.as_deref())?;
        let working_dir = match (&explicit_dir, files.first()) {
            (Some(dir), _) => dir.clone(),
            (None, Some(first)) if first.as_os_str() != "-" => first
                .parent()
                .map(Path::to_path_buf)
                .unwrap_or_else(|| self.cwd.clone()),
            _ => self.cwd.clone(),
        };
        // The project's own .env when no --env-file was given and it differs from the first guess.
        let mut env_files = env_files;
        if opts.env_files.is_empty() && explicit_dir.is_none() {
            let dotenv = working_dir.join(".env");
            if !env_files.contains(&dotenv) && dotenv.is_file() && !self.dotenv_disabled() {
                self.env
                    .add_env_file(&dotenv)
                    .map_err(ComposeError::Project)?;
                env_files.push(dotenv);
            }
        }
        let resolver = PathResolver::new(working_dir.clone(), self.home.clone())
            .keeping_paths_as_written(opts.keep_relative_paths);

        // Parse every file first: the project name may come from a top-level `name:`.
        let mut parsed = Vec::new();
        for file in &files {
            let (id, node) = self.read_file(file)?;
            parsed.push((file.clone(), id, node));
        }
        let name = self.project_name(opts, &parsed, &working_dir)?;
        self.env.set_default("COMPOSE_PROJECT_NAME", &name);

        let mut merged: Option<Node> = None;
        for (file, _id, node) in parsed {
            let tree = self.process_file(node, &file, &resolver, &mut Vec::new())?;
            merged = Some(match merged {
                None => strip_tags(tree),
                Some(base) => merge(base, tree, &[]),
            });
        }
        let mut tree = merged.unwrap_or_else(|| Node::map(Mapping::new(), Span::default()));
        if tree.as_map().is_some_and(Mapping::is_empty) {
            let names: Vec<String> = files.iter().map(|f| self.display_name(f)).collect();
            return Err(ComposeError::Project(format!(
                "{}: empty compose file",
                names.join(", ")
            )));
        }
        if let Some(top) = tree.as_map_mut() {
            top.shift_remove("include");
        }
        super::validate::check_merged(&tree)
            .map_err(|p| ComposeError::invalid(&self.sources, p))?;
        let file: ComposeFile = self.decode(&tree)?;
        if file.version.is_some() {
            self.warnings.push(format!(
                "{}: the attribute `version` is obsolete, it will be ignored, please remove it to avoid potential confusion",
                files.first().map(|f| self.display_name(f)).unwrap_or_default()
            ));
        }
        let inputs = ProjectInputs {
            name,
            file,
            working_dir,
            config_files: files,
            env_files,
            profiles: self.profiles(opts),
            services: opts.services.clone(),
            env: self.env.clone(),
            normalize: !opts.skip_normalization,
        };
        let (project, warnings) =
            build_project(inputs).map_err(|p| ComposeError::invalid(&self.sources, p))?;
        self.warnings.extend(warnings);
        Ok(project)
    }

    // ---- deciding files, environment, name ---------------------------------

    fn absolute(&self, path: &Path) -> PathBuf {
        super::paths::clean(&self.cwd.join(path))
    }

    fn dotenv_disabled(&self) -> bool {
        self.env
            .get("COMPOSE_DISABLE_ENV_FILE")
            .is_some_and(|v| matches!(v.to_lowercase().as_str(), "1" | "true"))
    }

    /// Reads `--env-file`s, or the `.env` of `dir`; returns the files read.
    fn env_files(&mut self, opts: &LoadOptions, dir: &Path) -> Result<Vec<PathBuf>, ComposeError> {
        let mut read = Vec::new();
        if !opts.env_files.is_empty() {
            for file in &opts.env_files {
                let path = self.absolute(file);
                if !path.is_file() {
                    return Err(ComposeError::Project(format!(
                        "couldn't find env file: {}",
                        path.display()
                    )));
                }
                self.env
                    .add_env_file(&path)
                    .map_err(ComposeError::Project)?;
                read.push(path);
            }
            return Ok(read);
        }
        let dotenv = dir.join(".env");
        if dotenv.is_file() && !self.dotenv_disabled() {
            self.env
                .add_env_file(&dotenv)
                .map_err(ComposeError::Project)?;
            read.push(dotenv);
        }
        Ok(read)
    }

    fn config_files(
        &self,
        opts: &LoadOptions,
        explicit_dir: Option<&Path>,
    ) -> Result<Vec<PathBuf>, ComposeError> {
        if !opts.files.is_empty() {
            return Ok(opts
                .files
                .iter()
                .map(|f| {
                    if f.as_os_str() == "-" {
                        f.clone()
                    } else {
                        self.absolute(f)
                    }
                })
                .collect());
        }
        if let Some(value) = self.env.get("COMPOSE_FILE").filter(|v| !v.is_empty()) {
            let sep = self.env.get("COMPOSE_PATH_SEPARATOR");
            let base = explicit_dir.unwrap_or(&self.cwd);
            return Ok(discover::split_compose_file_var(&value, sep.as_deref())
                .into_iter()
                .map(|f| super::paths::clean(&base.join(f)))
                .collect());
        }
        discover::find_default_files(explicit_dir.unwrap_or(&self.cwd))
    }

    fn profiles(&self, opts: &LoadOptions) -> Vec<String> {
        if !opts.profiles.is_empty() {
            return opts.profiles.clone();
        }
        self.env
            .get("COMPOSE_PROFILES")
            .map(|v| {
                v.split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(String::from)
                    .collect()
            })
            .unwrap_or_default()
    }

    fn project_name(
        &mut self,
        opts: &LoadOptions,
        parsed: &[(PathBuf, FileId, Node)],
        working_dir: &Path,
    ) -> Result<String, ComposeError> {
        let explicit = opts.project_name.clone().or_else(|| {
            self.env
                .get("COMPOSE_PROJECT_NAME")
                .filter(|n| !n.is_empty())
        });
        if let Some(name) = explicit {
            discover::validate_project_name(&name).map_err(ComposeError::Project)?;
            return Ok(name);
        }
        // The last file that sets `name:` wins, as with any other attribute.
        let mut from_file = None;
        for (_, _, node) in parsed {
            if let Some(name_node) = node.as_map().and_then(|m| m.get("name")) {
                let mut name_node = name_node.clone();
                let path = NodePath::root().key("name");
                if self.interpolate {
                    self.interpolate_node(&mut name_node, &path)?;
                }
                if let Some(text) = name_node.as_str() {
                    from_file = Some((text.to_string(), name_node.span, path));
                }
            }
        }
        // A name from the file is normalized like a directory name, as compose does.
        if let Some(name) = from_file.map(|(name, _, _)| discover::normalize_project_name(&name)) {
            if !name.is_empty() {
                return Ok(name);
            }
        }
        let base = working_dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let name = discover::normalize_project_name(&base);
        if name.is_empty() {
            return Err(ComposeError::Project(format!(
                "project name {base:?} derived from the directory is not valid: give one with -p or a top-level `name:`"
            )));
        }
        Ok(name)
    }

    // ---- one file ---------------------------------------------------------

    fn display_name(&self, path: &Path) -> String {
        if path.as_os_str() == "-" {
            return "(stdin)".into();
        }
        match path.strip_prefix(&self.cwd) {
            Ok(rel) if !rel.as_os_str().is_empty() => rel.display().to_string(),
            _ => path.display().to_string(),
        }
    }

    /// Reads and parses a file into one tree (documents merged in order).
    fn read_file(&mut self, path: &Path) -> Result<(FileId, Node), ComposeError> {
        let text = if path.as_os_str() == "-" {
            self.stdin.clone().unwrap_or_default()
        } else {
            std::fs::read_to_string(path).map_err(|source| ComposeError::Read {
                path: path.to_path_buf(),
                source,
            })?
        };
        let id = self.sources.add(self.display_name(path));
        let docs = yaml::parse_documents(&text, id, ParseLimits::default())
            .map_err(|p| ComposeError::invalid(&self.sources, p))?;
        let mut tree: Option<Node> = None;
        for doc in docs {
            if doc.is_null() {
                continue;
            }
            if doc.as_map().is_none() {
                return Err(ComposeError::invalid(
                    &self.sources,
                    Problem::new(
                        doc.span,
                        NodePath::root(),
                        format!(
                            "top-level object must be a mapping, got a {}",
                            doc.kind_name()
                        ),
                    ),
                ));
            }
            tree = Some(match tree {
                None => doc,
                Some(base) => merge(base, doc, &[]),
            });
        }
        Ok((
            id,
            tree.unwrap_or_else(|| Node::map(Mapping::new(), Span::synthetic(id))),
        ))
    }

    fn interpolate_node(&mut self, node: &mut Node, path: &NodePath) -> Result<(), ComposeError> {
        let mut unset = Vec::new();
        let env = &self.env;
        interpolate_tree(node, path, &|name| env.get(name), &mut |name| {
            unset.push(name.to_string())
        })
        .map_err(|p| ComposeError::invalid(&self.sources, p))?;
        for name in unset {
            if self.warned_vars.insert(name.clone()) {
                self.warnings.push(format!(
                    "The {name:?} variable is not set. Defaulting to a blank string."
                ));
            }
        }
        Ok(())
    }

    /// Interpolates, canonicalizes, checks the shape, and resolves `extends`
    /// and `include` of one file's tree.
    fn process_file(
        &mut self,
        mut node: Node,
        file: &Path,
        resolver: &PathResolver,
        include_stack: &mut Vec<PathBuf>,
    ) -> Result<Node, ComposeError> {
        if self.interpolate {
            self.interpolate_node(&mut node, &NodePath::root())?;
        }
        super::validate::check_file(&node).map_err(|p| ComposeError::invalid(&self.sources, p))?;
        canonicalize_file(&mut node, resolver)
            .map_err(|p| ComposeError::invalid(&self.sources, p))?;
        let _: ComposeFile = self.decode(&strip_tags(node.clone()))?;
        self.resolve_extends(&mut node, file, resolver)?;
        self.apply_includes(&mut node, file, resolver, include_stack)?;
        Ok(node)
    }

    fn decode<T: serde::de::DeserializeOwned>(&self, node: &Node) -> Result<T, ComposeError> {
        yaml::from_node(node, &NodePath::root())
            .map_err(|p| ComposeError::invalid(&self.sources, p))
    }

    // ---- extends ------------------------------------------------------------

    fn resolve_extends(
        &mut self,
        tree: &mut Node,
        file: &Path,
        resolver: &PathResolver,
    ) -> Result<(), ComposeError> {
        let Some(services) = tree
            .as_map()
            .and_then(|m| m.get("services"))
            .and_then(Node::as_map)
        else {
            return Ok(());
        };
        let names: Vec<String> = services
            .iter()
            .filter(|(_, s)| s.as_map().is_some_and(|m| m.contains_key("extends")))
            .map(|(n, _)| n.clone())
            .collect();
        if names.is_empty() {
            return Ok(());
        }
        let snapshot = services.clone();
        for name in names {
            let mut stack = Vec::new();
            let resolved = self.extended_service(&snapshot, &name, file, resolver, &mut stack)?;
            if let Some(slot) = tree
                .as_map_mut()
                .and_then(|m| m.get_mut("services"))
                .and_then(Node::as_map_mut)
                .and_then(|m| m.get_mut(&name))
            {
                *slot = resolved;
            }
        }
        Ok(())
    }

    /// The service `name` of `services` (read from `file`) with its `extends` chain applied.
    fn extended_service(
        &mut self,
        services: &Mapping,
        name: &str,
        file: &Path,
        resolver: &PathResolver,
        stack: &mut Vec<String>,
    ) -> Result<Node, ComposeError> {
        let path = NodePath::root().key("services").key(name);
        let Some(service) = services.get(name) else {
            return Err(ComposeError::Project(format!(
                "{}: cannot extend service {name:?}: no such service",
                self.display_name(file)
            )));
        };
        let Some(extends) = service.as_map().and_then(|m| m.get("extends")).cloned() else {
            return Ok(service.clone());
        };
        let key = format!("{}#{name}", file.display());
        if stack.contains(&key) || stack.len() > MAX_NESTING {
            let mut chain: Vec<String> = stack
                .iter()
                .map(|k| k.rsplit('#').next().unwrap_or(k).to_string())
                .collect();
            chain.push(name.to_string());
            return Err(ComposeError::invalid(
                &self.sources,
                Problem::new(
                    extends.span,
                    path.key("extends"),
                    format!("extends cycle: {}", chain.join(" -> ")),
                ),
            ));
        }
        stack.push(key);
        let ext_map = extends.as_map().cloned().unwrap_or_default();
        let base_name = ext_map
            .get("service")
            .and_then(Node::as_str)
            .unwrap_or_default()
            .to_string();
        let base = match ext_map.get("file").and_then(Node::as_str) {
            Some(other) => {
                let dir = file
                    .parent()
                    .map(Path::to_path_buf)
                    .unwrap_or_else(|| self.cwd.clone());
                let other_path = super::paths::clean(&dir.join(other));
                let other_tree = self.extended_file(&other_path, resolver)?;
                let other_services = other_tree
                    .as_map()
                    .and_then(|m| m.get("services"))
                    .and_then(Node::as_map)
                    .cloned()
                    .unwrap_or_default();
                if !other_services.contains_key(&base_name) {
                    return Err(ComposeError::invalid(
                        &self.sources,
                        Problem::new(
                            extends.span,
                            path.key("extends"),
                            format!(
                                "cannot extend service {base_name:?}: not found in {}",
                                other_path.display()
                            ),
                        ),
                    ));
                }
                let other_resolver =
                    resolver.with_base(other_path.parent().unwrap_or(Path::new("/")));
                self.extended_service(
                    &other_services,
                    &base_name,
                    &other_path,
                    &other_resolver,
                    stack,
                )?
            }
            None => {
                if !services.contains_key(&base_name) {
                    return Err(ComposeError::invalid(
                        &self.sources,
                        Problem::new(
                            extends.span,
                            path.key("extends"),
                            format!("cannot extend service {base_name:?}: no such service"),
                        ),
                    ));
                }
                self.extended_service(services, &base_name, file, resolver, stack)?
            }
        };
        stack.pop();
        let mut own = service.clone();
        if let Some(m) = own.as_map_mut() {
            m.shift_remove("extends");
        }
        let mut base = base;
        if let Some(m) = base.as_map_mut() {
            m.shift_remove("extends");
        }
        Ok(merge(base, own, &["services", name]))
    }

    /// Reads a file named by `extends.file`, canonicalized against its own directory.
    fn extended_file(
        &mut self,
        path: &Path,
        resolver: &PathResolver,
    ) -> Result<Node, ComposeError> {
        if let Some(tree) = self.extended_files.get(path) {
            return Ok(tree.clone());
        }
        let (_, mut node) = self.read_file(path)?;
        if self.interpolate {
            self.interpolate_node(&mut node, &NodePath::root())?;
        }
        super::validate::check_file(&node).map_err(|p| ComposeError::invalid(&self.sources, p))?;
        let own = resolver.with_base(path.parent().unwrap_or(Path::new("/")));
        canonicalize_file(&mut node, &own).map_err(|p| ComposeError::invalid(&self.sources, p))?;
        let _: ComposeFile = self.decode(&node)?;
        self.extended_files.insert(path.to_path_buf(), node.clone());
        Ok(node)
    }

    // ---- include ------------------------------------------------------------

    fn apply_includes(
        &mut self,
        tree: &mut Node,
        file: &Path,
        resolver: &PathResolver,
        stack: &mut Vec<PathBuf>,
    ) -> Result<(), ComposeError> {
        let Some(include) = tree.as_map().and_then(|m| m.get("include")).cloned() else {
            return Ok(());
        };
        let entries: Vec<IncludeConfig> = self.decode(&include)?;
        for (i, entry) in entries.iter().enumerate() {
            let ipath = NodePath::root().key("include").index(i);
            let span = include
                .as_seq()
                .and_then(|s| s.get(i))
                .map(|n| n.span)
                .unwrap_or(include.span);
            let imported = self.load_included(entry, file, resolver, stack, span, &ipath)?;
            self.add_imported(tree, imported, &entry.path.join(", "))?;
        }
        Ok(())
    }

    fn load_included(
        &mut self,
        entry: &IncludeConfig,
        file: &Path,
        resolver: &PathResolver,
        stack: &mut Vec<PathBuf>,
        span: Span,
        path: &NodePath,
    ) -> Result<Node, ComposeError> {
        let paths: Vec<PathBuf> = entry
            .path
            .iter()
            .map(|p| PathBuf::from(resolver.resolve(p)))
            .collect();
        let Some(first) = paths.first() else {
            return Err(ComposeError::invalid(
                &self.sources,
                Problem::new(span, path.clone(), "include entry needs a path"),
            ));
        };
        for p in &paths {
            if stack.contains(p) || stack.len() > MAX_NESTING {
                return Err(ComposeError::invalid(
                    &self.sources,
                    Problem::new(
                        span,
                        path.clone(),
                        format!(
                            "include cycle: {} includes {} again",
                            file.display(),
                            p.display()
                        ),
                    ),
                ));
            }
            if !p.is_file() {
                return Err(ComposeError::invalid(
                    &self.sources,
                    Problem::new(
                        span,
                        path.clone(),
                        format!("included file {} not found", p.display()),
                    ),
                ));
            }
        }
        let project_dir = match &entry.project_directory {
            Some(dir) => PathBuf::from(resolver.resolve(dir)),
            None => first
                .parent()
                .map(Path::to_path_buf)
                .unwrap_or_else(|| resolver.base().to_path_buf()),
        };
        // The included project sees the parent's variables first, then its own env files.
        let saved_env = self.env.clone();
        let env_files: Vec<PathBuf> = if entry.env_file.is_empty() {
            vec![project_dir.join(".env")]
        } else {
            entry
                .env_file
                .iter()
                .map(|f| PathBuf::from(resolver.resolve(f)))
                .collect()
        };
        for env_file in &env_files {
            if env_file.is_file() {
                self.env
                    .add_env_file_defaults(env_file)
                    .map_err(ComposeError::Project)?;
            } else if !entry.env_file.is_empty() {
                self.env = saved_env;
                return Err(ComposeError::invalid(
                    &self.sources,
                    Problem::new(
                        span,
                        path.clone(),
                        format!("env file {} not found", env_file.display()),
                    ),
                ));
            }
        }
        let sub_resolver = resolver.with_base(project_dir);
        let mut merged: Option<Node> = None;
        let result = (|| {
            for p in &paths {
                stack.push(p.clone());
                let (_, node) = self.read_file(p)?;
                let tree = self.process_file(node, p, &sub_resolver, stack);
                stack.pop();
                let tree = tree?;
                merged = Some(match merged.take() {
                    None => strip_tags(tree),
                    Some(base) => merge(base, tree, &[]),
                });
            }
            Ok(merged
                .take()
                .unwrap_or_else(|| Node::map(Mapping::new(), span)))
        })();
        self.env = saved_env;
        result
    }

    fn add_imported(
        &self,
        tree: &mut Node,
        imported: Node,
        from: &str,
    ) -> Result<(), ComposeError> {
        let Some(top) = tree.as_map_mut() else {
            return Ok(());
        };
        let Value::Map(imported) = imported.value else {
            return Ok(());
        };
        for (section, value) in imported {
            if !matches!(
                section.as_str(),
                "services" | "networks" | "volumes" | "secrets" | "configs"
            ) {
                continue;
            }
            let Value::Map(resources) = value.value else {
                continue;
            };
            let span = value.span;
            let target = top
                .entries
                .entry(section.clone())
                .or_insert_with(|| Node::map(Mapping::new(), span));
            if target.is_null() {
                *target = Node::map(Mapping::new(), span);
            }
            let Some(target) = target.as_map_mut() else {
                continue;
            };
            for (name, resource) in resources {
                match target.get(&name) {
                    Some(existing) if !same_value(existing, &resource) => {
                        return Err(ComposeError::invalid(
                            &self.sources,
                            Problem::new(
                                existing.span,
                                NodePath::root().key(&section).key(&name),
                                format!("conflicts with the resource of the same name imported from {from}"),
                            ),
                        ));
                    }
                    Some(_) => {}
                    None => {
                        target.insert(name, resource);
                    }
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A project of two services, the second reaching the first through
    /// everything normalization turns into something else.
    const FILE: &str = r#"
services:
  web:
    image: nginx
    ports: ["8080:80"]
    pull_policy: if_not_present
    environment: [FROM_SHELL]
    secrets: [token]
    build:
      args: [FROM_SHELL, NOT_SET]
  worker:
    image: busybox
    links: [web]
    ipc: service:web
    volumes_from: [web]
    networks: [back]
    volumes: [data:/data]
networks:
  back: {}
  unused: {}
volumes:
  data: {}
secrets:
  token:
    file: ./token.txt
"#;

    fn load_text(normalize: bool) -> Project {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().to_path_buf();
        let opts = LoadOptions {
            files: vec![PathBuf::from("-")],
            stdin: Some(FILE.to_string()),
            cwd: dir.clone(),
            project_directory: Some(dir),
            project_name: Some("demo".into()),
            interpolate: true,
            skip_normalization: !normalize,
            process_env: vec![("FROM_SHELL".into(), "shell".into())],
            ..LoadOptions::default()
        };
        load(&opts).expect("the file loads").project
    }

    #[test]
    fn normalizing_adds_defaults_names_and_implied_dependencies() {
        let project = load_text(true);
        let web = &project.services["web"];
        assert!(web.networks.contains_key("default"));
        assert!(project.networks.contains_key("default"));
        assert_eq!(project.networks["back"].name.as_deref(), Some("demo_back"));
        assert_eq!(project.volumes["data"].name.as_deref(), Some("demo_data"));
        assert_eq!(project.secrets["token"].name.as_deref(), Some("demo_token"));
        assert_eq!(web.pull_policy.as_deref(), Some("missing"));
        let build = web.build.as_ref().unwrap();
        assert_eq!(build.dockerfile.as_deref(), Some("Dockerfile"));
        assert_eq!(build.args.get("FROM_SHELL"), Some(&Some("shell".into())));
        assert!(!build.args.contains_key("NOT_SET"));
        assert!(project.services["worker"].depends_on.contains_key("web"));
    }

    #[test]
    fn without_normalization_the_model_stays_as_merged() {
        let project = load_text(false);
        let web = &project.services["web"];
        assert!(web.networks.is_empty(), "no implicit default network");
        assert!(!project.networks.contains_key("default"));
        assert_eq!(project.networks["back"].name, None);
        assert_eq!(project.volumes["data"].name, None);
        assert_eq!(project.secrets["token"].name, None);
        assert_eq!(web.pull_policy.as_deref(), Some("if_not_present"));
        let build = web.build.as_ref().unwrap();
        assert_eq!(build.dockerfile, None);
        assert_eq!(build.args.get("FROM_SHELL"), Some(&None));
        assert_eq!(build.args.get("NOT_SET"), Some(&None));
        assert!(project.services["worker"].depends_on.is_empty());
    }

    #[test]
    fn without_normalization_the_other_steps_still_run() {
        let project = load_text(false);
        let web = &project.services["web"];
        // Canonical long syntax, build context, secret target, environment.
        assert_eq!(web.ports[0].target, 80);
        let context = web.build.as_ref().unwrap().context.as_deref();
        assert!(
            context.is_some_and(|c| Path::new(c).is_absolute()),
            "{context:?}"
        );
        assert_eq!(web.secrets[0].target.as_deref(), Some("/run/secrets/token"));
        assert_eq!(
            web.environment.get("FROM_SHELL"),
            Some(&Some("shell".into()))
        );
        // Unused resources are still dropped.
        assert!(!project.networks.contains_key("unused"));
    }

    #[test]
    fn without_normalization_an_undeclared_default_network_is_an_error() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().to_path_buf();
        let opts = LoadOptions {
            files: vec![PathBuf::from("-")],
            stdin: Some("services:\n  a:\n    image: x\n    networks: [default]\n".into()),
            cwd: dir.clone(),
            project_directory: Some(dir),
            project_name: Some("demo".into()),
            interpolate: true,
            skip_normalization: true,
            ..LoadOptions::default()
        };
        let err = load(&opts).unwrap_err().to_string();
        assert!(err.contains("undefined network \"default\""), "{err}");
    }
}
