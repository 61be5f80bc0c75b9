//! Traces and request metrics over OTLP/HTTP (protobuf) through the OpenTelemetry SDK, when an
//! endpoint is configured — and nothing at all (no thread, no queue, no layer, no header
//! rewriting) when it is not.
//!
//! Spans are `tracing` spans: one server span per request (crm-common's `http::finish` layers
//! and the gateway) and one client span per call to a peer service (`http::peer`), turned into
//! OpenTelemetry spans by `tracing-opentelemetry`. The caller's W3C `traceparent` (and
//! `tracestate`) is continued, and what a service calls is the child of its span, so a request
//! through the gateway, a service and the peers it asks is one trace.
//!
//! A finished span goes into a bounded queue without waiting ([`queue`]); when the queue is full
//! the span is dropped and counted (`otlp_spans_dropped_total` on `/metrics`). The SDK's batch
//! processor sends batches from its own thread, retrying what the OTLP specification calls
//! retryable; the HTTP requests run on a small runtime of their own ([`transport`]). The request
//! path never waits for the collector.
//!
//! Request counts and durations go out too, as the `http.server.request.duration` histogram
//! (its count is the number of requests), beside the unchanged `/metrics` text.
//!
//! Only plain `http://` endpoints and the `http/protobuf` protocol are supported: the binaries
//! carry no TLS client, so the expected target is a collector or agent inside the cluster (or a
//! sidecar), and gRPC would add tonic and HTTP/2 for no gain over OTLP/HTTP.

mod queue;
mod transport;

use crate::http::Metrics;
use futures_util::future::Either;
use opentelemetry::metrics::{Histogram, MeterProvider};
use opentelemetry::propagation::TextMapPropagator;
use opentelemetry::trace::{Status, TraceContextExt, TracerProvider};
use opentelemetry::{InstrumentationScope, KeyValue, StringValue, Value};
use opentelemetry_http::HeaderExtractor;
use opentelemetry_otlp::{Protocol, WithExportConfig, WithHttpConfig};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::metrics::{PeriodicReader, SdkMeterProvider};
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::{BatchConfigBuilder, BatchSpanProcessor, Sampler, SdkTracer, SdkTracerProvider};
use queue::{Bounded, Counted, Stats};
use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::Ordering;
use std::sync::{Arc, OnceLock};
use std::time::Duration;
use tracing::Dispatch;
use tracing::instrument::WithSubscriber;
use tracing_opentelemetry::OpenTelemetrySpanExt;
use tracing_subscriber::Layer;
use tracing_subscriber::registry::LookupSpan;

/// The W3C trace-context request (and response) header.
pub const TRACEPARENT: &str = "traceparent";

/// The instrumentation scope every span and metric is reported under.
pub const SCOPE: &str = "bantu-crm";

/// The `tracing` target of the request and peer-call spans. The log filter always lets it
/// through while traces are exported, so `RUST_LOG=warn` quiets the logs, not the traces.
pub const SPAN_TARGET: &str = "crm_span";

/// The name of the request-duration histogram exported over OTLP (OpenTelemetry's semantic
/// conventions; unit seconds; attributes `http.request.method`, `http.route`,
/// `http.response.status_code`).
pub const REQUEST_DURATION: &str = "http.server.request.duration";

/// The `/metrics` counter of spans the full queue turned away.
const DROPPED_SERIES: &str = "otlp_spans_dropped_total";
const DROPPED_HELP: &str = "Spans dropped because the export queue was full.";

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

