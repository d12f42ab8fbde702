//! Runs a plan through an [`Engine`] with as much parallelism as its
//! ordering edges allow. It makes no decisions: a step runs once every step
//! it waits for has succeeded; after a failure no new step starts, running
//! ones finish, and the error names the step and why it was planned.

use std::collections::BTreeSet;
use std::sync::{Condvar, Mutex};

use super::engine::error::EngineError;
use super::plan::{Action, Plan};
use crate::error_text::chain_text;

/// What the executor needs from the runtime side (implemented by
/// [`super::engine::RuntimeEngine`] over berth's runtime, or by a fake in
/// tests).
pub trait Engine: Sync {
    fn run(&self, action: &Action) -> Result<(), EngineError>;
}

/// Progress, for the CLI's output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    Started(usize),
    Done(usize),
    /// The step failed: the error's chain as one line.
    Failed(usize, String),
}

/// Why the plan did not run to its end.
#[derive(Debug, thiserror::Error)]
pub enum ExecuteError {
    /// A step failed: which, why it was planned, and the engine's error
    /// (for a caller to match on).
    #[error("{action} ({reason})")]
    Step {
        action: String,
        reason: String,
        #[source]
        error: Box<EngineError>,
    },
    /// Nothing runs and nothing can start: the plan has an unmet edge.
    #[error("plan (ordering): a step waits for a step that never runs")]
    Ordering,
}

impl ExecuteError {
    /// The engine's error of the failed step.
    pub fn engine_error(&self) -> Option<&EngineError> {
        match self {
            ExecuteError::Step { error, .. } => Some(error),
            ExecuteError::Ordering => None,
        }
    }
}

#[derive(Default)]
struct Progress {
    started: BTreeSet<usize>,
    done: BTreeSet<usize>,
    running: usize,
    failure: Option<ExecuteError>,
}

/// Runs every step of `plan` with up to `workers` at once.
pub fn execute(
    plan: &Plan,
    engine: &dyn Engine,
    workers: usize,
    on_event: &(dyn Fn(Event) + Sync),
) -> Result<(), ExecuteError> {
    let state = Mutex::new(Progress::default());
    let changed = Condvar::new();
    let next = |progress: &Progress| -> Option<usize> {
        (0..plan.steps.len()).find(|i| {
            !progress.started.contains(i)
                && plan.steps[*i]
                    .after
                    .iter()
                    .all(|a| progress.done.contains(a))
        })
    };
    std::thread::scope(|scope| {
        for _ in 0..workers.max(1) {
            scope.spawn(|| loop {
                let index = {
                    let mut progress = state.lock().unwrap();
                    loop {
                        let finished = progress.done.len() == plan.steps.len();
                        if finished || progress.failure.is_some() {
                            changed.notify_all();
                            return;
                        }
                        if let Some(index) = next(&progress) {
                            progress.started.insert(index);
                            progress.running += 1;
                            break index;
                        }
                        if progress.running == 0 {
                            // Nothing runs and nothing can start: the plan has an unmet edge.
                            progress.failure = Some(ExecuteError::Ordering);
                            changed.notify_all();
                            return;
                        }
                        progress = changed.wait(progress).unwrap();
                    }
                };
                let step = &plan.steps[index];
                on_event(Event::Started(index));
                let result = engine.run(&step.action);
                let mut progress = state.lock().unwrap();
                progress.running -= 1;
                match result {
                    Ok(()) => {
                        progress.done.insert(index);
                        on_event(Event::Done(index));
                    }
                    Err(error) => {
                        on_event(Event::Failed(index, chain_text(&error)));
                        progress.failure.get_or_insert(ExecuteError::Step {
                            action: step.action.to_string(),
                            reason: step.reason.clone(),
                            error: Box::new(error),
                        });
                    }
                }
                changed.notify_all();
            });
        }
    });
    match state.into_inner().unwrap().failure {
        Some(failure) => Err(failure),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    struct Fake {
        done: Mutex<Vec<String>>,
        running: AtomicUsize,
        max_running: AtomicUsize,
        fail_on: Option<String>,
    }

    impl Fake {
        fn new(fail_on: Option<&str>) -> Fake {
            Fake {
                done: Mutex::new(Vec::new()),
                running: AtomicUsize::new(0),
                max_running: AtomicUsize::new(0),
                fail_on: fail_on.map(str::to_string),
            }
        }
    }

    impl Engine for Fake {
        fn run(&self, action: &Action) -> Result<(), EngineError> {
            let now = self.running.fetch_add(1, Ordering::SeqCst) + 1;
            self.max_running.fetch_max(now, Ordering::SeqCst);
            std::thread::sleep(Duration::from_millis(20));
            self.running.fetch_sub(1, Ordering::SeqCst);
            let text = action.to_string();
            if self.fail_on.as_deref() == Some(text.as_str()) {
                return Err(EngineError::Io {
                    context: "write layer".into(),
                    source: std::io::Error::from_raw_os_error(28),
                });
            }
            self.done.lock().unwrap().push(text);
            Ok(())
        }
    }

    fn network(name: &str) -> Action {
        Action::CreateNetwork { name: name.into() }
    }

    fn start(name: &str) -> Action {
        Action::StartContainer { name: name.into() }
    }

    #[test]
    fn independent_steps_run_in_parallel_and_edges_hold() {
        let mut plan = Plan::default();
        let a = plan.push(network("a"), "missing", vec![]);
        let b = plan.push(network("b"), "missing", vec![]);
        let c = plan.push(start("c"), "created", vec![a, b]);
        plan.push(start("d"), "created", vec![c]);
        let fake = Fake::new(None);
        execute(&plan, &fake, 4, &|_| {}).unwrap();
        let done = fake.done.lock().unwrap().clone();
        assert_eq!(&done[2..], ["start container c", "start container d"]);
        assert_eq!(fake.max_running.load(Ordering::SeqCst), 2);
    }

    #[test]
    fn a_failure_stops_what_depends_on_it_and_names_the_step() {
        let mut plan = Plan::default();
        let a = plan.push(network("a"), "missing", vec![]);
        plan.push(start("web"), "created", vec![a]);
        let fake = Fake::new(Some("create network a"));
        let events = Mutex::new(Vec::new());
        let err = execute(&plan, &fake, 2, &|e| events.lock().unwrap().push(e)).unwrap_err();
        assert_eq!(
            chain_text(&err),
            "create network a (missing): write layer: No space left on device (os error 28)"
        );
        assert!(matches!(err.engine_error(), Some(EngineError::Io { .. })));
        assert!(fake.done.lock().unwrap().is_empty());
        assert!(events.lock().unwrap().contains(&Event::Failed(
            0,
            "write layer: No space left on device (os error 28)".into()
        )));
    }
}
