//! Limits on concurrent work while `run-due` executes runs side by side: at most
//! `max_concurrent_queries` queries of one source, at most `max_concurrent` deliveries to
//! one destination. A counting semaphore per limited name (std `Mutex` + `Condvar`: the
//! few lines a crate would add nothing to). A run waiting at a gate keeps its lease: the
//! lease keeper runs for the whole of `Runner::execute`.

use std::collections::HashMap;
use std::sync::{Condvar, Mutex};

use crate::config::Config;

/// The gates of one `run-due`, shared by its workers.
#[derive(Default)]
pub struct Gates {
    sources: HashMap<String, Semaphore>,
    destinations: HashMap<String, Semaphore>,
}

impl Gates {
    /// A gate for every source and destination with a limit.
    pub fn new(config: &Config) -> Gates {
        let gate = |n: Option<usize>| n.map(Semaphore::new);
        Gates {
            sources: (config.sources.values())
                .filter_map(|s| Some((s.name.clone(), gate(s.max_concurrent_queries)?)))
                .collect(),
            destinations: (config.destinations.values())
                .filter_map(|d| Some((d.name.clone(), gate(d.max_concurrent)?)))
                .collect(),
        }
    }

    /// No limits: one run at a time (`run`, `retry`) needs none.
    pub fn none() -> Gates {
        Gates::default()
    }

    /// Waits until a query of `source` may start; the query may run while the permit
    /// lives.
    pub fn source(&self, source: &str) -> Option<Permit<'_>> {
        self.sources.get(source).map(Semaphore::acquire)
    }

    /// Waits until a delivery to `destination` may start.
    pub fn destination(&self, destination: &str) -> Option<Permit<'_>> {
        self.destinations.get(destination).map(Semaphore::acquire)
    }
}

struct Semaphore {
    free: Mutex<usize>,
    freed: Condvar,
}

impl Semaphore {
    fn new(permits: usize) -> Semaphore {
        Semaphore {
            free: Mutex::new(permits),
            freed: Condvar::new(),
        }
    }

    fn acquire(&self) -> Permit<'_> {
        let free = self.free.lock().unwrap_or_else(|e| e.into_inner());
        let mut free =
            (self.freed.wait_while(free, |n| *n == 0)).unwrap_or_else(|e| e.into_inner());
        *free -= 1;
        Permit(self)
    }
}

/// Leave to work past a gate; dropping it lets the next waiter through.
pub struct Permit<'a>(&'a Semaphore);

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        *self.0.free.lock().unwrap_or_else(|e| e.into_inner()) += 1;
        self.0.freed.notify_one();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn a_gate_of_two_lets_two_through_at_once() {
        let gate = Semaphore::new(2);
        let (inside, most) = (AtomicUsize::new(0), AtomicUsize::new(0));
        std::thread::scope(|s| {
            for _ in 0..6 {
                s.spawn(|| {
                    let _permit = gate.acquire();
                    let now = inside.fetch_add(1, Ordering::SeqCst) + 1;
                    most.fetch_max(now, Ordering::SeqCst);
                    std::thread::sleep(std::time::Duration::from_millis(20));
                    inside.fetch_sub(1, Ordering::SeqCst);
                });
            }
        });
        assert_eq!(most.load(Ordering::SeqCst), 2);
        assert_eq!(*gate.free.lock().unwrap(), 2);
    }
}
