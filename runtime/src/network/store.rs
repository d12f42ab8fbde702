//! Network records under `<root>/networks/<name>.json` (replaced atomically:
//! write + rename) and the operations that change them, each under an
//! exclusive flock of `<root>/networks/.lock`: create (bridge, gateway
//! address, MTU, forwarding, isolation rules), remove, prune, and the
//! endpoint addresses handed to containers (kept in the record).

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::{self, Read};
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};

use super::ipam::{self, Subnet, Taken};
use super::nat;
use super::netlink::Netlink;
use super::{
    io_err, isolation, netlink_err, Allocation, Endpoint, NetworkError, NetworkRecord, NetworkSpec,
    OPT_BRIDGE_NAME, OPT_ENABLE_ICC, OPT_MTU,
};

type Result<T, E = NetworkError> = std::result::Result<T, E>;

/// The networks of one state root.
#[derive(Debug, Clone)]
pub struct NetworkStore {
    dir: PathBuf,
}

fn invalid(network: &str, message: impl Into<String>) -> NetworkError {
    NetworkError::Invalid {
        network: network.to_string(),
        message: message.into(),
    }
}

/// Docker's rule for network names: `[a-zA-Z0-9][a-zA-Z0-9_.-]*`.
fn valid_name(name: &str) -> bool {
    let mut bytes = name.bytes();
    bytes.next().is_some_and(|b| b.is_ascii_alphanumeric())
        && bytes.all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
        && name.len() <= 200
}

fn random_id() -> Result<String> {
    let mut bytes = [0u8; 32];
    File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut bytes))
        .map_err(io_err("read /dev/urandom"))?;
    Ok(hex::encode(bytes))
}

impl NetworkStore {
    /// The store under `root` (the directory is created when needed).
    pub fn open(root: &Path) -> Result<NetworkStore> {
        let dir = root.join("networks");
        crate::state_root::ensure_root(root)
            .and_then(|()| crate::state_root::ensure_dir(&dir, crate::state_root::PRIVATE_DIR_MODE))
            .map_err(io_err(format!("create {}", dir.display())))?;
        Ok(NetworkStore { dir })
    }

    fn lock(&self) -> Result<nix::fcntl::Flock<File>> {
        let path = self.dir.join(".lock");
        let file = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(io_err(format!("open {}", path.display())))?;
        nix::fcntl::Flock::lock(file, nix::fcntl::FlockArg::LockExclusive).map_err(|(_, errno)| {
            NetworkError::Io {
                context: format!("lock {}", path.display()),
                source: errno.into(),
            }
        })
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.join(format!("{name}.json"))
    }

    fn write(&self, record: &NetworkRecord) -> Result<()> {
        let path = self.path(&record.name);
        crate::atomic_file::write_json(&path, record, crate::state_root::PRIVATE_FILE_MODE)
            .map_err(io_err(format!("write {}", path.display())))
    }

