//! Interactive sessions as a user at a terminal has them: `exec -it` and
//! `run --rm -it` get a real pty sized like the user's terminal and resized
//! with it, typed commands are answered and exit codes come back, and
//! `attach` shows a `tty: true, stdin_open: true` service's output and
//! takes its input, until the detach keys leave it running. Each test
//! drives `berth` through a pty of its own (the test holds the master: it
//! types, reads the screen's bytes and resizes the window).

mod support;

use std::io::Write;
use std::os::fd::{AsFd, OwnedFd};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use berth_runtime::container::console::{set_window_size, WindowSize};
use support::containers::{can_run_containers, isolated};
use support::project::Project;

const COMPOSE: &str = "name: tty
services:
  shell:
    image: berth.test/busybox:latest
    command: [sleep, '300']
    stop_signal: SIGKILL
  console:
    image: berth.test/busybox:latest
    command: [sh]
    tty: true
    stdin_open: true
    stop_signal: SIGKILL
";

/// `berth` run on a pty we hold the master of: its controlling terminal.
struct Terminal {
    child: Child,
    master: std::fs::File,
    screen: Arc<Mutex<Vec<u8>>>,
}

impl Terminal {
    /// `berth ARGS…` for project `p`, in a session of its own whose
    /// controlling terminal is the pty (`setsid --ctty`, from util-linux).
    fn berth(p: &Project, args: &[&str], size: WindowSize) -> Terminal {
        let mut command = Command::new("setsid");
        command
            .arg("--ctty")
            .arg(support::containers::berth_bin())
            .arg("--root")
            .arg(&p.root)
            .arg("--project-directory")
            .arg(&p.dir)
            .args(args)
            .env("BERTH_RUN", p.root.join("run"));
        Terminal::spawn(command, size)
    }

    fn spawn(mut command: Command, size: WindowSize) -> Terminal {
        let pty = nix::pty::openpty(None, None).unwrap();
        set_window_size(pty.master.as_fd(), size).unwrap();
        let slave = |fd: &OwnedFd| Stdio::from(fd.try_clone().unwrap());
        command
            .stdin(slave(&pty.slave))
            .stdout(slave(&pty.slave))
            .stderr(slave(&pty.slave));
        let child = command.spawn().unwrap();
        drop(pty.slave);
        let master = std::fs::File::from(pty.master);
        let screen = Arc::new(Mutex::new(Vec::new()));
        let mut reader = master.try_clone().unwrap();
        let sink = screen.clone();
        std::thread::spawn(move || {
            use std::io::Read;
            let mut buffer = [0u8; 4096];
            while let Ok(n) = reader.read(&mut buffer) {
                if n == 0 {
                    break;
                }
                sink.lock().unwrap().extend_from_slice(&buffer[..n]);
            }
        });
        Terminal {
            child,
            master,
            screen,
        }
    }

    fn screen(&self) -> String {
        String::from_utf8_lossy(&self.screen.lock().unwrap()).into_owned()
    }

