//! A running container's console: the socket its monitor serves
//! (`attach.sock` in the container's directory) so clients can attach to the
//! container's stdio, as `docker attach` does. Every client gets the output
//! live (the log is written as before); what clients send is the container's
//! stdin (when its spec has `stdin_open`); a client may resize the
//! container's terminal (when it has `tty`).
//!
//! Both directions carry frames: a tag byte, a big-endian `u32` length, the
//! payload. The client side is [`Console`]; the monitor's side is
//! [`ConsoleServer`]. Terminal sizes are read and set here too
//! ([`window_size`], [`set_window_size`]): the exec helper copies its
//! caller's terminal size onto the pty it made.

use std::io::{self, Read, Write};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::logs::Stream;

/// The largest frame either side accepts; larger is a broken peer.
const MAX_FRAME: usize = 1 << 20;

/// Output queued for a client that reads slower than the container writes:
/// past this, the monitor stops reading the container's output until the
/// client catches up (the container then blocks on its output, as with
/// docker's attach), so nothing is lost and memory stays bounded.
const CLIENT_BACKLOG: usize = 1 << 20;

/// How long the monitor, once the program has ended, still gives a client
/// to take the rest of its output.
const FINAL_FLUSH_TIMEOUT: Duration = Duration::from_secs(5);

/// What can go wrong on the client's side of a console.
#[derive(Debug, thiserror::Error)]
pub enum ConsoleError {
    #[error("connect to the console of container {name}: {source}")]
    Connect {
        name: String,
        #[source]
        source: io::Error,
    },
    #[error("console of container {name}: {source}")]
    Io {
        name: String,
        #[source]
        source: io::Error,
    },
    #[error("console of container {name}: {message}")]
    Protocol { name: String, message: String },
}

/// A terminal's size in characters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WindowSize {
    pub rows: u16,
    pub cols: u16,
}

/// One message on the console socket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    /// Client to monitor: bytes for the container's stdin.
    Input(Vec<u8>),
    /// Client to monitor: this client's input has ended (a `stdin_once`
    /// container's stdin is closed then).
    EndInput,
    /// Client to monitor: the client's terminal has this size now.
    Resize(WindowSize),
    /// Client to monitor, only when it attached at the start: the program
    /// may start now (what came before, a size, input, is in place).
    Start,
    /// Monitor to clients: output of the container.
    Output(Stream, Vec<u8>),
}

const TAG_INPUT: u8 = b'i';
const TAG_END_INPUT: u8 = b'e';
const TAG_RESIZE: u8 = b'r';
const TAG_START: u8 = b's';
const TAG_STDOUT: u8 = b'1';
const TAG_STDERR: u8 = b'2';

impl Frame {
    /// The frame as sent: tag, length, payload.
    pub fn encode(&self) -> Vec<u8> {
        let (tag, payload): (u8, std::borrow::Cow<[u8]>) = match self {
            Frame::Input(bytes) => (TAG_INPUT, bytes.into()),
            Frame::EndInput => (TAG_END_INPUT, (&[][..]).into()),
            Frame::Resize(size) => {
                let mut bytes = size.rows.to_be_bytes().to_vec();
                bytes.extend_from_slice(&size.cols.to_be_bytes());
                (TAG_RESIZE, bytes.into())
            }
            Frame::Start => (TAG_START, (&[][..]).into()),
            Frame::Output(Stream::Stdout, bytes) => (TAG_STDOUT, bytes.into()),
            Frame::Output(Stream::Stderr, bytes) => (TAG_STDERR, bytes.into()),
        };
        let mut encoded = Vec::with_capacity(5 + payload.len());
        encoded.push(tag);
        encoded.extend_from_slice(&(payload.len() as u32).to_be_bytes());
        encoded.extend_from_slice(&payload);
        encoded
    }
}

/// Cuts a byte stream into frames.
#[derive(Debug, Default)]
pub struct FrameDecoder {
    buffer: Vec<u8>,
}

impl FrameDecoder {
    pub fn push(&mut self, bytes: &[u8]) {
        self.buffer.extend_from_slice(bytes);
    }

