//! The analytics cache: each result kept `analytics_ttl` (seed 001: five minutes) per result and
//! organization, in Redis when configured, in process otherwise (crm-common's `Cache`); concurrent
//! requests for a key nobody has computed yet wait for **one** computation (single flight: in
//! process with a map of cells, and across replicas sharing Redis with a short lease, the others
//! waiting for the result to appear in the cache); and a last good copy kept longer answers,
//! marked stale, when the owner of the data is down and the fresh copy has expired.
//!
//! Written here rather than taken from a crate: the flight must share the service's `Cache` (Redis
//! or memory) and its stale copy, and it is a map of `OnceCell`s.

use crm_common::ApiError;
use crm_common::cache::Cache;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::OnceCell;

/// How an answer was obtained, told to the client in `X-Cache`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Freshness {
    /// Computed for this request (or by the flight it joined).
    Miss,
    /// From the cache, younger than the TTL.
    Hit,
    /// The owner could not answer; the last good result, older than the TTL.
    Stale,
}

impl Freshness {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Miss => "miss",
            Self::Hit => "hit",
            Self::Stale => "stale",
        }
    }
}

/// A cached result: the `data` of the answer and when it was computed.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Cached {
    pub data: serde_json::Value,
    pub computed_at: chrono::DateTime<chrono::Utc>,
}

/// A failed computation as the flight's waiters all see it.
#[derive(Debug, Clone)]
struct Failure {
    status: u16,
    message: String,
}

impl Failure {
    fn of(err: &ApiError) -> Self {
        Self { status: err.status().as_u16(), message: err.to_string() }
    }

    fn into_error(self) -> ApiError {
        match self.status {
            400 => ApiError::BadRequest(self.message),
            401 => ApiError::Unauthorized(self.message),
            403 => ApiError::Forbidden(self.message),
            404 => ApiError::NotFound(self.message),
            502 => ApiError::BadGateway(self.message),
            503 => ApiError::Unavailable(self.message),
            504 => ApiError::GatewayTimeout(self.message),
            _ => ApiError::Internal(self.message),
        }
    }

    /// The owner of the data is down or failing: a stale copy may answer instead.
    fn is_peer_outage(&self) -> bool {
        matches!(self.status, 502..=504)
    }
}

impl Cached {
    fn now(data: serde_json::Value) -> Self {
        Self { data, computed_at: chrono::Utc::now() }
    }
}

type Flight = Arc<OnceCell<Result<Cached, Failure>>>;

/// How long one replica may compute a result while the others wait for it; past that (it
/// stopped, or the owner is slow) a waiter computes it itself.
const LEASE: Duration = Duration::from_secs(10);
/// How often a waiting replica looks for the result.
const POLL: Duration = Duration::from_millis(50);

pub struct Analytics {
    cache: Cache,
    ttl: Duration,
    stale_ttl: Duration,
    flights: Mutex<HashMap<String, Flight>>,
    computations: AtomicU64,
}

impl Analytics {
    pub fn new(cache: Cache, ttl: Duration, stale_ttl: Duration) -> Self {
        Self { cache, ttl, stale_ttl, flights: Mutex::new(HashMap::new()), computations: AtomicU64::new(0) }
    }

    /// How many results this process has computed (not served from the cache): what the
    /// single-flight guarantee is measured by.
    pub fn computations(&self) -> u64 {
        self.computations.load(Ordering::Relaxed)
    }

    async fn read(&self, key: &str) -> Option<Cached> {
        self.cache.get(key).await.and_then(|text| serde_json::from_str(&text).ok())
    }

    /// Keeps a computed result: fresh for the TTL (a zero TTL turns the cache off) and as the
    /// stale fallback for longer. The stored copy, when it could be serialized.
    async fn store(&self, key: &str, fresh: &str, data: &serde_json::Value) -> Option<Cached> {
        let cached = Cached::now(data.clone());
        let text = serde_json::to_string(&cached).ok()?;
        if !self.ttl.is_zero() {
            self.cache.set(fresh, &text, self.ttl).await;
        }
        self.cache.set(&format!("analytics-stale:{key}"), &text, self.stale_ttl).await;
        Some(cached)
    }

    /// Polls the cache for `fresh` while another replica holds `lease`, for at most `within`.
    /// `None` when the lease ends without a result (that computation failed) or runs out.
    async fn wait_for(&self, fresh: &str, lease: &str, within: Duration) -> Option<Cached> {
        let until = tokio::time::Instant::now() + within;
        while tokio::time::Instant::now() < until {
            tokio::time::sleep(POLL).await;
            if let Some(hit) = self.read(fresh).await {
                return Some(hit);
            }
            if self.cache.get(lease).await.is_none() {
                return self.read(fresh).await;
            }
        }
        None
    }

