//! The supervisor's control socket, `RUN_DIR/PROJECT/supervisor.sock`: one
//! JSON request per line, one JSON response per line. The CLI uses it to
//! make the supervisor act at once on what a command just changed
//! (`converge`: look at the containers now, answer when done), to ask what it
//! serves (`status`) and to end it (`shutdown`). Nothing depends on it for
//! correctness: the supervisor also converges on its own every tick, and
//! every command works from the state on disk when no supervisor answers.

use std::io::{self, BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// How long the CLI waits for an answer.
const CLIENT_TIMEOUT: Duration = Duration::from_secs(5);

/// Where a project's supervisor listens.
pub fn socket_path(run_dir: &Path, project: &str) -> PathBuf {
    run_dir.join(project).join("supervisor.sock")
}

/// What the CLI can ask.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "request", rename_all = "snake_case")]
pub enum Request {
    /// Re-read the containers and converge (DNS, ports, health, restarts)
    /// now; answer once done.
    Converge,
    /// Report what is served.
    Status,
    /// Exit (after `down`).
    Shutdown,
}

/// What the supervisor serves, as reported by `status`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Status {
    pub pid: u32,
    pub version: String,
    /// Names of the containers it watches.
    pub containers: Vec<String>,
    /// Names of the containers whose embedded DNS it serves.
    pub dns: Vec<String>,
    /// Names of the containers whose ports it publishes.
    pub ports: Vec<String>,
}

/// The supervisor's answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "response", rename_all = "snake_case")]
pub enum Response {
    Done,
    Status(Status),
    Error { message: String },
}

/// A request waiting for the main loop, with where its answer goes.
pub struct Pending {
    pub request: Request,
    pub reply: mpsc::Sender<Response>,
}

/// Listens on `path` (replacing a stale socket) and hands each request to
/// the main loop through `requests`; returns at once, serving on a thread.
pub fn listen(path: &Path, requests: mpsc::Sender<Pending>) -> io::Result<()> {
    let listener = berth_runtime::unix_socket::bind(path)?;
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let requests = requests.clone();
            std::thread::spawn(move || serve(stream, &requests));
        }
    });
    Ok(())
}

fn serve(stream: UnixStream, requests: &mpsc::Sender<Pending>) {
    let Ok(mut writer) = stream.try_clone() else {
        return;
    };
    for line in BufReader::new(stream).lines() {
        let Ok(line) = line else { return };
        let response = match serde_json::from_str::<Request>(&line) {
            Ok(request) => {
                let (reply, answer) = mpsc::channel();
                if requests.send(Pending { request, reply }).is_err() {
                    return;
                }
                answer.recv().unwrap_or(Response::Error {
                    message: "the supervisor is exiting".into(),
                })
            }
            Err(err) => Response::Error {
                message: format!("invalid request: {err}"),
            },
        };
        let Ok(mut text) = serde_json::to_string(&response) else {
            return;
        };
        text.push('\n');
        if writer.write_all(text.as_bytes()).is_err() {
            return;
        }
    }
}

/// Sends one request to the project's supervisor and returns its answer;
/// an error when none listens or it does not answer in time.
pub fn request(run_dir: &Path, project: &str, request: Request) -> io::Result<Response> {
    let stream = berth_runtime::unix_socket::connect(&socket_path(run_dir, project))?;
    stream.set_read_timeout(Some(CLIENT_TIMEOUT))?;
    stream.set_write_timeout(Some(CLIENT_TIMEOUT))?;
    let mut writer = stream.try_clone()?;
    let mut text = serde_json::to_string(&request).map_err(io::Error::other)?;
    text.push('\n');
    writer.write_all(text.as_bytes())?;
    let mut line = String::new();
    BufReader::new(stream).read_line(&mut line)?;
    serde_json::from_str(&line).map_err(io::Error::other)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_reach_the_loop_and_answers_come_back() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("p")).unwrap();
        let (sender, receiver) = mpsc::channel::<Pending>();
        listen(&socket_path(dir.path(), "p"), sender).unwrap();
        std::thread::spawn(move || {
            for pending in receiver {
                let answer = match pending.request {
                    Request::Status => Response::Status(Status {
                        pid: 7,
                        containers: vec!["p-web-1".into()],
                        ..Status::default()
                    }),
                    _ => Response::Done,
                };
                let _ = pending.reply.send(answer);
            }
        });
        assert_eq!(
            request(dir.path(), "p", Request::Converge).unwrap(),
            Response::Done
        );
        match request(dir.path(), "p", Request::Status).unwrap() {
            Response::Status(status) => {
                assert_eq!((status.pid, status.containers.len()), (7, 1))
            }
            other => panic!("{other:?}"),
        }
        assert!(request(dir.path(), "nobody", Request::Status).is_err());
    }

    #[test]
    fn wire_format_is_tagged_json() {
        assert_eq!(
            serde_json::to_string(&Request::Converge).unwrap(),
            r#"{"request":"converge"}"#
        );
        let bad: Result<Request, _> = serde_json::from_str(r#"{"request":"explode"}"#);
        assert!(bad.is_err());
    }
}
