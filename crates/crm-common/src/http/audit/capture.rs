//! The capture middleware: watches one request and turns it into an audit event.

use super::classify::{classify, is_export};
use super::redact::{BodySeen, redact, request_params};
use super::{AuditCapture, AuditSlot, CaptureConfig};
use crate::contracts::{AuditActor, AuditBefore, AuditEvent};
use crate::http::{REQUEST_ID_HEADER, client_ip};
use axum::Router;
use axum::body::{Body, HttpBody, to_bytes};
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, Method, header};
use axum::middleware::{Next, from_fn_with_state};
use axum::response::Response;
use chrono::Utc;
use futures_util::StreamExt;
use serde_json::Value;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// Responses read back for their error message, new record id or new values are at most this
/// large.
const RESPONSE_PEEK: u64 = 64 * 1024;
/// Old or new values larger than this (as JSON) are left out of the event.
const MAX_VALUES: usize = 16 * 1024;
const MAX_QUERY: usize = 4 * 1024;

/// Wraps every route (and the fallback) of `router` in audit capture. Call it on the router
/// returned by [`crate::http::finish`].
pub fn mount(router: Router, capture: AuditCapture) -> Router {
    router.layer(from_fn_with_state(capture, audit))
}

fn skipped(path: &str) -> bool {
    matches!(path, "/" | "/health" | "/ready" | "/metrics" | "/docs")
        || path.starts_with("/docs/")
        || path.ends_with("/openapi.json")
        || path.ends_with("/audit-logs/ingest")
}

fn recorded(c: &CaptureConfig, method: &Method, path: &str) -> bool {
    if skipped(path) {
        return false;
    }
    match *method {
        Method::POST | Method::PUT | Method::PATCH | Method::DELETE => true,
        Method::GET | Method::HEAD => c.record_reads || is_export(path),
        _ => false,
    }
}

#[derive(Default)]
struct Seen {
    prefix: Vec<u8>,
    total: usize,
}

/// Lets the body stream through to the handler while keeping its first `limit` bytes.
fn tee(req: Request, seen: Arc<Mutex<Seen>>, limit: usize) -> Request {
    let (parts, body) = req.into_parts();
    let stream = body.into_data_stream().map(move |chunk| {
        if let Ok(bytes) = &chunk
            && let Ok(mut s) = seen.lock()
        {
            s.total += bytes.len();
            let room = limit.saturating_sub(s.prefix.len()).min(bytes.len());
            s.prefix.extend_from_slice(&bytes[..room]);
        }
        chunk
    });
    Request::from_parts(parts, Body::from_stream(stream))
}

/// Reads a body of at most `limit` bytes whole and hands the request on with the same bytes.
async fn buffer(req: Request, seen: &Mutex<Seen>, limit: usize) -> Result<Request, Response> {
    use axum::response::IntoResponse;
    let (parts, body) = req.into_parts();
    let bytes = to_bytes(body, limit)
        .await
        .map_err(|_| crate::ApiError::bad_request("could not read the request body").into_response())?;
    if let Ok(mut s) = seen.lock() {
        s.total = bytes.len();
        s.prefix = bytes.to_vec();
    }
    Ok(Request::from_parts(parts, Body::from(bytes)))
}

/// Reads a small JSON response back (for its message or new id) and rebuilds it unchanged.
async fn peek_json(response: Response) -> (Response, Option<Value>) {
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    let small = response.body().size_hint().exact().is_some_and(|n| n <= RESPONSE_PEEK);
    if !(is_json && small) {
        return (response, None);
    }
    let (parts, body) = response.into_parts();
    match to_bytes(body, RESPONSE_PEEK as usize).await {
        Ok(bytes) => {
            let json = serde_json::from_slice(&bytes).ok();
            (Response::from_parts(parts, Body::from(bytes)), json)
        }
        Err(e) => {
            tracing::warn!(error = %e, "could not read a response back for the audit log");
            (Response::from_parts(parts, Body::empty()), None)
        }
    }
}

