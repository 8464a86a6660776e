//! Reading a large configuration on two threads.
//!
//! Parsing TOML and reading it into the raw structs is most of the time any command
//! spends on a file of thousands of reports, and it is sequential. A document whose
//! second half holds nothing but `[[reports]]` tables can be cut in two at one of those
//! headers: the first half is parsed as it is, the second on another thread as a copy of
//! the whole text with everything before the cut blanked out (so spans, and the lines
//! and columns of any message, stay those of the file). The result is used only when
//! both halves read without a single problem and the cut is provably between two
//! statements at the top level; anything else (an error anywhere, another table after
//! the reports, `reports` written as an inline array) makes the caller read the whole
//! document the ordinary way, so messages never depend on where the cut fell.

use std::ops::Range;

use toml::de::{DeTable, DeValue};
use toml::Spanned;

use super::read::Reader;
use super::{RawConfig, RawReportParts};
use crate::config::diag::{SourceText, Subject};

/// Below this size the second thread costs more than it saves.
pub(in crate::config) const MIN_LEN: usize = 256 * 1024;

const HEADER: &str = "\n[[reports]]";

/// Where to cut: the start of a `[[reports]]` line near the middle of `text`.
pub(super) fn cut(text: &str) -> Option<usize> {
    if text.len() < MIN_LEN {
        return None;
    }
    let mid = text.len() / 2;
    let mid = (mid..text.len()).find(|&i| text.is_char_boundary(i))?;
    let at = match text[mid..].find(HEADER) {
        Some(i) => mid + i,
        None => text[..mid].rfind(HEADER)?,
    };
    Some(at + 1)
}

/// Reads `text` cut at `at` on two threads; `None` when the halves cannot be trusted to
/// mean what the whole document means (the caller then reads it whole).
pub(super) fn read(src: &SourceText<'_>, at: usize) -> Option<RawConfig> {
    let text = src.text;
    std::thread::scope(|scope| {
        let tail = scope.spawn(move || read_tail(src, at));
        let head = read_head(src, at);
        let tail = tail.join().ok()??;
        let mut head = head?;
        let before = head.reports.len();
        head.reports.reserve(tail.len());
        for mut parts in tail {
            parts.index += before;
            if let Subject::ReportAt(i) = &mut parts.subject {
                *i += before;
            }
            head.reports.push(parts);
        }
        debug_assert!(at <= text.len());
        Some(head)
    })
}

/// The first half: everything the file holds before the cut. It must parse without an
/// error (so the cut is not inside a string, an array or an inline table) and any
/// `reports` in it must be `[[reports]]` tables, which the second half's extend.
fn read_head(src: &SourceText<'_>, at: usize) -> Option<RawConfig> {
    let text = &src.text[..at];
    let (root, errors) = DeTable::parse_recoverable(text);
    if !errors.is_empty() {
        return None;
    }
    let root = root.into_inner();
    if let Some(reports) = root.get("reports") {
        if !is_array_of_tables(text, reports) {
            return None;
        }
    }
    let mut reader = Reader::new(src);
    let raw = reader.read(root);
    reader.errors.is_empty().then_some(raw)
}

/// The second half, read as the whole text with the first half blanked: it must hold
/// only `[[reports]]` tables and read without an error.
fn read_tail(src: &SourceText<'_>, at: usize) -> Option<Vec<RawReportParts>> {
    let mut blanked = String::with_capacity(src.text.len());
    blanked.extend(std::iter::repeat_n(' ', at));
    blanked.push_str(&src.text[at..]);
    let (root, errors) = DeTable::parse_recoverable(&blanked);
    if !errors.is_empty() {
        return None;
    }
    let mut root = root.into_inner();
    let reports = root.remove("reports")?;
    if !root.is_empty() || !is_array_of_tables(&blanked, &reports) {
        return None;
    }
    let DeValue::Array(items) = reports.into_inner() else {
        return None;
    };
    let mut reader = Reader::new(src);
    let parts = items
        .into_iter()
        .enumerate()
        .map(|(i, item)| reader.report(i + 1, item))
        .collect();
    reader.errors.is_empty().then_some(parts)
}

/// Whether `value` is a non-empty array of `[[…]]` tables (not an inline array, which
/// a later `[[reports]]` could not extend).
fn is_array_of_tables(text: &str, value: &Spanned<DeValue<'_>>) -> bool {
    let DeValue::Array(items) = value.get_ref() else {
        return false;
    };
    !items.is_empty()
        && items
            .iter()
            .all(|t| t.get_ref().is_table() && starts_with_header(text, t.span()))
}

