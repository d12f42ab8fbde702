//! The container's mount table, built inside its new mount namespace: the
//! overlay root from the image layers, `/proc`, `/sys`, a minimal `/dev`,
//! the generated `/etc` files, the caller's mounts, Docker's masked paths,
//! then `pivot_root` and the read-only remount. Runs in the container's init
//! process (single-threaded), so nothing here leaks onto the host.

use std::fs;
use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::{Component, Path, PathBuf};

use nix::mount::{mount, umount2, MntFlags, MsFlags};
use nix::sched::{setns, CloneFlags};
use nix::sys::stat::{makedev, mknod, Mode, SFlag};
use std::os::fd::AsFd;

use super::devices::{Device, DeviceType};
use super::spec::{InjectedFile, Mount, Namespace};
use super::state::{ContainerDir, ContainerRecord};
use super::sys;

/// Docker's masked `/proc` and `/sys` paths.
pub const MASKED_PATHS: &[&str] = &[
    "/proc/asound",
    "/proc/acpi",
    "/proc/interrupts",
    "/proc/kcore",
    "/proc/keys",
    "/proc/latency_stats",
    "/proc/timer_list",
    "/proc/timer_stats",
    "/proc/sched_debug",
    "/proc/scsi",
    "/sys/firmware",
    "/sys/devices/virtual/powercap",
];

/// Docker's read-only `/proc` paths.
pub const READONLY_PATHS: &[&str] = &[
    "/proc/bus",
    "/proc/fs",
    "/proc/irq",
    "/proc/sys",
    "/proc/sysrq-trigger",
];

/// Largest mount data the kernel takes in one page, less some slack.
const MAX_MOUNT_DATA: usize = 4000;

/// A step of the setup failed; the message names what and where.
pub type SetupResult<T> = Result<T, String>;

fn ctx<T, E: std::fmt::Display>(
    result: Result<T, E>,
    what: impl FnOnce() -> String,
) -> SetupResult<T> {
    result.map_err(|err| format!("{}: {err}", what()))
}

fn do_mount(
    source: Option<&str>,
    target: &Path,
    fstype: Option<&str>,
    flags: MsFlags,
    data: Option<&str>,
) -> SetupResult<()> {
    ctx(mount(source, target, fstype, flags, data), || {
        format!(
            "mount {} on {}",
            fstype.or(source).unwrap_or("(bind)"),
            target.display()
        )
    })
}

/// Most symlinks followed while resolving one path (the kernel's own limit).
const MAX_SYMLINKS: u32 = 40;

/// Resolves `path` inside `root`, following symlinks as if `root` were `/`,
/// so that no mount target escapes the container's root. A chain of more
/// than [`MAX_SYMLINKS`] links, or a link that cannot be read, is an error:
/// an unresolved link would be followed by the kernel to a host path.
pub fn secure_join(root: &Path, path: &str) -> SetupResult<PathBuf> {
    let mut resolved = PathBuf::new();
    let mut pending: Vec<String> = components(path);
    pending.reverse();
    let mut links = 0;
    while let Some(part) = pending.pop() {
        if part == ".." {
            resolved.pop();
            continue;
        }
        let candidate = root.join(&resolved).join(&part);
        match fs::symlink_metadata(&candidate) {
            Ok(meta) if meta.file_type().is_symlink() => {
                links += 1;
                if links > MAX_SYMLINKS {
                    return Err(format!(
                        "{path}: too many levels of symbolic links in the container's root"
                    ));
                }
                let target = ctx(fs::read_link(&candidate), || {
                    format!("{path}: read symlink {}", candidate.display())
                })?;
                let target = target.to_string_lossy().to_string();
                if target.starts_with('/') {
                    resolved = PathBuf::new();
                }
                let mut more = components(&target);
                more.reverse();
                pending.extend(more);
            }
            _ => resolved.push(&part),
        }
    }
    Ok(root.join(resolved))
}

