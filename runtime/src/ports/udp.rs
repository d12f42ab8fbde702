//! UDP relay: one upstream socket per client address, replies sent back to
//! that client. At most [`Limits::udp_flows`] flows per port (a new client
//! evicts the least recently used flow); a flow without traffic for
//! [`Limits::udp_idle`] is dropped.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::net::UdpSocket;
use tokio::task::{AbortHandle, JoinSet};
use tokio::time::Instant;

use super::Limits;
use crate::serving::Alive;

/// How often idle flows are looked for.
const SWEEP: Duration = Duration::from_secs(1);
/// The largest UDP payload.
const DATAGRAM: usize = 65536;

/// One client's flow; dropping it stops relaying its replies.
struct Flow {
    upstream: Arc<UdpSocket>,
    last: Arc<Mutex<Instant>>,
    replies: AbortHandle,
}

impl Flow {
    fn touch(&self) {
        *self.last.lock().unwrap() = Instant::now();
    }

    fn last(&self) -> Instant {
        *self.last.lock().unwrap()
    }
}

impl Drop for Flow {
    fn drop(&mut self) {
        self.replies.abort();
    }
}

enum Event {
    Sweep,
    Datagram(std::io::Result<(usize, SocketAddr)>),
}

pub async fn serve(socket: UdpSocket, target: SocketAddr, limits: Limits, alive: Alive) {
    let socket = Arc::new(socket);
    let mut flows: HashMap<SocketAddr, Flow> = HashMap::new();
    let mut replies = JoinSet::new();
    let mut sweep = tokio::time::interval(SWEEP);
    let mut buffer = vec![0u8; DATAGRAM];
    loop {
        let event = tokio::select! {
            _ = sweep.tick() => Event::Sweep,
            received = socket.recv_from(&mut buffer) => Event::Datagram(received),
        };
        let (n, client) = match event {
            Event::Sweep => {
                flows.retain(|_, flow| flow.last().elapsed() < limits.udp_idle);
                while replies.try_join_next().is_some() {}
                continue;
            }
            Event::Datagram(Ok(received)) => received,
            Event::Datagram(Err(_)) => continue,
        };
        if !flows.contains_key(&client) {
            if flows.len() >= limits.udp_flows {
                evict_least_recent(&mut flows);
            }
            while replies.try_join_next().is_some() {}
            let Ok(flow) = open(&socket, client, target, &mut replies, &alive) else {
                continue;
            };
            flows.insert(client, flow);
        }
        if let Some(flow) = flows.get(&client) {
            flow.touch();
            let _ = flow.upstream.send(&buffer[..n]).await;
        }
    }
}

fn evict_least_recent(flows: &mut HashMap<SocketAddr, Flow>) {
    let oldest = flows
        .iter()
        .min_by_key(|(_, flow)| flow.last())
        .map(|(client, _)| *client);
    if let Some(client) = oldest {
        flows.remove(&client);
    }
}

/// A socket connected to the container for `client`, and a task sending
/// what comes back on it to `client`.
fn open(
    socket: &Arc<UdpSocket>,
    client: SocketAddr,
    target: SocketAddr,
    replies: &mut JoinSet<()>,
    alive: &Alive,
) -> std::io::Result<Flow> {
    let any: SocketAddr = if target.is_ipv4() {
        "0.0.0.0:0"
    } else {
        "[::]:0"
    }
    .parse()
    .unwrap();
    let upstream = std::net::UdpSocket::bind(any)?;
    upstream.connect(target)?;
    upstream.set_nonblocking(true)?;
    let upstream = Arc::new(UdpSocket::from_std(upstream)?);
    let last = Arc::new(Mutex::new(Instant::now()));
    let task = {
        let (upstream, socket, last, alive) = (
            upstream.clone(),
            socket.clone(),
            last.clone(),
            alive.clone(),
        );
        async move {
            let _alive = alive;
            let mut buffer = vec![0u8; DATAGRAM];
            loop {
                if let Ok(n) = upstream.recv(&mut buffer).await {
                    let _ = socket.send_to(&buffer[..n], client).await;
                    *last.lock().unwrap() = Instant::now();
                }
            }
        }
    };
    Ok(Flow {
        upstream,
        last,
        replies: replies.spawn(task),
    })
}
