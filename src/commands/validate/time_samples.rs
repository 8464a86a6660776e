//! `validate`'s sample of a time column: a few non-null values of an events mapping's
//! time column, read on a read-only connection, so that the checker can warn when they
//! do not look like the form the window is compared in (see
//! `config::check::source::sqlite`).

use rusqlite::types::ValueRef;

use crate::config::{SourceKind, SqliteSource};
use crate::schedule::params::TimeSample;

/// How many values are looked at: enough to see the form, cheap on any table.
const SAMPLE: usize = 5;

/// Values of `column` in `table` of a SQLite source; none for other kinds of source.
pub fn time_samples(
    source: &SourceKind,
    table: &[String],
    column: &str,
) -> Result<Vec<TimeSample>, String> {
    match source {
        SourceKind::Sqlite(db) => sqlite(db, table, column).map_err(|e| format!("{e:#}")),
        SourceKind::Postgres(_) | SourceKind::Command(_) => Ok(Vec::new()),
    }
}

fn sqlite(db: &SqliteSource, table: &[String], column: &str) -> anyhow::Result<Vec<TimeSample>> {
    let quote = |s: &str| format!("\"{}\"", s.replace('"', "\"\""));
    let table: Vec<String> = table.iter().map(|p| quote(p)).collect();
    let col = quote(column);
    let sql = format!(
        "SELECT {col} FROM {} WHERE {col} IS NOT NULL LIMIT {SAMPLE}",
        table.join(".")
    );
    crate::source::sqlite::with_db(db, |conn| {
        let mut stmt = conn.prepare(&sql)?;
        let mut rows = stmt.query([])?;
        let mut out = Vec::new();
        while let Some(row) = rows.next()? {
            out.push(match row.get_ref(0)? {
                ValueRef::Integer(v) => TimeSample::Int(v),
                ValueRef::Real(v) => TimeSample::Real(v),
                ValueRef::Text(t) => TimeSample::Text(String::from_utf8_lossy(t).into_owned()),
                ValueRef::Blob(_) | ValueRef::Null => TimeSample::Blob,
            });
        }
        Ok(out)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schedule::params::StoredTime;

    #[test]
    fn samples_a_few_values_of_any_type() {
        let dir = tempfile::tempdir().unwrap();
        let script = dir.path().join("t.sql");
        std::fs::write(
            &script,
            "CREATE TABLE \"my t\"(ts, x);\nINSERT INTO \"my t\" VALUES ('2026-11-30 07:00:00', 1), (NULL, 2), (1796018400, 3), (1.5, 4), (CURRENT_TIMESTAMP, 5);\n",
        )
        .unwrap();
        let db = SqliteSource {
            path: None,
            init: vec![script],
            busy_timeout: std::time::Duration::from_secs(1),
            time_format: Default::default(),
            events: None,
        };
        let got = time_samples(&SourceKind::Sqlite(db), &["my t".to_string()], "ts").unwrap();
        assert_eq!(
            got[..3],
            [
                TimeSample::Text("2026-11-30 07:00:00".into()),
                TimeSample::Int(1796018400),
                TimeSample::Real(1.5)
            ]
        );
        // What SQLite's own CURRENT_TIMESTAMP writes is the `sqlite` form.
        assert_eq!(
            got[3].looks_like(),
            Some(StoredTime::Sqlite),
            "{:?}",
            got[3]
        );
    }
}