/// Files under `/proc` a caller may mount over (runc's list: the ones
/// lxcfs-style tools replace).
const PROC_MOUNTABLE: &[&str] = &[
    "/proc/cpuinfo",
    "/proc/diskstats",
    "/proc/meminfo",
    "/proc/stat",
    "/proc/swaps",
    "/proc/uptime",
    "/proc/loadavg",
    "/proc/slabinfo",
    "/proc/net/dev",
    "/proc/sys/kernel/ns_last_pid",
];

/// Whether a caller's mount may go at `target` (a path in the container,
/// symlinks already resolved): never over the root itself, over `/proc` or
/// inside it (but for [`PROC_MOUNTABLE`]), and over `/sys` or `/dev` only
/// in a privileged container: these would replace the kernel interfaces
/// the container's confinement is built on (masked paths, read-only
/// `/proc/sys`, the device nodes berth makes). Also called by the CLI's
/// translation, so a compose file is refused before anything is made.
pub fn check_mount_destination(target: &str, privileged: bool) -> Result<(), String> {
    let clean = lexical_clean(target);
    if clean == "/" {
        return Err(format!(
            "mount target {target:?} is the container's root: a mount cannot replace /"
        ));
    }
    if clean == "/proc" || (clean.starts_with("/proc/") && !PROC_MOUNTABLE.contains(&&*clean)) {
        return Err(format!(
            "mount target {target:?} is inside /proc, which only the kernel's procfs may fill (allowed: {})",
            PROC_MOUNTABLE.join(", ")
        ));
    }
    if (clean == "/sys" || clean == "/dev") && !privileged {
        return Err(format!(
            "mount target {target:?} would replace the container's {clean}: only a privileged container (privileged: true) may mount over it; mount a subdirectory instead"
        ));
    }
    Ok(())
}

/// `path` as an absolute path without `.`, `..` or repeated slashes
/// (`..` at the root stays at the root, as the kernel resolves it).
fn lexical_clean(path: &str) -> String {
    let mut parts: Vec<String> = Vec::new();
    for part in components(path) {
        if part == ".." {
            parts.pop();
        } else {
            parts.push(part);
        }
    }
    format!("/{}", parts.join("/"))
}

/// The path of `resolved` inside `rootfs`, as the container sees it.
fn container_path(rootfs: &Path, resolved: &Path) -> String {
    let inside = resolved.strip_prefix(rootfs).unwrap_or(resolved);
    format!("/{}", inside.display())
}

/// Resolves a caller's mount target inside the root and checks where it
/// landed (a symlink in the image may point it at `/` or `/proc`).
fn mount_target(rootfs: &Path, target: &str, privileged: bool) -> SetupResult<PathBuf> {
    check_mount_destination(target, privileged)?;
    let resolved = secure_join(rootfs, target)?;
    let landed = container_path(rootfs, &resolved);
    check_mount_destination(&landed, privileged)
        .map_err(|err| format!("{target} resolves to {landed} in the image: {err}"))?;
    Ok(resolved)
}

/// Makes sure one of the kernel filesystems' mount points (`/proc`, `/sys`,
/// `/dev`) is a real directory in the image, never a symlink or a file
/// (runc's rule): a symlink would move procfs and its masks elsewhere.
fn system_mount_point(rootfs: &Path, name: &str) -> SetupResult<PathBuf> {
    let path = rootfs.join(name);
    match fs::symlink_metadata(&path) {
        Ok(meta) if meta.is_dir() => Ok(path),
        Ok(meta) => Err(format!(
            "the image's /{name} is not a directory ({}): refusing to mount {name} there",
            if meta.file_type().is_symlink() {
                "a symlink"
            } else {
                "a file"
            }
        )),
        Err(_) => {
            ctx(fs::create_dir(&path), || format!("create /{name}"))?;
            Ok(path)
        }
    }
}

