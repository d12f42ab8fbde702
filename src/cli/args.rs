//! Command-line arguments: global options as `docker compose` has them, and
//! one subcommand per command.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

/// Completes a service name from the project file the command line names.
fn services_completer() -> clap_complete::ArgValueCompleter {
    clap_complete::ArgValueCompleter::new(super::service_names::complete_services)
}

#[derive(Debug, Parser)]
#[command(
    name = "berth",
    version,
    about = "A Compose-compatible, daemonless multi-container orchestrator",
    propagate_version = false
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalOptions,
    #[command(subcommand)]
    pub command: Command,
}

/// Options every command takes (before or after the command name); each
/// command's `--help` lists them apart, after its own.
#[derive(Debug, Clone, Args, Default)]
#[command(next_help_heading = "Global options")]
pub struct GlobalOptions {
    /// Compose configuration files (repeatable; `-` reads standard input).
    #[arg(
        short = 'f',
        long = "file",
        id = "global_file",
        global = true,
        value_name = "FILE"
    )]
    pub files: Vec<PathBuf>,
    /// Project name.
    #[arg(short = 'p', long = "project-name", global = true, value_name = "NAME")]
    pub project_name: Option<String>,
    /// Alternate working directory (default: the directory of the first compose file).
    #[arg(long, global = true, value_name = "DIR")]
    pub project_directory: Option<PathBuf>,
    /// Alternate environment files (repeatable).
    #[arg(
        long = "env-file",
        id = "global_env_file",
        global = true,
        value_name = "FILE"
    )]
    pub env_files: Vec<PathBuf>,
    /// Profiles to enable (repeatable).
    #[arg(
        long = "profile",
        id = "global_profile",
        global = true,
        value_name = "PROFILE"
    )]
    pub profiles: Vec<String>,
    /// Progress output: auto (a live view on a terminal, plain lines
    /// otherwise), tty, plain, json (one object per line), quiet.
    #[arg(
        long,
        global = true,
        value_name = "TYPE",
        default_value = "auto",
        value_parser = ["auto", "tty", "plain", "json", "quiet"]
    )]
    pub progress: String,
    /// Control when to print ANSI control characters: never, always, auto.
    #[arg(
        long,
        global = true,
        value_name = "WHEN",
        default_value = "auto",
        value_parser = ["never", "always", "auto"]
    )]
    pub ansi: String,
    /// State root: images, layers and containers live here.
    #[arg(
        long,
        global = true,
        env = "BERTH_ROOT",
        value_name = "DIR",
        default_value = "/var/lib/berth"
    )]
    pub root: PathBuf,
    /// More logging (-v debug, -vv trace); RUST_LOG also works.
    #[arg(short = 'v', long = "verbose", global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Accepted for compatibility (warns): berth chooses its own parallelism.
    #[arg(long, global = true, value_name = "N")]
    pub parallel: Option<i64>,
    /// Accepted for compatibility (warns): berth's names are always compose v2's.
    #[arg(long, global = true)]
    pub compatibility: bool,
    /// Accepted for compatibility (warns): berth only makes the resources services use.
    #[arg(long, global = true)]
    pub all_resources: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create and start the project's containers.
    Up(UpArgs),
    /// Run a command in a running container of a service.
    Exec(ExecArgs),
    /// Attach to the input and output of a service's running container.
    Attach(AttachArgs),
    /// Run a one-off command in a new container of a service.
    Run(RunArgs),
    /// Create the services' containers (and networks, volumes) without starting them.
    Create(CreateArgs),
    /// Pause the services' running containers.
    Pause(ServicesArgs),
    /// Unpause the services' paused containers.
    Unpause(ServicesArgs),
    /// Show the processes running in the services' containers.
    Top(ServicesArgs),
    /// List the projects that have containers.
    Ls(LsArgs),
    /// Block until the services' containers stop; print their exit codes.
    Wait(WaitArgs),
    /// Stream the containers' events (create, start, die, …) as they happen.
    Events(EventsArgs),
    /// Print the public port for a port binding.
    Port(PortArgs),
    /// Show details of containers (names or ID prefixes) as a JSON array, as `docker inspect`.
    Inspect(ContainerInspectArgs),
    /// Manage volumes.
    Volume(VolumeArgs),
    /// Stop and remove the project's containers.
    Down(DownArgs),
    /// List the project's containers.
    Ps(PsArgs),
    /// Start the project's existing containers.
    Start(ServicesArgs),
    /// Stop the project's containers.
    Stop(StopArgs),
    /// Restart the project's containers.
    Restart(RestartArgs),
    /// Copy files or folders between a service container and the local filesystem.
    Cp(CpArgs),
    /// Show the containers' resource usage (CPU, memory, network and block I/O, PIDs).
    Stats(StatsArgs),
    /// Scale services: SERVICE=REPLICAS.
    Scale(ScaleArgs),
    /// Send a signal to the project's containers.
    Kill(KillArgs),
    /// Remove stopped containers of the project.
    Rm(RmArgs),
    /// Show the output of the project's containers.
    Logs(LogsArgs),
    /// Parse, resolve and render the compose file in canonical format.
    Config(ConfigArgs),
    /// Show the dependency graph of services, networks and volumes.
    Graph(GraphArgs),
    /// Show the berth version information.
    Version(VersionArgs),
    /// Manage images.
    Image(ImageArgs),
    /// List the project's images (every image outside a project).
    Images(ImagesArgs),
    /// Pull an image from a registry.
    Pull(PullArgs),
    /// Remove one or more images.
    Rmi(RmiArgs),
    /// Give an image another name.
    Tag(TagArgs),
    /// Manage networks.
    Network(NetworkArgs),
    /// Print a shell completion script (`source <(berth completion bash)`);
    /// service names are completed from the project file.
    Completion(CompletionArgs),
}

