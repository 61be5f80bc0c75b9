//! Test support: a stand-in for an OpenTelemetry collector's OTLP/HTTP receiver. It records every
//! `POST /v1/traces` body and can answer 503 a given number of times first. Shared by the test
//! binaries of crm-common and the gateway (which cannot use the `testing` feature: it brings
//! sea-orm along).
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
use serde_json::{Value, json};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[derive(Default)]
struct Received {
    bodies: Mutex<Vec<Value>>,
    content_types: Mutex<Vec<String>>,
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
        let app = Router::new().route("/v1/traces", post(receive)).with_state(received.clone());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Self { port, received }
    }

    /// What `OTEL_EXPORTER_OTLP_ENDPOINT` would be set to.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Answer the next `n` posts with 503 (without recording them).
    pub fn fail_next(&self, n: usize) {
        self.received.fail_next.store(n, Ordering::SeqCst);
    }

    /// Accepted posts.
    pub fn posts(&self) -> usize {
        self.received.bodies.lock().unwrap().len()
    }

    /// Every post, refused ones included.
    pub fn attempts(&self) -> usize {
        self.received.attempts.load(Ordering::SeqCst)
    }

    pub fn content_types(&self) -> Vec<String> {
        self.received.content_types.lock().unwrap().clone()
    }

    /// Every span of every accepted post.
    pub fn spans(&self) -> Vec<Value> {
        let bodies = self.received.bodies.lock().unwrap();
        let mut spans = Vec::new();
        for body in bodies.iter() {
            for resource in body["resourceSpans"].as_array().expect("resourceSpans") {
                for scope in resource["scopeSpans"].as_array().expect("scopeSpans") {
                    assert_eq!(scope["scope"]["name"], "bantu-crm");
                    spans.extend(scope["spans"].as_array().expect("spans").iter().cloned());
                }
            }
        }
        spans
    }

    /// The `service.name` of every resource received.
    pub fn services(&self) -> Vec<String> {
        let bodies = self.received.bodies.lock().unwrap();
        let mut names = Vec::new();
        for body in bodies.iter() {
            for resource in body["resourceSpans"].as_array().expect("resourceSpans") {
                let name = attr(&resource["resource"], "service.name");
                names.push(name["stringValue"].as_str().expect("service.name is a string").to_owned());
            }
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
}

/// The value of attribute `key` of a span or resource (`Null` when absent).
pub fn attr(holder: &Value, key: &str) -> Value {
    holder["attributes"]
        .as_array()
        .and_then(|attrs| attrs.iter().find(|a| a["key"] == key))
        .map(|a| a["value"].clone())
        .unwrap_or(Value::Null)
}

async fn receive(State(received): State<Arc<Received>>, headers: HeaderMap, body: Bytes) -> (StatusCode, String) {
    received.attempts.fetch_add(1, Ordering::SeqCst);
    let refuse = received.fail_next.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1)).is_ok();
    if refuse {
        return (StatusCode::SERVICE_UNAVAILABLE, String::new());
    }
    let content_type = headers.get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default();
    received.content_types.lock().unwrap().push(content_type.to_owned());
    let body: Value = serde_json::from_slice(&body).expect("OTLP/JSON body");
    received.bodies.lock().unwrap().push(body);
    (StatusCode::OK, json!({}).to_string())
}