fn components(path: &str) -> Vec<String> {
    Path::new(path)
        .components()
        .filter_map(|c| match c {
            Component::Normal(part) => Some(part.to_string_lossy().to_string()),
            Component::ParentDir => Some("..".to_string()),
            _ => None,
        })
        .collect()
}

/// Makes `target` exist as a directory or as an empty file.
fn ensure_target(target: &Path, as_dir: bool) -> SetupResult<()> {
    if fs::symlink_metadata(target).is_ok() {
        return Ok(());
    }
    if let Some(parent) = target.parent() {
        ctx(fs::create_dir_all(parent), || {
            format!("create {}", parent.display())
        })?;
    }
    if as_dir {
        ctx(fs::create_dir_all(target), || {
            format!("create {}", target.display())
        })
    } else {
        ctx(fs::File::create(target).map(drop), || {
            format!("create {}", target.display())
        })
    }
}

/// Mounts the overlay root. Lower directories are given relative to their
/// common parent (the process changes into it) to stay under the kernel's
/// one-page limit for mount data with many layers.
fn mount_overlay(dir: &ContainerDir, record: &ContainerRecord) -> SetupResult<()> {
    let mut lowers: Vec<PathBuf> = record.layers.iter().rev().cloned().collect();
    if lowers.is_empty() {
        lowers.push(dir.empty_lower());
    }
    let common = lowers[0].parent().map(Path::to_path_buf);
    let relative = common
        .as_ref()
        .filter(|parent| lowers.iter().all(|l| l.parent() == Some(parent.as_path())));
    let lowerdir: Vec<String> = match relative {
        Some(parent) => {
            ctx(nix::unistd::chdir(parent.as_path()), || {
                format!("chdir {}", parent.display())
            })?;
            lowers
                .iter()
                .map(|l| {
                    l.file_name()
                        .unwrap_or_default()
                        .to_string_lossy()
                        .to_string()
                })
                .collect()
        }
        None => lowers.iter().map(|l| l.display().to_string()).collect(),
    };
    let data = format!(
        "lowerdir={},upperdir={},workdir={}",
        lowerdir.join(":"),
        dir.upper().display(),
        dir.work().display()
    );
    if data.len() > MAX_MOUNT_DATA {
        return Err(format!(
            "the image has too many layers ({}) for one overlay mount",
            lowers.len()
        ));
    }
    do_mount(
        Some("overlay"),
        &dir.rootfs(),
        Some("overlay"),
        MsFlags::empty(),
        Some(&data),
    )?;
    ctx(nix::unistd::chdir("/"), || "chdir /".to_string())
}

/// For `cp` into or out of a stopped container (in a private mount
/// namespace): its overlay root and its bind mounts (volumes, host
/// paths), targets resolved inside the root; returns the root to `chroot`
/// into. Tmpfs mounts hold nothing while the container is stopped.
pub(super) fn mount_for_copy(dir: &ContainerDir, record: &ContainerRecord) -> SetupResult<PathBuf> {
    let rootfs = dir.rootfs();
    ensure_target(&rootfs, true)?;
    mount_overlay(dir, record)?;
    let privileged = record.spec.security.privileged;
    for spec in &record.spec.mounts {
        if matches!(spec, Mount::Bind { .. }) {
            mount_user(&rootfs, spec, privileged)?;
        }
    }
    Ok(rootfs)
}

