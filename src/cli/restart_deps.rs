//! Which services `restart SERVICE…` touches: compose v2 restarts the
//! named services and, transitively, the services depending on them with
//! `depends_on: {SERVICE: {restart: true}}`; `--no-deps` restarts only the
//! named ones.

use std::collections::BTreeSet;

use crate::compose::model::Project;

/// `services` plus their `restart: true` dependents (all when `services`
/// is empty: nothing to add).
pub(super) fn with_restart_dependents(project: &Project, services: &[String]) -> Vec<String> {
    if services.is_empty() {
        return Vec::new();
    }
    let mut chosen: BTreeSet<String> = services.iter().cloned().collect();
    loop {
        let more: Vec<String> = project
            .services
            .iter()
            .filter(|(name, _)| !chosen.contains(*name))
            .filter(|(_, service)| {
                service
                    .depends_on
                    .iter()
                    .any(|(dep, how)| how.restart && chosen.contains(dep))
            })
            .map(|(name, _)| name.clone())
            .collect();
        if more.is_empty() {
            break;
        }
        chosen.extend(more);
    }
    chosen.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dependents_with_restart_true_follow_transitively() {
        let text = "services:
  db: {image: x}
  api:
    image: x
    depends_on: {db: {condition: service_started, restart: true}}
  web:
    image: x
    depends_on: {api: {condition: service_started, restart: true}}
  worker:
    image: x
    depends_on: [db]
";
        let project = crate::compose::load_from_str(text, std::path::Path::new("/tmp"))
            .unwrap()
            .project;
        assert_eq!(
            with_restart_dependents(&project, &["db".to_string()]),
            vec!["api", "db", "web"]
        );
        assert_eq!(
            with_restart_dependents(&project, &["worker".to_string()]),
            vec!["worker"]
        );
    }
}
