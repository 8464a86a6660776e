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
    AckOutcome, CancelOutcome, Claim, FileRecord, Finish, Ledger, Link, NewRun, ReceiptStatus,
    ReportState, RunKind, RunStatus,
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
        recipient: None,
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
    given_up_slots_need_attention_until_settled(open);
    skipped_slots_are_settled_together_and_not_by_their_catch_up(open);
    retry_claims_again_and_resend_is_a_run_of_its_own(open);
    metrics_figures(open);
    retention_prunes_only_what_nothing_needs(open);
    slots_skipped_while_paused_are_settled_at_once(open);
    runs_not_sent_are_completed_and_counted(open);
    a_slot_has_one_run_per_recipient(open);
    pending_lists_a_large_fan_out_whole_in_order(open);
}

/// v5, run outcome: a run finished "not sent" is completed (owing nothing, settling
/// earlier given-up slots like any completion), says why, and is counted per report
/// and reason; a lost claim records nothing.
pub fn runs_not_sent_are_completed_and_counted(open: Open<'_>) {
    use reportctl::ledger::NotSent;
    let mut l = open();
    let wall = t(WALL);
    let (a, b) = (
        slot("ns", "2026-11-20T06:00:00Z"),
        slot("ns", "2026-11-21T06:00:00Z"),
    );
    l.enqueue(&[a.clone(), b.clone()], wall).unwrap();
    let c = claim("ns");
    for (run, reason) in [(&a, NotSent::Empty), (&b, NotSent::ConditionFalse)] {
        l.claim(&run.token, &c, b.run_at, wall).unwrap().unwrap();
        assert!(l
            .finish_not_sent(&run.token, "someone else", reason, "x", wall)
            .is_err());
        l.finish_not_sent(&run.token, &c.owner, reason, reason.words(), wall)
            .unwrap();
        let got = l.get(&run.token).unwrap().unwrap();
        assert_eq!(
            (
                got.status,
                got.not_sent,
                got.detail.as_str(),
                got.next_attempt_at
            ),
            (RunStatus::Completed, Some(reason), reason.words(), None)
        );
    }
    assert!(l.pending("ns", b.run_at, wall).unwrap().is_empty());
    let again = slot("ns", "2026-11-22T06:00:00Z");
    l.enqueue(std::slice::from_ref(&again), wall).unwrap();
    l.claim(&again.token, &c, again.run_at, wall)
        .unwrap()
        .unwrap();
    l.finish_not_sent(&again.token, &c.owner, NotSent::Empty, "e", wall)
        .unwrap();
    let counts: Vec<_> = open()
        .figures(&[])
        .unwrap()
        .not_sent
        .into_iter()
        .filter(|n| n.report == "ns")
        .map(|n| (n.reason, n.count))
        .collect();
    assert_eq!(counts, [(NotSent::ConditionFalse, 1), (NotSent::Empty, 2)]);
}

/// One run per (slot, recipient): each recipient's own token and columns, recorded
/// once however often it is enqueued; a second run of the same (slot, recipient) under
/// another token is refused by the unique index.
pub fn a_slot_has_one_run_per_recipient(open: Open<'_>) {
    use reportctl::config::recipients::{Recipient, RecipientValue};
    let mut l = open();
    let at = "2026-11-24T06:00:00Z";
    let of = |key: &str| {
        let r = Recipient {
            key: key.into(),
            values: vec![
                ("id".into(), RecipientValue::Text(key.into())),
                ("n".into(), RecipientValue::Int(7)),
            ],
        };
        NewRun {
            token: reportctl::engine::token::recipient_token("rcp", t(at), key),
            recipient: Some(r),
            ..slot("rcp", at)
        }
    };
    let runs = [of("p1"), of("p2")];
    l.enqueue(&runs, t(WALL)).unwrap();
    l.enqueue(&runs, t(WALL)).unwrap();
    let again = NewRun {
        token: "0000000000000dup".into(),
        ..of("p1")
    };
    l.enqueue(&[again], t(WALL)).unwrap();
    let got = l.history(Some("rcp"), 10).unwrap();
    assert_eq!(got.len(), 2);
    let mut keys: Vec<_> = got.iter().map(|r| r.recipient.clone().unwrap()).collect();
    keys.sort_by(|a, b| a.key.cmp(&b.key));
    assert_eq!(
        keys,
        [
            runs[0].recipient.clone().unwrap(),
            runs[1].recipient.clone().unwrap()
        ]
    );
    assert_eq!(l.last_slot("rcp").unwrap(), Some(t(at)));
}

