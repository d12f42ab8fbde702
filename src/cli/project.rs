//! Turning global options into a loaded project; the loader's warnings go to stderr.

use super::args::GlobalOptions;
use crate::compose::{self, LoadOptions, Loaded};
use anyhow::Context;
use std::io::Read;

/// Loads the project the global options describe.
pub fn load_project(
    global: &GlobalOptions,
    services: &[String],
    interpolate: bool,
) -> anyhow::Result<Loaded> {
    load_project_with(global, services, |opts| opts.interpolate = interpolate)
}

/// [`load_project`] with the loader's options adjusted first (`config`'s
/// `--no-interpolate`, `--no-path-resolution`, `--no-normalize`).
pub fn load_project_with(
    global: &GlobalOptions,
    services: &[String],
    adjust: impl FnOnce(&mut LoadOptions),
) -> anyhow::Result<Loaded> {
    let cwd = std::env::current_dir().context("cannot determine the current directory")?;
    let stdin = if global.files.iter().any(|f| f.as_os_str() == "-") {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .context("reading the compose file from standard input")?;
        Some(text)
    } else {
        None
    };
    let mut opts = LoadOptions {
        files: global.files.clone(),
        project_name: global.project_name.clone(),
        project_directory: global.project_directory.clone(),
        env_files: global.env_files.clone(),
        profiles: global.profiles.clone(),
        services: services.to_vec(),
        interpolate: true,
        keep_relative_paths: false,
        skip_normalization: false,
        process_env: std::env::vars().collect(),
        cwd,
        stdin,
    };
    adjust(&mut opts);
    let loaded = compose::load(&opts)?;
    for warning in &loaded.warnings {
        eprintln!("warning: {warning}");
    }
    Ok(loaded)
}
