//! Lifecycle hooks (`post_start`, `pre_stop`): commands run inside a running
//! container, as `exec` runs them, with the container's environment plus the
//! hook's, its `user`, `working_dir` and `privileged`. Their output goes to
//! the container's own stdout/stderr, so `logs` shows it among the
//! program's lines.
//!
//! Every command that starts or stops a service container goes through
//! [`start`] and [`stop`] here: `up` (starts, and the stops of a recreate,
//! a scale-down or a `restart: true` dependency), `start`, `stop`,
//! `restart`, `rm -s`, `down`, a foreground `up` stopped with Ctrl-C; `run`
//! calls [`post_start`] for its one-off container. The hooks are read from the service
//! configuration kept with the container ([`CONFIG_ANNOTATION`]), so a stop
//! finds them without the compose file. As with docker compose, a restart
//! made by a restart policy (the supervisor's, Docker's engine's) runs no
//! hook, and `kill` none either.
//!
//! Failures: a `post_start` hook that fails is an error of the start (the
//! container keeps running, as with docker compose); a `pre_stop` hook that
//! fails or outlives its time is a warning and the stop goes on (one that
//! ends the program itself, a graceful quit, is no failure). The `pre_stop`
//! hooks of a container share one time limit, its stop grace period, so a
//! hook never holds a stop longer than that; the stop signal then still
//! gets the whole grace period. The container is marked as stopped on
//! purpose before its hooks run, so a restart policy never brings it back
//! in between.

use std::time::{Duration, Instant};

use berth_runtime::container::{
    ContainerError, ContainerRecord, ContainerState, ExecIo, ExecSpec, Runtime, Status,
    DEFAULT_STOP_TIMEOUT,
};

use crate::compose::model::service::ServiceHook;
use crate::contract::annotations::CONFIG_ANNOTATION;
use crate::contract::labels;

/// The hooks kept in a container's service configuration.
#[derive(Debug, Default, serde::Deserialize)]
struct StoredHooks {
    #[serde(default)]
    post_start: Vec<ServiceHook>,
    #[serde(default)]
    pre_stop: Vec<ServiceHook>,
}

fn stored_hooks(record: &ContainerRecord) -> StoredHooks {
    record
        .spec
        .annotations
        .get(CONFIG_ANNOTATION)
        .and_then(|text| serde_json::from_str(text).ok())
        .unwrap_or_default()
}

/// Which hook, for messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HookKind {
    PostStart,
    PreStop,
}

impl std::fmt::Display for HookKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            HookKind::PostStart => "post_start",
            HookKind::PreStop => "pre_stop",
        })
    }
}

/// A hook that did not succeed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}{container}: {kind}[{index}] hook ({command}) {outcome}", service.as_ref().map(|s| format!("service {s}, container ")).unwrap_or_else(|| "container ".into()))]
pub struct HookFailure {
    pub service: Option<String>,
    pub container: String,
    pub kind: HookKind,
    /// Its position in the service's list, from 0.
    pub index: usize,
    /// The command as a shell would show it.
    pub command: String,
    pub outcome: HookOutcome,
}

/// How a hook failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HookOutcome {
    /// It ran and exited with this code (126/127: could not be run).
    Exited(i32),
    /// Killed when its time was up.
    TimedOut(Duration),
    /// It could not be started at all.
    NotRun(String),
}

impl std::fmt::Display for HookOutcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            HookOutcome::Exited(code) => write!(f, "exited with code {code}"),
            HookOutcome::TimedOut(limit) => {
                write!(
                    f,
                    "did not finish within {}s and was killed",
                    limit.as_secs_f64()
                )
            }
            HookOutcome::NotRun(reason) => write!(f, "could not be run: {reason}"),
        }
    }
}

/// What starting a container through [`start`] can fail with.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Container(#[from] ContainerError),
    /// The container started (and runs on); a `post_start` hook failed.
    #[error(transparent)]
    Hook(#[from] HookFailure),
}

/// The exec that runs `hook`: its environment over the container's (an
/// entry without a value leaves the container's alone), its user, working
/// directory and privileges (the container's own when unset).
pub fn exec_spec(hook: &ServiceHook) -> ExecSpec {
    ExecSpec {
        args: hook.command.clone(),
        env: hook
            .environment
            .iter()
            .filter_map(|(key, value)| Some(format!("{key}={}", value.as_ref()?)))
            .collect(),
        working_dir: hook.working_dir.clone().filter(|d| !d.is_empty()),
        user: hook.user.clone().filter(|u| !u.is_empty()),
        tty: false,
        privileged: hook.privileged,
    }
}

