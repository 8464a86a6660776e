//! Keeping a claim alive: while a run is being generated and delivered, a background
//! thread with its own ledger connection renews the lease every third of its length.
//! If the renewal finds the run taken over (this process was too slow, or paused), or
//! cannot reach the ledger for a whole lease (a PostgreSQL ledger on another host), the
//! run must not be finished by us: `lost()` says so.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Instant;

use crate::config::Config;
use crate::ledger::{self, Claim};

pub struct LeaseKeeper {
    stop: Option<mpsc::Sender<()>>,
    thread: Option<JoinHandle<()>>,
    lost: Arc<AtomicBool>,
}

impl LeaseKeeper {
    pub fn start(config: &Config, token: &str, claim: &Claim) -> LeaseKeeper {
        let (tx, rx) = mpsc::channel::<()>();
        let lost = Arc::new(AtomicBool::new(false));
        let (config, token, claim, flag) = (
            config.clone(),
            token.to_string(),
            claim.clone(),
            lost.clone(),
        );
        let every = claim.lease / 3;
        let thread = std::thread::spawn(move || {
            let open = |config: &Config| match ledger::open(config) {
                Ok(l) => Some(l),
                Err(e) => {
                    crate::ui::warn(format!("cannot renew the lease of run {token}: {e:#}"));
                    None
                }
            };
            let mut ledger = open(&config);
            let mut renewed = Instant::now();
            loop {
                match rx.recv_timeout(every) {
                    Err(RecvTimeoutError::Timeout) => {}
                    _ => return,
                }
                if ledger.is_none() {
                    ledger = open(&config);
                }
                if let Some(l) = ledger.as_mut() {
                    match l.renew(&token, &claim, crate::clock::wall()) {
                        Ok(true) => renewed = Instant::now(),
                        Ok(false) => {
                            flag.store(true, Ordering::SeqCst);
                            return;
                        }
                        Err(e) => {
                            crate::ui::warn(format!("renewing the lease of run {token}: {e:#}"));
                            ledger = None; // connect again next time
                        }
                    }
                }
                // Not renewed for a whole lease: another process (or host) may take the
                // run over now, so this one must not deliver it.
                if renewed.elapsed() >= claim.lease {
                    crate::ui::warn(format!(
                        "the lease of run {token} could not be renewed for {} seconds; giving the run up",
                        claim.lease.as_secs()
                    ));
                    flag.store(true, Ordering::SeqCst);
                    return;
                }
            }
        });
        LeaseKeeper {
            stop: Some(tx),
            thread: Some(thread),
            lost,
        }
    }

    /// Whether another process took the run over.
    pub fn lost(&self) -> bool {
        self.lost.load(Ordering::SeqCst)
    }
}

impl Drop for LeaseKeeper {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
