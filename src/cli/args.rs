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