/// A command line as a user would type it (for messages).
fn shell_words(args: &[String]) -> String {
    args.iter()
        .map(|arg| {
            let plain = !arg.is_empty()
                && arg
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_./=:,@%+".contains(c));
            if plain {
                arg.clone()
            } else {
                format!("'{}'", arg.replace('\'', r"'\''"))
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Runs the hooks in order until one fails; `limit` bounds them all together.
fn run_hooks(
    runtime: &Runtime,
    record: &ContainerRecord,
    kind: HookKind,
    hooks: &[ServiceHook],
    limit: Option<Duration>,
) -> Result<(), HookFailure> {
    let deadline = limit.map(|l| Instant::now() + l);
    for (index, hook) in hooks.iter().enumerate() {
        let failure = |outcome| HookFailure {
            service: record.spec.labels.get(labels::SERVICE).cloned(),
            container: record.name.clone(),
            kind,
            index,
            command: shell_words(&hook.command),
            outcome,
        };
        let remaining = deadline.map(|d| d.saturating_duration_since(Instant::now()));
        if remaining == Some(Duration::ZERO) {
            return Err(failure(HookOutcome::TimedOut(limit.unwrap_or_default())));
        }
        tracing::debug!("{}: running {kind}[{index}]", record.name);
        let spec = exec_spec(hook);
        match runtime.exec(&record.id, &spec, ExecIo::ContainerOutput(remaining)) {
            Ok(output) if output.timed_out => {
                return Err(failure(HookOutcome::TimedOut(limit.unwrap_or_default())))
            }
            Ok(output) if output.exit_code != 0 => {
                return Err(failure(HookOutcome::Exited(output.exit_code)))
            }
            Ok(_) => {}
            Err(err) => return Err(failure(HookOutcome::NotRun(err.to_string()))),
        }
    }
    Ok(())
}

/// Runs the container's `post_start` hooks (it must be running).
pub fn post_start(runtime: &Runtime, name_or_id: &str) -> Result<(), StartError> {
    let record = runtime.lookup(name_or_id)?;
    let hooks = stored_hooks(&record).post_start;
    if hooks.is_empty() {
        return Ok(());
    }
    Ok(run_hooks(
        runtime,
        &record,
        HookKind::PostStart,
        &hooks,
        None,
    )?)
}

/// Starts a container (see [`Runtime::start_with`]), then runs its
/// `post_start` hooks.
pub fn start(
    runtime: &Runtime,
    name_or_id: &str,
    at_gate: impl FnOnce(),
) -> Result<ContainerState, StartError> {
    let state = runtime.start_with(name_or_id, at_gate)?;
    post_start(runtime, name_or_id)?;
    Ok(state)
}

/// The grace period a stop with `timeout` gives the container (the same
/// rule as [`Runtime::stop`]).
pub fn grace_period(record: &ContainerRecord, timeout: Option<Duration>) -> Duration {
    timeout
        .or(record.spec.stop_timeout)
        .unwrap_or(DEFAULT_STOP_TIMEOUT)
}

/// Runs the `pre_stop` hooks of a running container within its grace
/// period. `None` when there was nothing to run or all succeeded.
pub fn pre_stop(
    runtime: &Runtime,
    record: &ContainerRecord,
    timeout: Option<Duration>,
) -> Option<HookFailure> {
    let hooks = stored_hooks(record).pre_stop;
    if hooks.is_empty() {
        return None;
    }
    let state = runtime.state(&record.id).ok()?;
    if state.status != Status::Running {
        return None;
    }
    let grace = grace_period(record, timeout);
    // No time at all (`-t 0`, a second Ctrl-C): a kill, no hook.
    if grace.is_zero() {
        return None;
    }
    // The stop is on purpose from here: a hook that ends the program must
    // not have a restart policy bring it back.
    runtime.mark_stop_requested(&record.id);
    // A frozen container would freeze its hooks (the stop thaws it anyway).
    if state.paused {
        let _ = runtime.unpause(&record.id);
    }
    let failure = run_hooks(runtime, record, HookKind::PreStop, &hooks, Some(grace)).err()?;
    // A hook that ended the program (a graceful quit command) goes with it:
    // that is the hook doing its job, not a failure.
    let ended = runtime
        .state(&record.id)
        .is_ok_and(|s| s.status != Status::Running);
    if ended {
        tracing::debug!("{failure}, and the container has ended");
        return None;
    }
    Some(failure)
}

/// Stops a container the way every command does: its `pre_stop` hooks
/// (a failure is a warning on stderr), then [`Runtime::stop`].
pub fn stop(
    runtime: &Runtime,
    name_or_id: &str,
    timeout: Option<Duration>,
) -> Result<ContainerState, ContainerError> {
    let record = runtime.lookup(name_or_id)?;
    if let Some(failure) = pre_stop(runtime, &record, timeout) {
        eprintln!("warning: {failure}; stopping it anyway");
    }
    runtime.stop(&record.id, timeout)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hook(yaml_env: &[(&str, Option<&str>)]) -> ServiceHook {
        ServiceHook {
            command: vec!["sh".into(), "-c".into(), "echo \"$A\" > /x".into()],
            user: Some("1000".into()),
            privileged: true,
            working_dir: Some("/srv".into()),
            environment: yaml_env
                .iter()
                .map(|(k, v)| (k.to_string(), v.map(str::to_string)))
                .collect(),
        }
    }

    #[test]
    fn a_hook_becomes_an_exec_over_the_containers_environment() {
        let spec = exec_spec(&hook(&[("A", Some("1")), ("B", Some("")), ("C", None)]));
        assert_eq!(spec.args, ["sh", "-c", "echo \"$A\" > /x"]);
        // Values override the container's; a bare name keeps the container's.
        assert_eq!(spec.env, ["A=1", "B="]);
        assert_eq!(spec.user.as_deref(), Some("1000"));
        assert_eq!(spec.working_dir.as_deref(), Some("/srv"));
        assert!(spec.privileged && !spec.tty);
        // Unset or empty: the container's own user and directory.
        let plain = exec_spec(&ServiceHook {
            command: vec!["true".into()],
            user: Some(String::new()),
            ..ServiceHook::default()
        });
        assert_eq!((plain.user, plain.working_dir), (None, None));
        // The container's environment is merged under the hook's by exec.
        let merged = berth_runtime::container::process::merge_env([
            ["A=0".to_string(), "PATH=/bin".to_string()].as_slice(),
            spec.env.as_slice(),
        ]);
        assert_eq!(merged, ["A=1", "PATH=/bin", "B="]);
    }

    #[test]
    fn hooks_are_read_from_the_stored_service_configuration() {
        let service: crate::compose::model::Service = serde_json::from_value(serde_json::json!({
            "image": "busybox",
            "post_start": [{"command": ["echo", "hi"]}],
            "pre_stop": [{"command": ["sh", "-c", "exit 3"]}, {"command": ["true"]}],
        }))
        .unwrap();
        let mut record: ContainerRecord = serde_json::from_value(serde_json::json!({
            "id": "x", "name": "demo-web-1", "created": "", "image_id": "", "image_name": null,
            "manifest_digest": "", "layers": [], "hostname": "h", "stop_signal": "SIGTERM",
            "cgroup_parent": "berth",
            "process": {"args": ["sh"], "env": [], "working_dir": "/", "user": ""},
            "spec": serde_json::to_value(berth_runtime::container::ContainerSpec::default()).unwrap(),
        }))
        .unwrap();
        assert!(stored_hooks(&record).pre_stop.is_empty());
        record.spec.annotations.insert(
            CONFIG_ANNOTATION.into(),
            serde_json::to_string(&service).unwrap(),
        );
        let hooks = stored_hooks(&record);
        assert_eq!(hooks.post_start[0].command, ["echo", "hi"]);
        assert_eq!(hooks.pre_stop.len(), 2);
        // The grace period: -t, else stop_grace_period, else 10 s.
        assert_eq!(grace_period(&record, None), DEFAULT_STOP_TIMEOUT);
        record.spec.stop_timeout = Some(Duration::from_secs(3));
        assert_eq!(grace_period(&record, None), Duration::from_secs(3));
        assert_eq!(
            grace_period(&record, Some(Duration::from_secs(1))),
            Duration::from_secs(1)
        );
    }

    #[test]
    fn failures_name_the_service_container_hook_and_code() {
        let failure = HookFailure {
            service: Some("web".into()),
            container: "demo-web-1".into(),
            kind: HookKind::PostStart,
            index: 1,
            command: shell_words(&["sh".into(), "-c".into(), "exit 3".into()]),
            outcome: HookOutcome::Exited(3),
        };
        assert_eq!(
            failure.to_string(),
            "service web, container demo-web-1: post_start[1] hook (sh -c 'exit 3') exited with code 3"
        );
        let slow = HookFailure {
            service: None,
            kind: HookKind::PreStop,
            index: 0,
            outcome: HookOutcome::TimedOut(Duration::from_secs(2)),
            ..failure
        };
        assert_eq!(
            slow.to_string(),
            "container demo-web-1: pre_stop[0] hook (sh -c 'exit 3') did not finish within 2s and was killed"
        );
    }
}
