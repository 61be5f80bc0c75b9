//! Traces: one server span per HTTP request, exported over OTLP/HTTP with the JSON encoding when
//! `OTEL_EXPORTER_OTLP_ENDPOINT` is set — and nothing at all (no thread, no queue, no header
//! rewriting) when it is not.
//!
//! A finished span goes into a bounded queue without waiting; when the queue is full the span is
//! dropped and counted. One background thread batches spans (up to [`TraceSettings::batch_size`],
//! or every [`TraceSettings::flush_interval`]) and POSTs them to `{endpoint}/v1/traces` with a
//! timeout and a bounded number of retries. The request path never waits for the collector.
//!
//! Only plain `http://` endpoints are supported: the binaries carry no TLS client, so the expected
//! target is a collector or agent inside the cluster (or a sidecar).

use axum::body::Bytes;
use serde_json::{Map, Value, json};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio::sync::{mpsc, oneshot};

/// The W3C trace-context request (and response) header.
pub const TRACEPARENT: &str = "traceparent";

/// The instrumentation scope every span is reported under.
pub const SCOPE: &str = "bantu-crm";

/// A parsed W3C `traceparent`: `vv-<32 hex trace id>-<16 hex parent id>-<2 hex flags>`, lowercase,
/// ids not all zero, version not `ff` (version `00` has exactly four fields).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TraceParent {
    pub trace_id: u128,
    pub parent_id: u64,
    pub flags: u8,
}

impl TraceParent {
    pub fn parse(value: &str) -> Option<Self> {
        let mut fields = value.split('-');
        let (version, trace, parent, flags) = (fields.next()?, fields.next()?, fields.next()?, fields.next()?);
        let more = fields.next().is_some();
        let hex =
            |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        if !hex(version, 2) || version == "ff" || (version == "00" && more) {
            return None;
        }
        if !hex(trace, 32) || !hex(parent, 16) || !hex(flags, 2) {
            return None;
        }
        let trace_id = u128::from_str_radix(trace, 16).ok()?;
        let parent_id = u64::from_str_radix(parent, 16).ok()?;
        let flags = u8::from_str_radix(flags, 16).ok()?;
        (trace_id != 0 && parent_id != 0).then_some(Self { trace_id, parent_id, flags })
    }

    /// The caller recorded its span and asks downstream to record theirs.
    pub fn sampled(&self) -> bool {
        self.flags & 1 == 1
    }
}

/// A fresh, non-zero span id.
pub fn new_span_id() -> u64 {
    rand::random::<u64>().max(1)
}

/// A fresh, non-zero trace id.
pub fn new_trace_id() -> u128 {
    rand::random::<u128>().max(1)
}

/// Where one span sits in its trace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SpanContext {
    pub trace_id: u128,
    pub span_id: u64,
    /// The caller's span; `None` for the root of a trace.
    pub parent_id: Option<u64>,
    /// Whether this span is recorded and exported (follows the caller's sampled flag).
    pub sampled: bool,
}

impl SpanContext {
    /// A new span continuing the caller's `traceparent` when it is well-formed, else the root of
    /// a new trace.
    pub fn continue_or_start(incoming: Option<&str>) -> Self {
        match incoming.and_then(TraceParent::parse) {
            Some(parent) => Self::child_of(parent),
            None => Self::root(),
        }
    }

    pub fn child_of(parent: TraceParent) -> Self {
        Self {
            trace_id: parent.trace_id,
            span_id: new_span_id(),
            parent_id: Some(parent.parent_id),
            sampled: parent.sampled(),
        }
    }

    pub fn root() -> Self {
        Self { trace_id: new_trace_id(), span_id: new_span_id(), parent_id: None, sampled: true }
    }

    /// This span as the parent of what it calls, and as reported back to the caller.
    pub fn traceparent(&self) -> String {
        format!("00-{:032x}-{:016x}-{:02x}", self.trace_id, self.span_id, u8::from(self.sampled))
    }
}

