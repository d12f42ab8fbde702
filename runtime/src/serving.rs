//! Where berth's network servers run: the embedded DNS ([`crate::dns`]) and
//! the published-port proxies ([`crate::ports`]) are tasks on one small
//! tokio runtime with a fixed number of worker threads, so no load makes a
//! thread per query, connection or flow. [`Tasks`] owns one server's tasks:
//! dropping it stops them and waits until their sockets are closed, so the
//! port can be bound again at once.
//!
//! Sockets a server opens while serving (a DNS forward, a UDP flow to a
//! container) belong to the network namespace of the runtime's threads,
//! which is that of the thread that made the runtime. So there is one
//! runtime per network namespace of the callers: a server started from a
//! thread in the host's namespace forwards from the host's namespace.

use std::collections::BTreeMap;
use std::future::Future;
use std::os::unix::fs::MetadataExt;
use std::sync::{mpsc, Mutex, PoisonError};
use std::time::Duration;

use tokio::runtime::{Builder, Handle, Runtime};
use tokio::task::JoinHandle;

/// Worker threads of a serving runtime.
pub const WORKER_THREADS: usize = 2;
/// Most threads the runtime may add for blocking work (the servers do none).
const BLOCKING_THREADS: usize = 2;
/// How long dropping [`Tasks`] waits for their sockets to close.
const STOP_WAIT: Duration = Duration::from_secs(2);

/// The serving runtimes, by network namespace (inode); never dropped.
static RUNTIMES: Mutex<BTreeMap<u64, Runtime>> = Mutex::new(BTreeMap::new());

/// The serving runtime of the calling thread's network namespace, made on
/// first use.
pub fn handle() -> std::io::Result<Handle> {
    let namespace = std::fs::metadata("/proc/thread-self/ns/net")?.ino();
    let mut runtimes = RUNTIMES.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some(runtime) = runtimes.get(&namespace) {
        return Ok(runtime.handle().clone());
    }
    let runtime = Builder::new_multi_thread()
        .worker_threads(WORKER_THREADS)
        .max_blocking_threads(BLOCKING_THREADS)
        .thread_name("berth-serve")
        .enable_io()
        .enable_time()
        .build()?;
    let handle = runtime.handle().clone();
    runtimes.insert(namespace, runtime);
    Ok(handle)
}

/// Held by every task of a server (and the tasks they start): [`Tasks`]
/// knows they are all gone when every clone is dropped.
#[derive(Debug, Clone)]
pub struct Alive {
    _sender: mpsc::Sender<()>,
}

/// One server's tasks; dropping it aborts them and waits for them to end.
#[derive(Debug)]
pub struct Tasks {
    handle: Handle,
    tasks: Vec<JoinHandle<()>>,
    alive: Option<Alive>,
    all_gone: mpsc::Receiver<()>,
}

impl Tasks {
    pub fn new(handle: Handle) -> Tasks {
        let (alive, all_gone) = mpsc::channel();
        Tasks {
            handle,
            tasks: Vec::new(),
            alive: Some(Alive { _sender: alive }),
            all_gone,
        }
    }

    /// A token for a task this server starts from its own tasks.
    pub fn alive(&self) -> Alive {
        self.alive.clone().expect("alive until dropped")
    }

    /// Starts `task`, which ends when this is dropped.
    pub fn spawn(&mut self, task: impl Future<Output = ()> + Send + 'static) {
        let alive = self.alive();
        self.tasks.push(self.handle.spawn(async move {
            let _alive = alive;
            task.await;
        }));
    }
}

impl Drop for Tasks {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
        self.alive = None;
        // Disconnected once every task, and every task they started, has
        // been dropped, sockets and all.
        let _ = self.all_gone.recv_timeout(STOP_WAIT);
    }
}
