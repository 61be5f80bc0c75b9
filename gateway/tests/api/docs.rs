//! The gateway's API documentation: `/openapi.json` merges the services' documents (real
//! foundation, a second service serving its own, services that are down), and `/docs` is a page
//! with everything it needs inside the binary.

use crate::helpers::{TestGateway, spawn_foundation};
use crate::upstream::{dead_port, hanging};
use http::{Request, Response};
use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use tokio::net::TcpListener;

/// A service that serves `doc` at `/api/<name>/openapi.json` and counts those requests.
struct DocService {
    port: u16,
    fetches: Arc<AtomicUsize>,
}

async fn doc_service(name: &str, doc: Value) -> DocService {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let fetches = Arc::new(AtomicUsize::new(0));
    let (counter, path, body) = (fetches.clone(), format!("/api/{name}/openapi.json"), doc.to_string());
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let (counter, path, body) = (counter.clone(), path.clone(), body.clone());
            let service = service_fn(move |req: Request<Incoming>| {
                let found = req.uri().path() == path;
                if found {
                    counter.fetch_add(1, Ordering::SeqCst);
                }
                let mut response =
                    Response::new(Full::new(Bytes::from(if found { body.clone() } else { "{}".into() })));
                if !found {
                    *response.status_mut() = http::StatusCode::NOT_FOUND;
                }
                async move { Ok::<_, std::convert::Infallible>(response) }
            });
            tokio::spawn(hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(stream), service));
        }
    });
    DocService { port, fetches }
}

/// Every `$ref` under `node` points at something in `root`.
fn assert_references_resolve(root: &Value, node: &Value) {
    match node {
        Value::Object(map) => {
            if let Some(Value::String(reference)) = map.get("$ref") {
                let target = root.pointer(reference.trim_start_matches('#'));
                assert!(target.is_some(), "{reference} is a reference without a target");
            }
            map.values().for_each(|v| assert_references_resolve(root, v));
        }
        Value::Array(items) => items.iter().for_each(|v| assert_references_resolve(root, v)),
        _ => {}
    }
}

