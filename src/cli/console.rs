//! The user's terminal while attached to a container (`run`, `attach`,
//! `exec`): raw mode (restored on every way out), the window size sent at
//! the start and on every SIGWINCH, stdin forwarded with the detach keys
//! watched for (`ctrl-p,ctrl-q` by default), signals proxied to the
//! container, and the container's output copied to stdout and stderr.

use std::io::{IsTerminal, Read, Write};
use std::os::fd::AsFd;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use anyhow::{bail, Context};
use berth_runtime::container::console::{window_size, Console, ConsoleInput, Frame, WindowSize};
use berth_runtime::container::{Runtime, Stream};
use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM, SIGWINCH};
use signal_hook::iterator::Signals;

/// The terminal in raw mode; put back as it was on drop.
pub struct RawTerminal(nix::sys::termios::Termios);

impl RawTerminal {
    /// Raw mode on stdin, when it is a terminal.
    pub fn enter() -> Option<RawTerminal> {
        use nix::sys::termios::{cfmakeraw, tcgetattr, tcsetattr, SetArg};
        let stdin = std::io::stdin();
        if !stdin.is_terminal() {
            return None;
        }
        let saved = tcgetattr(&stdin).ok()?;
        let mut raw = saved.clone();
        cfmakeraw(&mut raw);
        tcsetattr(&stdin, SetArg::TCSANOW, &raw).ok()?;
        Some(RawTerminal(saved))
    }
}

impl RawTerminal {
    /// For a command that waits on a child meanwhile (`exec`): SIGTERM or
    /// SIGHUP put the terminal back before they end us as they would have.
    pub fn restore_on_termination(&self) -> anyhow::Result<signal_hook::iterator::Handle> {
        let saved = self.0.clone();
        let mut signals = Signals::new([SIGTERM, SIGHUP]).context("watching signals")?;
        let handle = signals.handle();
        std::thread::spawn(move || {
            if let Some(signal) = signals.forever().next() {
                let _ = nix::sys::termios::tcsetattr(
                    std::io::stdin(),
                    nix::sys::termios::SetArg::TCSANOW,
                    &saved,
                );
                let _ = signal_hook::low_level::emulate_default_handler(signal);
            }
        });
        Ok(handle)
    }
}

impl Drop for RawTerminal {
    fn drop(&mut self) {
        let _ = nix::sys::termios::tcsetattr(
            std::io::stdin(),
            nix::sys::termios::SetArg::TCSADRAIN,
            &self.0,
        );
    }
}

/// The size of our terminal (stdin), if it is one.
pub fn terminal_size() -> Option<WindowSize> {
    window_size(std::io::stdin().as_fd())
}

/// The key sequence that detaches from a container without stopping it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DetachKeys(Vec<u8>);

/// docker's default.
pub const DEFAULT_DETACH_KEYS: &str = "ctrl-p,ctrl-q";

impl DetachKeys {
    /// Parses docker's syntax: comma-separated keys, each a single
    /// character or `ctrl-X` (X one of `a`-`z`, `@`, `[`, `\`, `]`, `^`, `_`).
    pub fn parse(text: &str) -> anyhow::Result<DetachKeys> {
        let mut keys = Vec::new();
        for key in text.split(',') {
            let code = match key.strip_prefix("ctrl-") {
                Some(rest) if rest.len() == 1 => {
                    let c = rest.as_bytes()[0].to_ascii_lowercase();
                    match c {
                        b'a'..=b'z' => c - b'a' + 1,
                        b'@' => 0,
                        b'[' => 27,
                        b'\\' => 28,
                        b']' => 29,
                        b'^' => 30,
                        b'_' => 31,
                        _ => bail!(invalid_key(text, key)),
                    }
                }
                None if key.len() == 1 && key.is_ascii() => key.as_bytes()[0],
                _ => bail!(invalid_key(text, key)),
            };
            keys.push(code);
        }
        Ok(DetachKeys(keys))
    }
}

