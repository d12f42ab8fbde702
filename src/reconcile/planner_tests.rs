//! Planner tests against in-memory observed states. Each test loads a small
//! project, builds what "exists", and checks the plan as text (golden style).

use std::collections::BTreeMap;

use super::*;
use crate::compose::{graph_input, load_from_str};
use crate::reconcile::desired::DesiredState;
use crate::reconcile::observe::{ObservedContainer, ObservedState};

const PROJECT: &str = r#"
services:
  db:
    image: postgres
    volumes: [data:/var/lib/postgresql/data]
  web:
    image: nginx
    environment: {MODE: prod}
    depends_on: [db]
  sidecar:
    image: busybox
    network_mode: "service:web"
volumes:
  data: {}
"#;

fn desired(yaml: &str, scale: &[(&str, u32)]) -> (DesiredState, ProjectGraph) {
    let dir = tempfile::tempdir().unwrap();
    let project = load_from_str(yaml, dir.path()).unwrap().project;
    let scale: BTreeMap<String, u32> = scale.iter().map(|(s, n)| (s.to_string(), *n)).collect();
    let images = project
        .services
        .keys()
        .map(|s| (s.clone(), format!("sha256:{s}-image")))
        .collect();
    let graph = ProjectGraph::new(&graph_input(&project.services)).unwrap();
    (DesiredState::from_project(&project, &scale, &images), graph)
}

/// A running container that matches the desired service exactly.
fn up_to_date(desired: &DesiredState, service: &str, number: u32) -> ObservedContainer {
    let s = &desired.services[service];
    ObservedContainer {
        id: format!("{service}{number}0123456789abcdef"),
        name: desired.container_name(s, number),
        service: service.into(),
        number,
        oneoff: false,
        config_hash: s.config_hash.clone(),
        image_id: s.image_id.clone().unwrap(),
        running: true,
        config: Some(s.config.clone()),
        working_dir: None,
        config_files: None,
        files: s.files.clone().unwrap_or_default(),
    }
}

fn everything_up(desired: &DesiredState) -> ObservedState {
    ObservedState {
        containers: desired
            .services
            .keys()
            .map(|s| up_to_date(desired, s, 1))
            .collect(),
        networks: ["fuzz_default".to_string()].into(),
        volumes: ["fuzz_data".to_string()].into(),
    }
}

fn text(
    desired: &DesiredState,
    observed: &ObservedState,
    graph: &ProjectGraph,
    options: &PlanOptions,
) -> String {
    plan(desired, observed, graph, options).unwrap().to_string()
}

#[test]
fn fresh_project_creates_everything_in_dependency_order() {
    let (desired, graph) = desired(PROJECT, &[]);
    let plan = text(
        &desired,
        &ObservedState::default(),
        &graph,
        &PlanOptions::default(),
    );
    assert_eq!(
        plan,
        "1. create network fuzz_default: missing\n\
         2. create volume fuzz_data: missing\n\
         3. create container fuzz-db-1: missing (after 1, 2)\n\
         4. start container fuzz-db-1: created (after 3)\n\
         5. create container fuzz-web-1: missing (after 1)\n\
         6. start container fuzz-web-1: created (after 4, 5)\n\
         7. create container fuzz-sidecar-1: missing (after 6)\n\
         8. start container fuzz-sidecar-1: created (after 7)\n"
    );
}

#[test]
fn converged_project_has_an_empty_plan() {
    let (desired, graph) = desired(PROJECT, &[]);
    let observed = everything_up(&desired);
    let plan = plan(&desired, &observed, &graph, &PlanOptions::default()).unwrap();
    assert!(plan.is_empty(), "{plan}");
}

