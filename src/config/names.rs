//! The rules of names that the configuration checks when it is loaded: file name
//! templates (`{type}_{name}_{from}_{to}.csv` by default), `date_format`, report names
//! and identifiers, a command source's argument placeholders, pickup ids. `render::naming` renders templates into file names and checks every
//! rendered name again; it re-exports these.
//!
//! Names can never escape their directory:
//! - report names are letters, digits, spaces and underscores; types are letters,
//!   digits, `_` and `-`;
//! - the literal text of a template may not contain `/`, `\` or control characters;
//! - a `date_format` must produce only characters allowed in a name.

use std::fmt::Write as _;

use chrono::{NaiveDate, NaiveDateTime};

use crate::template::Template;

pub const DEFAULT_TEMPLATE: &str = "{type}_{name}_{from}_{to}.csv";
pub const DEFAULT_DATE_FORMAT: &str = "%Y%m%d";

/// The placeholders of a file name template, in `Var` order.
const VARS: &[&str] = &["type", "name", "name_", "from", "to", "run_date", "token"];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Var {
    Type = 0,
    Name = 1,
    NameUnderscore = 2,
    From = 3,
    To = 4,
    RunDate = 5,
    Token = 6,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileNameTemplate {
    pub(crate) template: Template,
}

impl FileNameTemplate {
    pub fn parse(s: &str) -> Result<Self, String> {
        if s.is_empty() {
            return Err("a file name template cannot be empty".into());
        }
        if let Some(c) = s.chars().find(|c| matches!(c, '/' | '\\')) {
            return Err(format!(
                "\"{s}\" contains `{c}`: a file name cannot name another directory"
            ));
        }
        if s.chars().any(char::is_control) {
            return Err(format!(
                "\"{}\" contains a control character",
                s.escape_default()
            ));
        }
        if s.starts_with('.') {
            return Err(format!(
                "\"{s}\" starts with `.`: hidden names are reserved for files being written"
            ));
        }
        Ok(FileNameTemplate {
            template: Template::parse(s, VARS)?,
        })
    }

    pub fn uses(&self, var: Var) -> bool {
        self.template.uses(var as usize)
    }
}

pub(crate) fn format_date(out: &mut String, d: NaiveDateTime, fmt: &str) -> Result<(), String> {
    write!(out, "{}", d.format(fmt)).map_err(|_| {
        format!("date format \"{fmt}\" cannot format a local date and time; use fields such as %Y, %m, %d, %H, %M, %b, %j (no zone fields)")
    })
}

/// Checks a `date_format` by formatting a sample date.
pub fn check_date_format(fmt: &str) -> Result<(), String> {
    use chrono::format::{Item, StrftimeItems};
    if StrftimeItems::new(fmt).any(|i| matches!(i, Item::Error)) {
        return Err(format!(
            "\"{fmt}\" is not a valid strftime format; use fields such as %Y, %m, %d, %H, %M, %b, %j"
        ));
    }
    let mut sample = String::new();
    let when = NaiveDate::from_ymd_opt(2026, 11, 23)
        .and_then(|d| d.and_hms_opt(6, 30, 0))
        .expect("a valid sample");
    format_date(&mut sample, when, fmt)?;
    if sample.is_empty() {
        return Err("a date format cannot be empty".into());
    }
    if let Some(c) = sample
        .chars()
        .find(|c| matches!(c, '/' | '\\') || c.is_control())
    {
        return Err(format!(
            "\"{fmt}\" produces `{}`, which a file name cannot contain; use `-` or `_` between fields",
            c.escape_default()
        ));
    }
    Ok(())
}

/// Report names: letters, digits, spaces and underscores.
pub fn check_report_name(name: &str) -> Result<(), String> {
    if name.trim().is_empty() {
        return Err("a report name cannot be empty".into());
    }
    if name.chars().count() > 100 {
        return Err("a report name is at most 100 characters".into());
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_alphanumeric() || *c == ' ' || *c == '_'))
    {
        return Err(format!(
            "\"{}\" contains `{}`; only letters, digits, spaces and underscores are allowed",
            name.escape_default(),
            c.escape_default()
        ));
    }
    if name.starts_with(' ') || name.ends_with(' ') {
        return Err(format!("\"{name}\" starts or ends with a space"));
    }
    Ok(())
}

/// Output types (`VIEWS`), source and destination names: letters, digits, `_` and `-`.
pub fn check_identifier(what: &str, s: &str) -> Result<(), String> {
    if s.is_empty() {
        return Err(format!("a {what} cannot be empty"));
    }
    if s.len() > 64 {
        return Err(format!("a {what} is at most 64 characters"));
    }
    if let Some(c) = s
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '_' || *c == '-'))
    {
        return Err(format!(
            "{what} \"{}\" contains `{}`; only ASCII letters, digits, `_` and `-` are allowed",
            s.escape_default(),
            c.escape_default()
        ));
    }
    Ok(())
}

/// The placeholders a command source's argument may be, besides the window parameters
/// (`args = ["{from}"]`): each replaces the whole argument.
pub const OTHER_PLACEHOLDERS: [&str; 3] = ["query", "report", "type"];

/// Whether `arg` is a whole-argument placeholder (`{from}`), and its name.
pub fn placeholder(arg: &str) -> Option<&str> {
    arg.strip_prefix('{')?.strip_suffix('}')
}

/// Every placeholder name, for messages.
pub fn allowed_placeholders() -> String {
    crate::schedule::params::PARAM_NAMES
        .iter()
        .chain(OTHER_PLACEHOLDERS.iter())
        .map(|n| format!("{{{n}}}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A report's id in the pickup API and in its dated zips' names: the name with spaces
/// as underscores.
pub fn pickup_id(name: &str) -> String {
    name.replace(' ', "_")
}