fn invalid_key(text: &str, key: &str) -> String {
    format!(
        "--detach-keys {text:?}: invalid key {key:?} (expected a single character or ctrl-X, \
         X being a letter or one of @ [ \\ ] ^ _; keys separated by commas)"
    )
}

/// Watches the input for the detach keys: bytes that might begin them are
/// held back until they do, or turn out not to.
#[derive(Debug)]
pub struct DetachWatch {
    keys: DetachKeys,
    matched: usize,
}

impl DetachWatch {
    pub fn new(keys: DetachKeys) -> DetachWatch {
        DetachWatch { keys, matched: 0 }
    }

    /// What to forward of `bytes`, and whether the keys were typed (what
    /// follows them is dropped).
    pub fn feed(&mut self, bytes: &[u8]) -> (Vec<u8>, bool) {
        let keys = &self.keys.0;
        let mut forward = Vec::with_capacity(bytes.len());
        for &byte in bytes {
            if keys.get(self.matched) == Some(&byte) {
                self.matched += 1;
                if self.matched == keys.len() {
                    return (forward, true);
                }
                continue;
            }
            // Not the keys after all: the held-back bytes go through.
            forward.extend_from_slice(&keys[..self.matched]);
            self.matched = 0;
            if keys.first() == Some(&byte) {
                self.matched = 1;
                if keys.len() == 1 {
                    return (forward, true);
                }
            } else {
                forward.push(byte);
            }
        }
        (forward, false)
    }
}

/// How an attachment ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionEnd {
    /// The container's program ended (its output is all shown).
    Ended,
    /// The user typed the detach keys; the container goes on.
    Detached,
}

/// What an attachment does.
pub struct Session<'a> {
    /// The container has a terminal: ours goes raw and its size follows ours.
    pub tty: bool,
    /// Forward our stdin.
    pub stdin: bool,
    pub detach_keys: Option<DetachKeys>,
    /// Without a terminal: pass SIGINT/SIGTERM/SIGHUP on to the container.
    pub sig_proxy: Option<(&'a Runtime, &'a str)>,
}

impl Session<'_> {
    /// Attaches until the container's program ends or the user detaches.
    pub fn run(self, mut console: Console) -> anyhow::Result<SessionEnd> {
        let own_terminal = self.tty && std::io::stdin().is_terminal();
        let raw = own_terminal.then(RawTerminal::enter).flatten();
        let input = console.input();
        let detached = Arc::new(AtomicBool::new(false));
        if own_terminal {
            if let Some(size) = terminal_size() {
                let _ = input.send(&Frame::Resize(size));
            }
        }
        let signals = self.watch_signals(own_terminal, &input)?;
        if self.stdin {
            let input = input.clone();
            let detached = detached.clone();
            let watch = self.detach_keys.clone().map(DetachWatch::new);
            std::thread::spawn(move || forward_stdin(input, watch, &detached));
        }
        let copied = copy_output(&mut console);
        if let Some(handle) = signals {
            handle.close();
        }
        drop(raw);
        copied?;
        Ok(if detached.load(Ordering::SeqCst) {
            SessionEnd::Detached
        } else {
            SessionEnd::Ended
        })
    }

    /// A thread for the signals: SIGWINCH resizes the container's
    /// terminal; with a terminal of ours, SIGTERM and SIGHUP end the
    /// attachment (so the terminal is restored); without one, with
    /// `sig_proxy`, SIGINT, SIGTERM and SIGHUP go to the container.
    fn watch_signals(
        &self,
        own_terminal: bool,
        input: &ConsoleInput,
    ) -> anyhow::Result<Option<signal_hook::iterator::Handle>> {
        let mut wanted = Vec::new();
        if own_terminal {
            wanted.extend([SIGWINCH, SIGTERM, SIGHUP]);
        }
        let proxy = match (own_terminal, self.sig_proxy) {
            (false, Some((runtime, name))) => {
                wanted.extend([SIGINT, SIGTERM, SIGHUP]);
                Some((runtime.clone(), name.to_string()))
            }
            _ => None,
        };
        if wanted.is_empty() {
            return Ok(None);
        }
        let mut signals = Signals::new(&wanted).context("watching signals")?;
        let handle = signals.handle();
        let input = input.clone();
        std::thread::spawn(move || {
            for signal in signals.forever() {
                if signal == SIGWINCH {
                    if let Some(size) = terminal_size() {
                        let _ = input.send(&Frame::Resize(size));
                    }
                } else if let Some((runtime, name)) = &proxy {
                    let _ = runtime.kill(name, &signal.to_string());
                } else {
                    input.close();
                }
            }
        });
        Ok(Some(handle))
    }
}