/// `shm_size` `None`: no `/dev/shm` at all (`ipc: none`).
fn mount_dev(rootfs: &Path, shm_size: Option<u64>, console: Option<&Path>) -> SetupResult<()> {
    let dev = system_mount_point(rootfs, "dev")?;
    do_mount(
        Some("tmpfs"),
        &dev,
        Some("tmpfs"),
        MsFlags::MS_NOSUID | MsFlags::MS_STRICTATIME,
        Some("mode=755,size=65536k"),
    )?;
    let nodes: &[(&str, u64, u64)] = &[
        ("null", 1, 3),
        ("zero", 1, 5),
        ("full", 1, 7),
        ("random", 1, 8),
        ("urandom", 1, 9),
        ("tty", 5, 0),
    ];
    let old_umask = nix::sys::stat::umask(Mode::empty());
    for (name, major, minor) in nodes {
        let path = dev.join(name);
        ctx(
            mknod(
                &path,
                SFlag::S_IFCHR,
                Mode::from_bits_truncate(0o666),
                makedev(*major, *minor),
            ),
            || format!("mknod {}", path.display()),
        )?;
    }
    nix::sys::stat::umask(old_umask);
    for dir in ["pts", "mqueue"] {
        ensure_target(&dev.join(dir), true)?;
    }
    do_mount(
        Some("devpts"),
        &dev.join("pts"),
        Some("devpts"),
        MsFlags::MS_NOSUID | MsFlags::MS_NOEXEC,
        Some("newinstance,ptmxmode=0666,mode=0620,gid=5"),
    )?;
    if let Some(shm_size) = shm_size {
        ensure_target(&dev.join("shm"), true)?;
        do_mount(
            Some("shm"),
            &dev.join("shm"),
            Some("tmpfs"),
            MsFlags::MS_NOSUID | MsFlags::MS_NOEXEC | MsFlags::MS_NODEV,
            Some(&format!("mode=1777,size={shm_size}")),
        )?;
    }
    do_mount(
        Some("mqueue"),
        &dev.join("mqueue"),
        Some("mqueue"),
        MsFlags::MS_NOSUID | MsFlags::MS_NOEXEC | MsFlags::MS_NODEV,
        None,
    )?;
    for (link, target) in [
        ("ptmx", "pts/ptmx"),
        ("fd", "/proc/self/fd"),
        ("stdin", "/proc/self/fd/0"),
        ("stdout", "/proc/self/fd/1"),
        ("stderr", "/proc/self/fd/2"),
        ("core", "/proc/kcore"),
    ] {
        ctx(symlink(target, dev.join(link)), || {
            format!("symlink /dev/{link}")
        })?;
    }
    if let Some(console) = console {
        let target = dev.join("console");
        ensure_target(&target, false)?;
        do_mount(
            Some(&console.display().to_string()),
            &target,
            None,
            MsFlags::MS_BIND,
            None,
        )?;
    }
    Ok(())
}

/// Makes the mapped host devices' nodes (replacing whatever is at the path),
/// with the host node's type, numbers, mode and owner.
fn make_devices(rootfs: &Path, devices: &[Device]) -> SetupResult<()> {
    let old_umask = nix::sys::stat::umask(Mode::empty());
    let result = devices.iter().try_for_each(|device| {
        let path = secure_join(rootfs, &device.path)?;
        if let Some(parent) = path.parent() {
            ctx(fs::create_dir_all(parent), || {
                format!("create {}", parent.display())
            })?;
        }
        if let Ok(meta) = fs::symlink_metadata(&path) {
            if meta.is_dir() {
                return Err(format!("device {}: a directory is in the way", device.path));
            }
            ctx(fs::remove_file(&path), || {
                format!("replace {}", device.path)
            })?;
        }
        let kind = match device.kind {
            DeviceType::Block => SFlag::S_IFBLK,
            _ => SFlag::S_IFCHR,
        };
        ctx(
            mknod(
                &path,
                kind,
                Mode::from_bits_truncate(device.mode),
                makedev(device.major, device.minor),
            ),
            || format!("mknod {}", device.path),
        )?;
        ctx(
            std::os::unix::fs::chown(&path, Some(device.uid), Some(device.gid)),
            || format!("chown {}", device.path),
        )
    });
    nix::sys::stat::umask(old_umask);
    result
}

