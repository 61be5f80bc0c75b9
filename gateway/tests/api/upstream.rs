//! A small upstream service the gateway is put in front of. It echoes requests as JSON (method,
//! path, query, headers, body length and, up to 64 KiB, the body as text) and has paths that
//! misbehave on purpose:
//!
//! - `…/slow?ms=N` answers after N ms; `…/hang` never answers
//! - `…/status/N` answers with status N
//! - `…/stream-echo` streams the request body back as it arrives
//! - `…/drain` reads the whole body and answers `{"bytes": n}`
//! - `…/large?bytes=N` streams N bytes (`&chunked=1`: without a length, in chunks)
//! - `…/ws` accepts a protocol upgrade and echoes bytes on the upgraded connection
//! - `/health` answers healthy (or 500 while [`TestUpstream::set_broken`] is on)
//!
//! While broken, every other request has its connection dropped without an answer.

use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt, Full, StreamBody};
use hyper::body::{Bytes, Frame, Incoming};
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use serde_json::json;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

type BoxBody = http_body_util::combinators::BoxBody<Bytes, Box<dyn std::error::Error + Send + Sync>>;

pub struct TestUpstream {
    pub port: u16,
    state: Arc<State>,
}

struct State {
    name: String,
    hits: AtomicUsize,
    connections: AtomicUsize,
    broken: AtomicBool,
}

impl TestUpstream {
    pub async fn start(name: &str) -> Self {
        Self::start_with_idle_close(name, None).await
    }

    /// An upstream that closes a kept-alive connection once it has been idle for `idle_close`
    /// (as servers with a keep-alive timeout do), without announcing it.
    pub async fn start_with_idle_close(name: &str, idle_close: Option<Duration>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let state = Arc::new(State {
            name: name.into(),
            hits: AtomicUsize::new(0),
            connections: AtomicUsize::new(0),
            broken: AtomicBool::new(false),
        });
        let shared = state.clone();
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else { continue };
                shared.connections.fetch_add(1, Ordering::SeqCst);
                let state = shared.clone();
                tokio::spawn(async move {
                    let service = service_fn(move |req| handle(state.clone(), req));
                    let mut builder = hyper::server::conn::http1::Builder::new();
                    builder.timer(TokioTimer::new());
                    if let Some(idle) = idle_close {
                        builder.header_read_timeout(idle);
                    }
                    let _ = builder.serve_connection(TokioIo::new(stream), service).with_upgrades().await;
                });
            }
        });
        Self { port, state }
    }

    /// Connections accepted so far (health checks included).
    pub fn connections(&self) -> usize {
        self.state.connections.load(Ordering::SeqCst)
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Requests that reached this upstream (health checks not counted).
    pub fn hits(&self) -> usize {
        self.state.hits.load(Ordering::SeqCst)
    }

    pub fn set_broken(&self, broken: bool) {
        self.state.broken.store(broken, Ordering::SeqCst);
    }
}

fn full(status: StatusCode, body: impl Into<Bytes>) -> Response<BoxBody> {
    let mut r = Response::new(Full::new(body.into()).map_err(|e| match e {}).boxed());
    *r.status_mut() = status;
    r.headers_mut().insert("content-type", "application/json".parse().unwrap());
    r
}

fn query_param(req: &Request<Incoming>, name: &str) -> Option<u64> {
    req.uri().query()?.split('&').find_map(|kv| kv.strip_prefix(&format!("{name}="))?.parse().ok())
}

