//! Serving the embedded DNS for containers. For each container, a thread
//! that entered its network namespace binds a UDP and a TCP socket on
//! `127.0.0.11` (random port, the same number for both) and installs the
//! port-53 redirect; the sockets are then served by tasks on the serving
//! runtime ([`crate::serving`]; a socket keeps the namespace it was made
//! in). Queries the table does not know are forwarded from the host's
//! namespace, so a loopback upstream such as `127.0.0.53` is reachable.
//! The table is swapped whole on change, so answers follow replicas coming
//! and going at once.
//!
//! Every container's share is bounded: at most [`MAX_FORWARDS`] forwarded
//! UDP queries in flight (more are answered SERVFAIL at once), at most
//! [`MAX_TCP_CONNECTIONS`] TCP connections (more are closed at once), and
//! a TCP query must arrive whole, and its reply be taken, within
//! [`TCP_EXCHANGE_DEADLINE`].

use std::fs::File;
use std::net::{SocketAddr, TcpListener, UdpSocket};
use std::os::fd::AsFd;
use std::path::Path;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use hickory_proto::op::{Message, MessageType, ResponseCode};
use nix::sched::{setns, CloneFlags};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpStream, UdpSocket as AsyncUdpSocket};
use tokio::task::JoinSet;
use tokio::time::{timeout, timeout_at, Instant};

use super::answer::{answer_for, Answer};
use super::table::DnsTable;
use super::EMBEDDED_DNS;
use crate::serving::{self, Alive, Tasks};

/// How long an upstream server has to answer.
pub const FORWARD_TIMEOUT: Duration = Duration::from_secs(2);
/// Forwarded UDP queries in flight per container; more get SERVFAIL.
pub const MAX_FORWARDS: usize = 64;
/// TCP connections per container; more are closed at once.
pub const MAX_TCP_CONNECTIONS: usize = 16;
/// A TCP query must arrive whole within this (from when the server is
/// ready for it), and its reply be taken within this.
pub const TCP_EXCHANGE_DEADLINE: Duration = Duration::from_secs(3);
/// The pause after a failed `accept` (out of fds, say) before the next.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(50);

/// Who is asking: the networks it may see and where its other questions go.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Querier {
    pub container_id: String,
    pub networks: Vec<String>,
    /// The service's `dns:` servers, else the host's.
    pub upstreams: Vec<SocketAddr>,
    /// Every network of the container is internal: never forward.
    pub internal: bool,
}

/// The shared table; serving handles read it on every query.
#[derive(Debug, Clone, Default)]
pub struct DnsServer {
    table: Arc<RwLock<Arc<DnsTable>>>,
}

/// Serving one container; dropping it stops serving.
#[derive(Debug)]
pub struct ServingHandle {
    _tasks: Tasks,
    /// The port the sockets are bound to on 127.0.0.11 in the container.
    pub port: u16,
}

impl DnsServer {
    pub fn new(table: DnsTable) -> DnsServer {
        DnsServer {
            table: Arc::new(RwLock::new(Arc::new(table))),
        }
    }

    /// Replaces the table; the next query sees the new one.
    pub fn update(&self, table: DnsTable) {
        *self.table.write().unwrap() = Arc::new(table);
    }

    /// Starts serving the container whose network namespace is `netns`.
    /// Forwards leave from the calling thread's network namespace.
    pub fn serve_container(&self, netns: &Path, querier: Querier) -> Result<ServingHandle, String> {
        let ns = File::open(netns).map_err(|e| format!("open {}: {e}", netns.display()))?;
        let (udp, tcp) = std::thread::scope(|scope| {
            scope
                .spawn(|| bind_inside(&ns))
                .join()
                .unwrap_or_else(|_| Err("DNS setup thread panicked".into()))
        })?;
        let port = udp.local_addr().map_err(|e| e.to_string())?.port();
        let handle = serving::handle().map_err(|e| format!("DNS serving runtime: {e}"))?;
        let (udp, tcp) = {
            let _runtime = handle.enter();
            let register = |e: std::io::Error| format!("DNS sockets: {e}");
            udp.set_nonblocking(true).map_err(register)?;
            tcp.set_nonblocking(true).map_err(register)?;
            (
                AsyncUdpSocket::from_std(udp).map_err(register)?,
                tokio::net::TcpListener::from_std(tcp).map_err(register)?,
            )
        };
        let querier = Arc::new(querier);
        let mut tasks = Tasks::new(handle);
        let alive = tasks.alive();
        tasks.spawn(serve_udp(
            udp,
            self.table.clone(),
            querier.clone(),
            alive.clone(),
        ));
        tasks.spawn(serve_tcp(tcp, self.table.clone(), querier, alive));
        Ok(ServingHandle {
            _tasks: tasks,
            port,
        })
    }
}

