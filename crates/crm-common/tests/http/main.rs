//! crm-common's HTTP layers over real sockets: server spans from a service router built with
//! `crm_common::http::finish`, exported over OTLP/HTTP (protobuf) to a collector running in the
//! test, calls to a peer service in the same trace, and the request metrics exported beside them.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use axum::Router;
use axum::extract::Path;
use axum::http::HeaderMap;
use axum::routing::get;
use crm_common::ApiError;
use crm_common::http::peer::{Forward, PeerClient, PeerTimeouts};
use crm_common::http::{Metrics, TrustedProxies, finish, finish_traced, health_router};
use crm_common::otlp_collector::{Collector, attr, histogram_points};
use crm_common::telemetry::otlp::{self, TraceParent, TraceSettings, Tracer};
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

const TRACE: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

/// A small service wrapped like every real one: `items/{id}` answers 200 and reports the
/// `traceparent` its handler saw (`wrapped/{id}` too, in the envelope peers answer with), `boom`
/// fails with 500.
fn routes(metrics: &Arc<Metrics>) -> Router {
    let api = Router::new()
        .route(
            "/api/demo/items/{id}",
            get(|Path(id): Path<String>, headers: HeaderMap| async move {
                let seen = headers.get("traceparent").and_then(|v| v.to_str().ok()).map(str::to_owned);
                axum::Json(json!({ "id": id, "traceparent": seen }))
            }),
        )
        .route(
            "/api/demo/wrapped/{id}",
            get(|Path(id): Path<String>, headers: HeaderMap| async move {
                let seen = headers.get("traceparent").and_then(|v| v.to_str().ok()).map(str::to_owned);
                axum::Json(json!({ "message": "ok", "data": { "id": id, "traceparent": seen } }))
            }),
        )
        .route("/api/demo/boom", get(|| async { ApiError::internal("boom") }));
    api.merge(health_router("demo", "0.0.0", vec![], metrics.clone()))
}

async fn serve(router: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        axum::serve(listener, router.into_make_service_with_connect_info::<std::net::SocketAddr>()).await.unwrap();
    });
    base
}

/// The service with its own exporter, sending to `collector` every 50 ms.
async fn traced_service(collector: &Collector, tweak: impl FnOnce(&mut TraceSettings)) -> (String, Tracer) {
    let mut settings = TraceSettings::new(&collector.endpoint(), "demo-service");
    settings.flush_interval = Duration::from_millis(50);
    tweak(&mut settings);
    let tracer = Tracer::start(settings).unwrap();
    let metrics = Arc::new(Metrics::new());
    let router = finish_traced(routes(&metrics), metrics, 1 << 20, TrustedProxies::default(), Some(tracer.clone()));
    (serve(router).await, tracer)
}

async fn fetch(url: &str, headers: &[(&str, &str)]) -> reqwest::Response {
    let mut request = reqwest::Client::new().get(url);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.send().await.unwrap()
}

fn traceparent_of(response: &reqwest::Response) -> TraceParent {
    let header = response.headers().get("traceparent").expect("response carries traceparent");
    TraceParent::parse(header.to_str().unwrap()).expect("well-formed traceparent")
}

fn nanos(span: &Value, field: &str) -> u128 {
    span[field].as_str().unwrap_or_else(|| panic!("{field} is a string: {span}")).parse().unwrap()
}

