//! Leniency where libyaml (and so `docker compose`) accepts what saphyr
//! refuses as "invalid indentation":
//!
//! - lines inside a flow collection at or left of the parent's indentation,
//!   most often the closing bracket of
//!   ```yaml
//!   command: [
//!     "a", "b"
//!   ]
//!   ```
//! - continuation lines of a quoted scalar left of where it started.
//!
//! Leading whitespace on those lines carries no meaning, so the repair moves
//! the offending lines right and parses again. Columns are mapped back to
//! the original text for every span. The number of repairs is bounded so
//! that re-parsing never costs more than a fixed amount of scanning.

use saphyr_parser::{Marker, ScanError};
use std::borrow::Cow;
use std::collections::HashMap;

/// Most bytes re-scanned because of repairs, all passes together.
const RESCAN_BUDGET: usize = 32 << 20;
/// Bounds on the number of repairs, whatever the size of the text.
const MIN_REPAIRS: usize = 16;
const MAX_REPAIRS: usize = 10_000;

/// The text being parsed, with the lines moved right so far.
pub(super) struct Source<'t> {
    text: Cow<'t, str>,
    /// Columns inserted at the start of a (1-based) line.
    shifts: HashMap<usize, usize>,
    repairs: usize,
    max_repairs: usize,
}

impl<'t> Source<'t> {
    pub(super) fn new(text: &'t str) -> Self {
        let max_repairs = (RESCAN_BUDGET / text.len().max(1)).clamp(MIN_REPAIRS, MAX_REPAIRS);
        Source {
            text: Cow::Borrowed(text),
            shifts: HashMap::new(),
            repairs: 0,
            max_repairs,
        }
    }

    /// The text to parse (with repairs applied).
    pub(super) fn text(&self) -> &str {
        &self.text
    }

    /// The 0-based column `mark` has in the original text.
    pub(super) fn original_col(&self, mark: Marker) -> usize {
        let shift = self.shifts.get(&mark.line()).copied().unwrap_or(0);
        mark.col().saturating_sub(shift)
    }

    /// Tries to repair the text so that `err` goes away. `flow_col` is the
    /// column of the outermost open flow collection, if any. Returns false
    /// when the error is not one this module repairs, or the budget is spent.
    pub(super) fn try_repair(&mut self, err: &ScanError, flow_col: Option<usize>) -> bool {
        if self.repairs >= self.max_repairs {
            return false;
        }
        let mark = *err.marker();
        let repaired = match err.info() {
            "invalid indentation" | "invalid indentation in flow construct" => {
                self.repair_flow_line(mark, flow_col)
            }
            "tabs disallowed within this context (block indentation)" if flow_col.is_some() => {
                self.repair_flow_line(mark, flow_col)
            }
            "invalid indentation in quoted scalar" => self.repair_quoted(mark),
            _ => false,
        };
        if repaired {
            self.repairs += 1;
        }
        repaired
    }

    /// Moves right the line of a token found left of the flow indentation
    /// (or behind a tab there). The token moves to the column of the flow
    /// collection's bracket when the parser got to see it, else to one past
    /// the indentation of the previous line with content (the parser may
    /// stop before it reports the bracket); at least one column either way.
    fn repair_flow_line(&mut self, mark: Marker, flow_col: Option<usize>) -> bool {
        let Some(line) = line_text(&self.text, mark.line()) else {
            return false;
        };
        if leading_blanks(line) != mark.col() {
            return false;
        }
        let first_tab = line
            .chars()
            .take_while(|c| *c == ' ' || *c == '\t')
            .position(|c| c == '\t');
        let from = first_tab.unwrap_or(mark.col());
        let guess = flow_col.unwrap_or_else(|| previous_content_col(&self.text, mark.line()) + 1);
        let target = guess.max(mark.col() + 1);
        self.insert(&[(mark.line(), target - from)]);
        true
    }

    /// Moves the continuation lines of the quoted scalar starting at `mark`
    /// that sit left of its opening quote.
    fn repair_quoted(&mut self, mark: Marker) -> bool {
        let Some(start) = self.text.char_indices().nth(mark.index()).map(|(i, _)| i) else {
            return false;
        };
        let Some(end) = quoted_end(&self.text, start) else {
            return false;
        };
        let last_line = mark.line() + self.text[start..end].matches('\n').count();
        let target = mark.col();
        let inserts: Vec<(usize, usize)> = (mark.line() + 1..=last_line)
            .filter_map(|line| {
                let text = line_text(&self.text, line)?;
                let blanks = leading_blanks(text);
                let content = text.trim_end_matches(['\r', '\n']).chars().count() > blanks;
                (content && blanks < target).then_some((line, target - blanks))
            })
            .collect();
        if inserts.is_empty() {
            return false;
        }
        self.insert(&inserts);
        true
    }

