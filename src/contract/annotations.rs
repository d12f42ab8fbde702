//! The annotations berth keeps on a container it makes: each key with the
//! type stored under it (as JSON), and its one writer and reader. The
//! reconciler writes them when it creates the container; the supervisor
//! (ports, DNS, restarts, health checks), the hooks and the commands
//! (`ps`, `port`, `inspect`, `down -v`) read them back from the runtime's
//! record, so what a container was made with outlives the `up` that made it.

use std::collections::BTreeMap;
use std::net::IpAddr;

use berth_runtime::container::ContainerSpec;
use berth_runtime::ports::Protocol;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::compose::model::Service;
use crate::compose::yaml;

/// The normalized service configuration the container was made from
/// (a [`Service`] as JSON): restart policy, health check, hooks, and the
/// reasons the planner gives for a recreate.
pub const CONFIG_ANNOTATION: &str = "berth.config";

/// The digest of each secret and config the container got
/// (`secret db_pass` -> SHA-256), so a changed content recreates it.
pub const FILES_ANNOTATION: &str = "berth.files";

/// Mount target -> the anonymous volume mounted there, reused by the
/// container that replaces this one and removed by `down -v`/`rm -v`.
pub const ANONYMOUS_ANNOTATION: &str = "berth.anonymous-volumes";

/// The ports the supervisor publishes for the container: a list of
/// [`PortRequest`].
pub const PORTS_ANNOTATION: &str = "berth.ports";

/// What the embedded DNS needs about the container: a [`DnsAnnotation`].
pub const DNS_ANNOTATION: &str = "berth.dns";

/// Aliases per network (final names), upstream servers, whether every
/// network is internal, and the legacy links only this container resolves.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct DnsAnnotation {
    pub aliases: BTreeMap<String, Vec<String>>,
    pub upstreams: Vec<String>,
    pub internal: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<Link>,
}

/// What a legacy link points at.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LinkTarget {
    /// Every container of this project's service (`links`).
    Service(String),
    /// The container of this name, in any project (`external_links`).
    Container(String),
}

/// A legacy link: its target's addresses (on the networks the linking
/// container shares with it) answer `alias`, for the linking container only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Link {
    pub target: LinkTarget,
    pub alias: String,
}

/// One `ports:` entry as the supervisor publishes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PortRequest {
    pub host_ip: Option<IpAddr>,
    /// Host ports to try in order (empty: any free port).
    pub host_ports: Vec<u16>,
    pub target: u16,
    pub protocol: Protocol,
}

/// The value under `key`, when present and of type `T`.
fn read<T: DeserializeOwned>(spec: &ContainerSpec, key: &str) -> Option<T> {
    serde_json::from_str(spec.annotations.get(key)?).ok()
}

/// Stores `value` under `key` as JSON.
fn write<T: Serialize + ?Sized>(spec: &mut ContainerSpec, key: &str, value: &T) {
    if let Ok(text) = serde_json::to_string(value) {
        spec.annotations.insert(key.to_string(), text);
    }
}

/// The service configuration the container was made from.
///
/// It is kept as JSON, but read back the way the compose file was: JSON is
/// YAML, and the model's scalars (file modes, `{soft, hard}` ulimits, ...)
/// are written as JSON numbers yet decoded from YAML text, which serde_json
/// would refuse, losing the whole configuration (health check, restart
/// policy) of a service that has one of them.
pub fn service_config(spec: &ContainerSpec) -> Option<Service> {
    let text = spec.annotations.get(CONFIG_ANNOTATION)?;
    let node = yaml::parse_documents(text, yaml::FileId(0), yaml::ParseLimits::default())
        .ok()?
        .into_iter()
        .next()?;
    yaml::from_node(&node, &yaml::NodePath::root()).ok()
}

/// The same configuration as a JSON tree (field by field, for the
/// planner's reasons and for readers that need only a part of it).
pub fn service_config_json(spec: &ContainerSpec) -> Option<serde_json::Value> {
    read(spec, CONFIG_ANNOTATION)
}

