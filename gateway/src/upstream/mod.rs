//! One upstream service: its keep-alive connection pools, a bound on requests in flight, a
//! circuit that passive failures open and active `/health` probes close, and a retry budget. Each
//! service has its own of all of these, so a dead or hanging service cannot take capacity from the
//! others.
//!
//! Each worker thread has its own pool of connections (see [`pool`]): a request and the connection
//! that carries it are served by the same thread, with no hand-over between threads.

pub mod pool;

use crate::config::Upstreams;
use axum::body::Body;
use http::{HeaderValue, Request, Response, StatusCode, Uri, header};
use http_body_util::BodyExt;
use hyper::body::Bytes;
use hyper::body::Incoming;
use pool::{Lease, Pool, SendError};
use serde::Serialize;
use std::cell::Cell;
use std::net::IpAddr;
use std::ops::Deref;
use std::sync::atomic::{AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

thread_local! {
    /// Which worker this thread is; `None` on threads that are not workers.
    static WORKER: Cell<Option<usize>> = const { Cell::new(None) };
}

/// Marks the current thread as worker `index`; see [`Upstream::pool`].
pub fn set_worker(index: usize) {
    WORKER.with(|w| w.set(Some(index)));
}

/// Which of `len` per-worker entries (the last for threads that are not workers) is the caller's.
fn worker_index(len: usize) -> usize {
    let last = len - 1;
    WORKER.with(Cell::get).map_or(last, |i| i % last.max(1))
}

/// Largest `/health` body read from a service.
const HEALTH_BODY_LIMIT: usize = 64 * 1024;
/// How long an unused connection is kept.
const IDLE_TIMEOUT: Duration = Duration::from_secs(60);

pub struct Upstream {
    /// Made once per configured service and kept for the life of the process: a request labels
    /// itself with it without touching a reference count the workers would share.
    pub name: &'static str,
    /// The path every request's path is appended to (`""` when the base URL has none); the same
    /// for every endpoint (checked by the configuration).
    base_path: String,
    /// Where the service is reached: one address, or one per replica.
    endpoints: Box<[Endpoint]>,
    /// Round robin over `endpoints`.
    next: AtomicUsize,
    /// How long an endpoint that refused a connection is passed over.
    skip_for: Duration,
    /// Origin of the endpoints' `down_until` times.
    epoch: Instant,
    open: Arc<AtomicUsize>,
    /// Requests between [`Upstream::try_acquire`] and the end of their response body.
    in_flight: Bound,
    /// Upgraded connections being relayed; bounded apart from requests, since they last.
    tunnels: Bound,
    /// Requests in flight per client address (hashed into buckets), within `in_flight`.
    per_client: PerClient,
    circuit: Circuit,
    budget: RetryBudget,
}

/// One address of a service (one replica): its own connections, and whether it refused one lately.
pub struct Endpoint {
    /// `Host` for requests to this endpoint, rendered once.
    host: Option<HeaderValue>,
    /// One per worker thread, and a last one for everything else (probes, documentation).
    pools: Box<[Pool]>,
    /// The direct path's idle connections, one list per worker thread (and a last one).
    direct: Box<[crate::h1::relay::Idle]>,
    /// Milliseconds after the upstream's epoch (plus one) until which this endpoint is passed
    /// over because a connect to it failed; 0 = in use.
    down_until: AtomicU64,
}

impl Endpoint {
    fn new(base: &str, settings: &Upstreams, workers: usize, open: &Arc<AtomicUsize>) -> Self {
        let uri = base.parse::<Uri>().ok();
        let authority = uri.as_ref().and_then(Uri::authority);
        // User info is no part of `Host` (RFC 9110 §7.2), and is never sent.
        let host_port = authority.map(|a| a.as_str().rsplit_once('@').map_or(a.as_str(), |(_, host)| host));
        let host = host_port.and_then(|h| HeaderValue::from_str(h).ok());
        let address = authority.map_or_else(String::new, |a| format!("{}:{}", a.host(), a.port_u16().unwrap_or(80)));
        let max_idle = (settings.max_concurrency.min(64) / workers).max(4);
        let dial = || pool::Dial::new(address.clone(), settings.connect_timeout);
        let pools = (0..=workers)
            .map(|_| Pool::new(dial(), pool::IdleList::new(IDLE_TIMEOUT, max_idle), open.clone()))
            .collect();
        let direct = (0..=workers)
            .map(|_| crate::h1::relay::Idle::new(dial(), pool::IdleList::new(IDLE_TIMEOUT, max_idle), open.clone()))
            .collect();
        Self { host, pools, direct, down_until: AtomicU64::new(0) }
    }

    /// The calling worker's pool.
    fn pool(&self) -> &Pool {
        &self.pools[worker_index(self.pools.len())]
    }

    /// The calling worker's idle connections for the direct path.
    pub fn direct(&self) -> &crate::h1::relay::Idle {
        &self.direct[worker_index(self.direct.len())]
    }

    /// `Host` for requests to this endpoint.
    pub fn host(&self) -> &[u8] {
        self.host.as_ref().map_or(b"localhost", HeaderValue::as_bytes)
    }
}

/// Separates the addresses of one service's replicas in its base URL: `http://a:1|http://b:2`.
pub const ENDPOINT_SEPARATOR: char = '|';

impl Upstream {
    /// `base` is `http://host[:port][/path]`, or several of them separated by
    /// [`ENDPOINT_SEPARATOR`] with one path (checked by the configuration).
    pub fn new(name: &str, base: &str, settings: &Upstreams, workers: usize) -> Self {
        let first = base.split(ENDPOINT_SEPARATOR).next().unwrap_or_default().trim();
        let base_path =
            first.parse::<Uri>().ok().map(|u| u.path().trim_end_matches('/').to_owned()).unwrap_or_default();
        let open = Arc::new(AtomicUsize::new(0));
        let workers = workers.max(1);
        let endpoints = base
            .split(ENDPOINT_SEPARATOR)
            .map(str::trim)
            .filter(|b| !b.is_empty())
            .map(|b| Endpoint::new(b, settings, workers, &open))
            .collect::<Vec<_>>();
        let endpoints = if endpoints.is_empty() {
            vec![Endpoint::new(base, settings, workers, &open)].into_boxed_slice()
        } else {
            endpoints.into_boxed_slice()
        };
        Self {
            name: Box::leak(name.into()),
            base_path,
            endpoints,
            next: AtomicUsize::new(0),
            skip_for: settings.endpoint_skip,
            epoch: Instant::now(),
            open,
            in_flight: Bound::new(settings.max_concurrency),
            tunnels: Bound::new(settings.max_tunnels),
            per_client: PerClient::new(settings.max_per_client),
            circuit: Circuit::new(settings.circuit_failures.max(1), settings.circuit_open),
            budget: RetryBudget::new(settings.retry_budget_ratio),
        }
    }

    /// How many endpoints (replicas) the service has.
    pub fn endpoint_count(&self) -> usize {
        self.endpoints.len()
    }

    pub fn endpoint(&self, index: usize) -> &Endpoint {
        &self.endpoints[index % self.endpoints.len()]
    }

    /// Milliseconds since the epoch, plus one (never 0, which means "in use").
    fn now_ms(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX - 1) + 1
    }

    /// The endpoint for the next request: round robin over those not passed over; when every one
    /// is, the next in turn anyway (one of them may be back).
    pub fn pick(&self) -> usize {
        let len = self.endpoints.len();
        if len == 1 {
            return 0;
        }
        let start = self.next.fetch_add(1, Ordering::Relaxed) % len;
        let now = self.now_ms();
        (0..len)
            .map(|k| (start + k) % len)
            .find(|i| self.endpoints[*i].down_until.load(Ordering::Relaxed) <= now)
            .unwrap_or(start)
    }

    /// After a connect to endpoint `failed` failed (nothing was sent): passes it over for a while
    /// and names the endpoint to try instead, or `None` when `tried` endpoints are all there are.
    /// One not passed over is preferred; otherwise the next in turn.
    pub fn fail_over(&self, failed: usize, tried: usize) -> Option<usize> {
        let len = self.endpoints.len();
        if len == 1 {
            return None;
        }
        let now = self.now_ms();
        let until = now.saturating_add(u64::try_from(self.skip_for.as_millis()).unwrap_or(u64::MAX / 2));
        self.endpoints[failed % len].down_until.store(until, Ordering::Relaxed);
        if tried >= len {
            return None;
        }
        tracing::info!(upstream = %self.name, endpoint = failed % len, "endpoint refused a connection; trying another");
        let after = |k: usize| (failed + k) % len;
        let remaining = len - tried;
        (1..=remaining)
            .map(after)
            .find(|i| self.endpoints[*i].down_until.load(Ordering::Relaxed) <= now)
            .or(Some(after(1)))
    }

    /// The path every request's path is appended to (`""` when the base URL has none).
    pub fn base_path(&self) -> &str {
        &self.base_path
    }

    /// Sends `request` (origin-form target) on this worker's connections to one endpoint, with
    /// its `Host`. A request no endpoint could be connected to for comes back with the last
    /// failure; one that was not sent at all goes to the next endpoint, whatever its method.
    pub async fn send(
        &self,
        mut request: Request<Body>,
    ) -> Result<(Response<Incoming>, Lease), (SendError, Option<Request<Body>>)> {
        let (mut index, mut tried) = (self.pick(), 1);
        loop {
            let endpoint = self.endpoint(index);
            if let Some(host) = &endpoint.host {
                request.headers_mut().insert(header::HOST, host.clone());
            }
            match endpoint.pool().send(request).await {
                Err((SendError::Connect(reason), Some(unsent))) => match self.fail_over(index, tried) {
                    Some(next) => {
                        (index, tried, request) = (next, tried + 1, unsent);
                    }
                    None => return Err((SendError::Connect(reason), Some(unsent))),
                },
                other => return other,
            }
        }
    }

    /// The request target upstream: the client's path and query (already checked by the identify
    /// phase) below the service's base path.
    pub fn target(&self, original: Uri) -> Result<Uri, http::Error> {
        if self.base_path.is_empty() {
            return Ok(original);
        }
        let path_and_query = original.path_and_query().map_or("/", |p| p.as_str());
        Uri::builder().path_and_query(format!("{}{path_and_query}", self.base_path)).build()
    }

    /// `GET path` by the gateway itself (health probes, documentation): status and at most
    /// `limit` bytes of body.
    pub async fn get(&self, path: &str, limit: usize) -> Result<(StatusCode, Bytes), String> {
        let uri = self.target(path.parse::<Uri>().map_err(|e| e.to_string())?).map_err(|e| e.to_string())?;
        let request = Request::get(uri).body(Body::empty()).map_err(|e| e.to_string())?;
        let (response, lease) = self.send(request).await.map_err(|(err, _)| match err {
            SendError::Connect(reason) => reason,
            SendError::Exchange(err) => err.to_string(),
        })?;
        let status = response.status();
        let body = pool::LeasedBody::new(response.into_body(), lease);
        let bytes = http_body_util::Limited::new(body, limit).collect().await.map_err(|e| e.to_string())?.to_bytes();
        Ok((status, bytes))
    }

    /// Open connections to this service, over all workers.
    pub fn open_connections(&self) -> usize {
        self.open.load(Ordering::Relaxed)
    }

    /// A slot for one request of `client` (`None`: a client that is not bounded), or the
    /// upstream back with the reason when it already has its maximum in flight, overall or from
    /// that client.
    pub fn try_acquire<U: Deref<Target = Upstream>>(
        upstream: U,
        client: Option<IpAddr>,
    ) -> Result<Slot<U>, (U, Refused)> {
        let bucket = match client {
            Some(ip) => match upstream.per_client.try_take(ip) {
                Some(bucket) => Some(bucket),
                None => return Err((upstream, Refused::Client)),
            },
            None => None,
        };
        if upstream.in_flight.try_take() {
            Ok(Slot { upstream, bucket })
        } else {
            if let Some(bucket) = bucket {
                upstream.per_client.give_back(bucket);
            }
            Err((upstream, Refused::Saturated))
        }
    }

    /// Requests being served right now (a slot lives as long as the response body).
    pub fn in_flight(&self) -> usize {
        self.in_flight.current()
    }

    /// Upgraded connections being relayed right now.
    pub fn open_tunnels(&self) -> usize {
        self.tunnels.current()
    }

    /// Whether a request may be sent: the circuit is closed, or this is its half-open trial.
    pub fn admit(&self) -> bool {
        self.circuit.admit()
    }

    /// Open or half-open.
    pub fn circuit_tripped(&self) -> bool {
        self.circuit.is_tripped()
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
        ProbeResult {
            name: self.name.to_owned(),
            status,
            latency_ms: (latency_ms * 10.0).round() / 10.0,
            version,
            uptime,
        }
    }

    async fn fetch_health(&self) -> Result<(StatusCode, serde_json::Value), String> {
        let (status, bytes) = self.get("/health", HEALTH_BODY_LIMIT).await?;
        Ok((status, serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null)))
    }
}

