//! The HTML part of a report mail (`preview_rows` above 0): the run's summary (report,
//! window, files with rows and sizes, download links when the mail carries links) and
//! the first rows of each file as a table, from the previews saved next to the files
//! when they rendered (`render::preview`). Every value from the data or the
//! configuration is HTML-escaped; NULL is shown apart from empty text; long cells were
//! cut when captured. Inline styles only: mail clients drop style sheets.

use std::fmt::Write as _;
use std::path::Path;

use crate::ledger::{FileRecord, Link};
use crate::render::preview::{self, Preview};

const CELL: &str = "border:1px solid #d0d7de;padding:4px 8px;text-align:left;vertical-align:top";
const HEAD: &str =
    "border:1px solid #d0d7de;padding:4px 8px;text-align:left;background:#f3f5f7;font-weight:600";
const NOTE: &str = "margin:4px 0 8px;color:#57606a;font-size:13px";

/// `s` with `&`, `<`, `>`, `"` and `'` escaped: safe in element text and in quoted
/// attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// What the HTML part's heading says: the report, its window and when the run was for
/// (as the mail's `{window}` and `{run_at}` say them).
pub struct Head<'a> {
    pub report: &'a str,
    pub window: String,
    pub run_at: String,
}

/// The HTML part: the summary, then each file's first `rows` rows (read from the
/// previews in `spool`).
pub fn html(
    head: &Head<'_>,
    files: &[FileRecord],
    (rows, spool): (usize, &Path),
    links: &[Link],
) -> String {
    let mut h = String::from(
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\"></head>\n<body style=\"margin:0;padding:16px;font-family:-apple-system,'Segoe UI',Helvetica,Arial,sans-serif;font-size:14px;color:#1f2328;background:#ffffff\">\n",
    );
    let _ = write!(
        h,
        "<h2 style=\"margin:0 0 4px;font-size:18px\">{}</h2>\n<p style=\"{NOTE}\">{} &middot; run at {}</p>\n",
        escape(head.report),
        escape(&head.window),
        escape(&head.run_at),
    );
    summary_table(&mut h, files, links);
    for f in files {
        file_section(&mut h, f, rows, preview::load(spool, &f.name));
    }
    h.push_str("</body></html>\n");
    h
}

/// The files, one row each: name, rows, size and, when the mail carries links, the link.
fn summary_table(h: &mut String, files: &[FileRecord], links: &[Link]) {
    let link_column = !links.is_empty();
    h.push_str("<table style=\"border-collapse:collapse;margin:8px 0 16px\">\n<tr>");
    for head in ["File", "Rows", "Size"] {
        let _ = write!(h, "<th style=\"{HEAD}\">{head}</th>");
    }
    if link_column {
        let _ = write!(h, "<th style=\"{HEAD}\">Download</th>");
    }
    h.push_str("</tr>\n");
    for f in files {
        let _ = write!(
            h,
            "<tr><td style=\"{CELL}\">{}</td><td style=\"{CELL};text-align:right\">{}</td><td style=\"{CELL};text-align:right\">{}</td>",
            escape(&f.name),
            f.rows,
            escape(&super::human_bytes(f.bytes)),
        );
        if link_column {
            match links.iter().find(|l| l.file == f.name) {
                Some(l) => {
                    let _ = write!(
                        h,
                        "<td style=\"{CELL}\"><a href=\"{}\">download</a> (until {})</td>",
                        escape(&l.url),
                        l.expires.format("%Y-%m-%d %H:%M UTC")
                    );
                }
                None => {
                    let _ = write!(h, "<td style=\"{CELL}\"></td>");
                }
            }
        }
        h.push_str("</tr>\n");
    }
    h.push_str("</table>\n");
}

