//! The writes several statements share: recording a new run, recording it claimed, and
//! checking that this process still owns a run before it writes to it.

use anyhow::bail;

use super::sql::Sql;
use super::RunStatus::Running;
use super::*;

/// Records a new run (nothing if its token is there already: returns 0); a scheduled
/// slot also becomes its report's latest slot when it is later than the one recorded.
pub(super) fn insert_run(db: &mut dyn Sql, run: &NewRun, wall: DateTime<Utc>) -> Result<u64> {
    let inserted = db.execute(
        "INSERT INTO runs (token, report, kind, slot_at, run_at, window_from, window_to, status,
                           detail, max_attempts, created_at, updated_at, recipient,
                           recipient_values)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11, $12, $13)
         ON CONFLICT DO NOTHING",
        &[
            (&run.token).into(),
            (&run.report).into(),
            run.kind.name().into(),
            run.slot_at.map(ts).into(),
            ts(run.run_at).into(),
            ts(run.window_from).into(),
            ts(run.window_to).into(),
            run.status.name().into(),
            (&run.detail).into(),
            i64::from(run.max_attempts).into(),
            ts(wall).into(),
            run.recipient.as_ref().map_or("", |r| r.key.as_str()).into(),
            run.recipient.as_ref().map(|r| r.to_json()).into(),
        ],
    )?;
    if let (Some(slot), 1..) = (run.slot_at, inserted) {
        db.execute(
            "UPDATE reports SET last_slot = $2
              WHERE name = $1 AND (last_slot IS NULL OR last_slot < $2 COLLATE \"C\")",
            &[(&run.report).into(), ts(slot).into()],
        )?;
    }
    Ok(inserted)
}

pub(super) fn insert_claimed(
    db: &mut dyn Sql,
    run: &NewRun,
    claim: &Claim,
    wall: DateTime<Utc>,
) -> Result<()> {
    if insert_run(db, run, wall)? == 0 {
        bail!("a run with token {} already exists", run.token);
    }
    db.execute(
        &format!(
            "UPDATE runs SET status = '{Running}', owner = $2, lease_until = $3, attempts = 1,
                             started_at = $4
             WHERE token = $1"
        ),
        &[
            (&run.token).into(),
            (&claim.owner).into(),
            ts(claim.until(wall)).into(),
            ts(wall).into(),
        ],
    )?;
    Ok(())
}

/// Fails unless `owner` holds the run; the run's row stays locked until the write ends.
pub(super) fn owned(db: &mut dyn Sql, token: &str, owner: &str) -> Result<()> {
    let row = db.query_opt(
        "SELECT owner FROM runs WHERE token = $1 FOR UPDATE",
        &[token.into()],
    )?;
    match row.map(|r| r.opt_text(0)).transpose()? {
        Some(Some(o)) if o == owner => Ok(()),
        Some(_) => Err(LostClaim {
            token: token.to_string(),
        }
        .into()),
        None => bail!("no run with token {token} in the ledger"),
    }
}

/// Ends a claimed run (`Store::finish`; also `Outcomes::finish_not_sent`).
pub(super) fn finish_run(
    db: &mut dyn Sql,
    token: &str,
    owner: &str,
    finish: &Finish,
    wall: DateTime<Utc>,
) -> Result<()> {
    let (status, detail, retry) = match finish {
        Finish::Completed { detail } => (RunStatus::Completed, detail, None),
        Finish::Failed { detail, retry_at } => (RunStatus::Failed, detail, retry_at.map(ts)),
    };
    owned(db, token, owner)?;
    db.execute(
        "UPDATE runs SET status = $2, detail = $3, next_attempt_at = $4, owner = NULL,
            lease_until = NULL, updated_at = $5, finished_at = $5
         WHERE token = $1",
        &[
            token.into(),
            status.name().into(),
            detail.into(),
            retry.into(),
            ts(wall).into(),
        ],
    )?;
    if status == RunStatus::Completed {
        super::attention::settle_earlier(db, token, wall)?;
    }
    Ok(())
}
