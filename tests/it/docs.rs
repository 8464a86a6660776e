//! The documentation cannot drift: every ```toml block of README.md and docs/*.md is a
//! configuration that `reportctl validate --offline` accepts once completed with what a
//! fragment needs (merged into a small base configuration), README.md stays short, and
//! every relative link points to an existing file.

use std::path::{Path, PathBuf};

use toml::{Table, Value};

use crate::common;

/// What a fragment is completed with: a zone and a mail server, a SQLite source `db`
/// (with an events mapping, for structured outputs), a directory destination `out` and
/// one report.
const BASE: &str = r#"
[settings]
timezone = "Europe/Paris"
[settings.smtp]
host = "smtp.example.com"
from = "Reports <reports@example.com>"

[sources.db]
kind = "sqlite"
path = "app.db"
time_format = "sqlite"
[sources.db.events]
table = "events"
time = "event_time"
traffic = "event_type"
id = "id"
tags = "tags"
[sources.db.events.dimensions]
network = "network"
country = "country"
os = "os"
device_type = "device_type"
browser = "browser"
location = "location"
storyboard = "storyboard"
statistics_id = "statistics_id"
[sources.db.events.measures]
revenue = "revenue"

[destinations.out]
kind = "directory"
path = "out"

[[reports]]
name = "Daily orders"
type = "ORDERS"
source = "db"
destinations = ["out"]
query = "SELECT * FROM orders WHERE created_at >= :from AND created_at < :to"
[reports.schedule]
frequency = "daily"
at = "07:00"
window = "yesterday"
"#;

/// The mark, on the line before a ```toml fence, of a block that is deliberately not a
/// configuration reportctl accepts.
const NOT_VALIDATED: &str = "<!-- not validated:";
const MAX_NOT_VALIDATED: usize = 3;
const README_MAX_LINES: usize = 160;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// README.md and every docs/*.md, sorted.
fn documents() -> Vec<PathBuf> {
    let mut docs: Vec<PathBuf> = std::fs::read_dir(root().join("docs"))
        .expect("a docs/ directory")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    docs.sort();
    docs.insert(0, root().join("README.md"));
    docs
}

struct Block {
    file: PathBuf,
    /// 1-based line of the opening fence.
    line: usize,
    text: String,
    validated: bool,
}

fn toml_blocks(file: &Path) -> Vec<Block> {
    let text = std::fs::read_to_string(file).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let mut blocks = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        if lines[i].trim_start() == "```toml" {
            let previous = lines[..i].iter().rev().find(|l| !l.trim().is_empty());
            let validated = !previous.is_some_and(|l| l.trim_start().starts_with(NOT_VALIDATED));
            let end = (i + 1..lines.len())
                .find(|&j| lines[j].trim_start().starts_with("```"))
                .unwrap_or_else(|| panic!("{}:{}: unclosed ```toml", file.display(), i + 1));
            blocks.push(Block {
                file: file.to_path_buf(),
                line: i + 1,
                text: lines[i + 1..end].join("\n"),
                validated,
            });
            i = end;
        }
        i += 1;
    }
    blocks
}

/// Deep-merges `snippet` into `base`: tables merge key by key, other values replace
/// (so a snippet's `[[reports]]` replaces the base's reports). A snippet's
/// `[reports.…]` tables complete the base's report; one with `outputs` replaces the
/// report's single `type` and `query`, a `schedule` replaces the report's.
fn merge(base: &mut Table, snippet: Table) {
    for (key, value) in snippet {
        match (base.get_mut(&key), value) {
            (Some(Value::Table(b)), Value::Table(s)) => merge(b, s),
            (Some(Value::Array(reports)), Value::Table(s)) if key == "reports" => {
                let Some(Value::Table(report)) = reports.last_mut() else {
                    panic!("the base has a report");
                };
                if s.contains_key("outputs") {
                    report.remove("type");
                    report.remove("query");
                }
                if s.contains_key("schedule") {
                    report.remove("schedule");
                }
                merge(report, s);
            }
            (_, value) => {
                base.insert(key, value);
            }
        }
    }
}