#[test]
fn a_changed_environment_recreates_web_and_its_namespace_sharer_only() {
    let (desired_before, _) = desired(PROJECT, &[]);
    let observed = everything_up(&desired_before);
    let (desired, graph) = desired(&PROJECT.replace("MODE: prod", "MODE: dev"), &[]);
    let plan = text(&desired, &observed, &graph, &PlanOptions::default());
    assert_eq!(
        plan,
        "1. create container web101234567_fuzz-web-1: recreate fuzz-web-1: environment changed\n\
         2. stop container fuzz-web-1: replaced by its new container (after 1)\n\
         3. remove container fuzz-web-1: replaced by its new container (after 2)\n\
         4. rename container web101234567_fuzz-web-1 to fuzz-web-1: takes the old container's name (after 3)\n\
         5. start container fuzz-web-1: recreated (after 4)\n\
         6. create container sidecar10123_fuzz-sidecar-1: recreate fuzz-sidecar-1: web was recreated and this container shares its namespaces or volumes (after 5)\n\
         7. stop container fuzz-sidecar-1: replaced by its new container (after 6)\n\
         8. remove container fuzz-sidecar-1: replaced by its new container (after 7)\n\
         9. rename container sidecar10123_fuzz-sidecar-1 to fuzz-sidecar-1: takes the old container's name (after 8)\n\
         10. start container fuzz-sidecar-1: recreated (after 9)\n"
    );
    let no_recreate = PlanOptions {
        no_recreate: true,
        ..PlanOptions::default()
    };
    assert!(plan_is_empty(&desired, &observed, &graph, &no_recreate));
}

fn plan_is_empty(
    desired: &DesiredState,
    observed: &ObservedState,
    graph: &ProjectGraph,
    options: &PlanOptions,
) -> bool {
    plan(desired, observed, graph, options).unwrap().is_empty()
}

#[test]
fn image_change_and_force_recreate() {
    let (desired, graph) = desired(PROJECT, &[]);
    let mut observed = everything_up(&desired);
    observed.containers[0].image_id = "sha256:old".into(); // db
    let plan = plan(&desired, &observed, &graph, &PlanOptions::default()).unwrap();
    assert_eq!(plan.steps[0].reason, "recreate fuzz-db-1: image changed");
    let forced = PlanOptions {
        force_recreate: true,
        services: vec!["web".into()],
        no_deps: true,
        ..PlanOptions::default()
    };
    let plan = plan_text(&desired, &everything_up(&desired), &graph, &forced);
    assert!(plan.starts_with("1. create container web101234567_fuzz-web-1: recreate fuzz-web-1: forced (--force-recreate)\n"), "{plan}");
    assert!(
        !plan.contains("fuzz-db-1"),
        "--no-deps leaves db alone: {plan}"
    );
}

fn plan_text(
    desired: &DesiredState,
    observed: &ObservedState,
    graph: &ProjectGraph,
    options: &PlanOptions,
) -> String {
    text(desired, observed, graph, options)
}

#[test]
fn scale_up_takes_lowest_free_numbers_and_scale_down_removes_highest() {
    let (desired, graph) = desired(PROJECT, &[("web", 3)]);
    let mut observed = everything_up(&desired);
    observed.containers.push(up_to_date(&desired, "web", 3));
    let plan = plan_text(&desired, &observed, &graph, &PlanOptions::default());
    assert_eq!(
        plan,
        "1. create container fuzz-web-2: scale web up to 3\n\
         2. start container fuzz-web-2: created (after 1)\n"
    );
    let (one, graph) = self::desired(PROJECT, &[("web", 1)]);
    observed.containers.push(up_to_date(&desired, "web", 2));
    let plan = plan_text(&one, &observed, &graph, &PlanOptions::default());
    assert_eq!(
        plan,
        "1. stop container fuzz-web-3: scale web down to 1\n\
         2. remove container fuzz-web-3: scale web down to 1 (after 1)\n\
         3. stop container fuzz-web-2: scale web down to 1\n\
         4. remove container fuzz-web-2: scale web down to 1 (after 3)\n"
    );
    let (zero, graph) = self::desired(
        &PROJECT.replace(
            "image: busybox",
            "image: busybox\n    deploy: {replicas: 0}",
        ),
        &[],
    );
    let mut observed = everything_up(&zero);
    observed.containers.retain(|c| c.service != "sidecar");
    assert!(plan_is_empty(
        &zero,
        &observed,
        &graph,
        &PlanOptions::default()
    ));
}

