//! Observed state, re-read from the runtime every time, as the planner
//! needs it: the project's containers found by their labels, and which
//! networks and volumes exist.

use std::collections::{BTreeMap, BTreeSet};

use berth_runtime::container::{ContainerInfo, Status};

use crate::contract::{annotations, containers, labels};

/// A container of the project, found by its labels.
#[derive(Debug, Clone, PartialEq)]
pub struct ObservedContainer {
    pub id: String,
    pub name: String,
    pub service: String,
    pub number: u32,
    pub oneoff: bool,
    pub config_hash: String,
    pub image_id: String,
    pub running: bool,
    /// The normalized service configuration it was made from (for reasons).
    pub config: Option<serde_json::Value>,
    /// Where the project that made it lives (for orphan reports).
    pub working_dir: Option<String>,
    pub config_files: Option<String>,
    /// Digests of the secrets and configs it was made with.
    pub files: BTreeMap<String, String>,
}

/// Everything of the project that exists now.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ObservedState {
    pub containers: Vec<ObservedContainer>,
    /// Names of networks that exist.
    pub networks: BTreeSet<String>,
    /// Names of volumes that exist.
    pub volumes: BTreeSet<String>,
}

/// The containers of `project` among `all`, as the planner sees them.
pub fn project_containers(all: &[ContainerInfo], project: &str) -> Vec<ObservedContainer> {
    all.iter()
        .filter(|info| containers::in_project(info, project))
        .filter_map(|info| {
            let labels = &info.record.spec.labels;
            Some(ObservedContainer {
                id: info.record.id.clone(),
                name: info.record.name.clone(),
                service: labels.get(labels::SERVICE)?.clone(),
                number: labels.get(labels::NUMBER)?.parse().ok()?,
                oneoff: labels
                    .get(labels::ONEOFF)
                    .is_some_and(|v| v.eq_ignore_ascii_case("true")),
                config_hash: labels.get(labels::CONFIG_HASH).cloned().unwrap_or_default(),
                image_id: info.record.image_id.clone(),
                running: info.state.status == Status::Running,
                config: annotations::service_config_json(&info.record.spec),
                working_dir: labels.get(labels::WORKING_DIR).cloned(),
                config_files: labels.get(labels::CONFIG_FILES).cloned(),
                files: annotations::file_digests(&info.record.spec),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compose::{graph_input, load_from_str};
    use crate::graph::ProjectGraph;
    use crate::reconcile::{plan as make_plan, DesiredState, ObservedState, PlanOptions};
    use berth_runtime::container::Runtime;
    use berth_runtime::image::ResolvedImage;

    /// translate -> runtime create -> observe -> plan: a project whose
    /// containers were made from its own specs needs only starting.
    #[test]
    fn containers_made_from_the_project_are_recognised() {
        let dir = tempfile::tempdir().unwrap();
        let yaml = "services:\n  web:\n    image: busybox\n    environment: {A: '1'}\n    scale: 2\n  db:\n    image: busybox\n";
        let project = load_from_str(yaml, dir.path()).unwrap().project;
        let image = ResolvedImage {
            id: "sha256:img".into(),
            manifest_digest: "sha256:m".into(),
            config: serde_json::from_str(r#"{"architecture":"amd64","os":"linux","config":{"Cmd":["sh"]},"rootfs":{"type":"layers","diff_ids":[]}}"#).unwrap(),
            layers: Vec::new(),
        };
        let runtime = Runtime::with_helper(dir.path().join("root"), "/nonexistent");
        let images: BTreeMap<String, String> = project
            .services
            .keys()
            .map(|s| (s.clone(), "sha256:img".to_string()))
            .collect();
        let desired = DesiredState::from_project(&project, &BTreeMap::new(), &images);
        for (name, service) in &project.services {
            let desired_service = &desired.services[name];
            for number in 1..=desired_service.replicas {
                let container_name = desired.container_name(desired_service, number);
                let t = crate::reconcile::translate::container_spec(
                    &project,
                    name,
                    service,
                    number,
                    &container_name,
                    &crate::reconcile::translate::HostFacts::default(),
                )
                .unwrap();
                runtime.create(t.spec, &image, Some("busybox")).unwrap();
            }
        }
        let all = runtime.list().unwrap();
        let observed = ObservedState {
            containers: project_containers(&all, &project.name),
            networks: ["fuzz_default".to_string()].into(),
            volumes: Default::default(),
        };
        assert_eq!(observed.containers.len(), 3);
        let graph = ProjectGraph::new(&graph_input(&project.services)).unwrap();
        let plan = make_plan(&desired, &observed, &graph, &PlanOptions::default()).unwrap();
        assert_eq!(
            plan.to_string(),
            "1. start container fuzz-db-1: stopped\n2. start container fuzz-web-1: stopped\n3. start container fuzz-web-2: stopped\n"
        );
        // Change the environment: web is recreated with a reason naming the field.
        let changed = load_from_str(&yaml.replace("A: '1'", "A: '2'"), dir.path())
            .unwrap()
            .project;
        let desired = DesiredState::from_project(&changed, &BTreeMap::new(), &images);
        let plan = make_plan(&desired, &observed, &graph, &PlanOptions::default()).unwrap();
        assert!(
            plan.steps
                .iter()
                .any(|s| s.reason == "recreate fuzz-web-1: environment changed"),
            "{plan}"
        );
    }
}
