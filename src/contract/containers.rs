//! The containers of a project, found by their labels: the one query every
//! reader makes (the planner's observed state, `ps` and the commands built
//! on it, `events`, `up --wait`, the supervisor's passes), and the service
//! and replica number a container's labels give.

use berth_runtime::container::ContainerInfo;

use super::labels;

/// The project a container was made for, if berth made it.
pub fn project_of(info: &ContainerInfo) -> Option<&str> {
    info.record
        .spec
        .labels
        .get(labels::PROJECT)
        .map(String::as_str)
}

/// Whether the container belongs to `project`.
pub fn in_project(info: &ContainerInfo, project: &str) -> bool {
    project_of(info) == Some(project)
}

/// The service a container is a replica (or one-off) of; empty if none.
pub fn service_of(info: &ContainerInfo) -> &str {
    info.record
        .spec
        .labels
        .get(labels::SERVICE)
        .map(String::as_str)
        .unwrap_or_default()
}

/// The container's replica number (0 when it has none).
pub fn number_of(info: &ContainerInfo) -> u32 {
    info.record
        .spec
        .labels
        .get(labels::NUMBER)
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

/// The containers of `project` among `all`, sorted by service, then
/// replica number.
pub fn of_project(all: Vec<ContainerInfo>, project: &str) -> Vec<ContainerInfo> {
    let mut found: Vec<ContainerInfo> = all
        .into_iter()
        .filter(|info| in_project(info, project))
        .collect();
    found.sort_by(|a, b| (service_of(a), number_of(a)).cmp(&(service_of(b), number_of(b))));
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use berth_runtime::container::{ContainerSpec, Runtime};
    use berth_runtime::image::ResolvedImage;

    #[test]
    fn a_projects_containers_are_found_by_label_in_service_and_number_order() {
        let dir = tempfile::tempdir().unwrap();
        let runtime = Runtime::with_helper(dir.path().join("root"), "/nonexistent");
        let image = ResolvedImage {
            id: "sha256:img".into(),
            manifest_digest: "sha256:m".into(),
            config: serde_json::from_str(r#"{"architecture":"amd64","os":"linux","config":{"Cmd":["sh"]},"rootfs":{"type":"layers","diff_ids":[]}}"#).unwrap(),
            layers: Vec::new(),
        };
        for (project, service, number) in [
            ("a", "web", "10"),
            ("b", "web", "1"),
            ("a", "db", "1"),
            ("a", "web", "2"),
        ] {
            let mut spec = ContainerSpec {
                name: format!("{project}-{service}-{number}"),
                ..ContainerSpec::default()
            };
            spec.labels.insert(labels::PROJECT.into(), project.into());
            spec.labels.insert(labels::SERVICE.into(), service.into());
            spec.labels.insert(labels::NUMBER.into(), number.into());
            runtime.create(spec, &image, None).unwrap();
        }
        let names: Vec<String> = of_project(runtime.list().unwrap(), "a")
            .into_iter()
            .map(|c| c.record.name)
            .collect();
        assert_eq!(names, ["a-db-1", "a-web-2", "a-web-10"]);
    }
}