/// Why [`Upstream::try_acquire`] refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// The service has its maximum in flight.
    Saturated,
    /// This client address has its share of the service in flight.
    Client,
}

/// One request's share of an upstream's concurrency (and of its client's share); given back when
/// dropped. Held through a handle on the upstream: shared where the slot outlives the request's
/// borrow (a streamed body), borrowed where it does not.
pub struct Slot<U: Deref<Target = Upstream> = Arc<Upstream>> {
    upstream: U,
    bucket: Option<usize>,
}

impl<U: Deref<Target = Upstream>> Deref for Slot<U> {
    type Target = Upstream;

    fn deref(&self) -> &Upstream {
        &self.upstream
    }
}

impl Slot {
    /// A place for one upgraded connection, or `None` when the service has its maximum open.
    pub fn open_tunnel(&self) -> Option<TunnelSlot> {
        self.upstream.tunnels.try_take().then(|| TunnelSlot(self.upstream.clone()))
    }
}

impl<U: Deref<Target = Upstream>> Drop for Slot<U> {
    fn drop(&mut self) {
        self.upstream.in_flight.give_back();
        if let Some(bucket) = self.bucket {
            self.upstream.per_client.give_back(bucket);
        }
    }
}

/// Requests in flight per client address, so that one address cannot hold every slot of a
/// service (slow uploads, responses nobody reads) while its other clients get 503.
///
/// Addresses are hashed into a fixed array of counters instead of kept in a map: taking a place
/// is one atomic operation, with no lock and no allocation per request. Two addresses that share
/// a bucket share its bound; with [`PER_CLIENT_BUCKETS`] buckets that is rare, and can only make
/// the bound stricter for them, never looser.
struct PerClient {
    counts: Box<[AtomicU32]>,
    max: u32,
    hasher: foldhash::fast::FixedState,
}

