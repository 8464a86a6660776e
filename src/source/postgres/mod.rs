//! The query runs where the data is: a PostgreSQL server. The window reaches it as
//! typed, bound parameters (`$1 …`, never spliced): `:from`/`:to` as `timestamptz`,
//! `:from_local`/`:to_local` as `timestamp`, `:from_date`/`:to_date` as `date`,
//! `:from_epoch`/`:to_epoch` as `bigint`.
//!
//! The session is set up for reports: `TimeZone` is the report's zone (so `::date`
//! and `date_trunc` work in local days), DateStyle ISO, `statement_timeout` from the
//! source, and a read-only transaction. The query is declared as a cursor with its
//! parameters bound, then fetched with one `FETCH ALL` in the text format: rows stream
//! through the connection as the server produces them (memory stays flat, the client
//! renders while the server reads), and every type arrives as PostgreSQL writes it
//! (see `cells`).

mod cells;
pub mod params;

use std::time::Duration;

use anyhow::{anyhow, bail, Context, Result};
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use chrono_tz::Tz;
use futures_util::StreamExt;
use tokio_postgres::types::{ToSql, Type};
use tokio_postgres::{Client, SimpleQueryMessage};

use self::params::{line_col, Translated};
use super::{Column, RowSink, WindowParams};
use crate::config::PostgresSource;
use crate::pgconn::{self, Target};
use crate::schedule::params::OwnedParam;
use crate::structured::{Compiled, Param};

const CURSOR_PREFIX: &str = "DECLARE reportctl_rows NO SCROLL CURSOR FOR ";

/// Runs `sql` on the source for the window and streams the rows into `sink`.
pub fn query(
    source: &PostgresSource,
    tz: Tz,
    sql: &str,
    params: &WindowParams,
    sink: &mut dyn RowSink,
) -> Result<()> {
    let extra: Vec<String> = params.extra.iter().map(|(n, _)| n.clone()).collect();
    let translated = params::translate_with(sql, &extra).map_err(|(e, _)| anyhow!(e))?;
    let values = Values::new(params)?;
    let typed: Vec<(&(dyn ToSql + Sync), Type)> =
        translated.names.iter().map(|n| values.get(n)).collect();
    run(source, tz, sql, &translated, &typed, sink)
}

/// Runs a statement compiled from a structured output (`$n` parameters, each bound
/// with the type its value has: text, bigint or text[]).
pub fn query_compiled(
    source: &PostgresSource,
    tz: Tz,
    compiled: &Compiled,
    sink: &mut dyn RowSink,
) -> Result<()> {
    let translated = Translated::verbatim(compiled.sql.clone());
    let typed: Vec<(&(dyn ToSql + Sync), Type)> = compiled
        .params
        .iter()
        .map(|p| -> (&(dyn ToSql + Sync), Type) {
            match p {
                Param::Text(t) => (t, Type::TEXT),
                Param::Int(i) => (i, Type::INT8),
                Param::TextList(l) => (l, Type::TEXT_ARRAY),
            }
        })
        .collect();
    run(source, tz, &compiled.sql, &translated, &typed, sink)
}

/// The columns of a table (`table` or `schema.table`; without a schema, the first one on
/// the search path that has it), or `None` when there is no such table.
pub fn table_columns(source: &PostgresSource, table: &[String]) -> Result<Option<Vec<String>>> {
    let target = pgconn::for_source(source)?;
    runtime()?.block_on(async {
        let client = connect(&target).await?;
        let (schema, name) = match table {
            [schema, name] => (Some(schema.as_str()), name.as_str()),
            [name] => (None, name.as_str()),
            _ => bail!("a table name is `table` or `schema.table`"),
        };
        let rows = client
            .query(
                "SELECT a.attname FROM pg_catalog.pg_attribute a
                 WHERE a.attrelid = to_regclass(CASE WHEN $1::text IS NULL THEN quote_ident($2::text)
                                                     ELSE quote_ident($1::text) || '.' || quote_ident($2::text) END)
                   AND a.attnum > 0 AND NOT a.attisdropped
                 ORDER BY a.attnum",
                &[&schema, &name],
            )
            .await
            .with_context(|| format!("looking up table {} on {}", table.join("."), target.describe))?;
        let cols: Vec<String> = rows.iter().map(|r| r.get(0)).collect();
        Ok((!cols.is_empty()).then_some(cols))
    })
}