    /// The next complete frame, `None` until one has fully arrived, or why
    /// the stream is not frames.
    pub fn next_frame(&mut self) -> Result<Option<Frame>, String> {
        let Some(header) = self.buffer.get(..5) else {
            return Ok(None);
        };
        let tag = header[0];
        let len = u32::from_be_bytes([header[1], header[2], header[3], header[4]]) as usize;
        if len > MAX_FRAME {
            return Err(format!("frame of {len} bytes is over the limit"));
        }
        if self.buffer.len() < 5 + len {
            return Ok(None);
        }
        let payload: Vec<u8> = self.buffer.drain(..5 + len).skip(5).collect();
        let frame = match tag {
            TAG_INPUT => Frame::Input(payload),
            TAG_END_INPUT => Frame::EndInput,
            TAG_START => Frame::Start,
            TAG_RESIZE => match payload[..] {
                [r0, r1, c0, c1] => Frame::Resize(WindowSize {
                    rows: u16::from_be_bytes([r0, r1]),
                    cols: u16::from_be_bytes([c0, c1]),
                }),
                _ => return Err(format!("resize frame of {len} bytes (4 expected)")),
            },
            TAG_STDOUT => Frame::Output(Stream::Stdout, payload),
            TAG_STDERR => Frame::Output(Stream::Stderr, payload),
            other => return Err(format!("unknown frame tag {other:#04x}")),
        };
        Ok(Some(frame))
    }
}

/// The size of the terminal `fd` is, or `None` when it is not a terminal.
pub fn window_size(fd: BorrowedFd<'_>) -> Option<WindowSize> {
    let (rows, cols) = super::sys::window_size(fd).ok()?;
    Some(WindowSize { rows, cols })
}

/// Gives the terminal `fd` (a pty's master or slave) a size; the kernel
/// sends SIGWINCH to the terminal's foreground process group.
pub fn set_window_size(fd: BorrowedFd<'_>, size: WindowSize) -> io::Result<()> {
    super::sys::set_window_size(fd, size.rows, size.cols)
}

/// A client attached to a container's console.
pub struct Console {
    name: String,
    reader: UnixStream,
    decoder: FrameDecoder,
    input: ConsoleInput,
}

/// The sending half of a [`Console`]; cheap to clone, safe to share between
/// threads (each frame is written whole).
#[derive(Clone)]
pub struct ConsoleInput {
    name: String,
    stream: Arc<Mutex<UnixStream>>,
}

impl Console {
    /// Connects to the console at `path` of container `name`, trying again
    /// until `patience` has passed (a monitor just started binds it soon).
    pub fn connect(name: &str, path: &Path, patience: Duration) -> Result<Console, ConsoleError> {
        let deadline = Instant::now() + patience;
        let stream = loop {
            match crate::unix_socket::connect(path) {
                Ok(stream) => break stream,
                Err(source) if Instant::now() >= deadline => {
                    return Err(ConsoleError::Connect {
                        name: name.to_string(),
                        source,
                    })
                }
                Err(_) => std::thread::sleep(Duration::from_millis(5)),
            }
        };
        let writer = stream.try_clone().map_err(|source| ConsoleError::Io {
            name: name.to_string(),
            source,
        })?;
        Ok(Console {
            name: name.to_string(),
            reader: stream,
            decoder: FrameDecoder::default(),
            input: ConsoleInput {
                name: name.to_string(),
                stream: Arc::new(Mutex::new(writer)),
            },
        })
    }

    /// The sending half.
    pub fn input(&self) -> ConsoleInput {
        self.input.clone()
    }

    /// The next piece of output, `None` once the console has closed (the
    /// container's program ended, or [`ConsoleInput::close`] was called).
    pub fn read_output(&mut self) -> Result<Option<(Stream, Vec<u8>)>, ConsoleError> {
        let mut buffer = [0u8; 16 * 1024];
        loop {
            match self.decoder.next_frame() {
                Ok(Some(Frame::Output(stream, bytes))) => return Ok(Some((stream, bytes))),
                Ok(Some(_)) => continue,
                Ok(None) => {}
                Err(message) => {
                    return Err(ConsoleError::Protocol {
                        name: self.name.clone(),
                        message,
                    })
                }
            }
            match self.reader.read(&mut buffer) {
                Ok(0) => return Ok(None),
                Ok(n) => self.decoder.push(&buffer[..n]),
                Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
                // Closed under us (a detach): the end, not an error.
                Err(err) if err.kind() == io::ErrorKind::ConnectionReset => return Ok(None),
                Err(source) => {
                    return Err(ConsoleError::Io {
                        name: self.name.clone(),
                        source,
                    })
                }
            }
        }
    }
}