/// In a fresh thread: enter the namespace, bind, redirect port 53.
fn bind_inside(ns: &File) -> Result<(UdpSocket, TcpListener), String> {
    setns(ns.as_fd(), CloneFlags::CLONE_NEWNET)
        .map_err(|e| format!("enter network namespace: {e}"))?;
    for _ in 0..16 {
        let udp =
            UdpSocket::bind((EMBEDDED_DNS, 0)).map_err(|e| format!("bind {EMBEDDED_DNS}: {e}"))?;
        let port = udp.local_addr().map_err(|e| e.to_string())?.port();
        let Ok(tcp) = TcpListener::bind((EMBEDDED_DNS, port)) else {
            continue;
        };
        super::redirect::redirect_to(EMBEDDED_DNS, port)?;
        return Ok((udp, tcp));
    }
    Err("no port free for both UDP and TCP on 127.0.0.11".into())
}

fn current(table: &RwLock<Arc<DnsTable>>) -> Arc<DnsTable> {
    table.read().unwrap().clone()
}

async fn serve_udp(
    socket: AsyncUdpSocket,
    table: Arc<RwLock<Arc<DnsTable>>>,
    querier: Arc<Querier>,
    alive: Alive,
) {
    let socket = Arc::new(socket);
    let mut forwards = JoinSet::new();
    let mut buffer = [0u8; 4096];
    loop {
        let Ok((length, from)) = socket.recv_from(&mut buffer).await else {
            continue;
        };
        let query = &buffer[..length];
        match answer_for(
            &querier.container_id,
            query,
            &current(&table),
            &querier.networks,
            querier.internal,
        ) {
            Answer::Reply(bytes) => {
                let _ = socket.send_to(&bytes, from).await;
            }
            Answer::Forward => {
                while forwards.try_join_next().is_some() {}
                if forwards.len() >= MAX_FORWARDS {
                    let _ = socket.send_to(&server_failure(query), from).await;
                    continue;
                }
                let (socket, query, querier, alive) = (
                    socket.clone(),
                    query.to_vec(),
                    querier.clone(),
                    alive.clone(),
                );
                forwards.spawn(async move {
                    let _alive = alive;
                    let reply = forward(&query, &querier.upstreams).await;
                    let _ = socket.send_to(&reply, from).await;
                });
            }
            Answer::Drop => {}
        }
    }
}

async fn serve_tcp(
    listener: tokio::net::TcpListener,
    table: Arc<RwLock<Arc<DnsTable>>>,
    querier: Arc<Querier>,
    alive: Alive,
) {
    let mut connections = JoinSet::new();
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            tokio::time::sleep(ACCEPT_BACKOFF).await;
            continue;
        };
        while connections.try_join_next().is_some() {}
        if connections.len() >= MAX_TCP_CONNECTIONS {
            continue; // dropped: closed at once
        }
        let (table, querier, alive) = (current(&table), querier.clone(), alive.clone());
        connections.spawn(async move {
            let _alive = alive;
            serve_tcp_connection(stream, &table, &querier).await;
        });
    }
}

async fn serve_tcp_connection(mut stream: TcpStream, table: &DnsTable, querier: &Querier) {
    loop {
        let Ok(Ok(query)) = timeout(TCP_EXCHANGE_DEADLINE, read_framed(&mut stream)).await else {
            return;
        };
        let reply = match answer_for(
            &querier.container_id,
            &query,
            table,
            &querier.networks,
            querier.internal,
        ) {
            Answer::Reply(bytes) => bytes,
            Answer::Forward => forward(&query, &querier.upstreams).await,
            Answer::Drop => return,
        };
        let mut framed = (reply.len() as u16).to_be_bytes().to_vec();
        framed.extend_from_slice(&reply);
        if !matches!(
            timeout(TCP_EXCHANGE_DEADLINE, stream.write_all(&framed)).await,
            Ok(Ok(()))
        ) {
            return;
        }
    }
}

/// One length-prefixed DNS message.
async fn read_framed(stream: &mut TcpStream) -> std::io::Result<Vec<u8>> {
    let mut length = [0u8; 2];
    stream.read_exact(&mut length).await?;
    let mut message = vec![0u8; u16::from_be_bytes(length) as usize];
    stream.read_exact(&mut message).await?;
    Ok(message)
}

