//! A configuration directory: every `*.toml` file in it, in name order, read as one
//! configuration. The files are laid one after the other in one text (each on lines of
//! its own), so that every span is a place in exactly one file; each file is read on
//! its own, with the others blanked out, so that TOML's rules (a table defined once)
//! hold per file; then the parts are put together: sources, destinations and reports
//! from every file, `[settings]` and `[serve]` from at most one.

use std::path::{Path, PathBuf};

use toml::Spanned;

use super::{RawConfig, RawNamed};
use crate::config::diag::{ConfigErrors, Diagnostic, SourceText, Subject};

/// The `*.toml` files of `dir`, in name order, and their text laid end to end with where
/// each starts.
pub fn gather(dir: &Path) -> Result<(String, Vec<(usize, PathBuf)>), ConfigErrors> {
    let fail = |message: String| {
        ConfigErrors(vec![Diagnostic {
            file: dir.to_path_buf(),
            position: None,
            subject: Subject::File,
            key: None,
            message,
        }])
    };
    let entries =
        std::fs::read_dir(dir).map_err(|e| fail(format!("cannot read the directory: {e}")))?;
    let mut paths: Vec<PathBuf> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml") && p.is_file())
        .collect();
    paths.sort();
    if paths.is_empty() {
        return Err(fail(
            "the configuration directory holds no *.toml file; give a file or a directory of them with --config".into(),
        ));
    }
    let mut text = String::new();
    let mut files = Vec::with_capacity(paths.len());
    for p in paths {
        let body = std::fs::read_to_string(&p)
            .map_err(|e| fail(format!("cannot read {}: {e}", p.display())))?;
        files.push((text.len(), p));
        text.push_str(&body);
        if !text.ends_with('\n') {
            text.push('\n');
        }
    }
    Ok((text, files))
}

/// Reads each file of `src` (a directory's files laid end to end) and puts the parts
/// together. Syntax errors of every file are reported together.
pub fn read(src: &SourceText<'_>) -> Result<(RawConfig, Vec<Diagnostic>), ConfigErrors> {
    let starts = src.file_starts();
    let mut parts = Vec::new();
    let mut syntax = Vec::new();
    for (i, &start) in starts.iter().enumerate() {
        let end = starts.get(i + 1).copied().unwrap_or(src.text.len());
        let blanked = blank_except(src.text, start..end);
        let one = SourceText::with_files(src.path, &blanked, src.files().to_vec());
        match super::read_raw(&one) {
            Ok(part) => parts.push(part),
            Err(ConfigErrors(d)) => syntax.extend(d),
        }
    }
    if !syntax.is_empty() {
        return Err(ConfigErrors(syntax));
    }
    Ok(merge(src, parts))
}

/// `text` with everything outside `keep` turned into spaces, line ends kept, so that
/// offsets, lines and columns stay those of the whole.
fn blank_except(text: &str, keep: std::ops::Range<usize>) -> String {
    let mut out = String::with_capacity(text.len());
    let blank = |s: &str, out: &mut String| {
        out.extend(s.chars().map(|c| if c == '\n' { '\n' } else { ' ' }));
    };
    blank(&text[..keep.start], &mut out);
    out.push_str(&text[keep.clone()]);
    blank(&text[keep.end..], &mut out);
    out
}

fn merge(
    src: &SourceText<'_>,
    parts: Vec<(RawConfig, Vec<Diagnostic>)>,
) -> (RawConfig, Vec<Diagnostic>) {
    let mut all = RawConfig::default();
    let mut errors = Vec::new();
    let at = |span: std::ops::Range<usize>| {
        let (file, (line, _)) = src.place(span.start);
        format!("{}:{line}", file.display())
    };
    for (raw, diags) in parts {
        errors.extend(diags);
        once(
            src,
            &mut all.settings,
            raw.settings,
            ("[settings]", Subject::Settings),
            &mut errors,
            &at,
        );
        once(
            src,
            &mut all.serve,
            raw.serve,
            ("[serve]", Subject::File),
            &mut errors,
            &at,
        );
        named(
            src,
            &mut all.sources,
            raw.sources,
            "source",
            &mut errors,
            &at,
        );
        named(
            src,
            &mut all.destinations,
            raw.destinations,
            "destination",
            &mut errors,
            &at,
        );
        let before = all.reports.len();
        for mut r in raw.reports {
            r.index += before;
            if let Subject::ReportAt(i) = &mut r.subject {
                *i += before;
            }
            all.reports.push(r);
        }
        all.incomplete |= raw.incomplete;
    }
    (all, errors)
}

/// A table at most one file holds (`[settings]`, `[serve]`).
fn once<T>(
    src: &SourceText<'_>,
    mine: &mut Option<Spanned<T>>,
    theirs: Option<Spanned<T>>,
    (what, subject): (&str, Subject),
    errors: &mut Vec<Diagnostic>,
    at: &dyn Fn(std::ops::Range<usize>) -> String,
) {
    let Some(theirs) = theirs else { return };
    match mine {
        Some(first) => errors.push(src.diagnostic(
            Some(theirs.span()),
            subject,
            None,
            format!(
                "{what} is already at {}; at most one file of the configuration directory holds it",
                at(first.span())
            ),
        )),
        None => *mine = Some(theirs),
    }
}

/// Adds `theirs` to `mine`, refusing a name defined in an earlier file.
fn named<T>(
    src: &SourceText<'_>,
    mine: &mut Vec<RawNamed<T>>,
    theirs: Vec<RawNamed<T>>,
    what: &str,
    errors: &mut Vec<Diagnostic>,
    at: &dyn Fn(std::ops::Range<usize>) -> String,
) {
    for t in theirs {
        if let Some(first) = mine.iter().find(|m| m.name.get_ref() == t.name.get_ref()) {
            let subject = match what {
                "source" => Subject::Source(t.name.get_ref().clone()),
                _ => Subject::Destination(t.name.get_ref().clone()),
            };
            errors.push(src.diagnostic(
                Some(t.name.span()),
                subject,
                None,
                format!(
                    "{what} \"{}\" is already defined at {}; a name is defined once",
                    t.name.get_ref(),
                    at(first.name.span())
                ),
            ));
            continue;
        }
        mine.push(t);
    }
}
