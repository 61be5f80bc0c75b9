//! Test support: a stand-in for an OpenTelemetry collector's OTLP/HTTP receiver. It decodes every
//! `POST /v1/traces` and `POST /v1/metrics` body as OTLP protobuf (what the exporters send) and
//! can answer 503 a given number of times first. Spans are handed to tests in the OTLP/JSON shape
//! (hex ids, 64-bit integers as strings, default values left out), so assertions read like the
//! specification's examples. Shared by the test binaries of crm-common and the gateway (which
//! cannot use the `testing` feature: it brings sea-orm along).
#![expect(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test support: a broken collector should stop the test loudly"
)]

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use opentelemetry_proto::tonic::collector::metrics::v1::{ExportMetricsServiceRequest, ExportMetricsServiceResponse};
use opentelemetry_proto::tonic::collector::trace::v1::{ExportTraceServiceRequest, ExportTraceServiceResponse};
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};
use opentelemetry_proto::tonic::metrics::v1::{Metric, metric};
use opentelemetry_proto::tonic::trace::v1::Span;
use prost::Message;
use serde_json::{Map, Value, json};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[derive(Default)]
struct Received {
    traces: Mutex<Vec<ExportTraceServiceRequest>>,
    metrics: Mutex<Vec<ExportMetricsServiceRequest>>,
    content_types: Mutex<Vec<String>>,
    headers: Mutex<Vec<HeaderMap>>,
    attempts: AtomicUsize,
    fail_next: AtomicUsize,
}

pub struct Collector {
    port: u16,
    received: Arc<Received>,
}

