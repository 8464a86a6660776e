//! Configuration diagnostics: one message per problem, each naming the file, line and
//! column, the report (or source, destination, settings) and key it is about, and what
//! is allowed. `validate` collects all of them in one pass.

use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

/// What part of the configuration a diagnostic is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Subject {
    File,
    Settings,
    Source(String),
    Destination(String),
    /// A report, by name when it has a readable one, else by its position (1-based).
    Report(String),
    ReportAt(usize),
}

impl fmt::Display for Subject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Subject::File => Ok(()),
            Subject::Settings => write!(f, "[settings]"),
            Subject::Source(n) => write!(f, "source \"{n}\""),
            Subject::Destination(n) => write!(f, "destination \"{n}\""),
            Subject::Report(n) => write!(f, "report \"{n}\""),
            Subject::ReportAt(i) => write!(f, "report #{i}"),
        }
    }
}

/// One configuration problem.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub file: PathBuf,
    /// 1-based line and column (in characters), when the problem has a place in the file.
    pub position: Option<(usize, usize)>,
    pub subject: Subject,
    /// Dotted key path inside the subject, e.g. `schedule.every`.
    pub key: Option<String>,
    pub message: String,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if let Some((line, col)) = self.position {
            write!(f, ":{line}:{col}")?;
        }
        write!(f, ": ")?;
        let subject = self.subject.to_string();
        match (&self.key, subject.is_empty()) {
            (Some(key), false) => write!(f, "{subject}, key `{key}`: ")?,
            (Some(key), true) => write!(f, "key `{key}`: ")?,
            (None, false) => write!(f, "{subject}: ")?,
            (None, true) => {}
        }
        write!(f, "{}", self.message)
    }
}

/// All the problems found in one configuration file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigErrors(pub Vec<Diagnostic>);

impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, d) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{d}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigErrors {}

/// The candidate closest to `word`, if one is close enough to be what was meant: equal
/// ignoring case, blanks, `_` and `-`, or within a few edits (a third of the word's
/// length, at least one), or the only one that begins with it. The one "did you mean" of every message: keys, values, zones,
/// and names of sources, destinations and reports.
pub fn closest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let norm = |s: &str| s.to_lowercase().replace([' ', '_', '-'], "");
    let want = norm(word);
    let limit = (want.chars().count() / 3).max(1);
    // A few edits away; else the one name that begins with the word (`lease` for
    // `lease_seconds`).
    let mut prefixed = Vec::new();
    let near = candidates
        .into_iter()
        .filter(|c| *c != word)
        .inspect(|c| {
            if want.chars().count() >= 3 && norm(c).starts_with(&want) {
                prefixed.push(*c);
            }
        })
        .map(|c| (strsim::damerau_levenshtein(&want, &norm(c)), c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c);
    near.or(match prefixed.as_slice() {
        [one] => Some(*one),
        _ => None,
    })
}

/// "did you mean `x`? " for the closest candidate (`quote`: each side of it), or "".
pub fn did_you_mean<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
    quote: &str,
) -> String {
    closest(word, candidates)
        .map_or_else(String::new, |c| format!("did you mean {quote}{c}{quote}? "))
}

/// The offsets just after each newline of `bytes`.
fn memchr_newlines(bytes: &[u8]) -> impl Iterator<Item = usize> + '_ {
    bytes
        .iter()
        .enumerate()
        .filter(|(_, b)| **b == b'\n')
        .map(|(i, _)| i + 1)
}

/// The text of a configuration file, for turning byte spans into lines and columns;
/// or of the files of a configuration directory, one after the other, each starting on
/// a line of its own: a position then names the file it falls in, and its line there.
pub struct SourceText<'a> {
    pub path: &'a Path,
    pub text: &'a str,
    /// The files of a directory: where each starts in `text`, in order (empty for one
    /// file, which is `path`).
    files: Vec<(usize, PathBuf)>,
    /// Where each line starts, found the first time a position is asked for: a file
    /// without problems is never scanned for them.
    line_starts: std::sync::OnceLock<Vec<usize>>,
}

impl<'a> SourceText<'a> {
    pub fn new(path: &'a Path, text: &'a str) -> Self {
        Self::with_files(path, text, Vec::new())
    }

