//! Command-line arguments: global options as `docker compose` has them, and
//! one subcommand per command.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "berth",
    version,
    about = "A Compose-compatible, daemonless multi-container orchestrator",
    propagate_version = true
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalOptions,
    #[command(subcommand)]
    pub command: Command,
}

/// Options every command takes (before or after the command name).
#[derive(Debug, Clone, Args, Default)]
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
    /// Progress output: auto, tty, plain, json, quiet.
    #[arg(long, global = true, value_name = "TYPE", default_value = "auto")]
    pub progress: String,
    /// Control when to print ANSI control characters: never, always, auto.
    #[arg(long, global = true, value_name = "WHEN", default_value = "auto")]
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
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Parse, resolve and render the compose file in canonical format.
    Config(ConfigArgs),
    /// Show the dependency graph of services, networks and volumes.
    Graph(GraphArgs),
    /// Show the berth version information.
    Version(VersionArgs),
    /// Manage images.
    Image(ImageArgs),
    /// List images.
    Images(ImagesArgs),
    /// Pull an image from a registry.
    Pull(PullArgs),
    /// Remove one or more images.
    Rmi(RmiArgs),
    /// Give an image another name.
    Tag(TagArgs),
    /// Manage networks.
    Network(NetworkArgs),
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
    /// Only images of this repository (REPOSITORY[:TAG]).
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
    /// Image to pull: NAME[:TAG|@DIGEST].
    pub name: String,
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
