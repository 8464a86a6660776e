//! `reportctl init`: looks at the user's database and writes a starter configuration.

use std::io::Write;
use std::path::Path;

use anyhow::{Context, Result};
use chrono_tz::Tz;

use crate::cli::{Cli, InitArgs};
use crate::exit::{self, UsageError};
use crate::starter::{self, Starter};

pub fn run(cli: &Cli, args: &InitArgs) -> Result<u8> {
    let path = &cli.config;
    if std::fs::symlink_metadata(path).is_ok() {
        return Err(UsageError(format!(
            "{} exists; init never overwrites a file: move it aside, or write another with --config FILE",
            path.display()
        ))
        .into());
    }
    let timezone = zone(args.timezone.as_deref())?;
    let (database, tables, what) = match (&args.sqlite, &args.postgres) {
        (Some(p), _) => {
            let (mut d, t) = starter::sqlite_tables(p)?;
            if let starter::Database::Sqlite { path: written } = &mut d {
                *written = as_seen_from(path, p);
            }
            (d, t, format!("the SQLite database {p}"))
        }
        (None, Some(url)) => {
            let (d, t) = starter::postgres_tables(url)?;
            (d, t, "the PostgreSQL database".to_string())
        }
        (None, None) => unreachable!("clap requires --sqlite or --postgres"),
    };
    let (table, time_column) = starter::choose(
        tables,
        args.table.as_deref(),
        args.time_column.as_deref(),
        &what,
    )
    .map_err(|e| UsageError(e.to_string()))?;
    let s = Starter {
        database,
        table,
        time_column,
        timezone,
    };
    write_new(path, &starter::render(&s))?;
    let mut out = std::io::stdout().lock();
    if cli.json {
        let v = serde_json::json!({
            "config": path,
            "report": starter::report_name(&s.table.name),
            "table": s.table.display(),
            "time_column": s.time_column.name,
        });
        writeln!(out, "{v}")?;
    } else if !cli.quiet {
        writeln!(
            out,
            "wrote {}: report \"{}\" on table {} (time column {}); next: reportctl{} validate",
            path.display(),
            starter::report_name(&s.table.name),
            s.table.display(),
            s.time_column.name,
            config_arg(path),
        )?;
    }
    Ok(exit::OK)
}

/// The zone named, checked, or this machine's.
fn zone(name: Option<&str>) -> Result<String> {
    match name {
        Some(z) => z.parse::<Tz>().map(|t| t.name().to_string()).map_err(|_| {
            UsageError(format!(
                "--timezone {z:?} is not an IANA time zone name (such as Europe/Paris or America/New_York)"
            ))
            .into()
        }),
        None => Ok(crate::config::check::machine_zone().name().to_string()),
    }
}

/// The path of the database as the configuration at `config` must write it (paths in
/// it are relative to its directory): as given when the configuration is in the
/// current directory or the path is absolute, else absolute.
fn as_seen_from(config: &Path, db: &str) -> String {
    let here = config.parent().is_none_or(|d| d.as_os_str().is_empty());
    if here || Path::new(db).is_absolute() {
        return db.to_string();
    }
    std::fs::canonicalize(db)
        .map(|p| p.to_string_lossy().into_owned())
        .unwrap_or_else(|_| db.to_string())
}

/// ` --config FILE` when `path` is not the default.
fn config_arg(path: &Path) -> String {
    if path == Path::new("reports.toml") {
        String::new()
    } else {
        format!(" --config {}", path.display())
    }
}

/// Writes `text` to `path`, which must not exist: under a temporary name first, then
/// linked to its name, which fails rather than replace a file made meanwhile.
fn write_new(path: &Path, text: &str) -> Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = crate::fsutil::temp_name(dir, &name, "init");
    let written = (|| -> std::io::Result<()> {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(text.as_bytes())?;
        f.sync_all()?;
        std::fs::hard_link(&tmp, path)
    })();
    let _ = std::fs::remove_file(&tmp);
    match written {
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Err(UsageError(format!(
            "{} exists; init never overwrites a file",
            path.display()
        ))
        .into()),
        other => {
            other.with_context(|| format!("writing {}", path.display()))?;
            crate::fsutil::fsync_dir(dir).with_context(|| format!("writing {}", path.display()))
        }
    }
}
