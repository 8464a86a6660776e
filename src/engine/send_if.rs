//! Sending only when it matters: a report's `condition` (an alert) and `send_empty =
//! false`. Both end a run `completed` without delivering, its reason recorded in the
//! ledger (`NotSent`) and its detail saying why, so that `check` sees a success, a later
//! `run-due` owes nothing, and `history` and the metrics show it.
//!
//! The condition runs before anything is rendered, on the report's source with the
//! window's parameters, as outputs' queries do (`source::open`/`stream`, read-only). It
//! is true when its first row's first cell is not NULL, not 0 (integer, real or exact
//! number), not empty text and not false (`false`, or the text `f` or `false` in any
//! case); no row is false. Only the first row is read.

use anyhow::Result;

use crate::config::recipients::Recipient;
use crate::config::{Config, Report};
use crate::ledger::{FileRecord, NotSent};
use crate::render::preview::cut_to;
use crate::schedule::Window;
use crate::source::{self, Cell, Column, RowSink};

/// The first cell is shown in details cut to this many characters.
const SHOWN_CHARS: usize = 60;

/// What the condition said: whether the run delivers, and the first cell as shown
/// (`None`: no row).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    pub holds: bool,
    pub cell: Option<String>,
}

impl Verdict {
    /// `first cell: 0`, `first cell: 'yes'`, `no row`.
    fn what(&self) -> String {
        match &self.cell {
            Some(c) => format!("first cell: {c}"),
            None => "no row".into(),
        }
    }

    /// The run's detail: `condition true (first cell: 1)`, or `condition false, not
    /// sent (no row)`.
    pub fn detail(&self) -> String {
        if self.holds {
            format!("condition true ({})", self.what())
        } else {
            format!("condition false, not sent ({})", self.what())
        }
    }
}

/// The detail of a run not sent because its files held no rows.
pub const EMPTY_DETAIL: &str = "empty, not sent (no rows; send_empty = false)";

/// Runs the report's condition for `window` (and the run's recipient, whose columns are
/// bound as they are in the outputs); `None` when the report has none.
pub fn condition(
    config: &Config,
    report: &Report,
    (window, recipient): (&Window, Option<&Recipient>),
) -> Result<Option<Verdict>> {
    let Some(query) = &report.condition else {
        return Ok(None);
    };
    let mut first = FirstCell::default();
    let streamed = source::open(config, report, query, (window, recipient)).stream(&mut first);
    // The sink stops the query after the first row: an error then is that stop (a
    // source may have wrapped or restated it), not a failure.
    match streamed {
        Err(e) if !first.stopped => {
            Err(e.context(format!("report \"{}\": the condition", report.name)))
        }
        _ => Ok(Some(Verdict {
            holds: first.holds,
            cell: first.shown,
        })),
    }
}

/// `report` as `--force` runs it: without its condition, empty files sent.
pub fn forced(report: &Report) -> Report {
    Report {
        condition: None,
        send_empty: true,
        ..report.clone()
    }
}

/// Whether a run with `files` is not to be sent because it is empty.
pub fn empty_not_sent(report: &Report, files: &[FileRecord]) -> Option<NotSent> {
    let rows: u64 = files.iter().map(|f| f.rows).sum();
    (!report.send_empty && rows == 0).then_some(NotSent::Empty)
}

/// Keeps the first cell of the first row: its truth and how it is shown.
#[derive(Default)]
struct FirstCell {
    seen: bool,
    /// The first row ended: the query was told to stop.
    stopped: bool,
    holds: bool,
    shown: Option<String>,
}

impl RowSink for FirstCell {
    fn columns(&mut self, _columns: &[Column<'_>]) -> Result<()> {
        Ok(())
    }

    fn cell(&mut self, value: Cell<'_>) -> Result<()> {
        if !self.seen {
            self.seen = true;
            self.holds = truthy(value);
            self.shown = Some(shown(value));
        }
        Ok(())
    }

    fn end_row(&mut self) -> Result<()> {
        // A row without cells counts as a row whose first cell is NULL.
        if !self.seen {
            self.seen = true;
            self.shown = Some("NULL".into());
        }
        self.stopped = true;
        Err(anyhow::anyhow!("the condition's first row was read"))
    }
}

/// Whether a first cell makes the condition true.
pub fn truthy(value: Cell<'_>) -> bool {
    match value {
        Cell::Null => false,
        Cell::Int(i) => i != 0,
        Cell::Real(r) => r != 0.0,
        Cell::Number(n) => n.trim().parse::<f64>() != Ok(0.0),
        Cell::Bool(b) => b,
        Cell::Text(t) => {
            !(t.is_empty() || t.eq_ignore_ascii_case("f") || t.eq_ignore_ascii_case("false"))
        }
        Cell::Blob(b) => !b.is_empty(),
    }
}

/// A first cell in a detail: numbers and booleans bare, text quoted, NULL as `NULL`.
fn shown(value: Cell<'_>) -> String {
    match (value, crate::render::preview::shown(value)) {
        (_, None) => "NULL".into(),
        (Cell::Text(_), Some(t)) => format!("'{}'", cut_to(&t, SHOWN_CHARS)),
        (_, Some(t)) => cut_to(&t, SHOWN_CHARS),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_is_true() {
        let table = [
            (Cell::Null, false, "NULL"),
            (Cell::Int(0), false, "0"),
            (Cell::Int(3), true, "3"),
            (Cell::Real(0.0), false, "0.0"),
            (Cell::Real(-0.5), true, "-0.5"),
            (Cell::Number("0.000"), false, "0.000"),
            (Cell::Number("12.5"), true, "12.5"),
            (Cell::Bool(false), false, "false"),
            (Cell::Bool(true), true, "true"),
            (Cell::Text(""), false, "''"),
            (Cell::Text("f"), false, "'f'"),
            (Cell::Text("FALSE"), false, "'FALSE'"),
            (Cell::Text("False"), false, "'False'"),
            (Cell::Text("0"), true, "'0'"),
            (Cell::Text("yes"), true, "'yes'"),
            (Cell::Text("no"), true, "'no'"),
            (Cell::Blob(&[]), false, "(binary, 0 bytes)"),
        ];
        for (cell, holds, text) in table {
            assert_eq!(truthy(cell), holds, "{cell:?}");
            assert_eq!(shown(cell), text, "{cell:?}");
        }
    }

    #[test]
    fn details() {
        let v = |holds, cell: Option<&str>| Verdict {
            holds,
            cell: cell.map(String::from),
        };
        assert_eq!(
            v(true, Some("1")).detail(),
            "condition true (first cell: 1)"
        );
        assert_eq!(
            v(false, None).detail(),
            "condition false, not sent (no row)"
        );
        let long = "x".repeat(100);
        let cut = shown(Cell::Text(&long));
        assert_eq!(cut.chars().count(), SHOWN_CHARS + 2, "{cut}");
        assert!(cut.ends_with("…'"), "{cut}");
    }
}