impl Collector {
    pub async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let received = Arc::new(Received::default());
        let app = Router::new()
            .route("/v1/traces", post(receive_traces))
            .route("/v1/metrics", post(receive_metrics))
            .with_state(received.clone());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Self { port, received }
    }

    /// What `OTEL_EXPORTER_OTLP_ENDPOINT` would be set to.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Answer the next `n` trace posts with 503 (without recording them).
    pub fn fail_next(&self, n: usize) {
        self.received.fail_next.store(n, Ordering::SeqCst);
    }

    /// Accepted trace posts.
    pub fn posts(&self) -> usize {
        self.received.traces.lock().unwrap().len()
    }

    /// Every trace post, refused ones included.
    pub fn attempts(&self) -> usize {
        self.received.attempts.load(Ordering::SeqCst)
    }

    /// The content type of every accepted post (traces and metrics).
    pub fn content_types(&self) -> Vec<String> {
        self.received.content_types.lock().unwrap().clone()
    }

    /// The headers of every accepted post (traces and metrics).
    pub fn headers(&self) -> Vec<HeaderMap> {
        self.received.headers.lock().unwrap().clone()
    }

    /// Every span of every accepted post, in the OTLP/JSON shape.
    pub fn spans(&self) -> Vec<Value> {
        let requests = self.received.traces.lock().unwrap();
        let mut spans = Vec::new();
        for request in requests.iter() {
            for resource in &request.resource_spans {
                for scope in &resource.scope_spans {
                    assert_eq!(scope.scope.as_ref().map(|s| s.name.as_str()), Some("bantu-crm"));
                    spans.extend(scope.spans.iter().map(span_json));
                }
            }
        }
        spans
    }

    /// The `service.name` of every resource received with spans.
    pub fn services(&self) -> Vec<String> {
        let requests = self.received.traces.lock().unwrap();
        let mut names = Vec::new();
        for resource in requests.iter().flat_map(|r| &r.resource_spans) {
            let attributes = resource.resource.as_ref().map(|r| attributes_json(&r.attributes)).unwrap_or_default();
            let name = attr(&json!({ "attributes": attributes }), "service.name");
            names.push(name["stringValue"].as_str().expect("service.name is a string").to_owned());
        }
        names
    }

    /// Waits (up to 10 s) until at least `n` spans arrived.
    pub async fn wait_for(&self, n: usize) -> Vec<Value> {
        for _ in 0..200 {
            let spans = self.spans();
            if spans.len() >= n {
                return spans;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("expected {n} spans, got {:#?}", self.spans());
    }

    /// Every metric named `name` received, with the `service.name` of its resource, oldest first.
    pub fn metrics(&self, name: &str) -> Vec<(String, Metric)> {
        let requests = self.received.metrics.lock().unwrap();
        let mut found = Vec::new();
        for resource in requests.iter().flat_map(|r| &r.resource_metrics) {
            let attributes = resource.resource.as_ref().map(|r| attributes_json(&r.attributes)).unwrap_or_default();
            let service = attr(&json!({ "attributes": attributes }), "service.name")["stringValue"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            for scope in &resource.scope_metrics {
                for metric in scope.metrics.iter().filter(|m| m.name == name) {
                    found.push((service.clone(), metric.clone()));
                }
            }
        }
        found
    }
}

/// The histogram points of a metric as JSON: `attributes` (OTLP/JSON) and `count`.
pub fn histogram_points(metric: &Metric) -> Vec<Value> {
    match &metric.data {
        Some(metric::Data::Histogram(h)) => h
            .data_points
            .iter()
            .map(|p| json!({ "attributes": attributes_json(&p.attributes), "count": p.count }))
            .collect(),
        _ => Vec::new(),
    }
}

/// The value of attribute `key` of a span or resource (`Null` when absent).
pub fn attr(holder: &Value, key: &str) -> Value {
    holder["attributes"]
        .as_array()
        .and_then(|attrs| attrs.iter().find(|a| a["key"] == key))
        .map(|a| a["value"].clone())
        .unwrap_or(Value::Null)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn any_value_json(value: &AnyValue) -> Value {
    match &value.value {
        Some(any_value::Value::StringValue(s)) => json!({ "stringValue": s }),
        Some(any_value::Value::BoolValue(b)) => json!({ "boolValue": b }),
        Some(any_value::Value::IntValue(i)) => json!({ "intValue": i.to_string() }),
        Some(any_value::Value::DoubleValue(d)) => json!({ "doubleValue": d }),
        Some(any_value::Value::ArrayValue(a)) => {
            let values: Vec<Value> = a.values.iter().map(any_value_json).collect();
            json!({ "arrayValue": { "values": values } })
        }
        Some(any_value::Value::BytesValue(b)) => json!({ "bytesValue": hex(b) }),
        Some(other) => json!({ "other": format!("{other:?}") }),
        None => json!({}),
    }
}

fn attributes_json(attributes: &[KeyValue]) -> Vec<Value> {
    attributes
        .iter()
        .map(|kv| json!({ "key": kv.key, "value": kv.value.as_ref().map(any_value_json).unwrap_or(Value::Null) }))
        .collect()
}

fn span_json(span: &Span) -> Value {
    let mut out = Map::new();
    out.insert("traceId".into(), hex(&span.trace_id).into());
    out.insert("spanId".into(), hex(&span.span_id).into());
    if !span.parent_span_id.is_empty() {
        out.insert("parentSpanId".into(), hex(&span.parent_span_id).into());
    }
    out.insert("name".into(), span.name.clone().into());
    out.insert("kind".into(), span.kind.into());
    out.insert("startTimeUnixNano".into(), span.start_time_unix_nano.to_string().into());
    out.insert("endTimeUnixNano".into(), span.end_time_unix_nano.to_string().into());
    out.insert("attributes".into(), attributes_json(&span.attributes).into());
    if let Some(status) = span.status.as_ref().filter(|s| s.code != 0 || !s.message.is_empty()) {
        out.insert("status".into(), json!({ "code": status.code }));
    }
    Value::Object(out)
}

fn record_headers(received: &Received, headers: &HeaderMap) {
    let content_type = headers.get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default();
    received.content_types.lock().unwrap().push(content_type.to_owned());
    received.headers.lock().unwrap().push(headers.clone());
}

async fn receive_traces(
    State(received): State<Arc<Received>>,
    headers: HeaderMap,
    body: Bytes,
) -> (StatusCode, Vec<u8>) {
    received.attempts.fetch_add(1, Ordering::SeqCst);
    let refuse = received.fail_next.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1)).is_ok();
    if refuse {
        return (StatusCode::SERVICE_UNAVAILABLE, Vec::new());
    }
    record_headers(&received, &headers);
    let request = ExportTraceServiceRequest::decode(body).expect("OTLP protobuf ExportTraceServiceRequest");
    received.traces.lock().unwrap().push(request);
    (StatusCode::OK, ExportTraceServiceResponse::default().encode_to_vec())
}

async fn receive_metrics(
    State(received): State<Arc<Received>>,
    headers: HeaderMap,
    body: Bytes,
) -> (StatusCode, Vec<u8>) {
    record_headers(&received, &headers);
    let request = ExportMetricsServiceRequest::decode(body).expect("OTLP protobuf ExportMetricsServiceRequest");
    received.metrics.lock().unwrap().push(request);
    (StatusCode::OK, ExportMetricsServiceResponse::default().encode_to_vec())
}
