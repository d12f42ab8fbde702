//! Serving the embedded DNS for containers. For each container, a thread
//! that entered its network namespace binds a UDP and a TCP socket on
//! `127.0.0.11` (random port, the same number for both) and installs the
//! port-53 redirect; the sockets are then served from ordinary threads (a
//! socket keeps the namespace it was made in). Queries the table does not
//! know are forwarded from the host's namespace, so a loopback upstream such
//! as `127.0.0.53` is reachable. The table is swapped whole on change, so
//! answers follow replicas coming and going at once.

use std::fs::File;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::os::fd::AsFd;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};
use std::thread::JoinHandle;
use std::time::Duration;

use hickory_proto::op::{Message, MessageType, ResponseCode};
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sched::{setns, CloneFlags};

use super::answer::{answer_for, Answer};
use super::table::DnsTable;
use super::EMBEDDED_DNS;

/// How long an upstream server has to answer.
pub const FORWARD_TIMEOUT: Duration = Duration::from_secs(2);
/// How often serving threads look at their stop flag.
const STOP_CHECK: Duration = Duration::from_millis(100);

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
    stop: Arc<AtomicBool>,
    threads: Vec<JoinHandle<()>>,
    /// The port the sockets are bound to on 127.0.0.11 in the container.
    pub port: u16,
}

impl Drop for ServingHandle {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        for thread in self.threads.drain(..) {
            let _ = thread.join();
        }
    }
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
    pub fn serve_container(&self, netns: &Path, querier: Querier) -> Result<ServingHandle, String> {
        let ns = File::open(netns).map_err(|e| format!("open {}: {e}", netns.display()))?;
        let (udp, tcp) = std::thread::scope(|scope| {
            scope
                .spawn(|| bind_inside(&ns))
                .join()
                .unwrap_or_else(|_| Err("DNS setup thread panicked".into()))
        })?;
        let port = udp.local_addr().map_err(|e| e.to_string())?.port();
        udp.set_read_timeout(Some(STOP_CHECK))
            .map_err(|e| e.to_string())?;
        let stop = Arc::new(AtomicBool::new(false));
        let querier = Arc::new(querier);
        let udp_thread = {
            let (stop, table, querier) = (stop.clone(), self.table.clone(), querier.clone());
            std::thread::spawn(move || serve_udp(udp, &table, &querier, &stop))
        };
        let tcp_thread = {
            let (stop, table, querier) = (stop.clone(), self.table.clone(), querier.clone());
            std::thread::spawn(move || serve_tcp(tcp, &table, &querier, &stop))
        };
        Ok(ServingHandle {
            stop,
            threads: vec![udp_thread, tcp_thread],
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

fn serve_udp(
    socket: UdpSocket,
    table: &RwLock<Arc<DnsTable>>,
    querier: &Arc<Querier>,
    stop: &AtomicBool,
) {
    let mut buffer = [0u8; 4096];
    while !stop.load(Ordering::SeqCst) {
        let Ok((length, from)) = socket.recv_from(&mut buffer) else {
            continue;
        };
        let query = &buffer[..length];
        match answer_for(
            &querier.container_id,
            query,
            &current(table),
            &querier.networks,
            querier.internal,
        ) {
            Answer::Reply(bytes) => {
                let _ = socket.send_to(&bytes, from);
            }
            Answer::Forward => {
                let (Ok(reply_socket), query, querier) =
                    (socket.try_clone(), query.to_vec(), querier.clone())
                else {
                    continue;
                };
                std::thread::spawn(move || {
                    let reply = forward(&query, &querier.upstreams);
                    let _ = reply_socket.send_to(&reply, from);
                });
            }
            Answer::Drop => {}
        }
    }
}

fn serve_tcp(
    listener: TcpListener,
    table: &RwLock<Arc<DnsTable>>,
    querier: &Arc<Querier>,
    stop: &AtomicBool,
) {
    while !stop.load(Ordering::SeqCst) {
        let mut fds = [PollFd::new(listener.as_fd(), PollFlags::POLLIN)];
        let millis = STOP_CHECK.as_millis() as u16;
        if !matches!(poll(&mut fds, PollTimeout::from(millis)), Ok(n) if n > 0) {
            continue;
        }
        let Ok((stream, _)) = listener.accept() else {
            continue;
        };
        let table = current(table);
        let querier = querier.clone();
        std::thread::spawn(move || serve_tcp_connection(stream, &table, &querier));
    }
}

fn serve_tcp_connection(mut stream: TcpStream, table: &DnsTable, querier: &Querier) {
    let _ = stream.set_read_timeout(Some(FORWARD_TIMEOUT));
    loop {
        let mut length = [0u8; 2];
        if stream.read_exact(&mut length).is_err() {
            return;
        }
        let mut query = vec![0u8; u16::from_be_bytes(length) as usize];
        if stream.read_exact(&mut query).is_err() {
            return;
        }
        let reply = match answer_for(
            &querier.container_id,
            &query,
            table,
            &querier.networks,
            querier.internal,
        ) {
            Answer::Reply(bytes) => bytes,
            Answer::Forward => forward(&query, &querier.upstreams),
            Answer::Drop => return,
        };
        let mut framed = (reply.len() as u16).to_be_bytes().to_vec();
        framed.extend_from_slice(&reply);
        if stream.write_all(&framed).is_err() {
            return;
        }
    }
}

/// Asks each upstream in turn (UDP, from the host's namespace); SERVFAIL
/// when none answers in time. The socket is connected, so an upstream
/// that refuses (ICMP port unreachable) is skipped at once rather than
/// after the timeout.
fn forward(query: &[u8], upstreams: &[SocketAddr]) -> Vec<u8> {
    for upstream in upstreams {
        let bind: SocketAddr = if upstream.is_ipv4() {
            "0.0.0.0:0".parse().unwrap()
        } else {
            "[::]:0".parse().unwrap()
        };
        let Ok(socket) = UdpSocket::bind(bind) else {
            continue;
        };
        let _ = socket.set_read_timeout(Some(FORWARD_TIMEOUT));
        if socket.connect(upstream).is_err() || socket.send(query).is_err() {
            continue;
        }
        let mut buffer = vec![0u8; 4096];
        while let Ok(length) = socket.recv(&mut buffer) {
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