/// With a shared IPC namespace, POSIX shared memory is shared too: the
/// host's `/dev/shm` (bound), or the other container's (copied from its
/// mount namespace with `open_tree`, then attached here), over our own.
fn share_shm(target: &Path, ipc: &Namespace) -> SetupResult<()> {
    match ipc {
        Namespace::New | Namespace::Container(_) => Ok(()),
        Namespace::Host => {
            if !Path::new("/dev/shm").is_dir() {
                return Ok(());
            }
            do_mount(
                Some("/dev/shm"),
                target,
                None,
                MsFlags::MS_BIND | MsFlags::MS_REC,
                None,
            )
        }
        Namespace::Join(ipc_ns) => {
            let theirs = ipc_ns.with_file_name("mnt");
            let open = |path: &Path| {
                ctx(fs::File::open(path), || {
                    format!("mount namespace {}", path.display())
                })
            };
            let ours = open(Path::new("/proc/self/ns/mnt"))?;
            let theirs = open(&theirs)?;
            ctx(setns(theirs.as_fd(), CloneFlags::CLONE_NEWNS), || {
                "enter the IPC peer's mount namespace".to_string()
            })?;
            // A peer with `ipc: none` has no /dev/shm: we keep our own.
            let shm = Path::new("/dev/shm");
            let tree = shm.is_dir().then(|| sys::clone_mount_tree(shm));
            // Back to our own namespace whatever happened (root and working
            // directory are reset to its root).
            ctx(setns(ours.as_fd(), CloneFlags::CLONE_NEWNS), || {
                "return to the container's mount namespace".to_string()
            })?;
            let Some(tree) = tree else {
                return Ok(());
            };
            let tree = ctx(tree, || "copy the IPC peer's /dev/shm".to_string())?;
            ctx(sys::move_mount_to(tree.as_fd(), target), || {
                format!("attach the IPC peer's /dev/shm on {}", target.display())
            })
        }
    }
}

fn propagation_flag(name: &str) -> Option<MsFlags> {
    Some(match name {
        "rprivate" => MsFlags::MS_PRIVATE | MsFlags::MS_REC,
        "private" => MsFlags::MS_PRIVATE,
        "rshared" => MsFlags::MS_SHARED | MsFlags::MS_REC,
        "shared" => MsFlags::MS_SHARED,
        "rslave" => MsFlags::MS_SLAVE | MsFlags::MS_REC,
        "slave" => MsFlags::MS_SLAVE,
        _ => return None,
    })
}

fn mount_user(rootfs: &Path, spec: &Mount, privileged: bool) -> SetupResult<()> {
    let target = mount_target(rootfs, spec.target(), privileged)?;
    match spec {
        Mount::Bind {
            source,
            read_only,
            propagation,
            recursive,
            ..
        } => {
            let is_dir = ctx(fs::metadata(source), || {
                format!("bind mount source {}", source.display())
            })?
            .is_dir();
            ensure_target(&target, is_dir)?;
            let mut flags = MsFlags::MS_BIND;
            if *recursive {
                flags |= MsFlags::MS_REC;
            }
            let source_text = source.display().to_string();
            do_mount(Some(&source_text), &target, None, flags, None)?;
            if *read_only {
                do_mount(
                    None,
                    &target,
                    None,
                    flags | MsFlags::MS_REMOUNT | MsFlags::MS_RDONLY,
                    None,
                )?;
            }
            let propagation = propagation.as_deref().unwrap_or("rprivate");
            let flag = propagation_flag(propagation)
                .ok_or_else(|| format!("unknown bind propagation {propagation:?}"))?;
            do_mount(None, &target, None, flag, None)
        }
        Mount::Tmpfs {
            size,
            mode,
            read_only,
            ..
        } => {
            ensure_target(&target, true)?;
            let mut data = vec![format!("mode={:o}", mode.unwrap_or(0o1777))];
            if let Some(size) = size {
                data.push(format!("size={size}"));
            }
            let mut flags = MsFlags::MS_NOSUID | MsFlags::MS_NODEV;
            if *read_only {
                flags |= MsFlags::MS_RDONLY;
            }
            do_mount(
                Some("tmpfs"),
                &target,
                Some("tmpfs"),
                flags,
                Some(&data.join(",")),
            )
        }
    }
}