    /// Waits (at most 20 s) until the screen holds `text`.
    fn expect(&self, text: &str) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while !self.screen().contains(text) {
            assert!(
                Instant::now() < deadline,
                "{text:?} never showed; the screen:\n{}",
                self.screen()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn type_keys(&mut self, keys: &str) {
        self.master.write_all(keys.as_bytes()).unwrap();
    }

    fn resize(&self, size: WindowSize) {
        set_window_size(self.master.as_fd(), size).unwrap();
    }

    /// The exit code of `berth` (at most 20 s).
    fn exit_code(&mut self) -> i32 {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status.code().unwrap_or(-1);
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!("berth never ended; the screen:\n{}", self.screen());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

fn size(rows: u16, cols: u16) -> WindowSize {
    WindowSize { rows, cols }
}

#[test]
fn exec_it_gets_a_pty_sized_and_resized_like_the_terminal() {
    if !can_run_containers() {
        return;
    }
    isolated(
        "exec_it_gets_a_pty_sized_and_resized_like_the_terminal",
        || {
            let p = Project::new(COMPOSE);
            p.ok(&["up", "-d", "shell"]);
            let mut term = Terminal::berth(&p, &["exec", "-it", "shell", "sh"], size(30, 100));
            term.type_keys("tty; stty size\r");
            term.expect("/dev/pts/");
            term.expect("30 100");
            term.resize(size(42, 123));
            std::thread::sleep(Duration::from_millis(200));
            term.type_keys("stty size\r");
            term.expect("42 123");
            // A full-screen editor works: raw keys in, the file written.
            term.type_keys("vi /tmp/typed\r");
            std::thread::sleep(Duration::from_millis(500));
            term.type_keys("ivi-wrote-$((1+1))\x1b");
            // Apart: an escape with more keys after it reads as one sequence.
            std::thread::sleep(Duration::from_millis(300));
            term.type_keys(":wq\r");
            // vi drew the window as the terminal is now: 42 rows.
            term.expect("\x1b[41;1H~");
            std::thread::sleep(Duration::from_millis(300));
            term.type_keys("cat /tmp/typed; echo\r");
            term.expect("vi-wrote-$((1+1))\r\n");
            term.type_keys("exit 7\r");
            assert_eq!(term.exit_code(), 7, "{}", term.screen());

            // `-i` and `-t` alone are accepted too; the pty is a real one.
            let mut term = Terminal::berth(
                &p,
                &[
                    "exec",
                    "-t",
                    "-i",
                    "shell",
                    "sh",
                    "-c",
                    "test -t 0 && echo is-a-tty",
                ],
                size(24, 80),
            );
            assert_eq!(term.exit_code(), 0, "{}", term.screen());
            term.expect("is-a-tty");

            // Without a terminal on stdin, exec without -T still works (no pty).
            let out = p
                .command(&[
                    "exec",
                    "shell",
                    "sh",
                    "-c",
                    "test -t 0 || echo no-tty; exit 4",
                ])
                .stdin(Stdio::null())
                .output()
                .unwrap();
            assert_eq!(out.status.code(), Some(4));
            assert_eq!(String::from_utf8_lossy(&out.stdout), "no-tty\n");
            p.ok(&["down"]);
        },
    );
}

#[test]
fn run_rm_it_answers_typed_commands_and_returns_the_exit_code() {
    if !can_run_containers() {
        return;
    }
    isolated(
        "run_rm_it_answers_typed_commands_and_returns_the_exit_code",
        || {
            let p = Project::new(COMPOSE);
            let mut term =
                Terminal::berth(&p, &["run", "--rm", "-it", "shell", "sh"], size(25, 90));
            // The prompt shows before any newline: output is live.
            term.expect("# ");
            term.type_keys("stty size; echo $((6*7))\r");
            term.expect("25 90");
            term.expect("42");
            term.resize(size(33, 111));
            std::thread::sleep(Duration::from_millis(200));
            term.type_keys("stty size\r");
            term.expect("33 111");
            term.type_keys("exit 3\r");
            assert_eq!(term.exit_code(), 3, "{}", term.screen());
            assert_eq!(p.ok(&["ps", "-a", "-q"]), "", "--rm removed it");
        },
    );
}

#[test]
fn attach_shows_output_takes_input_and_detaches() {
    if !can_run_containers() {
        return;
    }
    isolated("attach_shows_output_takes_input_and_detaches", || {
        let p = Project::new(COMPOSE);
        p.ok(&["up", "-d", "console"]);
        let mut term = Terminal::berth(&p, &["attach", "console"], size(20, 70));
        std::thread::sleep(Duration::from_millis(300));
        term.type_keys("echo attached-$((40+2)); stty size\r");
        term.expect("attached-42");
        term.expect("20 70");
        // ctrl-p ctrl-q: detached, the container goes on.
        term.type_keys("\x10\x11");
        assert_eq!(term.exit_code(), 0, "{}", term.screen());
        assert_eq!(
            p.ok(&["ps", "--services", "--status", "running"]),
            "console\n"
        );

        // Attached again: the shell ends with what we type, and so do we.
        let mut term = Terminal::berth(
            &p,
            &["attach", "--detach-keys", "ctrl-a", "console"],
            size(20, 70),
        );
        std::thread::sleep(Duration::from_millis(300));
        term.type_keys("echo ag$((1))ain\r");
        term.expect("ag1ain");
        term.type_keys("exit 5\r");
        assert_eq!(term.exit_code(), 5, "{}", term.screen());

        let out = p.berth(&["attach", "--detach-keys", "alt-x", "console"]);
        assert_eq!(out.status.code(), Some(1));
        assert!(support::stderr(&out).contains("invalid key \"alt-x\""));
        p.ok(&["down"]);
    });
}