    /// Every network, by name.
    pub fn list(&self) -> Result<Vec<NetworkRecord>> {
        let mut records = Vec::new();
        let entries = fs::read_dir(&self.dir).map_err(io_err("list networks"))?;
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if let Some(stem) = name.strip_suffix(".json") {
                if let Ok(record) = self.get(stem) {
                    records.push(record);
                }
            }
        }
        records.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(records)
    }

    /// One network by name, full ID or unique ID prefix.
    pub fn get(&self, name: &str) -> Result<NetworkRecord> {
        if valid_name(name) {
            match fs::read(self.path(name)) {
                Ok(bytes) => {
                    return serde_json::from_slice(&bytes)
                        .map_err(|e| invalid(name, format!("corrupt record: {e}")))
                }
                Err(err) if err.kind() == io::ErrorKind::NotFound => {}
                Err(err) => return Err(io_err(format!("read network {name:?}"))(err)),
            }
        }
        if name.len() >= 3 && name.bytes().all(|b| b.is_ascii_hexdigit()) {
            let found: Vec<NetworkRecord> = self
                .list()?
                .into_iter()
                .filter(|r| r.id.starts_with(name))
                .collect();
            if found.len() == 1 {
                return Ok(found.into_iter().next().unwrap_or_else(|| unreachable!()));
            }
        }
        Err(NetworkError::NotFound(name.to_string()))
    }

    /// Creates a network and its bridge. An existing network of that name
    /// is returned as it is, its bridge made again if it has gone.
    pub fn create(&self, spec: NetworkSpec) -> Result<NetworkRecord> {
        let name = spec.name.clone();
        if !valid_name(&name) {
            return Err(invalid(
                &name,
                "invalid name: expected [a-zA-Z0-9][a-zA-Z0-9_.-]*",
            ));
        }
        let _lock = self.lock()?;
        if let Ok(existing) = self.get(&name) {
            if existing.name == name {
                self.ensure_bridge(&existing)?;
                return Ok(existing);
            }
        }
        if spec.enable_ipv6 {
            return Err(NetworkError::Ipv6Unsupported { network: name });
        }
        if spec.ipam.len() > 1 {
            return Err(invalid(&name, "only one IPAM pool is supported"));
        }
        if spec
            .driver_opts
            .get(OPT_ENABLE_ICC)
            .is_some_and(|v| v == "false")
        {
            return Err(invalid(
                &name,
                format!("{OPT_ENABLE_ICC}=false is not supported yet"),
            ));
        }
        let mtu = match spec.driver_opts.get(OPT_MTU) {
            Some(text) => Some(
                text.parse::<u32>()
                    .ok()
                    .filter(|m| (68..=65535).contains(m))
                    .ok_or_else(|| {
                        invalid(
                            &name,
                            format!("{OPT_MTU}: expected an MTU of 68..65535, got {text:?}"),
                        )
                    })?,
            ),
            None => spec.mtu,
        };
        let id = random_id()?;
        let bridge = match spec.driver_opts.get(OPT_BRIDGE_NAME) {
            Some(bridge) if !ipam::valid_ifname(bridge) => {
                return Err(invalid(
                    &name,
                    format!("{OPT_BRIDGE_NAME}: {bridge:?} is not a valid interface name (at most 15 characters)"),
                ))
            }
            Some(bridge) => bridge.clone(),
            None => ipam::bridge_name(&id),
        };

        let mut nl = Netlink::open().map_err(netlink_err(&name, "open netlink"))?;
        let mut taken = Vec::new();
        let others = self.list()?;
        for other in &others {
            if other.bridge == bridge {
                return Err(invalid(
                    &name,
                    format!(
                        "bridge {bridge} is already used by network {:?}",
                        other.name
                    ),
                ));
            }
            taken.push(Taken {
                subnet: other.subnet()?,
                what: format!("network {:?}", other.name),
            });
        }
        if nl
            .link_index(&bridge)
            .map_err(netlink_err(&name, "look up the bridge"))?
            .is_some()
        {
            return Err(invalid(&name, format!("interface {bridge} already exists")));
        }
        for host in nl
            .host_networks()
            .map_err(netlink_err(&name, "read the host's routes"))?
        {
            let subnet = Subnet::new(host.address, host.prefix_len);
            let on = if host.interface.is_empty() {
                String::new()
            } else {
                format!(" on {}", host.interface)
            };
            taken.push(Taken {
                subnet,
                what: format!("the host {} {subnet}{on}", host.kind),
            });
        }

        let pool = spec.ipam.first().cloned().unwrap_or_default();
        let subnet = match &pool.subnet {
            Some(text) => {
                let subnet: Subnet = text.parse().map_err(|m: String| invalid(&name, m))?;
                if subnet.prefix_len > 30 {
                    return Err(invalid(
                        &name,
                        format!("subnet {subnet} is too small (at most /30)"),
                    ));
                }
                if let Some(t) = ipam::conflict(&subnet, &taken) {
                    return Err(invalid(
                        &name,
                        format!("subnet {subnet} overlaps {}", t.what),
                    ));
                }
                subnet
            }
            None => {
                if pool.ip_range.is_some() || pool.gateway.is_some() {
                    return Err(invalid(&name, "ip_range and gateway need a subnet"));
                }
                ipam::pick_subnet(&taken).ok_or_else(|| {
                    invalid(&name, "no free subnet left in the default pools (172.17.0.0/16-172.31.0.0/16, 192.168.0.0/16)")
                })?
            }
        };
        let ip_range = match &pool.ip_range {
            Some(text) => {
                let range: Subnet = text
                    .parse()
                    .map_err(|m: String| invalid(&name, format!("ip_range: {m}")))?;
                if !subnet.covers(&range) {
                    return Err(invalid(
                        &name,
                        format!("ip_range {range} is not inside subnet {subnet}"),
                    ));
                }
                Some(range.to_string())
            }
            None => None,
        };
        let gateway = match &pool.gateway {
            Some(text) => {
                let gateway: Ipv4Addr = text.parse().map_err(|_| {
                    invalid(
                        &name,
                        format!("invalid gateway {text:?}: expected an IPv4 address"),
                    )
                })?;
                if !subnet.contains(gateway)
                    || gateway == subnet.address
                    || gateway == subnet.broadcast()
                {
                    return Err(invalid(
                        &name,
                        format!("gateway {gateway} is not a host address of subnet {subnet}"),
                    ));
                }
                gateway
            }
            None => subnet.first_host(),
        };
        let record = NetworkRecord {
            name: name.clone(),
            id,
            bridge,
            subnet: subnet.to_string(),
            gateway,
            ip_range,
            internal: spec.internal,
            labels: spec.labels,
            created: crate::timestamp::now(),
            options: spec.driver_opts,
            mtu,
            endpoints: BTreeMap::new(),
        };
        self.make_bridge(&mut nl, &record, &others)?;
        if let Err(err) = self.write(&record) {
            let _ = self.teardown(&mut nl, &record);
            return Err(err);
        }
        Ok(record)
    }

    /// Makes the bridge of an existing record again when it has gone.
    fn ensure_bridge(&self, record: &NetworkRecord) -> Result<()> {
        let mut nl = Netlink::open().map_err(netlink_err(&record.name, "open netlink"))?;
        if nl
            .link_index(&record.bridge)
            .map_err(netlink_err(&record.name, "look up the bridge"))?
            .is_some()
        {
            return Ok(());
        }
        let others: Vec<NetworkRecord> = self
            .list()?
            .into_iter()
            .filter(|r| r.name != record.name)
            .collect();
        self.make_bridge(&mut nl, record, &others)
    }

    fn make_bridge(
        &self,
        nl: &mut Netlink,
        record: &NetworkRecord,
        others: &[NetworkRecord],
    ) -> Result<()> {
        let name = &record.name;
        let subnet = record.subnet()?;
        let result = (|| {
            nl.add_bridge(&record.bridge, record.mtu)
                .map_err(netlink_err(
                    name,
                    format!("create bridge {}", record.bridge),
                ))?;
            let index = nl
                .link_index(&record.bridge)
                .map_err(netlink_err(name, "look up the bridge"))?
                .ok_or_else(|| invalid(name, format!("bridge {} vanished", record.bridge)))?;
            nl.add_address(index, record.gateway, subnet.prefix_len)
                .map_err(netlink_err(
                    name,
                    format!(
                        "add {}/{} to {}",
                        record.gateway, subnet.prefix_len, record.bridge
                    ),
                ))?;
            nl.set_link(index, None, None)
                .map_err(netlink_err(name, format!("set {} up", record.bridge)))?;
            isolation::set_forwarding(&record.bridge, !record.internal).map_err(io_err(
                format!("network {name:?}: set forwarding on {}", record.bridge),
            ))?;
            let other_subnets: Vec<Subnet> =
                others.iter().filter_map(|o| o.subnet().ok()).collect();
            isolation::apply(nl, &subnet, record.internal, &other_subnets)
                .map_err(netlink_err(name, "add isolation rules"))?;
            if !record.internal {
                if nat::enable_forwarding()
                    .map_err(io_err(format!("network {name:?}: enable IPv4 forwarding")))?
                {
                    tracing::info!("enabled net.ipv4.ip_forward for network {name}");
                }
                nat::install(&record.bridge, &subnet)
                    .map_err(|e| invalid(name, format!("outbound NAT: {e}")))?;
            }
            Ok(())
        })();
        if result.is_err() {
            let _ = self.teardown(nl, record);
        }
        result
    }

    /// Deletes the bridge, the endpoints' host veths and the rules.
    fn teardown(&self, nl: &mut Netlink, record: &NetworkRecord) -> Result<()> {
        let name = &record.name;
        for container in record.endpoints.keys() {
            let veth = ipam::veth_name(&record.id, container);
            nl.delete_link(&veth)
                .map_err(netlink_err(name, format!("delete {veth}")))?;
        }
        nl.delete_link(&record.bridge).map_err(netlink_err(
            name,
            format!("delete bridge {}", record.bridge),
        ))?;
        if let Ok(subnet) = record.subnet() {
            isolation::remove(nl, &subnet).map_err(netlink_err(name, "remove isolation rules"))?;
        }
        nat::remove(&record.bridge).map_err(|e| invalid(name, format!("outbound NAT: {e}")))?;
        Ok(())
    }

    /// Removes a network: its bridge, rules and record. Refuses while
    /// endpoints are allocated unless `force`.
    pub fn remove(&self, name: &str, force: bool) -> Result<NetworkRecord> {
        let _lock = self.lock()?;
        self.remove_locked(name, force)
    }

    fn remove_locked(&self, name: &str, force: bool) -> Result<NetworkRecord> {
        let record = self.get(name)?;
        if !record.endpoints.is_empty() && !force {
            return Err(NetworkError::InUse {
                network: record.name.clone(),
                count: record.endpoints.len(),
                containers: record
                    .endpoints
                    .keys()
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", "),
            });
        }
        let mut nl = Netlink::open().map_err(netlink_err(&record.name, "open netlink"))?;
        self.teardown(&mut nl, &record)?;
        let path = self.path(&record.name);
        fs::remove_file(&path).map_err(io_err(format!("remove {}", path.display())))?;
        Ok(record)
    }

    /// Removes every network without endpoints; returns their names.
    pub fn prune(&self) -> Result<Vec<String>> {
        let _lock = self.lock()?;
        let mut removed = Vec::new();
        for record in self.list()? {
            if record.endpoints.is_empty() {
                self.remove_locked(&record.name, false)?;
                removed.push(record.name);
            }
        }
        Ok(removed)
    }

    /// Gives `container_id` an address on `network` (the same one again if
    /// it already has one): `requested` if free, else the lowest free one.
    pub fn allocate(
        &self,
        network: &str,
        container_id: &str,
        requested: Option<Ipv4Addr>,
        mac: Option<String>,
    ) -> Result<Endpoint> {
        let _lock = self.lock()?;
        let mut record = self.get(network)?;
        let subnet = record.subnet()?;
        if let Some(mac) = &mac {
            if ipam::parse_mac(mac).is_none() {
                return Err(invalid(
                    &record.name,
                    format!("invalid MAC address {mac:?}"),
                ));
            }
        }
        let existing = record.endpoints.get(container_id).cloned();
        let allocation = match existing {
            Some(a) if requested.is_none_or(|r| r == a.address) => a,
            _ => {
                let used: Vec<Ipv4Addr> = record
                    .endpoints
                    .iter()
                    .filter(|(c, _)| c.as_str() != container_id)
                    .map(|(_, a)| a.address)
                    .collect();
                let address = match requested {
                    Some(ip) => {
                        ipam::check_requested(&subnet, record.gateway, &used, ip)
                            .map_err(|m| invalid(&record.name, m))?;
                        ip
                    }
                    None => {
                        let range = match &record.ip_range {
                            Some(r) => {
                                Some(r.parse::<Subnet>().map_err(|m| invalid(&record.name, m))?)
                            }
                            None => None,
                        };
                        ipam::pick_address(&subnet, range.as_ref(), record.gateway, &used)
                            .ok_or_else(|| {
                                invalid(
                                    &record.name,
                                    format!(
                                        "no free address left in {}",
                                        record.ip_range.as_deref().unwrap_or(&record.subnet)
                                    ),
                                )
                            })?
                    }
                };
                let allocation = Allocation {
                    address,
                    mac: mac.clone().unwrap_or_else(|| ipam::mac_for(address)),
                };
                record
                    .endpoints
                    .insert(container_id.to_string(), allocation.clone());
                self.write(&record)?;
                allocation
            }
        };
        Ok(Endpoint {
            network: record.name.clone(),
            bridge: record.bridge.clone(),
            host_veth: ipam::veth_name(&record.id, container_id),
            address: allocation.address,
            prefix_len: subnet.prefix_len,
            gateway: record.gateway,
            mac: mac.unwrap_or(allocation.mac),
            internal: record.internal,
            mtu: record.mtu,
        })
    }

    /// Returns a container's address on `network` to the pool (nothing to do
    /// when it has none).
    pub fn release(&self, network: &str, container_id: &str) -> Result<()> {
        let _lock = self.lock()?;
        let mut record = self.get(network)?;
        if record.endpoints.remove(container_id).is_some() {
            self.write(&record)?;
        }
        Ok(())
    }
}