/// Points every `{ file = … }` secret at a file in `dir` and collects the names of
/// `{ env = … }` secrets, whose variables the test sets.
fn complete_secrets(value: &mut Value, dir: &Path, env: &mut Vec<String>) {
    match value {
        Value::Table(t) if t.len() == 1 && t.get("file").is_some_and(Value::is_str) => {
            let path = common::write(dir, "secret", &"s".repeat(40));
            t.insert("file".into(), Value::String(path.display().to_string()));
        }
        Value::Table(t) if t.len() == 1 && t.get("env").is_some_and(Value::is_str) => {
            env.push(t["env"].as_str().unwrap().to_string());
        }
        Value::Table(t) => t
            .iter_mut()
            .for_each(|(_, v)| complete_secrets(v, dir, env)),
        Value::Array(a) => a.iter_mut().for_each(|v| complete_secrets(v, dir, env)),
        _ => {}
    }
}

/// The keys whose value names a file that must exist (`validate` checks it even offline).
const FILE_KEYS: &[&str] = &["path", "key_file", "known_hosts", "ca_file"];

/// Makes the files the configuration names exist: a missing one is made in `dir` under
/// its own name (a SQLite database for a sqlite source's `path`), and the value is
/// pointed there; so is a PostgreSQL ledger's `sslrootcert`.
fn complete_files(config: &mut Table, dir: &Path) {
    let made = |name: &str| -> String {
        let base = Path::new(name).file_name().unwrap().to_str().unwrap();
        common::write(dir, base, "made by tests/it/docs.rs\n");
        base.to_string()
    };
    for kind in ["sources", "destinations"] {
        let Some(Value::Table(items)) = config.get_mut(kind) else {
            continue;
        };
        for (_, item) in items.iter_mut() {
            let Value::Table(item) = item else { continue };
            let directory = item.get("kind").and_then(Value::as_str) == Some("directory");
            let sqlite = item.get("kind").and_then(Value::as_str) == Some("sqlite");
            for key in FILE_KEYS {
                let Some(Value::String(name)) = item.get(*key) else {
                    continue;
                };
                if directory || dir.join(name.as_str()).exists() {
                    continue;
                }
                let local = if sqlite && *key == "path" {
                    let base = Path::new(name.as_str()).file_name().unwrap();
                    let db = rusqlite::Connection::open(dir.join(base)).unwrap();
                    db.execute_batch("CREATE TABLE IF NOT EXISTS made_by_the_docs_test (x)")
                        .unwrap();
                    base.to_str().unwrap().to_string()
                } else {
                    made(name)
                };
                item.insert((*key).into(), Value::String(local));
            }
        }
    }
    if let Some(Value::Table(settings)) = config.get_mut("settings") {
        if let Some(Value::String(state)) = settings.get_mut("state") {
            if let Some(i) = state.find("sslrootcert=") {
                let start = i + "sslrootcert=".len();
                let end = state[start..].find('&').map_or(state.len(), |e| start + e);
                let ca = made(&state[start..end]);
                let ca = dir.join(ca).display().to_string();
                state.replace_range(start..end, &ca);
            }
        }
    }
}

/// Writes a query into every missing relative `query_file`, wherever it is.
fn complete_query_files(value: &Value, dir: &Path) {
    match value {
        Value::Table(t) => {
            if let Some(Value::String(name)) = t.get("query_file") {
                if !dir.join(name).exists() {
                    let query =
                        "SELECT * FROM orders WHERE created_at >= :from AND created_at < :to";
                    common::write(dir, name, query);
                }
            }
            t.iter().for_each(|(_, v)| complete_query_files(v, dir));
        }
        Value::Array(a) => a.iter().for_each(|v| complete_query_files(v, dir)),
        _ => {}
    }
}

