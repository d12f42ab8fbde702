//! The few system calls without a safe wrapper in `nix`: fork in a
//! single-threaded process, pidfd, the controlling terminal, signal
//! dispositions reset before exec, the new mount API (a mount copied from
//! another container's mount namespace, a read-only detached mount of the
//! helper binary), `close_range`, and loading a seccomp filter. Every
//! `unsafe` block of the container code but `bpf.rs`'s lives here, each
//! with its reason.

#![allow(unsafe_code)]

use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd};

use nix::sys::signal::{signal, SigHandler, Signal};
use nix::unistd::{ForkResult, Pid};

/// Which side of a fork we are on.
pub enum Forked {
    Parent(Pid),
    Child,
}

/// Forks. Only called from berth's hidden helper modes (monitor, exec, the
/// container's init), which are single-threaded: the child may run any code.
pub fn fork_single_threaded() -> io::Result<Forked> {
    // SAFETY: the callers are single-threaded processes (hidden modes chosen
    // in `main` before any thread starts), so no lock can be held by another
    // thread at the time of the fork.
    match unsafe { nix::unistd::fork() }? {
        ForkResult::Parent { child } => Ok(Forked::Parent(child)),
        ForkResult::Child => Ok(Forked::Child),
    }
}

/// `pidfd_open(2)`: a descriptor that becomes readable when `pid` exits.
pub fn pidfd_open(pid: i32) -> io::Result<OwnedFd> {
    // SAFETY: a plain system call with integer arguments.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: the kernel returned a new descriptor that nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as i32) })
}

/// `pidfd_send_signal(2)`: signals exactly the process the pidfd refers to.
pub fn pidfd_send_signal(pidfd: BorrowedFd<'_>, signal: i32) -> io::Result<()> {
    // SAFETY: a plain system call; a null siginfo is allowed.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_pidfd_send_signal,
            pidfd.as_raw_fd(),
            signal,
            std::ptr::null::<libc::siginfo_t>(),
            0,
        )
    };
    if rc < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Makes the terminal on `fd` the controlling terminal of this session.
pub fn set_controlling_terminal(fd: BorrowedFd<'_>) -> io::Result<()> {
    // SAFETY: TIOCSCTTY takes an integer argument and the fd is live.
    let rc = unsafe { libc::ioctl(fd.as_raw_fd(), libc::TIOCSCTTY, 0) };
    if rc < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

nix::ioctl_read_bad!(get_window_size, libc::TIOCGWINSZ, libc::winsize);
nix::ioctl_write_ptr_bad!(put_window_size, libc::TIOCSWINSZ, libc::winsize);

/// The window size (rows, columns) of the terminal on `fd`.
pub fn window_size(fd: BorrowedFd<'_>) -> io::Result<(u16, u16)> {
    let mut size = libc::winsize {
        ws_row: 0,
        ws_col: 0,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: TIOCGWINSZ writes one `winsize` into the struct we own; the fd is live.
    unsafe { get_window_size(fd.as_raw_fd(), &mut size) }.map_err(io::Error::from)?;
    Ok((size.ws_row, size.ws_col))
}

/// Sets the window size (rows, columns) of the terminal on `fd`.
pub fn set_window_size(fd: BorrowedFd<'_>, rows: u16, cols: u16) -> io::Result<()> {
    let size = libc::winsize {
        ws_row: rows,
        ws_col: cols,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: TIOCSWINSZ reads one `winsize` from the struct we pass; the fd is live.
    unsafe { put_window_size(fd.as_raw_fd(), &size) }.map_err(io::Error::from)?;
    Ok(())
}

/// Puts every signal back to its default disposition, so the program does
/// not inherit, say, Rust's ignored SIGPIPE across exec.
pub fn reset_signal_dispositions() {
    for sig in Signal::iterator() {
        if matches!(sig, Signal::SIGKILL | Signal::SIGSTOP) {
            continue;
        }
        // SAFETY: installing SIG_DFL runs no code of ours in signal context.
        let _ = unsafe { signal(sig, SigHandler::SigDfl) };
    }
}

/// Ends the process at once, without running destructors or atexit
/// handlers (a forked child must not flush its parent's buffers).
pub fn exit_now(code: i32) -> ! {
    // SAFETY: `_exit` is async-signal-safe and never returns.
    unsafe { libc::_exit(code) }
}

/// Restores the default SIGPIPE disposition (Rust ignores it), so a CLI
/// whose output is piped into `head` ends quietly instead of failing to print.
pub fn default_sigpipe() {
    // SAFETY: installing SIG_DFL runs no code of ours in signal context.
    let _ = unsafe { signal(Signal::SIGPIPE, SigHandler::SigDfl) };
}

/// Ignores SIGPIPE: a write to a closed pipe then fails with EPIPE instead
/// of ending the process (for work that must not stop halfway).
pub fn ignore_sigpipe() {
    // SAFETY: installing SIG_IGN runs no code of ours in signal context.
    let _ = unsafe { signal(Signal::SIGPIPE, SigHandler::SigIgn) };
}

const OPEN_TREE_CLONE: libc::c_uint = 1;
const AT_RECURSIVE: libc::c_uint = 0x8000;
const MOVE_MOUNT_F_EMPTY_PATH: libc::c_uint = 0x4;

fn c_path(path: &std::path::Path) -> io::Result<std::ffi::CString> {
    use std::os::unix::ffi::OsStrExt;
    std::ffi::CString::new(path.as_os_str().as_bytes())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "path contains a NUL byte"))
}

/// `open_tree(2)` with `OPEN_TREE_CLONE | AT_RECURSIVE`: a detached copy of
/// the mount tree at `path` (in the caller's mount namespace), which can be
/// attached in another mount namespace with [`move_mount_to`].
pub fn clone_mount_tree(path: &std::path::Path) -> io::Result<OwnedFd> {
    let path = c_path(path)?;
    let flags = OPEN_TREE_CLONE | AT_RECURSIVE | libc::O_CLOEXEC as libc::c_uint;
    // SAFETY: a system call with a valid NUL-terminated path and integer flags.
    let fd = unsafe { libc::syscall(libc::SYS_open_tree, libc::AT_FDCWD, path.as_ptr(), flags) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: the kernel returned a new descriptor that nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as i32) })
}

