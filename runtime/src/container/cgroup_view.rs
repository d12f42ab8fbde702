//! The container's own view of its cgroups: which hierarchies to mount at
//! `/sys/fs/cgroup` inside it (mirroring the host's layout: a tmpfs with one
//! `cgroup` mount per v1 hierarchy, co-mount symlinks and the v2 hierarchy
//! as `unified` on hybrid hosts; a `cgroup2` mount on pure v2 hosts), and
//! mounting them, read-only unless privileged, after the container's first
//! process is in its cgroups. With a private cgroup namespace (the default)
//! each mount shows the container's cgroup as its root; with the host's,
//! each v1 mount is the container's own cgroup directory bound in its place
//! (and v2 shows the whole tree), as Docker does.

use std::fs;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};

use nix::mount::{mount, umount2, MntFlags, MsFlags};

use super::cgroup::{Hierarchies, CGROUP_ROOT};
pub use super::spec::CgroupNamespace;

/// One hierarchy to mount inside the container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ViewHierarchy {
    /// Path under `/sys/fs/cgroup` (`memory`, `cpu,cpuacct`, `unified`);
    /// empty for `/sys/fs/cgroup` itself (a pure v2 host).
    pub name: String,
    /// `cgroup2`, or a v1 hierarchy mounted with these names as options.
    pub v1_names: Option<Vec<String>>,
}

/// What goes at `/sys/fs/cgroup` inside the container.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CgroupView {
    /// A tmpfs holding the hierarchies (there are v1 hierarchies).
    pub tmpfs: bool,
    pub hierarchies: Vec<ViewHierarchy>,
    /// Symlinks beside them (`cpu` -> `cpu,cpuacct`).
    pub links: Vec<(String, String)>,
}

impl CgroupView {
    /// The view mirroring the host's layout, for the hierarchies berth
    /// places containers in.
    pub fn for_host(hierarchies: &Hierarchies) -> CgroupView {
        let root = Path::new(CGROUP_ROOT);
        let name_under_root = |mount: &Path| {
            mount
                .strip_prefix(root)
                .ok()
                .and_then(Path::to_str)
                .filter(|name| !name.is_empty() && !name.contains('/'))
                .map(str::to_string)
        };
        let mut view = CgroupView {
            tmpfs: !hierarchies.v1_mounts.is_empty(),
            ..CgroupView::default()
        };
        for (mount, names) in &hierarchies.v1_mounts {
            view.hierarchies.push(ViewHierarchy {
                name: name_under_root(mount).unwrap_or_else(|| names.join(",")),
                v1_names: Some(names.clone()),
            });
        }
        if let Some((mount, _)) = &hierarchies.unified {
            let name = match view.tmpfs {
                true => name_under_root(mount).unwrap_or_else(|| "unified".to_string()),
                false => String::new(),
            };
            view.hierarchies.push(ViewHierarchy {
                name,
                v1_names: None,
            });
        }
        let names: Vec<&str> = view.hierarchies.iter().map(|h| h.name.as_str()).collect();
        view.links = hierarchies
            .links
            .iter()
            .filter(|(link, target)| {
                names.contains(&target.as_str()) && !names.contains(&link.as_str())
            })
            .cloned()
            .collect();
        view
    }
}

type MountResult = Result<(), String>;

fn mount_at(
    source: &str,
    target: &Path,
    fstype: Option<&str>,
    flags: MsFlags,
    data: Option<&str>,
) -> MountResult {
    mount(Some(source), target, fstype, flags, data)
        .map_err(|err| format!("mount {source} on {}: {err}", target.display()))
}

const FLAGS: MsFlags = MsFlags::MS_NOSUID
    .union(MsFlags::MS_NODEV)
    .union(MsFlags::MS_NOEXEC);

/// Makes `target` read-only for this mount only (never its superblock,
/// which v1 hierarchies share with the host).
fn make_read_only(target: &Path) -> MountResult {
    mount::<str, _, str, str>(
        None,
        target,
        None,
        FLAGS | MsFlags::MS_BIND | MsFlags::MS_REMOUNT | MsFlags::MS_RDONLY,
        None,
    )
    .map_err(|err| format!("make {} read-only: {err}", target.display()))
}

/// This process's cgroup path in the hierarchy with `names` (from
/// `/proc/self/cgroup`), relative to the cgroup namespace's root.
fn own_path(proc_cgroup: &str, names: &[String]) -> Option<String> {
    proc_cgroup.lines().find_map(|line| {
        let mut fields = line.splitn(3, ':');
        let (_, controllers, path) = (fields.next()?, fields.next()?, fields.next()?);
        let mut listed: Vec<&str> = controllers.split(',').collect();
        let mut wanted: Vec<&str> = names.iter().map(String::as_str).collect();
        listed.sort_unstable();
        wanted.sort_unstable();
        (listed == wanted).then(|| path.trim_start_matches('/').to_string())
    })
}