/// An attribute value (the OTLP `AnyValue` kinds we use).
#[derive(Debug, Clone, PartialEq)]
pub enum AttrValue {
    Str(String),
    Int(i64),
    StrList(Vec<String>),
}

impl From<&str> for AttrValue {
    fn from(v: &str) -> Self {
        Self::Str(v.to_owned())
    }
}

impl From<String> for AttrValue {
    fn from(v: String) -> Self {
        Self::Str(v)
    }
}

impl From<i64> for AttrValue {
    fn from(v: i64) -> Self {
        Self::Int(v)
    }
}

impl From<Vec<String>> for AttrValue {
    fn from(v: Vec<String>) -> Self {
        Self::StrList(v)
    }
}

impl AttrValue {
    /// OTLP/JSON `AnyValue`: 64-bit integers are strings.
    fn to_json(&self) -> Value {
        match self {
            Self::Str(s) => json!({ "stringValue": s }),
            Self::Int(i) => json!({ "intValue": i.to_string() }),
            Self::StrList(list) => {
                let values: Vec<Value> = list.iter().map(|s| json!({ "stringValue": s })).collect();
                json!({ "arrayValue": { "values": values } })
            }
        }
    }
}

fn key_value(key: &str, value: &AttrValue) -> Value {
    json!({ "key": key, "value": value.to_json() })
}

/// A finished server span.
#[derive(Debug, Clone)]
pub struct Span {
    pub context: SpanContext,
    pub name: String,
    pub start: SystemTime,
    pub duration: Duration,
    pub attributes: Vec<(&'static str, AttrValue)>,
    /// Status ERROR (a 5xx answer); otherwise the status is left unset.
    pub error: bool,
}

/// OTLP `SPAN_KIND_SERVER`.
const SPAN_KIND_SERVER: u8 = 2;
/// OTLP `STATUS_CODE_ERROR`.
const STATUS_CODE_ERROR: u8 = 2;

impl Span {
    pub fn server(context: SpanContext, name: impl Into<String>, start: SystemTime, duration: Duration) -> Self {
        Self { context, name: name.into(), start, duration, attributes: Vec::new(), error: false }
    }

    pub fn attr(mut self, key: &'static str, value: impl Into<AttrValue>) -> Self {
        self.attributes.push((key, value.into()));
        self
    }

