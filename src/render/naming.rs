//! File names by convention: `{type}_{name}_{from}_{to}.csv` by default, `{to}` being the
//! last day included, with dates in the report's `date_format`. A format with time fields
//! (`%Y%m%d%H%M`, for hourly reports) shows the window's first instant and its last
//! instant included (one second before the end) in the report's zone.
//!
//! Names can never escape their directory. The rules, checked when the configuration is
//! loaded and again on every rendered name:
//! - report names are letters, digits, spaces and underscores; types are letters,
//!   digits, `_` and `-`; tokens are hex;
//! - the literal text of a template may not contain `/`, `\` or control characters;
//! - a `date_format` must produce only characters allowed in a name;
//! - a rendered name must be non-empty, at most 255 bytes, not start with `.`, and
//!   contain no `/`, `\`, NUL or other control character.
//!
//! Offending names are rejected, never silently rewritten.

use chrono::NaiveDateTime;

use crate::config::model::{Compression, Format, Report};
use crate::config::names::format_date;
pub use crate::config::names::{
    check_date_format, check_identifier, check_report_name, FileNameTemplate, Var,
    DEFAULT_DATE_FORMAT, DEFAULT_TEMPLATE,
};
use crate::config::recipients::{fill_template, Field, Recipient};
use crate::schedule::Window;

/// The values a file name is made of.
#[derive(Debug, Clone, Copy)]
pub struct NameValues<'a> {
    pub kind: &'a str,
    pub name: &'a str,
    /// The window's first instant, local.
    pub from: NaiveDateTime,
    /// The window's last instant included (one second before its end), local: its date
    /// is the last day included.
    pub last: NaiveDateTime,
    /// When the run is for, local.
    pub run: NaiveDateTime,
    pub token: &'a str,
    pub date_format: &'a str,
}

impl FileNameTemplate {
    /// The name for `recipient` (its columns fill `{recipient.COLUMN}`, each value one
    /// plain name), or for no recipient.
    pub fn render_for(
        &self,
        recipient: Option<&Recipient>,
        v: &NameValues<'_>,
    ) -> Result<String, String> {
        match recipient {
            // No recipient (`plan` of a recipients query): the placeholders stay.
            None => FileNameTemplate {
                template: self.template.keep_recipient_placeholders(),
            }
            .render(v),
            Some(r) => FileNameTemplate {
                template: fill_template(&self.template, r, Field::Path)?,
            }
            .render(v),
        }
    }

    pub fn render(&self, v: &NameValues<'_>) -> Result<String, String> {
        // Date formats were checked when the configuration was loaded.
        let date = |d: NaiveDateTime| {
            let mut s = String::new();
            format_date(&mut s, d, v.date_format).map(|()| s)
        };
        let mut failed = None;
        let out = self.template.render(|i| {
            let r = match i {
                0 => Ok(v.kind.to_string()),
                1 => Ok(v.name.to_string()),
                2 => Ok(v.name.replace(' ', "_")),
                3 => date(v.from),
                4 => date(v.last),
                5 => date(v.run),
                _ => Ok(v.token.to_string()),
            };
            r.unwrap_or_else(|e| {
                failed = Some(e);
                String::new()
            })
        });
        if let Some(e) = failed {
            return Err(e);
        }
        check_file_name(&out)?;
        Ok(out)
    }
}

/// What a `send-test` run puts before each file name, so that nobody takes its files
/// for a scheduled run's.
pub const TEST_PREFIX: &str = "TEST_";

/// The name of a file of a `send-test` run: `TEST_` and the name, checked again (the
/// prefix may make it too long).
pub fn test_name(name: &str) -> Result<String, String> {
    let marked = format!("{TEST_PREFIX}{name}");
    check_file_name(&marked)?;
    Ok(marked)
}

/// The last line of defence: a rendered name is one plain file name.
pub fn check_file_name(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("the file name is empty".into());
    }
    if name.len() > 255 {
        return Err(format!(
            "the file name is {} bytes long; at most 255 are allowed",
            name.len()
        ));
    }
    if name.starts_with('.') {
        return Err(format!("the file name \"{name}\" starts with `.`"));
    }
    if let Some(c) = name
        .chars()
        .find(|c| matches!(c, '/' | '\\') || c.is_control())
    {
        return Err(format!(
            "the file name \"{}\" contains `{}`",
            name.escape_default(),
            c.escape_default()
        ));
    }
    Ok(())
}