impl ConsoleInput {
    pub fn send(&self, frame: &Frame) -> Result<(), ConsoleError> {
        let mut stream = self.stream.lock().unwrap_or_else(|e| e.into_inner());
        stream
            .write_all(&frame.encode())
            .map_err(|source| ConsoleError::Io {
                name: self.name.clone(),
                source,
            })
    }

    /// Ends the attachment both ways: the reader sees the end of output.
    pub fn close(&self) {
        let stream = self.stream.lock().unwrap_or_else(|e| e.into_inner());
        let _ = stream.shutdown(std::net::Shutdown::Both);
    }
}

/// What the monitor does with a client's frames.
pub(crate) struct ConsoleTarget<'a> {
    /// The container's stdin, while it is open.
    pub stdin: &'a mut Option<OwnedFd>,
    /// The pty master, for a `tty` container.
    pub pty: Option<BorrowedFd<'a>>,
    /// Close stdin when a client's input ends.
    pub stdin_once: bool,
}

/// The monitor's side: the listening socket and the attached clients.
pub(crate) struct ConsoleServer {
    listener: UnixListener,
    clients: Vec<Client>,
}

struct Client {
    stream: UnixStream,
    decoder: FrameDecoder,
    started: bool,
    /// Output not yet taken by the client (its socket is non-blocking).
    backlog: Vec<u8>,
}

impl ConsoleServer {
    pub fn bind(path: &Path) -> io::Result<ConsoleServer> {
        let listener = crate::unix_socket::bind(path)?;
        Ok(ConsoleServer {
            listener,
            clients: Vec::new(),
        })
    }

    /// What to poll: the listener, then each client (for reading, and for
    /// writing while output waits for it).
    pub fn poll_fds(&self) -> Vec<(BorrowedFd<'_>, nix::poll::PollFlags)> {
        use nix::poll::PollFlags;
        std::iter::once((self.listener.as_fd(), PollFlags::POLLIN))
            .chain(self.clients.iter().map(|c| {
                let mut flags = PollFlags::POLLIN;
                if !c.backlog.is_empty() {
                    flags |= PollFlags::POLLOUT;
                }
                (c.stream.as_fd(), flags)
            }))
            .collect()
    }

    /// False while a client has too much output waiting: the monitor
    /// leaves the container's output unread meanwhile.
    pub fn takes_output(&self) -> bool {
        self.clients
            .iter()
            .all(|c| c.backlog.len() < CLIENT_BACKLOG)
    }

    /// Acts on what [`ConsoleServer::poll_fds`] found ready: accepts a
    /// client, or reads and applies a client's frames.
    pub fn serve(&mut self, ready: &[bool], buffer: &mut [u8], target: &mut ConsoleTarget<'_>) {
        let mut gone = Vec::new();
        for (index, client) in self.clients.iter_mut().enumerate() {
            if !ready.get(index + 1).copied().unwrap_or(false) {
                continue;
            }
            if !client.flush() || !client.receive(buffer, target) {
                gone.push(index);
            }
        }
        for index in gone.into_iter().rev() {
            self.clients.remove(index);
        }
        if ready.first().copied().unwrap_or(false) {
            self.accept();
        }
    }

    fn accept(&mut self) -> Option<&mut Client> {
        let (stream, _) = self.listener.accept().ok()?;
        stream.set_nonblocking(true).ok()?;
        self.clients.push(Client {
            stream,
            decoder: FrameDecoder::default(),
            started: false,
            backlog: Vec::new(),
        });
        self.clients.last_mut()
    }

