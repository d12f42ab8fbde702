//! A service in canonical (long) form. Field order is the order
//! `docker compose config` prints; maps are sorted by key.

use super::build::BuildConfig;
use super::deploy::DeployConfig;
use super::extensions::Extensions;
use super::mounts::{ServiceConfigRef, ServiceVolume};
use super::networking::{ServiceNetwork, ServicePort};
use super::scalars::{is_false, ByteSize, Duration, Text};
pub use super::scalars::{StringMap, Ulimit};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Environment and similar maps: a key may be present without a value (`null`).
pub type EnvMap = BTreeMap<String, Option<String>>;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct Service {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub profiles: Vec<String>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: StringMap,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attach: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub build: Option<BuildConfig>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub develop: Option<DevelopConfig>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub blkio_config: Option<BlkioConfig>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub cap_add: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub cap_drop: Vec<String>,
    #[serde(skip_serializing_if = "super::scalars::is_empty_text")]
    pub cgroup_parent: Option<String>,
    #[serde(skip_serializing_if = "super::scalars::is_empty_text")]
    pub cgroup: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cpu_count: Option<i64>,
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "super::scalars::go_float"
    )]
    pub cpu_percent: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cpu_period: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cpu_quota: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cpu_rt_period: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cpu_rt_runtime: Option<i64>,
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "super::scalars::go_float"
    )]
    pub cpus: Option<f64>,
    #[serde(skip_serializing_if = "super::scalars::is_empty_text")]
    pub cpuset: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cpu_shares: Option<i64>,
    /// `None`: the image's CMD; `Some([])`: cleared.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub command: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub configs: Vec<ServiceConfigRef>,
    #[serde(skip_serializing_if = "super::scalars::is_empty_text")]
    pub container_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub credential_spec: Option<serde_json::Value>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub depends_on: BTreeMap<String, ServiceDependency>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deploy: Option<DeployConfig>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub device_cgroup_rules: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub devices: Vec<DeviceMapping>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub dns: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub dns_opt: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub dns_search: Vec<String>,
    #[serde(skip_serializing_if = "super::scalars::is_empty_text")]
    pub domainname: Option<String>,
    /// `None`: the image's ENTRYPOINT; `Some([])`: cleared.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub entrypoint: Option<Vec<String>>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub environment: EnvMap,
    /// Consumed into `environment` by the loader; kept only with `--no-interpolate`-like raw views.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub env_file: Vec<EnvFile>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub expose: Vec<Text>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub extends: Option<ExtendsConfig>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub external_links: Vec<String>,
    /// `host=ip` entries, sorted.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub extra_hosts: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub group_add: Vec<Text>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub gpus: Vec<serde_json::Value>,
    #[serde(skip_serializing_if = "super::scalars::is_empty_text")]
    pub hostname: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub healthcheck: Option<Healthcheck>,
    #[serde(skip_serializing_if = "super::scalars::is_empty_text")]
    pub image: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub init: Option<bool>,
    #[serde(skip_serializing_if = "super::scalars::is_empty_text")]
    pub ipc: Option<String>,
    #[serde(skip_serializing_if = "super::scalars::is_empty_text")]
    pub isolation: Option<String>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: StringMap,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub label_file: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub logging: Option<Logging>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mem_limit: Option<ByteSize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mem_reservation: Option<ByteSize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub memswap_limit: Option<ByteSize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mem_swappiness: Option<ByteSize>,
    #[serde(skip_serializing_if = "super::scalars::is_empty_text")]
    pub mac_address: Option<String>,
    /// AI models the service uses (kept as written; not run by berth).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub models: Option<serde_json::Value>,
    #[serde(skip_serializing_if = "super::scalars::is_empty_text")]
    pub network_mode: Option<String>,
    /// Network key -> attachment options (`null` when none were given).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub networks: BTreeMap<String, Option<ServiceNetwork>>,
    #[serde(skip_serializing_if = "is_false")]
    pub oom_kill_disable: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub oom_score_adj: Option<i64>,
    #[serde(skip_serializing_if = "super::scalars::is_empty_text")]
    pub pid: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pids_limit: Option<i64>,
    #[serde(skip_serializing_if = "super::scalars::is_empty_text")]
    pub platform: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ports: Vec<ServicePort>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub post_start: Vec<ServiceHook>,
    /// Init containers run before the service starts (kept as written).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub pre_start: Vec<serde_json::Value>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub pre_stop: Vec<ServiceHook>,
    #[serde(skip_serializing_if = "is_false")]
    pub privileged: bool,
    /// A service implemented by a provider plugin (kept as written).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provider: Option<serde_json::Value>,
    #[serde(skip_serializing_if = "super::scalars::is_empty_text")]
    pub pull_policy: Option<String>,
    #[serde(skip_serializing_if = "is_false")]
    pub read_only: bool,
    #[serde(skip_serializing_if = "super::scalars::is_empty_text")]
    pub restart: Option<String>,
    #[serde(skip_serializing_if = "super::scalars::is_empty_text")]
    pub runtime: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scale: Option<u32>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub secrets: Vec<ServiceConfigRef>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub security_opt: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shm_size: Option<ByteSize>,
    #[serde(skip_serializing_if = "is_false")]
    pub stdin_open: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stop_grace_period: Option<Duration>,
    #[serde(skip_serializing_if = "super::scalars::is_empty_text")]
    pub stop_signal: Option<String>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub storage_opt: StringMap,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub sysctls: StringMap,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tmpfs: Vec<String>,
    #[serde(skip_serializing_if = "is_false")]
    pub tty: bool,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub ulimits: BTreeMap<String, Ulimit>,
    #[serde(skip_serializing_if = "is_false")]
    pub use_api_socket: bool,
    #[serde(skip_serializing_if = "super::scalars::is_empty_text")]
    pub user: Option<String>,
    #[serde(skip_serializing_if = "super::scalars::is_empty_text")]
    pub userns_mode: Option<String>,
    #[serde(skip_serializing_if = "super::scalars::is_empty_text")]
    pub uts: Option<String>,
    #[serde(skip_serializing_if = "super::scalars::is_empty_text")]
    pub volume_driver: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub volumes: Vec<ServiceVolume>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub volumes_from: Vec<String>,
    #[serde(skip_serializing_if = "super::scalars::is_empty_text")]
    pub working_dir: Option<String>,
    #[serde(rename = "$extensions", skip_serializing)]
    #[schemars(skip)]
    pub extensions: Extensions,
}