#[tokio::test]
async fn one_server_span_per_request_continuing_the_callers_trace() {
    let collector = Collector::start().await;
    let (base, tracer) = traced_service(&collector, |_| {}).await;
    let before = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_nanos();

    // A caller with a trace: the span continues it, and the handler and the response see the span.
    let r = fetch(&format!("{base}/api/demo/items/42"), &[("traceparent", TRACE), ("x-request-id", "req-1")]).await;
    assert_eq!(r.status(), 200);
    let answered = traceparent_of(&r);
    let incoming = TraceParent::parse(TRACE).unwrap();
    assert_eq!(answered.trace_id, incoming.trace_id);
    assert_ne!(answered.parent_id, incoming.parent_id, "the response names the service's own span");
    assert!(answered.sampled());
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["traceparent"], format!("00-{:032x}-{:016x}-01", answered.trace_id, answered.parent_id));

    // No trace from the caller: a new one. A 5xx is an error span.
    let r = fetch(&format!("{base}/api/demo/boom"), &[]).await;
    assert_eq!(r.status(), 500);
    let fresh = traceparent_of(&r);
    assert_ne!(fresh.trace_id, incoming.trace_id);

    // Probes are not traced.
    let r = fetch(&format!("{base}/health"), &[]).await;
    assert_eq!(r.status(), 200);
    assert!(r.headers().get("traceparent").is_none());

    let spans = collector.wait_for(2).await;
    assert!(tracer.flush(Duration::from_secs(5)).await);
    let spans_after_flush = collector.spans();
    assert_eq!(spans_after_flush.len(), 2, "exactly one span per traced request: {spans_after_flush:#?}");
    assert!(collector.content_types().iter().all(|c| c == "application/x-protobuf"), "{:?}", collector.content_types());
    assert!(collector.services().iter().all(|s| s == "demo-service"));

    let ok = spans.iter().find(|s| s["name"] == "GET /api/demo/items/{id}").expect("span of the 200");
    assert_eq!(ok["traceId"], "4bf92f3577b34da6a3ce929d0e0e4736");
    assert_eq!(ok["parentSpanId"], "00f067aa0ba902b7");
    assert_eq!(ok["spanId"], format!("{:016x}", answered.parent_id));
    assert_eq!(ok["kind"], 2);
    assert_eq!(attr(ok, "http.request.method"), json!({ "stringValue": "GET" }));
    assert_eq!(attr(ok, "http.route"), json!({ "stringValue": "/api/demo/items/{id}" }));
    assert_eq!(attr(ok, "url.path"), json!({ "stringValue": "/api/demo/items/42" }));
    assert_eq!(attr(ok, "http.response.status_code"), json!({ "intValue": "200" }));
    assert_eq!(
        attr(ok, "http.request.header.x-request-id"),
        json!({ "arrayValue": { "values": [{ "stringValue": "req-1" }] } })
    );
    assert!(ok.get("status").is_none(), "a 200 leaves the status unset: {ok}");
    let (start, end) = (nanos(ok, "startTimeUnixNano"), nanos(ok, "endTimeUnixNano"));
    assert!(before <= start && start <= end, "{before} <= {start} <= {end}");
    assert!(end - start < 10_000_000_000, "span of a quick request lasts less than 10 s");

    let failed = spans.iter().find(|s| s["name"] == "GET /api/demo/boom").expect("span of the 500");
    assert_eq!(failed["traceId"], format!("{:032x}", fresh.trace_id));
    assert_eq!(failed["spanId"], format!("{:016x}", fresh.parent_id));
    assert!(failed.get("parentSpanId").is_none(), "a new trace has a root span: {failed}");
    assert_eq!(attr(failed, "http.response.status_code"), json!({ "intValue": "500" }));
    assert_eq!(failed["status"]["code"], 2);
    assert_eq!(tracer.exported(), 2);
    assert_eq!(tracer.dropped(), 0);
}

#[tokio::test]
async fn unsampled_traces_are_propagated_but_not_exported() {
    let collector = Collector::start().await;
    let (base, tracer) = traced_service(&collector, |_| {}).await;
    let unsampled = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00";
    let r = fetch(&format!("{base}/api/demo/items/1"), &[("traceparent", unsampled)]).await;
    assert_eq!(r.status(), 200);
    let answered = traceparent_of(&r);
    assert_eq!(answered.trace_id, 0x4bf92f3577b34da6a3ce929d0e0e4736);
    assert!(!answered.sampled());
    assert!(tracer.flush(Duration::from_secs(5)).await);
    assert_eq!(collector.posts(), 0);
}

#[tokio::test]
async fn export_retries_a_collector_that_is_briefly_unavailable() {
    let collector = Collector::start().await;
    collector.fail_next(2);
    let (base, tracer) = traced_service(&collector, |s| s.retries = 2).await;
    let r = fetch(&format!("{base}/api/demo/items/7"), &[]).await;
    assert_eq!(r.status(), 200);
    let spans = collector.wait_for(1).await;
    assert_eq!(spans.len(), 1);
    assert_eq!(collector.attempts(), 3, "two 503s, then accepted");
    assert_eq!(tracer.exported(), 1);
    assert_eq!(tracer.failed(), 0);
}

