//! The starter configuration's text: one working report, a directory destination,
//! and the other destinations as commented blocks, every key explained.

use super::{Database, Starter, TimeKind};

/// The starter configuration for `s`.
pub fn render(s: &Starter) -> String {
    let report = report_name(&s.table.name);
    format!(
        "{}\n[settings]\n# The zone the schedules and windows are read in (IANA name).\ntimezone = {}\n\n\
         # {:-^80}\n\n{}\n# {:-^80}\n{DESTINATIONS}\n# {:-^80}\n\n{}",
        header(s, &report),
        toml_str(&s.timezone),
        " source ",
        source(s),
        " destinations ",
        " reports ",
        report_block(s, &report),
    )
}

fn header(s: &Starter, report: &str) -> String {
    let arg = shell_word(report);
    format!(
        r#"# reportctl configuration, written by `reportctl init` for {what}.
#
# Check it, look at the first report's file, then deliver it for real:
#
#   reportctl validate
#   reportctl run {arg} -o -          # print the latest window's CSV
#   reportctl send-test {arg}         # deliver it once to its destinations
#
# then call `reportctl run-due` every few minutes (cron or the systemd timer): it runs
# each report when it is due, exactly once. Secrets are never written here: they are
# {{ env = "NAME" }} or {{ file = "/path" }} references, read when a run needs them.
"#,
        what = what(&s.database)
    )
}

/// The directory destination the report uses, and the others to fill in.
const DESTINATIONS: &str = r#"
# Files land in this directory (relative to this file), complete or not at all.
[destinations.out]
kind = "directory"
path = "out"

# Mail, through the SMTP server of [settings.smtp]:
# [destinations.team]
# kind = "email"
# to = ["team@example.com"]
#
# [settings.smtp]
# host = "smtp.example.com"
# port = 587
# tls = "starttls"
# user = "reports@example.com"
# password = { env = "SMTP_PASSWORD" }
# from = "Reports <reports@example.com>"

# SFTP, with the server's key checked against known_hosts:
# [destinations.partner]
# kind = "sftp"
# host = "sftp.example.com"
# user = "reports"
# key_file = "/etc/reportctl/id_ed25519"
# known_hosts = "/etc/reportctl/known_hosts"
# path = "/incoming"

# S3 (or a compatible store):
# [destinations.bucket]
# kind = "s3"
# bucket = "reports"
# prefix = "daily/"
# region = "eu-west-1"
# access_key_id = { env = "AWS_ACCESS_KEY_ID" }
# secret_access_key = { env = "AWS_SECRET_ACCESS_KEY" }
"#;

fn report_block(s: &Starter, report: &str) -> String {
    format!(
        r#"# Every day at 07:00, the rows of {table} whose {column} falls on the day before (in
# the zone above). Add "team" (or another destination above) to destinations to deliver
# there too.
[[reports]]
name = {name}
type = {kind}
source = "db"
destinations = ["out"]
query = """
SELECT *
FROM {table_sql}
WHERE {condition}
ORDER BY {column_sql}
"""
[reports.schedule]
frequency = "daily"
at = "07:00"
window = "yesterday"
"#,
        table = s.table.display(),
        column = s.time_column.name,
        name = toml_str(report),
        kind = toml_str(&report_type(&s.table.name)),
        table_sql = table_sql(s),
        condition = condition(s),
        column_sql = sql_name(&s.time_column.name),
    )
}

fn what(db: &Database) -> String {
    match db {
        Database::Sqlite { path } => format!("the SQLite database {path}"),
        Database::Postgres { url, .. } => format!("the PostgreSQL database {url}"),
    }
}

