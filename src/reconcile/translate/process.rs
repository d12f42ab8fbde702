//! The container's first process and its log: command, environment,
//! identity and terminal ([`process_spec`]), and the `logging:` driver as
//! berth keeps logs ([`log_config`]).

use berth_runtime::container::{LogConfig, ProcessSpec};

use crate::compose::model::Service;

use super::parse_size;

/// The process of `service` as written; `stdin_once` is the caller's (`run -i`).
pub fn process_spec(service: &Service) -> ProcessSpec {
    let env = service
        .environment
        .iter()
        .filter_map(|(key, value)| value.as_ref().map(|v| format!("{key}={v}")))
        .collect();
    ProcessSpec {
        entrypoint: service.entrypoint.clone(),
        command: service.command.clone(),
        env,
        working_dir: service.working_dir.clone(),
        user: service.user.clone(),
        group_add: service.group_add.iter().map(|g| g.0.clone()).collect(),
        tty: service.tty,
        stdin_open: service.stdin_open,
        stdin_once: false,
    }
}

/// `json-file` (default) and `local` keep the log (with `max-size`/`max-file`);
/// `none` discards it; other drivers are refused.
pub fn log_config(service: &Service) -> Result<LogConfig, String> {
    let Some(logging) = &service.logging else {
        return Ok(LogConfig::default());
    };
    match logging.driver.as_deref().unwrap_or("json-file") {
        "json-file" | "local" => {
            let max_size = match logging.options.get("max-size") {
                Some(size) => {
                    Some(parse_size(size).ok_or_else(|| format!("invalid max-size {size:?}"))?)
                }
                None => None,
            };
            let max_files = match logging.options.get("max-file") {
                Some(count) => count
                    .parse::<u32>()
                    .ok()
                    .filter(|c| *c > 0)
                    .ok_or_else(|| {
                        format!("invalid max-file {count:?} (expected a positive number)")
                    })?,
                None => 1,
            };
            Ok(LogConfig {
                enabled: true,
                max_size,
                max_files,
            })
        }
        "none" => Ok(LogConfig {
            enabled: false,
            ..LogConfig::default()
        }),
        other => Err(format!(
            "log driver {other:?} is not supported (berth supports json-file, local and none)"
        )),
    }
}