/// Where and how traces and metrics are exported (the standard `OTEL_*` variables).
#[derive(Debug, Clone)]
pub struct TraceSettings {
    /// Where spans are POSTed (`OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`, else
    /// `{OTEL_EXPORTER_OTLP_ENDPOINT}/v1/traces`); `None` = no traces.
    pub url: Option<String>,
    /// Where metrics are POSTed (`…_METRICS_ENDPOINT`, else `{…_ENDPOINT}/v1/metrics`); `None` =
    /// no metrics over OTLP.
    pub metrics_url: Option<String>,
    /// `service.name` of the resource: `OTEL_SERVICE_NAME`, else a `service.name` in
    /// `OTEL_RESOURCE_ATTRIBUTES`, else the binary's service name.
    pub service_name: String,
    /// `OTEL_RESOURCE_ATTRIBUTES`, decoded.
    pub resource: Vec<(String, String)>,
    /// `OTEL_EXPORTER_OTLP_HEADERS` (and the per-signal variables), decoded.
    pub headers: Vec<(String, String)>,
    /// `OTEL_TRACES_SAMPLER` and `OTEL_TRACES_SAMPLER_ARG`; parent-based always-on by default.
    pub sampler: Sampler,
    /// Finished spans waiting for export (`OTEL_BSP_MAX_QUEUE_SIZE`); beyond this, spans are
    /// dropped and counted.
    pub queue_capacity: usize,
    /// `OTEL_BSP_MAX_EXPORT_BATCH_SIZE`.
    pub batch_size: usize,
    /// `OTEL_BSP_SCHEDULE_DELAY`.
    pub flush_interval: Duration,
    /// Per export, retries included (`OTEL_EXPORTER_OTLP_TIMEOUT`).
    pub timeout: Duration,
    /// Further attempts after a failed export (connection error, 429, 502, 503, 504).
    pub retries: u32,
    /// `OTEL_METRIC_EXPORT_INTERVAL`.
    pub metrics_interval: Duration,
}

#[derive(Debug, thiserror::Error)]
pub enum TraceError {
    #[error("only plain http:// OTLP endpoints are supported (no TLS client is built in), got {0}")]
    Scheme(String),
    #[error("only the http/protobuf OTLP protocol is supported, got {0}")]
    Protocol(String),
    #[error("unknown OTEL_TRACES_SAMPLER {0}")]
    Sampler(String),
    #[error("cannot start the exporter: {0}")]
    Start(#[from] std::io::Error),
    #[error("cannot build the exporter: {0}")]
    Build(String),
}

impl TraceSettings {
    /// Defaults for exporting traces and metrics to the OTLP/HTTP receiver at `endpoint`
    /// (e.g. `http://collector:4318`).
    pub fn new(endpoint: &str, service_name: &str) -> Self {
        let base = endpoint.trim_end_matches('/');
        Self {
            url: Some(format!("{base}/v1/traces")),
            metrics_url: Some(format!("{base}/v1/metrics")),
            service_name: service_name.to_owned(),
            resource: Vec::new(),
            headers: Vec::new(),
            sampler: Sampler::ParentBased(Box::new(Sampler::AlwaysOn)),
            queue_capacity: 2048,
            batch_size: 512,
            flush_interval: Duration::from_secs(1),
            timeout: Duration::from_secs(10),
            retries: 3,
            metrics_interval: Duration::from_secs(60),
        }
    }

    /// From the process environment; `Ok(None)` when no endpoint is configured (or
    /// `OTEL_SDK_DISABLED=true`).
    pub fn from_env(service: &str) -> Result<Option<Self>, TraceError> {
        Self::from_lookup(service, crate::config::env)
    }

