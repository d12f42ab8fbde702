//! Which containers the port proxies and the embedded DNS serve: those that
//! run, and those waiting at their start gate (whose program starts only
//! once their names and ports are ready). Shared by [`super::ports`] and
//! [`super::dns`], which keep what they serve per container ID and namespace
//! PID.

use std::collections::BTreeMap;

use berth_runtime::container::{ContainerInfo, Runtime, Status};

/// The containers waiting at their start gate, by ID, with their PIDs (from
/// the list the pass already has: no second look at every container).
pub fn pending_gates(runtime: &Runtime, containers: &[ContainerInfo]) -> BTreeMap<String, i32> {
    // Any status: a container being restarted still reads as exited.
    containers
        .iter()
        .filter_map(|c| Some((c.record.id.clone(), runtime.gate_pending(&c.record.id)?)))
        .collect()
}

/// The namespace PID of a container that runs or waits at its gate.
pub fn live_pid(info: &ContainerInfo, pending: &BTreeMap<String, i32>) -> Option<i32> {
    match (info.state.status, info.state.pid) {
        (Status::Running, Some(pid)) => Some(pid),
        _ => pending.get(&info.record.id).copied(),
    }
}

/// Whether what is served for container `id` in the namespace of `pid`
/// stays: the container still exists, has not exited, and is not known to
/// run in another process now. A container between its start gate and its
/// recorded start is neither pending nor running for a moment; that must
/// not tear its DNS or ports down.
pub fn still_serves(
    id: &str,
    pid: i32,
    containers: &[ContainerInfo],
    live: &[(&String, i32)],
) -> bool {
    let Some(info) = containers.iter().find(|c| c.record.id == id) else {
        return false;
    };
    if info.state.status == Status::Exited {
        return false;
    }
    live.iter()
        .find(|(live_id, _)| *live_id == id)
        .is_none_or(|(_, live_pid)| *live_pid == pid)
}

/// The names of `containers` among the IDs in `keys`.
pub fn names_of<'a>(
    keys: impl Iterator<Item = &'a String>,
    containers: &[ContainerInfo],
) -> Vec<String> {
    let keys: Vec<&String> = keys.collect();
    containers
        .iter()
        .filter(|c| keys.contains(&&c.record.id))
        .map(|c| c.record.name.clone())
        .collect()
}