/// Binds an injected file (a secret or config) read-only at its target,
/// after the caller's mounts so a tmpfs on `/run` does not hide it.
fn mount_injected(rootfs: &Path, source: &Path, file: &InjectedFile) -> SetupResult<()> {
    let target = secure_join(rootfs, &file.target)?;
    if fs::metadata(&target).is_ok_and(|m| m.is_dir()) {
        return Err(format!(
            "{}: target {} is a directory in the container",
            file.description, file.target
        ));
    }
    ensure_target(&target, false)?;
    let source_text = source.display().to_string();
    do_mount(Some(&source_text), &target, None, MsFlags::MS_BIND, None)?;
    do_mount(
        None,
        &target,
        None,
        MsFlags::MS_BIND | MsFlags::MS_REMOUNT | MsFlags::MS_RDONLY,
        None,
    )
}

/// Whether a sysctl is namespaced (and so allowed), as Docker decides: IPC
/// ones only in a private IPC namespace, `net.*` only in a network
/// namespace other than the host's.
pub fn sysctl_allowed(name: &str, shares_host_network: bool, own_ipc: bool) -> bool {
    const IPC: &[&str] = &[
        "kernel.msgmax",
        "kernel.msgmnb",
        "kernel.msgmni",
        "kernel.sem",
        "kernel.shmall",
        "kernel.shmmax",
        "kernel.shmmni",
        "kernel.shm_rmid_forced",
    ];
    ((IPC.contains(&name) || name.starts_with("fs.mqueue.")) && own_ipc)
        || (name.starts_with("net.") && !shares_host_network)
}

fn write_sysctls(rootfs: &Path, record: &ContainerRecord) -> SetupResult<()> {
    let host_net = record.spec.network == super::spec::NetworkNamespace::Host;
    let own_ipc = record.spec.ipc == super::spec::Namespace::New;
    for (name, value) in &record.spec.security.sysctls {
        if !sysctl_allowed(name, host_net, own_ipc) {
            return Err(format!(
                "sysctl {name:?} is not allowed: only namespaced sysctls (net.*, kernel.shm*, kernel.msg*, kernel.sem, fs.mqueue.*) can be set in a container"
            ));
        }
        let path = rootfs.join("proc/sys").join(name.replace('.', "/"));
        ctx(fs::write(&path, value), || format!("sysctl {name}={value}"))?;
    }
    Ok(())
}

fn mask_paths(rootfs: &Path) -> SetupResult<()> {
    for path in MASKED_PATHS {
        let target = rootfs.join(&path[1..]);
        let Ok(meta) = fs::metadata(&target) else {
            continue;
        };
        if meta.is_dir() {
            do_mount(
                Some("tmpfs"),
                &target,
                Some("tmpfs"),
                MsFlags::MS_RDONLY,
                None,
            )?;
        } else {
            do_mount(Some("/dev/null"), &target, None, MsFlags::MS_BIND, None)?;
        }
    }
    for path in READONLY_PATHS {
        let target = rootfs.join(&path[1..]);
        if fs::symlink_metadata(&target).is_err() {
            continue;
        }
        do_mount(
            Some(&target.display().to_string()),
            &target,
            None,
            MsFlags::MS_BIND | MsFlags::MS_REC,
            None,
        )?;
        do_mount(
            None,
            &target,
            None,
            MsFlags::MS_BIND | MsFlags::MS_REMOUNT | MsFlags::MS_RDONLY | MsFlags::MS_REC,
            None,
        )?;
    }
    Ok(())
}

