//! What commands report about the resources they act on (`Container
//! demo-web-1` is `Started`), in the form `--progress` asks for, always on
//! stderr as docker compose does:
//!
//! - `tty` (and `auto` when stderr is a terminal): a live view, one line per
//!   resource updated in place, with a spinner, the elapsed time and
//!   colours (`--ansi`), drawn by indicatif ([`tty`]) from a [`board::Board`];
//! - `plain` (and `auto` when piped): one line per event,
//!   ` Container demo-web-1  Started`;
//! - `json`: one JSON object per event and line: `id` (the resource),
//!   `status` (the status word: `Creating`, `Started`, `Healthy`, `Error`, …)
//!   and, when there is more to say (an error's message), `text`;
//! - `quiet`: nothing.
//!
//! Commands call [`report`] (or [`report_error`]) as things happen, from
//! any thread, and [`finish`] before printing anything else on the
//! terminal (`cli::run` calls it when the command ends).

pub mod board;
mod tty;

use std::io::Write;
use std::sync::Mutex;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Tty { colours: bool },
    Plain,
    Json,
    Quiet,
}

struct State {
    mode: Mode,
    /// The live view, from the first event until [`finish`].
    view: Option<tty::View>,
}

static STATE: Mutex<State> = Mutex::new(State {
    mode: Mode::Plain,
    view: None,
});

/// Sets the mode from `--progress` and `--ansi`; an unknown value is an error.
/// `auto` (and `tty`) draw the live view only when stderr is a terminal.
pub fn set_mode(progress: &str, ansi: &str) -> anyhow::Result<()> {
    use std::io::IsTerminal;
    let terminal = std::io::stderr().is_terminal();
    let colours = match ansi {
        "never" => false,
        "always" => true,
        "auto" => terminal && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()),
        other => anyhow::bail!("--ansi {other:?}: expected one of never, always, auto"),
    };
    let mode = choose_mode(progress, terminal, colours)?;
    lock().mode = mode;
    Ok(())
}

fn choose_mode(progress: &str, terminal: bool, colours: bool) -> anyhow::Result<Mode> {
    Ok(match progress {
        "auto" | "tty" if terminal => Mode::Tty { colours },
        "auto" | "tty" | "plain" => Mode::Plain,
        "json" => Mode::Json,
        "quiet" => Mode::Quiet,
        other => {
            anyhow::bail!("--progress {other:?}: expected one of auto, tty, plain, json, quiet")
        }
    })
}

fn lock() -> std::sync::MutexGuard<'static, State> {
    STATE
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Whether events draw the live view (other progress output, such as
/// per-layer pull bars, would fight it for the terminal).
pub fn is_live() -> bool {
    matches!(lock().mode, Mode::Tty { .. })
}

/// Reports that the `kind` (`Container`, `Network`, …) named `name` is now
/// in `status` (`Creating`, `Started`, …).
pub fn report(kind: &str, name: &str, status: &str) {
    event(&format!("{kind} {name}"), status, "");
}

/// Reports that acting on `kind` `name` failed with `message`.
pub fn report_error(kind: &str, name: &str, message: &str) {
    event(&format!("{kind} {name}"), "Error", message);
}

fn event(id: &str, status: &str, text: &str) {
    let mut state = lock();
    match state.mode {
        Mode::Tty { colours } => state
            .view
            .get_or_insert_with(|| tty::View::new(colours))
            .update(id, status, text),
        mode => {
            if let Some(line) = render(mode, id, status, text) {
                // A closed stderr (SIGPIPE ignored while a plan runs) is no
                // reason to stop the work being reported on.
                let _ = writeln!(std::io::stderr(), "{line}");
            }
        }
    }
}

/// Ends the live view (its lines stay on the terminal with their final
/// states); the next event starts a new one below.
pub fn finish() {
    let view = lock().view.take();
    if let Some(view) = view {
        view.finish();
    }
}

/// One event as a line of the non-live modes; `None` when quiet.
fn render(mode: Mode, id: &str, status: &str, text: &str) -> Option<String> {
    match mode {
        Mode::Plain if text.is_empty() => Some(format!(" {id}  {status}")),
        Mode::Plain => Some(format!(" {id}  {status}: {text}")),
        Mode::Json => {
            let mut object = serde_json::json!({"id": id, "status": status});
            if !text.is_empty() {
                object["text"] = text.into();
            }
            Some(object.to_string())
        }
        Mode::Quiet | Mode::Tty { .. } => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_mode_renders_as_compose_does() {
        assert_eq!(
            render(Mode::Plain, "Container p-web-1", "Started", "").unwrap(),
            " Container p-web-1  Started"
        );
        assert_eq!(
            render(Mode::Plain, "Container p-web-1", "Error", "no space").unwrap(),
            " Container p-web-1  Error: no space"
        );
        assert_eq!(
            render(Mode::Json, "Network p_default", "Created", "").unwrap(),
            r#"{"id":"Network p_default","status":"Created"}"#
        );
        assert_eq!(
            render(Mode::Json, "Container p-db-1", "Error", "exited").unwrap(),
            r#"{"id":"Container p-db-1","status":"Error","text":"exited"}"#
        );
        assert_eq!(render(Mode::Quiet, "Volume v", "Removed", ""), None);
    }

    #[test]
    fn the_live_view_is_only_for_a_terminal() {
        assert_eq!(
            choose_mode("auto", true, true).unwrap(),
            Mode::Tty { colours: true }
        );
        assert_eq!(choose_mode("auto", false, false).unwrap(), Mode::Plain);
        assert_eq!(choose_mode("tty", false, false).unwrap(), Mode::Plain);
        assert_eq!(choose_mode("plain", true, true).unwrap(), Mode::Plain);
        assert_eq!(choose_mode("quiet", true, true).unwrap(), Mode::Quiet);
        assert!(choose_mode("fancy", true, true).is_err());
    }
}