fn header_text(headers: &HeaderMap, name: &str, max: usize) -> Option<String> {
    let v = headers.get(name)?.to_str().ok()?;
    Some(v.chars().take(max).collect())
}

async fn audit(State(capture): State<AuditCapture>, mut req: Request, next: Next) -> Response {
    let c = &*capture.0;
    let method = req.method().clone();
    // An event keeps no secret of the path (a temporary link's token) either.
    let path = crate::http::secret_path::loggable(req.uri().path()).into_owned();
    if !recorded(c, &method, &path) {
        return next.run(req).await;
    }
    let started = Instant::now();
    let occurred_at = Utc::now();
    let slot = AuditSlot::default();
    req.extensions_mut().insert(slot.clone());
    let ip = client_ip(req.headers(), req.extensions().get::<ConnectInfo<SocketAddr>>(), &c.trusted_proxies);
    let user_agent = header_text(req.headers(), header::USER_AGENT.as_str(), 512);
    let sent_request_id = header_text(req.headers(), REQUEST_ID_HEADER, 128);
    let query = req.uri().query().map(str::to_owned);
    let content_type = header_text(req.headers(), header::CONTENT_TYPE.as_str(), 200);
    let declared_len: Option<usize> =
        header_text(req.headers(), header::CONTENT_LENGTH.as_str(), 20).and_then(|v| v.parse().ok());
    let seen = Arc::new(Mutex::new(Seen::default()));
    let response = if matches!(method, Method::GET | Method::HEAD) {
        next.run(req).await
    } else if declared_len.is_some_and(|n| n <= c.max_params_bytes) {
        // Small bodies are read up front, so they are kept even when the handler ignores them.
        match buffer(req, &seen, c.max_params_bytes).await {
            Ok(req) => next.run(req).await,
            Err(refused) => refused,
        }
    } else {
        next.run(tee(req, seen.clone(), c.max_params_bytes)).await
    };

    let status = response.status();
    let failed = status.as_u16() >= 400;
    let classified = classify(&method, &path);
    let writes = matches!(method, Method::POST | Method::PUT | Method::PATCH);
    let needs_body = failed || writes;
    let (mut response, body) = if needs_body { peek_json(response).await } else { (response, None) };
    // A refused request whose body was left unread (413) must not be followed by another request
    // on the same connection: say so, rather than leave it to a race in the client's pool.
    let unread = declared_len.is_some_and(|n| seen.lock().is_ok_and(|s| s.total < n));
    if failed && unread {
        response.headers_mut().insert(header::CONNECTION, axum::http::HeaderValue::from_static("close"));
    }
    let actor = response.extensions().get::<AuditActor>().cloned().or_else(|| slot.get()).unwrap_or_default();
    let request_params = match seen.lock() {
        Ok(s) => request_params(
            query.as_deref(),
            &BodySeen { content_type: content_type.as_deref(), prefix: &s.prefix, total: s.total },
            MAX_QUERY,
        ),
        Err(_) => None,
    };
    let is_auth = classified.category == "authentication";
    // A failed login has no principal: keep the identifier it was attempted with.
    let user_name = actor.user_name.clone().or_else(|| {
        let b = request_params.as_ref().filter(|_| is_auth)?.get("body")?;
        b.get("email").or_else(|| b.get("username"))?.as_str().map(|s| s.chars().take(255).collect())
    });
    let new_id = || {
        let data = body.as_ref().filter(|_| !failed)?.get("data")?;
        // Seed 002's upload answers `file_id`.
        let id = data.get("id").or_else(|| data.get("file_id"))?;
        id.as_str().map(str::to_owned).or_else(|| id.as_u64().map(|n| n.to_string()))
    };
    let resource_id =
        classified.resource_id.or_else(|| actor.user_id.filter(|_| is_auth).map(|u| u.to_string())).or_else(new_id);
    let error_message = body
        .as_ref()
        .filter(|_| failed)
        .and_then(|b| b.get("message")?.as_str().map(|m| m.chars().take(1000).collect()))
        .or_else(|| failed.then(|| status.canonical_reason().unwrap_or("failed").to_owned()));
    let request_id = header_text(response.headers(), REQUEST_ID_HEADER, 128).or(sent_request_id);
    // Taken out, not copied: the earlier state is for the event only, not for the client.
    let old_values = response.extensions_mut().remove::<AuditBefore>().and_then(|b| values(b.0));
    // A login's or refresh's answer is a session, and an export's is a file of other records:
    // neither is a resource's new state.
    let new_values = body
        .filter(|_| writes && !failed && !is_auth && !is_export(&path))
        .and_then(|mut b| values(b.get_mut("data")?.take()));
    let event = AuditEvent {
        id: uuid::Uuid::now_v7(),
        occurred_at,
        service: c.service.clone(),
        organization_id: actor.organization_id,
        user_id: actor.user_id,
        user_name,
        action: classified.action,
        category: classified.category,
        resource_type: classified.resource_type,
        resource_id,
        method: method.as_str().to_owned(),
        path: path.chars().take(1000).collect(),
        status: if failed { "failed" } else { "success" }.to_owned(),
        status_code: status.as_u16(),
        error_message,
        ip_address: ip.map(|i| i.to_string()),
        user_agent,
        duration_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
        request_id,
        request_params,
        old_values,
        new_values,
    };
    c.sink.record(event).await;
    response
}