/// The shells `completion` writes scripts for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Shell {
    Bash,
    Zsh,
    Fish,
}

#[derive(Debug, Args)]
pub struct CompletionArgs {
    /// The shell to complete in.
    pub shell: Shell,
}

#[derive(Debug, Args)]
pub struct ImageArgs {
    #[command(subcommand)]
    pub command: ImageCommand,
}

#[derive(Debug, Subcommand)]
pub enum ImageCommand {
    /// Load images from a `docker save` or OCI layout archive (plain or compressed).
    Load(LoadArgs),
    /// Import a root filesystem tarball as an image.
    Import(ImportArgs),
    /// List images.
    #[command(visible_alias = "list")]
    Ls(ImagesArgs),
    /// Remove one or more images.
    #[command(visible_alias = "remove")]
    Rm(RmiArgs),
    /// Show details of one or more images as a JSON array.
    Inspect(InspectArgs),
    /// Pull an image from a registry.
    Pull(PullArgs),
    /// Give an image another name.
    Tag(TagArgs),
}

#[derive(Debug, Args)]
pub struct LoadArgs {
    /// Read from this archive instead of standard input.
    #[arg(short, long, value_name = "FILE")]
    pub input: Option<PathBuf>,
    /// Suppress progress output.
    #[arg(short, long)]
    pub quiet: bool,
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// Root filesystem tarball (`-` reads standard input).
    pub file: PathBuf,
    /// Name for the image: REPOSITORY[:TAG].
    pub name: Option<String>,
    /// Dockerfile instruction to apply (CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, STOPSIGNAL, USER, VOLUME, WORKDIR; repeatable).
    #[arg(short, long = "change", value_name = "INSTRUCTION")]
    pub changes: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum ImagesFormat {
    #[default]
    Table,
    Json,
}

#[derive(Debug, Args)]
pub struct ImagesArgs {
    /// In a project: only this service's; elsewhere: only images of this
    /// repository (REPOSITORY[:TAG]).
    pub repository: Option<String>,
    /// Output format: a table, or one JSON object per line.
    #[arg(long, value_enum, default_value_t = ImagesFormat::Table)]
    pub format: ImagesFormat,
    /// Only show image IDs.
    #[arg(short, long)]
    pub quiet: bool,
}

/// `-f` is `--file` before the command; after `rmi`/`image rm` it means
/// `--force`, as in Docker (see `cli::shadow_force_flag`).
#[derive(Debug, Args)]
pub struct RmiArgs {
    /// Images to remove (names or IDs).
    #[arg(required = true, value_name = "IMAGE")]
    pub images: Vec<String>,
    /// Remove the image even if it has several names (`-f` after the command).
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Args)]
pub struct InspectArgs {
    /// Images to inspect (names or IDs).
    #[arg(required = true, value_name = "IMAGE")]
    pub images: Vec<String>,
}