/// `move_mount(2)`: attaches the detached tree `tree` on `target`.
pub fn move_mount_to(tree: BorrowedFd<'_>, target: &std::path::Path) -> io::Result<()> {
    let target = c_path(target)?;
    let empty = c"";
    // SAFETY: a system call with a live descriptor, valid NUL-terminated
    // paths and integer flags.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_move_mount,
            tree.as_raw_fd(),
            empty.as_ptr(),
            libc::AT_FDCWD,
            target.as_ptr(),
            MOVE_MOUNT_F_EMPTY_PATH,
        )
    };
    if rc < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

const CLOSE_RANGE_CLOEXEC: libc::c_uint = 1 << 2;

/// `close_range(first, ~0, CLOSE_RANGE_CLOEXEC)`: every descriptor from
/// `first` up is closed at the next exec, whatever opened it (the caller's
/// shell, a library): nothing leaks into a container. Descriptors stay
/// usable until then (the error pipe reports a failed exec).
pub fn close_on_exec_from(first: u32) -> io::Result<()> {
    // SAFETY: a plain system call with integer arguments.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_close_range,
            first as libc::c_uint,
            libc::c_uint::MAX,
            CLOSE_RANGE_CLOEXEC,
        )
    };
    if rc < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// `close_range(first, ~0, 0)`: closes every descriptor from `first` up now.
/// For a process that never execs (the init's reaper).
pub fn close_from(first: u32) -> io::Result<()> {
    // SAFETY: a plain system call with integer arguments; no Rust object
    // owns the descriptors closed (the caller has let go of all above
    // `first`, and only `_exit` follows in the reaper).
    let rc = unsafe {
        libc::syscall(
            libc::SYS_close_range,
            first as libc::c_uint,
            libc::c_uint::MAX,
            0 as libc::c_uint,
        )
    };
    if rc < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

const OPEN_TREE_CLOEXEC: libc::c_uint = libc::O_CLOEXEC as libc::c_uint;
const MOUNT_ATTR_RDONLY: u64 = 0x1;
const MOUNT_ATTR_NOSUID: u64 = 0x2;
const MOUNT_ATTR_NODEV: u64 = 0x4;
const AT_EMPTY_PATH: libc::c_uint = 0x1000;

/// `struct mount_attr` of `mount_setattr(2)`.
#[repr(C)]
struct MountAttr {
    attr_set: u64,
    attr_clr: u64,
    propagation: u64,
    userns_fd: u64,
}

/// A read-only bind mount of the file at `path` that is attached nowhere
/// (`open_tree(OPEN_TREE_CLONE)` + `mount_setattr(MOUNT_ATTR_RDONLY)`): the
/// returned `O_PATH` descriptor is the file, seen through a mount that
/// refuses every write. A program exec'd through it cannot be reopened for
/// writing through `/proc/PID/exe` (EROFS), and no mount table shows it.
pub fn read_only_detached_file(path: &std::path::Path) -> io::Result<OwnedFd> {
    let c_path = c_path(path)?;
    // SAFETY: a system call with a valid NUL-terminated path and integer flags.
    let fd = unsafe {
        libc::syscall(
            libc::SYS_open_tree,
            libc::AT_FDCWD,
            c_path.as_ptr(),
            OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC,
        )
    };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: the kernel returned a new descriptor that nothing else owns.
    let tree = unsafe { OwnedFd::from_raw_fd(fd as i32) };
    let attr = MountAttr {
        attr_set: MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV,
        attr_clr: 0,
        propagation: 0,
        userns_fd: 0,
    };
    let empty = c"";
    // SAFETY: a system call with a live descriptor, an empty NUL-terminated
    // path, and a pointer to a correctly sized `mount_attr` that outlives it.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_mount_setattr,
            tree.as_raw_fd(),
            empty.as_ptr(),
            AT_EMPTY_PATH,
            &attr as *const MountAttr,
            std::mem::size_of::<MountAttr>(),
        )
    };
    if rc < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(tree)
}

/// `seccomp(SECCOMP_SET_MODE_FILTER)`: installs a classic BPF filter on the
/// calling thread, inherited across fork and exec. Needs `no_new_privs` or
/// CAP_SYS_ADMIN.
pub fn seccomp_set_mode_filter(filter: &[libc::sock_filter]) -> io::Result<()> {
    let len = u16::try_from(filter.len())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "seccomp program too long"))?;
    let program = libc::sock_fprog {
        len,
        filter: filter.as_ptr().cast_mut(),
    };
    // SAFETY: `program` points at `len` live instructions for the duration
    // of the call; the kernel copies (and checks) them and keeps no pointer.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_seccomp,
            libc::SECCOMP_SET_MODE_FILTER,
            0,
            &program as *const libc::sock_fprog,
        )
    };
    if rc < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}
