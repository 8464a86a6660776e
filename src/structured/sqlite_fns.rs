//! SQL functions registered on every SQLite connection reportctl opens, so that
//! structured outputs get time buckets in the report's zone (SQLite knows only UTC and
//! fixed offsets) and tag filters on a comma-separated tag column:
//!
//! - `reportctl_local_day(t, zone)` → `2026-11-01`
//! - `reportctl_local_hour(t, zone)` → `2026-11-01T01:00:00-04:00`
//! - `reportctl_local_time(t, zone)` → `2026-11-01T01:23:45-04:00`
//! - `reportctl_tags_any(tags, 'a,b')`, `reportctl_tags_only(…)`, `reportctl_tags_none(…)`
//!
//! `t` is RFC 3339 text (`…Z` or with an offset), `YYYY-MM-DD HH:MM:SS` text read as UTC,
//! or Unix seconds; NULL gives NULL. `tags` is a comma-separated list.

use chrono::{DateTime, NaiveDateTime, SecondsFormat, TimeZone, Timelike, Utc};
use chrono_tz::Tz;
use rusqlite::functions::{Context, FunctionFlags};
use rusqlite::types::ValueRef;
use rusqlite::Connection;

fn instant(v: ValueRef<'_>) -> Result<Option<DateTime<Utc>>, String> {
    match v {
        ValueRef::Null => Ok(None),
        ValueRef::Integer(s) => DateTime::from_timestamp(s, 0)
            .map(Some)
            .ok_or_else(|| format!("{s} is out of range as Unix seconds")),
        ValueRef::Real(s) => {
            DateTime::from_timestamp(s.floor() as i64, ((s - s.floor()) * 1e9) as u32)
                .map(Some)
                .ok_or_else(|| format!("{s} is out of range as Unix seconds"))
        }
        ValueRef::Text(t) => {
            let s = std::str::from_utf8(t).map_err(|_| "the time is not UTF-8 text".to_string())?;
            DateTime::parse_from_rfc3339(s)
                .map(|d| d.with_timezone(&Utc))
                .or_else(|_| {
                    NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S").map(|n| n.and_utc())
                })
                .map(Some)
                .map_err(|_| format!("\"{s}\" is not an RFC 3339 time or YYYY-MM-DD HH:MM:SS"))
        }
        ValueRef::Blob(_) => Err("a BLOB is not a time".into()),
    }
}

fn zone(ctx: &Context<'_>, i: usize) -> rusqlite::Result<Tz> {
    let name: String = ctx.get(i)?;
    name.parse::<Tz>()
        .map_err(|_| rusqlite::Error::UserFunctionError(format!("unknown time zone {name}").into()))
}

fn local(
    ctx: &Context<'_>,
    f: impl Fn(DateTime<Tz>) -> String,
) -> rusqlite::Result<Option<String>> {
    let tz = zone(ctx, 1)?;
    let t = instant(ctx.get_raw(0)).map_err(|e| rusqlite::Error::UserFunctionError(e.into()))?;
    Ok(t.map(|t| f(tz.from_utc_datetime(&t.naive_utc()))))
}

fn tag_set(v: ValueRef<'_>) -> Option<Vec<String>> {
    match v {
        ValueRef::Text(t) => Some(
            String::from_utf8_lossy(t)
                .split(',')
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect(),
        ),
        _ => None,
    }
}