#[test]
fn stopped_containers_are_started_and_orphans_reported_or_removed() {
    let (desired, graph) = desired(PROJECT, &[]);
    let mut observed = everything_up(&desired);
    observed.containers[0].running = false;
    let mut orphan = up_to_date(&desired, "web", 1);
    orphan.service = "old".into();
    orphan.name = "fuzz-old-1".into();
    orphan.config_files = Some("/srv/app/compose.yaml".into());
    observed.containers.push(orphan);
    let result = plan(&desired, &observed, &graph, &PlanOptions::default()).unwrap();
    assert_eq!(result.to_string(), "1. start container fuzz-db-1: stopped\norphan: fuzz-old-1 of service \"old\", which is not in the project (made from /srv/app/compose.yaml)\n");
    let remove = PlanOptions {
        remove_orphans: true,
        ..PlanOptions::default()
    };
    let text = plan_text(&desired, &observed, &graph, &remove);
    assert!(
        text.contains("3. remove container fuzz-old-1: orphan: fuzz-old-1 of service \"old\""),
        "{text}"
    );
}

#[test]
fn restart_true_restarts_dependents_of_a_recreated_dependency() {
    let yaml = PROJECT.replace(
        "depends_on: [db]",
        "depends_on:\n      db: {condition: service_started, restart: true}",
    );
    let (desired, graph) = desired(&yaml, &[]);
    let mut observed = everything_up(&desired);
    observed.containers[0].config_hash = "old".into(); // db
    let text = plan_text(&desired, &observed, &graph, &PlanOptions::default());
    assert!(
        text.contains(
            "stop container fuzz-web-1: dependency db was recreated (depends_on restart: true)"
        ),
        "{text}"
    );
}

#[test]
fn missing_external_resources_and_unknown_services_are_errors() {
    let yaml = PROJECT.replace("  data: {}", "  data: {external: true, name: shared-data}");
    let (desired, graph) = desired(&yaml, &[]);
    let err = plan(
        &desired,
        &ObservedState::default(),
        &graph,
        &PlanOptions::default(),
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "volume \"shared-data\" (\"data\" in the compose file) is external but does not exist: create it first"
    );
    let unknown = PlanOptions {
        services: vec!["nope".into()],
        ..PlanOptions::default()
    };
    assert_eq!(
        plan(&desired, &ObservedState::default(), &graph, &unknown).unwrap_err(),
        PlanError::UnknownService("nope".into())
    );
}

#[test]
fn conditions_become_wait_steps_only_when_the_dependent_has_work() {
    let yaml = r#"
services:
  db:
    image: postgres
    healthcheck: {test: [CMD, "true"]}
  migrate:
    image: busybox
    depends_on: {db: {condition: service_healthy}}
  web:
    image: nginx
    depends_on:
      migrate: {condition: service_completed_successfully}
      db: {condition: service_healthy, required: false}
"#;
    let (desired, graph) = desired(yaml, &[]);
    let plan = plan_text(
        &desired,
        &ObservedState::default(),
        &graph,
        &PlanOptions::default(),
    );
    assert_eq!(
        plan,
        "1. create network fuzz_default: missing\n\
         2. create container fuzz-db-1: missing (after 1)\n\
         3. start container fuzz-db-1: created (after 2)\n\
         4. wait for container fuzz-db-1 to be healthy: migrate depends on db (service_healthy) (after 3)\n\
         5. create container fuzz-migrate-1: missing (after 1)\n\
         6. start container fuzz-migrate-1: created (after 3, 4, 5)\n\
         7. wait for container fuzz-db-1 to be healthy: web depends on db (service_healthy) (after 3)\n\
         8. wait for container fuzz-migrate-1 to complete successfully: web depends on migrate (service_completed_successfully) (after 6)\n\
         9. create container fuzz-web-1: missing (after 1)\n\
         10. start container fuzz-web-1: created (after 3, 6, 7, 8, 9)\n"
    );
    let converged = ObservedState {
        containers: desired
            .services
            .keys()
            .map(|s| up_to_date(&desired, s, 1))
            .collect(),
        networks: ["fuzz_default".to_string()].into(),
        volumes: Default::default(),
    };
    assert!(plan_is_empty(
        &desired,
        &converged,
        &graph,
        &PlanOptions::default()
    ));
}