/// Asks each upstream in turn (UDP, from the serving runtime's namespace);
/// SERVFAIL when none answers in time. The socket is connected, so an
/// upstream that refuses (ICMP port unreachable) is skipped at once rather
/// than after the timeout.
async fn forward(query: &[u8], upstreams: &[SocketAddr]) -> Vec<u8> {
    for upstream in upstreams {
        let bind: SocketAddr = if upstream.is_ipv4() {
            "0.0.0.0:0".parse().unwrap()
        } else {
            "[::]:0".parse().unwrap()
        };
        let Ok(socket) = AsyncUdpSocket::bind(bind).await else {
            continue;
        };
        if socket.connect(upstream).await.is_err() || socket.send(query).await.is_err() {
            continue;
        }
        let deadline = Instant::now() + FORWARD_TIMEOUT;
        let mut buffer = vec![0u8; 4096];
        while let Ok(Ok(length)) = timeout_at(deadline, socket.recv(&mut buffer)).await {
            // A reply to this query (same ID), not a stray datagram.
            if length >= 2 && query.len() >= 2 && buffer[..2] == query[..2] {
                buffer.truncate(length);
                return buffer;
            }
        }
    }
    server_failure(query)
}

fn server_failure(query: &[u8]) -> Vec<u8> {
    let Ok(request) = Message::from_vec(query) else {
        return Vec::new();
    };
    let mut response = Message::new();
    response
        .set_id(request.id())
        .set_message_type(MessageType::Response)
        .set_recursion_desired(request.recursion_desired())
        .set_recursion_available(true)
        .set_response_code(ResponseCode::ServFail);
    for query in request.queries() {
        response.add_query(query.clone());
    }
    response.to_vec().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    //! The server's bounds, from a thread in a fresh network namespace
    //! playing the container (root only; skipped otherwise).

    use super::*;
    use std::io::{ErrorKind, Read, Write};
    use std::net::Ipv4Addr;
    use std::time::Instant;

    use hickory_proto::op::Query;
    use hickory_proto::rr::{Name, RData, RecordType};

    use crate::dns::DnsRecord;

    /// Far above what the serving runtime needs, far below a thread per query.
    use crate::test_support::threads;

    const THREAD_BOUND: usize = 64;

    fn is_root() -> bool {
        nix::unistd::Uid::effective().is_root()
    }

    fn query(id: u16, name: &str) -> Vec<u8> {
        let mut message = Message::new();
        message
            .set_id(id)
            .set_recursion_desired(true)
            .add_query(Query::query(Name::from_ascii(name).unwrap(), RecordType::A));
        message.to_vec().unwrap()
    }

    fn querier(upstreams: Vec<SocketAddr>) -> Querier {
        Querier {
            container_id: "client".into(),
            networks: vec!["front".into()],
            internal: upstreams.is_empty(),
            upstreams,
        }
    }

    /// Runs `client` on a thread in a fresh network namespace served by a
    /// server that knows `web` (10.0.0.2); forwards leave from this one.
    fn in_served_namespace<T: Send + 'static>(
        querier: Querier,
        client: impl FnOnce() -> T + Send + 'static,
    ) -> T {
        let server = DnsServer::new(DnsTable::new(&[DnsRecord {
            network: "front".into(),
            names: vec!["web".into()],
            address: Ipv4Addr::new(10, 0, 0, 2),
            container_id: "web".into(),
        }]));
        let (ns_tx, ns_rx) = std::sync::mpsc::channel();
        let (go_tx, go_rx) = std::sync::mpsc::channel::<()>();
        let thread = std::thread::spawn(move || {
            nix::sched::unshare(CloneFlags::CLONE_NEWNET).unwrap();
            crate::container::bring_loopback_up().unwrap();
            ns_tx
                .send(format!("/proc/self/task/{}/ns/net", nix::unistd::gettid()))
                .unwrap();
            go_rx.recv().unwrap();
            client()
        });
        let netns: String = ns_rx.recv().unwrap();
        let serving = server.serve_container(Path::new(&netns), querier).unwrap();
        go_tx.send(()).unwrap();
        let result = thread.join().unwrap();
        drop(serving);
        result
    }

    /// The A records of the reply to query `id`, waiting up to 2 s.
    fn answers_to(socket: &UdpSocket, id: u16) -> Vec<Ipv4Addr> {
        socket
            .set_read_timeout(Some(Duration::from_secs(2)))
            .unwrap();
        let mut buffer = [0u8; 4096];
        while let Ok(n) = socket.recv(&mut buffer) {
            let Ok(reply) = Message::from_vec(&buffer[..n]) else {
                continue;
            };
            if reply.id() == id {
                return reply
                    .answers()
                    .iter()
                    .filter_map(|record| match record.data() {
                        RData::A(a) => Some(a.0),
                        _ => None,
                    })
                    .collect();
            }
        }
        Vec::new()
    }

    #[test]
    fn forwards_to_a_silent_upstream_take_no_thread_each() {
        if !is_root() {
            return;
        }
        let silent = UdpSocket::bind("127.0.0.1:0").unwrap();
        let upstream = silent.local_addr().unwrap();
        let (peak, quick_replies, web) = in_served_namespace(querier(vec![upstream]), || {
            let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
            socket.connect(("127.0.0.11", 53)).unwrap();
            let mut peak = threads();
            for i in 0..1000u16 {
                socket
                    .send(&query(i, &format!("n{i}.flood.test.")))
                    .unwrap();
                if i % 50 == 49 {
                    peak = peak.max(threads());
                    std::thread::sleep(Duration::from_millis(1));
                }
            }
            // What is over the cap is answered (SERVFAIL) at once.
            socket
                .set_read_timeout(Some(Duration::from_millis(500)))
                .unwrap();
            let mut buffer = [0u8; 512];
            let mut quick_replies = 0;
            while socket.recv(&mut buffer).is_ok() {
                quick_replies += 1;
            }
            peak = peak.max(threads());
            socket.send(&query(0xbeef, "web.")).unwrap();
            (peak, quick_replies, answers_to(&socket, 0xbeef))
        });
        assert!(peak < THREAD_BOUND, "{peak} threads");
        // Many more than that were sent; the client's receive buffer
        // holds a few hundred.
        assert!(quick_replies >= 100, "{quick_replies} quick replies");
        assert_eq!(web, vec![Ipv4Addr::new(10, 0, 0, 2)]);
    }

    /// Whether the server closes `stream` within `within`, while the
    /// client sends one byte every 200 ms.
    fn cut_off_while_dribbling(stream: &mut std::net::TcpStream, within: Duration) -> bool {
        stream
            .set_read_timeout(Some(Duration::from_millis(200)))
            .unwrap();
        let started = Instant::now();
        let mut buffer = [0u8; 64];
        while started.elapsed() < within {
            if stream.write_all(&[0]).is_err() {
                return true;
            }
            match stream.read(&mut buffer) {
                Ok(0) => return true,
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
                _ => return true,
            }
        }
        false
    }

    #[test]
    fn a_tcp_client_that_dribbles_is_cut_off_at_the_deadline() {
        if !is_root() {
            return;
        }
        let (cut, took) = in_served_namespace(querier(Vec::new()), || {
            let mut stream = std::net::TcpStream::connect(("127.0.0.11", 53)).unwrap();
            // The longest message, then a byte at a time.
            stream.write_all(&[0xff, 0xff]).unwrap();
            let started = Instant::now();
            let cut = cut_off_while_dribbling(&mut stream, Duration::from_secs(10));
            (cut, started.elapsed())
        });
        assert!(cut, "still open after {took:?}");
        assert!(
            took < TCP_EXCHANGE_DEADLINE + Duration::from_secs(1),
            "{took:?}"
        );
    }

    #[test]
    fn tcp_connections_past_the_cap_are_closed_and_slots_come_back() {
        if !is_root() {
            return;
        }
        let (refused, answered) = in_served_namespace(querier(Vec::new()), || {
            let connect = || std::net::TcpStream::connect(("127.0.0.11", 53)).unwrap();
            let ask = |stream: &mut std::net::TcpStream| {
                let message = query(7, "web.");
                let mut framed = (message.len() as u16).to_be_bytes().to_vec();
                framed.extend_from_slice(&message);
                stream
                    .set_read_timeout(Some(Duration::from_secs(2)))
                    .unwrap();
                let mut length = [0u8; 2];
                stream.write_all(&framed).is_ok() && stream.read_exact(&mut length).is_ok()
            };
            let held: Vec<_> = (0..MAX_TCP_CONNECTIONS).map(|_| connect()).collect();
            std::thread::sleep(Duration::from_millis(200));
            let refused = !ask(&mut connect());
            // The held ones pass their deadline; a new client is served.
            std::thread::sleep(TCP_EXCHANGE_DEADLINE + Duration::from_millis(500));
            drop(held);
            (refused, ask(&mut connect()))
        });
        assert!(refused, "a connection past the cap was served");
        assert!(answered, "no slot came back");
    }
}