#[derive(Debug, Args)]
pub struct PullArgs {
    /// Services of the project whose images to pull (all when none), or
    /// image references (NAME[:TAG|@DIGEST]) that are not services.
    #[arg(add = services_completer())]
    pub names: Vec<String>,
    /// Pull what can be pulled and ignore images that fail.
    #[arg(long)]
    pub ignore_pull_failures: bool,
    /// Suppress progress output; print only the image name.
    #[arg(short, long)]
    pub quiet: bool,
}

#[derive(Debug, Args)]
pub struct TagArgs {
    /// Existing image (name or ID).
    pub source: String,
    /// New name: REPOSITORY[:TAG].
    pub target: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum ConfigFormat {
    #[default]
    Yaml,
    Json,
}

#[derive(Debug, Args)]
pub struct ConfigArgs {
    /// Services to show (and whose profiles to enable).
    #[arg(add = services_completer())]
    pub services: Vec<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = ConfigFormat::Yaml)]
    pub format: ConfigFormat,
    /// Only validate the configuration, don't print anything.
    #[arg(short, long)]
    pub quiet: bool,
    /// Print the service names, one per line.
    #[arg(long = "services", id = "list_services")]
    pub list_services: bool,
    /// Print the volume names, one per line.
    #[arg(long)]
    pub volumes: bool,
    /// Print the network names, one per line.
    #[arg(long)]
    pub networks: bool,
    /// Print the profile names, one per line.
    #[arg(long = "profiles", id = "list_profiles")]
    pub list_profiles: bool,
    /// Print the image names, one per line.
    #[arg(long)]
    pub images: bool,
    /// Print the config hash of the given services (`*` for all), one per line.
    #[arg(long, value_name = "SERVICES")]
    pub hash: Option<String>,
    /// Don't interpolate environment variables.
    #[arg(long)]
    pub no_interpolate: bool,
    /// Leave relative paths as written.
    #[arg(long)]
    pub no_path_resolution: bool,
    /// Don't normalize the model: no implicit default network, resource names,
    /// build defaults or implied dependencies.
    #[arg(long)]
    pub no_normalize: bool,
    /// Print the variables the model uses, with their defaults.
    #[arg(long)]
    pub variables: bool,
    /// Print the environment used for interpolation.
    #[arg(long)]
    pub environment: bool,
    /// Save to a file instead of printing.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum GraphFormat {
    #[default]
    Text,
    Dot,
    Mermaid,
}

#[derive(Debug, Args)]
pub struct GraphArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t = GraphFormat::Text)]
    pub format: GraphFormat,
}

#[derive(Debug, Args)]
pub struct VersionArgs {
    /// Print only the version number.
    #[arg(long)]
    pub short: bool,
    /// Output format: pretty or json.
    #[arg(long, default_value = "pretty")]
    pub format: String,
}

#[derive(Debug, Args)]
pub struct PsArgs {
    /// Show all containers (default: running only).
    #[arg(short, long)]
    pub all: bool,
    /// Only display IDs.
    #[arg(short, long)]
    pub quiet: bool,
    /// Display services.
    #[arg(long = "services")]
    pub services_only: bool,
    /// Only containers in this state: paused, restarting, removing,
    /// running, dead, created, exited (repeatable; implies --all).
    #[arg(long, value_name = "STATUS")]
    pub status: Vec<String>,
    /// Filter by a property: status=STATUS (repeatable).
    #[arg(long, value_name = "FILTER")]
    pub filter: Vec<String>,
    /// Don't truncate the output (COMMAND).
    #[arg(long)]
    pub no_trunc: bool,
    /// Include containers of services not in the project file (`--orphans=false` to leave them out).
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set, num_args = 0..=1, default_missing_value = "true", require_equals = true)]
    pub orphans: bool,
    /// Output format: table, json, or a template such as '{{.Name}}' or
    /// 'table {{.Service}}\t{{.Status}}'.
    #[arg(long, default_value = "table")]
    pub format: String,
    /// Only these services.
    #[arg(add = services_completer())]
    pub services: Vec<String>,
}