/// The rows of `sql` (no parameters), every value as text: for looking at a database's
/// catalog, not for reports.
pub fn text_rows(source: &PostgresSource, sql: &str) -> Result<Vec<Vec<Option<String>>>> {
    let target = pgconn::for_source(source)?;
    runtime()?.block_on(async {
        let client = connect(&target).await?;
        let messages = client
            .simple_query(sql)
            .await
            .with_context(|| format!("reading the catalog of {}", target.describe))?;
        Ok(messages
            .iter()
            .filter_map(|m| match m {
                tokio_postgres::SimpleQueryMessage::Row(r) => {
                    Some((0..r.len()).map(|i| r.get(i).map(str::to_string)).collect())
                }
                _ => None,
            })
            .collect())
    })
}

/// Why `prepare_only` found a query wrong.
pub enum PrepareError {
    /// The server could not be reached, or the session not set up.
    Unreachable(anyhow::Error),
    /// The server (or the parameter rewriting) refused the query; `at` is the 1-based
    /// character position in the query as written, when known.
    Query { message: String, at: Option<usize> },
}

/// Prepares `sql` on the source without running it, in a read-only transaction that
/// is rolled back: the server finds unknown tables, columns, functions and type errors
/// (`validate`). Never executes it: a `PREPARE` of a `DELETE` would succeed even in a
/// read-only transaction, so what a query does is judged from its text beforehand.
///
/// `extra` are parameters besides the window's (a recipient's columns): their type is
/// left to the server. Returns the names of the columns the query returns.
pub fn prepare_only(
    source: &PostgresSource,
    sql: &str,
    extra: &[String],
) -> Result<Vec<String>, PrepareError> {
    let translated = params::translate_with(sql, extra)
        .map_err(|(message, at)| PrepareError::Query { message, at })?;
    let types: Vec<Type> = translated
        .names
        .iter()
        .map(|n| match extra.contains(n) {
            true => Type::UNKNOWN,
            false => param_type(n),
        })
        .collect();
    let target = pgconn::for_source(source).map_err(PrepareError::Unreachable)?;
    let rt = runtime().map_err(PrepareError::Unreachable)?;
    rt.block_on(async {
        let client = connect(&target).await.map_err(PrepareError::Unreachable)?;
        let session = Session {
            client: &client,
            sql,
            translated: &translated,
        };
        session
            .setup(Tz::UTC, source.statement_timeout)
            .await
            .map_err(|e| {
                PrepareError::Unreachable(
                    e.context(format!("setting up the session on {}", target.describe)),
                )
            })?;
        let result = match client.prepare_typed(&translated.sql, &types).await {
            Ok(st) if st.columns().is_empty() => Err(PrepareError::Query {
                message: "the query returns no columns; a report query must be a SELECT".into(),
                at: None,
            }),
            Ok(st) => Ok(st.columns().iter().map(|c| c.name().to_string()).collect()),
            Err(e) => {
                let at = match e.as_db_error().and_then(|d| d.position()) {
                    Some(tokio_postgres::error::ErrorPosition::Original(p)) => {
                        session.original(*p, Some(0))
                    }
                    _ => None,
                };
                let message = session.explain(&e, Some(0)).to_string();
                Err(PrepareError::Query { message, at })
            }
        };
        // Nothing ran; the transaction is ended all the same.
        let _ = client.batch_execute("ROLLBACK").await;
        result
    })
}

/// The PostgreSQL type each window parameter is bound as.
fn param_type(name: &str) -> Type {
    match name {
        "from" | "to" => Type::TIMESTAMPTZ,
        "from_local" | "to_local" => Type::TIMESTAMP,
        "from_date" | "to_date" => Type::DATE,
        "from_epoch" | "to_epoch" => Type::INT8,
        other => unreachable!("not a window parameter: {other}"),
    }
}

fn run(
    source: &PostgresSource,
    tz: Tz,
    sql: &str,
    translated: &Translated,
    typed: &[(&(dyn ToSql + Sync), Type)],
    sink: &mut dyn RowSink,
) -> Result<()> {
    let target = pgconn::for_source(source)?;
    runtime()?.block_on(async {
        let client = connect(&target).await?;
        let session = Session {
            client: &client,
            sql,
            translated,
        };
        session
            .setup(tz, source.statement_timeout)
            .await
            .with_context(|| format!("setting up the session on {}", target.describe))?;
        session.stream(typed, sink, source.statement_timeout).await
    })
}

