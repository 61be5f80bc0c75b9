//! One upstream service: its pooled keep-alive clients, a bound on requests in flight, a circuit
//! that passive failures open and active `/health` probes close, and a retry budget. Each service
//! has its own of all of these, so a dead or hanging service cannot take capacity from the others.
//!
//! Each worker thread has its own client (and so its own pool of connections): a request and the
//! connection that carries it are served by the same thread, with no hand-over between threads.

use crate::config::Upstreams;
use axum::body::Body;
use http::{Request, StatusCode, Uri};
use http_body_util::BodyExt;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use serde::Serialize;
use std::cell::Cell;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

pub type HttpClient = Client<HttpConnector, Body>;

thread_local! {
    /// Which worker this thread is (0 on threads that are not workers).
    static WORKER: Cell<usize> = const { Cell::new(0) };
}

/// Marks the current thread as worker `index`; see [`Upstream::client`].
pub fn set_worker(index: usize) {
    WORKER.with(|w| w.set(index));
}

/// Largest `/health` body read from a service.
const HEALTH_BODY_LIMIT: usize = 64 * 1024;

pub struct Upstream {
    pub name: String,
    /// `http://host:port` plus an optional base path, without a trailing slash.
    base: String,
    /// The base split up when it has no path, so that a request's URI is rebuilt without parsing.
    origin: Option<(http::uri::Scheme, http::uri::Authority)>,
    /// One per worker thread.
    clients: Box<[HttpClient]>,
    permits: Arc<Semaphore>,
    circuit: Circuit,
    budget: RetryBudget,
}

impl Upstream {
    pub fn new(name: &str, base: &str, settings: &Upstreams, workers: usize) -> Self {
        let mut connector = HttpConnector::new();
        connector.set_connect_timeout(Some(settings.connect_timeout));
        connector.set_nodelay(true);
        connector.enforce_http(true);
        let idle_per_worker = (settings.max_concurrency.min(64) / workers.max(1)).max(4);
        let clients = (0..workers.max(1))
            .map(|_| {
                Client::builder(TokioExecutor::new())
                    .pool_idle_timeout(Duration::from_secs(60))
                    .pool_max_idle_per_host(idle_per_worker)
                    .pool_timer(TokioTimer::new())
                    .build(connector.clone())
            })
            .collect();
        let base = base.trim_end_matches('/').to_owned();
        let origin = base.parse::<Uri>().ok().and_then(|uri| {
            let bare = uri.path() == "/" && uri.query().is_none() && !base.ends_with("/");
            let parts = uri.into_parts();
            parts.scheme.zip(parts.authority).filter(|_| bare)
        });
        Self {
            name: name.to_owned(),
            base,
            origin,
            clients,
            permits: Arc::new(Semaphore::new(settings.max_concurrency.max(1))),
            circuit: Circuit::new(settings.circuit_failures.max(1), settings.circuit_open),
            budget: RetryBudget::new(settings.retry_budget_ratio),
        }
    }

    /// The upstream URI of a request target (path and query as the client sent them).
    pub fn uri(&self, path_and_query: &str) -> Result<Uri, http::uri::InvalidUri> {
        format!("{}{path_and_query}", self.base).parse()
    }

    /// The calling worker's client.
    pub fn client(&self) -> &HttpClient {
        let index = WORKER.with(Cell::get);
        &self.clients[index % self.clients.len()]
    }

    /// The upstream URI of a request whose target was checked by the identify phase.
    pub fn target(&self, original: Uri) -> Result<Uri, http::Error> {
        let path_and_query = original.into_parts().path_and_query;
        match (&self.origin, path_and_query) {
            (Some((scheme, authority)), Some(pq)) => {
                Ok(Uri::builder().scheme(scheme.clone()).authority(authority.clone()).path_and_query(pq).build()?)
            }
            (_, pq) => Ok(self.uri(pq.as_ref().map_or("/", |p| p.as_str()))?),
        }
    }

    /// A slot for one request, or `None` when the service already has its maximum in flight.
    pub fn try_acquire(&self) -> Option<OwnedSemaphorePermit> {
        self.permits.clone().try_acquire_owned().ok()
    }

    pub fn circuit_open(&self) -> bool {
        self.circuit.is_open()
    }

    pub fn record_success(&self) {
        self.circuit.success();
    }

    /// Counts a transport failure; true when this one opened the circuit.
    pub fn record_failure(&self) -> bool {
        self.circuit.failure()
    }

    pub fn on_request(&self) {
        self.budget.deposit();
    }

    pub fn try_retry(&self) -> bool {
        self.budget.withdraw()
    }

    /// GET `/health` within `deadline`.
    pub async fn probe(&self, deadline: Duration) -> ProbeResult {
        let started = Instant::now();
        let outcome = tokio::time::timeout(deadline, self.fetch_health()).await;
        let latency_ms = started.elapsed().as_secs_f64() * 1000.0;
        let (status, version, uptime) = match outcome {
            Ok(Ok((code, body))) => {
                let healthy = code == StatusCode::OK && body["status"] == "healthy";
                let version = body["version"].as_str().map(str::to_owned);
                let uptime = body["uptime_seconds"].as_u64();
                (if healthy { "healthy" } else { "unhealthy" }, version, uptime)
            }
            Ok(Err(_)) => ("unreachable", None, None),
            Err(_) => ("timeout", None, None),
        };
        ProbeResult { name: self.name.clone(), status, latency_ms: (latency_ms * 10.0).round() / 10.0, version, uptime }
    }