    /// The result under `key`: cached, or computed once however many ask at the same time, or —
    /// when the computation fails because a peer is down — the last good one, marked stale.
    pub async fn get_or_compute<F, Fut>(&self, key: &str, compute: F) -> Result<(Cached, Freshness), ApiError>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<serde_json::Value, ApiError>>,
    {
        let fresh_key = format!("analytics:{key}");
        if let Some(hit) = self.read(&fresh_key).await {
            return Ok((hit, Freshness::Hit));
        }
        let flight: Flight = {
            let mut flights = self.flights.lock().unwrap_or_else(|e| e.into_inner());
            flights.entry(fresh_key.clone()).or_default().clone()
        };
        let computed_here = std::sync::atomic::AtomicBool::new(false);
        let (fresh, flag) = (fresh_key.as_str(), &computed_here);
        let outcome = flight
            .get_or_init(move || async move {
                // A flight that ended just before this one started may have filled the cache.
                if let Some(hit) = self.read(fresh).await {
                    return Ok(hit);
                }
                // Another replica computing it: its result, when it comes within the lease.
                let lease = format!("analytics-computing:{key}");
                let leased = self.cache.shared() && !self.ttl.is_zero();
                if leased
                    && !self.cache.set_if_absent(&lease, "1", LEASE).await
                    && let Some(hit) = self.wait_for(fresh, &lease, LEASE).await
                {
                    return Ok(hit);
                }
                flag.store(true, Ordering::Relaxed);
                self.computations.fetch_add(1, Ordering::Relaxed);
                // Stored before the lease is released, so a waiter's next poll finds it.
                let outcome = match compute().await {
                    Ok(data) => Ok(self.store(key, fresh, &data).await.unwrap_or_else(|| Cached::now(data))),
                    Err(err) => Err(Failure::of(&err)),
                };
                if leased {
                    self.cache.delete(&lease).await;
                }
                outcome
            })
            .await
            .clone();
        {
            let mut flights = self.flights.lock().unwrap_or_else(|e| e.into_inner());
            if flights.get(&fresh_key).is_some_and(|f| Arc::ptr_eq(f, &flight)) {
                flights.remove(&fresh_key);
            }
        }
        match outcome {
            Ok(cached) => {
                let freshness = if computed_here.load(Ordering::Relaxed) { Freshness::Miss } else { Freshness::Hit };
                Ok((cached, freshness))
            }
            Err(failure) if failure.is_peer_outage() => match self.read(&format!("analytics-stale:{key}")).await {
                Some(stale) => {
                    tracing::warn!(key, status = failure.status, "owner unavailable; answering the last result");
                    Ok((stale, Freshness::Stale))
                }
                None => Err(failure.into_error()),
            },
            Err(failure) => Err(failure.into_error()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn analytics() -> Arc<Analytics> {
        Arc::new(Analytics::new(Cache::memory("flight-test:"), Duration::from_secs(300), Duration::from_secs(3600)))
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn concurrent_cold_requests_compute_once() {
        let a = analytics();
        let mut tasks = Vec::new();
        for _ in 0..64 {
            let a = a.clone();
            tasks.push(tokio::spawn(async move {
                a.get_or_compute("k", || async {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    Ok(serde_json::json!({"n": 1}))
                })
                .await
                .map(|(c, f)| (c.data, f))
            }));
        }
        let mut misses = 0;
        for t in tasks {
            let (data, freshness) = t.await.unwrap().unwrap();
            assert_eq!(data["n"], 1);
            misses += usize::from(freshness == Freshness::Miss);
        }
        assert_eq!(a.computations(), 1);
        assert_eq!(misses, 1);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn replicas_sharing_redis_compute_a_cold_key_once() {
        let prefix = format!("flight-test-{}:", uuid::Uuid::now_v7().simple());
        let replica = || {
            let cache = Cache::redis(&prefix, &crm_common::testing::redis_url()).unwrap();
            Arc::new(Analytics::new(cache, Duration::from_secs(300), Duration::from_secs(3600)))
        };
        let (a, b) = (replica(), replica());
        let mut tasks = Vec::new();
        for i in 0..64 {
            let r = if i % 2 == 0 { a.clone() } else { b.clone() };
            tasks.push(tokio::spawn(async move {
                r.get_or_compute("k", || async {
                    tokio::time::sleep(Duration::from_millis(200)).await;
                    Ok(serde_json::json!({"n": 1}))
                })
                .await
                .map(|(c, _)| c.data)
            }));
        }
        for t in tasks {
            assert_eq!(t.await.unwrap().unwrap()["n"], 1);
        }
        assert!(a.cache.shared(), "the test needs Redis at {}", crm_common::testing::redis_url());
        assert_eq!(a.computations() + b.computations(), 1, "one computation across both replicas");
    }

    #[tokio::test]
    async fn an_outage_answers_the_last_result_or_the_error() {
        let a = analytics();
        let down =
            || async { Err::<serde_json::Value, _>(ApiError::Unavailable("order-workflow is unavailable".into())) };
        let err = a.get_or_compute("k", down).await.unwrap_err();
        assert_eq!(err.status().as_u16(), 503);
        a.get_or_compute("k", || async { Ok(serde_json::json!(7)) }).await.unwrap();
        a.cache.delete("analytics:k").await;
        let (stale, freshness) = a.get_or_compute("k", down).await.unwrap();
        assert_eq!((stale.data, freshness), (serde_json::json!(7), Freshness::Stale));
        // A refusal is not an outage: no stale answer hides it.
        a.cache.delete("analytics:k").await;
        let forbidden = a.get_or_compute("k", || async { Err(ApiError::forbidden("no")) }).await.unwrap_err();
        assert_eq!(forbidden.status().as_u16(), 403);
    }
}