/// The client runs on a single-threaded runtime of its own, for the length of a query.
fn runtime() -> Result<tokio::runtime::Runtime> {
    crate::runtime::for_client("the PostgreSQL client")
}

/// Connects within the connect timeout (TCP, TLS and authentication together).
async fn connect(target: &Target) -> Result<Client> {
    let attempt = target.config.connect(target.tls.clone());
    let (client, connection) = match tokio::time::timeout(target.connect_timeout, attempt).await {
        Ok(Ok(pair)) => pair,
        Ok(Err(e)) => return Err(pgconn::connect_error(target, &e)),
        Err(_) => bail!(
            "connecting to PostgreSQL at {}: no answer within {} seconds (connect_timeout_seconds)",
            target.describe,
            target.connect_timeout.as_secs()
        ),
    };
    tokio::spawn(async move {
        if let Err(e) = connection.await {
            crate::ui::debug(format!("PostgreSQL connection ended: {e}"));
        }
    });
    Ok(client)
}

/// The window as typed values, in `PARAM_NAMES` order.
struct Values {
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    from_local: NaiveDateTime,
    to_local: NaiveDateTime,
    from_date: NaiveDate,
    to_date: NaiveDate,
    from_epoch: i64,
    to_epoch: i64,
    /// A recipient's columns: text as `text`, integers as `bigint`.
    extra: Vec<(String, Box<dyn ToSql + Sync>, Type)>,
}

impl Values {
    fn new(p: &WindowParams) -> Result<Self> {
        let utc = |s: &str| -> Result<DateTime<Utc>> {
            Ok(DateTime::parse_from_rfc3339(s)?.with_timezone(&Utc))
        };
        let local = |s: &str| NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S");
        let date = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d");
        Ok(Values {
            from: utc(&p.from)?,
            to: utc(&p.to)?,
            from_local: local(&p.from_local)?,
            to_local: local(&p.to_local)?,
            from_date: date(&p.from_date)?,
            to_date: date(&p.to_date)?,
            from_epoch: p.from_epoch,
            to_epoch: p.to_epoch,
            extra: p
                .extra
                .iter()
                .map(|(n, v)| -> (String, Box<dyn ToSql + Sync>, Type) {
                    match v {
                        OwnedParam::Text(t) => (n.clone(), Box::new(t.clone()), Type::TEXT),
                        OwnedParam::Int(i) => (n.clone(), Box::new(*i), Type::INT8),
                    }
                })
                .collect(),
        })
    }

    /// The value and PostgreSQL type of the parameter `name`.
    fn get(&self, name: &str) -> (&(dyn ToSql + Sync), Type) {
        if let Some((_, v, t)) = self.extra.iter().find(|(n, _, _)| n == name) {
            return (v.as_ref(), t.clone());
        }
        let value: &(dyn ToSql + Sync) = match name {
            "from" => &self.from,
            "to" => &self.to,
            "from_local" => &self.from_local,
            "to_local" => &self.to_local,
            "from_date" => &self.from_date,
            "to_date" => &self.to_date,
            "from_epoch" => &self.from_epoch,
            _ => &self.to_epoch,
        };
        (value, param_type(name))
    }
}

struct Session<'a> {
    client: &'a Client,
    sql: &'a str,
    translated: &'a Translated,
}