fn starts_with_header(text: &str, span: Range<usize>) -> bool {
    text.get(span.start..).is_some_and(|t| t.starts_with("[["))
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    const HEAD: &str = "[settings]\ntimezone = \"UTC\"\n\n[sources.db]\nkind = \"sqlite\"\npath = \"e.db\"\n\n[destinations.out]\nkind = \"directory\"\npath = \"out\"\n";

    fn report(i: usize) -> String {
        format!(
            "\n[[reports]]\nname = \"R{i}\"\ntype = \"T\"\nsource = \"db\"\ndestinations = [\"out\"]\nquery = \"select 1\"\n[reports.schedule]\nfrequency = \"daily\"\n"
        )
    }

    fn big(tail: &str) -> String {
        let mut s = HEAD.to_string();
        let mut i = 0;
        while s.len() < MIN_LEN * 2 {
            s.push_str(&report(i));
            i += 1;
        }
        s.push_str(tail);
        s
    }

    fn names(raw: &RawConfig) -> Vec<String> {
        raw.reports
            .iter()
            .map(|p| {
                p.report
                    .as_ref()
                    .unwrap()
                    .name
                    .as_ref()
                    .unwrap()
                    .get_ref()
                    .clone()
            })
            .collect()
    }

    #[test]
    fn halves_read_what_the_whole_reads() {
        let text = big("");
        let src = SourceText::new(Path::new("r.toml"), &text);
        let at = cut(&text).unwrap();
        assert!(text[at..].starts_with("[[reports]]"));
        let halves = read(&src, at).expect("a clean document of reports is cut");
        let whole = Reader::new(&src).read(DeTable::parse(&text).unwrap().into_inner());
        assert_eq!(names(&halves), names(&whole));
        assert!(halves.reports.len() > 1000);
        let index: Vec<usize> = halves.reports.iter().map(|p| p.index).collect();
        assert_eq!(index, (1..=halves.reports.len()).collect::<Vec<_>>());
        let spans: Vec<_> = halves.reports.iter().map(|p| p.span.clone()).collect();
        let whole_spans: Vec<_> = whole.reports.iter().map(|p| p.span.clone()).collect();
        assert_eq!(spans, whole_spans);
    }

    #[test]
    fn anything_but_reports_after_the_cut_reads_whole() {
        for tail in [
            "\n[serve]\nlisten = \"127.0.0.1:1\"\n",
            "\n[sources.x]\nkind = \"sqlite\"\npath = \"x\"\n",
        ] {
            let text = big(tail);
            let src = SourceText::new(Path::new("r.toml"), &text);
            assert!(read(&src, cut(&text).unwrap()).is_none(), "{tail}");
        }
    }

    #[test]
    fn a_cut_inside_a_string_or_after_an_inline_array_reads_whole() {
        // The cut falls on a `[[reports]]` line inside a multi-line string.
        let mut text = big("");
        let at = cut(&text).unwrap();
        text.insert_str(at - 1, "\nquery_file = \"\"\"");
        let close = at + 40 + text[at + 40..].find("\n[[reports]]").unwrap();
        text.insert_str(close, "\"\"\"");
        let src = SourceText::new(Path::new("r.toml"), &text);
        let cut_at = cut(&text).unwrap();
        assert!(
            at < cut_at && cut_at < close,
            "the cut falls inside the string"
        );
        assert!(read(&src, cut_at).is_none());

        // `reports` written inline before the cut: the whole document is an error.
        let text = format!("reports = [{{ name = \"x\" }}]\n{}", big(""));
        let src = SourceText::new(Path::new("r.toml"), &text);
        assert!(DeTable::parse(&text).is_err());
        assert!(read(&src, cut(&text).unwrap()).is_none());
    }

    #[test]
    fn a_problem_in_either_half_reads_whole() {
        let text = big("\n[[reports]]\nname = \"bad\"\nunknown_key = 1\n");
        let src = SourceText::new(Path::new("r.toml"), &text);
        assert!(read(&src, cut(&text).unwrap()).is_none());
        let text = format!("[settings]\nnot_a_setting = 1\n{}", big(""));
        let src = SourceText::new(Path::new("r.toml"), &text);
        assert!(read(&src, cut(&text).unwrap()).is_none());
    }

    #[test]
    fn small_documents_are_not_cut() {
        let text = format!("{HEAD}{}", report(1));
        assert_eq!(cut(&text), None);
    }
}
