//! What commands report about the resources they act on (` Container
//! demo-web-1  Started`), in the form `--progress` asks for: plain lines
//! (`auto`, `tty`, `plain`), one JSON object per line (`json`), or nothing
//! (`quiet`). Always on stderr, as docker compose does.

use std::io::Write;
use std::sync::OnceLock;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Plain,
    Json,
    Quiet,
}

static MODE: OnceLock<Mode> = OnceLock::new();

/// Sets the mode from `--progress`; an unknown value is an error.
pub fn set_mode(text: &str) -> anyhow::Result<()> {
    let mode = match text {
        "auto" | "tty" | "plain" => Mode::Plain,
        "json" => Mode::Json,
        "quiet" => Mode::Quiet,
        other => {
            anyhow::bail!("--progress {other:?}: expected one of auto, tty, plain, json, quiet")
        }
    };
    let _ = MODE.set(mode);
    Ok(())
}

/// Reports that the `kind` (`Container`, `Network`, …) named `name` is now
/// in `status`.
pub fn report(kind: &str, name: &str, status: &str) {
    if let Some(line) = render(*MODE.get().unwrap_or(&Mode::Plain), kind, name, status) {
        // A closed stderr (SIGPIPE ignored while a plan runs) is no reason
        // to stop the work being reported on.
        let _ = writeln!(std::io::stderr(), "{line}");
    }
}

fn render(mode: Mode, kind: &str, name: &str, status: &str) -> Option<String> {
    match mode {
        Mode::Plain => Some(format!(" {kind} {name}  {status}")),
        Mode::Json => {
            Some(serde_json::json!({"id": format!("{kind} {name}"), "status": status}).to_string())
        }
        Mode::Quiet => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_mode_renders_as_compose_does() {
        assert_eq!(
            render(Mode::Plain, "Container", "p-web-1", "Started").unwrap(),
            " Container p-web-1  Started"
        );
        assert_eq!(
            render(Mode::Json, "Network", "p_default", "Created").unwrap(),
            r#"{"id":"Network p_default","status":"Created"}"#
        );
        assert_eq!(render(Mode::Quiet, "Volume", "v", "Removed"), None);
        assert!(set_mode("fancy").is_err());
    }
}
