//! Waiting for a dependency's `depends_on` condition: healthy (from the
//! supervisor's health file) or completed successfully. A dependency that
//! died is reported with its last log lines.

use std::collections::VecDeque;
use std::time::Duration;

use berth_runtime::container::Status;

use super::{EngineError, RuntimeEngine};
use crate::contract::annotations;
use crate::supervisor::health::HealthStatus;
use crate::supervisor::state_files;

/// How many of a dead dependency's last log lines its error carries.
const LAST_LOG_LINES: usize = 10;

impl RuntimeEngine<'_> {
    pub(super) fn wait_healthy(&self, name: &str) -> Result<(), EngineError> {
        let record = self.runtime.lookup(name)?;
        loop {
            let state = self.runtime.state(&record.id)?;
            if state.status != Status::Running {
                return Err(EngineError::DependencyExited {
                    name: name.to_string(),
                    code: state.exit_code.unwrap_or(-1),
                    last_logs: self.last_log_lines(name),
                });
            }
            let health = state_files::read_health(&self.run_dir, &self.project.name, &record.id);
            match health {
                Some(h) if h.status == HealthStatus::Healthy => return Ok(()),
                Some(h) if h.status == HealthStatus::Unhealthy => {
                    return Err(EngineError::DependencyUnhealthy {
                        name: name.to_string(),
                        output: h.last_output().unwrap_or_default().trim_end().to_string(),
                    })
                }
                _ => {}
            }
            if !annotations::has_healthcheck(&record.spec) {
                return Err(EngineError::DependencyWithoutHealthcheck {
                    name: name.to_string(),
                });
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub(super) fn wait_completed(&self, name: &str) -> Result<(), EngineError> {
        let state = self.runtime.wait(name, None)?;
        match state.exit_code {
            Some(0) => Ok(()),
            code => Err(EngineError::DependencyFailed {
                name: name.to_string(),
                code: code.unwrap_or(-1),
                last_logs: self.last_log_lines(name),
            }),
        }
    }

    /// The container's last few log lines (none when they cannot be read).
    fn last_log_lines(&self, name: &str) -> Vec<String> {
        let mut last = VecDeque::with_capacity(LAST_LOG_LINES);
        let _ = self.runtime.logs(name, false, |record| {
            if last.len() == LAST_LOG_LINES {
                last.pop_front();
            }
            last.push_back(record.log.trim_end_matches('\n').to_string());
            true
        });
        last.into()
    }
}
