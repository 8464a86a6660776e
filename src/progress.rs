//! Progress bars (indicatif) for long queries and writes: shown only when stderr is a
//! terminal and not silenced with `-q`, never in cron or CI logs. Runs executed side by
//! side (`run-due --max-parallel`) each get a `lane`: one line each on the same display.

use std::io::IsTerminal;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressStyle};

#[derive(Clone, Default)]
pub struct Progress {
    enabled: bool,
    bar: Arc<Mutex<Option<ProgressBar>>>,
    /// The display the lanes share; `None` for a single line.
    multi: Option<MultiProgress>,
}

impl Progress {
    /// A progress display on stderr if it is a terminal; otherwise one that does nothing.
    pub fn for_stderr() -> Self {
        Progress {
            enabled: std::io::stderr().is_terminal() && crate::ui::level() >= 1,
            bar: Arc::default(),
            multi: None,
        }
    }

    /// A progress display of its own for one of several runs in flight: its line joins
    /// the others on the same display.
    pub fn lane(&mut self) -> Progress {
        let multi = self.multi.get_or_insert_with(MultiProgress::new).clone();
        Progress {
            enabled: self.enabled,
            bar: Arc::default(),
            multi: Some(multi),
        }
    }

    pub fn disabled() -> Self {
        Progress::default()
    }

    pub fn start(&self, label: &str) {
        if !self.enabled {
            return;
        }
        let bar = ProgressBar::new_spinner();
        bar.set_style(
            ProgressStyle::with_template(
                "{spinner} {prefix}: {human_pos} rows ({per_sec}, {elapsed})",
            )
            .expect("valid template"),
        );
        bar.set_prefix(label.to_string());
        let bar = match &self.multi {
            Some(m) => m.add(bar),
            None => bar,
        };
        bar.enable_steady_tick(Duration::from_millis(200));
        *self.bar.lock().unwrap() = Some(bar);
    }

    pub fn rows(&self, rows: u64) {
        if let Some(bar) = self.bar.lock().unwrap().as_ref() {
            bar.set_position(rows);
        }
    }

    pub fn finish(&self) {
        if let Some(bar) = self.bar.lock().unwrap().take() {
            bar.finish_and_clear();
        }
    }
}