/// `pending` reads in pages: a fan-out of more runs than a page (two slots of 1,300
/// recipients) comes back whole, each run once, oldest slot first and by token within a
/// slot, with its recipient's key; a run claimed meanwhile is no longer listed.
pub fn pending_lists_a_large_fan_out_whole_in_order(open: Open<'_>) {
    use reportctl::config::recipients::Recipient;
    let mut l = open();
    let wall = t(WALL);
    let of = |at: &str, i: usize| {
        let key = format!("p{i:05}");
        NewRun {
            token: reportctl::engine::token::recipient_token("big", t(at), &key),
            recipient: Some(Recipient {
                key,
                values: Vec::new(),
            }),
            ..slot("big", at)
        }
    };
    let mut runs: Vec<NewRun> = ["2026-11-21T06:00:00Z", "2026-11-22T06:00:00Z"]
        .iter()
        .flat_map(|at| (0..1300).map(move |i| of(at, i)))
        .collect();
    l.enqueue(&runs, wall).unwrap();
    runs.sort_by(|a, b| (a.run_at, &a.token).cmp(&(b.run_at, &b.token)));
    let now = t("2026-11-23T00:00:00Z");
    let pending = l.pending("big", now, wall).unwrap();
    let got: Vec<_> = pending
        .iter()
        .map(|r| (r.token.as_str(), r.recipient.as_deref()))
        .collect();
    let want: Vec<_> = runs
        .iter()
        .map(|r| {
            (
                r.token.as_str(),
                r.recipient.as_ref().map(|x| x.key.as_str()),
            )
        })
        .collect();
    assert_eq!(got.len(), 2600);
    assert!(got == want, "pending runs differ from the recorded ones");
    assert_eq!(pending[1300].window_from, runs[1300].window_from);
    assert!(l
        .claim(&runs[5].token, &claim("a"), now, wall)
        .unwrap()
        .is_some());
    assert_eq!(l.pending("big", now, wall).unwrap().len(), 2599);
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
    // A test that failed with nothing delivered releases the minute; one that a
    // destination accepted keeps it.
    let failed = |detail: &str| Finish::Failed {
        detail: detail.into(),
        retry_at: None,
    };
    let at = wall + Dur::seconds(70);
    l.set_receipt(
        "t3",
        "me",
        "sftp",
        ReceiptStatus::Failed,
        "refused",
        &[],
        at,
    )
    .unwrap();
    l.finish("t3", "me", &failed("refused"), at).unwrap();
    assert_eq!(
        l.insert_test(&test("t4"), &claim("me"), at, minute)
            .unwrap(),
        Ok(())
    );
    l.set_receipt(
        "t4",
        "me",
        "dir",
        ReceiptStatus::Delivered,
        "1 file",
        &[],
        at,
    )
    .unwrap();
    l.finish("t4", "me", &failed("sftp refused"), at).unwrap();
    assert_eq!(
        l.insert_test(&test("t5"), &claim("me"), at + Dur::seconds(1), minute)
            .unwrap(),
        Err(at)
    );
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
/// a manual run; receipts, before delivery counters were kept.
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
                ('a0', 'A', 'scheduled', '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z',
                 '2025-12-31T00:00:00.000Z', '2026-01-01T00:00:00.000Z', 'failed', 5,
                 '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z'),
                ('m1', 'B', 'manual', NULL, '2026-01-05T00:00:00.000Z',
                 '2026-01-04T00:00:00.000Z', '2026-01-05T00:00:00.000Z', 'completed', 5,
                 '2026-01-05T00:00:00.000Z', '2026-01-05T00:00:00.000Z');
         INSERT INTO receipts (token, destination, status, attempts, updated_at)
         VALUES ('a1', 'mail', 'delivered', 3, '2026-01-02T00:00:00.000Z'),
                ('a0', 'mail', 'failed', 5, '2026-01-01T00:00:00.000Z'),
                ('m1', 'sftp', 'delivered', 1, '2026-01-05T00:00:00.000Z');",
        reportctl::ledger::schema::MIGRATIONS[0]
    )
}

