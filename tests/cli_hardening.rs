//! What a container cannot reach, probed end to end the way a security
//! reviewer would: descriptors of the caller never reach a container's
//! program or an `exec`; berth's own code running in a container (the
//! `init: true` reaper) cannot be inspected or reopened for writing through
//! `/proc/PID/exe`; mount targets over `/`, `/proc`, `/sys`, `/dev` are
//! refused, also when an image's symlink leads there; the image's `/proc`
//! must be a directory.

mod support;

use std::os::fd::AsFd;

use support::containers::{can_run_containers, isolated};
use support::project::Project;

/// Opens `path` and lets every child of this process inherit it (no
/// close-on-exec), as a shell's stray descriptor would be; returns its number.
fn leak_descriptor(path: &std::path::Path) -> (std::fs::File, i32) {
    use nix::fcntl::{fcntl, FcntlArg, FdFlag};
    use std::os::fd::AsRawFd;
    let file = std::fs::File::create(path).unwrap();
    fcntl(file.as_fd(), FcntlArg::F_SETFD(FdFlag::empty())).unwrap();
    let fd = file.as_raw_fd();
    (file, fd)
}

#[test]
fn no_descriptor_of_the_caller_reaches_a_container() {
    if !can_run_containers() {
        return;
    }
    isolated("no_descriptor_of_the_caller_reaches_a_container", || {
        let p = Project::new(
            "name: fds
services:
  app:
    image: berth.test/busybox:latest
    command: [sleep, '600']
    stop_signal: SIGKILL
  reaped:
    image: berth.test/busybox:latest
    command: [sleep, '600']
    init: true
    stop_signal: SIGKILL
",
        );
        let marker = p.dir.join("leaked-descriptor-marker");
        let (_file, fd) = leak_descriptor(&marker);
        // `up` (and so every monitor and container) and `exec` inherit it.
        p.ok(&["up", "-d"]);
        for (service, pid) in [("app", "1"), ("reaped", "1"), ("reaped", "$(pidof sleep)")] {
            let (code, text) = p.sh(
                service,
                &format!("ls /proc/{pid}/fd; ls -l /proc/{pid}/fd /proc/self/fd"),
            );
            assert_eq!(code, 0, "{service}: {text}");
            assert!(
                !text.contains("leaked-descriptor-marker"),
                "{service}: {text}"
            );
            let first: Vec<&str> = text
                .split_whitespace()
                .take_while(|t| t.len() < 3)
                .collect();
            assert_eq!(first, ["0", "1", "2"], "{service} {pid}: {text}");
            assert!(
                !text.lines().any(|l| l.contains(&format!(" {fd} -> "))),
                "{service}: fd {fd} visible: {text}"
            );
        }
        p.ok(&["down"]);
    });
}

#[test]
fn berth_code_in_a_container_cannot_be_reopened_through_proc_exe() {
    if !can_run_containers() {
        return;
    }
    isolated(
        "berth_code_in_a_container_cannot_be_reopened_through_proc_exe",
        || {
            // With `init: true`, PID 1 in the container is berth's reaper.
            // SYS_PTRACE lifts the non-dumpable guard, so the read-only
            // mount is what still refuses the write.
            let p = Project::new(
                "name: exe
services:
  reaped:
    image: berth.test/busybox:latest
    command: [sleep, '600']
    init: true
    stop_signal: SIGKILL
  tracer:
    image: berth.test/busybox:latest
    command: [sleep, '600']
    init: true
    cap_add: [SYS_PTRACE]
    stop_signal: SIGKILL
",
            );
            let binary = support::containers::berth_bin();
            let before = std::fs::metadata(&binary).unwrap().modified().unwrap();
            p.ok(&["up", "-d"]);
            // The reaper holds no more capabilities than the program.
            let (code, text) = p.sh("reaped", "grep -E '^Cap(Eff|Prm|Bnd)' /proc/1/status");
            assert_eq!(code, 0, "{text}");
            assert_eq!(text.matches("00000000a80425fb").count(), 3, "{text}");
            // Non-dumpable: a default container cannot even look at it.
            let (code, text) = p.sh("reaped", "readlink /proc/1/exe || echo denied");
            assert_eq!(code, 0, "{text}");
            assert_eq!(text.trim(), "denied", "{text}");
            let (code, text) = p.sh("reaped", ": >> /proc/1/exe");
            assert!(code != 0 && text.contains("denied"), "{text}");
            // Even allowed to look, it cannot write: the reaper's binary is
            // seen through a read-only mount (busy while it runs; after it
            // exits, a descriptor kept on it could not be reopened to write).
            let (code, text) = p.sh("tracer", "readlink /proc/1/exe; : >> /proc/1/exe");
            assert!(code != 0, "{text}");
            let pid = p.ok(&["inspect", "-f", "{{.State.Pid}}", "exe-tracer-1"]);
            let exe = format!("/proc/{}/exe", pid.trim());
            let flags = nix::sys::statvfs::statvfs(exe.as_str()).unwrap().flags();
            assert!(
                flags.contains(nix::sys::statvfs::FsFlags::ST_RDONLY),
                "{exe} is on a writable mount ({flags:?}); the container saw: {text}"
            );
            let write = std::fs::OpenOptions::new().append(true).open(&exe);
            assert!(write.is_err(), "{exe} opened for writing");
            let after = std::fs::metadata(&binary).unwrap().modified().unwrap();
            assert_eq!(before, after, "the berth binary was modified");
            p.ok(&["down"]);
        },
    );
}