#[tokio::test]
async fn a_dead_collector_loses_spans_not_requests() {
    // Nothing listens there: every export fails, every request is still answered.
    let dead = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = format!("http://{}", dead.local_addr().unwrap());
    drop(dead);
    let mut settings = TraceSettings::new(&endpoint, "demo-service");
    settings.flush_interval = Duration::from_millis(20);
    settings.retries = 0;
    let tracer = Tracer::start(settings).unwrap();
    let metrics = Arc::new(Metrics::new());
    let router = finish_traced(routes(&metrics), metrics, 1 << 20, TrustedProxies::default(), Some(tracer.clone()));
    let base = serve(router).await;
    for i in 0..20 {
        let r = fetch(&format!("{base}/api/demo/items/{i}"), &[]).await;
        assert_eq!(r.status(), 200);
    }
    assert!(tracer.flush(Duration::from_secs(5)).await);
    assert_eq!(tracer.exported(), 0);
    assert_eq!(tracer.failed() + tracer.dropped(), 20);
}

/// The process-wide exporter follows the `OTEL_*` variables (read through a lookup here, as
/// `telemetry::init` reads the environment): without an endpoint nothing is started and `finish`
/// adds no tracing at all; with one, `telemetry::init_with` installs the subscriber with its
/// OpenTelemetry layer and `finish` exports under `OTEL_SERVICE_NAME`, with the configured headers
/// and resource attributes. The only test that installs the process-wide subscriber.
#[tokio::test]
async fn the_environment_decides_whether_anything_is_exported() {
    let collector = Collector::start().await;
    let endpoint = collector.endpoint();

    let unset = |name: &str| (name == "OTEL_SERVICE_NAME").then(|| "named-but-off".to_owned());
    assert!(TraceSettings::from_lookup("demo", unset).unwrap().is_none());
    assert!(otlp::global().is_none());
    let metrics = Arc::new(Metrics::new());
    let base = serve(finish(routes(&metrics), metrics, 1 << 20, TrustedProxies::default())).await;
    let r = fetch(&format!("{base}/api/demo/items/1"), &[("traceparent", TRACE)]).await;
    assert_eq!(r.status(), 200);
    assert!(r.headers().get("traceparent").is_none(), "no tracing layer without an endpoint");
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["traceparent"], TRACE, "the caller's header reaches the handler untouched");
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(collector.posts(), 0);

    let set = |name: &str| match name {
        "OTEL_EXPORTER_OTLP_ENDPOINT" => Some(endpoint.clone()),
        "OTEL_SERVICE_NAME" => Some("demo-from-env".to_owned()),
        "OTEL_EXPORTER_OTLP_HEADERS" => Some("x-collector-token=s3cret%21".to_owned()),
        "OTEL_RESOURCE_ATTRIBUTES" => Some("deployment.environment=test".to_owned()),
        _ => None,
    };
    let tracer = crm_common::telemetry::init_with("demo", set).expect("exporter started");
    assert!(otlp::global().is_some());
    let metrics = Arc::new(Metrics::new());
    let base = serve(finish(routes(&metrics), metrics, 1 << 20, TrustedProxies::default())).await;
    let r = fetch(&format!("{base}/api/demo/items/2"), &[("traceparent", TRACE)]).await;
    assert_eq!(traceparent_of(&r).trace_id, 0x4bf92f3577b34da6a3ce929d0e0e4736);
    assert!(tracer.flush(Duration::from_secs(5)).await);
    let spans = collector.spans();
    assert_eq!(spans.len(), 1, "{spans:#?}");
    assert_eq!(attr(&spans[0], "url.path"), json!({ "stringValue": "/api/demo/items/2" }));
    assert_eq!(spans[0]["parentSpanId"], "00f067aa0ba902b7");
    assert_eq!(collector.services(), vec!["demo-from-env".to_owned()]);
    let headers = collector.headers();
    assert!(!headers.is_empty());
    assert!(headers.iter().all(|h| h.get("x-collector-token").is_some_and(|v| v == "s3cret!")), "{headers:?}");
    let requests = collector.metrics(otlp::REQUEST_DURATION);
    assert!(requests.iter().any(|(service, _)| service == "demo-from-env"), "metrics exported: {requests:?}");
}

