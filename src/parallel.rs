//! One map over all cores for per-file work (reading, searching, parsing, matching): threads
//! take the next item as they finish, so one big file does not hold up a whole share of small
//! ones. Results keep the order of the items.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

/// `f` over `items` on up to eight threads (one per core), in the items' order.
pub fn map<T: Send, U: Send>(items: Vec<T>, f: &(dyn Fn(T) -> U + Sync)) -> Vec<U> {
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(8)
        .min(items.len());
    if threads <= 1 {
        return items.into_iter().map(f).collect();
    }
    let slots: Vec<Mutex<Option<T>>> = items.into_iter().map(|t| Mutex::new(Some(t))).collect();
    let next = AtomicUsize::new(0);
    let mut done: Vec<(usize, U)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    let mut out = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(slot) = slots.get(i) else {
                            return out;
                        };
                        let item = slot
                            .lock()
                            .unwrap_or_else(|e| e.into_inner())
                            .take()
                            .expect("each item is taken once");
                        out.push((i, f(item)));
                    }
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("a worker thread panicked"))
            .collect()
    });
    done.sort_unstable_by_key(|(i, _)| *i);
    done.into_iter().map(|(_, u)| u).collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn results_keep_the_order_of_the_items() {
        let items: Vec<u64> = (0..1000).collect();
        let out = super::map(items, &|n| {
            if n % 97 == 0 {
                std::thread::sleep(std::time::Duration::from_millis(1));
            }
            n * 2
        });
        assert_eq!(out, (0..1000).map(|n| n * 2).collect::<Vec<_>>());
        assert!(super::map(Vec::<u8>::new(), &|n| n).is_empty());
    }
}