    /// Before the program starts: waits (at most `patience`) for the client
    /// that attaches at the start and applies its frames until it says
    /// [`Frame::Start`]. False when none came (the program starts anyway).
    pub fn await_start(
        &mut self,
        patience: Duration,
        buffer: &mut [u8],
        target: &mut ConsoleTarget<'_>,
    ) -> bool {
        use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
        let deadline = Instant::now() + patience;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            let timeout = PollTimeout::try_from(left).unwrap_or(PollTimeout::MAX);
            let waiting = match self.clients.last() {
                Some(client) => client.stream.as_fd(),
                None => self.listener.as_fd(),
            };
            let mut fds = [PollFd::new(waiting, PollFlags::POLLIN)];
            match poll(&mut fds, timeout) {
                Ok(0) => return false,
                Ok(_) => {}
                Err(nix::errno::Errno::EINTR) => continue,
                Err(_) => return false,
            }
            if self.clients.is_empty() {
                self.accept();
                continue;
            }
            let client = self.clients.last_mut().expect("checked");
            if !client.receive(buffer, target) {
                self.clients.pop();
                return false;
            }
            if client.started {
                return true;
            }
        }
    }

    /// Sends output to every client (queued for those not ready for it); a
    /// client that has gone is dropped.
    pub fn broadcast(&mut self, stream: Stream, bytes: &[u8]) {
        if self.clients.is_empty() {
            return;
        }
        let encoded = Frame::Output(stream, bytes.to_vec()).encode();
        self.clients.retain_mut(|client| {
            client.backlog.extend_from_slice(&encoded);
            client.flush()
        });
    }

    /// The program has ended: each client gets what is queued for it (for
    /// a little while), then the end of the output.
    pub fn finish(mut self) {
        let deadline = Instant::now() + FINAL_FLUSH_TIMEOUT;
        for client in &mut self.clients {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() || client.stream.set_nonblocking(false).is_err() {
                continue;
            }
            let _ = client.stream.set_write_timeout(Some(left));
            let _ = client.stream.write_all(&client.backlog);
        }
    }
}

impl Client {
    /// Writes what it can of the backlog; false when the client is gone.
    fn flush(&mut self) -> bool {
        while !self.backlog.is_empty() {
            match self.stream.write(&self.backlog) {
                Ok(0) => return false,
                Ok(n) => {
                    self.backlog.drain(..n);
                }
                Err(err) if err.kind() == io::ErrorKind::WouldBlock => return true,
                Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => return false,
            }
        }
        true
    }

    /// Reads what the client sent and applies its frames; false when it is gone.
    fn receive(&mut self, buffer: &mut [u8], target: &mut ConsoleTarget<'_>) -> bool {
        let n = match self.stream.read(buffer) {
            Err(err)
                if matches!(
                    err.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted
                ) =>
            {
                return true
            }
            Ok(0) | Err(_) => {
                if target.stdin_once {
                    *target.stdin = None;
                }
                return false;
            }
            Ok(n) => n,
        };
        self.decoder.push(&buffer[..n]);
        loop {
            match self.decoder.next_frame() {
                Ok(Some(frame)) => self.apply(frame, target),
                Ok(None) => return true,
                Err(message) => {
                    tracing::warn!("console client dropped: {message}");
                    return false;
                }
            }
        }
    }

    fn apply(&mut self, frame: Frame, target: &mut ConsoleTarget<'_>) {
        match frame {
            Frame::Input(bytes) => {
                if let Some(stdin) = target.stdin.as_ref() {
                    write_all_fd(stdin.as_fd(), &bytes);
                }
            }
            Frame::EndInput => {
                if target.stdin_once {
                    *target.stdin = None;
                }
            }
            Frame::Resize(size) => {
                if let Some(pty) = target.pty {
                    let _ = set_window_size(pty, size);
                }
            }
            Frame::Start => self.started = true,
            Frame::Output(..) => {}
        }
    }
}

