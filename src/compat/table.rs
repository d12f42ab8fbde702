//! Renders the registry as `docs/compatibility.md`. A test compares the
//! file with this output, so the document is regenerated (run the tests
//! with `BERTH_UPDATE_DOCS=1`) whenever the registry or the CLI changes.

use std::fmt::Write;

use super::attributes::ATTRIBUTES;
use super::commands::cli_rows;
use super::Support;

/// The whole document.
pub fn compatibility_markdown() -> String {
    let mut out = String::new();
    out.push_str(
        "# Compatibility with the Compose specification and docker compose\n\n\
         Generated from berth's code (`src/compat/`); a test fails when this file is stale.\n\
         Regenerate it with `BERTH_UPDATE_DOCS=1 cargo test --lib compat`.\n\n\
         Every element a Compose file can hold and every `docker compose` command and flag is\n\
         in one of three states:\n\n\
         - **supported**: honoured as the specification says (the notes give limits on values);\n\
         - **accepted with a warning**: `up`, `create` and `run` print the warning and go on\n  \
         without it;\n\
         - **refused**: `up`, `create` and `run` stop with the message before anything is made.\n\n\
         An element is covered by the nearest row above it in its path\n\
         (`services.*.deploy` covers `services.*.deploy.replicas` unless that has its own row).\n\
         `*` stands for a name the user chooses.\n\n",
    );
    let (supported, warned, refused) = counts(ATTRIBUTES.iter().map(|a| a.support));
    let _ = writeln!(
        out,
        "## Compose file\n\n{supported} supported, {warned} accepted with a warning, {refused} refused.\n"
    );
    let sections: [Section; 3] = [
        ("Top-level elements", |p| !p.contains('.')),
        ("Services", |p| p.starts_with("services.")),
        ("Networks, volumes, secrets, configs, include", |p| {
            p.contains('.') && !p.starts_with("services.")
        }),
    ];
    for (title, belongs) in sections {
        let _ = writeln!(out, "### {title}\n");
        out.push_str("| Element | Status | Notes, warning or error |\n|---|---|---|\n");
        for attribute in ATTRIBUTES.iter().filter(|a| belongs(a.path)) {
            let _ = writeln!(
                out,
                "| `{}` | {} | {} |",
                attribute.path,
                attribute.support.label(),
                cell(&explain(attribute.support, attribute.note))
            );
        }
        out.push('\n');
    }
    let rows = cli_rows();
    let (supported, warned, refused) = counts(rows.iter().map(|r| r.support));
    let _ = writeln!(
        out,
        "## Command line\n\n{supported} supported, {warned} accepted with a warning, {refused} refused.\n\
         \"berth only\" marks commands and flags docker compose does not have.\n"
    );
    out.push_str("| Command | Flag | Status | Notes or error |\n|---|---|---|---|\n");
    for row in rows {
        let command = if row.command.is_empty() {
            "(global)".to_string()
        } else {
            format!("`{}`", row.command)
        };
        let flag = row
            .flag
            .as_deref()
            .map_or_else(String::new, |f| format!("`{f}`"));
        let origin = if row.in_compose { "" } else { "berth only" };
        let _ = writeln!(
            out,
            "| {command} | {flag} | {} | {} |",
            row.support.label(),
            cell(&explain(row.support, origin))
        );
    }
    out.push('\n');
    out.push_str(super::commands::TERMINAL_NOTES);
    out
}

/// A table section: its title and which paths it holds.
type Section = (&'static str, fn(&str) -> bool);

fn counts(supports: impl Iterator<Item = Support>) -> (usize, usize, usize) {
    supports.fold((0, 0, 0), |(s, w, r), support| match support {
        Support::Supported => (s + 1, w, r),
        Support::Warned(_) => (s, w + 1, r),
        Support::Refused(_) => (s, w, r + 1),
    })
}

fn explain(support: Support, note: &str) -> String {
    match support {
        Support::Supported => note.to_string(),
        Support::Warned(why) => format!("warning: {why}"),
        Support::Refused(message) => format!("error: {message}"),
    }
}

fn cell(text: &str) -> String {
    text.replace('|', "\\|")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_compatibility_document_is_current() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/compatibility.md");
        let fresh = compatibility_markdown();
        if std::env::var_os("BERTH_UPDATE_DOCS").is_some() {
            std::fs::write(path, &fresh).unwrap();
            return;
        }
        let current = std::fs::read_to_string(path).unwrap_or_default();
        assert!(
            current == fresh,
            "docs/compatibility.md is stale: run `BERTH_UPDATE_DOCS=1 cargo test --lib compat`"
        );
    }
}