#[derive(Debug, Args)]
pub struct LogsArgs {
    /// Follow log output (`-f` works too).
    #[arg(long)]
    pub follow: bool,
    /// Show timestamps.
    #[arg(short, long)]
    pub timestamps: bool,
    /// Number of lines to show from the end of the logs for each container ("all").
    #[arg(short = 'n', long)]
    pub tail: Option<String>,
    /// Produce monochrome output.
    #[arg(long)]
    pub no_color: bool,
    /// Don't print the prefix in logs.
    #[arg(long)]
    pub no_log_prefix: bool,
    /// Only records since this time: RFC 3339, a Unix timestamp, or a
    /// duration back from now (`10m`, `1h30m`).
    #[arg(long)]
    pub since: Option<String>,
    /// Only records before this time (same forms as --since).
    #[arg(long)]
    pub until: Option<String>,
    /// Only the container with this number, of a service with replicas.
    #[arg(long, value_name = "N")]
    pub index: Option<u32>,
    /// Only these services.
    #[arg(add = services_completer())]
    pub services: Vec<String>,
}

#[derive(Debug, Args)]
pub struct ServicesArgs {
    /// Only these services.
    #[arg(add = services_completer())]
    pub services: Vec<String>,
}

#[derive(Debug, Args)]
pub struct StopArgs {
    /// Seconds to wait for a container to stop before killing it.
    #[arg(short, long)]
    pub timeout: Option<u64>,
    /// Only these services.
    #[arg(add = services_completer())]
    pub services: Vec<String>,
}

#[derive(Debug, Args)]
pub struct RestartArgs {
    /// Seconds to wait for a container to stop before killing it.
    #[arg(short, long)]
    pub timeout: Option<u64>,
    /// Don't restart dependent services (those with `depends_on: {SERVICE: {restart: true}}`).
    #[arg(long)]
    pub no_deps: bool,
    /// Only these services.
    #[arg(add = services_completer())]
    pub services: Vec<String>,
}

#[derive(Debug, Args)]
pub struct CpArgs {
    /// Copy to every container of the service, one-off (`run`) containers too.
    #[arg(long)]
    pub all: bool,
    /// Archive mode: keep the uid/gid of the source.
    #[arg(short, long)]
    pub archive: bool,
    /// Always follow a symbolic link at SRC_PATH.
    #[arg(short = 'L', long)]
    pub follow_link: bool,
    /// Index of the container if the service has several replicas (default:
    /// the first when copying from, every one when copying to the service).
    #[arg(long, default_value_t = 0)]
    pub index: u32,
    /// SERVICE:SRC_PATH, or a local path (`-`: a tar stream on standard input).
    #[arg(value_name = "SRC")]
    pub source: String,
    /// SERVICE:DEST_PATH, or a local path (`-`: a tar stream on standard output).
    #[arg(value_name = "DEST")]
    pub destination: String,
}

#[derive(Debug, Args)]
pub struct StatsArgs {
    /// Show all containers (default: running only).
    #[arg(short, long)]
    pub all: bool,
    /// Output format: table, or json (one object per container per line).
    #[arg(long, default_value = "table")]
    pub format: String,
    /// Print one sample and exit instead of refreshing.
    #[arg(long)]
    pub no_stream: bool,
    /// Do not truncate the container IDs.
    #[arg(long)]
    pub no_trunc: bool,
    /// Only these services.
    #[arg(add = services_completer())]
    pub services: Vec<String>,
}

#[derive(Debug, Args)]
pub struct ScaleArgs {
    /// Don't start the services the scaled ones depend on.
    #[arg(long)]
    pub no_deps: bool,
    /// SERVICE=REPLICAS (repeatable).
    #[arg(required = true, value_name = "SERVICE=REPLICAS")]
    pub scales: Vec<String>,
}

#[derive(Debug, Args)]
pub struct KillArgs {
    /// Signal to send.
    #[arg(short, long, default_value = "SIGKILL")]
    pub signal: String,
    /// Only these services.
    #[arg(add = services_completer())]
    pub services: Vec<String>,
}

