//! How `logs` and a foreground `up` mark each output line with its
//! container, as docker compose v2 does: `web-1  | ` (the container name
//! without the project, or its `container_name`), padded to the longest
//! name, coloured per service when colour is on.

use std::collections::BTreeMap;

use crate::reconcile::temporary_name::original_name;

/// Compose's rainbow: cyan, yellow, green, magenta, blue, then bright ones.
const COLORS: &[&str] = &["36", "33", "32", "35", "34", "96", "93", "92", "95", "94"];

/// Whether lines are coloured: never with `--no-color` or `--ansi never`,
/// always with `--ansi always`; otherwise not when `NO_COLOR` is set
/// (<https://no-color.org>), else only on a terminal.
pub fn use_color(no_color: bool, ansi: &str) -> bool {
    let no_color_env = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    color_choice(
        no_color,
        ansi,
        no_color_env,
        std::io::IsTerminal::is_terminal(&std::io::stdout()),
    )
}

fn color_choice(no_color: bool, ansi: &str, no_color_env: bool, terminal: bool) -> bool {
    match ansi {
        _ if no_color => false,
        "never" => false,
        "always" => true,
        _ => !no_color_env && terminal,
    }
}

/// The name a container's lines are marked with: `web-1` for
/// `PROJECT-web-1` (also while a recreate gives it a temporary name), a
/// `container_name` as it is.
pub fn display_name(project: &str, service: &str, number: u32, name: &str) -> String {
    let name = original_name(name).unwrap_or(name);
    let short = format!("{service}-{number}");
    if name == format!("{project}-{short}") {
        short
    } else {
        name.to_string()
    }
}

/// Makes the prefixes of one command's output.
#[derive(Debug, Clone)]
pub struct Prefixes {
    enabled: bool,
    color: bool,
    width: usize,
    service_colors: BTreeMap<String, &'static str>,
}

impl Prefixes {
    /// `services` in the project's order (each keeps its colour however many
    /// containers come and go); `names` the display names known now.
    pub fn new<'a>(
        enabled: bool,
        color: bool,
        services: impl IntoIterator<Item = &'a String>,
        names: impl IntoIterator<Item = &'a String>,
    ) -> Prefixes {
        Prefixes {
            enabled,
            color,
            width: names
                .into_iter()
                .map(|n| n.chars().count())
                .max()
                .unwrap_or(0),
            service_colors: services
                .into_iter()
                .zip(COLORS.iter().cycle())
                .map(|(s, c)| (s.clone(), *c))
                .collect(),
        }
    }

    /// `web-1  | ` for a container of `service` shown as `name`.
    pub fn prefix(&self, service: &str, name: &str) -> String {
        if !self.enabled {
            return String::new();
        }
        let width = self.width;
        let label = format!("{name:<width$}  |");
        match self.service_colors.get(service).filter(|_| self.color) {
            Some(code) => format!("\x1b[{code}m{label}\x1b[0m "),
            None => format!("{label} "),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_drop_the_project() {
        assert_eq!(display_name("demo", "web", 2, "demo-web-2"), "web-2");
        assert_eq!(
            display_name("demo", "web", 1, "0123456789ab_demo-web-1"),
            "web-1"
        );
        assert_eq!(display_name("demo", "web", 1, "my-proxy"), "my-proxy");
    }

    #[test]
    fn prefixes_are_padded_and_coloured_per_service() {
        let services = ["db".to_string(), "web".to_string()];
        let names = ["db-1".to_string(), "web-10".to_string()];
        let plain = Prefixes::new(true, false, &services, &names);
        assert_eq!(plain.prefix("db", "db-1"), "db-1    | ");
        assert_eq!(plain.prefix("web", "web-10"), "web-10  | ");
        let colored = Prefixes::new(true, true, &services, &names);
        assert_eq!(colored.prefix("db", "db-1"), "\x1b[36mdb-1    |\x1b[0m ");
        assert_eq!(colored.prefix("web", "web-2"), "\x1b[33mweb-2   |\x1b[0m ");
        let none = Prefixes::new(false, true, &services, &names);
        assert_eq!(none.prefix("db", "db-1"), "");
    }

    #[test]
    fn colour_follows_flags_no_color_and_the_terminal() {
        assert!(color_choice(false, "auto", false, true));
        assert!(!color_choice(false, "auto", false, false));
        assert!(!color_choice(false, "auto", true, true), "NO_COLOR");
        assert!(!color_choice(true, "always", false, true), "--no-color");
        assert!(!color_choice(false, "never", false, true));
        assert!(color_choice(false, "always", true, false));
    }
}
