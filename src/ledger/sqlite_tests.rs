//! Unit tests of the SQLite back-end (its own file to keep `sqlite.rs` short).
use super::*;

#[test]
fn statements_are_spelled_for_sqlite() {
    assert_eq!(
        spelled(
            "SELECT max(a COLLATE \"C\") FROM t
             WHERE b = $1 AND c COLLATE \"C\" > $12 FOR UPDATE"
        ),
        "SELECT max(a) FROM t
             WHERE b = ?1 AND c > ?12"
    );
}

/// run-due reads this for every report: it must probe indexes, never scan the runs
/// (the history can hold millions).
#[test]
fn report_state_reads_indexes_only() {
    let plan = query_plan(&super::super::statements::report_state_sql());
    assert!(
        plan.iter()
            .all(|p| !p.starts_with("SCAN runs") && !p.starts_with("SCAN reports")),
        "{plan:?}"
    );
    assert!(
        plan.iter()
            .any(|p| p.contains("USING INDEX runs_open (report=?)")),
        "{plan:?}"
    );
    assert!(
        plan.iter().all(|p| !p.contains("runs_slot")
            && !p.contains("runs_report_status")
            && (!p.starts_with("SEARCH runs") || p.contains("runs_open"))),
        "nothing read from an index of the whole history: {plan:?}"
    );
}

/// `check` reads these for every report: each from its small index, none a scan
/// of the runs or an index of the whole history.
#[test]
fn check_reads_indexes_only() {
    let [open, attention, latest] = super::super::ops::watch_sql();
    for (sql, index) in [
        (open, "runs_open"),
        (attention, "runs_attention"),
        (latest, "runs_slot"),
    ] {
        let plan = query_plan(&sql);
        let search = format!("SEARCH runs USING INDEX {index} ");
        assert!(plan.iter().any(|p| p.starts_with(&search)), "{plan:?}");
        assert!(plan.iter().all(|p| !p.starts_with("SCAN runs")), "{plan:?}");
    }
}

/// How SQLite runs `sql` (its parameters `A`, then a time) on a fresh ledger.
fn query_plan(sql: &str) -> Vec<String> {
    let l = SqliteStore::memory().unwrap();
    let mut stmt = l
        .conn
        .prepare(&format!("EXPLAIN QUERY PLAN {}", spelled(sql)))
        .unwrap();
    let args = &["A", "2026-01-01T00:00:00.000Z"][..stmt.parameter_count()];
    stmt.query_map(rusqlite::params_from_iter(args), |r| r.get::<_, String>(3))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap()
}

/// The metrics read each report's latest ended run and latest success walking back
/// `runs_latest` from the latest run, not through the report's whole history.
#[test]
fn metrics_read_the_latest_runs_from_their_index() {
    use super::super::RunStatus;
    use crate::ledger::metrics::{latest_sql, ENDED};
    for statuses in [&ENDED[..], &[RunStatus::Completed]] {
        let plan = query_plan(&latest_sql("token", statuses));
        let search = "SEARCH runs USING INDEX runs_latest ";
        assert!(plan.iter().any(|p| p.starts_with(search)), "{plan:?}");
        assert!(
            plan.iter().all(|p| !p.contains("TEMP B-TREE FOR ORDER BY")),
            "{plan:?}"
        );
    }
}