/// One file's heading, a note on how many rows are shown, and the table.
fn file_section(h: &mut String, f: &FileRecord, rows: usize, shown: Option<Preview>) {
    let _ = writeln!(
        h,
        "<h3 style=\"margin:16px 0 0;font-size:15px\">{}</h3>",
        escape(&f.name)
    );
    let Some(p) = shown else {
        let _ = writeln!(
            h,
            "<p style=\"{NOTE}\">No preview: the file was made before previews were kept; it is attached or linked as usual.</p>"
        );
        return;
    };
    let shown_rows = &p.rows[..p.rows.len().min(rows)];
    let mut note = match (shown_rows.len() as u64, f.rows) {
        (_, 0) => "No rows.".to_string(),
        (n, total) if n < total => format!("First {n} of {total} rows."),
        (_, total) => crate::ui::count(total, "row", "rows") + ", all shown.",
    };
    if p.more_columns > 0 {
        let shown = p.columns.len();
        let _ = write!(
            note,
            " First {shown} of {} columns; the file has them all.",
            shown + p.more_columns
        );
    }
    let _ = writeln!(h, "<p style=\"{NOTE}\">{note}</p>");
    if p.columns.is_empty() {
        return;
    }
    h.push_str("<table style=\"border-collapse:collapse;font-size:13px\">\n<tr>");
    for c in &p.columns {
        let _ = write!(h, "<th style=\"{HEAD}\">{}</th>", escape(c));
    }
    h.push_str("</tr>\n");
    for row in shown_rows {
        h.push_str("<tr>");
        for cell in row {
            td(h, cell.as_deref());
        }
        h.push_str("</tr>\n");
    }
    h.push_str("</table>\n");
}

/// One cell of a preview: NULL grey and italic, numbers to the right, short values
/// on one line (a timestamp does not break at its dashes), long ones wrapped.
fn td(h: &mut String, cell: Option<&str>) {
    let Some(v) = cell else {
        let _ = write!(
            h,
            "<td style=\"{CELL};color:#8c959f;font-style:italic\">NULL</td>"
        );
        return;
    };
    let number = !v.is_empty() && v.trim().parse::<f64>().is_ok();
    let align = if number { ";text-align:right" } else { "" };
    let wrap = if v.chars().count() <= 40 {
        ";white-space:nowrap"
    } else {
        ";min-width:16em"
    };
    let _ = write!(h, "<td style=\"{CELL}{align}{wrap}\">{}</td>", escape(v));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_the_five_characters() {
        let table = [
            ("", ""),
            ("plain text", "plain text"),
            (
                "<script>alert(1)</script>",
                "&lt;script&gt;alert(1)&lt;/script&gt;",
            ),
            ("A & B", "A &amp; B"),
            ("\"q\" 'a'", "&quot;q&quot; &#39;a&#39;"),
            ("&amp;", "&amp;amp;"),
            ("é → ✓", "é → ✓"),
        ];
        for (input, want) in table {
            assert_eq!(escape(input), want, "{input:?}");
        }
    }

    #[test]
    fn cells_align_and_wrap_by_what_they_hold() {
        let cell = |v: Option<&str>| {
            let mut h = String::new();
            td(&mut h, v);
            h
        };
        assert!(cell(Some("-12.5")).contains("text-align:right;white-space:nowrap"));
        assert!(!cell(Some("12 apples")).contains("text-align:right"));
        assert!(!cell(Some("")).contains("text-align:right"));
        assert!(cell(Some(&"word ".repeat(20))).contains("min-width:16em"));
        assert!(cell(None).contains(">NULL</td>"));
    }

    #[test]
    fn a_file_section_escapes_truncates_and_marks_null() {
        let f = FileRecord {
            kind: "R".into(),
            name: "R<1>.csv".into(),
            rows: 5,
            bytes: 10,
            sha256: String::new(),
        };
        let p = Preview {
            columns: vec!["a&b".into()],
            rows: vec![vec![Some("<b>".into())], vec![None], vec![Some("x".into())]],
            more_columns: 0,
        };
        let mut h = String::new();
        file_section(&mut h, &f, 2, Some(p));
        assert!(h.contains("R&lt;1&gt;.csv"), "{h}");
        assert!(h.contains(">a&amp;b</th>"), "{h}");
        assert!(h.contains("nowrap\">&lt;b&gt;</td>"), "{h}");
        assert!(h.contains("font-style:italic\">NULL</td>"), "{h}");
        assert!(!h.contains(">x</td>"), "two rows only: {h}");
        assert!(h.contains("First 2 of 5 rows.</p>"), "{h}");
        let wide = Preview {
            columns: vec!["a".into()],
            rows: vec![vec![Some("1".into())]],
            more_columns: 30,
        };
        let mut w = String::new();
        file_section(&mut w, &f, 1, Some(wide));
        assert!(
            w.contains("First 1 of 5 rows. First 1 of 31 columns; the file has them all."),
            "{w}"
        );
        let mut none = String::new();
        file_section(&mut none, &f, 2, None);
        assert!(none.contains("No preview"), "{none}");
    }
}