    /// The OTLP/JSON `Span` object: hex ids, enums as integers, nanosecond times as strings.
    pub fn to_json(&self) -> Value {
        let start = self.start.duration_since(UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or_default();
        let end = start.saturating_add(self.duration.as_nanos());
        let mut span = Map::new();
        span.insert("traceId".into(), format!("{:032x}", self.context.trace_id).into());
        span.insert("spanId".into(), format!("{:016x}", self.context.span_id).into());
        if let Some(parent) = self.context.parent_id {
            span.insert("parentSpanId".into(), format!("{parent:016x}").into());
        }
        span.insert("name".into(), self.name.clone().into());
        span.insert("kind".into(), SPAN_KIND_SERVER.into());
        span.insert("startTimeUnixNano".into(), start.to_string().into());
        span.insert("endTimeUnixNano".into(), end.to_string().into());
        let attributes: Vec<Value> = self.attributes.iter().map(|(k, v)| key_value(k, v)).collect();
        span.insert("attributes".into(), attributes.into());
        if self.error {
            span.insert("status".into(), json!({ "code": STATUS_CODE_ERROR }));
        }
        Value::Object(span)
    }
}

/// The body of one `POST /v1/traces` (an OTLP `ExportTraceServiceRequest`).
pub fn export_request(service_name: &str, spans: &[Span]) -> Value {
    let spans: Vec<Value> = spans.iter().map(Span::to_json).collect();
    json!({
        "resourceSpans": [{
            "resource": { "attributes": [key_value("service.name", &AttrValue::from(service_name))] },
            "scopeSpans": [{
                "scope": { "name": SCOPE, "version": env!("CARGO_PKG_VERSION") },
                "spans": spans,
            }],
        }],
    })
}

/// Where and how spans are exported.
#[derive(Debug, Clone)]
pub struct TraceSettings {
    /// The full URL spans are POSTed to (`{OTEL_EXPORTER_OTLP_ENDPOINT}/v1/traces`).
    pub url: String,
    /// `service.name` of the resource (`OTEL_SERVICE_NAME`, else the binary's service name).
    pub service_name: String,
    /// Finished spans waiting for export; beyond this, spans are dropped and counted.
    pub queue_capacity: usize,
    pub batch_size: usize,
    pub flush_interval: Duration,
    /// Per POST attempt.
    pub timeout: Duration,
    /// Further attempts after a failed POST (connection error, timeout, 429, 502, 503, 504).
    pub retries: u32,
}

impl TraceSettings {
    /// Defaults for exporting to the OTLP/HTTP receiver at `endpoint` (e.g. `http://collector:4318`).
    pub fn new(endpoint: &str, service_name: &str) -> Self {
        Self {
            url: format!("{}/v1/traces", endpoint.trim_end_matches('/')),
            service_name: service_name.to_owned(),
            queue_capacity: 2048,
            batch_size: 512,
            flush_interval: Duration::from_secs(1),
            timeout: Duration::from_secs(5),
            retries: 2,
        }
    }

    /// From `OTEL_EXPORTER_OTLP_ENDPOINT` and `OTEL_SERVICE_NAME`; `None` when the endpoint is unset.
    pub fn from_env(service: &str) -> Option<Self> {
        Self::from_lookup(service, crate::config::env)
    }

    /// As [`Self::from_env`], reading variables through `lookup` (non-empty, trimmed values).
    pub fn from_lookup(service: &str, lookup: impl Fn(&str) -> Option<String>) -> Option<Self> {
        let endpoint = lookup("OTEL_EXPORTER_OTLP_ENDPOINT")?;
        let name = lookup("OTEL_SERVICE_NAME").unwrap_or_else(|| service.to_owned());
        Some(Self::new(&endpoint, &name))
    }
}

#[derive(Debug, thiserror::Error)]
pub enum TraceError {
    #[error("only plain http:// OTLP endpoints are supported (no TLS client is built in), got {0}")]
    Scheme(String),
    #[error("cannot start the exporter: {0}")]
    Start(#[from] std::io::Error),
}

enum Message {
    Span(Span),
    Flush(oneshot::Sender<()>),
}

#[derive(Debug, Default)]
struct Stats {
    dropped: AtomicU64,
    exported: AtomicU64,
    failed: AtomicU64,
}

/// A handle to a running exporter; cheap to clone. The exporter thread ends (after sending what
/// is queued) when the last handle is dropped.
#[derive(Clone)]
pub struct Tracer {
    tx: mpsc::Sender<Message>,
    stats: Arc<Stats>,
    url: Arc<str>,
}

impl std::fmt::Debug for Tracer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tracer").field("url", &self.url).field("stats", &self.stats).finish()
    }
}

impl Tracer {
    /// Starts the exporter on its own thread, with its own small runtime: it depends on no
    /// caller's runtime and never takes a worker away from request handling.
    pub fn start(settings: TraceSettings) -> Result<Self, TraceError> {
        if !settings.url.starts_with("http://") {
            return Err(TraceError::Scheme(settings.url));
        }
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
        let (tx, rx) = mpsc::channel(settings.queue_capacity.max(1));
        let stats = Arc::new(Stats::default());
        let url: Arc<str> = settings.url.as_str().into();
        let shared = stats.clone();
        std::thread::Builder::new()
            .name("otlp-export".into())
            .spawn(move || runtime.block_on(export_loop(rx, settings, shared)))?;
        Ok(Self { tx, stats, url })
    }

