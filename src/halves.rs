//! Work on many independent items, on two threads when there are enough of them: the
//! commands that read every report (`plan`, `run-due`, the configuration check) stay
//! quick with tens of thousands of reports on a small machine.

/// From this many items on, the work is split over two threads.
pub const MIN_ITEMS: usize = 2000;

/// `items.map(f)` in order; with `MIN_ITEMS` items or more, the second half is mapped
/// on another thread.
pub fn map<T: Send, R: Send>(mut items: Vec<T>, f: impl Fn(T) -> R + Sync) -> Vec<R> {
    if items.len() < MIN_ITEMS {
        return items.into_iter().map(f).collect();
    }
    let total = items.len();
    let tail = items.split_off(total / 2);
    let f = &f;
    std::thread::scope(|scope| {
        let tail = scope.spawn(move || tail.into_iter().map(f).collect::<Vec<R>>());
        let mut out: Vec<R> = Vec::with_capacity(total);
        out.extend(items.into_iter().map(f));
        match tail.join() {
            Ok(rest) => out.extend(rest),
            Err(panic) => std::panic::resume_unwind(panic),
        }
        out
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn order_is_kept_on_one_thread_and_on_two() {
        for n in [0, 1, super::MIN_ITEMS - 1, super::MIN_ITEMS, 5001] {
            let got = super::map((0..n).collect(), |i| i * 2);
            assert_eq!(got, (0..n).map(|i| i * 2).collect::<Vec<_>>());
        }
    }
}