/// `version_1_ledger`, opened (and so upgraded): each report's latest slot comes from
/// its recorded scheduled runs, and what is open from its runs; the slot given up
/// before a later one completed needs no attention (schema version 3); the delivery
/// counters start from the receipts: each delivered one is a delivery, its other
/// attempts failed ones (schema version 4).
pub fn version_1_upgrade_keeps_each_report_s_latest_slot(ledger: &mut Ledger) {
    let states = ledger.report_states(&["A", "B", "C"]).unwrap();
    assert_eq!(states[0].last_slot, Some(t("2026-01-03T00:00:00Z")));
    assert!(states[0].open, "A has a queued run");
    assert_eq!(states[1].last_slot, None, "B has only a manual run");
    assert!(!states[1].open);
    assert_eq!(states[2].first_seen, None);
    let a0 = ledger.get("a0").unwrap().unwrap();
    assert_eq!(a0.settled_by.as_deref(), Some("a later slot completed"));
    let watch = ledger.watch(&["A"]).unwrap().pop().unwrap();
    assert!(watch.attention.is_empty(), "{watch:?}");
    assert_eq!(watch.latest.map(|r| r.token), Some("a2".to_string()));
    let counts: Vec<_> = ledger
        .figures(&[])
        .unwrap()
        .deliveries
        .into_iter()
        .map(|c| (c.destination, c.outcome, c.count))
        .collect();
    assert_eq!(
        counts,
        [
            ("mail".to_string(), ReceiptStatus::Delivered, 1),
            ("mail".to_string(), ReceiptStatus::Failed, 7),
            ("sftp".to_string(), ReceiptStatus::Delivered, 1),
        ]
    );
}

/// The metrics' figures: each delivery attempt counted by outcome with its receipt
/// (never down); a report's latest ended run and latest success with its files' rows
/// and bytes; test runs left out; run-due's own figures kept.
pub fn metrics_figures(open: Open<'_>) {
    use reportctl::ledger::metrics::RunDueFigures;
    let mut l = open();
    let wall = t(WALL);
    let ok = slot("mf", "2026-11-20T06:00:00Z");
    let bad = slot("mf", "2026-11-21T06:00:00Z");
    l.enqueue(&[ok.clone(), bad.clone()], wall).unwrap();
    let c = claim("mf");
    l.claim(&ok.token, &c, bad.run_at, wall).unwrap().unwrap();
    let file = |n: &str, rows| FileRecord {
        kind: "VIEWS".into(),
        name: n.into(),
        rows,
        bytes: 10 * rows,
        sha256: "ab".repeat(32),
    };
    l.set_files(&ok.token, &c.owner, &[file("a.csv", 3), file("b.csv", 4)])
        .unwrap();
    for status in [
        ReceiptStatus::Failed,
        ReceiptStatus::Failed,
        ReceiptStatus::Delivered,
    ] {
        l.set_receipt(&ok.token, &c.owner, "mf-dest", status, "", &[], wall)
            .unwrap();
    }
    l.set_receipt(
        &ok.token,
        &c.owner,
        "mf-dest",
        ReceiptStatus::Pending,
        "",
        &[],
        wall,
    )
    .unwrap();
    let finished = wall + Dur::seconds(90);
    let done = Finish::Completed {
        detail: String::new(),
    };
    l.finish(&ok.token, &c.owner, &done, finished).unwrap();
    end(&mut l, &bad, false, wall);
    let f = l.figures(&["mf", "nobody"]).unwrap();
    let last = f.reports[0].last.clone().unwrap();
    assert_eq!(last.status, RunStatus::Failed);
    let success = f.reports[0].last_success.clone().unwrap();
    assert_eq!(
        (success.finished_at, success.rows, success.bytes),
        (finished, 7, 70)
    );
    assert_eq!(f.reports[1], Default::default());
    let mine: Vec<_> = f
        .deliveries
        .iter()
        .filter(|c| c.destination == "mf-dest")
        .map(|c| (c.outcome, c.count))
        .collect();
    assert_eq!(
        mine,
        [(ReceiptStatus::Delivered, 1), (ReceiptStatus::Failed, 2)]
    );
    let r = RunDueFigures {
        finished_at: wall,
        duration_seconds: 1.5,
        claimed: 2,
        ok: false,
    };
    l.record_run_due(&r).unwrap();
    assert_eq!(open().figures(&[]).unwrap().run_due, Some(r));
}