/// The name of a file of `format` from the rendered template: CSV names as they are;
/// for the other formats a `.csv` ending becomes the format's (`.xlsx`, `.jsonl`,
/// `.parquet`), and a name with neither gets it appended.
pub fn with_extension(name: String, format: Format) -> String {
    let ext = format.ext();
    if format == Format::Csv || name.ends_with(&format!(".{ext}")) {
        return name;
    }
    match name.strip_suffix(".csv") {
        Some(stem) => format!("{stem}.{ext}"),
        None => format!("{name}.{ext}"),
    }
}

/// The files of a report: each output's own, except that xlsx outputs naming one
/// `workbook` share a file. Each entry is the file's kind (the output's type, or the
/// workbook's name), its format and the indexes of its outputs, in order of first
/// appearance.
pub fn report_files(report: &Report) -> Vec<(&str, Format, Vec<usize>)> {
    let mut files: Vec<(&str, Format, Vec<usize>)> = Vec::new();
    for (i, o) in report.outputs.iter().enumerate() {
        match &o.workbook {
            Some(w) => match files.iter_mut().find(|f| f.0 == w && f.1 == Format::Xlsx) {
                Some(f) => f.2.push(i),
                None => files.push((w, Format::Xlsx, vec![i])),
            },
            None => files.push((&o.kind, o.format, vec![i])),
        }
    }
    files
}

/// The names of the files a run of `report` covering `window` produces, one per file
/// (see `report_files`), as `plan` shows them. With `compress_above`, whether a file is
/// compressed depends on its size, so the uncompressed name is shown.
pub fn report_file_names(
    (report, recipient): (&Report, Option<&Recipient>),
    window: &Window,
    run: NaiveDateTime,
    token: &str,
) -> Result<Vec<String>, String> {
    report_files(report)
        .into_iter()
        .map(|(kind, format, _)| {
            let name = report.file_name.render_for(
                recipient,
                &NameValues {
                    kind,
                    name: &report.name,
                    from: window.from.naive_local(),
                    last: window.last_instant().naive_local(),
                    run,
                    token,
                    date_format: &report.date_format,
                },
            )?;
            let name = with_extension(name, format);
            Ok(match report.csv.compress_above {
                None => compressed_name(&name, report.csv.compression),
                Some(_) => name,
            })
        })
        .collect()
}

/// The name of a file after compression: `x.csv.gz` for gzip; for zip, the archive
/// `x.zip` (holding `x.csv`, or `x.jsonl`).
pub fn compressed_name(name: &str, compression: Compression) -> String {
    match compression {
        Compression::None => name.to_string(),
        Compression::Gzip => format!("{name}.gz"),
        Compression::Zip => match name
            .strip_suffix(".csv")
            .or_else(|| name.strip_suffix(".jsonl"))
        {
            Some(stem) => format!("{stem}.zip"),
            None => format!("{name}.zip"),
        },
    }
}