    /// As [`Self::from_env`], reading variables through `lookup` (non-empty, trimmed values).
    pub fn from_lookup(service: &str, lookup: impl Fn(&str) -> Option<String>) -> Result<Option<Self>, TraceError> {
        if lookup("OTEL_SDK_DISABLED").is_some_and(|v| v.eq_ignore_ascii_case("true")) {
            return Ok(None);
        }
        let base = lookup("OTEL_EXPORTER_OTLP_ENDPOINT");
        let signal = |exporter: &str, endpoint: &str, path: &str| {
            if lookup(exporter).is_some_and(|v| v.eq_ignore_ascii_case("none")) {
                return None;
            }
            lookup(endpoint).or_else(|| base.as_ref().map(|b| format!("{}{path}", b.trim_end_matches('/'))))
        };
        let url = signal("OTEL_TRACES_EXPORTER", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "/v1/traces");
        let metrics_url = signal("OTEL_METRICS_EXPORTER", "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT", "/v1/metrics");
        if url.is_none() && metrics_url.is_none() {
            return Ok(None);
        }
        for name in
            ["OTEL_EXPORTER_OTLP_PROTOCOL", "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_EXPORTER_OTLP_METRICS_PROTOCOL"]
        {
            if let Some(protocol) = lookup(name).filter(|p| p != "http/protobuf") {
                return Err(TraceError::Protocol(protocol));
            }
        }
        let resource = lookup("OTEL_RESOURCE_ATTRIBUTES").map(|v| pairs(&v)).unwrap_or_default();
        let service_name = lookup("OTEL_SERVICE_NAME")
            .or_else(|| resource.iter().find(|(k, _)| k == "service.name").map(|(_, v)| v.clone()))
            .unwrap_or_else(|| service.to_owned());
        let mut headers = lookup("OTEL_EXPORTER_OTLP_HEADERS").map(|v| pairs(&v)).unwrap_or_default();
        for name in ["OTEL_EXPORTER_OTLP_TRACES_HEADERS", "OTEL_EXPORTER_OTLP_METRICS_HEADERS"] {
            headers.extend(lookup(name).map(|v| pairs(&v)).unwrap_or_default());
        }
        let millis = |name: &str| lookup(name).and_then(|v| v.parse::<u64>().ok()).map(Duration::from_millis);
        let count = |name: &str| lookup(name).and_then(|v| v.parse::<usize>().ok()).filter(|n| *n > 0);
        let mut settings = Self::new("http://unused", &service_name);
        settings.url = url;
        settings.metrics_url = metrics_url;
        settings.resource = resource;
        settings.headers = headers;
        settings.sampler =
            sampler(lookup("OTEL_TRACES_SAMPLER").as_deref(), lookup("OTEL_TRACES_SAMPLER_ARG").as_deref())?;
        if let Some(n) = count("OTEL_BSP_MAX_QUEUE_SIZE") {
            settings.queue_capacity = n;
        }
        if let Some(n) = count("OTEL_BSP_MAX_EXPORT_BATCH_SIZE") {
            settings.batch_size = n;
        }
        if let Some(d) = millis("OTEL_BSP_SCHEDULE_DELAY") {
            settings.flush_interval = d;
        }
        if let Some(d) = millis("OTEL_EXPORTER_OTLP_TIMEOUT") {
            settings.timeout = d;
        }
        if let Some(d) = millis("OTEL_METRIC_EXPORT_INTERVAL").filter(|d| !d.is_zero()) {
            settings.metrics_interval = d;
        }
        Ok(Some(settings))
    }

    fn resource(&self) -> Resource {
        let attributes = self
            .resource
            .iter()
            .filter(|(k, _)| k != "service.name")
            .map(|(k, v)| KeyValue::new(k.clone(), v.clone()))
            .collect::<Vec<_>>();
        Resource::builder_empty().with_attributes(attributes).with_service_name(self.service_name.clone()).build()
    }

