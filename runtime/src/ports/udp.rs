//! UDP relay: one upstream socket per client address, replies sent back to
//! that client, flows dropped after a minute without traffic.

use std::collections::HashMap;
use std::net::{SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const IDLE: Duration = Duration::from_secs(60);
const STOP_CHECK: Duration = Duration::from_millis(100);

struct Flow {
    upstream: UdpSocket,
    last: Instant,
}

pub fn serve(socket: UdpSocket, target: SocketAddr, stop: &AtomicBool) {
    let _ = socket.set_read_timeout(Some(STOP_CHECK));
    let flows: Arc<Mutex<HashMap<SocketAddr, Flow>>> = Arc::default();
    let mut buffer = vec![0u8; 65536];
    while !stop.load(Ordering::SeqCst) {
        flows
            .lock()
            .unwrap()
            .retain(|_, flow| flow.last.elapsed() < IDLE);
        let Ok((n, client)) = socket.recv_from(&mut buffer) else {
            continue;
        };
        let mut table = flows.lock().unwrap();
        #[allow(clippy::map_entry)] // the new flow's reader thread needs the table unlocked
        if !table.contains_key(&client) {
            let bind: SocketAddr = if target.is_ipv4() {
                "0.0.0.0:0"
            } else {
                "[::]:0"
            }
            .parse()
            .unwrap();
            let Ok(upstream) = UdpSocket::bind(bind) else {
                continue;
            };
            if upstream.connect(target).is_err() {
                continue;
            }
            let (Ok(reader), Ok(reply_to)) = (upstream.try_clone(), socket.try_clone()) else {
                continue;
            };
            let _ = reader.set_read_timeout(Some(STOP_CHECK));
            let flows = flows.clone();
            std::thread::spawn(move || {
                let mut buffer = vec![0u8; 65536];
                loop {
                    if !flows.lock().unwrap().contains_key(&client) {
                        return;
                    }
                    match reader.recv(&mut buffer) {
                        Ok(n) => {
                            let _ = reply_to.send_to(&buffer[..n], client);
                            if let Some(flow) = flows.lock().unwrap().get_mut(&client) {
                                flow.last = Instant::now();
                            }
                        }
                        Err(_) => continue,
                    }
                }
            });
            table.insert(
                client,
                Flow {
                    upstream,
                    last: Instant::now(),
                },
            );
        }
        if let Some(flow) = table.get_mut(&client) {
            flow.last = Instant::now();
            let _ = flow.upstream.send(&buffer[..n]);
        }
    }
    flows.lock().unwrap().clear();
}