/// Runs `run` (claimed now) to its end: failed for good, or completed.
fn end(l: &mut Ledger, run: &NewRun, completed: bool, wall: DateTime<Utc>) {
    let c = claim("end");
    l.claim(&run.token, &c, run.run_at, wall)
        .unwrap()
        .expect("claimable");
    let finish = if completed {
        Finish::Completed {
            detail: String::new(),
        }
    } else {
        Finish::Failed {
            detail: "down".into(),
            retry_at: None,
        }
    };
    l.finish(&run.token, &c.owner, &finish, wall).unwrap();
}

fn attention(l: &mut Ledger, report: &str) -> Vec<String> {
    let w = l.watch(&[report]).unwrap().pop().unwrap();
    w.attention.into_iter().map(|r| r.token).collect()
}

/// A given-up slot is read by `watch` until `ack` settles it, or a later slot (recorded
/// later) completes; `watch` also reads the open runs and the latest slot's run.
pub fn given_up_slots_need_attention_until_settled(open: Open<'_>) {
    let mut l = open();
    let wall = t(WALL);
    let (one, two, three) = (
        slot("at", "2026-11-21T06:00:00Z"),
        slot("at", "2026-11-22T06:00:00Z"),
        slot("at", "2026-11-23T06:00:00Z"),
    );
    l.first_seen("at", Some(wall)).unwrap();
    l.enqueue(std::slice::from_ref(&one), wall).unwrap();
    end(&mut l, &one, false, wall);
    assert_eq!(attention(&mut l, "at"), vec![one.token.clone()]);
    l.enqueue(std::slice::from_ref(&two), wall + Dur::hours(1))
        .unwrap();
    let w = l.watch(&["at", "nobody"]).unwrap();
    assert_eq!(w[0].open.len(), 1, "the queued slot");
    assert_eq!(
        w[0].latest.as_ref().map(|r| r.status),
        Some(RunStatus::Queued)
    );
    assert_eq!(w[1], Default::default());
    end(&mut l, &two, true, wall + Dur::hours(1));
    assert!(attention(&mut l, "at").is_empty());
    assert_eq!(
        l.get(&one.token).unwrap().unwrap().settled_by,
        Some(format!("later slot {} completed", two.token))
    );
    // ack
    l.enqueue(std::slice::from_ref(&three), wall + Dur::hours(2))
        .unwrap();
    end(&mut l, &three, false, wall + Dur::hours(2));
    assert_eq!(attention(&mut l, "at"), vec![three.token.clone()]);
    let ack = |l: &mut Ledger, token: &str| l.ack(token, "acknowledged", wall).unwrap();
    assert_eq!(ack(&mut l, &three.token), AckOutcome::Acked(1));
    assert!(attention(&mut l, "at").is_empty());
    assert_eq!(
        ack(&mut l, &three.token),
        AckOutcome::AlreadySettled("acknowledged".into())
    );
    assert_eq!(
        ack(&mut l, &two.token),
        AckOutcome::NotCritical(RunStatus::Completed)
    );
    assert_eq!(ack(&mut l, "0000000000000000"), AckOutcome::NotFound);
}