    /// Queues a finished span without waiting. `false` when it was dropped instead (queue full,
    /// or the exporter stopped); drops are counted in [`Self::dropped`].
    pub fn record(&self, span: Span) -> bool {
        if self.tx.try_send(Message::Span(span)).is_ok() {
            return true;
        }
        self.stats.dropped.fetch_add(1, Ordering::Relaxed);
        false
    }

    /// Exports everything queued so far; waits at most `timeout`. `true` when the exporter got
    /// through the queue in time (whether or not the collector accepted the spans).
    pub async fn flush(&self, timeout: Duration) -> bool {
        let (done, wait) = oneshot::channel();
        let attempt = async { self.tx.send(Message::Flush(done)).await.is_ok() && wait.await.is_ok() };
        tokio::time::timeout(timeout, attempt).await.unwrap_or(false)
    }

    /// Spans dropped because the queue was full.
    pub fn dropped(&self) -> u64 {
        self.stats.dropped.load(Ordering::Relaxed)
    }

    /// Spans the collector accepted.
    pub fn exported(&self) -> u64 {
        self.stats.exported.load(Ordering::Relaxed)
    }

    /// Spans given up on after the retries.
    pub fn failed(&self) -> u64 {
        self.stats.failed.load(Ordering::Relaxed)
    }

    pub fn url(&self) -> &str {
        &self.url
    }
}

async fn export_loop(mut rx: mpsc::Receiver<Message>, settings: TraceSettings, stats: Arc<Stats>) {
    let client = match reqwest::Client::builder().timeout(settings.timeout).build() {
        Ok(client) => client,
        Err(error) => {
            tracing::warn!(%error, "OTLP exporter cannot build its HTTP client; traces are not exported");
            return;
        }
    };
    let mut exporter = Exporter { client, settings, stats, last_warning: None };
    let mut batch = Vec::with_capacity(exporter.settings.batch_size.min(4096));
    let mut tick = tokio::time::interval(exporter.settings.flush_interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            message = rx.recv() => match message {
                Some(Message::Span(span)) => {
                    batch.push(span);
                    if batch.len() >= exporter.settings.batch_size {
                        exporter.send(&mut batch).await;
                    }
                }
                Some(Message::Flush(done)) => {
                    exporter.send(&mut batch).await;
                    let _ = done.send(());
                }
                None => {
                    exporter.send(&mut batch).await;
                    break;
                }
            },
            _ = tick.tick() => exporter.send(&mut batch).await,
        }
    }
}

struct Exporter {
    client: reqwest::Client,
    settings: TraceSettings,
    stats: Arc<Stats>,
    last_warning: Option<Instant>,
}

impl Exporter {
    /// POSTs the batch (emptying it), retrying transport errors and 429/502/503/504 with backoff.
    async fn send(&mut self, batch: &mut Vec<Span>) {
        if batch.is_empty() {
            return;
        }
        let spans = std::mem::take(batch);
        let count = spans.len() as u64;
        let body = match serde_json::to_vec(&export_request(&self.settings.service_name, &spans)) {
            Ok(body) => Bytes::from(body),
            Err(error) => return self.give_up(count, &error.to_string()),
        };
        let mut backoff = Duration::from_millis(200);
        let mut attempt = 0;
        loop {
            let result = self
                .client
                .post(&self.settings.url)
                .header(http::header::CONTENT_TYPE, "application/json")
                .body(body.clone())
                .send()
                .await;
            let (retryable, problem) = match result {
                Ok(response) if response.status().is_success() => {
                    self.stats.exported.fetch_add(count, Ordering::Relaxed);
                    return;
                }
                Ok(response) => {
                    let status = response.status().as_u16();
                    (matches!(status, 429 | 502 | 503 | 504), format!("collector answered {status}"))
                }
                Err(error) => (true, error.to_string()),
            };
            if !retryable || attempt >= self.settings.retries {
                return self.give_up(count, &problem);
            }
            attempt += 1;
            tokio::time::sleep(backoff).await;
            backoff = backoff.saturating_mul(2);
        }
    }