/// A resource's values as the audit log keeps them: secrets redacted, nothing for `null` or for
/// more than [`MAX_VALUES`] bytes of JSON.
fn values(mut value: Value) -> Option<Value> {
    if value.is_null() {
        return None;
    }
    redact(&mut value);
    let size = serde_json::to_vec(&value).map_or(usize::MAX, |v| v.len());
    (size <= MAX_VALUES).then_some(value)
}

#[cfg(test)]
mod tests {
    use super::super::{AuditSettings, AuditSink, SinkFuture};
    use super::*;
    use axum::routing::post;
    use std::path::Path;

    #[derive(Default)]
    struct Memory(Mutex<Vec<AuditEvent>>);

    #[test]
    fn values_are_redacted_and_bounded() {
        let kept = values(serde_json::json!({"name": "a", "password_hash": "h", "nested": [{"api_key": "k"}]}));
        assert_eq!(
            kept,
            Some(
                serde_json::json!({"name": "a", "password_hash": "[REDACTED]", "nested": [{"api_key": "[REDACTED]"}]})
            )
        );
        assert_eq!(values(Value::Null), None);
        assert_eq!(values(Value::String("x".repeat(MAX_VALUES))), None);
        assert!(values(Value::String("x".repeat(MAX_VALUES - 2))).is_some());
    }