impl Session<'_> {
    /// PostgreSQL's error, with positions in the query as written (`prefix`: characters
    /// added in front of the translated query in the statement that failed; `None`
    /// for statements of our own).
    fn explain(&self, e: &tokio_postgres::Error, prefix: Option<usize>) -> anyhow::Error {
        let at = |p: u32| self.original(p, prefix).map(|o| line_col(self.sql, o));
        anyhow!("{}", pgconn::describe_error(e, &at))
    }

    /// The 1-based character position in the query as written of PostgreSQL's
    /// `position` in a statement with `prefix` characters in front of the query.
    fn original(&self, position: u32, prefix: Option<usize>) -> Option<usize> {
        let o = self
            .translated
            .original_position(position as usize, prefix?);
        (o <= self.sql.chars().count() + 1).then_some(o)
    }

    async fn setup(&self, tz: Tz, statement_timeout: Option<Duration>) -> Result<()> {
        let timeout_ms = statement_timeout.map_or(0, |d| d.as_millis());
        self.client
            .batch_execute(&format!(
                "SET DateStyle = 'ISO, YMD'; SET IntervalStyle = 'postgres';
                 SET extra_float_digits = 3; SET bytea_output = 'hex';
                 SET cursor_tuple_fraction = 1; SET statement_timeout = {timeout_ms};
                 START TRANSACTION READ ONLY"
            ))
            .await
            .map_err(|e| self.explain(&e, None))?;
        self.client
            .execute("SELECT set_config('TimeZone', $1, false)", &[&tz.name()])
            .await
            .map_err(|e| self.explain(&e, None))
            .with_context(|| format!("setting the session's time zone to {}", tz.name()))?;
        Ok(())
    }

    async fn stream(
        &self,
        typed: &[(&(dyn ToSql + Sync), Type)],
        sink: &mut dyn RowSink,
        statement_timeout: Option<Duration>,
    ) -> Result<()> {
        let types: Vec<Type> = typed.iter().map(|(_, t)| t.clone()).collect();
        let bound: Vec<&(dyn ToSql + Sync)> = typed.iter().map(|(v, _)| *v).collect();
        // Describe the query: its columns and their types.
        let statement = self
            .client
            .prepare_typed(&self.translated.sql, &types)
            .await
            .map_err(|e| self.explain(&e, Some(0)))?;
        if statement.columns().is_empty() {
            bail!("the query returns no columns; a report query must be a SELECT");
        }
        let columns: Vec<Column<'_>> = statement
            .columns()
            .iter()
            .map(|c| Column {
                name: c.name(),
                ty: cells::column_type(c.type_()),
            })
            .collect();
        // Declare it as a cursor, with the window bound to its parameters.
        let declare = format!("{CURSOR_PREFIX}{}", self.translated.sql);
        let prefix = CURSOR_PREFIX.chars().count();
        let cursor = self
            .client
            .prepare_typed(&declare, &types)
            .await
            .map_err(|e| self.explain(&e, Some(prefix)))?;
        self.client
            .execute(&cursor, &bound)
            .await
            .map_err(|e| self.explain(&e, Some(prefix)))?;
        sink.columns(&columns)?;
        self.fetch_all(&statement, sink, statement_timeout).await?;
        self.client
            .batch_execute("CLOSE reportctl_rows; COMMIT")
            .await
            .map_err(|e| self.explain(&e, None))?;
        Ok(())
    }

    /// Fetches the declared cursor's rows into `sink`: one FETCH ALL, in the text
    /// format, streamed, each value converted by its column's type.
    async fn fetch_all(
        &self,
        statement: &tokio_postgres::Statement,
        sink: &mut dyn RowSink,
        statement_timeout: Option<Duration>,
    ) -> Result<()> {
        let kinds: Vec<cells::Kind> = statement
            .columns()
            .iter()
            .map(|c| cells::kind_of(c.type_()))
            .collect();
        let names: Vec<&str> = statement.columns().iter().map(|c| c.name()).collect();
        let rows = self
            .client
            .simple_query_raw("FETCH ALL FROM reportctl_rows")
            .await
            .map_err(|e| self.explain(&e, None))?;
        let mut rows = std::pin::pin!(rows);
        let mut scratch = cells::Scratch::default();
        let mut row_no: u64 = 0;
        while let Some(message) = rows.next().await {
            let message = message.map_err(|e| {
                let err = self.explain(&e, None);
                match (e.code(), statement_timeout) {
                    (Some(&tokio_postgres::error::SqlState::QUERY_CANCELED), Some(t)) => err
                        .context(format!(
                            "the query ran longer than the source's statement_timeout_seconds = {}",
                            t.as_secs()
                        )),
                    _ => err,
                }
            })?;
            let SimpleQueryMessage::Row(row) = message else {
                continue;
            };
            row_no += 1;
            for (i, kind) in kinds.iter().enumerate() {
                let value = row.try_get(i).map_err(|e| anyhow!("row {row_no}: {e}"))?;
                cells::push(sink, *kind, value, &mut scratch)
                    .with_context(|| format!("row {row_no}, column \"{}\"", names[i]))?;
            }
            sink.end_row()?;
        }
        Ok(())
    }
}