/// The MIME type of a file reportctl wrote, from its name: a gzip stream (`.gz`), a zip
/// archive (`.zip`), an xlsx workbook, JSON Lines, Parquet, else CSV, whatever the
/// template's extension. Email attachments, S3 objects and `serve`'s downloads all take
/// it from here.
pub fn content_type(name: &str) -> &'static str {
    let lower = name.to_ascii_lowercase();
    if lower.ends_with(".gz") {
        "application/gzip"
    } else if lower.ends_with(".zip") {
        "application/zip"
    } else if lower.ends_with(".xlsx") {
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    } else if lower.ends_with(".jsonl") {
        "application/jsonl"
    } else if lower.ends_with(".parquet") {
        "application/vnd.apache.parquet"
    } else {
        "text/csv"
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn d(s: &str) -> NaiveDateTime {
        NaiveDate::parse_from_str(s, "%Y-%m-%d")
            .unwrap()
            .and_hms_opt(0, 0, 0)
            .unwrap()
    }

    fn values<'a>(fmt: &'a str) -> NameValues<'a> {
        NameValues {
            kind: "VIEWS",
            name: "My Report",
            from: d("2022-02-28"),
            last: d("2022-03-31") + chrono::Duration::seconds(86399),
            run: d("2022-04-02"),
            token: "00ab",
            date_format: fmt,
        }
    }

    #[test]
    fn extensions_follow_the_format() {
        let n = |s: &str, f| with_extension(s.to_string(), f);
        assert_eq!(n("a.csv", Format::Csv), "a.csv");
        assert_eq!(n("a.txt", Format::Csv), "a.txt");
        assert_eq!(n("a.csv", Format::Xlsx), "a.xlsx");
        assert_eq!(n("a.xlsx", Format::Xlsx), "a.xlsx");
        assert_eq!(n("a", Format::Jsonl), "a.jsonl");
        assert_eq!(n("a.csv", Format::Parquet), "a.parquet");
        assert_eq!(
            content_type("A.XLSX"),
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        );
        assert_eq!(content_type("a.jsonl.gz"), "application/gzip");
    }

    #[test]
    fn default_template_name() {
        let t = FileNameTemplate::parse(DEFAULT_TEMPLATE).unwrap();
        assert_eq!(
            t.render(&values(DEFAULT_DATE_FORMAT)).unwrap(),
            "VIEWS_My Report_20220228_20220331.csv"
        );
    }

    #[test]
    fn every_placeholder_and_escapes() {
        let t = FileNameTemplate::parse("{name_}-{run_date}-{token}-{{x}}.csv").unwrap();
        assert_eq!(
            t.render(&values("%Y-%m-%d")).unwrap(),
            "My_Report-2022-04-02-00ab-{x}.csv"
        );
        assert!(t.uses(Var::Token));
        assert!(!t.uses(Var::Type));
    }

    #[test]
    fn templates_that_could_escape_are_refused() {
        for (t, want) in [
            ("../{name}.csv", "cannot name another directory"),
            ("a/b.csv", "cannot name another directory"),
            ("a\\b.csv", "cannot name another directory"),
            (".{name}.csv", "starts with `.`"),
            (
                "{nme}.csv",
                "unknown placeholder {nme}; allowed: {type}, {name}, {name_}",
            ),
            ("{name.csv", "unclosed"),
            ("x}.csv", "lone"),
            ("a\nb", "control character"),
            ("", "cannot be empty"),
        ] {
            let e = FileNameTemplate::parse(t).unwrap_err();
            assert!(e.contains(want), "{t:?}: {e}");
        }
    }

    #[test]
    fn date_formats_are_checked() {
        assert!(check_date_format("%Y%m%d").is_ok());
        assert!(check_date_format("%d-%b-%Y").is_ok());
        assert!(check_date_format("%m/%d/%Y").unwrap_err().contains("`/`"));
        assert!(check_date_format("%Y%m%dT%H%M").is_ok());
        assert!(check_date_format("%Z")
            .unwrap_err()
            .contains("cannot format a local date and time"));
        assert!(check_date_format("%Q")
            .unwrap_err()
            .contains("not a valid strftime"));
    }

    #[test]
    fn test_runs_are_marked() {
        assert_eq!(
            test_name("VIEWS_x_1_2.csv").unwrap(),
            "TEST_VIEWS_x_1_2.csv"
        );
        assert!(test_name(&"x".repeat(251))
            .unwrap_err()
            .contains("256 bytes"));
    }

    #[test]
    fn rendered_names_are_checked() {
        assert!(check_file_name("..").is_err());
        assert!(check_file_name(&"x".repeat(256)).is_err());
        assert!(check_file_name("a\u{7f}b").is_err());
        assert!(check_file_name("VIEWS_x_1_2.csv").is_ok());
    }

    #[test]
    fn compression_suffixes() {
        assert_eq!(compressed_name("a.csv", Compression::Gzip), "a.csv.gz");
        assert_eq!(compressed_name("a.csv", Compression::Zip), "a.zip");
        assert_eq!(compressed_name("a.txt", Compression::Zip), "a.txt.zip");
        assert_eq!(compressed_name("a.csv", Compression::None), "a.csv");
    }

    #[test]
    fn content_types_by_extension() {
        assert_eq!(content_type("VIEWS_x_20261123_20261123.csv"), "text/csv");
        assert_eq!(content_type("VIEWS_x.csv.gz"), "application/gzip");
        assert_eq!(content_type("VIEWS_x.ZIP"), "application/zip");
        assert_eq!(content_type("VIEWS_x.txt"), "text/csv");
    }

    #[test]
    fn report_names() {
        assert!(check_report_name("Daily Views_2").is_ok());
        assert!(check_report_name("Vues quotidiennes é").is_ok());
        assert!(check_report_name("a/b").unwrap_err().contains("`/`"));
        assert!(check_report_name("a-b").unwrap_err().contains("`-`"));
        assert!(check_report_name(" a").is_err());
        assert!(check_report_name("").is_err());
    }
}
