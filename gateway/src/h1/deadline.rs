//! Timeouts on the direct path without a timer registered and cancelled for every wait.
//!
//! `tokio::time::timeout` puts an entry into the runtime's timer wheel when the future it wraps is
//! first pending and takes it out again when it completes. A proxied request waits twice (for the
//! client, then for the service), so that was two insertions and two removals per request, about
//! 4 % of the direct path's instructions. A [`Deadline`] belongs to a connection and keeps one
//! entry: arming it again only moves the entry when the time it is set for falls outside the
//! window the new timeout allows, so under steady traffic the entry moves about once a second.
//!
//! The price is precision: a timeout fires at most an eighth of its length (and at most
//! [`MAX_SLACK`]) after it is due, never before.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;
use tokio::time::{Instant, Sleep};

/// The longest a timeout may fire after it is due.
pub const MAX_SLACK: Duration = Duration::from_secs(1);

/// One connection's reusable timer.
pub struct Deadline {
    /// Boxed: it is pinned, and moves with the connection's state.
    sleep: Pin<Box<Sleep>>,
    /// When `sleep` fires.
    at: Instant,
}

impl Default for Deadline {
    fn default() -> Self {
        Self::new()
    }
}

impl Deadline {
    pub fn new() -> Self {
        // Far enough that the first `arm` always moves it; not registered until then.
        let at = Instant::now() + Duration::from_secs(86_400 * 365);
        Self { sleep: Box::pin(tokio::time::sleep_until(at)), at }
    }

    /// Sets the timer to fire `timeout` from now, or up to `slack(timeout)` later.
    pub fn arm(&mut self, timeout: Duration) {
        let earliest = Instant::now() + timeout;
        let latest = earliest + slack(timeout);
        if self.at < earliest || self.at > latest {
            self.at = latest;
            self.sleep.as_mut().reset(latest);
        }
    }

    /// Runs `work` until it finishes (`Some`) or the timer fires (`None`). The timer is not
    /// touched when `work` is ready at once.
    pub async fn run<F: Future>(&mut self, work: F) -> Option<F::Output> {
        tokio::select! {
            biased;
            done = work => Some(done),
            () = self.sleep.as_mut() => None,
        }
    }

    /// [`Self::arm`] then [`Self::run`].
    pub async fn within<F: Future>(&mut self, timeout: Duration, work: F) -> Option<F::Output> {
        self.arm(timeout);
        self.run(work).await
    }
}

/// How late a timeout of `timeout` may fire.
fn slack(timeout: Duration) -> Duration {
    (timeout / 8).min(MAX_SLACK)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn fires_after_the_timeout_and_within_the_slack() {
        let mut deadline = Deadline::new();
        let start = Instant::now();
        let out = deadline.within(Duration::from_millis(800), std::future::pending::<()>()).await;
        assert!(out.is_none());
        let took = start.elapsed();
        assert!(took >= Duration::from_millis(800) && took <= Duration::from_millis(900), "{took:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn rearming_within_the_window_keeps_the_entry_and_outside_moves_it() {
        let mut deadline = Deadline::new();
        deadline.arm(Duration::from_secs(30));
        let first = deadline.at;
        tokio::time::advance(Duration::from_millis(400)).await;
        deadline.arm(Duration::from_secs(30));
        assert_eq!(deadline.at, first, "still within the window: not moved");
        tokio::time::advance(Duration::from_millis(700)).await;
        deadline.arm(Duration::from_secs(30));
        assert!(deadline.at > first, "due before the new timeout: moved");
        // A shorter timeout than the one armed moves it earlier.
        deadline.arm(Duration::from_secs(1));
        assert!(deadline.at <= Instant::now() + Duration::from_millis(1125));
    }

    #[tokio::test(start_paused = true)]
    async fn work_that_finishes_first_wins_and_the_timer_stays_usable() {
        let mut deadline = Deadline::new();
        let out = deadline.within(Duration::from_secs(1), async { 7 }).await;
        assert_eq!(out, Some(7));
        let slow = tokio::time::sleep(Duration::from_millis(500));
        assert_eq!(deadline.within(Duration::from_secs(1), slow).await, Some(()));
        let start = Instant::now();
        assert!(deadline.within(Duration::from_secs(1), std::future::pending::<()>()).await.is_none());
        assert!(start.elapsed() >= Duration::from_secs(1));
    }
}
