//! Executing `run-due`'s pending runs side by side: up to `max_parallel` worker threads
//! (scoped OS threads: the work is blocking I/O — queries, commands, SMTP, SSH — and a
//! handful of threads is all it needs), each with its own ledger connection, take runs
//! from a queue, claim them and execute them. The claim in the ledger stays the lock: a
//! run is executed only by the worker whose claim succeeded, exactly as one process
//! executes it alone. With `max_parallel = 1` there are no threads: each run is claimed
//! and executed on the calling thread, on its ledger, as soon as it is handed over.
//!
//! Runs that ended go back to the calling thread, which shows them (`on_done`) one at a
//! time: output lines are written whole, by one thread.

use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::thread::Scope;

use anyhow::Result;
use chrono::{DateTime, Utc};

use super::gate::Gates;
use super::runner::Runner;
use crate::config::{Config, Report};
use crate::ledger::{self, Claim, Ledger, PendingRun, RunRecord};
use crate::progress::Progress;
use crate::ui;

/// Shows a run that ended; returns whether it completed.
pub type OnDone<'a> = dyn FnMut(&Report, &RunRecord) -> Result<bool> + 'a;

/// What every run of one `run-due` shares.
pub struct Context<'a> {
    pub config: &'a Config,
    pub claim: &'a Claim,
    /// The logical time (`--now`).
    pub now: DateTime<Utc>,
    pub gates: &'a Gates,
}

/// Claims the run `token` with `ledger` and executes it; `None` when another process
/// (or host) has claimed it.
fn claim_and_execute(
    ctx: &Context<'_>,
    ledger: &mut Ledger,
    progress: &Progress,
    report: &Report,
    token: &str,
) -> Result<Option<RunRecord>> {
    let Some(run) = ledger.claim(token, ctx.claim, ctx.now, crate::clock::wall())? else {
        ui::debug(format!("run {token} is taken by another process"));
        return Ok(None);
    };
    let mut runner = Runner {
        config: ctx.config,
        ledger,
        claim: ctx.claim,
        now: ctx.now,
        progress,
        only: None,
        gates: ctx.gates,
    };
    runner.execute(report, run).map(Some)
}

/// A report's pending runs (oldest first) as the jobs of `submit`: one per recipient
/// (one in all for a report without recipients), each oldest first.
pub fn in_order(pending: Vec<PendingRun>) -> Vec<Vec<String>> {
    let mut jobs: Vec<Vec<String>> = Vec::new();
    let mut by_key = std::collections::HashMap::new();
    for run in pending {
        let key = run.recipient;
        let i = *by_key.entry(key).or_insert_with(|| {
            jobs.push(Vec::new());
            jobs.len() - 1
        });
        jobs[i].push(run.token);
    }
    jobs
}

/// One report's pending runs for one recipient, oldest first.
struct Job<'a> {
    report: &'a Report,
    tokens: Vec<String>,
}

/// A run that ended on a worker (`None`: taken by another process), and whether it was
/// the last of its job.
struct Ended<'a> {
    report: &'a Report,
    run: Result<Option<RunRecord>>,
    last: bool,
}

pub struct Pool<'a> {
    ctx: &'a Context<'a>,
    /// The queue of the workers; `None` when runs are executed on the calling thread.
    jobs: Option<Sender<Job<'a>>>,
    ended: Receiver<Ended<'a>>,
    in_flight: usize,
    size: usize,
    /// The display of the calling thread's runs (`max_parallel = 1`).
    progress: Progress,
    /// The first error of a worker (a ledger that failed): no run is handed over after it.
    failed: Option<anyhow::Error>,
    all_well: bool,
}