    impl AuditSink for Memory {
        fn record(&self, event: AuditEvent) -> SinkFuture<'_> {
            Box::pin(async move { self.0.lock().unwrap().push(event) })
        }
    }

    async fn login(axum::Json(body): axum::Json<Value>) -> Response {
        use axum::response::IntoResponse;
        if body["password"] == "right1234" {
            let mut r = crate::api::ok(serde_json::json!({"token": "tok-abc"}));
            r.extensions_mut().insert(AuditActor {
                user_id: Some(uuid::Uuid::from_u128(7)),
                organization_id: Some(uuid::Uuid::from_u128(1)),
                user_name: Some("amy".into()),
            });
            r
        } else {
            crate::ApiError::unauthorized("invalid email or password").into_response()
        }
    }

    async fn run(router: Router, req: Request) -> Vec<AuditEvent> {
        run_with(router, req, false).await
    }

    async fn run_with(router: Router, req: Request, record_reads: bool) -> Vec<AuditEvent> {
        use tower::ServiceExt;
        let sink = Arc::new(Memory::default());
        let mut settings = AuditSettings::from_env("demo", Path::new("/tmp")).unwrap();
        settings.record_reads = record_reads;
        let app = mount(router, AuditCapture::with_sink("demo", &settings, Default::default(), sink.clone()));
        let response = app.oneshot(req).await.unwrap();
        let _ = to_bytes(response.into_body(), usize::MAX).await.unwrap();
        sink.0.lock().unwrap().clone()
    }

    fn json_post(path: &str, body: Value) -> Request {
        Request::builder()
            .method("POST")
            .uri(path)
            .header("content-type", "application/json")
            .header("user-agent", "tester/1")
            .body(Body::from(body.to_string()))
            .unwrap()
    }

    #[tokio::test]
    async fn logins_are_recorded_with_the_user_or_the_attempted_identifier() {
        let router = Router::new().route("/api/demo/auth/login", post(login));
        let ok = run(
            router.clone(),
            json_post("/api/demo/auth/login", serde_json::json!({"email": "amy@x.co", "password": "right1234"})),
        )
        .await;
        assert_eq!(ok.len(), 1);
        let e = &ok[0];
        assert_eq!((e.action.as_str(), e.status.as_str(), e.category.as_str()), ("LOGIN", "success", "authentication"));
        assert_eq!(e.user_id, Some(uuid::Uuid::from_u128(7)));
        assert_eq!(e.resource_id.as_deref(), Some(uuid::Uuid::from_u128(7).to_string().as_str()));
        assert_eq!(e.request_params.as_ref().unwrap()["body"]["password"], "[REDACTED]");
        assert_eq!(e.user_agent.as_deref(), Some("tester/1"));
        let bad = run(
            router,
            json_post("/api/demo/auth/login", serde_json::json!({"email": "amy@x.co", "password": "wrong"})),
        )
        .await;
        let e = &bad[0];
        assert_eq!((e.status.as_str(), e.status_code), ("failed", 401));
        assert_eq!(e.user_name.as_deref(), Some("amy@x.co"));
        assert_eq!(e.error_message.as_deref(), Some("invalid email or password"));
        assert!(!serde_json::to_string(e).unwrap().contains("wrong"));
    }

    #[tokio::test]
    async fn reads_are_skipped_and_created_ids_are_picked_up() {
        let router = Router::new().route(
            "/api/demo/widgets",
            post(|| async { crate::api::ok(serde_json::json!({"id": "w-1"})) }).get(|| async { "list" }),
        );
        let get = || Request::builder().uri("/api/demo/widgets?page=2").body(Body::empty()).unwrap();
        assert!(run(router.clone(), get()).await.is_empty());
        let read = run_with(router.clone(), get(), true).await;
        assert_eq!((read[0].action.as_str(), read[0].method.as_str()), ("VIEW", "GET"));
        assert_eq!(read[0].request_params.as_ref().unwrap()["query"]["page"], "2");
        let health = Request::builder().uri("/health").body(Body::empty()).unwrap();
        assert!(run_with(router.clone(), health, true).await.is_empty());
        let created = run(router, json_post("/api/demo/widgets?x=1", serde_json::json!({"name": "a"}))).await;
        assert_eq!(created[0].resource_id.as_deref(), Some("w-1"));
        assert_eq!(created[0].resource_type.as_deref(), Some("widget"));
        assert_eq!(created[0].request_params.as_ref().unwrap()["query"]["x"], "1");
    }

    #[tokio::test]
    async fn bodies_are_kept_even_when_the_handler_ignores_them() {
        let router = Router::new().route("/api/demo/widgets/{id}", axum::routing::delete(|| async { "gone" }));
        let mut req = json_post("/api/demo/widgets/7", serde_json::json!({"reason": "old", "token": "t0k"}));
        *req.method_mut() = Method::DELETE;
        req.headers_mut().insert(header::CONTENT_LENGTH, "30".parse().unwrap());
        let events = run(router, req).await;
        let params = events[0].request_params.as_ref().unwrap();
        assert_eq!(params["body"], serde_json::json!({"reason": "old", "token": "[REDACTED]"}));
        assert_eq!((events[0].action.as_str(), events[0].resource_id.as_deref()), ("DELETE", Some("7")));
    }

    #[test]
    fn the_slot_round_trips() {
        let slot = AuditSlot::default();
        assert!(slot.get().is_none());
        slot.set(AuditActor { user_name: Some("x".into()), ..Default::default() });
        assert_eq!(slot.get().unwrap().user_name.as_deref(), Some("x"));
    }
}
