//! The Compose file elements berth knows, by path (`services.*.deploy.placement`;
//! `*` is a name the user chooses), with how berth treats each. An entry
//! covers everything under it unless a longer path says otherwise.

use std::collections::{HashMap, HashSet};
use std::sync::LazyLock;

use super::Support::{self, Refused, Supported, Warned};

/// One element of a Compose file.
#[derive(Debug, Clone, Copy)]
pub struct Attribute {
    /// Dotted path; `*` stands for a user-chosen key (a service name, a label).
    pub path: &'static str,
    pub support: Support,
    /// What the table says besides the status (limits on values, how it maps).
    pub note: &'static str,
}

const fn ok(path: &'static str, note: &'static str) -> Attribute {
    Attribute {
        path,
        support: Supported,
        note,
    }
}

const fn warn(path: &'static str, why: &'static str) -> Attribute {
    Attribute {
        path,
        support: Warned(why),
        note: "",
    }
}

const fn refuse(path: &'static str, message: &'static str) -> Attribute {
    Attribute {
        path,
        support: Refused(message),
        note: "",
    }
}

const SWARM: &str = "it configures a swarm service; without a swarm it has no effect (docker compose ignores it too)";
const WINDOWS: &str = "it applies to Windows containers only";

/// Every element, parents before children.
pub const ATTRIBUTES: &[Attribute] = &[
    // Top level.
    warn("version", "the attribute `version` is obsolete (as in docker compose)"),
    ok("name", "project name"),
    ok("include", "other compose files merged as separate projects' models, each relative to its own directory"),
    ok("services", ""),
    ok("networks", "bridge networks with embedded DNS"),
    ok("volumes", "local volumes"),
    ok("secrets", "files, environment variables or inline content mounted read-only"),
    ok("configs", "files, environment variables or inline content mounted read-only"),
    warn("models", "berth does not run AI models"),
    ok("x-*", "extensions: kept, never interpreted"),
    // include
    ok("include.path", ""),
    ok("include.project_directory", ""),
    ok("include.env_file", ""),
    // networks
    ok("networks.*", ""),
    ok("networks.*.name", ""),
    ok("networks.*.driver", "`bridge` (the default); other drivers are refused"),
    ok("networks.*.driver_opts", "bridge options: `com.docker.network.bridge.name`, `com.docker.network.driver.mtu`, `com.docker.network.bridge.enable_ip_masquerade`; others are ignored"),
    ok("networks.*.ipam", "the default IPAM driver: `config` subnets, `ip_range`, `gateway`"),
    ok("networks.*.ipam.driver", "`default` only"),
    ok("networks.*.ipam.config", ""),
    ok("networks.*.ipam.config.subnet", "IPv4 subnets"),
    ok("networks.*.ipam.config.gateway", ""),
    ok("networks.*.ipam.config.ip_range", ""),
    warn("networks.*.ipam.config.aux_addresses", "auxiliary addresses are not reserved"),
    warn("networks.*.ipam.options", "IPAM driver options are not used by the default driver"),
    ok("networks.*.external", "the network must exist (`berth network create`)"),
    ok("networks.*.internal", "no route out, no NAT"),
    warn("networks.*.attachable", SWARM),
    ok("networks.*.labels", ""),
    ok("networks.*.enable_ipv4", "IPv4 is always on"),
    ok("networks.*.enable_ipv6", "`false` only: IPv6 networks are refused"),
    // volumes
    ok("volumes.*", ""),
    ok("volumes.*.name", ""),
    ok("volumes.*.driver", "`local` only; other drivers are refused"),
    ok("volumes.*.driver_opts", "local driver options"),
    ok("volumes.*.external", "the volume must exist (`berth volume create`)"),
    ok("volumes.*.labels", ""),
    // secrets and configs
    ok("secrets.*", ""),
    ok("secrets.*.name", "no effect without a swarm (the key names the file)"),
    ok("secrets.*.file", "copied when the container is created (a changed file recreates it at the next `up`); a directory is bound read-only"),
    ok("secrets.*.environment", "the variable's value in the project's environment (shell, `.env`, `--env-file`); unset is an error"),
    ok("secrets.*.content", ""),
    refuse("secrets.*.external", "external secrets are not supported without a swarm"),
    ok("secrets.*.labels", ""),
    refuse("secrets.*.driver", "secret drivers are not supported without a swarm"),
    ok("secrets.*.driver_opts", "only with a driver, which is refused"),
    refuse("secrets.*.template_driver", "template drivers are not supported without a swarm"),
    ok("configs.*", ""),
    ok("configs.*.name", "no effect without a swarm (the key names the file)"),
    ok("configs.*.file", "copied when the container is created (a changed file recreates it at the next `up`); a directory is bound read-only"),
    ok("configs.*.environment", "the variable's value in the project's environment (shell, `.env`, `--env-file`); unset is an error"),
    ok("configs.*.content", ""),
    refuse("configs.*.external", "external configs are not supported without a swarm"),
    ok("configs.*.labels", ""),
    refuse("configs.*.driver", "config drivers are not supported without a swarm"),
    ok("configs.*.driver_opts", "only with a driver, which is refused"),
    refuse("configs.*.template_driver", "template drivers are not supported without a swarm"),
    // services
    ok("services.*", ""),
    ok("services.*.annotations", "on the container; shown by `berth inspect`"),
    ok("services.*.attach", "whether `up` streams the service's logs"),
    warn("services.*.build", "berth does not build images: the service's `image` is used (loaded or pulled), and a service without one is refused"),
    warn("services.*.develop", "`berth watch` is not available yet: watch rules are ignored"),
    warn("services.*.blkio_config", "block I/O weights and throttles are not applied"),
    ok("services.*.cap_add", ""),
    ok("services.*.cap_drop", ""),
    ok("services.*.cgroup", "`private` (default): a cgroup namespace rooted at the container's cgroup; `host`: the host's; either way its own cgroups are mounted at `/sys/fs/cgroup` (read-only unless privileged)"),
    warn("services.*.cgroup_parent", "containers' cgroups are always under berth's own `berth` parent"),
    warn("services.*.cpu_count", WINDOWS),
    warn("services.*.cpu_percent", WINDOWS),
    warn("services.*.cpu_period", "CFS period and quota are not applied; use `cpus`"),
    warn("services.*.cpu_quota", "CFS period and quota are not applied; use `cpus`"),
    warn("services.*.cpu_rt_period", "real-time scheduling budgets are not applied"),
    warn("services.*.cpu_rt_runtime", "real-time scheduling budgets are not applied"),
    ok("services.*.cpus", "CFS quota (v1) or `cpu.max` (v2)"),
    ok("services.*.cpuset", ""),
    ok("services.*.cpu_shares", "`cpu.shares` (v1) or `cpu.weight` (v2)"),
    ok("services.*.command", ""),
    ok("services.*.configs", "default target `/<name>`; relative targets under `/`; numeric `uid`, `gid` (default 0), `mode` (default 0444); read-only"),
    ok("services.*.container_name", ""),
    warn("services.*.credential_spec", WINDOWS),
    ok("services.*.depends_on", "`service_started`, `service_healthy`, `service_completed_successfully`, `restart`, `required`"),
    ok("services.*.deploy", ""),
    ok("services.*.deploy.mode", "`replicated`; `global` runs one container (this host is the whole cluster)"),
    ok("services.*.deploy.replicas", ""),
    warn("services.*.deploy.labels", SWARM),
    warn("services.*.deploy.update_config", SWARM),
    warn("services.*.deploy.rollback_config", SWARM),
    ok("services.*.deploy.resources", ""),
    ok("services.*.deploy.resources.limits", ""),
    ok("services.*.deploy.resources.limits.cpus", ""),
    ok("services.*.deploy.resources.limits.memory", ""),
    ok("services.*.deploy.resources.limits.pids", ""),
    refuse("services.*.deploy.resources.limits.devices", "device requests (GPUs) are not supported"),
    warn("services.*.deploy.resources.limits.generic_resources", SWARM),
    ok("services.*.deploy.resources.reservations", ""),
    warn("services.*.deploy.resources.reservations.cpus", "CPU reservations are not applied (a swarm scheduling hint)"),
    ok("services.*.deploy.resources.reservations.memory", "memory soft limit"),
    warn("services.*.deploy.resources.reservations.pids", "a pids reservation has no effect"),
    refuse("services.*.deploy.resources.reservations.devices", "device requests (GPUs) are not supported"),
    warn("services.*.deploy.resources.reservations.generic_resources", SWARM),
    ok("services.*.deploy.restart_policy", "used when `restart` is not set, as docker compose does"),
    ok("services.*.deploy.restart_policy.condition", "`none`, `on-failure`, `any`"),
    ok("services.*.deploy.restart_policy.max_attempts", ""),
    warn("services.*.deploy.restart_policy.delay", "restarts back off from 100 ms to a minute, as Docker's restart policies do"),
    warn("services.*.deploy.restart_policy.window", SWARM),
    warn("services.*.deploy.placement", SWARM),
    warn("services.*.deploy.endpoint_mode", SWARM),
    ok("services.*.device_cgroup_rules", "`TYPE MAJOR:MINOR ACCESS` rules added to Docker's default device policy (cgroup v1 `devices` and, where there is cgroup v2, an eBPF device filter on the container's v2 cgroup)"),
    ok("services.*.devices", "the host's node (type, numbers, mode, owner; a directory maps every node under it) made in the container's `/dev` with its cgroup permissions; a missing device is an error; CDI names are refused"),
    ok("services.*.dns", ""),
    ok("services.*.dns_opt", ""),
    ok("services.*.dns_search", ""),
    ok("services.*.domainname", ""),
    ok("services.*.entrypoint", ""),
    ok("services.*.environment", ""),
    ok("services.*.env_file", "read by the loader into `environment`"),
    ok("services.*.expose", "informational, as in Docker: every port is reachable on the service's networks"),
    ok("services.*.extends", "resolved by the loader"),
    ok("services.*.external_links", "`CONTAINER[:ALIAS]` resolves from the linking container when that container exists and shares a network; a missing one is a warning until it appears"),
    ok("services.*.extra_hosts", "`host-gateway` is the address of the container's first network's gateway"),
    ok("services.*.group_add", ""),
    refuse("services.*.gpus", "GPUs are not supported"),
    ok("services.*.healthcheck", "run by the project's supervisor; `--wait` and `service_healthy` use it. Docker's first probe runs `interval` after the start (`start_interval` with a start period); berth also probes before that, at once and then after 0.5 s, 1 s, 2 s…: an early success makes the service healthy sooner, an early failure is logged but never counts toward `retries` (so it cannot make the service unhealthy or fail `up --wait`)"),
    ok("services.*.hostname", ""),
    ok("services.*.image", ""),
    ok("services.*.init", "berth's own init (PID 1 reaping zombies, forwarding signals)"),
    ok("services.*.ipc", "`private`, `shareable`, `none`, `host`, `service:NAME`, `container:NAME` (`/dev/shm` shared with the namespace)"),
    warn("services.*.isolation", WINDOWS),
    ok("services.*.labels", ""),
    ok("services.*.label_file", "read by the loader into `labels`"),
    ok("services.*.links", "the target starts first; the alias (`SERVICE:ALIAS`) resolves through the embedded DNS from the linking container only; no link environment variables"),
    ok("services.*.logging", "drivers `json-file` (default; `max-size`, `max-file`), `local`, `none`; other drivers are refused"),
    ok("services.*.mac_address", ""),
    ok("services.*.mem_limit", ""),
    ok("services.*.mem_reservation", ""),
    ok("services.*.memswap_limit", ""),
    warn("services.*.mem_swappiness", "memory swappiness is not applied"),
    warn("services.*.models", "berth does not run AI models"),
    ok("services.*.network_mode", "`bridge` (the default network), `host`, `none`, `service:NAME`, `container:NAME`"),
    ok("services.*.networks", ""),
    ok("services.*.networks.*", ""),
    ok("services.*.networks.*.aliases", ""),
    ok("services.*.networks.*.ipv4_address", ""),
    refuse("services.*.networks.*.ipv6_address", "IPv6 is not supported"),
    warn("services.*.networks.*.link_local_ips", "link-local addresses are not assigned"),
    ok("services.*.networks.*.mac_address", ""),
    ok("services.*.networks.*.priority", "interfaces are attached in priority order (`eth0` first)"),
    warn("services.*.networks.*.gw_priority", "the default route is the first network's (highest `priority`)"),
    warn("services.*.networks.*.driver_opts", "endpoint driver options are not used by the bridge driver"),
    warn("services.*.networks.*.interface_name", "interfaces are named `eth0`, `eth1`, … in priority order"),
    ok("services.*.oom_kill_disable", "cgroup v1 `memory.oom_control`; a warning on cgroup v2, which cannot disable the OOM killer"),
    ok("services.*.oom_score_adj", ""),
    ok("services.*.pid", "`host`, `service:NAME`, `container:NAME` (the program is not PID 1 in a joined namespace)"),
    ok("services.*.pids_limit", ""),
    ok("services.*.platform", "the host's platform only; another platform is refused (berth does not emulate)"),
    ok("services.*.ports", ""),
    ok("services.*.ports.target", ""),
    ok("services.*.ports.published", "a port or a range"),
    ok("services.*.ports.host_ip", "IPv4 addresses"),
    ok("services.*.ports.protocol", "`tcp`, `udp`"),
    ok("services.*.ports.mode", "`host` and `ingress` both publish on this host"),
    ok("services.*.ports.name", "informational"),
    ok("services.*.ports.app_protocol", "informational"),
    ok("services.*.post_start", "run inside the container after each start by `up`, `start`, `restart`, `run` (not restart-policy restarts, as compose); output in its logs; a failure fails the command, naming the hook and exit code (the container keeps running)"),
    refuse("services.*.pre_start", "pre_start init containers are not supported yet"),
    ok("services.*.pre_stop", "run inside the container before the stop signal on `stop`, `restart`, `down`, `rm -s`, a recreate and Ctrl-C, within the stop grace period; a failure or timeout is a warning and the stop goes on"),
    ok("services.*.privileged", ""),
    ok("services.*.profiles", ""),
    refuse("services.*.provider", "provider services are not supported"),
    ok("services.*.pull_policy", "`always`, `missing`, `never`, `daily`, `weekly`, `every_<duration>`; `build` is refused (no builder)"),
    ok("services.*.read_only", ""),
    ok("services.*.restart", "`no`, `always`, `on-failure[:N]`, `unless-stopped`, applied by the project's supervisor"),
    warn("services.*.runtime", "berth runs containers with its own runtime"),
    ok("services.*.scale", ""),
    ok("services.*.secrets", "default target `/run/secrets/<name>`; relative targets under `/run/secrets/`; numeric `uid`, `gid` (default 0), `mode` (default 0444); read-only"),
    ok("services.*.security_opt", "`no-new-privileges[:true|false]`, `seccomp=unconfined`, `seccomp=builtin`/`default`, `seccomp=PROFILE.json` (Docker's JSON profile format, relative to the project directory; every container gets Docker's default seccomp profile otherwise, `privileged` none), `systempaths=unconfined`; `label=…`/`apparmor=…` warn when the host has no such LSM and are refused when it has one; other options are refused"),
    ok("services.*.shm_size", ""),
    ok("services.*.stdin_open", ""),
    ok("services.*.stop_grace_period", ""),
    ok("services.*.stop_signal", ""),
    refuse("services.*.storage_opt", "storage options are not supported: berth's overlay storage has no per-container quota"),
    ok("services.*.sysctls", "namespaced sysctls"),
    ok("services.*.tmpfs", ""),
    ok("services.*.tty", ""),
    ok("services.*.ulimits", ""),
    refuse("services.*.use_api_socket", "berth has no Docker API socket to give a container"),
    ok("services.*.user", ""),
    ok("services.*.userns_mode", "`host` only (berth does not remap users); other modes are refused"),
    ok("services.*.uts", "`host` (not together with `hostname`)"),
    ok("services.*.volume_driver", "`local` only; other drivers are refused"),
    ok("services.*.volumes", "a new volume (named or anonymous) takes the owner and mode of the image directory it covers, even an empty one, then its content, as Docker does; a volume already filled keeps its own"),
    ok("services.*.volumes.type", "`bind`, `volume`, `tmpfs`; `npipe`, `cluster` and `image` are refused"),
    ok("services.*.volumes.source", ""),
    ok("services.*.volumes.target", ""),
    ok("services.*.volumes.read_only", ""),
    ok("services.*.volumes.consistency", "no effect on Linux, as in Docker"),
    ok("services.*.volumes.bind", ""),
    ok("services.*.volumes.bind.propagation", ""),
    ok("services.*.volumes.bind.create_host_path", ""),
    ok("services.*.volumes.bind.recursive", "`enabled`, `disabled`"),
    warn("services.*.volumes.bind.selinux", "SELinux relabelling is not done"),
    ok("services.*.volumes.volume", ""),
    ok("services.*.volumes.volume.nocopy", "the volume keeps the owner, mode and (empty) content it was created with"),
    refuse("services.*.volumes.volume.subpath", "mounting a volume's subpath is not supported yet"),
    ok("services.*.volumes.tmpfs", ""),
    ok("services.*.volumes.tmpfs.size", ""),
    ok("services.*.volumes.tmpfs.mode", ""),
    refuse("services.*.volumes.image", "image mounts are not supported yet"),
    ok("services.*.volumes_from", ""),
    ok("services.*.working_dir", ""),
];

/// Entries by path, and the paths that have entries under them.
struct Index {
    by_path: HashMap<&'static str, &'static Attribute>,
    parents: HashSet<&'static str>,
}

static INDEX: LazyLock<Index> = LazyLock::new(|| Index {
    by_path: ATTRIBUTES.iter().map(|a| (a.path, a)).collect(),
    parents: ATTRIBUTES
        .iter()
        .filter_map(|a| a.path.rsplit_once('.').map(|(parent, _)| parent))
        .collect(),
});

/// The entry for exactly this path.
pub fn find(path: &str) -> Option<&'static Attribute> {
    INDEX.by_path.get(path).copied()
}

/// Whether any entry lies under `path`.
pub fn has_children(path: &str) -> bool {
    INDEX.parents.contains(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_unique_and_parents_come_first() {
        let mut seen = std::collections::BTreeSet::new();
        for attribute in ATTRIBUTES {
            assert!(seen.insert(attribute.path), "{} twice", attribute.path);
            if let Some((parent, _)) = attribute.path.rsplit_once('.') {
                assert!(
                    seen.contains(parent),
                    "{} before its parent",
                    attribute.path
                );
            }
        }
    }
}