#[tokio::test]
async fn openapi_json_merges_every_service_without_a_token() {
    let foundation = spawn_foundation().await;
    let client = crate::client::Client::plain(foundation.port);
    let own = client.get("/api/foundation/openapi.json", None).await.json();
    // A second service: its own `UserView` (foundation has a different one) and the same
    // `FieldError` as foundation's.
    let orders = doc_service(
        "order-workflow",
        json!({
            "openapi": "3.1.0",
            "info": {"title": "order-workflow", "version": "0.3.0"},
            "tags": [{"name": "orders", "description": "Orders"}],
            "paths": {"/api/order-workflow/orders": {"get": {
                "tags": ["orders"],
                "summary": "List orders",
                "operationId": "orders.list",
                "responses": {"200": {"description": "The buyers",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/UserView"}}}}},
            }}},
            "components": {"schemas": {
                "UserView": {"type": "object", "properties": {"buyer": {"type": "string"}}},
                "FieldError": own["components"]["schemas"]["FieldError"],
            }},
        }),
    )
    .await;
    let dead = dead_port().await;
    let stuck = hanging().await;
    let gw = TestGateway::spawn(
        &[
            ("foundation", format!("http://127.0.0.1:{}", foundation.port)),
            ("order-workflow", format!("http://127.0.0.1:{}", orders.port)),
            ("reporting", format!("http://127.0.0.1:{dead}")),
            ("analytics-monitoring", format!("http://127.0.0.1:{}", stuck.port)),
        ],
        |c| c.health_deadline = Duration::from_millis(500),
    )
    .await;

    let started = Instant::now();
    let r = gw.client.get("/openapi.json", None).await;
    let took = started.elapsed();
    assert!(took < Duration::from_millis(1500), "bounded by the 500 ms deadline, not the hanging service: {took:?}");
    assert_eq!(r.status.as_u16(), 200, "{}", String::from_utf8_lossy(&r.body));
    assert!(r.header("content-type").is_some_and(|c| c.starts_with("application/json")));
    let doc = r.json();
    assert!(doc["openapi"].as_str().is_some_and(|v| v.starts_with("3.1")));
    assert_eq!(doc["x-unavailable-services"], json!(["analytics-monitoring", "reporting"]));
    assert!(stuck.connections.load(Ordering::SeqCst) >= 1, "the hanging service was asked");

    // Both services' paths, foundation's all of them.
    let paths = doc["paths"].as_object().unwrap();
    assert!(paths.contains_key("/api/order-workflow/orders"));
    for path in own["paths"].as_object().unwrap().keys() {
        assert!(paths.contains_key(path), "{path} missing from the merged document");
    }

    // The clashing name is prefixed for both services and every reference follows it.
    let schemas = doc["components"]["schemas"].as_object().unwrap();
    assert!(schemas.contains_key("foundation.UserView") && schemas.contains_key("order-workflow.UserView"));
    assert!(!schemas.contains_key("UserView"));
    assert_eq!(schemas["order-workflow.UserView"]["properties"]["buyer"]["type"], "string");
    let orders_schema = &paths["/api/order-workflow/orders"]["get"]["responses"]["200"]["content"]["application/json"];
    assert_eq!(orders_schema["schema"]["$ref"], "#/components/schemas/order-workflow.UserView");
    assert_eq!(schemas["Envelope_UserView"]["properties"]["data"]["$ref"], "#/components/schemas/foundation.UserView");
    // A name both define the same way stays as it is.
    assert!(schemas.contains_key("FieldError") && !schemas.contains_key("order-workflow.FieldError"));
    assert!(doc["components"]["securitySchemes"]["bearer"].is_object());
    assert_references_resolve(&doc, &doc);

    // A reload soon after is answered from the kept document.
    let again = gw.client.get("/openapi.json", None).await;
    assert_eq!(again.status.as_u16(), 200);
    assert_eq!(again.json(), doc);
    assert_eq!(orders.fetches.load(Ordering::SeqCst), 1, "the second request did not ask the services again");
}

#[tokio::test]
async fn docs_page_is_served_without_a_token_and_self_contained() {
    let gw = TestGateway::spawn(&[], |_| {}).await;
    for (path, content_type) in [
        ("/docs", "text/html"),
        ("/docs/", "text/html"),
        ("/docs/app.js", "text/javascript"),
        ("/docs/app.css", "text/css"),
    ] {
        let r = gw.client.get(path, None).await;
        assert_eq!(r.status.as_u16(), 200, "{path}");
        assert!(r.header("content-type").is_some_and(|c| c.starts_with(content_type)), "{path}: {:?}", r.headers);
        let csp = r.header("content-security-policy").unwrap_or_default();
        for directive in ["default-src 'none'", "script-src 'self'", "style-src 'self'", "connect-src 'self'"] {
            assert!(csp.contains(directive), "{path}: CSP {csp:?} lacks {directive}");
        }
        assert!(!csp.contains("unsafe-inline") && !csp.contains("http"), "{path}: CSP {csp:?}");
        let body = String::from_utf8_lossy(&r.body);
        assert!(!body.contains("http://") && !body.contains("https://"), "{path} refers to another origin");
    }
    let page = gw.client.get("/docs", None).await;
    let html = String::from_utf8_lossy(&page.body);
    assert!(html.contains(r#"<script src="/docs/app.js""#) && html.contains(r#"href="/docs/app.css""#));
    assert!(String::from_utf8_lossy(&gw.client.get("/docs/app.js", None).await.body).contains("/openapi.json"));

    // With no service configured the document is still a valid, empty one; unknown files are not served.
    let doc = gw.client.get("/openapi.json", None).await.json();
    assert_eq!(doc["paths"], json!({}));
    assert_eq!(doc["x-unavailable-services"], json!([]));
    assert_ne!(gw.client.get("/docs/other.js", None).await.status.as_u16(), 200);
}