/// Slots skipped by a catch-up are not settled by the slot that catch-up queued with
/// them, and one `ack` settles them all.
pub fn skipped_slots_are_settled_together_and_not_by_their_catch_up(open: Open<'_>) {
    let mut l = open();
    let wall = t(WALL);
    let mut runs: Vec<NewRun> = ["2026-11-20", "2026-11-21", "2026-11-22"]
        .iter()
        .map(|d| slot("sk", &format!("{d}T06:00:00Z")))
        .collect();
    for r in &mut runs[..2] {
        r.status = RunStatus::Skipped;
        r.detail = "missed".into();
    }
    l.enqueue(&runs, wall).unwrap();
    end(&mut l, &runs[2], true, wall);
    let skipped = vec![runs[0].token.clone(), runs[1].token.clone()];
    assert_eq!(attention(&mut l, "sk"), skipped);
    assert_eq!(
        l.ack(&runs[1].token, "acknowledged", wall).unwrap(),
        AckOutcome::Acked(2)
    );
    assert!(attention(&mut l, "sk").is_empty());
}

/// `claim_again` takes a failed or skipped run whatever its attempts (and nothing
/// else); `insert_resend` records a run of kind resend naming its origin, which is then
/// its report's latest run.
pub fn retry_claims_again_and_resend_is_a_run_of_its_own(open: Open<'_>) {
    let mut l = open();
    let wall = t(WALL);
    let mut run = slot("rr", "2026-11-21T06:00:00Z");
    run.max_attempts = 1;
    l.enqueue(std::slice::from_ref(&run), wall).unwrap();
    assert_eq!(l.last_runs(&["rr", "none"]).unwrap()[1], None);
    let c = claim("retry");
    assert!(
        l.claim_again(&run.token, &c, wall).unwrap().is_none(),
        "queued"
    );
    end(&mut l, &run, false, wall);
    let again = l.claim_again(&run.token, &c, wall).unwrap().unwrap();
    assert_eq!((again.status, again.attempts), (RunStatus::Running, 2));
    assert!(
        l.claim_again(&run.token, &c, wall).unwrap().is_none(),
        "running"
    );
    let done = Finish::Completed {
        detail: String::new(),
    };
    l.finish(&run.token, &c.owner, &done, wall).unwrap();
    assert!(attention(&mut l, "rr").is_empty());

    let resend = NewRun {
        token: "00000000000000rr".into(),
        kind: RunKind::Resend,
        slot_at: None,
        max_attempts: 1,
        ..run.clone()
    };
    l.insert_resend(&resend, &run.token, &c, wall + Dur::minutes(1))
        .unwrap();
    let got = l.get(&resend.token).unwrap().unwrap();
    assert_eq!(
        (got.kind, got.status, got.origin.as_deref()),
        (
            RunKind::Resend,
            RunStatus::Running,
            Some(run.token.as_str())
        )
    );
    let last = l.last_runs(&["rr"]).unwrap().pop().unwrap().unwrap();
    assert_eq!(last.token, resend.token, "the latest run, resends included");
    assert_eq!(
        l.last_slot("rr").unwrap(),
        Some(run.run_at),
        "a resend is no slot"
    );
}