impl Service {
    /// How many containers this service wants (`deploy.replicas`, else `scale`, else 1).
    pub fn replicas(&self) -> u32 {
        self.deploy
            .as_ref()
            .and_then(|d| d.replicas)
            .or(self.scale)
            .unwrap_or(1)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ServiceDependency {
    pub condition: DependencyCondition,
    #[serde(default, skip_serializing_if = "is_false")]
    pub restart: bool,
    #[serde(default = "default_true")]
    pub required: bool,
}

fn default_true() -> bool {
    true
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum DependencyCondition {
    ServiceStarted,
    ServiceHealthy,
    ServiceCompletedSuccessfully,
}

impl DependencyCondition {
    pub fn as_str(&self) -> &'static str {
        match self {
            DependencyCondition::ServiceStarted => "service_started",
            DependencyCondition::ServiceHealthy => "service_healthy",
            DependencyCondition::ServiceCompletedSuccessfully => "service_completed_successfully",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EnvFile {
    pub path: String,
    #[serde(default = "default_true")]
    pub required: bool,
    #[serde(default, skip_serializing_if = "super::scalars::is_empty_text")]
    pub format: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ExtendsConfig {
    pub service: String,
    #[serde(default, skip_serializing_if = "super::scalars::is_empty_text")]
    pub file: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct Healthcheck {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub test: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timeout: Option<Duration>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub interval: Option<Duration>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retries: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start_period: Option<Duration>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start_interval: Option<Duration>,
    #[serde(skip_serializing_if = "is_false")]
    pub disable: bool,
    #[serde(rename = "$extensions", skip_serializing)]
    #[schemars(skip)]
    pub extensions: Extensions,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct DeviceMapping {
    pub source: String,
    pub target: String,
    pub permissions: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct Logging {
    #[serde(skip_serializing_if = "super::scalars::is_empty_text")]
    pub driver: Option<String>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub options: StringMap,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct ServiceHook {
    pub command: Vec<String>,
    #[serde(skip_serializing_if = "super::scalars::is_empty_text")]
    pub user: Option<String>,
    #[serde(skip_serializing_if = "is_false")]
    pub privileged: bool,
    #[serde(skip_serializing_if = "super::scalars::is_empty_text")]
    pub working_dir: Option<String>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub environment: EnvMap,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct BlkioConfig {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub weight: Option<u16>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub weight_device: Vec<WeightDevice>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub device_read_bps: Vec<ThrottleDevice>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub device_read_iops: Vec<ThrottleDevice>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub device_write_bps: Vec<ThrottleDevice>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub device_write_iops: Vec<ThrottleDevice>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct WeightDevice {
    pub path: String,
    pub weight: u16,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ThrottleDevice {
    pub path: String,
    pub rate: ByteSize,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct DevelopConfig {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub watch: Vec<WatchRule>,
    #[serde(rename = "$extensions", skip_serializing)]
    #[schemars(skip)]
    pub extensions: Extensions,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct WatchRule {
    pub path: String,
    pub action: WatchAction,
    #[serde(default, skip_serializing_if = "super::scalars::is_empty_text")]
    pub target: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ignore: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub include: Vec<String>,
    #[serde(default, skip_serializing_if = "is_false")]
    pub initial_sync: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exec: Option<ServiceHook>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum WatchAction {
    #[serde(rename = "sync")]
    Sync,
    #[serde(rename = "rebuild")]
    Rebuild,
    #[serde(rename = "restart")]
    Restart,
    #[serde(rename = "sync+restart")]
    SyncRestart,
    #[serde(rename = "sync+exec")]
    SyncExec,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The configuration kept with a container is this model as JSON; a
    /// `{soft, hard}` ulimit must read back from it (its limits are
    /// numbers there, strings in YAML).
    #[test]
    fn ulimits_read_back_from_their_json() {
        let limits: BTreeMap<String, Ulimit> = BTreeMap::from([
            (
                "nofile".into(),
                Ulimit::Pair {
                    soft: 8192,
                    hard: 16384,
                },
            ),
            ("nproc".into(), Ulimit::Single(100)),
        ]);
        let json = serde_json::to_string(&limits).unwrap();
        let back: BTreeMap<String, Ulimit> = serde_json::from_str(&json).unwrap();
        assert_eq!(back, limits);
        let from_strings: Ulimit = serde_json::from_str(r#"{"soft": "1", "hard": " 2"}"#).unwrap();
        assert_eq!(from_strings, Ulimit::Pair { soft: 1, hard: 2 });
        let nested =
            serde_json::from_str::<Ulimit>(r#"{"soft": {"soft": 1, "hard": 2}, "hard": 2}"#);
        assert!(nested.is_err());
    }
}
