//! Verdicts of compiled programs: a forked child loads the program and makes
//! raw system calls, and sends their errnos back through a pipe. Test code
//! only; its `unsafe` is fork, raw system calls and `_exit` in that child,
//! which allocates nothing after the fork.

#![allow(unsafe_code)]

use std::io::Read;
use std::os::fd::AsRawFd;

use nix::sys::wait::{waitpid, WaitStatus};
use nix::unistd::Pid;

use super::*;

/// One raw system call: its number and arguments.
#[derive(Clone, Copy)]
struct Call {
    name: &'static str,
    number: libc::c_long,
    args: [u64; 5],
}

const fn call(name: &'static str, number: libc::c_long, args: [u64; 5]) -> Call {
    Call { name, number, args }
}

const MAX_CALLS: usize = 32;
const AF_VSOCK: u64 = 40;
const ADDR_NO_RANDOMIZE: u64 = 0x0040000;
const KEY_SPEC_SESSION_KEYRING: i64 = -3;
const BPF_PROG_LOAD: u64 = 5;

/// The calls probed, in order; `unshare(CLONE_NEWUSER)` last, since it
/// succeeds when allowed. `clone` is called with flags the kernel refuses
/// (EINVAL) after seccomp has let them through, so no process is made.
fn probes() -> Vec<Call> {
    let newuser = libc::CLONE_NEWUSER as u64;
    vec![
        call(
            "keyctl",
            libc::SYS_keyctl,
            [0, KEY_SPEC_SESSION_KEYRING as u64, 0, 0, 0],
        ),
        call("bpf", libc::SYS_bpf, [BPF_PROG_LOAD, 0, 0, 0, 0]),
        call(
            "perf_event_open",
            libc::SYS_perf_event_open,
            [0, 0, u64::MAX, u64::MAX, 0],
        ),
        call("userfaultfd", libc::SYS_userfaultfd, [0; 5]),
        call("io_uring_setup", libc::SYS_io_uring_setup, [0; 5]),
        call(
            "clone(CLONE_NEWUSER)",
            libc::SYS_clone,
            [newuser | libc::CLONE_FS as u64, 0, 0, 0, 0],
        ),
        call(
            "clone(CLONE_SIGHAND)",
            libc::SYS_clone,
            [libc::CLONE_SIGHAND as u64, 0, 0, 0, 0],
        ),
        call("clone3", libc::SYS_clone3, [0; 5]),
        call(
            "personality(ADDR_NO_RANDOMIZE)",
            libc::SYS_personality,
            [ADDR_NO_RANDOMIZE, 0, 0, 0, 0],
        ),
        call(
            "personality(query)",
            libc::SYS_personality,
            [0xffff_ffff, 0, 0, 0, 0],
        ),
        call(
            "socket(AF_VSOCK)",
            libc::SYS_socket,
            [AF_VSOCK, libc::SOCK_STREAM as u64, 0, 0, 0],
        ),
        call(
            "socket(AF_UNIX)",
            libc::SYS_socket,
            [libc::AF_UNIX as u64, libc::SOCK_STREAM as u64, 0, 0, 0],
        ),
        call(
            "unshare(CLONE_NEWUSER)",
            libc::SYS_unshare,
            [newuser, 0, 0, 0, 0],
        ),
    ]
}

/// Each call's errno (0: it succeeded) under `program` (none: no filter).
fn verdicts(program: Option<&Program>, calls: &[Call]) -> Vec<(&'static str, i32)> {
    assert!(calls.len() <= MAX_CALLS);
    let instructions = program.map(Program::instructions);
    let (reader, writer) = nix::unistd::pipe().unwrap();
    // SAFETY: the child only makes system calls on memory prepared before
    // the fork, then `_exit`s; it takes no lock and allocates nothing.
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0, "fork failed");
    if pid == 0 {
        let mut results = [0i32; MAX_CALLS];
        // SAFETY: prctl with integer arguments.
        unsafe { libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) };
        if let Some(instructions) = &instructions {
            if sys::seccomp_set_mode_filter(instructions).is_err() {
                // SAFETY: `_exit` never returns and runs no handlers.
                unsafe { libc::_exit(2) };
            }
        }
        for (slot, call) in results.iter_mut().zip(calls) {
            let [a, b, c, d, e] = call.args;
            // SAFETY: every probe passes null pointers or plain integers,
            // which the kernel checks; none maps or frees our memory.
            let rc = unsafe { libc::syscall(call.number, a, b, c, d, e) };
            // SAFETY: errno is thread-local and valid after a failed call.
            *slot = if rc < 0 {
                unsafe { *libc::__errno_location() }
            } else {
                0
            };
        }
        let bytes = calls.len() * std::mem::size_of::<i32>();
        // SAFETY: writes `bytes` bytes of `results`, which holds at least that many.
        unsafe {
            libc::write(writer.as_raw_fd(), results.as_ptr().cast(), bytes);
            libc::_exit(0)
        };
    }
    drop(writer);
    let mut bytes = Vec::new();
    std::fs::File::from(reader).read_to_end(&mut bytes).unwrap();
    let status = waitpid(Pid::from_raw(pid), None).unwrap();
    assert_eq!(status, WaitStatus::Exited(Pid::from_raw(pid), 0));
    let errnos: Vec<i32> = bytes
        .chunks_exact(4)
        .map(|b| i32::from_ne_bytes([b[0], b[1], b[2], b[3]]))
        .collect();
    calls.iter().map(|c| c.name).zip(errnos).collect()
}