    /// The text of the directory `path`'s files, `files` saying where each starts.
    pub fn with_files(path: &'a Path, text: &'a str, files: Vec<(usize, PathBuf)>) -> Self {
        SourceText {
            path,
            text,
            files,
            line_starts: std::sync::OnceLock::new(),
        }
    }

    /// The files of a directory and where each starts (empty for one file).
    pub fn files(&self) -> &[(usize, PathBuf)] {
        &self.files
    }

    /// Where each file starts (`[0]` for one file).
    pub fn file_starts(&self) -> Vec<usize> {
        if self.files.is_empty() {
            vec![0]
        } else {
            self.files.iter().map(|(s, _)| *s).collect()
        }
    }

    /// The file a byte offset falls in, and where that file starts.
    fn file_at(&self, offset: usize) -> (&Path, usize) {
        let i = self.files.partition_point(|(start, _)| *start <= offset);
        match i.checked_sub(1).map(|i| &self.files[i]) {
            Some((start, path)) => (path, *start),
            None => (self.path, 0),
        }
    }

    /// The file and its 1-based (line, column) of a byte offset.
    pub fn place(&self, offset: usize) -> (&Path, (usize, usize)) {
        let (path, start) = self.file_at(offset);
        let (line, col) = self.position(offset);
        let first = if start == 0 {
            1
        } else {
            self.position(start).0
        };
        (path, (line - first + 1, col))
    }

    fn line_starts(&self) -> &[usize] {
        self.line_starts.get_or_init(|| {
            let mut starts = vec![0];
            starts.extend(memchr_newlines(self.text.as_bytes()));
            starts
        })
    }

    /// 1-based (line, column) of a byte offset; the column counts characters.
    pub fn position(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let line_starts = self.line_starts();
        let line = match line_starts.binary_search(&offset) {
            Ok(i) => i,
            Err(i) => i - 1,
        };
        let start = line_starts[line];
        let col = self
            .text
            .get(start..offset)
            .map_or(offset - start, |s| s.chars().count());
        (line + 1, col + 1)
    }

    pub fn diagnostic(
        &self,
        span: Option<Range<usize>>,
        subject: Subject,
        key: Option<String>,
        message: impl Into<String>,
    ) -> Diagnostic {
        let (file, position) = match span {
            Some(s) => {
                let (file, position) = self.place(s.start);
                (file, Some(position))
            }
            None => (self.path, None),
        };
        Diagnostic {
            file: file.to_path_buf(),
            position,
            subject,
            key,
            message: message.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closest_names() {
        let keys = ["frequency", "every", "at", "destinations", "timezone"];
        assert_eq!(closest("frequncy", keys), Some("frequency"));
        assert_eq!(closest("destination", keys), Some("destinations"));
        assert_eq!(closest("Time_Zone", keys), Some("timezone"));
        assert_eq!(closest("colour", keys), None);
        assert_eq!(closest("x", keys), None);
        assert_eq!(closest("dest", keys), Some("destinations"));
        assert_eq!(closest("e", keys), None);
        assert_eq!(
            closest("america/new york", ["America/New_York", "Europe/Paris"]),
            Some("America/New_York")
        );
        assert_eq!(did_you_mean("evrey", keys, "`"), "did you mean `every`? ");
    }

    #[test]
    fn positions_are_one_based_and_count_characters() {
        let text = "a = 1\nnäme = \"x\"\n";
        let src = SourceText::new(Path::new("r.toml"), text);
        assert_eq!(src.position(0), (1, 1));
        assert_eq!(src.position(6), (2, 1));
        let eq = text.find('=').unwrap();
        assert_eq!(src.position(eq), (1, 3));
        let second_eq = text.rfind('=').unwrap();
        assert_eq!(src.position(second_eq), (2, 6));
    }

    #[test]
    fn display_names_file_line_subject_and_key() {
        let d = Diagnostic {
            file: PathBuf::from("reports.toml"),
            position: Some((12, 9)),
            subject: Subject::Report("Daily Views".into()),
            key: Some("schedule.every".into()),
            message: "9 is out of range; allowed: 1 to 6".into(),
        };
        assert_eq!(
            d.to_string(),
            "reports.toml:12:9: report \"Daily Views\", key `schedule.every`: 9 is out of range; allowed: 1 to 6"
        );
    }
}
