//! Which scheduled slots need attention (given up or skipped, not settled), in one
//! place for the statements that read them (`ops.rs`: `check`, `ack`) and the one
//! that settles them when a later slot completes (`statements.rs`: `finish`). See
//! `ops.rs` for the rule.

use super::sql::Sql;
use super::*;

/// A scheduled slot that needs attention: the condition of the partial index
/// `runs_attention` (schema version 3), written the same way so that both databases
/// answer from that index.
pub(super) const ATTENTION: &str = "kind = 'scheduled' AND settled_at IS NULL
          AND (status = 'skipped' OR (status = 'failed' AND next_attempt_at IS NULL))";

/// Settles the slots needing attention that the completed run `token` follows: its
/// report's, of its recipient (or of the slot as a whole: recipient ''), slotted earlier
/// and recorded earlier (see `ops.rs`).
pub(super) fn settle_earlier(db: &mut dyn Sql, token: &str, wall: DateTime<Utc>) -> Result<u64> {
    let sql = format!(
        "UPDATE runs SET settled_at = $2, settled_by = $3
          WHERE report = (SELECT report FROM runs WHERE token = $1) AND {ATTENTION}
            AND recipient IN ('', (SELECT recipient FROM runs WHERE token = $1))
            AND slot_at COLLATE \"C\" <
                (SELECT slot_at FROM runs WHERE token = $1 AND kind = '{}')
            AND created_at COLLATE \"C\" < (SELECT created_at FROM runs WHERE token = $1)",
        RunKind::Scheduled
    );
    let by = format!("later slot {token} completed");
    db.execute(&sql, &[token.into(), ts(wall).into(), by.into()])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_attention_condition_is_the_partial_index_s() {
        let words = format!(
            "kind = '{}' AND settled_at IS NULL
          AND (status = '{}' OR (status = '{}' AND next_attempt_at IS NULL))",
            RunKind::Scheduled,
            RunStatus::Skipped,
            RunStatus::Failed
        );
        assert_eq!(ATTENTION, words);
        let v3 = super::super::schema::MIGRATIONS[2];
        assert!(v3.contains(&format!("WHERE {ATTENTION};")));
        assert!(v3.contains(&format!("WHERE {ATTENTION}\n")));
    }
}
