//! Traces through the gateway: its server span continues the caller's trace, and the request goes
//! upstream with that span as the parent — checked against services built with crm-common's
//! layers (one of which calls another), all exporting to one in-test OTLP/HTTP collector.

use crate::helpers::TestGateway;
use axum::Router;
use axum::extract::Path;
use axum::routing::get;
use crm_common::ApiError;
use crm_common::http::peer::{Forward, PeerClient, PeerTimeouts};
use crm_common::http::{Metrics, TrustedProxies, finish_traced};
use crm_common::otlp_collector::{Collector, attr};
use crm_common::telemetry::otlp::{TraceParent, TraceSettings, Tracer};
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;

const TRACE: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

fn tracer(collector: &Collector, service: &str) -> Tracer {
    let mut settings = TraceSettings::new(&collector.endpoint(), service);
    settings.flush_interval = Duration::from_millis(50);
    Tracer::start(settings).unwrap()
}

/// A service wrapped in crm-common's layers with its own exporter.
async fn demo_service(tracer: Tracer) -> String {
    let api = Router::new()
        .route("/api/demo/items/{id}", get(|Path(id): Path<String>| async move { axum::Json(json!({ "id": id })) }))
        .route("/api/demo/boom", get(|| async { ApiError::internal("boom") }));
    serve_traced(api, tracer).await
}

/// A service that asks `peer` for the customer of an order, as order-workflow asks foundation.
async fn orders_service(tracer: Tracer, peer: &str) -> String {
    let client = PeerClient::new("customers", peer, PeerTimeouts::default()).unwrap();
    let api = Router::new().route(
        "/api/orders/{id}",
        get(move |Path(id): Path<String>, forward: Forward| {
            let client = client.clone();
            async move {
                let customer: Value = client.get("/api/customers/c-1", &forward).await?;
                Ok::<_, ApiError>(axum::Json(json!({ "id": id, "customer": customer })))
            }
        }),
    );
    serve_traced(api, tracer).await
}

/// The peer: answers in the envelope services answer each other with.
async fn customers_service(tracer: Tracer) -> String {
    let api = Router::new().route(
        "/api/customers/{id}",
        get(|Path(id): Path<String>| async move { axum::Json(json!({ "message": "ok", "data": { "id": id } })) }),
    );
    serve_traced(api, tracer).await
}

async fn serve_traced(api: Router, tracer: Tracer) -> String {
    let metrics = Arc::new(Metrics::new());
    let router = finish_traced(api, metrics, 1 << 20, TrustedProxies::default(), Some(tracer));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        axum::serve(listener, router.into_make_service_with_connect_info::<std::net::SocketAddr>()).await.unwrap();
    });
    url
}

fn span_of<'a>(spans: &'a [Value], collector: &Collector, name: &str, trace_id: &str) -> &'a Value {
    spans
        .iter()
        .find(|s| s["name"] == name && s["traceId"] == trace_id)
        .unwrap_or_else(|| panic!("no span {name} in trace {trace_id}: {spans:#?} ({:?})", collector.services()))
}