/// Whether the service the container was made from has a `healthcheck`
/// entry (which `depends_on: service_healthy` waits on).
pub fn has_healthcheck(spec: &ContainerSpec) -> bool {
    service_config(spec).is_some_and(|service| service.healthcheck.is_some())
}

/// The digests of the secrets and configs the container got (none when
/// it got none).
pub fn file_digests(spec: &ContainerSpec) -> BTreeMap<String, String> {
    read(spec, FILES_ANNOTATION).unwrap_or_default()
}

/// Mount target -> anonymous volume name (none when it has none).
pub fn anonymous_volumes(spec: &ContainerSpec) -> BTreeMap<String, String> {
    read(spec, ANONYMOUS_ANNOTATION).unwrap_or_default()
}

/// Records the anonymous volumes; nothing is stored when there are none.
pub fn set_anonymous_volumes(spec: &mut ContainerSpec, volumes: &BTreeMap<String, String>) {
    if !volumes.is_empty() {
        write(spec, ANONYMOUS_ANNOTATION, volumes);
    }
}

/// The ports to publish; `None` when the container publishes none.
pub fn port_requests(spec: &ContainerSpec) -> Option<Vec<PortRequest>> {
    read(spec, PORTS_ANNOTATION)
}

/// Records the ports to publish; nothing is stored when there are none.
pub fn set_port_requests(spec: &mut ContainerSpec, requests: &[PortRequest]) {
    if !requests.is_empty() {
        write(spec, PORTS_ANNOTATION, requests);
    }
}

/// What the embedded DNS serves for the container (the default when it
/// has no annotation: no aliases, no upstreams, no links).
pub fn dns(spec: &ContainerSpec) -> DnsAnnotation {
    read(spec, DNS_ANNOTATION).unwrap_or_default()
}

