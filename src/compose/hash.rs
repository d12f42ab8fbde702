//! The config hash the reconciler compares to decide whether a container must
//! be recreated: SHA-256 of the normalized service, leaving out what does not
//! change a container (build, pull_policy, scale/replicas, depends_on,
//! profiles). Versioned so a change of inputs is a deliberate one.

use super::model::Service;
use sha2::{Digest, Sha256};

/// Bumped whenever the hashed inputs change meaning.
const HASH_VERSION: &str = "berth-config-hash-v1";

/// The config hash of a service, as lowercase hex.
pub fn service_config_hash(service: &Service) -> String {
    let mut s = service.clone();
    s.build = None;
    s.pull_policy = None;
    s.scale = None;
    s.depends_on.clear();
    s.profiles.clear();
    if let Some(deploy) = &mut s.deploy {
        deploy.replicas = None;
    }
    let json = serde_json::to_vec(&s).unwrap_or_default();
    let mut hasher = Sha256::new();
    hasher.update(HASH_VERSION.as_bytes());
    hasher.update([0]);
    hasher.update(&json);
    hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compose::model::{DependencyCondition, DeployConfig, ServiceDependency};

    #[test]
    fn ignores_scale_build_and_dependencies() {
        let base = Service {
            image: Some("nginx".into()),
            ..Service::default()
        };
        let mut other = base.clone();
        other.scale = Some(3);
        other.deploy = Some(DeployConfig {
            replicas: Some(3),
            ..DeployConfig::default()
        });
        other.profiles = vec!["x".into()];
        other.pull_policy = Some("always".into());
        other.depends_on.insert(
            "db".into(),
            ServiceDependency {
                condition: DependencyCondition::ServiceStarted,
                restart: false,
                required: true,
            },
        );
        let mut base_with_deploy = base.clone();
        base_with_deploy.deploy = Some(DeployConfig::default());
        assert_eq!(
            service_config_hash(&base_with_deploy),
            service_config_hash(&other)
        );
        let mut changed = base.clone();
        changed.environment.insert("A".into(), Some("1".into()));
        assert_ne!(service_config_hash(&base), service_config_hash(&changed));
        assert_eq!(service_config_hash(&base).len(), 64);
    }
}