fn errno_of(results: &[(&str, i32)], name: &str) -> i32 {
    results.iter().find(|(n, _)| *n == name).unwrap().1
}

fn program(cap_add: &[&str]) -> Program {
    program_for(&Security {
        cap_add: cap_add.iter().map(|c| c.to_string()).collect(),
        ..Security::default()
    })
    .unwrap()
    .unwrap()
}

fn can_filter() -> bool {
    nix::unistd::geteuid().is_root()
        && std::fs::read_to_string("/proc/self/status").is_ok_and(|s| s.contains("Seccomp:"))
}

#[test]
fn default_profile_denies_what_docker_denies() {
    if !can_filter() {
        return;
    }
    let calls = probes();
    let filtered = verdicts(Some(&program(&[])), &calls);
    let eperm = libc::EPERM;
    for name in [
        "keyctl",
        "bpf",
        "perf_event_open",
        "userfaultfd",
        "io_uring_setup",
        "clone(CLONE_NEWUSER)",
        "personality(ADDR_NO_RANDOMIZE)",
        "socket(AF_VSOCK)",
        "unshare(CLONE_NEWUSER)",
    ] {
        assert_eq!(errno_of(&filtered, name), eperm, "{name}: {filtered:?}");
    }
    assert_eq!(errno_of(&filtered, "clone3"), libc::ENOSYS, "{filtered:?}");
    // Let through to the kernel, which decides.
    assert_eq!(errno_of(&filtered, "clone(CLONE_SIGHAND)"), libc::EINVAL);
    assert_eq!(errno_of(&filtered, "personality(query)"), 0);
    assert_eq!(errno_of(&filtered, "socket(AF_UNIX)"), 0);

    // Without a filter the same calls get the kernel's own answers.
    let unfiltered = verdicts(None, &calls);
    for name in [
        "bpf",
        "perf_event_open",
        "clone(CLONE_NEWUSER)",
        "clone3",
        "personality(ADDR_NO_RANDOMIZE)",
        "socket(AF_VSOCK)",
        "unshare(CLONE_NEWUSER)",
    ] {
        assert_ne!(
            errno_of(&unfiltered, name),
            errno_of(&filtered, name),
            "{name}: {unfiltered:?}"
        );
    }
}

#[test]
fn capabilities_enable_their_system_calls() {
    if !can_filter() {
        return;
    }
    let calls = probes();
    let admin = verdicts(Some(&program(&["SYS_ADMIN"])), &calls);
    assert_eq!(errno_of(&admin, "clone(CLONE_NEWUSER)"), libc::EINVAL);
    assert_ne!(errno_of(&admin, "clone3"), libc::ENOSYS);
    assert_ne!(errno_of(&admin, "bpf"), libc::EPERM);
    assert_ne!(errno_of(&admin, "perf_event_open"), libc::EPERM);
    assert_eq!(errno_of(&admin, "unshare(CLONE_NEWUSER)"), 0);
    // Still denied: no capability enables these.
    assert_eq!(errno_of(&admin, "keyctl"), libc::EPERM);
    assert_eq!(errno_of(&admin, "socket(AF_VSOCK)"), libc::EPERM);

    let perfmon = verdicts(Some(&program(&["PERFMON", "BPF"])), &calls);
    assert_ne!(errno_of(&perfmon, "perf_event_open"), libc::EPERM);
    assert_ne!(errno_of(&perfmon, "bpf"), libc::EPERM);
    assert_eq!(errno_of(&perfmon, "clone(CLONE_NEWUSER)"), libc::EPERM);
}

#[test]
fn custom_profile_verdicts() {
    if !can_filter() {
        return;
    }
    let custom = program_for(&Security {
        seccomp: Seccomp::Profile {
            source: "test".into(),
            json: r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[
                {"names":["socket"],"action":"SCMP_ACT_ERRNO","errnoRet":13,
                 "args":[{"index":0,"value":1,"op":"SCMP_CMP_EQ"}]},
                {"names":["keyctl"],"action":"SCMP_ACT_ERRNO"}]}"#
                .into(),
        },
        ..Security::default()
    })
    .unwrap()
    .unwrap();
    let results = verdicts(Some(&custom), &probes());
    assert_eq!(errno_of(&results, "socket(AF_UNIX)"), libc::EACCES);
    assert_ne!(errno_of(&results, "socket(AF_VSOCK)"), libc::EACCES);
    assert_eq!(errno_of(&results, "keyctl"), libc::EPERM);
    assert_eq!(errno_of(&results, "unshare(CLONE_NEWUSER)"), 0);
}