const PER_CLIENT_BUCKETS: usize = 4096;

impl PerClient {
    fn new(max: usize) -> Self {
        let counts = (0..PER_CLIENT_BUCKETS).map(|_| AtomicU32::new(0)).collect();
        let max = u32::try_from(max.max(1)).unwrap_or(u32::MAX);
        Self { counts, max, hasher: foldhash::fast::FixedState::with_seed(rand::random()) }
    }

    fn bucket(&self, ip: IpAddr) -> usize {
        use std::hash::BuildHasher;
        (self.hasher.hash_one(ip) as usize) % PER_CLIENT_BUCKETS
    }

    /// The client's bucket, with one more request counted in it; `None` when it is full.
    fn try_take(&self, ip: IpAddr) -> Option<usize> {
        let bucket = self.bucket(ip);
        let count = &self.counts[bucket];
        if count.fetch_add(1, Ordering::AcqRel) >= self.max {
            count.fetch_sub(1, Ordering::AcqRel);
            return None;
        }
        Some(bucket)
    }

    fn give_back(&self, bucket: usize) {
        if let Some(count) = self.counts.get(bucket) {
            count.fetch_sub(1, Ordering::AcqRel);
        }
    }
}

/// One upgraded connection's place; given back when dropped.
pub struct TunnelSlot(Arc<Upstream>);

