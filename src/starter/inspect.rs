//! Looking at the user's database, read-only: its tables, their columns, and which of
//! them hold times and how.

use std::path::Path;
use std::time::Duration;

use anyhow::{anyhow, bail, Context, Result};
use rusqlite::{Connection, OpenFlags};

use super::{kind_of_value, Column, Database, Table, TimeKind};
use crate::config::pgurl::split_ssl_params;
use crate::config::{PostgresSource, SslMode};

/// The environment variable a starter file reads the PostgreSQL password from.
pub const PASSWORD_ENV: &str = "REPORTCTL_DB_PASSWORD";

/// The tables of the SQLite database at `path` (opened read-only).
pub fn sqlite_tables(path: &str) -> Result<(Database, Vec<Table>)> {
    let p = Path::new(path);
    if !p.is_file() {
        bail!("{path} is not a file: give the path of your SQLite database");
    }
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(p, flags).with_context(|| format!("opening {path}"))?;
    let names: Vec<String> = conn
        .prepare(
            "SELECT name FROM sqlite_schema WHERE type IN ('table', 'view') \
             AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name",
        )
        .and_then(|mut s| s.query_map([], |r| r.get(0))?.collect())
        .map_err(|e| anyhow!("{path} is not a SQLite database: {e}"))?;
    let mut tables = Vec::new();
    for name in names {
        let columns = sqlite_columns(&conn, &name)
            .with_context(|| format!("reading the columns of table {name} in {path}"))?;
        tables.push(Table {
            schema: None,
            name,
            columns,
        });
    }
    let database = Database::Sqlite {
        path: path.to_string(),
    };
    Ok((database, tables))
}

fn sqlite_columns(conn: &Connection, table: &str) -> rusqlite::Result<Vec<Column>> {
    let mut stmt = conn.prepare("SELECT name, type FROM pragma_table_info(?1) ORDER BY cid")?;
    let pairs: Vec<(String, String)> = stmt
        .query_map([table], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    let mut columns = Vec::new();
    for (name, declared) in pairs {
        let upper = declared.to_ascii_uppercase();
        let by_type = upper.contains("DATE") || upper.contains("TIME");
        let time = if by_type || time_like_name(&name) {
            // SQLite keeps any value in any column: the values say how times are stored.
            let sql = format!(
                "SELECT CAST({col} AS TEXT) FROM {tab} WHERE {col} IS NOT NULL LIMIT 1",
                col = quote(&name),
                tab = quote(table)
            );
            let sample: Option<String> = conn.query_row(&sql, [], |r| r.get(0)).ok();
            match sample {
                Some(v) => kind_of_value(&v),
                None if upper == "DATE" => Some(TimeKind::Date),
                None if by_type => Some(TimeKind::Instant),
                None => None,
            }
        } else {
            None
        };
        columns.push(Column {
            name,
            declared,
            time,
        });
    }
    Ok(columns)
}

/// `created_at`, `event_time`, `order_date`, `ts`…
fn time_like_name(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    ["_at", "_time", "_date", "_ts", "_on"]
        .iter()
        .any(|s| n.ends_with(s))
        || [
            "time",
            "date",
            "timestamp",
            "ts",
            "created",
            "updated",
            "day",
        ]
        .contains(&n.as_str())
}

fn quote(name: &str) -> String {
    crate::structured::compile::ident(name)
}

/// The tables of the PostgreSQL database at `url` (a `postgres://` URL, its password
/// used to connect but never kept), outside the system schemas.
pub fn postgres_tables(url: &str) -> Result<(Database, Vec<Table>)> {
    let mut parsed = url::Url::parse(url)
        .ok()
        .filter(|u| matches!(u.scheme(), "postgres" | "postgresql"))
        .ok_or_else(|| {
            anyhow!("--postgres takes a URL: postgres://USER@HOST:PORT/DATABASE (the password, if any, in PGPASSWORD or the URL)")
        })?;
    let had_password = parsed.password().is_some();
    let password = parsed.password().map(|p| {
        url::form_urlencoded::parse(format!("p={p}").as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default()
    });
    let _ = parsed.set_password(None);
    let (kept, ssl) = split_ssl_params(parsed.as_str());
    let sslmode = match ssl.sslmode.as_deref() {
        None => SslMode::Prefer,
        Some(m) => SslMode::parse(m).ok_or_else(|| {
            anyhow!("sslmode={m} is not allowed; allowed: disable, prefer, require, verify-full")
        })?,
    };
    let password = password.or_else(|| std::env::var("PGPASSWORD").ok());
    let source = PostgresSource {
        url: Some(kept.clone()),
        host: None,
        port: None,
        user: None,
        dbname: None,
        password: password.map(crate::config::secret::Secret::Plain),
        sslmode,
        ca_file: ssl.sslrootcert.clone().map(Into::into),
        connect_timeout: Duration::from_secs(10),
        statement_timeout: Some(Duration::from_secs(30)),
        events: None,
    };
    let rows = crate::source::postgres::text_rows(&source, CATALOG)?;
    let database = Database::Postgres {
        url: kept,
        sslmode: ssl.sslmode,
        ca_file: ssl.sslrootcert,
        password_env: had_password.then(|| PASSWORD_ENV.to_string()),
    };
    Ok((database, postgres_table_list(rows)))
}

/// Every column of every table and view outside the system schemas, with its type and
/// whether its schema is the first on the search path.
const CATALOG: &str = "SELECT c.table_schema, c.table_name, c.column_name, c.data_type, \
     (c.table_schema = current_schema())::text \
     FROM information_schema.columns c \
     JOIN information_schema.tables t USING (table_schema, table_name) \
     WHERE c.table_schema NOT IN ('pg_catalog', 'information_schema') \
       AND c.table_schema NOT LIKE 'pg\\_%' \
     ORDER BY c.table_schema <> current_schema(), c.table_schema, c.table_name, c.ordinal_position";

fn postgres_table_list(rows: Vec<Vec<Option<String>>>) -> Vec<Table> {
    let mut tables: Vec<Table> = Vec::new();
    for row in rows {
        let get = |i: usize| row.get(i).cloned().flatten().unwrap_or_default();
        let (schema, name) = (get(0), get(1));
        let schema = (get(4) != "true").then_some(schema);
        let declared = get(3);
        let time = match declared.as_str() {
            "timestamp with time zone" => Some(TimeKind::Instant),
            "timestamp without time zone" => Some(TimeKind::Local),
            "date" => Some(TimeKind::Date),
            _ => None,
        };
        let column = Column {
            name: get(2),
            declared,
            time,
        };
        match tables.last_mut() {
            Some(t) if t.name == name && t.schema == schema => t.columns.push(column),
            _ => tables.push(Table {
                schema,
                name,
                columns: vec![column],
            }),
        }
    }
    tables
}