#[derive(Debug, Args)]
pub struct RmArgs {
    /// Don't ask to confirm removal (`-f` works too).
    #[arg(long)]
    pub force: bool,
    /// Stop the containers first.
    #[arg(short, long)]
    pub stop: bool,
    /// Remove anonymous volumes attached to the containers (`-v` works too).
    #[arg(long)]
    pub volumes: bool,
    /// Only these services.
    #[arg(add = services_completer())]
    pub services: Vec<String>,
}

#[derive(Debug, Args)]
pub struct DownArgs {
    /// Remove containers of services not defined in the compose file.
    #[arg(long)]
    pub remove_orphans: bool,
    /// Seconds to wait for a container to stop before killing it.
    #[arg(short, long)]
    pub timeout: Option<u64>,
    /// Remove named volumes declared in the file and anonymous volumes (`-v` works too).
    #[arg(long)]
    pub volumes: bool,
    /// Remove images used by services: "local" or "all".
    #[arg(long)]
    pub rmi: Option<String>,
}

#[derive(Debug, Args)]
pub struct UpArgs {
    /// Detached mode: run the containers in the background.
    #[arg(short, long)]
    pub detach: bool,
    /// Wait for the services to be running (implies detached mode).
    #[arg(long)]
    pub wait: bool,
    /// Maximum seconds to wait with --wait.
    #[arg(long)]
    pub wait_timeout: Option<u64>,
    /// Don't start linked services.
    #[arg(long)]
    pub no_deps: bool,
    /// Recreate containers even if their configuration and image haven't changed.
    #[arg(long)]
    pub force_recreate: bool,
    /// If containers already exist, don't recreate them.
    #[arg(long)]
    pub no_recreate: bool,
    /// Recreate dependent containers.
    #[arg(long)]
    pub always_recreate_deps: bool,
    /// Recreate anonymous volumes instead of reusing them.
    #[arg(short = 'V', long)]
    pub renew_anon_volumes: bool,
    /// Remove containers for services not defined in the compose file.
    #[arg(long)]
    pub remove_orphans: bool,
    /// Scale SERVICE to NUM instances (SERVICE=NUM; repeatable).
    #[arg(long)]
    pub scale: Vec<String>,
    /// Don't start the services after creating them.
    #[arg(long)]
    pub no_start: bool,
    /// Stop all containers if any container was stopped.
    #[arg(long)]
    pub abort_on_container_exit: bool,
    /// Stop all containers if any container exited with failure.
    #[arg(long)]
    pub abort_on_container_failure: bool,
    /// Return the exit code of the selected service container.
    #[arg(long)]
    pub exit_code_from: Option<String>,
    /// Restrict attaching to these services (repeatable).
    #[arg(long)]
    pub attach: Vec<String>,
    /// Do not attach (stream logs) to these services (repeatable).
    #[arg(long)]
    pub no_attach: Vec<String>,
    /// Also attach to the log output of the dependencies of the named services.
    #[arg(long)]
    pub attach_dependencies: bool,
    /// Don't prefix log lines with the container name.
    #[arg(long)]
    pub no_log_prefix: bool,
    /// Produce monochrome output.
    #[arg(long)]
    pub no_color: bool,
    /// Show timestamps.
    #[arg(long)]
    pub timestamps: bool,
    /// Seconds to wait when stopping containers.
    #[arg(short, long)]
    pub timeout: Option<u64>,
    #[command(flatten)]
    pub images: ImageOptions,
    /// Print the plan (each action and why) and change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Only these services (and their dependencies).
    #[arg(add = services_completer())]
    pub services: Vec<String>,
}

/// How `up` and `create` get their images.
#[derive(Debug, Clone, Args)]
pub struct ImageOptions {
    /// Pull images first: always, missing, never (or a pull_policy value).
    #[arg(long)]
    pub pull: Option<String>,
    /// Pull without printing progress.
    #[arg(long)]
    pub quiet_pull: bool,
    /// Don't build images (berth never does: accepted for compatibility).
    #[arg(long)]
    pub no_build: bool,
    /// Build images first (refused: berth does not build images).
    #[arg(long)]
    pub build: bool,
}

