//! Health checks: the probe schedule and the status rules of Docker, as pure
//! functions, plus one probe run inside the container with its time limit.
//!
//! Docker runs the first probe `interval` after the container starts
//! (`start_interval` when there is a start period), then every
//! `start_interval` during the start period while the container is still
//! `starting`, and every `interval` after. Status: `starting` until the
//! first success or until `retries` consecutive failures that count; a
//! failure inside the start period, while still `starting`, does not count.
//!
//! berth probes earlier than that where it cannot change a result: while
//! the container is `starting` and Docker's first probe is not due yet,
//! berth probes at once, then after 0.5 s, 1 s, 2 s… (never past the time
//! Docker's first probe would run, so that probe always happens). An early
//! success makes the container healthy early (a dependency chain need not
//! wait a full interval); an early failure is logged but never counts
//! toward `retries`, so it cannot make the container unhealthy nor fail
//! `up --wait`.

use std::time::Duration;

use berth_runtime::container::{ExecIo, ExecSpec, Runtime};
use serde::{Deserialize, Serialize};

use crate::compose::model::service::Healthcheck;

/// Docker's defaults.
pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(30);
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
pub const DEFAULT_START_INTERVAL: Duration = Duration::from_secs(5);
pub const DEFAULT_RETRIES: u64 = 3;
/// The wait before the second early probe; it doubles for each next one.
pub const EARLY_RETRY: Duration = Duration::from_millis(500);
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
    /// Folds one probe result in; `started_after` is how long after the
    /// container's start the probe began.
    pub fn record(&mut self, probe: Probe, config: &HealthConfig, started_after: Duration) {
        if probe.exit_code == 0 {
            self.status = HealthStatus::Healthy;
            self.failing_streak = 0;
        } else if failure_counts(config, started_after, self.status) {
            self.failing_streak += 1;
            if self.failing_streak >= config.retries {
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

/// When Docker runs its first probe, after the container's start.
pub fn first_docker_probe(config: &HealthConfig) -> Duration {
    if config.start_period.is_zero() {
        config.interval
    } else {
        config.start_interval
    }
}

/// Whether a failed probe that began `started_after` the container's start
/// counts toward `retries`: not when it ran earlier than Docker would have
/// probed, nor inside the start period while the container is `starting`.
pub fn failure_counts(
    config: &HealthConfig,
    started_after: Duration,
    status: HealthStatus,
) -> bool {
    let early = started_after < first_docker_probe(config);
    let grace = started_after < config.start_period && status == HealthStatus::Starting;
    !early && !grace
}

/// How long to wait before the next probe, given how long the container has
/// been running, how many probes ran and its status.
pub fn next_delay(
    config: &HealthConfig,
    running_for: Duration,
    probes_done: usize,
    status: HealthStatus,
) -> Duration {
    let first = first_docker_probe(config);
    if status == HealthStatus::Starting && running_for < first {
        // Early probes: at once, then backing off, landing on Docker's first.
        let backoff = match probes_done {
            0 => Duration::ZERO,
            n => EARLY_RETRY.saturating_mul(1 << (n - 1).min(16)),
        };
        backoff.min(first - running_for)
    } else if running_for < config.start_period && status == HealthStatus::Starting {
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

    /// A container started at 0 on a fake clock: probes run when
    /// `next_delay` says, each answered by `probe_at(time)` (an exit code)
    /// and taking no time. Returns (time, status after the probe) per probe
    /// until `until`.
    fn simulate(
        config: &HealthConfig,
        until: Duration,
        probe_at: impl Fn(Duration) -> i32,
    ) -> Vec<(Duration, HealthStatus)> {
        let mut state = HealthState::default();
        let mut now = Duration::ZERO;
        let mut timeline = Vec::new();
        loop {
            now += next_delay(config, now, timeline.len(), state.status);
            if now > until {
                return timeline;
            }
            state.record(probe_result(probe_at(now)), config, now);
            timeline.push((now, state.status));
        }
    }

    fn secs(s: f64) -> Duration {
        Duration::from_secs_f64(s)
    }

    #[test]
    fn early_probes_back_off_and_land_on_dockers_first_probe() {
        let c = HealthConfig {
            interval: secs(2.0),
            start_period: Duration::ZERO,
            retries: 1,
            ..config()
        };
        let times: Vec<Duration> = simulate(&c, secs(6.0), |_| 1)
            .into_iter()
            .map(|(t, _)| t)
            .collect();
        assert_eq!(
            times,
            [
                secs(0.0),
                secs(0.5),
                secs(1.5),
                secs(2.0),
                secs(4.0),
                secs(6.0)
            ],
            "at once, +0.5 s, +1 s, then Docker's first at `interval`, then every interval"
        );
        // With a start period, Docker's first probe is at start_interval.
        assert_eq!(first_docker_probe(&config()), secs(1.0));
        assert_eq!(
            next_delay(&config(), secs(3.0), 4, HealthStatus::Starting),
            secs(1.0)
        );
        assert_eq!(
            next_delay(&config(), secs(3.0), 4, HealthStatus::Healthy),
            secs(30.0)
        );
        assert_eq!(
            next_delay(&config(), secs(11.0), 5, HealthStatus::Starting),
            secs(30.0)
        );
    }

    #[test]
    fn a_failing_probe_before_interval_does_not_count_toward_retries() {
        let c = HealthConfig {
            interval: secs(2.0),
            start_period: Duration::ZERO,
            retries: 1,
            ..config()
        };
        // Fails until 1.9 s, then succeeds: Docker's first probe (at 2 s)
        // succeeds, so berth must never have said unhealthy.
        let timeline = simulate(&c, secs(4.0), |t| i32::from(t < secs(1.9)));
        assert!(
            timeline.iter().all(|(_, s)| *s != HealthStatus::Unhealthy),
            "{timeline:?}"
        );
        assert_eq!(timeline.last().unwrap().1, HealthStatus::Healthy);
        // Failing from the start: unhealthy at Docker's first probe, not before.
        let timeline = simulate(&c, secs(4.0), |_| 1);
        let unhealthy_at = timeline
            .iter()
            .find(|(_, s)| *s == HealthStatus::Unhealthy)
            .map(|(t, _)| *t);
        assert_eq!(unhealthy_at, Some(secs(2.0)));
    }

    #[test]
    fn an_early_success_makes_the_container_healthy_early() {
        let c = HealthConfig {
            interval: secs(30.0),
            start_period: Duration::ZERO,
            ..config()
        };
        let timeline = simulate(&c, secs(30.0), |t| i32::from(t < secs(1.0)));
        assert_eq!(
            timeline
                .iter()
                .find(|(_, s)| *s == HealthStatus::Healthy)
                .map(|(t, _)| *t),
            Some(secs(1.5)),
            "{timeline:?}"
        );
        // Healthy: the next probe is an interval later.
        assert_eq!(timeline.last().unwrap().0, secs(1.5));
    }

    #[test]
    fn status_rules() {
        let c = config();
        let (in_start, after) = (secs(5.0), secs(20.0));
        let mut state = HealthState::default();
        state.record(probe_result(1), &c, in_start);
        state.record(probe_result(1), &c, in_start);
        assert_eq!(
            state.status,
            HealthStatus::Starting,
            "failures in the start period do not count"
        );
        state.record(probe_result(0), &c, in_start);
        assert_eq!(state.status, HealthStatus::Healthy);
        state.record(probe_result(1), &c, after);
        assert_eq!(state.status, HealthStatus::Healthy);
        state.record(probe_result(1), &c, after);
        assert_eq!(
            (state.status, state.failing_streak),
            (HealthStatus::Unhealthy, 2)
        );
        for _ in 0..10 {
            state.record(probe_result(0), &c, after);
        }
        assert_eq!(state.log.len(), MAX_LOG);
        assert_eq!(state.status, HealthStatus::Healthy);
        assert_eq!(state.last_output(), Some("exit 0"));
    }
}
