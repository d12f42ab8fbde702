//! A plan: single actions, each with a reason a user can read and the steps
//! it waits for. The executor runs it with as much parallelism as the `after`
//! edges allow; `up --dry-run` prints it.

use std::fmt;

/// One thing to do to the host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    CreateNetwork {
        name: String,
    },
    CreateVolume {
        name: String,
    },
    /// Make a container for replica `number` of `service`, named `name`.
    CreateContainer {
        service: String,
        number: u32,
        name: String,
    },
    StartContainer {
        name: String,
    },
    StopContainer {
        name: String,
    },
    RemoveContainer {
        name: String,
    },
    RenameContainer {
        from: String,
        to: String,
    },
    /// Wait until a container is healthy (`depends_on: service_healthy`).
    WaitHealthy {
        name: String,
        required: bool,
    },
    /// Wait until a container has exited with 0
    /// (`depends_on: service_completed_successfully`).
    WaitCompleted {
        name: String,
        required: bool,
    },
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Action::CreateNetwork { name } => write!(f, "create network {name}"),
            Action::CreateVolume { name } => write!(f, "create volume {name}"),
            Action::CreateContainer { name, .. } => write!(f, "create container {name}"),
            Action::StartContainer { name } => write!(f, "start container {name}"),
            Action::StopContainer { name } => write!(f, "stop container {name}"),
            Action::RemoveContainer { name } => write!(f, "remove container {name}"),
            Action::RenameContainer { from, to } => write!(f, "rename container {from} to {to}"),
            Action::WaitHealthy { name, .. } => {
                write!(f, "wait for container {name} to be healthy")
            }
            Action::WaitCompleted { name, .. } => {
                write!(f, "wait for container {name} to complete successfully")
            }
        }
    }
}

/// An action, why it is needed, and the steps (by index) it must follow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    pub action: Action,
    pub reason: String,
    pub after: Vec<usize>,
}

/// The whole plan, in an order that respects `after`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    pub steps: Vec<Step>,
    /// Containers of services no longer in the project, left in place.
    pub orphans: Vec<String>,
}

impl Plan {
    /// Adds a step and returns its index.
    pub fn push(&mut self, action: Action, reason: impl Into<String>, after: Vec<usize>) -> usize {
        let mut after = after;
        after.sort_unstable();
        after.dedup();
        self.steps.push(Step {
            action,
            reason: reason.into(),
            after,
        });
        self.steps.len() - 1
    }

    pub fn is_empty(&self) -> bool {
        self.steps.is_empty()
    }
}

impl fmt::Display for Plan {
    /// One line per step: `3. start container demo-web-1 (created) after 1, 2`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (index, step) in self.steps.iter().enumerate() {
            write!(f, "{}. {}: {}", index + 1, step.action, step.reason)?;
            if !step.after.is_empty() {
                let after: Vec<String> = step.after.iter().map(|a| (a + 1).to_string()).collect();
                write!(f, " (after {})", after.join(", "))?;
            }
            writeln!(f)?;
        }
        for orphan in &self.orphans {
            writeln!(f, "orphan: {orphan}")?;
        }
        Ok(())
    }
}