#[derive(Debug, Args)]
pub struct ExecArgs {
    /// Detached mode: run the command in the background.
    #[arg(short, long)]
    pub detach: bool,
    /// Disable pseudo-TTY allocation (by default one is allocated when stdin is a terminal).
    #[arg(short = 'T', long = "no-TTY")]
    pub no_tty: bool,
    /// Keep stdin open (always so; accepted as docker compose does).
    #[arg(short, long, hide = true)]
    pub interactive: bool,
    /// Allocate a pseudo-TTY (the default when stdin is a terminal; accepted as docker compose does).
    #[arg(short, long, hide = true, conflicts_with = "no_tty")]
    pub tty: bool,
    /// Run the command as this user.
    #[arg(short, long)]
    pub user: Option<String>,
    /// Working directory for the command.
    #[arg(short, long)]
    pub workdir: Option<String>,
    /// Set environment variables (KEY=VALUE; repeatable).
    #[arg(short, long = "env")]
    pub env: Vec<String>,
    /// Index of the container if the service has several replicas.
    #[arg(long, default_value_t = 1)]
    pub index: u32,
    /// Give extended privileges to the process.
    #[arg(long)]
    pub privileged: bool,
    /// The service.
    #[arg(add = services_completer())]
    pub service: String,
    /// The command and its arguments.
    #[arg(trailing_var_arg = true, allow_hyphen_values = true, required = true)]
    pub command: Vec<String>,
}

#[derive(Debug, Args)]
pub struct AttachArgs {
    /// Index of the container if the service has several replicas.
    #[arg(long, default_value_t = 1)]
    pub index: u32,
    /// Do not attach stdin.
    #[arg(long)]
    pub no_stdin: bool,
    /// Pass the signals berth receives on to the container (when it has no TTY).
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set, num_args = 0..=1, default_missing_value = "true", require_equals = true)]
    pub sig_proxy: bool,
    /// The keys that detach from the container and leave it running.
    #[arg(long, default_value = super::console::DEFAULT_DETACH_KEYS)]
    pub detach_keys: String,
    /// The service.
    #[arg(add = services_completer())]
    pub service: String,
}

#[derive(Debug, Args)]
pub struct CreateArgs {
    /// Recreate containers even if their configuration and image haven't changed.
    #[arg(long)]
    pub force_recreate: bool,
    /// Don't recreate containers that already exist.
    #[arg(long)]
    pub no_recreate: bool,
    #[command(flatten)]
    pub images: ImageOptions,
    /// Remove containers of services not defined in the compose file.
    #[arg(long)]
    pub remove_orphans: bool,
    /// Scale SERVICE to NUM instances (repeatable).
    #[arg(long, value_name = "SERVICE=NUM")]
    pub scale: Vec<String>,
    /// Only these services (and what they depend on).
    #[arg(add = services_completer())]
    pub services: Vec<String>,
}

#[derive(Debug, Args)]
pub struct LsArgs {
    /// Show stopped projects too.
    #[arg(short, long)]
    pub all: bool,
    /// Only the project names.
    #[arg(short, long)]
    pub quiet: bool,
    /// Output format: table or json.
    #[arg(long, default_value = "table")]
    pub format: String,
    /// Filter: name=VALUE.
    #[arg(long)]
    pub filter: Option<String>,
}

#[derive(Debug, Args)]
pub struct EventsArgs {
    /// One JSON object per event.
    #[arg(long)]
    pub json: bool,
    /// Only these services.
    #[arg(add = services_completer())]
    pub services: Vec<String>,
}