#[test]
fn a_changed_secret_content_recreates_the_container() {
    let (mut desired, graph) = desired(PROJECT, &[]);
    let digests = |value: &str| -> BTreeMap<String, String> {
        [("secret pw".to_string(), value.to_string())].into()
    };
    desired.services.get_mut("db").unwrap().files = Some(digests("old"));
    let observed = everything_up(&desired);
    assert!(plan_is_empty(
        &desired,
        &observed,
        &graph,
        &PlanOptions::default()
    ));
    desired.services.get_mut("db").unwrap().files = Some(digests("new"));
    let plan = text(&desired, &observed, &graph, &PlanOptions::default());
    assert_eq!(
        plan,
        "1. create container db1012345678_fuzz-db-1: recreate fuzz-db-1: content of secret pw changed\n\
         2. stop container fuzz-db-1: replaced by its new container (after 1)\n\
         3. remove container fuzz-db-1: replaced by its new container (after 2)\n\
         4. rename container db1012345678_fuzz-db-1 to fuzz-db-1: takes the old container's name (after 3)\n\
         5. start container fuzz-db-1: recreated (after 4)\n"
    );
    // Not read (`None`): not compared.
    desired.services.get_mut("db").unwrap().files = None;
    assert!(plan_is_empty(
        &desired,
        &observed,
        &graph,
        &PlanOptions::default()
    ));
}

#[test]
fn a_recreate_cut_short_is_repaired() {
    let (desired, graph) = desired(PROJECT, &[]);
    // Cut once the new container was made: the old one still runs.
    let mut observed = everything_up(&desired);
    let web = observed.containers.iter_mut().find(|c| c.service == "web");
    web.unwrap().id = "abcdef0123456789ffff".into();
    let mut leftover = up_to_date(&desired, "web", 1);
    leftover.id = "0123456789abcdef0000".into();
    leftover.name = "abcdef012345_fuzz-web-1".into();
    leftover.running = false;
    observed.containers.push(leftover.clone());
    assert_eq!(
        plan_text(&desired, &observed, &graph, &PlanOptions::default()),
        "1. remove container abcdef012345_fuzz-web-1: left by a recreate of fuzz-web-1 that was cut short\n"
    );
    // Forced again: the leftover goes before the new container takes its name.
    let forced = PlanOptions {
        force_recreate: true,
        services: vec!["web".into()],
        no_deps: true,
        ..PlanOptions::default()
    };
    let text = plan_text(&desired, &observed, &graph, &forced);
    assert!(
        text.starts_with(
            "1. remove container abcdef012345_fuzz-web-1: left by a recreate of fuzz-web-1 that was cut short\n\
             2. create container abcdef012345_fuzz-web-1: recreate fuzz-web-1: forced (--force-recreate) (after 1)\n"
        ),
        "{text}"
    );
    // Cut once the old one was removed: the new one takes its name and
    // starts, and the service sharing its namespaces follows it.
    observed.containers.retain(|c| c.service != "web");
    observed.containers.push(leftover);
    assert_eq!(
        plan_text(&desired, &observed, &graph, &PlanOptions::default()),
        "1. rename container abcdef012345_fuzz-web-1 to fuzz-web-1: a recreate cut short left it under its temporary name\n\
         2. start container fuzz-web-1: stopped (after 1)\n\
         3. create container sidecar10123_fuzz-sidecar-1: recreate fuzz-sidecar-1: web was recreated and this container shares its namespaces or volumes (after 2)\n\
         4. stop container fuzz-sidecar-1: replaced by its new container (after 3)\n\
         5. remove container fuzz-sidecar-1: replaced by its new container (after 4)\n\
         6. rename container sidecar10123_fuzz-sidecar-1 to fuzz-sidecar-1: takes the old container's name (after 5)\n\
         7. start container fuzz-sidecar-1: recreated (after 6)\n"
    );
}