    /// Counts the lost spans; warns at most once a minute so a dead collector cannot flood the log.
    fn give_up(&mut self, count: u64, problem: &str) {
        self.stats.failed.fetch_add(count, Ordering::Relaxed);
        if self.last_warning.is_none_or(|at| at.elapsed() >= Duration::from_secs(60)) {
            self.last_warning = Some(Instant::now());
            tracing::warn!(
                url = %self.settings.url,
                problem,
                spans = count,
                failed_total = self.stats.failed.load(Ordering::Relaxed),
                dropped_total = self.stats.dropped.load(Ordering::Relaxed),
                "OTLP trace export failed"
            );
        }
    }
}

static GLOBAL: OnceLock<Tracer> = OnceLock::new();

/// The process-wide exporter, when one was installed.
pub fn global() -> Option<Tracer> {
    GLOBAL.get().cloned()
}

/// Starts the process-wide exporter when `OTEL_EXPORTER_OTLP_ENDPOINT` is set; does nothing at all
/// otherwise. Called by [`super::init`].
pub fn install_from_env(service: &str) -> Option<Tracer> {
    install_with(service, crate::config::env)
}

/// As [`install_from_env`], reading variables through `lookup`.
pub fn install_with(service: &str, lookup: impl Fn(&str) -> Option<String>) -> Option<Tracer> {
    let settings = TraceSettings::from_lookup(service, lookup)?;
    if let Some(existing) = GLOBAL.get() {
        return Some(existing.clone());
    }
    let service_name = settings.service_name.clone();
    match Tracer::start(settings) {
        Ok(tracer) => {
            let tracer = GLOBAL.get_or_init(|| tracer).clone();
            tracing::info!(url = tracer.url(), service_name = %service_name, "exporting traces over OTLP/HTTP (JSON)");
            Some(tracer)
        }
        Err(error) => {
            tracing::warn!(%error, "traces are not exported");
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TRACE: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

    #[test]
    fn parses_traceparent() {
        let p = TraceParent::parse(TRACE).unwrap();
        assert_eq!(p.trace_id, 0x4bf92f3577b34da6a3ce929d0e0e4736);
        assert_eq!(p.parent_id, 0x00f067aa0ba902b7);
        assert!(p.sampled());
        assert!(!TraceParent::parse("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00").unwrap().sampled());
        assert!(TraceParent::parse("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-future").is_some());
        for bad in [
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
            "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01",
            "garbage",
            "",
        ] {
            assert!(TraceParent::parse(bad).is_none(), "{bad} should be refused");
        }
    }

    #[test]
    fn continues_or_starts_traces() {
        let child = SpanContext::continue_or_start(Some(TRACE));
        assert_eq!(child.trace_id, 0x4bf92f3577b34da6a3ce929d0e0e4736);
        assert_eq!(child.parent_id, Some(0x00f067aa0ba902b7));
        assert_ne!(child.span_id, 0x00f067aa0ba902b7);
        let header = child.traceparent();
        assert!(header.starts_with("00-4bf92f3577b34da6a3ce929d0e0e4736-"), "{header}");
        assert!(header.ends_with("-01"));
        assert_eq!(TraceParent::parse(&header).map(|p| p.parent_id), Some(child.span_id));

        let root = SpanContext::continue_or_start(Some("00-zz-00-01"));
        assert_eq!(root.parent_id, None);
        assert!(root.sampled);
        assert!(TraceParent::parse(&root.traceparent()).is_some());
    }

    #[test]
    fn encodes_otlp_json() {
        let context = SpanContext { trace_id: 0xabc, span_id: 0x12, parent_id: Some(0x34), sampled: true };
        let start = UNIX_EPOCH + Duration::from_nanos(1_700_000_000_000_000_001);
        let span = Span::server(context, "GET /x/{id}", start, Duration::from_nanos(999))
            .attr("http.request.method", "GET")
            .attr("http.response.status_code", 503i64)
            .attr("http.request.header.x-request-id", vec!["r-1".to_owned()]);
        let span = Span { error: true, ..span };
        let body = export_request("svc", &[span]);
        let resource = &body["resourceSpans"][0];
        assert_eq!(resource["resource"]["attributes"][0]["key"], "service.name");
        assert_eq!(resource["resource"]["attributes"][0]["value"]["stringValue"], "svc");
        assert_eq!(resource["scopeSpans"][0]["scope"]["name"], "bantu-crm");
        let s = &resource["scopeSpans"][0]["spans"][0];
        assert_eq!(s["traceId"], "00000000000000000000000000000abc");
        assert_eq!(s["spanId"], "0000000000000012");
        assert_eq!(s["parentSpanId"], "0000000000000034");
        assert_eq!(s["kind"], 2);
        assert_eq!(s["startTimeUnixNano"], "1700000000000000001");
        assert_eq!(s["endTimeUnixNano"], "1700000000000001000");
        assert_eq!(s["status"]["code"], 2);
        assert_eq!(s["attributes"][1]["value"]["intValue"], "503");
        assert_eq!(s["attributes"][2]["value"]["arrayValue"]["values"][0]["stringValue"], "r-1");

        let root = Span::server(SpanContext { parent_id: None, ..context }, "GET", start, Duration::ZERO);
        let s = root.to_json();
        assert!(s.get("parentSpanId").is_none());
        assert!(s.get("status").is_none());
    }

    #[test]
    fn settings_follow_the_environment() {
        assert!(TraceSettings::from_lookup("svc", |_| None).is_none());
        let only_name = |k: &str| (k == "OTEL_SERVICE_NAME").then(|| "other".to_owned());
        assert!(TraceSettings::from_lookup("svc", only_name).is_none());
        let set = |k: &str| match k {
            "OTEL_EXPORTER_OTLP_ENDPOINT" => Some("http://collector:4318/".to_owned()),
            _ => None,
        };
        let s = TraceSettings::from_lookup("svc", set).unwrap();
        assert_eq!(s.url, "http://collector:4318/v1/traces");
        assert_eq!(s.service_name, "svc");
        let named = |k: &str| match k {
            "OTEL_EXPORTER_OTLP_ENDPOINT" => Some("http://collector:4318".to_owned()),
            "OTEL_SERVICE_NAME" => Some("crm-foundation-eu".to_owned()),
            _ => None,
        };
        assert_eq!(TraceSettings::from_lookup("svc", named).unwrap().service_name, "crm-foundation-eu");
    }

    #[test]
    fn refuses_https_endpoints() {
        let settings = TraceSettings::new("https://collector:4318", "svc");
        assert!(matches!(Tracer::start(settings), Err(TraceError::Scheme(_))));
    }

    #[test]
    fn full_queue_drops_and_counts() {
        // A collector that accepts connections but never answers: the exporter takes one span,
        // then waits in its POST while the queue (one slot) fills up.
        let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let endpoint = format!("http://{}", silent.local_addr().unwrap());
        let mut settings = TraceSettings::new(&endpoint, "svc");
        settings.queue_capacity = 1;
        settings.batch_size = 1;
        let tracer = Tracer::start(settings).unwrap();
        let span = || Span::server(SpanContext::root(), "GET", SystemTime::now(), Duration::ZERO);
        let accepted = (0..100).filter(|_| tracer.record(span())).count();
        assert!((1..=2).contains(&accepted), "accepted {accepted}");
        assert_eq!(tracer.dropped(), 100 - accepted as u64);
    }
}