#[derive(Debug, Args)]
pub struct WaitArgs {
    /// Take the project down once the containers have stopped.
    #[arg(long)]
    pub down_project: bool,
    /// Only these services.
    #[arg(add = services_completer())]
    pub services: Vec<String>,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// Run the container in the background and print its name.
    #[arg(short, long)]
    pub detach: bool,
    /// Remove the container (and its anonymous volumes) when it exits.
    #[arg(long)]
    pub rm: bool,
    /// Give the container this name.
    #[arg(long)]
    pub name: Option<String>,
    /// Override the image's entrypoint.
    #[arg(long)]
    pub entrypoint: Option<String>,
    /// Set environment variables (KEY=VALUE, or KEY to take it from here; repeatable).
    #[arg(short, long = "env")]
    pub env: Vec<String>,
    /// Add or override a label (KEY=VALUE; repeatable).
    #[arg(short, long = "label")]
    pub label: Vec<String>,
    /// Run as this user.
    #[arg(short, long)]
    pub user: Option<String>,
    /// Working directory inside the container.
    #[arg(short, long)]
    pub workdir: Option<String>,
    /// Bind-mount a volume (compose short syntax; repeatable; `-v` too).
    #[arg(long = "volume")]
    pub volume: Vec<String>,
    /// Publish a container port (compose short syntax; repeatable; `-p` too).
    #[arg(long = "publish")]
    pub publish: Vec<String>,
    /// Publish the service's own ports (not done by default).
    #[arg(long)]
    pub service_ports: bool,
    /// Use the service's network aliases for this container too.
    #[arg(long)]
    pub use_aliases: bool,
    /// Do not start the services it depends on.
    #[arg(long)]
    pub no_deps: bool,
    /// Disable pseudo-TTY allocation (by default one is allocated when stdin is a terminal).
    #[arg(short = 'T', long = "no-TTY")]
    pub no_tty: bool,
    /// Allocate a pseudo-TTY (the default when stdin is a terminal; accepted as docker compose does).
    #[arg(short, long, hide = true, conflicts_with = "no_tty")]
    pub tty: bool,
    /// Keep stdin open (the default; `--interactive=false` to not).
    #[arg(short, long, default_value_t = true, action = clap::ArgAction::Set, num_args = 0..=1, default_missing_value = "true", require_equals = true)]
    pub interactive: bool,
    /// Pull the image before running: always, missing, never.
    #[arg(long)]
    pub pull: Option<String>,
    /// Do not print anything while pulling.
    #[arg(long)]
    pub quiet_pull: bool,
    /// The service.
    #[arg(add = services_completer())]
    pub service: String,
    /// The command and its arguments (the service's when omitted).
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    pub command: Vec<String>,
}

#[derive(Debug, Args)]
pub struct NetworkArgs {
    #[command(subcommand)]
    pub command: NetworkCommand,
}

#[derive(Debug, Subcommand)]
pub enum NetworkCommand {
    /// Create a bridge network.
    Create(NetworkCreateArgs),
    /// List networks.
    #[command(visible_alias = "list")]
    Ls(NetworkLsArgs),
    /// Show details of one or more networks as a JSON array.
    Inspect(NetworkInspectArgs),
    /// Remove one or more networks.
    #[command(visible_alias = "remove")]
    Rm(NetworkRmArgs),
    /// Remove all networks no container uses.
    Prune(NetworkPruneArgs),
}

#[derive(Debug, Args)]
pub struct NetworkCreateArgs {
    /// Network name.
    pub name: String,
    /// Subnet in CIDR form (automatic when unset).
    #[arg(long, value_name = "CIDR")]
    pub subnet: Option<String>,
    /// Allocate container addresses from this sub-range.
    #[arg(long, value_name = "CIDR")]
    pub ip_range: Option<String>,
    /// Gateway address (the subnet's first address when unset).
    #[arg(long, value_name = "IP")]
    pub gateway: Option<String>,
    /// No route out of the network.
    #[arg(long)]
    pub internal: bool,
    /// Labels (KEY=VALUE, repeatable).
    #[arg(long = "label", value_name = "KEY=VALUE")]
    pub labels: Vec<String>,
    /// Driver options (KEY=VALUE, repeatable).
    #[arg(short = 'o', long = "opt", value_name = "KEY=VALUE")]
    pub options: Vec<String>,
}

#[derive(Debug, Args)]
pub struct NetworkLsArgs {
    /// Output format: a table, or one JSON object per line.
    #[arg(long, value_enum, default_value_t = ImagesFormat::Table)]
    pub format: ImagesFormat,
    /// Only show network IDs.
    #[arg(short, long)]
    pub quiet: bool,
}