/// Retention deletes old finished runs with their files, receipts and links, in
/// batches, and keeps runs with attempts left, unsettled given-up or skipped slots,
/// the report's latest run and its latest slot, and young runs.
pub fn retention_prunes_only_what_nothing_needs(open: Open<'_>) {
    let mut l = open();
    let wall = t(WALL);
    let day = |d: u32| slot("keep", &format!("2026-10-{d:02}T06:00:00Z"));
    let old: Vec<NewRun> = (1..=6).map(day).collect();
    l.first_seen("keep", Some(wall - Dur::days(60))).unwrap();
    let recorded = wall - Dur::days(50);
    l.enqueue(&old, recorded).unwrap();
    // 1 completed with a file and a receipt, 2, 3 and 6 completed, 4 given up, 5
    // failing with attempts left; a later slot given up (the latest run and slot). The
    // other cases record at WALL: `before` leaves their runs alone.
    for r in [&old[1], &old[2], &old[5]] {
        end(&mut l, r, true, recorded);
    }
    let c = claim("files");
    l.claim(&old[0].token, &c, old[0].run_at, recorded).unwrap();
    let file = FileRecord {
        kind: "csv".into(),
        name: "a.csv".into(),
        rows: 1,
        bytes: 2,
        sha256: "00".into(),
    };
    l.set_files(&old[0].token, &c.owner, &[file]).unwrap();
    l.set_receipt(
        &old[0].token,
        &c.owner,
        "out",
        ReceiptStatus::Delivered,
        "",
        &[],
        recorded,
    )
    .unwrap();
    let done = Finish::Completed {
        detail: String::new(),
    };
    l.finish(&old[0].token, &c.owner, &done, recorded).unwrap();
    end(&mut l, &old[3], false, recorded);
    let c = claim("failing");
    l.claim(&old[4].token, &c, old[4].run_at, recorded).unwrap();
    let again = Finish::Failed {
        detail: "down".into(),
        retry_at: Some(wall),
    };
    l.finish(&old[4].token, &c.owner, &again, recorded).unwrap();
    let young = slot("keep", "2026-11-22T06:00:00Z");
    let later = recorded + Dur::days(1);
    l.enqueue(std::slice::from_ref(&young), later).unwrap();
    end(&mut l, &young, false, later);

    let before = wall - Dur::days(30);
    assert_eq!(l.prune_runs(before, 3).unwrap(), 3, "one batch");
    assert_eq!(l.prune_runs(before, 3).unwrap(), 1);
    assert_eq!(l.prune_runs(before, 3).unwrap(), 0);
    let gone = |l: &mut Ledger, r: &NewRun| l.get(&r.token).unwrap().is_none();
    for r in old[..3].iter().chain([&old[5]]) {
        assert!(gone(&mut l, r), "{} pruned", r.run_at);
    }
    for r in [&old[3], &old[4], &young] {
        assert!(!gone(&mut l, r), "{} kept", r.run_at);
    }
    assert!(l
        .delivered_files("out", wall + Dur::days(1))
        .unwrap()
        .is_empty());
    assert_eq!(l.last_slot("keep").unwrap(), Some(young.run_at));
    // Once the given-up slot is settled, it goes too; the latest run never does.
    l.ack(&old[3].token, "acknowledged", wall).unwrap();
    assert_eq!(l.prune_runs(before, 10).unwrap(), 1);
    assert!(gone(&mut l, &old[3]) && !gone(&mut l, &old[4]));
    l.ack(&young.token, "acknowledged", wall).unwrap();
    assert_eq!(l.prune_runs(before, 10).unwrap(), 0);
    assert!(!gone(&mut l, &young), "the latest run and slot are kept");
}

/// Slots recorded while their report was paused are skipped and settled in the same
/// transaction: they never need attention, and they move the report's latest slot.
pub fn slots_skipped_while_paused_are_settled_at_once(open: Open<'_>) {
    let mut l = open();
    let wall = t(WALL);
    let mut runs: Vec<NewRun> = ["2026-11-21", "2026-11-22"]
        .iter()
        .map(|d| slot("paused", &format!("{d}T06:00:00Z")))
        .collect();
    for r in &mut runs {
        r.status = RunStatus::Skipped;
        r.detail = "paused".into();
    }
    l.first_seen("paused", Some(wall - Dur::days(3))).unwrap();
    l.enqueue_settled(&runs, "paused", wall).unwrap();
    l.enqueue_settled(&runs, "again", wall).unwrap();
    assert!(attention(&mut l, "paused").is_empty());
    let run = l.get(&runs[1].token).unwrap().unwrap();
    assert_eq!(
        (run.status, run.settled_by.as_deref()),
        (RunStatus::Skipped, Some("paused"))
    );
    let state = l.report_states(&["paused"]).unwrap().pop().unwrap();
    assert_eq!(state.last_slot, Some(runs[1].run_at));
}