#[tokio::test]
async fn gateway_span_continues_the_trace_and_parents_the_upstream_span() {
    let collector = Collector::start().await;
    let service = demo_service(tracer(&collector, "demo")).await;
    let gateway_tracer = tracer(&collector, "gateway");
    let t = gateway_tracer.clone();
    let gw = TestGateway::spawn(&[("demo", service)], move |c| c.traces = Some(t)).await;
    let bearer = format!("Bearer {}", gw.token());

    // The caller's trace: continued at the gateway, which reports its own span back.
    let r = gw
        .client
        .get_with("/api/demo/items/9", &[("authorization", &bearer), ("traceparent", TRACE), ("x-request-id", "gw-1")])
        .await;
    assert_eq!(r.status.as_u16(), 200, "{:?}", r.body);
    let answered = TraceParent::parse(r.header("traceparent").unwrap()).unwrap();
    assert_eq!(answered.trace_id, 0x4bf92f3577b34da6a3ce929d0e0e4736);
    assert_ne!(answered.parent_id, 0x00f067aa0ba902b7);

    // No trace from the caller, and the service fails: a new trace, error spans at both hops.
    let r = gw.client.get_with("/api/demo/boom", &[("authorization", &bearer)]).await;
    assert_eq!(r.status.as_u16(), 500);
    let fresh = TraceParent::parse(r.header("traceparent").unwrap()).unwrap();
    assert_ne!(fresh.trace_id, answered.trace_id);

    let spans = collector.wait_for(4).await;
    assert!(gateway_tracer.flush(Duration::from_secs(5)).await);
    assert_eq!(collector.spans().len(), 4, "one span per hop and request: {:#?}", collector.spans());
    assert_eq!(gateway_tracer.exported(), 2);
    assert!(collector.content_types().iter().all(|c| c == "application/x-protobuf"), "{:?}", collector.content_types());

    let trace = "4bf92f3577b34da6a3ce929d0e0e4736";
    let edge = span_of(&spans, &collector, "GET demo", trace);
    assert_eq!(edge["parentSpanId"], "00f067aa0ba902b7");
    assert_eq!(edge["spanId"], format!("{:016x}", answered.parent_id));
    assert_eq!(edge["kind"], 2);
    assert_eq!(attr(edge, "http.response.status_code"), json!({ "intValue": "200" }));
    assert_eq!(attr(edge, "url.path"), json!({ "stringValue": "/api/demo/items/9" }));
    assert_eq!(attr(edge, "http.route"), json!({ "stringValue": "demo" }));
    assert_eq!(
        attr(edge, "http.request.header.x-request-id"),
        json!({ "arrayValue": { "values": [{ "stringValue": "gw-1" }] } })
    );
    assert!(edge.get("status").is_none());
    let inner = span_of(&spans, &collector, "GET /api/demo/items/{id}", trace);
    assert_eq!(inner["parentSpanId"], edge["spanId"], "the service's span is the gateway span's child");

    let trace = format!("{:032x}", fresh.trace_id);
    let edge = span_of(&spans, &collector, "GET demo", &trace);
    assert!(edge.get("parentSpanId").is_none(), "the gateway starts the trace: {edge}");
    assert_eq!(edge["spanId"], format!("{:016x}", fresh.parent_id));
    assert_eq!(edge["status"]["code"], 2);
    assert_eq!(attr(edge, "http.response.status_code"), json!({ "intValue": "500" }));
    let inner = span_of(&spans, &collector, "GET /api/demo/boom", &trace);
    assert_eq!(inner["parentSpanId"], edge["spanId"]);
    assert_eq!(inner["status"]["code"], 2);

    let mut services = collector.services();
    services.sort();
    services.dedup();
    assert_eq!(services, vec!["demo".to_owned(), "gateway".to_owned()]);
}

/// One request through the gateway to a service that asks a peer: one trace, in which the
/// gateway's span parents the service's, whose client span parents the peer's.
#[tokio::test]
async fn a_request_through_gateway_service_and_peer_is_one_trace() {
    let collector = Collector::start().await;
    let customers = customers_service(tracer(&collector, "customers")).await;
    let orders = orders_service(tracer(&collector, "orders"), &customers).await;
    let gateway_tracer = tracer(&collector, "gateway");
    let t = gateway_tracer.clone();
    let gw = TestGateway::spawn(&[("orders", orders)], move |c| c.traces = Some(t)).await;
    let bearer = format!("Bearer {}", gw.token());

    let r = gw.client.get_with("/api/orders/o-7", &[("authorization", &bearer)]).await;
    assert_eq!(r.status.as_u16(), 200, "{:?}", r.body);
    assert_eq!(r.json()["customer"]["id"], "c-1");
    let answered = TraceParent::parse(r.header("traceparent").unwrap()).unwrap();
    let trace = format!("{:032x}", answered.trace_id);

    collector.wait_for(4).await;
    assert!(gateway_tracer.flush(Duration::from_secs(5)).await);
    let spans: Vec<Value> = collector.spans().into_iter().filter(|s| s["traceId"] == trace.as_str()).collect();
    assert_eq!(spans.len(), 4, "gateway, service, its call and the peer, all in one trace: {spans:#?}");
    let edge = span_of(&spans, &collector, "GET orders", &trace);
    let service = span_of(&spans, &collector, "GET /api/orders/{id}", &trace);
    let call = span_of(&spans, &collector, "GET customers", &trace);
    let peer = span_of(&spans, &collector, "GET /api/customers/{id}", &trace);
    assert!(edge.get("parentSpanId").is_none(), "the gateway starts the trace: {edge}");
    assert_eq!(edge["spanId"], format!("{:016x}", answered.parent_id));
    assert_eq!(service["parentSpanId"], edge["spanId"]);
    assert_eq!(call["parentSpanId"], service["spanId"]);
    assert_eq!(call["kind"], 3);
    assert_eq!(peer["parentSpanId"], call["spanId"]);
    assert_eq!(peer["kind"], 2);
    let mut services = collector.services();
    services.sort();
    services.dedup();
    assert_eq!(services, vec!["customers".to_owned(), "gateway".to_owned(), "orders".to_owned()]);
}