async fn handle(state: Arc<State>, mut req: Request<Incoming>) -> Result<Response<BoxBody>, std::io::Error> {
    let path = req.uri().path().to_owned();
    let req_query = req.uri().query().unwrap_or_default().to_owned();
    if path == "/health" {
        if state.broken.load(Ordering::SeqCst) {
            return Ok(full(StatusCode::INTERNAL_SERVER_ERROR, r#"{"status":"unhealthy"}"#));
        }
        let body = json!({"status": "healthy", "service": state.name, "version": "9.9.9", "uptime_seconds": 42});
        return Ok(full(StatusCode::OK, body.to_string()));
    }
    state.hits.fetch_add(1, Ordering::SeqCst);
    if state.broken.load(Ordering::SeqCst) {
        // Returning an error makes hyper close the connection without a response.
        return Err(std::io::Error::other("broken on purpose"));
    }
    if path.ends_with("/hang") {
        tokio::time::sleep(Duration::from_secs(3600)).await;
    }
    if path.ends_with("/slow") {
        tokio::time::sleep(Duration::from_millis(query_param(&req, "ms").unwrap_or(500))).await;
    }
    if let Some(code) = path.rsplit_once("/status/").and_then(|(_, c)| c.parse::<u16>().ok()) {
        return Ok(full(StatusCode::from_u16(code).unwrap(), format!(r#"{{"teapot":{code}}}"#)));
    }
    if path.ends_with("/stream-echo") {
        let body = req.into_body().map_err(|e| Box::new(e) as Box<dyn std::error::Error + Send + Sync>).boxed();
        return Ok(Response::new(body));
    }
    if path.ends_with("/drain") {
        let mut body = req.into_body();
        let mut n = 0usize;
        while let Some(frame) = body.frame().await {
            match frame {
                Ok(f) => n += f.data_ref().map_or(0, |d| d.len()),
                Err(_) => return Err(std::io::Error::other("client body failed")),
            }
        }
        return Ok(full(StatusCode::OK, json!({ "bytes": n }).to_string()));
    }
    if path.ends_with("/large") {
        let total = query_param(&req, "bytes").unwrap_or(1024) as usize;
        let chunk = Bytes::from(vec![b'x'; 64 * 1024]);
        let stream = futures_util::stream::unfold(0usize, move |sent| {
            let chunk = chunk.clone();
            async move {
                if sent >= total {
                    return None;
                }
                let n = chunk.len().min(total - sent);
                Some((Ok::<_, Box<dyn std::error::Error + Send + Sync>>(Frame::data(chunk.slice(..n))), sent + n))
            }
        });
        let mut r = Response::new(StreamBody::new(stream).boxed());
        // `chunked=1`: no length, so the body goes out in chunks.
        if query_param(&req, "chunked") != Some(1) {
            r.headers_mut().insert("content-length", total.into());
        }
        return Ok(r);
    }
    if path.ends_with("/ws") {
        let upgrade = hyper::upgrade::on(&mut req);
        tokio::spawn(async move {
            if let Ok(upgraded) = upgrade.await {
                let mut io = TokioIo::new(upgraded);
                let mut buf = [0u8; 1024];
                while let Ok(n) = io.read(&mut buf).await {
                    if n == 0 || io.write_all(&buf[..n]).await.is_err() {
                        break;
                    }
                }
            }
        });
        let mut r = Response::new(Full::new(Bytes::new()).map_err(|e| match e {}).boxed());
        *r.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
        r.headers_mut().insert("upgrade", "websocket".parse().unwrap());
        r.headers_mut().insert("connection", "upgrade".parse().unwrap());
        return Ok(r);
    }
    let method = req.method().to_string();
    let headers: serde_json::Map<String, serde_json::Value> =
        req.headers().iter().map(|(k, v)| (k.as_str().to_owned(), v.to_str().unwrap_or_default().into())).collect();
    let body = req.into_body().collect().await.map(|b| b.to_bytes()).unwrap_or_default();
    let echo = json!({
        "upstream": state.name,
        "method": method,
        "query": req_query,
        "path": path,
        "body_bytes": body.len(),
        // Small bodies are echoed too (as text), for tests that check the bytes that arrived.
        "body": (body.len() <= 64 * 1024).then(|| String::from_utf8_lossy(&body).into_owned()),
        "headers": headers,
    });
    Ok(full(StatusCode::OK, echo.to_string()))
}

/// A port where nothing listens: connections are refused.
pub async fn dead_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    listener.local_addr().unwrap().port()
}

/// A listener that accepts connections and never answers. Counts connections.
pub struct Hanging {
    pub port: u16,
    pub connections: Arc<AtomicUsize>,
}

pub async fn hanging() -> Hanging {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let connections = Arc::new(AtomicUsize::new(0));
    let counter = connections.clone();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((stream, _)) = listener.accept().await {
            counter.fetch_add(1, Ordering::SeqCst);
            held.push(stream);
        }
    });
    Hanging { port, connections }
}

/// A listener that accepts and immediately closes every connection.
pub async fn dropping() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let mut buf = [0u8; 4096];
            let _ = stream.read(&mut buf).await;
            drop(stream);
        }
    });
    port
}