pub fn register(conn: &Connection) -> rusqlite::Result<()> {
    let flags = FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC;
    conn.create_scalar_function("reportctl_local_day", 2, flags, |ctx| {
        local(ctx, |t| t.format("%Y-%m-%d").to_string())
    })?;
    conn.create_scalar_function("reportctl_local_hour", 2, flags, |ctx| {
        // Back to the start of the local hour by elapsed time, so that both 01:00s of a
        // fall-back night keep their own offset.
        local(ctx, |t| {
            let into = i64::from(t.minute() * 60 + t.second());
            let start = t
                - chrono::Duration::seconds(into)
                - chrono::Duration::nanoseconds(i64::from(t.nanosecond()));
            start.to_rfc3339_opts(SecondsFormat::Secs, false)
        })
    })?;
    conn.create_scalar_function("reportctl_local_time", 2, flags, |ctx| {
        local(ctx, |t| t.to_rfc3339_opts(SecondsFormat::Secs, false))
    })?;
    for (name, how) in [
        ("reportctl_tags_any", "any"),
        ("reportctl_tags_only", "only"),
        ("reportctl_tags_none", "none"),
    ] {
        conn.create_scalar_function(name, 2, flags, move |ctx| {
            let list = tag_set(ctx.get_raw(1)).unwrap_or_default();
            let tags = tag_set(ctx.get_raw(0));
            let any = tags
                .as_ref()
                .is_some_and(|t| t.iter().any(|x| list.contains(x)));
            Ok(match how {
                "any" => any,
                "only" => tags.is_some_and(|t| !t.is_empty() && t.iter().all(|x| list.contains(x))),
                _ => !any,
            })
        })?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(sql: &str) -> rusqlite::Result<Option<String>> {
        let c = Connection::open_in_memory().unwrap();
        register(&c).unwrap();
        c.query_row(sql, [], |r| r.get(0))
    }

    #[test]
    fn local_labels_across_fall_back() {
        let ny = "'America/New_York'";
        assert_eq!(
            one(&format!(
                "SELECT reportctl_local_day('2026-11-01T04:30:00Z', {ny})"
            ))
            .unwrap()
            .unwrap(),
            "2026-11-01"
        );
        assert_eq!(
            one(&format!(
                "SELECT reportctl_local_day('2026-11-01T03:59:59Z', {ny})"
            ))
            .unwrap()
            .unwrap(),
            "2026-10-31"
        );
        assert_eq!(
            one(&format!(
                "SELECT reportctl_local_hour('2026-11-01T05:10:00Z', {ny})"
            ))
            .unwrap()
            .unwrap(),
            "2026-11-01T01:00:00-04:00"
        );
        assert_eq!(
            one(&format!(
                "SELECT reportctl_local_hour('2026-11-01T06:10:00Z', {ny})"
            ))
            .unwrap()
            .unwrap(),
            "2026-11-01T01:00:00-05:00"
        );
        assert_eq!(
            one(&format!("SELECT reportctl_local_time(1793513700, {ny})"))
                .unwrap()
                .unwrap(),
            "2026-11-01T01:15:00-05:00"
        );
        assert_eq!(
            one("SELECT reportctl_local_hour('2026-03-08T10:40:00Z', 'Asia/Kolkata')")
                .unwrap()
                .unwrap(),
            "2026-03-08T16:00:00+05:30"
        );
        assert_eq!(
            one(&format!("SELECT reportctl_local_day(NULL, {ny})")).unwrap(),
            None
        );
        let e = one(&format!("SELECT reportctl_local_day('yesterday', {ny})"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("\"yesterday\" is not an RFC 3339 time"), "{e}");
        assert!(one("SELECT reportctl_local_day(0, 'Mars/Base')")
            .unwrap_err()
            .to_string()
            .contains("unknown time zone"));
    }

    #[test]
    fn tag_filters() {
        let c = Connection::open_in_memory().unwrap();
        register(&c).unwrap();
        let t = |tags: &str, how: &str| -> bool {
            c.query_row(
                &format!("SELECT reportctl_tags_{how}({tags}, 'promo,q4')"),
                [],
                |r| r.get(0),
            )
            .unwrap()
        };
        assert!(t("'promo,vip'", "any") && !t("'vip'", "any") && !t("NULL", "any"));
        assert!(
            t("'q4,promo'", "only")
                && !t("'q4,vip'", "only")
                && !t("''", "only")
                && !t("NULL", "only")
        );
        assert!(
            t("'vip'", "none") && !t("'vip,q4'", "none") && t("NULL", "none") && t("''", "none")
        );
    }
}
