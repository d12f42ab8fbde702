//! Restart policies as Docker applies them: `no`, `always`,
//! `on-failure[:N]`, `unless-stopped`; a container stopped by the user is
//! never restarted; the delay doubles from 100 ms up to a minute and resets
//! once a container has run for 10 s.

use std::time::Duration;

/// A parsed `restart:` value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RestartPolicy {
    No,
    Always,
    UnlessStopped,
    /// Restart on a non-zero exit, at most this many times (unlimited when `None`).
    OnFailure(Option<u32>),
}

impl RestartPolicy {
    /// Parses `no`, `always`, `unless-stopped`, `on-failure`, `on-failure:3`.
    pub fn parse(text: &str) -> Result<RestartPolicy, String> {
        let (name, count) = match text.split_once(':') {
            Some((name, count)) => (name, Some(count)),
            None => (text, None),
        };
        let policy = match name {
            "" | "no" => RestartPolicy::No,
            "always" => RestartPolicy::Always,
            "unless-stopped" => RestartPolicy::UnlessStopped,
            "on-failure" => RestartPolicy::OnFailure(match count {
                Some(n) => Some(n.parse().map_err(|_| format!("invalid restart count {n:?} in {text:?}"))?),
                None => None,
            }),
            _ => {
                return Err(format!(
                    "invalid restart policy {text:?} (expected no, always, on-failure[:max-retries] or unless-stopped)"
                ))
            }
        };
        if count.is_some() && !matches!(policy, RestartPolicy::OnFailure(_)) {
            return Err(format!(
                "restart policy {text:?}: only on-failure takes a maximum retry count"
            ));
        }
        Ok(policy)
    }

    /// The policy a service's containers run under: `restart`, else
    /// `deploy.restart_policy` as docker compose maps it (`none` -> no,
    /// `on-failure` with `max_attempts`, `any` or no condition -> always),
    /// else no. Invalid values were refused before the containers were made.
    pub fn for_service(service: &crate::compose::model::Service) -> RestartPolicy {
        if let Some(text) = service.restart.as_deref().filter(|r| !r.is_empty()) {
            return RestartPolicy::parse(text).unwrap_or(RestartPolicy::No);
        }
        let Some(policy) = service
            .deploy
            .as_ref()
            .and_then(|d| d.restart_policy.as_ref())
        else {
            return RestartPolicy::No;
        };
        match policy.condition.as_deref() {
            Some("none") => RestartPolicy::No,
            Some("on-failure") => {
                RestartPolicy::OnFailure(policy.max_attempts.and_then(|n| u32::try_from(n).ok()))
            }
            _ => RestartPolicy::Always,
        }
    }

    /// Whether a container that ended with `exit_code`, after `restarts`
    /// restarts so far, is started again.
    pub fn should_restart(&self, exit_code: i32, restarts: u32, stopped_by_user: bool) -> bool {
        if stopped_by_user {
            return false;
        }
        match self {
            RestartPolicy::No => false,
            RestartPolicy::Always | RestartPolicy::UnlessStopped => true,
            RestartPolicy::OnFailure(max) => exit_code != 0 && max.is_none_or(|max| restarts < max),
        }
    }
}

/// First delay between restarts.
pub const FIRST_DELAY: Duration = Duration::from_millis(100);
/// Longest delay between restarts.
pub const MAX_DELAY: Duration = Duration::from_secs(60);
/// A run this long resets the delay.
pub const RESET_AFTER: Duration = Duration::from_secs(10);

/// The delay before the next restart, given the previous delay and how
/// long the last run lasted.
pub fn next_delay(previous: Option<Duration>, last_run: Duration) -> Duration {
    match previous {
        Some(previous) if last_run < RESET_AFTER => (previous * 2).min(MAX_DELAY),
        _ => FIRST_DELAY,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_policies() {
        assert_eq!(RestartPolicy::parse("no"), Ok(RestartPolicy::No));
        assert_eq!(RestartPolicy::parse("always"), Ok(RestartPolicy::Always));
        assert_eq!(
            RestartPolicy::parse("unless-stopped"),
            Ok(RestartPolicy::UnlessStopped)
        );
        assert_eq!(
            RestartPolicy::parse("on-failure"),
            Ok(RestartPolicy::OnFailure(None))
        );
        assert_eq!(
            RestartPolicy::parse("on-failure:3"),
            Ok(RestartPolicy::OnFailure(Some(3)))
        );
        assert!(RestartPolicy::parse("sometimes").is_err());
        assert!(RestartPolicy::parse("always:3").is_err());
        assert!(RestartPolicy::parse("on-failure:x").is_err());
    }

    #[test]
    fn decisions() {
        let on_failure = RestartPolicy::OnFailure(Some(2));
        assert!(on_failure.should_restart(1, 0, false));
        assert!(on_failure.should_restart(1, 1, false));
        assert!(!on_failure.should_restart(1, 2, false));
        assert!(!on_failure.should_restart(0, 0, false));
        assert!(RestartPolicy::Always.should_restart(0, 100, false));
        assert!(!RestartPolicy::Always.should_restart(1, 0, true));
        assert!(!RestartPolicy::No.should_restart(1, 0, false));
    }

    #[test]
    fn backoff_doubles_caps_and_resets() {
        let short = Duration::from_secs(1);
        let mut delay = next_delay(None, short);
        assert_eq!(delay, FIRST_DELAY);
        for _ in 0..20 {
            delay = next_delay(Some(delay), short);
        }
        assert_eq!(delay, MAX_DELAY);
        assert_eq!(
            next_delay(Some(delay), Duration::from_secs(11)),
            FIRST_DELAY
        );
    }
}
