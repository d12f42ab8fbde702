//! Health checks: the probe schedule and the status rules of Docker, as pure
//! functions, plus one probe run inside the container with its time limit.
//!
//! Schedule: the first probe runs at once (berth does not make a healthy
//! chain wait a full interval), then every `start_interval` during the start
//! period and every `interval` after. Status: `starting` until the first
//! success or until `retries` consecutive failures after the start period;
//! failures inside the start period do not count.

use std::time::Duration;

use berth_runtime::container::{ExecIo, ExecSpec, Runtime};
use serde::{Deserialize, Serialize};

use crate::compose::model::service::Healthcheck;

/// Docker's defaults.
pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(30);
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
pub const DEFAULT_START_INTERVAL: Duration = Duration::from_secs(5);
pub const DEFAULT_RETRIES: u64 = 3;
/// Probe output kept per result (as Docker).
const MAX_OUTPUT: usize = 4096;
/// Results kept in the log (as Docker).
const MAX_LOG: usize = 5;

/// A health check ready to run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HealthConfig {
    /// The argv to exec (`CMD-SHELL x` becomes `/bin/sh -c x`).
    pub argv: Vec<String>,
    pub interval: Duration,
    pub timeout: Duration,
    pub retries: u64,
    pub start_period: Duration,
    pub start_interval: Duration,
}

impl HealthConfig {
    /// From the compose file; `None` when disabled or `NONE`. An empty test
    /// means "inherit the image's" and is resolved by the caller.
    pub fn from_compose(
        check: &Healthcheck,
        image_test: Option<&[String]>,
    ) -> Option<HealthConfig> {
        if check.disable {
            return None;
        }
        let test: Vec<String> = if check.test.is_empty() {
            image_test?.to_vec()
        } else {
            check.test.clone()
        };
        let argv = argv_of(&test)?;
        let or = |value: &Option<crate::compose::model::scalars::Duration>, default: Duration| {
            value
                .as_ref()
                .map(|d| d.as_std())
                .filter(|d| !d.is_zero())
                .unwrap_or(default)
        };
        Some(HealthConfig {
            argv,
            interval: or(&check.interval, DEFAULT_INTERVAL),
            timeout: or(&check.timeout, DEFAULT_TIMEOUT),
            retries: check.retries.filter(|r| *r > 0).unwrap_or(DEFAULT_RETRIES),
            start_period: or(&check.start_period, Duration::ZERO),
            start_interval: or(&check.start_interval, DEFAULT_START_INTERVAL),
        })
    }
}

/// `["CMD", a, b]` -> `[a, b]`; `["CMD-SHELL", s]` (or a bare string) ->
/// `["/bin/sh", "-c", s]`; `["NONE"]` -> none.
pub fn argv_of(test: &[String]) -> Option<Vec<String>> {
    match test.first().map(String::as_str) {
        Some("NONE") | None => None,
        Some("CMD") => Some(test[1..].to_vec()).filter(|a| !a.is_empty()),
        Some("CMD-SHELL") => Some(vec!["/bin/sh".into(), "-c".into(), test[1..].join(" ")]),
        Some(_) => Some(vec!["/bin/sh".into(), "-c".into(), test.join(" ")]),
    }
}

/// Docker's health statuses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum HealthStatus {
    Starting,
    Healthy,
    Unhealthy,
}

/// One probe's result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Probe {
    pub start: String,
    pub end: String,
    pub exit_code: i32,
    pub output: String,
}

/// What `inspect` shows as `State.Health`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HealthState {
    pub status: HealthStatus,
    pub failing_streak: u64,
    pub log: Vec<Probe>,
}

impl Default for HealthState {
    fn default() -> Self {
        HealthState {
            status: HealthStatus::Starting,
            failing_streak: 0,
            log: Vec::new(),
        }
    }
}

impl HealthState {
    /// Folds one probe result in (`in_start_period`: the container started
    /// less than `start_period` ago).
    pub fn record(&mut self, probe: Probe, retries: u64, in_start_period: bool) {
        if probe.exit_code == 0 {
            self.status = HealthStatus::Healthy;
            self.failing_streak = 0;
        } else if !(in_start_period && self.status == HealthStatus::Starting) {
            self.failing_streak += 1;
            if self.failing_streak >= retries {
                self.status = HealthStatus::Unhealthy;
            }
        }
        self.log.push(probe);
        if self.log.len() > MAX_LOG {
            self.log.remove(0);
        }
    }

