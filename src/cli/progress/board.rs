//! The state of a live progress view, and how it reads as text: one entry
//! per resource (`Container demo-web-1`) with its latest status, whether it
//! is still being worked on, and how long it took, rendered as the lines
//! docker compose draws on a terminal (`[+] Running 2/3`,
//! ` ✔ Container demo-web-1  Started  0.4s`). Pure: time and colours are
//! passed in, so the rendering is tested without a terminal.

use std::time::{Duration, Instant};

use console::Style;

/// Where a resource is: being worked on (a spinner), done (✔) or failed (✘).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    Working,
    Done,
    Error,
}

impl Phase {
    /// The phase a status word means: `Creating`, `Waiting`, … are work in
    /// progress; `Created`, `Running`, `Healthy`, … are done.
    pub fn of(status: &str) -> Phase {
        const WORKING: &[&str] = &[
            "Creating",
            "Starting",
            "Stopping",
            "Removing",
            "Waiting",
            "Pulling",
            "Recreate",
            "Restarting",
            "Killing",
            "Pausing",
            "Unpausing",
        ];
        if WORKING.contains(&status) {
            Phase::Working
        } else if status.starts_with("Error") {
            Phase::Error
        } else {
            Phase::Done
        }
    }
}

/// One resource's line.
#[derive(Debug, Clone)]
pub struct Entry {
    /// `Container demo-web-1`.
    pub id: String,
    /// The latest status word: `Started`, `Healthy`, `Error`.
    pub status: String,
    /// What more there is to say (an error's message).
    pub text: String,
    pub phase: Phase,
    first: Instant,
    ended: Option<Instant>,
}

impl Entry {
    /// From its first event until it was last done (or until `now`).
    pub fn elapsed(&self, now: Instant) -> Duration {
        self.ended
            .unwrap_or(now)
            .saturating_duration_since(self.first)
    }
}

/// The colours of a view; [`Styles::plain`] has none.
#[derive(Debug, Clone)]
pub struct Styles {
    done: Style,
    working: Style,
    error: Style,
    time: Style,
}

impl Styles {
    pub fn plain() -> Styles {
        Styles {
            done: Style::new(),
            working: Style::new(),
            error: Style::new(),
            time: Style::new(),
        }
    }

    /// Green for done, blue for work in progress, red for failures, the
    /// time dimmed: escape codes whether or not the output is a terminal
    /// (the caller decides, from `--ansi`).
    pub fn coloured() -> Styles {
        Styles {
            done: Style::new().green().force_styling(true),
            working: Style::new().blue().force_styling(true),
            error: Style::new().red().bold().force_styling(true),
            time: Style::new().dim().force_styling(true),
        }
    }
}