    async fn fetch_health(&self) -> Result<(StatusCode, serde_json::Value), String> {
        let uri = self.uri("/health").map_err(|e| e.to_string())?;
        let request = Request::get(uri).body(Body::empty()).map_err(|e| e.to_string())?;
        let response = self.client().request(request).await.map_err(|e| e.to_string())?;
        let status = response.status();
        let limited = http_body_util::Limited::new(response.into_body(), HEALTH_BODY_LIMIT);
        let bytes = limited.collect().await.map_err(|e| e.to_string())?.to_bytes();
        Ok((status, serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null)))
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct ProbeResult {
    pub name: String,
    /// `healthy`, `unhealthy` (answered, but not healthy), `unreachable` or `timeout`.
    pub status: &'static str,
    pub latency_ms: f64,
    pub version: Option<String>,
    pub uptime: Option<u64>,
}

/// Consecutive transport failures open the circuit for `open_for`; a success (a request or an
/// active probe) closes it. When the time is up, requests flow again and the next failure reopens
/// it at once, because the failure count is only reset by a success.
struct Circuit {
    failures: AtomicU32,
    open_until: Mutex<Option<Instant>>,
    threshold: u32,
    open_for: Duration,
}

impl Circuit {
    fn new(threshold: u32, open_for: Duration) -> Self {
        Self { failures: AtomicU32::new(0), open_until: Mutex::new(None), threshold, open_for }
    }

    fn is_open(&self) -> bool {
        self.open_until.lock().map(|g| g.is_some_and(|t| Instant::now() < t)).unwrap_or(false)
    }

    fn success(&self) {
        if self.failures.swap(0, Ordering::Relaxed) > 0
            && let Ok(mut g) = self.open_until.lock()
        {
            *g = None;
        }
    }

    fn failure(&self) -> bool {
        let n = self.failures.fetch_add(1, Ordering::Relaxed).saturating_add(1);
        if n < self.threshold {
            return false;
        }
        let Ok(mut g) = self.open_until.lock() else {
            return false;
        };
        let was_open = g.is_some_and(|t| Instant::now() < t);
        *g = Some(Instant::now() + self.open_for);
        !was_open
    }
}

/// Every request deposits `ratio` of a retry, up to a cap; a retry spends a whole one. Retries
/// can therefore never multiply the load on a struggling service by more than `1 + ratio`.
struct RetryBudget {
    milli_tokens: AtomicU64,
    deposit: u64,
}

const RETRY_CAP_MILLI: u64 = 10_000;

impl RetryBudget {
    fn new(ratio: f64) -> Self {
        let deposit = (ratio.clamp(0.0, 1.0) * 1000.0) as u64;
        Self { milli_tokens: AtomicU64::new(if deposit > 0 { RETRY_CAP_MILLI } else { 0 }), deposit }
    }

    fn deposit(&self) {
        let _ = self
            .milli_tokens
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |t| Some((t + self.deposit).min(RETRY_CAP_MILLI)));
    }

    fn withdraw(&self) -> bool {
        self.milli_tokens.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |t| t.checked_sub(1000)).is_ok()
    }
}

/// Probes the services whose circuit is open, every `interval`, and closes the circuit of those
/// that answer healthy. Stops when the gateway is dropped.
pub fn spawn_prober(upstreams: Vec<Weak<Upstream>>, interval: Duration) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(interval);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let mut alive = 0;
            for weak in &upstreams {
                let Some(upstream) = weak.upgrade() else { continue };
                alive += 1;
                if !upstream.circuit_open() {
                    continue;
                }
                tokio::spawn(async move {
                    let result = upstream.probe(interval.max(Duration::from_millis(500))).await;
                    if result.status == "healthy" {
                        upstream.record_success();
                        tracing::info!(upstream = %upstream.name, "health probe succeeded; circuit closed");
                    }
                });
            }
            if alive == 0 {
                break;
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_keep_path_and_query_under_the_base() {
        let settings = crate::config::Config::local(Vec::new(), String::new(), Default::default()).upstream;
        let plain = Upstream::new("a", "http://127.0.0.1:9000/", &settings, 1);
        let uri = plain.target("/api/a/x?y=1".parse().unwrap()).unwrap();
        assert_eq!(uri.to_string(), "http://127.0.0.1:9000/api/a/x?y=1");
        let prefixed = Upstream::new("b", "http://127.0.0.1:9000/base", &settings, 1);
        let uri = prefixed.target("/api/b/x?y=1".parse().unwrap()).unwrap();
        assert_eq!(uri.to_string(), "http://127.0.0.1:9000/base/api/b/x?y=1");
    }

    #[test]
    fn circuit_opens_and_closes() {
        let c = Circuit::new(2, Duration::from_secs(60));
        assert!(!c.failure());
        assert!(!c.is_open());
        assert!(c.failure());
        assert!(c.is_open());
        c.success();
        assert!(!c.is_open());
    }

    #[test]
    fn budget_limits_retries() {
        let b = RetryBudget::new(0.5);
        let mut granted = 0;
        for _ in 0..100 {
            if b.withdraw() {
                granted += 1;
            }
        }
        assert_eq!(granted, 10);
        b.deposit();
        b.deposit();
        assert!(b.withdraw());
        assert!(!b.withdraw());
        assert!(!RetryBudget::new(0.0).withdraw());
    }
}
