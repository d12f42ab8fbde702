//! TCP relay: accept on the host, connect to the container, copy both ways.

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::os::fd::AsFd;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use nix::poll::{poll, PollFd, PollFlags, PollTimeout};

const STOP_CHECK_MS: u16 = 100;
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

pub fn serve(listener: TcpListener, target: SocketAddr, stop: &AtomicBool) {
    while !stop.load(Ordering::SeqCst) {
        let mut fds = [PollFd::new(listener.as_fd(), PollFlags::POLLIN)];
        if !matches!(poll(&mut fds, PollTimeout::from(STOP_CHECK_MS)), Ok(n) if n > 0) {
            continue;
        }
        let Ok((client, _)) = listener.accept() else {
            continue;
        };
        std::thread::spawn(move || relay(client, target));
    }
}

fn relay(client: TcpStream, target: SocketAddr) {
    let Ok(upstream) = TcpStream::connect_timeout(&target, CONNECT_TIMEOUT) else {
        return;
    };
    let _ = client.set_nodelay(true);
    let _ = upstream.set_nodelay(true);
    let (Ok(client_read), Ok(upstream_read)) = (client.try_clone(), upstream.try_clone()) else {
        return;
    };
    let forward = std::thread::spawn(move || copy(client_read, upstream));
    copy(upstream_read, client);
    let _ = forward.join();
}

/// Copies until end of stream, then half-closes the other side.
fn copy(mut from: TcpStream, mut to: TcpStream) {
    let mut buffer = vec![0u8; 64 * 1024];
    loop {
        match from.read(&mut buffer) {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                if to.write_all(&buffer[..n]).is_err() {
                    break;
                }
            }
        }
    }
    let _ = to.shutdown(Shutdown::Write);
}