/// Builds the whole mount table and pivots into it. `console` is the pty
/// slave bound at `/dev/console` when the container has a terminal.
pub fn setup(
    dir: &ContainerDir,
    record: &ContainerRecord,
    console: Option<&Path>,
) -> SetupResult<()> {
    do_mount(
        None,
        Path::new("/"),
        None,
        MsFlags::MS_REC | MsFlags::MS_PRIVATE,
        None,
    )?;
    mount_overlay(dir, record)?;
    let rootfs = dir.rootfs();
    let privileged = record.spec.security.privileged;
    let proc_dir = system_mount_point(&rootfs, "proc")?;
    do_mount(
        Some("proc"),
        &proc_dir,
        Some("proc"),
        MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC,
        None,
    )?;
    let sys_dir = system_mount_point(&rootfs, "sys")?;
    let mut sys_flags = MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC;
    if !privileged {
        sys_flags |= MsFlags::MS_RDONLY;
    }
    if record.spec.network == super::spec::NetworkNamespace::Host {
        // sysfs of another network namespace cannot be mounted; bind the host's.
        do_mount(
            Some("/sys"),
            &sys_dir,
            None,
            MsFlags::MS_BIND | MsFlags::MS_REC,
            None,
        )?;
        if !privileged {
            do_mount(
                None,
                &sys_dir,
                None,
                MsFlags::MS_BIND | MsFlags::MS_REMOUNT | MsFlags::MS_RDONLY | MsFlags::MS_REC,
                None,
            )?;
        }
    } else {
        do_mount(Some("sysfs"), &sys_dir, Some("sysfs"), sys_flags, None)?;
    }
    let shm_size = (!record.spec.no_shm).then(|| record.spec.shm_size.unwrap_or(64 << 20));
    mount_dev(&rootfs, shm_size, console)?;
    if shm_size.is_some() {
        share_shm(&rootfs.join("dev/shm"), &record.spec.ipc)?;
    }
    for name in ["hosts", "hostname", "resolv.conf"] {
        let target = secure_join(&rootfs, &format!("/etc/{name}"))?;
        ensure_target(&target, false)?;
        let source = dir.etc_file(name).display().to_string();
        do_mount(Some(&source), &target, None, MsFlags::MS_BIND, None)?;
    }
    for spec in &record.spec.mounts {
        mount_user(&rootfs, spec, privileged)?;
    }
    make_devices(&rootfs, &record.spec.devices)?;
    for (index, file) in record.spec.files.iter().enumerate() {
        mount_injected(&rootfs, &dir.injected_file(index), file)?;
    }
    write_sysctls(&rootfs, record)?;
    if !privileged && !record.spec.security.unmask_system_paths {
        mask_paths(&rootfs)?;
    }
    ctx(nix::unistd::chdir(&rootfs), || {
        format!("chdir {}", rootfs.display())
    })?;
    ctx(nix::unistd::pivot_root(".", "."), || {
        "pivot_root".to_string()
    })?;
    ctx(umount2(".", MntFlags::MNT_DETACH), || {
        "detach the old root".to_string()
    })?;
    ctx(nix::unistd::chdir("/"), || "chdir /".to_string())?;
    Ok(())
}

/// Creates the working directory (before the user switch, as Docker does).
pub fn make_working_dir(path: &str, uid: u32, gid: u32) -> SetupResult<()> {
    let target = Path::new(path);
    if target.is_dir() {
        return Ok(());
    }
    fs::create_dir_all(target)
        .map_err(|err| format!("cannot create working directory {path:?}: {err}"))?;
    let _ = fs::set_permissions(target, fs::Permissions::from_mode(0o755));
    let _ = std::os::unix::fs::chown(target, Some(uid), Some(gid));
    Ok(())
}