const SPINNER: &[&str] = &["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];
const SPINNER_FRAME: Duration = Duration::from_millis(100);

/// Every resource a command has reported on, in the order first seen.
#[derive(Debug, Clone, Default)]
pub struct Board {
    entries: Vec<Entry>,
}

impl Board {
    /// Records `status` for the resource `id`; returns its index and
    /// whether it is new. Its time runs from its first event to the last
    /// one that left it done (or failed).
    pub fn update(&mut self, id: &str, status: &str, text: &str, now: Instant) -> (usize, bool) {
        let phase = Phase::of(status);
        let ended = (phase != Phase::Working).then_some(now);
        if let Some(index) = self.entries.iter().position(|e| e.id == id) {
            let entry = &mut self.entries[index];
            entry.status = status.to_string();
            entry.text = text.to_string();
            entry.phase = phase;
            entry.ended = ended;
            return (index, false);
        }
        self.entries.push(Entry {
            id: id.to_string(),
            status: status.to_string(),
            text: text.to_string(),
            phase,
            first: now,
            ended,
        });
        (self.entries.len() - 1, true)
    }

    /// `[+] Running 2/3`: how many resources are done out of all of them.
    pub fn header(&self) -> String {
        let done = self
            .entries
            .iter()
            .filter(|e| e.phase == Phase::Done)
            .count();
        format!("[+] Running {done}/{}", self.entries.len())
    }

    /// ` ✔ Container demo-web-1  Started  0.4s`, names and statuses
    /// padded to the widest so the columns line up.
    pub fn line(&self, index: usize, now: Instant, styles: &Styles) -> String {
        let entry = &self.entries[index];
        let id_width = self.entries.iter().map(|e| e.id.chars().count()).max();
        let status_width = self.entries.iter().map(|e| e.status.chars().count()).max();
        let (icon, style) = match entry.phase {
            Phase::Done => ("✔".to_string(), &styles.done),
            Phase::Error => ("✘".to_string(), &styles.error),
            Phase::Working => {
                let frame = entry.elapsed(now).as_millis() / SPINNER_FRAME.as_millis();
                let spinner = SPINNER[frame as usize % SPINNER.len()];
                (spinner.to_string(), &styles.working)
            }
        };
        let status = format!(
            "{:<width$}",
            entry.status,
            width = status_width.unwrap_or(0)
        );
        let seconds = format!("{:.1}s", entry.elapsed(now).as_secs_f64());
        let mut line = format!(
            " {} {:<id_width$}  {}  {}",
            style.apply_to(icon),
            entry.id,
            style.apply_to(status),
            styles.time.apply_to(seconds),
            id_width = id_width.unwrap_or(0)
        );
        if !entry.text.is_empty() {
            line.push_str(&format!(" {}", styles.error.apply_to(&entry.text)));
        }
        line
    }

    /// Every line, header first: what the terminal shows once the command
    /// is done.
    #[cfg(test)]
    pub fn render(&self, now: Instant, styles: &Styles) -> Vec<String> {
        std::iter::once(self.header())
            .chain((0..self.entries.len()).map(|i| self.line(i, now, styles)))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(start: Instant, millis: u64) -> Instant {
        start + Duration::from_millis(millis)
    }

    #[test]
    fn a_resource_keeps_one_line_from_creating_to_started() {
        let t0 = Instant::now();
        let mut board = Board::default();
        assert_eq!(
            board.update("Network p_default", "Creating", "", t0),
            (0, true)
        );
        assert_eq!(
            board.update("Network p_default", "Created", "", at(t0, 100)),
            (0, false)
        );
        board.update("Container p-web-1", "Creating", "", at(t0, 100));
        board.update("Container p-web-1", "Created", "", at(t0, 300));
        board.update("Container p-web-1", "Starting", "", at(t0, 300));
        assert_eq!(board.header(), "[+] Running 1/2");
        let running = board.line(1, at(t0, 460), &Styles::plain());
        assert_eq!(running, " ⠸ Container p-web-1  Starting  0.4s");
        board.update("Container p-web-1", "Started", "", at(t0, 500));
        assert_eq!(
            board.render(at(t0, 9000), &Styles::plain()),
            vec![
                "[+] Running 2/2",
                " ✔ Network p_default  Created  0.1s",
                " ✔ Container p-web-1  Started  0.4s",
            ]
        );
    }

    #[test]
    fn failures_are_marked_and_say_why() {
        let t0 = Instant::now();
        let mut board = Board::default();
        board.update("Container p-db-1", "Starting", "", t0);
        board.update("Container p-db-1", "Error", "no space left", at(t0, 200));
        assert_eq!(board.header(), "[+] Running 0/1");
        assert_eq!(
            board.line(0, at(t0, 5000), &Styles::plain()),
            " ✘ Container p-db-1  Error  0.2s no space left"
        );
    }

    #[test]
    fn colours_are_only_there_when_asked_for() {
        let t0 = Instant::now();
        let mut board = Board::default();
        board.update("Container p-web-1", "Healthy", "", t0);
        assert!(!board.line(0, t0, &Styles::plain()).contains('\u{1b}'));
        let coloured = board.line(0, t0, &Styles::coloured());
        assert!(coloured.contains("\u{1b}[32m✔"), "{coloured:?}");
    }

    #[test]
    fn status_words_have_their_phase() {
        assert_eq!(Phase::of("Creating"), Phase::Working);
        assert_eq!(Phase::of("Waiting"), Phase::Working);
        assert_eq!(Phase::of("Running"), Phase::Done);
        assert_eq!(Phase::of("Healthy"), Phase::Done);
        assert_eq!(Phase::of("Error"), Phase::Error);
    }
}