/// Copies our stdin to the container until it ends (then says so) or the
/// detach keys are typed (then closes the attachment).
fn forward_stdin(input: ConsoleInput, mut watch: Option<DetachWatch>, detached: &AtomicBool) {
    let mut stdin = std::io::stdin().lock();
    let mut buffer = [0u8; 8192];
    loop {
        let n = match stdin.read(&mut buffer) {
            Ok(0) => break,
            Ok(n) => n,
            Err(err) if err.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(_) => break,
        };
        let (bytes, detach) = match watch.as_mut() {
            Some(watch) => watch.feed(&buffer[..n]),
            None => (buffer[..n].to_vec(), false),
        };
        if !bytes.is_empty() && input.send(&Frame::Input(bytes)).is_err() {
            return;
        }
        if detach {
            detached.store(true, Ordering::SeqCst);
            input.close();
            return;
        }
    }
    let _ = input.send(&Frame::EndInput);
}

/// The container's output to our stdout and stderr, until it ends.
fn copy_output(console: &mut Console) -> anyhow::Result<()> {
    while let Some((stream, bytes)) = console.read_output()? {
        let written = if stream == Stream::Stderr {
            let mut err = std::io::stderr().lock();
            err.write_all(&bytes).and_then(|()| err.flush())
        } else {
            let mut out = std::io::stdout().lock();
            out.write_all(&bytes).and_then(|()| out.flush())
        };
        // Our output is gone (a closed pipe): nothing more to show.
        if written.is_err() {
            break;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detach_keys_parse_like_docker() {
        assert_eq!(
            DetachKeys::parse(DEFAULT_DETACH_KEYS).unwrap(),
            DetachKeys(vec![16, 17])
        );
        assert_eq!(
            DetachKeys::parse("ctrl-@,ctrl-_,x").unwrap(),
            DetachKeys(vec![0, 31, b'x'])
        );
        let err = DetachKeys::parse("ctrl-p,alt-q").unwrap_err().to_string();
        assert!(err.contains("invalid key \"alt-q\""), "{err}");
        assert!(DetachKeys::parse("ctrl-1").is_err());
        assert!(DetachKeys::parse("").is_err());
    }

    #[test]
    fn detach_keys_are_held_back_until_they_do_not_match() {
        let mut watch = DetachWatch::new(DetachKeys::parse(DEFAULT_DETACH_KEYS).unwrap());
        assert_eq!(watch.feed(b"ab"), (b"ab".to_vec(), false));
        // A ctrl-p alone is held, then released with what follows.
        assert_eq!(watch.feed(b"\x10"), (Vec::new(), false));
        assert_eq!(watch.feed(b"x"), (b"\x10x".to_vec(), false));
        // ctrl-p ctrl-p: the first goes through, the second may start the keys.
        assert_eq!(watch.feed(b"\x10\x10"), (b"\x10".to_vec(), false));
        assert_eq!(watch.feed(b"\x11rest"), (Vec::new(), true));
        let mut watch = DetachWatch::new(DetachKeys::parse("ctrl-a").unwrap());
        assert_eq!(watch.feed(b"hi\x01there"), (b"hi".to_vec(), true));
    }
}