    fn check(&self) -> Result<(), TraceError> {
        for url in self.url.iter().chain(&self.metrics_url) {
            if !url.starts_with("http://") {
                return Err(TraceError::Scheme(url.clone()));
            }
        }
        Ok(())
    }
}

/// `OTEL_TRACES_SAMPLER` as the specification names them (`Err` with an unknown name).
fn sampler(name: Option<&str>, arg: Option<&str>) -> Result<Sampler, TraceError> {
    let ratio = || arg.and_then(|a| a.parse::<f64>().ok()).filter(|r| (0.0..=1.0).contains(r)).unwrap_or(1.0);
    Ok(match name {
        Some("always_on") => Sampler::AlwaysOn,
        Some("always_off") => Sampler::AlwaysOff,
        Some("traceidratio") => Sampler::TraceIdRatioBased(ratio()),
        Some("parentbased_always_off") => Sampler::ParentBased(Box::new(Sampler::AlwaysOff)),
        Some("parentbased_traceidratio") => Sampler::ParentBased(Box::new(Sampler::TraceIdRatioBased(ratio()))),
        Some("parentbased_always_on") | None => Sampler::ParentBased(Box::new(Sampler::AlwaysOn)),
        Some(other) => return Err(TraceError::Sampler(other.to_owned())),
    })
}

/// `key=value,key2=value2` with percent-encoded values (`OTEL_RESOURCE_ATTRIBUTES`,
/// `OTEL_EXPORTER_OTLP_HEADERS`); malformed entries are skipped.
fn pairs(list: &str) -> Vec<(String, String)> {
    list.split(',')
        .filter_map(|entry| {
            let (key, value) = entry.split_once('=')?;
            let key = key.trim();
            (!key.is_empty()).then(|| (key.to_owned(), percent_decode(value.trim())))
        })
        .collect()
}

fn percent_decode(value: &str) -> String {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let escaped = (bytes[i] == b'%')
            .then(|| bytes.get(i + 1..i + 3))
            .flatten()
            .and_then(|hex| std::str::from_utf8(hex).ok())
            .and_then(|hex| u8::from_str_radix(hex, 16).ok());
        match escaped {
            Some(byte) => {
                out.push(byte);
                i += 3;
            }
            None => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The request-duration histogram exported over OTLP; fed by [`Metrics::observe_request`].
#[derive(Debug, Clone)]
pub struct RequestInstruments {
    duration: Histogram<f64>,
}

impl RequestInstruments {
    pub fn record(&self, route: &str, method: &str, status: u16, elapsed: Duration) {
        let attributes = [
            KeyValue::new("http.request.method", method.to_owned()),
            KeyValue::new("http.route", route.to_owned()),
            KeyValue::new("http.response.status_code", i64::from(status)),
        ];
        self.duration.record(elapsed.as_secs_f64(), &attributes);
    }
}

struct Traces {
    provider: SdkTracerProvider,
    tracer: SdkTracer,
}

struct Inner {
    traces: Option<Traces>,
    meters: Option<SdkMeterProvider>,
    requests: Option<RequestInstruments>,
    stats: Arc<Stats>,
    /// A subscriber of this exporter's own, when it is not the process-wide one's (several
    /// services in one process, as in tests).
    dispatch: Option<Dispatch>,
    url: String,
}

/// A handle to running exporters; cheap to clone. They stop (after sending what is queued) when
/// the last handle, and the last span, are gone.
#[derive(Clone)]
pub struct Tracer {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Tracer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tracer").field("url", &self.inner.url).field("stats", &self.inner.stats).finish()
    }
}

fn scope() -> InstrumentationScope {
    InstrumentationScope::builder(SCOPE).with_version(env!("CARGO_PKG_VERSION")).build()
}

fn build_error(error: impl std::fmt::Display) -> TraceError {
    TraceError::Build(error.to_string())
}

/// The `tracing` layer that turns spans (not events: those are logs) into OpenTelemetry spans.
fn otel_layer<S>(tracer: SdkTracer) -> impl Layer<S> + Send + Sync
where
    S: tracing::Subscriber + for<'span> LookupSpan<'span> + Send + Sync,
{
    tracing_opentelemetry::layer()
        .with_tracer(tracer)
        .with_location(false)
        .with_threads(false)
        .with_target(false)
        .with_tracked_inactivity(false)
        .with_filter(tracing_subscriber::filter::filter_fn(|meta| meta.is_span()))
}

impl Tracer {
    /// Starts exporters with a subscriber of their own: spans made through this handle go to
    /// them whatever the process-wide subscriber is. For several services in one process
    /// (tests); a binary uses [`crate::telemetry::init`].
    pub fn start(settings: TraceSettings) -> Result<Self, TraceError> {
        let mut inner = Self::build(&settings)?;
        if let Some(traces) = &inner.traces {
            let subscriber = tracing_subscriber::layer::SubscriberExt::with(
                tracing_subscriber::registry(),
                otel_layer(traces.tracer.clone()),
            );
            inner.dispatch = Some(Dispatch::new(subscriber));
        }
        Ok(Self { inner: Arc::new(inner) })
    }

    /// Exporters for the process-wide subscriber, which must carry [`Self::layer`].
    pub(crate) fn start_global(settings: &TraceSettings) -> Result<Self, TraceError> {
        Ok(Self { inner: Arc::new(Self::build(settings)?) })
    }

    fn build(settings: &TraceSettings) -> Result<Inner, TraceError> {
        settings.check()?;
        let client = transport::ExportClient::start("otlp-export", settings.timeout)?;
        let resource = settings.resource();
        let headers: HashMap<String, String> = settings.headers.iter().cloned().collect();
        let retry = opentelemetry_otlp::RetryPolicy::recommended().with_max_retries(settings.retries as usize);
        let stats = Arc::new(Stats::default());
        let traces = match &settings.url {
            Some(url) => {
                let exporter = opentelemetry_otlp::SpanExporter::builder()
                    .with_http()
                    .with_http_client(client.clone())
                    .with_endpoint(url.clone())
                    .with_protocol(Protocol::HttpBinary)
                    .with_timeout(settings.timeout)
                    .with_headers(headers.clone())
                    .with_retry_policy(retry.clone())
                    .build()
                    .map_err(build_error)?;
                let exporter = Counted { inner: exporter, stats: stats.clone(), url: url.clone() };
                let capacity = settings.queue_capacity.max(1);
                let config = BatchConfigBuilder::default()
                    .with_max_queue_size(capacity)
                    .with_max_export_batch_size(settings.batch_size.clamp(1, capacity))
                    .with_scheduled_delay(settings.flush_interval)
                    .build();
                let processor =
                    Bounded { inner: BatchSpanProcessor::new(exporter, config), stats: stats.clone(), capacity };
                let provider = SdkTracerProvider::builder()
                    .with_span_processor(processor)
                    .with_sampler(settings.sampler.clone())
                    .with_resource(resource.clone())
                    .build();
                let tracer = provider.tracer_with_scope(scope());
                Some(Traces { provider, tracer })
            }
            None => None,
        };
        let (meters, requests) = match &settings.metrics_url {
            Some(url) => {
                let exporter = opentelemetry_otlp::MetricExporter::builder()
                    .with_http()
                    .with_http_client(client)
                    .with_endpoint(url.clone())
                    .with_protocol(Protocol::HttpBinary)
                    .with_timeout(settings.timeout)
                    .with_headers(headers)
                    .with_retry_policy(retry)
                    .build()
                    .map_err(build_error)?;
                let reader = PeriodicReader::builder(exporter).with_interval(settings.metrics_interval).build();
                let provider = SdkMeterProvider::builder().with_reader(reader).with_resource(resource).build();
                let duration = provider
                    .meter_with_scope(scope())
                    .f64_histogram(REQUEST_DURATION)
                    .with_unit("s")
                    .with_description("Duration of HTTP server requests.")
                    .with_boundaries(crate::http::metrics::BUCKETS.to_vec())
                    .build();
                (Some(provider), Some(RequestInstruments { duration }))
            }
            None => (None, None),
        };
        let url = settings.url.clone().or_else(|| settings.metrics_url.clone()).unwrap_or_default();
        Ok(Inner { traces, meters, requests, stats, dispatch: None, url })
    }

    /// The layer the process-wide subscriber needs for this exporter's spans (`None` when traces
    /// are not exported).
    pub(crate) fn layer<S>(&self) -> Option<impl Layer<S> + Send + Sync + use<S>>
    where
        S: tracing::Subscriber + for<'span> LookupSpan<'span> + Send + Sync,
    {
        self.inner.traces.as_ref().map(|t| otel_layer(t.tracer.clone()))
    }

    /// Whether spans are exported (not only metrics).
    pub fn traces(&self) -> bool {
        self.inner.traces.is_some()
    }

    /// The request-duration histogram, when metrics are exported.
    pub fn requests(&self) -> Option<&RequestInstruments> {
        self.inner.requests.as_ref()
    }

    /// Runs `f` with this exporter's subscriber as the default, when it has one of its own.
    fn in_scope<T>(&self, f: impl FnOnce() -> T) -> T {
        match &self.inner.dispatch {
            Some(dispatch) => tracing::dispatcher::with_default(dispatch, f),
            None => f(),
        }
    }

    /// `future` with this exporter's subscriber as the default while it runs, so the spans it
    /// opens (peer calls) go to the same exporter. Nothing is added for the process-wide one.
    pub fn in_dispatch<F: Future>(&self, future: F) -> Either<tracing::instrument::WithDispatch<F>, F> {
        match &self.inner.dispatch {
            Some(dispatch) => Either::Left(future.with_subscriber(dispatch.clone())),
            None => Either::Right(future),
        }
    }

    /// Opens the server span of one request. With `incoming` headers, it continues their
    /// `traceparent`/`tracestate` when well-formed; otherwise it is the root of a new trace.
    /// Whether it is recorded follows the sampler (by default: the caller's sampled flag).
    pub fn server_span(&self, name: &str, incoming: Option<&http::HeaderMap>) -> RequestSpan {
        let span = self
            .in_scope(|| tracing::info_span!(target: SPAN_TARGET, "request", otel.name = name, otel.kind = "server"));
        let parent = match incoming {
            Some(headers) => TraceContextPropagator::new().extract(&HeaderExtractor(headers)),
            None => opentelemetry::Context::new(),
        };
        let _ = span.set_parent(parent);
        let cx = span.context();
        RequestSpan { span, cx }
    }

    /// Counts, in `metrics`, the spans dropped since it was last told (`otlp_spans_dropped_total`).
    pub fn report_drops(&self, metrics: &Metrics) {
        let stats = &self.inner.stats;
        let dropped = stats.dropped.load(Ordering::Relaxed);
        let told = stats.reported.fetch_max(dropped, Ordering::AcqRel);
        if dropped > told {
            metrics.inc(DROPPED_SERIES, DROPPED_HELP, &[], dropped - told);
        }
    }

    /// Exports everything queued so far (spans and metrics); waits at most `timeout`. `true`
    /// when every queued span went through an export in time (whether or not the collector
    /// accepted it).
    pub async fn flush(&self, timeout: Duration) -> bool {
        let inner = self.inner.clone();
        let (done, flushed) = tokio::sync::oneshot::channel();
        // A thread of its own rather than the runtime's blocking pool: a flush that outlives
        // `timeout` (a collector that does not answer) must not hold up the runtime's shutdown.
        let started = std::thread::Builder::new().name("otlp-flush".into()).spawn(move || {
            if let Some(traces) = &inner.traces {
                let _ = traces.provider.force_flush();
            }
            if let Some(meters) = &inner.meters {
                let _ = meters.force_flush();
            }
            let _ = done.send(inner.stats.pending.load(Ordering::Acquire) == 0);
        });
        started.is_ok() && matches!(tokio::time::timeout(timeout, flushed).await, Ok(Ok(true)))
    }

    /// Spans dropped because the queue was full.
    pub fn dropped(&self) -> u64 {
        self.inner.stats.dropped.load(Ordering::Relaxed)
    }

    /// Spans the collector accepted.
    pub fn exported(&self) -> u64 {
        self.inner.stats.exported.load(Ordering::Relaxed)
    }

    /// Spans given up on after the retries.
    pub fn failed(&self) -> u64 {
        self.inner.stats.failed.load(Ordering::Relaxed)
    }

    /// Where spans go (or metrics, when only they are exported).
    pub fn url(&self) -> &str {
        &self.inner.url
    }
}

/// A server or client span in flight. Attributes are set on the OpenTelemetry span directly
/// (typed: integers stay integers, lists stay lists); the span ends when this is dropped or
/// [`Self::end`]ed.
pub struct RequestSpan {
    span: tracing::Span,
    cx: opentelemetry::Context,
}

impl RequestSpan {
    /// The `traceparent` naming this span, for the response and for what it calls; `None` when
    /// no OpenTelemetry span stands behind it (its subscriber has no OpenTelemetry layer).
    pub fn traceparent(&self) -> Option<String> {
        let span = self.cx.span();
        let context = span.span_context();
        context
            .is_valid()
            .then(|| format!("00-{}-{}-{:02x}", context.trace_id(), context.span_id(), context.trace_flags().to_u8()))
    }

    /// Whether the span is recorded and will be exported (sampled).
    pub fn is_recording(&self) -> bool {
        self.cx.span().is_recording()
    }

    /// The `tracing` span, to run the request's future in (`Instrument`).
    pub fn span(&self) -> &tracing::Span {
        &self.span
    }

    pub fn set(&self, key: &'static str, value: impl Into<Value>) {
        self.cx.span().set_attribute(KeyValue::new(key, value));
    }

    /// A list-valued attribute (as `http.request.header.*` are).
    pub fn set_strings(&self, key: &'static str, values: Vec<String>) {
        let values: Vec<StringValue> = values.into_iter().map(StringValue::from).collect();
        self.set(key, Value::Array(values.into()));
    }

    pub fn rename(&self, name: String) {
        self.cx.span().update_name(name);
    }

    /// Records the HTTP status; a 5xx marks the span as failed (`error.type` unless `failure`
    /// names the cause).
    pub fn status(&self, status: u16, failure: Option<&'static str>) {
        if !self.is_recording() {
            return;
        }
        let span = self.cx.span();
        span.set_attribute(KeyValue::new("http.response.status_code", i64::from(status)));
        if let Some(failure) = failure {
            span.set_attribute(KeyValue::new("error.type", failure));
        }
        if status >= 500 {
            if failure.is_none() {
                span.set_attribute(KeyValue::new("error.type", status.to_string()));
            }
            span.set_status(Status::error(""));
        }
    }

    /// Ends the span now (it is handed to the export queue if sampled).
    pub fn end(self) {
        drop(self);
    }
}

/// A client span (named `{method} {peer}`) for a call from the current request to a peer
/// service, child of the current span; `None` when the current span is not exported (no tracing
/// configured), so a call costs next to nothing more then.
pub fn client_span(method: &str, peer: &str) -> Option<RequestSpan> {
    let current = tracing::Span::current();
    if current.is_disabled() || !current.context().span().span_context().is_valid() {
        return None;
    }
    let name = format!("{method} {peer}");
    let span = tracing::info_span!(target: SPAN_TARGET, parent: &current, "peer", otel.name = name.as_str(), otel.kind = "client");
    let cx = span.context();
    cx.span().span_context().is_valid().then_some(RequestSpan { span, cx })
}

static GLOBAL: OnceLock<Tracer> = OnceLock::new();

/// The process-wide exporter, when one was installed.
pub fn global() -> Option<Tracer> {
    GLOBAL.get().cloned()
}

/// Makes `tracer` the process-wide exporter (the first one set stays).
pub(crate) fn set_global(tracer: Tracer) -> Tracer {
    GLOBAL.get_or_init(|| tracer).clone()
}

/// Exporters for the process-wide subscriber from the settings `lookup` gives; `Ok(None)`
/// (nothing started) when no endpoint is configured.
pub(crate) fn prepare(service: &str, lookup: impl Fn(&str) -> Option<String>) -> Result<Option<Tracer>, TraceError> {
    match TraceSettings::from_lookup(service, lookup)? {
        Some(settings) => Tracer::start_global(&settings).map(Some),
        None => Ok(None),
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

    fn lookup<'a>(vars: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |name| vars.iter().find(|(k, _)| *k == name).map(|(_, v)| (*v).to_owned())
    }

    #[test]
    fn settings_follow_the_environment() {
        assert!(TraceSettings::from_lookup("svc", |_| None).unwrap().is_none());
        assert!(TraceSettings::from_lookup("svc", lookup(&[("OTEL_SERVICE_NAME", "other")])).unwrap().is_none());
        let on = [("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318/"), ("OTEL_SDK_DISABLED", "true")];
        assert!(TraceSettings::from_lookup("svc", lookup(&on)).unwrap().is_none(), "the SDK switch wins");

        let s = TraceSettings::from_lookup("svc", lookup(&on[..1])).unwrap().unwrap();
        assert_eq!(s.url.as_deref(), Some("http://collector:4318/v1/traces"));
        assert_eq!(s.metrics_url.as_deref(), Some("http://collector:4318/v1/metrics"));
        assert_eq!(s.service_name, "svc");
        assert!(matches!(&s.sampler, Sampler::ParentBased(inner) if format!("{inner:?}").contains("AlwaysOn")));

        let s = TraceSettings::from_lookup(
            "svc",
            lookup(&[
                ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318"),
                ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://traces:4318/custom"),
                ("OTEL_METRICS_EXPORTER", "none"),
                ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf"),
                ("OTEL_EXPORTER_OTLP_HEADERS", "authorization=Bearer%20abc, x-tenant = eu ,broken"),
                ("OTEL_RESOURCE_ATTRIBUTES", "deployment.environment=prod,service.name=from-attrs"),
                ("OTEL_TRACES_SAMPLER", "traceidratio"),
                ("OTEL_TRACES_SAMPLER_ARG", "0.25"),
                ("OTEL_BSP_MAX_QUEUE_SIZE", "64"),
                ("OTEL_BSP_SCHEDULE_DELAY", "250"),
                ("OTEL_EXPORTER_OTLP_TIMEOUT", "1500"),
            ]),
        )
        .unwrap()
        .unwrap();
        assert_eq!(s.url.as_deref(), Some("http://traces:4318/custom"));
        assert_eq!(s.metrics_url, None);
        assert_eq!(
            s.headers,
            vec![("authorization".to_owned(), "Bearer abc".to_owned()), ("x-tenant".to_owned(), "eu".to_owned())]
        );
        assert_eq!(s.service_name, "from-attrs", "a service.name attribute beats the binary's name");
        assert!(matches!(s.sampler, Sampler::TraceIdRatioBased(r) if (r - 0.25).abs() < 1e-9));
        assert_eq!(s.queue_capacity, 64);
        assert_eq!(s.flush_interval, Duration::from_millis(250));
        assert_eq!(s.timeout, Duration::from_millis(1500));
        let resource = s.resource();
        assert_eq!(resource.get(&"service.name".into()), Some(Value::from("from-attrs")));
        assert_eq!(resource.get(&"deployment.environment".into()), Some(Value::from("prod")));

        let named = [("OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4318"), ("OTEL_SERVICE_NAME", "crm-foundation-eu")];
        let named = TraceSettings::from_lookup("svc", lookup(&named)).unwrap().unwrap();
        assert_eq!(named.service_name, "crm-foundation-eu");

        let grpc = [("OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4317"), ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")];
        assert!(matches!(TraceSettings::from_lookup("svc", lookup(&grpc)), Err(TraceError::Protocol(_))));
        let odd = [("OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4318"), ("OTEL_TRACES_SAMPLER", "sometimes")];
        assert!(matches!(TraceSettings::from_lookup("svc", lookup(&odd)), Err(TraceError::Sampler(_))));
    }

    #[test]
    fn refuses_https_endpoints() {
        let settings = TraceSettings::new("https://collector:4318", "svc");
        assert!(matches!(Tracer::start(settings), Err(TraceError::Scheme(_))));
    }

    #[test]
    fn full_queue_drops_and_counts() {
        // A collector that accepts connections but never answers: the exporter takes one span,
        // then waits in its POST while the queue (one place) stays taken.
        let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let endpoint = format!("http://{}", silent.local_addr().unwrap());
        let mut settings = TraceSettings::new(&endpoint, "svc");
        settings.metrics_url = None;
        settings.queue_capacity = 1;
        settings.batch_size = 1;
        settings.retries = 0;
        settings.timeout = Duration::from_millis(300);
        let tracer = Tracer::start(settings).unwrap();
        for _ in 0..100 {
            let span = tracer.server_span("GET", None);
            assert!(span.is_recording());
            span.end();
        }
        assert_eq!(tracer.dropped(), 99, "one span queued, the others turned away");
        let metrics = Metrics::new();
        tracer.report_drops(&metrics);
        tracer.report_drops(&metrics);
        assert!(metrics.render().contains("otlp_spans_dropped_total 99"), "{}", metrics.render());
    }
}