    /// The last probe's output, for error reports.
    pub fn last_output(&self) -> Option<&str> {
        self.log.last().map(|p| p.output.as_str())
    }
}

/// How long to wait before the next probe, given how long the container has
/// been running and how many probes ran.
pub fn next_delay(config: &HealthConfig, running_for: Duration, probes_done: usize) -> Duration {
    if probes_done == 0 {
        Duration::ZERO
    } else if running_for < config.start_period {
        config.start_interval
    } else {
        config.interval
    }
}

/// Runs the check once inside the container.
pub fn probe(runtime: &Runtime, container: &str, config: &HealthConfig) -> Probe {
    let start = berth_runtime::timestamp::now();
    let spec = ExecSpec {
        args: config.argv.clone(),
        ..ExecSpec::default()
    };
    let (exit_code, mut output) =
        match runtime.exec(container, &spec, ExecIo::CaptureWithin(config.timeout)) {
            Ok(out) if out.timed_out => (
                -1,
                format!("Health check exceeded timeout ({:?})", config.timeout),
            ),
            Ok(out) => {
                let mut text = String::from_utf8_lossy(&out.stdout).into_owned();
                text.push_str(&String::from_utf8_lossy(&out.stderr));
                (out.exit_code, text)
            }
            Err(err) => (-1, err.to_string()),
        };
    if output.len() > MAX_OUTPUT {
        let mut cut = MAX_OUTPUT;
        while !output.is_char_boundary(cut) {
            cut -= 1;
        }
        output.truncate(cut);
    }
    Probe {
        start,
        end: berth_runtime::timestamp::now(),
        exit_code,
        output,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn probe_result(code: i32) -> Probe {
        Probe {
            start: String::new(),
            end: String::new(),
            exit_code: code,
            output: format!("exit {code}"),
        }
    }

    fn config() -> HealthConfig {
        HealthConfig {
            argv: vec!["true".into()],
            interval: Duration::from_secs(30),
            timeout: Duration::from_secs(1),
            retries: 2,
            start_period: Duration::from_secs(10),
            start_interval: Duration::from_secs(1),
        }
    }

    #[test]
    fn tests_become_argv() {
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert_eq!(
            argv_of(&s(&["CMD", "pg_isready", "-q"])),
            Some(s(&["pg_isready", "-q"]))
        );
        assert_eq!(
            argv_of(&s(&["CMD-SHELL", "curl -f x || exit 1"])),
            Some(s(&["/bin/sh", "-c", "curl -f x || exit 1"]))
        );
        assert_eq!(argv_of(&s(&["NONE"])), None);
    }

    #[test]
    fn first_probe_at_once_then_start_interval_then_interval() {
        let c = config();
        assert_eq!(next_delay(&c, Duration::ZERO, 0), Duration::ZERO);
        assert_eq!(
            next_delay(&c, Duration::from_secs(3), 1),
            Duration::from_secs(1)
        );
        assert_eq!(
            next_delay(&c, Duration::from_secs(11), 5),
            Duration::from_secs(30)
        );
    }

    #[test]
    fn status_rules() {
        let mut state = HealthState::default();
        state.record(probe_result(1), 2, true);
        state.record(probe_result(1), 2, true);
        assert_eq!(
            state.status,
            HealthStatus::Starting,
            "failures in the start period do not count"
        );
        state.record(probe_result(0), 2, true);
        assert_eq!(state.status, HealthStatus::Healthy);
        state.record(probe_result(1), 2, false);
        assert_eq!(state.status, HealthStatus::Healthy);
        state.record(probe_result(1), 2, false);
        assert_eq!(
            (state.status, state.failing_streak),
            (HealthStatus::Unhealthy, 2)
        );
        for _ in 0..10 {
            state.record(probe_result(0), 2, false);
        }
        assert_eq!(state.log.len(), MAX_LOG);
        assert_eq!(state.status, HealthStatus::Healthy);
        assert_eq!(state.last_output(), Some("exit 0"));
    }
}
