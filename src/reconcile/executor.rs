//! Runs a plan through an [`Engine`] with as much parallelism as its
//! ordering edges allow. It makes no decisions: a step runs once every step
//! it waits for has succeeded; after a failure no new step starts, running
//! ones finish, and the error names the step and why it was planned.

use std::collections::BTreeSet;
use std::sync::{Condvar, Mutex};

use super::plan::{Action, Plan};

/// What the executor needs from the runtime side (implemented by
/// [`super::engine::RuntimeEngine`] over berth's runtime, or by a fake in
/// tests).
pub trait Engine: Sync {
    fn run(&self, action: &Action) -> Result<(), String>;
}

/// Progress, for the CLI's output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    Started(usize),
    Done(usize),
    Failed(usize, String),
}

/// A step failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{action} ({reason}): {error}")]
pub struct ExecuteError {
    pub action: String,
    pub reason: String,
    pub error: String,
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
                            progress.failure = Some(ExecuteError {
                                action: "plan".into(),
                                reason: "ordering".into(),
                                error: "a step waits for a step that never runs".into(),
                            });
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
                        on_event(Event::Failed(index, error.clone()));
                        progress.failure.get_or_insert(ExecuteError {
                            action: step.action.to_string(),
                            reason: step.reason.clone(),
                            error,
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
        fn run(&self, action: &Action) -> Result<(), String> {
            let now = self.running.fetch_add(1, Ordering::SeqCst) + 1;
            self.max_running.fetch_max(now, Ordering::SeqCst);
            std::thread::sleep(Duration::from_millis(20));
            self.running.fetch_sub(1, Ordering::SeqCst);
            let text = action.to_string();
            if self.fail_on.as_deref() == Some(text.as_str()) {
                return Err("no space left on device".into());
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
            err.to_string(),
            "create network a (missing): no space left on device"
        );
        assert!(fake.done.lock().unwrap().is_empty());
        assert!(events
            .lock()
            .unwrap()
            .contains(&Event::Failed(0, "no space left on device".into())));
    }
}