/// A service that asks a peer while serving a request: the peer's server span is the child of
/// the calling service's client span, itself the child of its server span — one trace.
#[tokio::test]
async fn calls_to_a_peer_are_spans_of_the_same_trace() {
    let collector = Collector::start().await;
    let (peer, peer_tracer) = traced_service(&collector, |_| {}).await;
    let mut settings = TraceSettings::new(&collector.endpoint(), "caller");
    settings.flush_interval = Duration::from_millis(50);
    let tracer = Tracer::start(settings).unwrap();
    let client = PeerClient::new("demo", &peer, PeerTimeouts::default()).unwrap();
    let api = Router::new().route(
        "/api/caller/items/{id}",
        get(move |Path(id): Path<String>, forward: Forward| {
            let client = client.clone();
            async move {
                let item: Value = client.get(&format!("/api/demo/wrapped/{id}"), &forward).await?;
                Ok::<_, ApiError>(axum::Json(json!({ "peer": item })))
            }
        }),
    );
    let metrics = Arc::new(Metrics::new());
    let base = serve(finish_traced(api, metrics, 1 << 20, TrustedProxies::default(), Some(tracer.clone()))).await;

    let r = fetch(&format!("{base}/api/caller/items/5"), &[("traceparent", TRACE)]).await;
    assert_eq!(r.status(), 200);
    let answered = traceparent_of(&r);
    let body: Value = r.json().await.unwrap();
    let seen_by_peer = TraceParent::parse(body["peer"]["traceparent"].as_str().unwrap()).unwrap();
    assert_eq!(seen_by_peer.trace_id, answered.trace_id);

    collector.wait_for(3).await;
    assert!(tracer.flush(Duration::from_secs(5)).await);
    assert!(peer_tracer.flush(Duration::from_secs(5)).await);
    let spans = collector.spans();
    assert_eq!(spans.len(), 3, "{spans:#?}");
    assert!(spans.iter().all(|s| s["traceId"] == "4bf92f3577b34da6a3ce929d0e0e4736"), "one trace: {spans:#?}");
    let server = spans.iter().find(|s| s["name"] == "GET /api/caller/items/{id}").unwrap();
    let call = spans.iter().find(|s| s["name"] == "GET demo").expect("client span of the call");
    let peer_server = spans.iter().find(|s| s["name"] == "GET /api/demo/wrapped/{id}").unwrap();
    assert_eq!(server["parentSpanId"], "00f067aa0ba902b7");
    assert_eq!(server["spanId"], format!("{:016x}", answered.parent_id));
    assert_eq!(call["kind"], 3, "a client span");
    assert_eq!(call["parentSpanId"], server["spanId"]);
    assert_eq!(attr(call, "peer.service"), json!({ "stringValue": "demo" }));
    assert_eq!(attr(call, "http.response.status_code"), json!({ "intValue": "200" }));
    assert_eq!(peer_server["parentSpanId"], call["spanId"]);
    assert_eq!(peer_server["spanId"], format!("{:016x}", seen_by_peer.parent_id));
}

/// Request counts and durations go to the collector as the `http.server.request.duration`
/// histogram, while `/metrics` keeps its text.
#[tokio::test]
async fn request_metrics_are_exported_beside_the_prometheus_text() {
    let collector = Collector::start().await;
    let mut settings = TraceSettings::new(&collector.endpoint(), "metered");
    settings.url = None;
    let tracer = Tracer::start(settings).unwrap();
    assert!(!tracer.traces());
    let metrics = Arc::new(Metrics::new());
    let router =
        finish_traced(routes(&metrics), metrics.clone(), 1 << 20, TrustedProxies::default(), Some(tracer.clone()));
    let base = serve(router).await;
    for i in 0..3 {
        assert_eq!(fetch(&format!("{base}/api/demo/items/{i}"), &[]).await.status(), 200);
    }
    let r = fetch(&format!("{base}/api/demo/items/1"), &[("traceparent", TRACE)]).await;
    assert!(r.headers().get("traceparent").is_none(), "metrics only: no server spans");
    assert_eq!(fetch(&format!("{base}/api/demo/boom"), &[]).await.status(), 500);
    assert!(tracer.flush(Duration::from_secs(5)).await);

    let exported = collector.metrics(otlp::REQUEST_DURATION);
    let (service, metric) = exported.last().expect("the histogram was exported");
    assert_eq!(service, "metered");
    assert_eq!(metric.unit, "s");
    let points = histogram_points(metric);
    let count = |route: &str, status: &str| {
        points
            .iter()
            .find(|p| {
                attr(p, "http.route") == json!({ "stringValue": route })
                    && attr(p, "http.response.status_code") == json!({ "intValue": status })
                    && attr(p, "http.request.method") == json!({ "stringValue": "GET" })
            })
            .map(|p| p["count"].as_u64().unwrap())
    };
    assert_eq!(count("/api/demo/items/{id}", "200"), Some(4), "{points:#?}");
    assert_eq!(count("/api/demo/boom", "500"), Some(1), "{points:#?}");
    assert_eq!(collector.posts(), 0, "no traces were asked for");
    let text = metrics.render();
    assert!(
        text.contains(r#"http_requests_total{route="/api/demo/items/{id}",method="GET",status="200"} 4"#),
        "{text}"
    );
}