#[test]
fn mounts_over_the_kernel_interfaces_are_refused() {
    if !can_run_containers() {
        return;
    }
    isolated("mounts_over_the_kernel_interfaces_are_refused", || {
        let p = Project::new("");
        for (volumes, expected) in [
            ("volumes: ['./x:/']", "volumes[0]: mount target \"/\""),
            ("volumes: ['./x:/proc']", "inside /proc"),
            ("volumes: ['./x:/proc/self/root']", "inside /proc"),
            ("volumes: ['./x:/sys']", "privileged"),
            ("tmpfs: ['/dev']", "privileged"),
        ] {
            p.write(&format!(
                "name: mounts
services:
  app:
    image: berth.test/busybox:latest
    command: [true]
    {volumes}
"
            ));
            let out = p.berth(&["up", "-d"]);
            let err = support::stderr(&out);
            assert!(!out.status.success(), "{volumes} accepted");
            assert!(err.contains(expected), "{volumes}: {err}");
            let runtime = berth_runtime::container::Runtime::with_helper(
                &p.root,
                support::containers::berth_bin(),
            );
            assert!(
                runtime.list().unwrap().is_empty(),
                "{volumes}: made a container"
            );
        }
    });
}

/// A one-layer image: busybox at `/bin/busybox` plus `links` (path, target).
fn image_with_links(links: &[(&str, &str)]) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    builder
        .append_path_with_name("/bin/busybox", "bin/busybox")
        .unwrap();
    for (path, target) in links {
        let mut header = tar::Header::new_gnu();
        header.set_entry_type(tar::EntryType::Symlink);
        header.set_size(0);
        header.set_mode(0o777);
        header.set_mtime(1_700_000_000);
        builder.append_link(&mut header, path, target).unwrap();
    }
    builder.into_inner().unwrap()
}

#[test]
fn an_image_symlink_cannot_point_a_mount_at_the_root_or_move_proc() {
    if !can_run_containers() {
        return;
    }
    isolated(
        "an_image_symlink_cannot_point_a_mount_at_the_root_or_move_proc",
        || {
            let p = Project::new("");
            // /data -> / (a volume there would cover the root), and
            // /proc -> /tmp (procfs and its masks would land elsewhere).
            for (tag, links) in [
                ("berth.test/data-root:1", [("data", "/")]),
                ("berth.test/proc-link:1", [("proc", "/tmp")]),
            ] {
                let layer = image_with_links(&links);
                let archive =
                    support::docker_save(&layer, &["/bin/busybox", "sleep", "600"], &[tag]);
                let path = p.dir.join(format!("{}.tar", tag.replace(['/', ':'], "_")));
                std::fs::write(&path, archive).unwrap();
                p.ok(&["image", "load", "-i", path.to_str().unwrap()]);
            }
            p.write(
                "name: links
services:
  volume:
    image: berth.test/data-root:1
    volumes: [data:/data]
  proc:
    image: berth.test/proc-link:1
volumes:
  data: {}
",
            );
            for (service, expected) in [
                ("volume", "/data resolves to /"),
                ("proc", "/proc is not a directory"),
            ] {
                let out = p.berth(&["up", "-d", service]);
                let err = support::stderr(&out);
                assert!(!out.status.success(), "{service} started: {err}");
                assert!(err.contains(expected), "{service}: {err}");
            }
            p.ok(&["down", "-v"]);
        },
    );
}
