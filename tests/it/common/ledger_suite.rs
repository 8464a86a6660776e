//! The behaviour every ledger back-end must have, as one suite run against each
//! (SQLite in `ledger`, PostgreSQL in `postgres_ledger`). `open` connects to one and the
//! same ledger each time it is called (several connections stand for several processes);
//! each case uses its own report names, so cases share the ledger without interfering.
//!
//! Times are passed in: `now` is the schedule's logical clock, `wall` the machine's. The
//! lease cases move `wall` forward instead of sleeping.

use std::time::Duration;

use chrono::{DateTime, Duration as Dur, Utc};
use reportctl::ledger::{
    CancelOutcome, Claim, FileRecord, Finish, Ledger, Link, NewRun, ReceiptStatus, ReportState,
    RunKind, RunStatus,
};

pub type Open<'a> = &'a (dyn Fn() -> Ledger + Sync);

fn t(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn claim(owner: &str) -> Claim {
    Claim {
        owner: owner.to_string(),
        lease: Duration::from_secs(60),
    }
}

fn slot(report: &str, at: &str) -> NewRun {
    let run_at = t(at);
    NewRun {
        token: reportctl::engine::token::slot_token(report, run_at),
        report: report.to_string(),
        kind: RunKind::Scheduled,
        slot_at: Some(run_at),
        run_at,
        window_from: run_at - Dur::days(1),
        window_to: run_at,
        max_attempts: 3,
        status: RunStatus::Queued,
        detail: String::new(),
    }
}

const WALL: &str = "2026-11-23T12:00:00Z";

pub fn run_all(open: Open<'_>) {
    first_seen_is_recorded_once(open);
    enqueue_is_idempotent(open);
    claims_are_exclusive_and_leases_expire(open);
    failed_runs_are_retried_until_attempts_run_out(open);
    files_receipts_and_links(open);
    cancel_only_queued(open);
    history_order_and_filter(open);
    send_test_rate_limit(open);
    delivered_files_for_pruning(open);
    concurrent_claims_are_won_once(open);
    report_states_follow_first_sight_slots_and_open_runs(open);
    runs_whose_process_died_are_abandoned_once(open);
}

pub fn first_seen_is_recorded_once(open: Open<'_>) {
    let mut l = open();
    assert_eq!(l.first_seen("fs", None).unwrap(), None);
    let a = t("2026-11-20T00:00:00Z");
    assert_eq!(l.first_seen("fs", Some(a)).unwrap(), Some(a));
    assert_eq!(l.first_seen("fs", Some(a + Dur::days(1))).unwrap(), Some(a));
    assert_eq!(open().first_seen("fs", None).unwrap(), Some(a));
    // A first sight later than the clock is moved back to it, once; others stay.
    let later = a + Dur::days(400);
    assert_eq!(l.first_seen("fs2", Some(later)).unwrap(), Some(later));
    assert_eq!(l.correct_first_seen("fs2", a).unwrap(), Some(later));
    assert_eq!(l.first_seen("fs2", None).unwrap(), Some(a));
    assert_eq!(l.correct_first_seen("fs2", a).unwrap(), None);
    assert_eq!(
        l.correct_first_seen("fs", a - Dur::days(1)).unwrap(),
        Some(a)
    );
    assert_eq!(l.correct_first_seen("fs", a + Dur::days(1)).unwrap(), None);
    assert_eq!(l.correct_first_seen("never seen", a).unwrap(), None);
}

pub fn enqueue_is_idempotent(open: Open<'_>) {
    let mut l = open();
    let wall = t(WALL);
    assert_eq!(l.last_slot("eq").unwrap(), None);
    let runs = [
        slot("eq", "2026-11-20T06:00:00Z"),
        slot("eq", "2026-11-21T06:00:00Z"),
    ];
    l.enqueue(&runs, wall).unwrap();
    l.enqueue(&runs, wall).unwrap();
    let mut skipped = slot("eq", "2026-11-19T06:00:00Z");
    skipped.status = RunStatus::Skipped;
    skipped.detail = "missed".into();
    l.enqueue(std::slice::from_ref(&skipped), wall).unwrap();
    assert_eq!(l.last_slot("eq").unwrap(), Some(t("2026-11-21T06:00:00Z")));
    let pending = l.pending("eq", t("2026-11-22T00:00:00Z"), wall).unwrap();
    let tokens: Vec<_> = pending.iter().map(|r| r.token.as_str()).collect();
    assert_eq!(tokens, [runs[0].token.as_str(), runs[1].token.as_str()]);
    let s = l.get(&skipped.token).unwrap().unwrap();
    assert_eq!(
        (s.status, s.detail.as_str()),
        (RunStatus::Skipped, "missed")
    );
    assert_eq!(l.history(Some("eq"), 10).unwrap().len(), 3);
}

pub fn claims_are_exclusive_and_leases_expire(open: Open<'_>) {
    let (mut a, mut b) = (open(), open());
    let wall = t(WALL);
    let now = t("2026-11-22T00:00:00Z");
    let run = slot("cl", "2026-11-21T06:00:00Z");
    a.enqueue(std::slice::from_ref(&run), wall).unwrap();
    let (ca, cb) = (claim("host-a:1"), claim("host-b:2"));
    let got = a
        .claim(&run.token, &ca, now, wall)
        .unwrap()
        .expect("first claim wins");
    assert_eq!((got.status, got.attempts), (RunStatus::Running, 1));
    assert_eq!(got.owner.as_deref(), Some("host-a:1"));
    assert!(
        b.claim(&run.token, &cb, now, wall).unwrap().is_none(),
        "second claim loses"
    );
    assert!(
        b.pending("cl", now, wall).unwrap().is_empty(),
        "a live claim is not pending"
    );
    // The owner keeps the lease alive...
    assert!(a.renew(&run.token, &ca, wall + Dur::seconds(50)).unwrap());
    assert!(b
        .claim(&run.token, &cb, now, wall + Dur::seconds(100))
        .unwrap()
        .is_none());
    // ...until it stops: then the run can be taken over.
    let later = wall + Dur::seconds(200);
    assert_eq!(b.pending("cl", now, later).unwrap().len(), 1);
    let got = b
        .claim(&run.token, &cb, now, later)
        .unwrap()
        .expect("takeover after the lease");
    assert_eq!(got.attempts, 2);
    // The old owner has lost it: it can neither renew nor record nor finish.
    assert!(!a.renew(&run.token, &ca, later).unwrap());
    let lost = a
        .finish(
            &run.token,
            &ca.owner,
            &Finish::Completed {
                detail: String::new(),
            },
            later,
        )
        .unwrap_err();
    assert!(lost.to_string().contains("lost the claim"), "{lost}");
    assert!(a.set_files(&run.token, &ca.owner, &[]).is_err());
    let note = "Notification failed: connection refused".to_string();
    b.finish(
        &run.token,
        &cb.owner,
        &Finish::Completed {
            detail: note.clone(),
        },
        later,
    )
    .unwrap();
    let done = a.get(&run.token).unwrap().unwrap();
    assert_eq!((done.status, done.owner), (RunStatus::Completed, None));
    assert_eq!(done.detail, note, "a completed run keeps its note");
    assert!(
        a.claim(&run.token, &ca, now, later).unwrap().is_none(),
        "completed is final"
    );
}

pub fn failed_runs_are_retried_until_attempts_run_out(open: Open<'_>) {
    let mut l = open();
    let wall = t(WALL);
    let now = t("2026-11-22T00:00:00Z");
    let run = slot("rt", "2026-11-21T06:00:00Z");
    l.enqueue(std::slice::from_ref(&run), wall).unwrap();
    let c = claim("me");
    for attempt in 1..=3u32 {
        let at = now + Dur::hours(i64::from(attempt));
        let got = l
            .claim(&run.token, &c, at, wall)
            .unwrap()
            .expect("claimable");
        assert_eq!(got.attempts, attempt);
        let retry_at = (attempt < 3).then(|| at + Dur::minutes(30));
        l.finish(
            &run.token,
            &c.owner,
            &Finish::Failed {
                detail: format!("down {attempt}"),
                retry_at,
            },
            wall,
        )
        .unwrap();
        // Not before the retry time.
        assert!(l
            .pending("rt", at + Dur::minutes(29), wall)
            .unwrap()
            .is_empty());
        assert!(l
            .claim(&run.token, &c, at + Dur::minutes(29), wall)
            .unwrap()
            .is_none());
    }
    let end = l.get(&run.token).unwrap().unwrap();
    assert_eq!(
        (end.status, end.attempts, end.next_attempt_at),
        (RunStatus::Failed, 3, None)
    );
    assert_eq!(end.detail, "down 3");
    assert!(l
        .pending("rt", now + Dur::days(9), wall)
        .unwrap()
        .is_empty());

    // A process that dies on its last attempt leaves a run that is marked failed.
    let run = slot("rt2", "2026-11-21T06:00:00Z");
    let mut one = run.clone();
    one.max_attempts = 1;
    l.enqueue(&[one], wall).unwrap();
    l.claim(&run.token, &c, now, wall).unwrap().unwrap();
    assert_eq!(
        l.abandon_expired("rt2", wall + Dur::seconds(30)).unwrap(),
        Vec::<String>::new()
    );
    assert_eq!(
        l.abandon_expired("rt2", wall + Dur::seconds(61)).unwrap(),
        vec![run.token.clone()]
    );
    assert_eq!(
        l.abandon_expired("rt2", wall + Dur::seconds(62)).unwrap(),
        Vec::<String>::new(),
        "a run is given up once"
    );
    let gone = l.get(&run.token).unwrap().unwrap();
    assert_eq!(gone.status, RunStatus::Failed);
    assert!(gone.detail.starts_with("abandoned"), "{}", gone.detail);
}

pub fn files_receipts_and_links(open: Open<'_>) {
    let mut l = open();
    let wall = t(WALL);
    let run = slot("fr", "2026-11-21T06:00:00Z");
    l.enqueue(std::slice::from_ref(&run), wall).unwrap();
    let c = claim("me");
    l.claim(&run.token, &c, t("2026-11-22T00:00:00Z"), wall)
        .unwrap()
        .unwrap();
    let file = |n: &str| FileRecord {
        kind: "VIEWS".into(),
        name: n.into(),
        rows: 3,
        bytes: 42,
        sha256: "ab".repeat(32),
    };
    l.set_files(&run.token, &c.owner, &[file("old.csv")])
        .unwrap();
    l.set_files(&run.token, &c.owner, &[file("a.csv"), file("b.csv")])
        .unwrap();
    l.set_receipt(
        &run.token,
        &c.owner,
        "sftp",
        ReceiptStatus::Failed,
        "refused",
        &[],
        wall,
    )
    .unwrap();
    l.set_receipt(
        &run.token,
        &c.owner,
        "sftp",
        ReceiptStatus::Delivered,
        "2 files",
        &[],
        wall,
    )
    .unwrap();
    let link = Link {
        file: "a.csv".into(),
        url: "https://example.invalid/a.csv?sig=1".into(),
        expires: wall + Dur::minutes(30),
    };
    l.set_receipt(
        &run.token,
        &c.owner,
        "s3",
        ReceiptStatus::Delivered,
        "uploaded",
        std::slice::from_ref(&link),
        wall,
    )
    .unwrap();
    let r = l.get(&run.token).unwrap().unwrap();
    let names: Vec<_> = r.files.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(names, ["a.csv", "b.csv"]);
    assert_eq!(r.files[0], file("a.csv"));
    assert_eq!(r.receipts.len(), 2);
    let s3 = r.receipts.iter().find(|x| x.destination == "s3").unwrap();
    assert_eq!(s3.links, [link]);
    let sftp = r.receipts.iter().find(|x| x.destination == "sftp").unwrap();
    assert_eq!(
        (sftp.status, sftp.attempts, sftp.detail.as_str()),
        (ReceiptStatus::Delivered, 2, "2 files")
    );
}

pub fn cancel_only_queued(open: Open<'_>) {
    let mut l = open();
    let wall = t(WALL);
    let (q, r) = (
        slot("cn", "2026-11-20T06:00:00Z"),
        slot("cn", "2026-11-21T06:00:00Z"),
    );
    l.enqueue(&[q.clone(), r.clone()], wall).unwrap();
    l.claim(&r.token, &claim("me"), t("2026-11-22T00:00:00Z"), wall)
        .unwrap()
        .unwrap();
    assert_eq!(l.cancel(&q.token, wall).unwrap(), CancelOutcome::Cancelled);
    assert_eq!(
        l.cancel(&q.token, wall).unwrap(),
        CancelOutcome::NotQueued(RunStatus::Cancelled)
    );
    assert_eq!(
        l.cancel(&r.token, wall).unwrap(),
        CancelOutcome::NotQueued(RunStatus::Running)
    );
    assert_eq!(
        l.cancel("0000000000000000", wall).unwrap(),
        CancelOutcome::NotFound
    );
    assert!(l
        .claim(&q.token, &claim("me"), t("2026-11-22T00:00:00Z"), wall)
        .unwrap()
        .is_none());
}

pub fn history_order_and_filter(open: Open<'_>) {
    let mut l = open();
    let wall = t(WALL);
    l.enqueue(
        &[
            slot("h1", "2026-11-20T06:00:00Z"),
            slot("h1", "2026-11-22T06:00:00Z"),
        ],
        wall,
    )
    .unwrap();
    l.enqueue(&[slot("h2", "2026-11-21T06:00:00Z")], wall)
        .unwrap();
    let h: Vec<_> = l
        .history(Some("h1"), 10)
        .unwrap()
        .into_iter()
        .map(|r| r.run_at)
        .collect();
    assert_eq!(h, [t("2026-11-22T06:00:00Z"), t("2026-11-20T06:00:00Z")]);
    assert_eq!(l.history(Some("h1"), 1).unwrap().len(), 1);
    let all: Vec<_> = l.history(None, 1000).unwrap();
    assert!(all.windows(2).all(|w| w[0].run_at >= w[1].run_at));
}

pub fn send_test_rate_limit(open: Open<'_>) {
    let mut l = open();
    let wall = t(WALL);
    let test = |token: &str| NewRun {
        token: token.into(),
        kind: RunKind::Test,
        slot_at: None,
        ..slot("st", "2026-11-21T06:00:00Z")
    };
    let minute = Dur::seconds(60);
    assert_eq!(
        l.insert_test(&test("t1"), &claim("me"), wall, minute)
            .unwrap(),
        Ok(())
    );
    assert_eq!(
        l.insert_test(&test("t2"), &claim("me"), wall + Dur::seconds(59), minute)
            .unwrap(),
        Err(wall)
    );
    assert_eq!(
        l.insert_test(&test("t3"), &claim("me"), wall + Dur::seconds(60), minute)
            .unwrap(),
        Ok(())
    );
    let r = l.get("t1").unwrap().unwrap();
    assert_eq!(
        (r.kind, r.status, r.attempts),
        (RunKind::Test, RunStatus::Running, 1)
    );
    assert!(l.get("t2").unwrap().is_none());
}

pub fn delivered_files_for_pruning(open: Open<'_>) {
    let mut l = open();
    let wall = t(WALL);
    let c = claim("me");
    for (at, delivered_at, name) in [
        ("2026-11-01T06:00:00Z", "2026-11-01T06:05:00Z", "old.csv"),
        ("2026-11-20T06:00:00Z", "2026-11-20T06:05:00Z", "new.csv"),
    ] {
        let run = slot("pr", at);
        l.enqueue(std::slice::from_ref(&run), wall).unwrap();
        l.claim(&run.token, &c, t(at), wall).unwrap().unwrap();
        l.set_files(
            &run.token,
            &c.owner,
            &[FileRecord {
                kind: "X".into(),
                name: name.into(),
                rows: 1,
                bytes: 1,
                sha256: String::new(),
            }],
        )
        .unwrap();
        l.set_receipt(
            &run.token,
            &c.owner,
            "pr-dir",
            ReceiptStatus::Delivered,
            "",
            &[],
            t(delivered_at),
        )
        .unwrap();
    }
    let old = l
        .delivered_files("pr-dir", t("2026-11-10T00:00:00Z"))
        .unwrap();
    assert_eq!(old, [("old.csv".to_string(), t("2026-11-01T06:05:00Z"))]);
    assert!(l
        .delivered_files("other", t("2026-12-01T00:00:00Z"))
        .unwrap()
        .is_empty());
}

/// Eight "processes" race for the same twenty runs: each run is won exactly once.
pub fn concurrent_claims_are_won_once(open: Open<'_>) {
    let wall = t(WALL);
    let now = t("2026-11-30T00:00:00Z");
    let runs: Vec<NewRun> = (0..20)
        .map(|i| slot("cc", &format!("2026-11-{:02}T06:00:00Z", i + 1)))
        .collect();
    open().enqueue(&runs, wall).unwrap();
    let won: Vec<Vec<String>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..8)
            .map(|p| {
                let runs = &runs;
                s.spawn(move || {
                    let mut l = open();
                    let c = claim(&format!("proc-{p}"));
                    let mut mine = Vec::new();
                    for r in runs {
                        if l.claim(&r.token, &c, now, wall).unwrap().is_some() {
                            l.finish(
                                &r.token,
                                &c.owner,
                                &Finish::Completed {
                                    detail: String::new(),
                                },
                                wall,
                            )
                            .unwrap();
                            mine.push(r.token.clone());
                        }
                    }
                    mine
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let mut all: Vec<String> = won.into_iter().flatten().collect();
    assert_eq!(all.len(), 20, "every run won exactly once");
    all.sort();
    all.dedup();
    assert_eq!(all.len(), 20);
}

pub fn report_states_follow_first_sight_slots_and_open_runs(open: Open<'_>) {
    let mut l = open();
    let wall = t(WALL);
    let state = |l: &mut Ledger| l.report_states(&["rs"]).unwrap().remove(0);
    let closed = ReportState {
        first_seen: None,
        last_slot: None,
        open: false,
    };
    assert_eq!(state(&mut l), closed);
    l.first_seen("rs", Some(wall)).unwrap();
    let runs = [
        slot("rs", "2026-11-20T06:00:00Z"),
        slot("rs", "2026-11-21T06:00:00Z"),
    ];
    l.enqueue(&runs, wall).unwrap();
    // Another report's runs do not count.
    l.enqueue(&[slot("rs-other", "2026-11-22T06:00:00Z")], wall)
        .unwrap();
    let open_state = ReportState {
        first_seen: Some(wall),
        last_slot: Some(t("2026-11-21T06:00:00Z")),
        open: true,
    };
    assert_eq!(state(&mut l), open_state);
    // Several reports at once, in the order asked; a report never seen is closed.
    assert_eq!(
        l.report_states(&["never seen", "rs"]).unwrap(),
        [closed.clone(), open_state.clone()]
    );
    let c = claim("me");
    let done = Finish::Completed {
        detail: String::new(),
    };
    let retry = Finish::Failed {
        detail: "x".into(),
        retry_at: Some(wall),
    };
    for (run, finish) in [(&runs[0], done), (&runs[1], retry)] {
        l.claim(&run.token, &c, wall, wall).unwrap().unwrap();
        assert_eq!(state(&mut l), open_state, "a running run is open");
        l.finish(&run.token, "me", &finish, wall).unwrap();
    }
    // A failed run with a retry time is open; given up, it is not.
    assert_eq!(state(&mut l), open_state);
    l.claim(&runs[1].token, &c, wall, wall).unwrap().unwrap();
    let given_up = Finish::Failed {
        detail: "x".into(),
        retry_at: None,
    };
    l.finish(&runs[1].token, "me", &given_up, wall).unwrap();
    assert_eq!(
        state(&mut l),
        ReportState {
            open: false,
            ..open_state
        }
    );
}

pub fn runs_whose_process_died_are_abandoned_once(open: Open<'_>) {
    let (mut a, mut b) = (open(), open());
    let wall = t(WALL);
    let now = t("2026-11-22T00:00:00Z");
    let mut last_try = slot("ab", "2026-11-20T06:00:00Z");
    last_try.max_attempts = 1;
    let tries_left = slot("ab", "2026-11-21T06:00:00Z");
    a.enqueue(&[last_try.clone(), tries_left.clone()], wall)
        .unwrap();
    let c = claim("host-a:1");
    for run in [&last_try, &tries_left] {
        a.claim(&run.token, &c, now, wall).unwrap().unwrap();
    }
    // Leases alive: nothing to abandon.
    assert!(a
        .abandon_expired("ab", wall + Dur::seconds(30))
        .unwrap()
        .is_empty());
    // Expired: the run without attempts left is given up, once; the other is pending.
    let later = wall + Dur::seconds(120);
    assert_eq!(
        b.abandon_expired("ab", later).unwrap(),
        [last_try.token.clone()]
    );
    assert!(a.abandon_expired("ab", later).unwrap().is_empty());
    let gone = a.get(&last_try.token).unwrap().unwrap();
    assert_eq!((gone.status, gone.owner), (RunStatus::Failed, None));
    assert_eq!(
        gone.detail,
        "abandoned: the process running it stopped (its lease expired) and all 1 attempts are used"
    );
    assert_eq!(
        (gone.next_attempt_at, gone.finished_at),
        (None, Some(later))
    );
    let pending = b.pending("ab", now, later).unwrap();
    let tokens: Vec<_> = pending.iter().map(|r| r.token.as_str()).collect();
    assert_eq!(tokens, [tries_left.token.as_str()]);
}

/// A ledger as schema version 1 left it (before each report's latest slot was kept in
/// its row): report A with a completed and a queued scheduled run, report B with only
/// a manual run.
pub fn version_1_ledger() -> String {
    format!(
        "{}
         CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
         INSERT INTO meta VALUES ('schema_version', '1');
         INSERT INTO reports VALUES ('A', '2026-01-01T00:00:00.000Z'), ('B', '2026-01-01T00:00:00.000Z');
         INSERT INTO runs (token, report, kind, slot_at, run_at, window_from, window_to, status,
                           max_attempts, created_at, updated_at)
         VALUES ('a1', 'A', 'scheduled', '2026-01-02T00:00:00.000Z', '2026-01-02T00:00:00.000Z',
                 '2026-01-01T00:00:00.000Z', '2026-01-02T00:00:00.000Z', 'completed', 5,
                 '2026-01-02T00:00:00.000Z', '2026-01-02T00:00:00.000Z'),
                ('a2', 'A', 'scheduled', '2026-01-03T00:00:00.000Z', '2026-01-03T00:00:00.000Z',
                 '2026-01-02T00:00:00.000Z', '2026-01-03T00:00:00.000Z', 'queued', 5,
                 '2026-01-03T00:00:00.000Z', '2026-01-03T00:00:00.000Z'),
                ('m1', 'B', 'manual', NULL, '2026-01-05T00:00:00.000Z',
                 '2026-01-04T00:00:00.000Z', '2026-01-05T00:00:00.000Z', 'completed', 5,
                 '2026-01-05T00:00:00.000Z', '2026-01-05T00:00:00.000Z');",
        reportctl::ledger::schema::MIGRATIONS[0]
    )
}

/// `version_1_ledger`, opened (and so upgraded): each report's latest slot comes from
/// its recorded scheduled runs, and what is open from its runs.
pub fn version_1_upgrade_keeps_each_report_s_latest_slot(ledger: &mut Ledger) {
    let states = ledger.report_states(&["A", "B", "C"]).unwrap();
    assert_eq!(states[0].last_slot, Some(t("2026-01-03T00:00:00Z")));
    assert!(states[0].open, "A has a queued run");
    assert_eq!(states[1].last_slot, None, "B has only a manual run");
    assert!(!states[1].open);
    assert_eq!(states[2].first_seen, None);
}
