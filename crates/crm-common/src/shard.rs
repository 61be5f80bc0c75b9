//! Per-thread shards for state that every request updates (metrics, the verified-token cache).
//!
//! One lock or counter shared by all the threads of a server makes them contend for it, and for
//! the cache line it lives on, on every request. Each thread instead gets a shard number of its
//! own (handed out in turn as threads first ask), and readers combine the shards.

use std::cell::Cell;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Shards are a memory cost per piece of state; beyond this many threads, threads share them.
pub const MAX: usize = 16;

static NEXT: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    static INDEX: Cell<Option<usize>> = const { Cell::new(None) };
}

/// How many shards to make: one per core the process may use, up to [`MAX`].
pub fn count() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get()).clamp(1, MAX)
}

/// The calling thread's shard among `count` shards.
fn index(count: usize) -> usize {
    let index = INDEX.with(|i| {
        i.get().unwrap_or_else(|| {
            let next = NEXT.fetch_add(1, Ordering::Relaxed);
            i.set(Some(next));
            next
        })
    });
    index % count.max(1)
}

/// Gives the calling thread shard `index`: a server whose worker threads are numbered makes sure
/// that no two of them share a shard (up to [`MAX`] workers).
pub fn assign(index: usize) {
    INDEX.with(|i| i.set(Some(index)));
}

/// One `T` per shard, each on cache lines of its own.
#[derive(Debug)]
pub struct PerThread<T> {
    shards: Box<[Padded<T>]>,
}

/// Aligned so that two shards never share a cache line.
#[repr(align(128))]
#[derive(Debug, Default)]
struct Padded<T>(T);

impl<T: Default> PerThread<T> {
    /// One shard per core (see [`count`]).
    pub fn new() -> Self {
        Self::with_count(count())
    }

    /// `n` shards; with one, every thread shares it.
    pub fn with_count(n: usize) -> Self {
        Self { shards: (0..n.max(1)).map(|_| Padded::default()).collect() }
    }
}

impl<T: Default> Default for PerThread<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> PerThread<T> {
    /// The calling thread's shard.
    pub fn local(&self) -> &T {
        &self.shards[index(self.shards.len())].0
    }

    /// Every shard, for readers that combine them.
    pub fn iter(&self) -> impl Iterator<Item = &T> {
        self.shards.iter().map(|s| &s.0)
    }
}