impl<'a> Pool<'a> {
    /// Starts `size` workers in `scope` (none when `size` is 1).
    pub fn start<'s>(scope: &'s Scope<'s, '_>, ctx: &'a Context<'a>, size: usize) -> Pool<'a>
    where
        'a: 's,
    {
        let mut progress = Progress::for_stderr();
        let (done_tx, ended) = mpsc::channel();
        let jobs = (size > 1).then(|| {
            let (tx, rx) = mpsc::channel::<Job<'a>>();
            let rx = Arc::new(Mutex::new(rx));
            for _ in 0..size {
                let (rx, done, lane) = (rx.clone(), done_tx.clone(), progress.lane());
                scope.spawn(move || work(ctx, &rx, &done, &lane));
            }
            tx
        });
        Pool {
            ctx,
            jobs,
            ended,
            in_flight: 0,
            size,
            progress,
            failed: None,
            all_well: true,
        }
    }

    /// Hands over the pending runs `tokens` of `report` (oldest first): executes them now
    /// (`max_parallel = 1`, with `ledger`), or queues them for one worker once a worker
    /// is free, showing the runs that ended meanwhile. Returns whether any may have run
    /// (the ledger has moved on).
    pub fn submit(
        &mut self,
        ledger: &mut Ledger,
        report: &'a Report,
        tokens: Vec<String>,
        on_done: &mut OnDone<'_>,
    ) -> Result<bool> {
        if tokens.is_empty() {
            return Ok(false);
        }
        if self.jobs.is_none() {
            let mut ran = false;
            for token in &tokens {
                let run = claim_and_execute(self.ctx, ledger, &self.progress, report, token)?;
                if let Some(done) = &run {
                    self.all_well &= on_done(report, done)?;
                }
                ran |= run.is_some();
            }
            return Ok(ran);
        }
        while let Ok(ended) = self.ended.try_recv() {
            self.show(ended, on_done)?;
        }
        while self.in_flight >= self.size && self.failed.is_none() {
            let ended = self.ended.recv()?;
            self.show(ended, on_done)?;
        }
        if let Some(e) = self.failed.take() {
            return Err(e);
        }
        if let Some(jobs) = &self.jobs {
            (jobs.send(Job { report, tokens }))
                .map_err(|_| anyhow::anyhow!("the workers of run-due stopped"))?;
        }
        self.in_flight += 1;
        Ok(true)
    }

    /// The limits on concurrent queries and deliveries the runs share.
    pub fn gates(&self) -> &'a Gates {
        self.ctx.gates
    }

    /// Waits for the runs in flight, showing each as it ends; returns whether every run
    /// went well, or the first error of a worker.
    pub fn finish(mut self, on_done: &mut OnDone<'_>) -> Result<bool> {
        drop(self.jobs.take()); // the workers stop once the queue is empty
        while self.in_flight > 0 {
            let ended = self.ended.recv()?;
            self.show(ended, on_done)?;
        }
        match self.failed {
            Some(e) => Err(e),
            None => Ok(self.all_well),
        }
    }

    /// A run that ended on a worker: shown; a worker's error kept (the first) or warned.
    fn show(&mut self, ended: Ended<'a>, on_done: &mut OnDone<'_>) -> Result<()> {
        if ended.last {
            self.in_flight -= 1;
        }
        match ended.run {
            Ok(Some(done)) => self.all_well &= on_done(ended.report, &done)?,
            Ok(None) => {}
            Err(e) if self.failed.is_none() => self.failed = Some(e),
            Err(e) => ui::warn(format!("{e:#}")),
        }
        Ok(())
    }
}

/// A worker: takes jobs from the queue until it is closed, with a ledger connection of
/// its own (opened on the first run, again after an error). A job stops at its first
/// error: its later runs stay queued in the ledger for the next `run-due`.
fn work<'a>(
    ctx: &Context<'_>,
    jobs: &Mutex<Receiver<Job<'a>>>,
    done: &Sender<Ended<'a>>,
    progress: &Progress,
) {
    let mut own: Option<Ledger> = None;
    loop {
        let job = jobs.lock().unwrap_or_else(|e| e.into_inner()).recv();
        let Ok(Job { report, tokens }) = job else {
            return;
        };
        let count = tokens.len();
        for (i, token) in tokens.iter().enumerate() {
            let run = match &mut own {
                Some(l) => Ok(l),
                None => ledger::open(ctx.config).map(|l| own.insert(l)),
            }
            .and_then(|l| claim_and_execute(ctx, l, progress, report, token));
            let failed = run.is_err();
            if failed {
                own = None;
            }
            let last = failed || i + 1 == count;
            if done.send(Ended { report, run, last }).is_err() {
                return;
            }
            if last {
                break;
            }
        }
    }
}