/// `validate --offline` on the block completed with the base; the failure to report, if any.
fn check(block: &Block) -> Option<String> {
    let place = format!("{}:{}", block.file.display(), block.line);
    let snippet: Table = match block.text.parse() {
        Ok(t) => t,
        Err(e) => return Some(format!("{place}: not TOML: {e}")),
    };
    let mut config: Table = BASE.parse().unwrap();
    merge(&mut config, snippet);
    let dir = common::tempdir();
    complete_files(&mut config, dir.path());
    if let Some(reports) = config.get("reports") {
        complete_query_files(reports, dir.path());
    }
    let mut config = Value::Table(config);
    let mut env = Vec::new();
    complete_secrets(&mut config, dir.path(), &mut env);
    let text = toml::to_string(&config).unwrap();
    common::write(dir.path(), "reports.toml", &text);
    let mut command = common::command(dir.path(), &["validate", "--offline"]);
    for name in &env {
        // A secret that is a URL (a Teams workflow's) is checked as one.
        let value = if name.ends_with("_URL") {
            format!("https://example.com/{}", "s".repeat(40))
        } else {
            "s".repeat(40)
        };
        command.env(name, value);
    }
    let out = common::output(command);
    (out.code != 0).then(|| {
        format!(
            "{place}: validate --offline exit {}\n{}--- the configuration validated\n{text}",
            out.code, out.stderr
        )
    })
}

#[test]
fn every_toml_block_of_the_documentation_validates() {
    let blocks: Vec<Block> = documents().iter().flat_map(|f| toml_blocks(f)).collect();
    assert!(
        blocks.len() >= 15,
        "only {} toml blocks found",
        blocks.len()
    );
    let skipped = blocks.iter().filter(|b| !b.validated).count();
    assert!(
        skipped <= MAX_NOT_VALIDATED,
        "{skipped} blocks are marked `{NOT_VALIDATED}`: at most {MAX_NOT_VALIDATED}"
    );
    let failures: Vec<String> = blocks
        .iter()
        .filter(|b| b.validated)
        .filter_map(check)
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} blocks fail:\n\n{}",
        failures.len(),
        blocks.len(),
        failures.join("\n\n")
    );
}

#[test]
fn the_readme_is_short() {
    let lines = std::fs::read_to_string(root().join("README.md"))
        .unwrap()
        .lines()
        .count();
    assert!(
        lines <= README_MAX_LINES,
        "README.md has {lines} lines: at most {README_MAX_LINES}; move details to docs/"
    );
}

/// The targets of the `[text](target)` links of a Markdown text, with their lines.
fn links(text: &str) -> Vec<(usize, String)> {
    let mut found = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let mut rest = line;
        while let Some(i) = rest.find("](") {
            rest = &rest[i + 2..];
            if let Some(end) = rest.find(')') {
                found.push((n + 1, rest[..end].to_string()));
                rest = &rest[end..];
            }
        }
    }
    found
}

/// The anchors of a Markdown file's headings, as GitHub makes them: lower case, spaces
/// to `-`, other punctuation dropped (`` `plan --json`: a stable interface `` ->
/// `plan---json-a-stable-interface`).
fn anchors(text: &str) -> Vec<String> {
    let mut in_code = false;
    let mut found = Vec::new();
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            in_code = !in_code;
        }
        if in_code || !line.starts_with('#') {
            continue;
        }
        let title = line.trim_start_matches('#').trim();
        let slug = title
            .chars()
            .filter_map(|c| match c {
                ' ' => Some('-'),
                c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c.to_ascii_lowercase()),
                _ => None,
            })
            .collect();
        found.push(slug);
    }
    found
}

#[test]
fn every_relative_link_points_to_a_file() {
    let mut broken = Vec::new();
    for file in documents() {
        let text = std::fs::read_to_string(&file).unwrap();
        for (line, target) in links(&text) {
            if target.contains("://") || target.starts_with("mailto:") {
                continue;
            }
            let (path, anchor) = target.split_once('#').unwrap_or((&target, ""));
            let resolved = if path.is_empty() {
                file.clone()
            } else {
                file.parent().unwrap().join(path)
            };
            if !resolved.exists() {
                broken.push(format!("{}:{line}: {target}", file.display()));
            } else if !anchor.is_empty() && resolved.extension().is_some_and(|e| e == "md") {
                let text = std::fs::read_to_string(&resolved).unwrap_or_default();
                if !anchors(&text).iter().any(|a| a == anchor) {
                    broken.push(format!(
                        "{}:{line}: {target}: no such heading",
                        file.display()
                    ));
                }
            }
        }
    }
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
}