fn source(s: &Starter) -> String {
    match &s.database {
        Database::Sqlite { path } => format!(
            "# The SQLite database, opened read-only.\n[sources.db]\nkind = \"sqlite\"\npath = {}\n{}",
            toml_str(path),
            time_format(s)
        ),
        Database::Postgres {
            url,
            sslmode,
            ca_file,
            password_env,
        } => {
            let mut s = format!(
                "# The PostgreSQL database; the query runs in a read-only transaction.\n[sources.db]\nkind = \"postgres\"\nurl = {}\n",
                toml_str(url)
            );
            match password_env {
                Some(var) => s.push_str(&format!(
                    "# The password is read from this variable when a run needs it.\npassword = {{ env = {} }}\n",
                    toml_str(var)
                )),
                None => s.push_str("# password = { env = \"REPORTCTL_DB_PASSWORD\" }\n"),
            }
            if let Some(m) = sslmode {
                s.push_str(&format!("sslmode = {}\n", toml_str(m)));
            }
            if let Some(c) = ca_file {
                s.push_str(&format!("ca_file = {}\n", toml_str(c)));
            }
            s
        }
    }
}

/// How the SQLite source stores times, so that `:from` and `:to` are bound that way.
fn time_format(s: &Starter) -> &'static str {
    match s.time_column.time {
        Some(TimeKind::SqliteText) => {
            "# Times are stored as CURRENT_TIMESTAMP writes them (UTC): :from and :to are bound so.\ntime_format = \"sqlite\"\n"
        }
        Some(TimeKind::Epoch) => {
            "# Times are stored as Unix seconds: :from and :to are bound so.\ntime_format = \"unix\"\n"
        }
        Some(TimeKind::EpochMillis) => {
            "# Times are stored as Unix milliseconds: :from and :to are bound so.\ntime_format = \"unix_ms\"\n"
        }
        _ => "",
    }
}

/// The WHERE condition that keeps the rows of the run's window, by how the time column
/// stores its values.
fn condition(s: &Starter) -> String {
    let c = sql_name(&s.time_column.name);
    match s.time_column.time.unwrap_or(TimeKind::Instant) {
        TimeKind::Instant => format!("{c} >= :from AND {c} < :to"),
        TimeKind::Local => format!("{c} >= :from_local AND {c} < :to_local"),
        // The source's time_format binds :from and :to as these columns store times.
        TimeKind::SqliteText | TimeKind::Epoch | TimeKind::EpochMillis => {
            format!("{c} >= :from AND {c} < :to")
        }
        TimeKind::Date => format!("{c} >= :from_date AND {c} <= :to_date"),
    }
}

fn table_sql(s: &Starter) -> String {
    match &s.table.schema {
        Some(schema) => format!("{}.{}", sql_name(schema), sql_name(&s.table.name)),
        None => sql_name(&s.table.name),
    }
}

/// A name as SQL: as is when it is a plain lower-case word that is no keyword, else
/// quoted.
fn sql_name(name: &str) -> String {
    let plain = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && sqlparser::keywords::ALL_KEYWORDS
            .binary_search(&name.to_ascii_uppercase().as_str())
            .is_err();
    if plain {
        name.to_string()
    } else {
        crate::structured::compile::ident(name)
    }
}

/// `Daily orders` for table `orders`.
pub fn report_name(table: &str) -> String {
    format!("Daily {table}")
}

/// `ORDERS` for table `orders`: letters, digits and `_`.
fn report_type(table: &str) -> String {
    let t: String = table
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect();
    if t.chars().any(|c| c.is_ascii_alphanumeric()) {
        t
    } else {
        "REPORT".to_string()
    }
}

fn toml_str(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

/// A report name as one shell word in the comments.
fn shell_word(s: &str) -> String {
    if s.chars()
        .all(|c| c.is_ascii_alphanumeric() || "_-.".contains(c))
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_quoted_only_when_needed() {
        assert_eq!(sql_name("created_at"), "created_at");
        assert_eq!(sql_name("order"), "\"order\"");
        assert_eq!(sql_name("Created At"), "\"Created At\"");
        assert_eq!(sql_name("a\"b"), "\"a\"\"b\"");
        assert_eq!(report_type("order-lines"), "ORDER_LINES");
        assert_eq!(report_type("é"), "REPORT");
        assert_eq!(shell_word("Daily orders"), "'Daily orders'");
    }
}