/// Mounts one hierarchy at `target`: in a private cgroup namespace the
/// fresh mount's root is the container's cgroup; in the host's, a v1
/// hierarchy is mounted at `staging` and the container's directory bound.
fn mount_hierarchy(
    hierarchy: &ViewHierarchy,
    target: &Path,
    staging: &Path,
    namespace: CgroupNamespace,
) -> MountResult {
    let Some(names) = &hierarchy.v1_names else {
        return mount_at("cgroup2", target, Some("cgroup2"), FLAGS, None);
    };
    let data = names.join(",");
    if namespace == CgroupNamespace::Private {
        return mount_at("cgroup", target, Some("cgroup"), FLAGS, Some(&data));
    }
    let proc_cgroup = fs::read_to_string("/proc/self/cgroup")
        .map_err(|err| format!("read /proc/self/cgroup: {err}"))?;
    let own = own_path(&proc_cgroup, names)
        .ok_or_else(|| format!("no cgroup of this process in the {data} hierarchy"))?;
    mount_at("cgroup", staging, Some("cgroup"), FLAGS, Some(&data))?;
    let bound = mount_at(
        &staging.join(own).display().to_string(),
        target,
        None,
        MsFlags::MS_BIND,
        None,
    );
    umount2(staging, MntFlags::MNT_DETACH)
        .map_err(|err| format!("unmount {}: {err}", staging.display()))?;
    bound
}

/// Mounts `view` at `/sys/fs/cgroup` (the process is in its cgroups, and
/// in its own cgroup namespace unless `namespace` is the host's).
pub fn mount_view(view: &CgroupView, namespace: CgroupNamespace, writable: bool) -> MountResult {
    let root = PathBuf::from(CGROUP_ROOT);
    if !root.is_dir() || view.hierarchies.is_empty() {
        return Ok(());
    }
    let create =
        |dir: &Path| fs::create_dir(dir).map_err(|err| format!("create {}: {err}", dir.display()));
    if view.tmpfs {
        mount_at("tmpfs", &root, Some("tmpfs"), FLAGS, Some("mode=755"))?;
    }
    let staging = root.join(".berth-staging");
    let needs_staging = namespace == CgroupNamespace::Host && view.tmpfs;
    if needs_staging {
        create(&staging)?;
    }
    for hierarchy in &view.hierarchies {
        let target = root.join(&hierarchy.name);
        if view.tmpfs {
            create(&target)?;
        }
        mount_hierarchy(hierarchy, &target, &staging, namespace)?;
        if !writable {
            make_read_only(&target)?;
        }
    }
    if needs_staging {
        fs::remove_dir(&staging).map_err(|err| format!("remove {}: {err}", staging.display()))?;
    }
    for (link, target) in &view.links {
        symlink(target, root.join(link)).map_err(|err| format!("symlink {link}: {err}"))?;
    }
    if view.tmpfs && !writable {
        make_read_only(&root)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hierarchies(mountinfo: &str, links: &[(&str, &str)]) -> Hierarchies {
        let mut found = Hierarchies::parse(mountinfo);
        found.links = links
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect();
        found
    }

    fn names(view: &CgroupView) -> Vec<(&str, Option<String>)> {
        view.hierarchies
            .iter()
            .map(|h| (h.name.as_str(), h.v1_names.as_ref().map(|n| n.join(","))))
            .collect()
    }

    const HYBRID: &str = "\
31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,relatime - cgroup cgroup rw,cpu,cpuacct
34 31 0:31 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
35 31 0:32 / /sys/fs/cgroup/net_cls rw,relatime - cgroup cgroup rw,net_cls
40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,xattr,release_agent=/x,name=systemd
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw,nsdelegate
";

    #[test]
    fn hybrid_hosts_are_mirrored() {
        let found = hierarchies(
            HYBRID,
            &[
                ("cpu", "cpu,cpuacct"),
                ("cpuacct", "cpu,cpuacct"),
                ("net_prio", "net_cls,net_prio"),
            ],
        );
        let view = CgroupView::for_host(&found);
        assert!(view.tmpfs);
        assert_eq!(
            names(&view),
            [
                ("cpu,cpuacct", Some("cpu,cpuacct".to_string())),
                ("memory", Some("memory".to_string())),
                ("systemd", Some("name=systemd".to_string())),
                ("unified", None),
            ]
        );
        // Links only to what is mounted (net_cls is not: berth makes no
        // cgroup there, so it would show the host's tree).
        assert_eq!(
            view.links,
            [
                ("cpu".to_string(), "cpu,cpuacct".to_string()),
                ("cpuacct".to_string(), "cpu,cpuacct".to_string())
            ]
        );
    }

    #[test]
    fn pure_v2_hosts_get_one_cgroup2_mount() {
        let found = hierarchies(
            "30 23 0:27 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw,nsdelegate\n",
            &[],
        );
        let view = CgroupView::for_host(&found);
        assert!(!view.tmpfs);
        assert_eq!(names(&view), [("", None)]);
    }

    #[test]
    fn hierarchies_mounted_elsewhere_are_named_after_their_controllers() {
        let found = hierarchies(
            "\
50 23 0:40 / /cg/mem rw - cgroup cgroup rw,memory
51 23 0:41 / /cg/v2 rw - cgroup2 cgroup2 rw
",
            &[],
        );
        let view = CgroupView::for_host(&found);
        assert_eq!(
            names(&view),
            [("memory", Some("memory".to_string())), ("unified", None)]
        );
        assert_eq!(
            CgroupView::for_host(&Hierarchies::default()).hierarchies,
            []
        );
    }

    #[test]
    fn own_paths_are_found_by_hierarchy() {
        let text = "9:name=systemd:/berth/x\n2:cpuacct,cpu:/berth/x\n4:memory:/\n0::/\n";
        let find = |names: &[&str]| {
            own_path(
                text,
                &names.iter().map(|n| n.to_string()).collect::<Vec<_>>(),
            )
        };
        assert_eq!(find(&["cpu", "cpuacct"]).as_deref(), Some("berth/x"));
        assert_eq!(find(&["name=systemd"]).as_deref(), Some("berth/x"));
        assert_eq!(find(&["memory"]).as_deref(), Some(""));
        assert_eq!(find(&["pids"]), None);
    }
}