/// Records what the embedded DNS serves for the container.
pub fn set_dns(spec: &mut ContainerSpec, dns: &DnsAnnotation) {
    write(spec, DNS_ANNOTATION, dns);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec_with(key: &str, value: &str) -> ContainerSpec {
        let mut spec = ContainerSpec::default();
        spec.annotations.insert(key.to_string(), value.to_string());
        spec
    }

    /// A container spec whose configuration annotation holds `service`
    /// of a project written as `yaml`, as the translation stores it.
    fn made_from(yaml: &str, service: &str) -> ContainerSpec {
        let dir = tempfile::tempdir().unwrap();
        let project = crate::compose::load_from_str(yaml, dir.path())
            .unwrap()
            .project;
        let config = serde_json::to_string(&project.services[service]).unwrap();
        spec_with(CONFIG_ANNOTATION, &config)
    }

    #[test]
    fn health_checks_are_read_from_the_configuration() {
        let yaml = "services:\n  web:\n    image: busybox\n    healthcheck:\n      test: [CMD, 'true']\n  db:\n    image: busybox\n    command: [echo, healthcheck]\n    environment: {CHECK: '\"healthcheck\"'}\n";
        assert!(has_healthcheck(&made_from(yaml, "web")));
        // A value that merely says "healthcheck" is not a health check.
        assert!(!has_healthcheck(&made_from(yaml, "db")));
        assert!(!has_healthcheck(&ContainerSpec::default()));
    }

    /// A real-stack postgres service: `{soft, hard}` ulimits once made the
    /// kept configuration unreadable, so `service_healthy` on it failed
    /// with "has no health check".
    #[test]
    fn health_check_of_a_service_with_soft_and_hard_ulimits() {
        let yaml = "services:\n  db:\n    image: busybox\n    ulimits:\n      nofile: {soft: 8192, hard: 16384}\n    healthcheck:\n      test: [CMD, 'true']\n";
        let spec = made_from(yaml, "db");
        assert!(service_config(&spec).is_some());
        assert!(has_healthcheck(&spec));
    }

    /// File modes are kept as JSON numbers: a secret's `mode: 0440` or a
    /// tmpfs volume's `mode: 01777` must not lose the service's health
    /// check and restart policy.
    #[test]
    fn configuration_with_file_modes_reads_back() {
        let yaml = "services:\n  db:\n    image: busybox\n    restart: always\n    secrets:\n      - source: pw\n        mode: 0440\n    volumes:\n      - type: tmpfs\n        target: /run\n        tmpfs: {mode: 01777}\n    healthcheck:\n      test: [CMD, 'true']\nsecrets:\n  pw: {environment: PW}\n";
        let spec = made_from(yaml, "db");
        let service = service_config(&spec).expect("the kept configuration reads back");
        assert_eq!(service.restart.as_deref(), Some("always"));
        assert_eq!(service.secrets[0].mode.map(|m| m.0), Some(0o440));
        assert!(has_healthcheck(&spec));
    }

    /// Every service of the valid compose fixtures reads back from the JSON
    /// kept with its containers.
    #[test]
    fn fixture_services_read_back_from_their_kept_configuration() {
        let manifest = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut checked = 0;
        for root in ["fixtures/compose", "fixtures/compose-more"] {
            for case in std::fs::read_dir(manifest.join(root)).unwrap().flatten() {
                let dir = case.path();
                let Ok(text) = std::fs::read_to_string(dir.join("compose.yaml")) else {
                    continue;
                };
                let Ok(loaded) = crate::compose::load_from_str(&text, &dir) else {
                    continue;
                };
                for (name, service) in &loaded.project.services {
                    let config = serde_json::to_string(service).unwrap();
                    let spec = spec_with(CONFIG_ANNOTATION, &config);
                    let back = service_config(&spec);
                    assert!(
                        back.is_some(),
                        "{}: service {name}: {config}",
                        dir.display()
                    );
                    assert_eq!(
                        back.unwrap().healthcheck,
                        service.healthcheck,
                        "{}: service {name}",
                        dir.display()
                    );
                    checked += 1;
                }
            }
        }
        assert!(checked > 50, "only {checked} services checked");
    }

    #[test]
    fn written_values_read_back() {
        let mut spec = ContainerSpec::default();
        let requests = vec![PortRequest {
            host_ip: None,
            host_ports: vec![8080, 8081],
            target: 80,
            protocol: Protocol::Tcp,
        }];
        set_port_requests(&mut spec, &requests);
        assert_eq!(port_requests(&spec), Some(requests));
        let dns_in = DnsAnnotation {
            links: vec![Link {
                target: LinkTarget::Service("db".into()),
                alias: "database".into(),
            }],
            ..DnsAnnotation::default()
        };
        set_dns(&mut spec, &dns_in);
        assert_eq!(dns(&spec).links, dns_in.links);
        set_anonymous_volumes(&mut spec, &BTreeMap::new());
        assert!(!spec.annotations.contains_key(ANONYMOUS_ANNOTATION));
        set_port_requests(&mut ContainerSpec::default(), &[]);
    }

    #[test]
    fn the_stored_format_is_stable() {
        // Containers made by an earlier berth are read by a later one.
        let spec = spec_with(
            PORTS_ANNOTATION,
            r#"[{"host_ip":"127.0.0.1","host_ports":[],"target":53,"protocol":"udp"}]"#,
        );
        let requests = port_requests(&spec).unwrap();
        assert_eq!(requests[0].protocol, Protocol::Udp);
        assert_eq!(requests[0].host_ip, Some("127.0.0.1".parse().unwrap()));
        let spec = spec_with(
            DNS_ANNOTATION,
            r#"{"aliases":{"p_default":["db"]},"upstreams":["1.1.1.1:53"],"internal":false,"links":[{"target":{"container":"other"},"alias":"o"}]}"#,
        );
        assert_eq!(
            dns(&spec).links[0].target,
            LinkTarget::Container("other".into())
        );
    }
}