fn write_all_fd(fd: BorrowedFd<'_>, mut bytes: &[u8]) {
    while !bytes.is_empty() {
        match nix::unistd::write(fd, bytes) {
            Ok(written) => bytes = &bytes[written..],
            Err(nix::errno::Errno::EINTR) => {}
            Err(_) => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_round_trip_in_pieces() {
        let frames = [
            Frame::Input(b"ls\r".to_vec()),
            Frame::Resize(WindowSize {
                rows: 30,
                cols: 100,
            }),
            Frame::EndInput,
            Frame::Start,
            Frame::Output(Stream::Stdout, b"hi".to_vec()),
            Frame::Output(Stream::Stderr, Vec::new()),
        ];
        let bytes: Vec<u8> = frames.iter().flat_map(Frame::encode).collect();
        let mut decoder = FrameDecoder::default();
        let mut decoded = Vec::new();
        for byte in bytes {
            decoder.push(&[byte]);
            while let Some(frame) = decoder.next_frame().unwrap() {
                decoded.push(frame);
            }
        }
        assert_eq!(decoded, frames);
    }

    #[test]
    fn broken_frames_are_refused() {
        let mut decoder = FrameDecoder::default();
        decoder.push(&[b'x', 0, 0, 0, 0]);
        assert!(decoder
            .next_frame()
            .unwrap_err()
            .contains("unknown frame tag"));
        let mut decoder = FrameDecoder::default();
        decoder.push(&[TAG_INPUT, 0xff, 0xff, 0xff, 0xff]);
        assert!(decoder.next_frame().unwrap_err().contains("over the limit"));
        let mut decoder = FrameDecoder::default();
        decoder.push(&[TAG_RESIZE, 0, 0, 0, 1, 7]);
        assert!(decoder.next_frame().unwrap_err().contains("4 expected"));
    }

    #[test]
    fn a_slow_client_holds_the_output_back_and_loses_none() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("attach.sock");
        let mut server = ConsoleServer::bind(&path).unwrap();
        let mut client = Console::connect("c", &path, Duration::from_secs(1)).unwrap();
        server.accept();
        let chunk = vec![b'x'; 64 * 1024];
        let mut sent = 0;
        while server.takes_output() {
            server.broadcast(Stream::Stdout, &chunk);
            sent += chunk.len();
        }
        assert!(sent >= CLIENT_BACKLOG, "the backlog filled first");
        let reader = std::thread::spawn(move || {
            let mut got = 0;
            while let Some((_, bytes)) = client.read_output().unwrap() {
                got += bytes.len();
            }
            got
        });
        server.finish();
        assert_eq!(reader.join().unwrap(), sent);
    }

    #[test]
    fn a_pty_takes_the_size_it_is_given() {
        let pty = nix::pty::openpty(None, None).unwrap();
        let size = WindowSize { rows: 31, cols: 97 };
        set_window_size(pty.master.as_fd(), size).unwrap();
        assert_eq!(window_size(pty.slave.as_fd()), Some(size));
        let file = tempfile::tempfile().unwrap();
        assert_eq!(window_size(file.as_fd()), None);
    }

    #[test]
    fn clients_get_output_and_feed_stdin() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("attach.sock");
        let mut server = ConsoleServer::bind(&path).unwrap();
        let (stdin_r, stdin_w) = nix::unistd::pipe().unwrap();
        let mut stdin = Some(stdin_w);
        let mut client = Console::connect("c", &path, Duration::from_secs(1)).unwrap();
        let input = client.input();
        input.send(&Frame::Input(b"typed".to_vec())).unwrap();
        input.send(&Frame::Start).unwrap();
        let mut buffer = [0u8; 256];
        let mut target = ConsoleTarget {
            stdin: &mut stdin,
            pty: None,
            stdin_once: true,
        };
        assert!(server.await_start(Duration::from_secs(5), &mut buffer, &mut target));
        let mut got = [0u8; 5];
        nix::unistd::read(&stdin_r, &mut got).unwrap();
        assert_eq!(&got, b"typed");
        server.broadcast(Stream::Stdout, b"out");
        assert_eq!(
            client.read_output().unwrap(),
            Some((Stream::Stdout, b"out".to_vec()))
        );
        input.send(&Frame::EndInput).unwrap();
        std::thread::sleep(Duration::from_millis(50));
        let ready = vec![false, true];
        server.serve(&ready, &mut buffer, &mut target);
        assert!(stdin.is_none(), "stdin_once: the end of input closes stdin");
        server.finish();
        assert_eq!(client.read_output().unwrap(), None);
    }
}
