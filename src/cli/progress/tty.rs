//! The live progress view on a terminal: indicatif draws and redraws the
//! lines in place (a header and one bar per resource, in a
//! `MultiProgress`); what each line says comes from the shared
//! [`Board`], read whenever indicatif draws, so spinners and elapsed
//! times move while a resource is being worked on.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressState, ProgressStyle};

use super::board::{Board, Phase, Styles};

const TICK: Duration = Duration::from_millis(100);

pub struct View {
    multi: MultiProgress,
    header: ProgressBar,
    bars: Vec<ProgressBar>,
    board: Arc<Mutex<Board>>,
    styles: Styles,
}

impl View {
    pub fn new(colours: bool) -> View {
        let multi = MultiProgress::with_draw_target(ProgressDrawTarget::stderr());
        let board = Arc::new(Mutex::new(Board::default()));
        let styles = if colours {
            Styles::coloured()
        } else {
            Styles::plain()
        };
        let header = multi.add(ProgressBar::new_spinner().with_style(style(&board, None, &styles)));
        View {
            multi,
            header,
            bars: Vec::new(),
            board,
            styles,
        }
    }

    pub fn update(&mut self, id: &str, status: &str, text: &str) {
        // The board's lock is released before indicatif draws (drawing reads it).
        let (index, new) = lock(&self.board).update(id, status, text, Instant::now());
        if new {
            let bar = ProgressBar::new_spinner().with_style(style(
                &self.board,
                Some(index),
                &self.styles,
            ));
            self.bars.push(self.multi.add(bar));
        }
        let bar = &self.bars[index];
        if Phase::of(status) == Phase::Working {
            bar.enable_steady_tick(TICK);
        } else {
            bar.disable_steady_tick();
        }
        // A new, wider name or status re-aligns every line.
        self.header.force_draw();
        for bar in &self.bars {
            bar.force_draw();
        }
    }

    /// Leaves every line on the terminal with its final state.
    pub fn finish(self) {
        self.header.finish();
        for bar in &self.bars {
            bar.finish();
        }
    }
}

fn lock(board: &Mutex<Board>) -> std::sync::MutexGuard<'_, Board> {
    board
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// A bar whose whole line is the board's: its header (`index` `None`) or
/// the line of the resource at `index`.
fn style(board: &Arc<Mutex<Board>>, index: Option<usize>, styles: &Styles) -> ProgressStyle {
    let board = board.clone();
    let styles = styles.clone();
    let line = move |_: &ProgressState, out: &mut dyn std::fmt::Write| {
        let board = lock(&board);
        let text = match index {
            None => board.header(),
            Some(index) => board.line(index, Instant::now(), &styles),
        };
        let _ = out.write_str(&text);
    };
    ProgressStyle::with_template("{line}")
        .expect("a fixed template")
        .with_key("line", line)
}
