//! TCP relay: accept on the host, connect to the container, copy both ways
//! (half-close kept). At most [`Limits::tcp_connections`] at once per port
//! (more are closed on arrival); one idle past [`Limits::tcp_idle`] in both
//! directions is closed.

use std::io;
use std::net::SocketAddr;
use std::sync::Mutex;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;
use tokio::time::{timeout, Instant};

use super::Limits;
use crate::serving::Alive;

const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Each direction's buffer.
const BUFFER: usize = 16 * 1024;
/// The pause after a failed `accept` (out of fds, say) before the next.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(50);

pub async fn serve(listener: TcpListener, target: SocketAddr, limits: Limits, alive: Alive) {
    let mut connections = JoinSet::new();
    loop {
        let Ok((client, _)) = listener.accept().await else {
            tokio::time::sleep(ACCEPT_BACKOFF).await;
            continue;
        };
        while connections.try_join_next().is_some() {}
        if connections.len() >= limits.tcp_connections {
            continue; // dropped: closed at once
        }
        let alive = alive.clone();
        connections.spawn(async move {
            let _alive = alive;
            relay(client, target, limits.tcp_idle).await;
        });
    }
}

async fn relay(mut client: TcpStream, target: SocketAddr, idle: Duration) {
    let Ok(Ok(mut upstream)) = timeout(CONNECT_TIMEOUT, TcpStream::connect(target)).await else {
        return;
    };
    let _ = client.set_nodelay(true);
    let _ = upstream.set_nodelay(true);
    let activity = Activity::new(idle);
    let (client_read, client_write) = client.split();
    let (upstream_read, upstream_write) = upstream.split();
    // An idle timeout in either direction ends both.
    let _ = tokio::try_join!(
        copy(client_read, upstream_write, &activity),
        copy(upstream_read, client_write, &activity)
    );
}

/// When a byte last went either way.
struct Activity {
    last: Mutex<Instant>,
    idle: Duration,
}

impl Activity {
    fn new(idle: Duration) -> Activity {
        Activity {
            last: Mutex::new(Instant::now()),
            idle,
        }
    }

    fn touch(&self) {
        *self.last.lock().unwrap() = Instant::now();
    }

    /// How long until the connection counts as idle.
    fn remaining(&self) -> Duration {
        self.idle
            .saturating_sub(self.last.lock().unwrap().elapsed())
    }
}

/// Copies until end of stream (or an error), then half-closes the other
/// side. Fails only when the connection has been idle for too long.
async fn copy(
    mut from: impl AsyncRead + Unpin,
    mut to: impl AsyncWrite + Unpin,
    activity: &Activity,
) -> io::Result<()> {
    let mut buffer = vec![0u8; BUFFER];
    loop {
        let remaining = activity.remaining();
        if remaining.is_zero() {
            return Err(io::ErrorKind::TimedOut.into());
        }
        let n = match timeout(remaining, from.read(&mut buffer)).await {
            Err(_) => continue, // the other direction may have been busy
            Ok(Ok(0) | Err(_)) => break,
            Ok(Ok(n)) => n,
        };
        activity.touch();
        match timeout(activity.idle, to.write_all(&buffer[..n])).await {
            Err(_) => return Err(io::ErrorKind::TimedOut.into()),
            Ok(Err(_)) => break,
            Ok(Ok(())) => activity.touch(),
        }
    }
    let _ = to.shutdown().await;
    Ok(())
}