#[derive(Debug, Args)]
pub struct NetworkInspectArgs {
    /// Networks to inspect (names or IDs).
    #[arg(required = true, value_name = "NETWORK")]
    pub networks: Vec<String>,
}

#[derive(Debug, Args)]
pub struct NetworkRmArgs {
    /// Networks to remove (names or IDs).
    #[arg(required = true, value_name = "NETWORK")]
    pub networks: Vec<String>,
    /// Remove even when containers still hold addresses (`-f` after the command).
    #[arg(long)]
    pub force: bool,
}

/// `-f` after `network prune` means `--force` (see `cli::shadow_force_flag`).
#[derive(Debug, Args)]
pub struct NetworkPruneArgs {
    /// Do not prompt for confirmation (berth never prompts; accepted for Docker compatibility).
    #[arg(long)]
    pub force: bool,
}

/// `-f` after `inspect` means `--format` (see `cli::shadow_force_flag`).
#[derive(Debug, Args)]
pub struct ContainerInspectArgs {
    /// Containers to inspect (names, IDs or unique ID prefixes).
    #[arg(required = true, value_name = "CONTAINER")]
    pub containers: Vec<String>,
    /// Print each container through a Go-style template (`{{.State.Status}}`,
    /// `{{json .Config.Labels}}`, `{{index .Config.Labels "key"}}`).
    #[arg(long, value_name = "TEMPLATE")]
    pub format: Option<String>,
}

#[derive(Debug, Args)]
pub struct PortArgs {
    /// tcp or udp.
    #[arg(long, default_value = "tcp")]
    pub protocol: String,
    /// Index of the container if the service has several replicas.
    #[arg(long, default_value_t = 1)]
    pub index: u32,
    /// The service.
    #[arg(add = services_completer())]
    pub service: String,
    /// The container port.
    pub private_port: u16,
}

#[derive(Debug, Args)]
pub struct VolumeArgs {
    #[command(subcommand)]
    pub command: VolumeCommand,
}

#[derive(Debug, Subcommand)]
pub enum VolumeCommand {
    /// List volumes.
    #[command(visible_alias = "list")]
    Ls(VolumeLsArgs),
    /// Show details of volumes as a JSON array.
    Inspect(VolumeNamesArgs),
    /// Create a volume.
    Create(VolumeCreateArgs),
    /// Remove volumes (never one in use).
    #[command(visible_alias = "remove")]
    Rm(VolumeRmArgs),
    /// Remove unused anonymous volumes (all unused ones with --all).
    Prune(VolumePruneArgs),
}

#[derive(Debug, Args)]
pub struct VolumeLsArgs {
    /// Only display names.
    #[arg(short, long)]
    pub quiet: bool,
    /// table or json.
    #[arg(long, default_value = "table")]
    pub format: String,
    /// Filter: label=KEY[=VALUE], name=TEXT (repeatable).
    #[arg(long)]
    pub filter: Vec<String>,
}

#[derive(Debug, Args)]
pub struct VolumeNamesArgs {
    #[arg(required = true, value_name = "VOLUME")]
    pub volumes: Vec<String>,
}

#[derive(Debug, Args)]
pub struct VolumeCreateArgs {
    /// Volume name.
    pub name: String,
    /// Volume driver (only local).
    #[arg(short, long)]
    pub driver: Option<String>,
    /// Labels (KEY=VALUE, repeatable).
    #[arg(long = "label")]
    pub labels: Vec<String>,
    /// Driver options (KEY=VALUE, repeatable).
    #[arg(short = 'o', long = "opt")]
    pub options: Vec<String>,
}

#[derive(Debug, Args)]
pub struct VolumeRmArgs {
    #[arg(required = true, value_name = "VOLUME")]
    pub volumes: Vec<String>,
    /// Accepted for Docker compatibility (`-f` after the command).
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Args)]
pub struct VolumePruneArgs {
    /// Remove all unused volumes, not only anonymous ones.
    #[arg(short, long)]
    pub all: bool,
    /// Do not prompt (`-f` after the command).
    #[arg(long)]
    pub force: bool,
    /// Filter: label=KEY[=VALUE] (repeatable).
    #[arg(long)]
    pub filter: Vec<String>,
}