    /// Inserts spaces at the start of lines: `(line, count)`, lines 1-based.
    fn insert(&mut self, inserts: &[(usize, usize)]) {
        let wanted: HashMap<usize, usize> = inserts.iter().copied().collect();
        let mut out = String::with_capacity(self.text.len() + inserts.len() * 8);
        for (i, line) in self.text.split_inclusive('\n').enumerate() {
            if let Some(&count) = wanted.get(&(i + 1)) {
                out.extend(std::iter::repeat_n(' ', count));
            }
            out.push_str(line);
        }
        for (line, count) in inserts {
            *self.shifts.entry(*line).or_insert(0) += count;
        }
        self.text = Cow::Owned(out);
    }
}

/// The text of a 1-based line (with its line break).
fn line_text(text: &str, line: usize) -> Option<&str> {
    text.split_inclusive('\n').nth(line.checked_sub(1)?)
}

/// The indentation of the last line before `line` with content other than
/// a comment (0 when there is none).
fn previous_content_col(text: &str, line: usize) -> usize {
    text.split_inclusive('\n')
        .take(line.saturating_sub(1))
        .filter(|l| {
            let content = l
                .trim_start_matches([' ', '\t'])
                .trim_end_matches(['\r', '\n']);
            !content.is_empty() && !content.starts_with('#')
        })
        .last()
        .map_or(0, leading_blanks)
}

/// Width of the leading spaces and tabs, in characters.
fn leading_blanks(line: &str) -> usize {
    line.chars().take_while(|c| *c == ' ' || *c == '\t').count()
}

/// Byte offset of the closing quote of the quoted scalar opening at `start`.
fn quoted_end(text: &str, start: usize) -> Option<usize> {
    let rest = text.get(start..)?;
    let mut chars = rest.char_indices();
    let (_, quote) = chars.next()?;
    match quote {
        '"' => loop {
            let (i, c) = chars.next()?;
            match c {
                '\\' => {
                    chars.next()?;
                }
                '"' => return Some(start + i),
                _ => {}
            }
        },
        '\'' => loop {
            let (i, c) = chars.next()?;
            if c != '\'' {
                continue;
            }
            if rest[i + 1..].starts_with('\'') {
                chars.next();
            } else {
                return Some(start + i);
            }
        },
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_closing_quotes() {
        assert_eq!(quoted_end(r#"x "a\"b" y"#, 2), Some(7));
        assert_eq!(quoted_end("x 'a''b' y", 2), Some(7));
        assert_eq!(quoted_end("x 'a", 2), None);
        assert_eq!(quoted_end("x a", 2), None);
    }

    #[test]
    fn inserts_spaces_and_maps_columns_back() {
        let mut source = Source::new("a: [\n]\nb: 1\n");
        source.insert(&[(2, 4)]);
        assert_eq!(source.text(), "a: [\n    ]\nb: 1\n");
        assert_eq!(source.original_col(Marker::new(9, 2, 4)), 0);
        assert_eq!(source.original_col(Marker::new(11, 3, 0)), 0);
    }

    #[test]
    fn flow_lines_move_only_when_the_token_starts_the_line() {
        let mut source = Source::new("a: [\nx, y]\n");
        assert!(!source.repair_flow_line(Marker::new(8, 2, 3), Some(3)));
        assert!(source.repair_flow_line(Marker::new(5, 2, 0), Some(3)));
        assert_eq!(source.text(), "a: [\n   x, y]\n");
        assert!(source.repair_flow_line(Marker::new(8, 2, 3), Some(3)));
        assert_eq!(source.text(), "a: [\n    x, y]\n");
    }

    #[test]
    fn without_the_bracket_the_previous_line_guides() {
        let mut source = Source::new("k:\n  - [\n  # note\n\n  a]\n");
        assert!(source.repair_flow_line(Marker::new(19, 5, 2), None));
        assert_eq!(source.text(), "k:\n  - [\n  # note\n\n   a]\n");
        let mut source = Source::new("a: [\n\t b]\n");
        assert!(source.repair_flow_line(Marker::new(7, 2, 2), Some(3)));
        assert_eq!(source.text(), "a: [\n   \t b]\n");
        assert_eq!(previous_content_col("x\n", 1), 0);
    }
}