/// Remounts the root read-only (after everything else is mounted).
pub fn make_root_read_only() -> SetupResult<()> {
    do_mount(
        None,
        Path::new("/"),
        None,
        MsFlags::MS_BIND | MsFlags::MS_REMOUNT | MsFlags::MS_RDONLY,
        None,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secure_join_stays_inside_root() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        fs::create_dir_all(root.join("real/sub")).unwrap();
        symlink("/real", root.join("abs")).unwrap();
        symlink("../../../..", root.join("climb")).unwrap();
        let join = |path| secure_join(root, path).unwrap();
        assert_eq!(join("/abs/sub"), root.join("real/sub"));
        assert_eq!(join("/climb/etc"), root.join("etc"));
        assert_eq!(join("/../../etc/x"), root.join("etc/x"));
        assert_eq!(join("relative/x"), root.join("relative/x"));
    }

    #[test]
    fn secure_join_refuses_a_chain_it_cannot_resolve() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        // A loop, and a chain longer than the limit ending at a host path.
        symlink("/loop", root.join("loop")).unwrap();
        for n in 0..=MAX_SYMLINKS {
            symlink(format!("/l{}", n + 1), root.join(format!("l{n}"))).unwrap();
        }
        symlink("/etc", root.join(format!("l{}", MAX_SYMLINKS + 1))).unwrap();
        for path in ["/loop/x", "/l0/passwd"] {
            let err = secure_join(root, path).unwrap_err();
            assert!(err.contains("too many levels of symbolic links"), "{err}");
        }
        // Within the limit it resolves, inside the root.
        assert_eq!(
            secure_join(root, "/l2/passwd").unwrap(),
            root.join("etc/passwd")
        );
    }

    #[test]
    fn mount_destinations_that_would_replace_the_kernel_interfaces_are_refused() {
        for target in [
            "/",
            "//",
            "/x/..",
            "/proc",
            "/proc/",
            "/proc/sys",
            "/proc/1/root",
        ] {
            assert!(
                check_mount_destination(target, true).is_err(),
                "{target} accepted"
            );
        }
        for target in ["/sys", "/dev", "/dev/../sys"] {
            assert!(check_mount_destination(target, false).is_err(), "{target}");
            assert!(check_mount_destination(target, true).is_ok(), "{target}");
        }
        for target in [
            "/data",
            "/proc/meminfo",
            "/dev/shm",
            "/sys/fs/cgroup",
            "/procfiles",
        ] {
            assert!(
                check_mount_destination(target, false).is_ok(),
                "{target} refused"
            );
        }
    }

    #[test]
    fn a_mount_target_that_resolves_to_the_root_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        symlink("/", root.join("data")).unwrap();
        symlink("../proc", root.join("p")).unwrap();
        fs::create_dir(root.join("srv")).unwrap();
        let err = mount_target(root, "/data", false).unwrap_err();
        assert!(err.contains("/data resolves to /"), "{err}");
        assert!(mount_target(root, "/p/sys", false).is_err());
        assert_eq!(mount_target(root, "/srv", false).unwrap(), root.join("srv"));
    }

    #[test]
    fn system_mount_points_must_be_directories() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        symlink("/etc", root.join("proc")).unwrap();
        fs::write(root.join("sys"), "").unwrap();
        let err = system_mount_point(root, "proc").unwrap_err();
        assert!(
            err.contains("/proc is not a directory (a symlink)"),
            "{err}"
        );
        assert!(system_mount_point(root, "sys").is_err());
        assert_eq!(system_mount_point(root, "dev").unwrap(), root.join("dev"));
        assert!(root.join("dev").is_dir());
    }

    #[test]
    fn sysctl_rules() {
        assert!(sysctl_allowed("net.ipv4.ip_forward", false, true));
        assert!(!sysctl_allowed("net.ipv4.ip_forward", true, true));
        assert!(sysctl_allowed("kernel.shmmax", false, true));
        assert!(!sysctl_allowed("kernel.shmmax", false, false));
        assert!(!sysctl_allowed("fs.mqueue.msg_max", false, false));
        assert!(!sysctl_allowed("kernel.panic", false, true));
    }
}
