//! Unix sockets at paths of any length. `sun_path` holds 108 bytes, and a
//! container directory under a deep state root is longer than that; the
//! socket is then reached through `/proc/self/fd/N/NAME`, where `N` is an
//! open handle on its directory, which is always short.

use std::fs::File;
use std::io;
use std::os::fd::AsRawFd;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};

/// The longest path `sun_path` takes (with its terminating NUL).
const MAX_PATH: usize = 107;

/// Runs `f` with a path to `path` short enough for a socket address.
fn with_short_path<T>(path: &Path, f: impl FnOnce(&Path) -> io::Result<T>) -> io::Result<T> {
    if path.as_os_str().len() <= MAX_PATH {
        return f(path);
    }
    let (Some(parent), Some(name)) = (path.parent(), path.file_name()) else {
        return f(path);
    };
    let dir = File::open(parent)?;
    let short = PathBuf::from(format!("/proc/self/fd/{}", dir.as_raw_fd())).join(name);
    let result = f(&short);
    drop(dir);
    result
}

/// Binds a listener at `path`, replacing a stale socket file.
pub fn bind(path: &Path) -> io::Result<UnixListener> {
    let _ = std::fs::remove_file(path);
    with_short_path(path, |p| UnixListener::bind(p))
}

/// Connects to the listener at `path`.
pub fn connect(path: &Path) -> io::Result<UnixStream> {
    with_short_path(path, |p| UnixStream::connect(p))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};

    #[test]
    fn long_paths_bind_and_connect() {
        let dir = tempfile::tempdir().unwrap();
        let deep = dir.path().join("d".repeat(60)).join("e".repeat(60));
        std::fs::create_dir_all(&deep).unwrap();
        let path = deep.join("attach.sock");
        assert!(path.as_os_str().len() > MAX_PATH);
        assert!(UnixListener::bind(&path).is_err(), "too long for sun_path");
        let listener = bind(&path).unwrap();
        let mut client = connect(&path).unwrap();
        client.write_all(b"hi").unwrap();
        drop(client);
        let (mut server, _) = listener.accept().unwrap();
        let mut got = String::new();
        server.read_to_string(&mut got).unwrap();
        assert_eq!(got, "hi");
    }
}