impl Drop for TunnelSlot {
    fn drop(&mut self) {
        self.0.tunnels.give_back();
    }
}

/// A count with a ceiling, taken and given back without a lock.
struct Bound {
    count: AtomicUsize,
    max: usize,
}

impl Bound {
    fn new(max: usize) -> Self {
        Self { count: AtomicUsize::new(0), max: max.max(1) }
    }

    fn try_take(&self) -> bool {
        if self.count.fetch_add(1, Ordering::AcqRel) >= self.max {
            self.count.fetch_sub(1, Ordering::AcqRel);
            return false;
        }
        true
    }

    fn give_back(&self) {
        self.count.fetch_sub(1, Ordering::AcqRel);
    }

    fn current(&self) -> usize {
        self.count.load(Ordering::Relaxed)
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
/// active probe) closes it. When the time is up the circuit is half-open: one request at a time is
/// let through as a trial, and the rest are still refused until it succeeds (closed) or fails
/// (open again at once, because the failure count is only reset by a success). A trial that ends
/// neither way (its client went away) is replaced after `open_for`.
///
/// Read on every request from every worker, so it is a few atomics rather than a lock.
struct Circuit {
    failures: AtomicU32,
    /// 0 = closed; otherwise the end of the open period, in [`Circuit::now`] units.
    open_until: AtomicU64,
    /// When the current half-open trial was let through, in [`Circuit::now`] units; 0 = none.
    trial_since: AtomicU64,
    epoch: Instant,
    threshold: u32,
    open_for: Duration,
}

impl Circuit {
    fn new(threshold: u32, open_for: Duration) -> Self {
        Self {
            failures: AtomicU32::new(0),
            open_until: AtomicU64::new(0),
            trial_since: AtomicU64::new(0),
            epoch: Instant::now(),
            threshold,
            open_for,
        }
    }

    /// Milliseconds since the circuit was made, plus one: never 0, which means "none" above.
    fn now(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX - 1) + 1
    }

    fn open_for_ms(&self) -> u64 {
        u64::try_from(self.open_for.as_millis()).unwrap_or(u64::MAX / 2)
    }

    /// Open or half-open: what the active probes look after.
    fn is_tripped(&self) -> bool {
        self.open_until.load(Ordering::Acquire) != 0
    }

    /// Whether a request may go to the service now.
    fn admit(&self) -> bool {
        let until = self.open_until.load(Ordering::Acquire);
        if until == 0 {
            return true;
        }
        let now = self.now();
        if now < until {
            return false;
        }
        let trial = self.trial_since.load(Ordering::Acquire);
        if trial != 0 && now.saturating_sub(trial) < self.open_for_ms() {
            return false;
        }
        self.trial_since.compare_exchange(trial, now, Ordering::AcqRel, Ordering::Acquire).is_ok()
    }

    fn success(&self) {
        // Read first: every request succeeds, and a write would take the cache line from the
        // other workers each time.
        if self.failures.load(Ordering::Acquire) > 0 || self.is_tripped() {
            self.failures.store(0, Ordering::Release);
            self.open_until.store(0, Ordering::Release);
            self.trial_since.store(0, Ordering::Release);
        }
    }

    /// Counts a failure; true when this one opened a closed circuit.
    fn failure(&self) -> bool {
        let n = self.failures.fetch_add(1, Ordering::AcqRel).saturating_add(1);
        if n < self.threshold {
            return false;
        }
        let now = self.now();
        let before = self.open_until.swap(now.saturating_add(self.open_for_ms()), Ordering::AcqRel);
        self.trial_since.store(0, Ordering::Release);
        before == 0
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
        // Full is the usual state: reading only leaves the cache line shared between workers.
        if self.milli_tokens.load(Ordering::Relaxed) >= RETRY_CAP_MILLI {
            return;
        }
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
                if !upstream.circuit_tripped() {
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
        let plain = Upstream::new("a", "http://127.0.0.1:9000", &settings, 1);
        assert_eq!(plain.target("/api/a/x?y=1".parse().unwrap()).unwrap(), "/api/a/x?y=1");
        assert_eq!(plain.endpoint(0).host(), b"127.0.0.1:9000");
        let prefixed = Upstream::new("b", "http://svc.internal/base/", &settings, 1);
        assert_eq!(prefixed.target("/api/b/x?y=1".parse().unwrap()).unwrap(), "/base/api/b/x?y=1");
        assert_eq!(prefixed.endpoint(0).host(), b"svc.internal");
        let with_user = Upstream::new("c", "http://user:secret@svc.internal:8081", &settings, 1);
        assert_eq!(with_user.endpoint(0).host(), b"svc.internal:8081");
        let replicas = Upstream::new("d", "http://a.internal:1/base|http://b.internal:2/base", &settings, 1);
        assert_eq!(replicas.endpoint_count(), 2);
        assert_eq!(replicas.target("/x".parse().unwrap()).unwrap(), "/base/x");
        assert_eq!(replicas.endpoint(1).host(), b"b.internal:2");
    }

    #[test]
    fn replicas_take_turns_and_one_that_refused_is_passed_over() {
        let mut settings = crate::config::Config::local(Vec::new(), String::new(), Default::default()).upstream;
        settings.endpoint_skip = Duration::from_millis(50);
        let single = Upstream::new("s", "http://127.0.0.1:9000", &settings, 1);
        assert_eq!((single.pick(), single.pick()), (0, 0));
        assert_eq!(single.fail_over(0, 1), None, "nowhere else to go");
        let three = Upstream::new("t", "http://127.0.0.1:1|http://127.0.0.1:2|http://127.0.0.1:3", &settings, 1);
        let turns: Vec<usize> = (0..6).map(|_| three.pick()).collect();
        assert_eq!(turns, [0, 1, 2, 0, 1, 2]);
        // Endpoint 1 refused: the next one takes over, and 1 is passed over in the turns.
        assert_eq!(three.fail_over(1, 1), Some(2));
        let turns: Vec<usize> = (0..6).map(|_| three.pick()).collect();
        assert!(!turns.contains(&1), "{turns:?}");
        // 2 refused as well: 0 is the one left; once all three were tried, none.
        assert_eq!(three.fail_over(2, 2), Some(0));
        assert_eq!(three.fail_over(0, 3), None);
        // Every one passed over: still one in turn, rather than none.
        assert!(three.pick() < 3);
        std::thread::sleep(Duration::from_millis(60));
        let turns: std::collections::BTreeSet<usize> = (0..3).map(|_| three.pick()).collect();
        assert_eq!(turns.len(), 3, "back in the turns after the pause: {turns:?}");
    }

    #[test]
    fn circuit_opens_and_closes() {
        let c = Circuit::new(2, Duration::from_secs(60));
        assert!(!c.failure());
        assert!(c.admit());
        assert!(c.failure(), "the second failure opens it");
        assert!(!c.admit());
        assert!(!c.failure(), "already open");
        c.success();
        assert!(c.admit());
        assert!(!c.is_tripped());
    }

    #[test]
    fn half_open_circuit_lets_one_trial_through() {
        let c = Circuit::new(1, Duration::from_millis(30));
        assert!(c.failure());
        assert!(!c.admit());
        std::thread::sleep(Duration::from_millis(40));
        assert!(c.admit(), "the trial");
        assert!(!c.admit(), "only one trial at a time");
        // The trial fails: open again at once, for a whole period.
        assert!(!c.failure());
        assert!(!c.admit());
        std::thread::sleep(Duration::from_millis(40));
        assert!(c.admit());
        // A trial nobody reports on is replaced after the open period.
        std::thread::sleep(Duration::from_millis(40));
        assert!(c.admit());
        c.success();
        assert!(c.admit() && c.admit(), "closed: everything goes");
    }

    #[test]
    fn one_client_gets_its_share_and_others_keep_theirs() {
        let mut settings = crate::config::Config::local(Vec::new(), String::new(), Default::default()).upstream;
        settings.max_concurrency = 4;
        settings.max_per_client = 2;
        let upstream = Arc::new(Upstream::new("a", "http://127.0.0.1:9000", &settings, 1));
        let greedy: IpAddr = "203.0.113.7".parse().unwrap();
        let first = Upstream::try_acquire(upstream.clone(), Some(greedy)).ok().unwrap();
        let _second = Upstream::try_acquire(upstream.clone(), Some(greedy)).ok().unwrap();
        let third = Upstream::try_acquire(upstream.clone(), Some(greedy));
        assert_eq!(third.err().map(|(_, why)| why), Some(Refused::Client));
        let other = Upstream::try_acquire(upstream.clone(), Some("198.51.100.1".parse().unwrap()));
        assert!(other.is_ok(), "another client still gets a slot");
        let _unbounded = Upstream::try_acquire(upstream.clone(), None).ok().unwrap();
        let full = Upstream::try_acquire(upstream.clone(), None);
        assert_eq!(full.err().map(|(_, why)| why), Some(Refused::Saturated));
        drop(other);
        drop(first);
        assert!(Upstream::try_acquire(upstream.clone(), Some(greedy)).is_ok(), "given back when dropped");
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
