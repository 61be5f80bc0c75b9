//! The direct path (`crm_gateway::h1`): it serves simple requests itself, answers exactly as the
//! general path does, hands a connection over mid-stream without losing a byte, and relays every
//! response framing a service may use.

use crate::helpers::{TestGateway, metric};
use crate::upstream::TestUpstream;
use http::{HeaderMap, Method};
use hyper::body::Bytes;
use serde_json::Value;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// One response read off a raw connection.
#[derive(Debug)]
pub struct Raw {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Raw {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }
}

/// Reads one response (framed by length, chunks or the end of the stream) from `tcp`, keeping
/// whatever follows it in `pending`. `None` when the connection ends before a whole response.
pub async fn read_response(tcp: &mut TcpStream, pending: &mut Vec<u8>, head_only: bool) -> Option<Raw> {
    let mut chunk = [0u8; 16 * 1024];
    let head_end = loop {
        if let Some(i) = pending.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        let n = tokio::time::timeout(Duration::from_secs(5), tcp.read(&mut chunk)).await.ok()?.ok()?;
        if n == 0 {
            return None;
        }
        pending.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&pending[..head_end]).into_owned();
    pending.drain(..head_end);
    let mut lines = head.split("\r\n");
    let status = lines.next()?.split_whitespace().nth(1)?.parse().ok()?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let find = |name: &str| headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone());
    let mut body = Vec::new();
    let mut fill = async |pending: &mut Vec<u8>, want: usize| -> Option<()> {
        while pending.len() < want {
            let n = tokio::time::timeout(Duration::from_secs(5), tcp.read(&mut chunk)).await.ok()?.ok()?;
            if n == 0 {
                return None;
            }
            pending.extend_from_slice(&chunk[..n]);
        }
        Some(())
    };
    if head_only || status == 204 || status == 304 {
    } else if find("transfer-encoding").as_deref() == Some("chunked") {
        loop {
            let line_end = loop {
                if let Some(i) = pending.windows(2).position(|w| w == b"\r\n") {
                    break i;
                }
                fill(pending, pending.len() + 1).await?;
            };
            let line = String::from_utf8_lossy(&pending[..line_end]).into_owned();
            let size = usize::from_str_radix(line.split(';').next()?.trim(), 16).ok()?;
            pending.drain(..line_end + 2);
            if size == 0 {
                // Trailers up to the empty line.
                loop {
                    let end = loop {
                        if let Some(i) = pending.windows(2).position(|w| w == b"\r\n") {
                            break i;
                        }
                        fill(pending, pending.len() + 1).await?;
                    };
                    pending.drain(..end + 2);
                    if end == 0 {
                        break;
                    }
                }
                break;
            }
            fill(pending, size + 2).await?;
            body.extend_from_slice(&pending[..size]);
            pending.drain(..size + 2);
        }
    } else if let Some(length) = find("content-length") {
        let length: usize = length.parse().ok()?;
        fill(pending, length).await?;
        body = pending.drain(..length).collect();
    } else {
        while fill(pending, pending.len() + 1).await.is_some() {}
        body = std::mem::take(pending);
    }
    Some(Raw { status, headers, body })
}

fn echo(raw: &Raw) -> Value {
    assert_eq!(raw.status, 200, "{}", String::from_utf8_lossy(&raw.body));
    serde_json::from_slice(&raw.body).unwrap()
}

#[tokio::test]
async fn pipelined_requests_and_a_handover_mid_connection() {
    let up = TestUpstream::start("order-workflow").await;
    let gw = TestGateway::spawn(&[("order-workflow", up.url())], |_| {}).await;
    let token = gw.token();
    let mut tcp = TcpStream::connect(("127.0.0.1", gw.port)).await.unwrap();
    let mut pending = Vec::new();

    // Two requests in one write: both answered, in order, on the direct path.
    let two = format!(
        "GET /api/order-workflow/a HTTP/1.1\r\nhost: gw\r\nauthorization: Bearer {token}\r\n\r\n\
         POST /api/order-workflow/b HTTP/1.1\r\nhost: gw\r\nauthorization: Bearer {token}\r\ncontent-length: 5\r\n\r\nhello"
    );
    tcp.write_all(two.as_bytes()).await.unwrap();
    let first = read_response(&mut tcp, &mut pending, false).await.unwrap();
    assert_eq!(echo(&first)["path"], "/api/order-workflow/a");
    let second = read_response(&mut tcp, &mut pending, false).await.unwrap();
    assert_eq!(
        (echo(&second)["path"].clone(), echo(&second)["body"].clone()),
        ("/api/order-workflow/b".into(), "hello".into())
    );
    assert!(first.header("x-request-id").is_some() && first.header("x-content-type-options") == Some("nosniff"));
    // `/metrics` is the gateway's own route: asking for it hands its connection over too.
    let handovers = || async { metric(&gw.metrics().await, "gateway_direct_handovers_total").unwrap_or(0.0) };
    let before = handovers().await;
    assert_eq!(before, 1.0, "only the metrics request's own connection went to the general path");

    // A chunked upload is the general path's: the connection moves there with the request
    // intact, and the request after it is still answered.
    let chunked = format!(
        "POST /api/order-workflow/c HTTP/1.1\r\nhost: gw\r\nauthorization: Bearer {token}\r\n\
         transfer-encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n\
         GET /api/order-workflow/d HTTP/1.1\r\nhost: gw\r\nauthorization: Bearer {token}\r\n\r\n"
    );
    tcp.write_all(chunked.as_bytes()).await.unwrap();
    let third = read_response(&mut tcp, &mut pending, false).await.unwrap();
    assert_eq!(echo(&third)["body"], "abcde");
    let fourth = read_response(&mut tcp, &mut pending, false).await.unwrap();
    assert_eq!(echo(&fourth)["path"], "/api/order-workflow/d");
    assert_eq!(up.hits(), 4);

    assert_eq!(handovers().await, before + 2.0, "this connection's and the second metrics request's");
    let metrics = gw.metrics().await;
    assert!(metric(&metrics, "gateway_connections_total{path=\"direct\"}").unwrap() >= 3.0);

    // A client asking to close gets its answer and then the end of the connection.
    let mut tcp = TcpStream::connect(("127.0.0.1", gw.port)).await.unwrap();
    let close = format!(
        "GET /api/order-workflow/e HTTP/1.1\r\nhost: gw\r\nauthorization: Bearer {token}\r\nconnection: close\r\n\r\n"
    );
    tcp.write_all(close.as_bytes()).await.unwrap();
    let mut pending = Vec::new();
    let answer = read_response(&mut tcp, &mut pending, false).await.unwrap();
    assert_eq!(answer.header("connection"), Some("close"));
    assert_eq!(echo(&answer)["path"], "/api/order-workflow/e");
    assert!(read_response(&mut tcp, &mut pending, false).await.is_none());
}

/// What a response says, without what differs from one request to the next.
fn comparable(status: u16, headers: &HeaderMap, body: &Bytes) -> (u16, Vec<(String, String)>, Value) {
    let mut kept: Vec<(String, String)> = headers
        .iter()
        .filter(|(n, _)| !matches!(n.as_str(), "date" | "x-request-id" | "traceparent"))
        .map(|(n, v)| (n.to_string(), v.to_str().unwrap_or_default().to_owned()))
        .collect();
    kept.sort();
    let mut body: Value = serde_json::from_slice(body).unwrap_or_else(|_| Value::from(body.len()));
    for volatile in ["request_id", "timestamp"] {
        body.as_object_mut().map(|o| o.remove(volatile));
    }
    if let Some(h) = body.get_mut("headers").and_then(Value::as_object_mut) {
        for volatile in ["x-request-id", "traceparent", "x-forwarded-host"] {
            h.remove(volatile);
        }
    }
    (status, kept, body)
}

/// Method, path, headers and body of one request.
type Case<'a> = (Method, &'a str, Vec<(&'a str, &'a str)>, &'a str);

#[tokio::test]
async fn both_paths_answer_alike() {
    let up = TestUpstream::start("order-workflow").await;
    let direct = TestGateway::spawn(&[("order-workflow", up.url())], |c| {
        c.cors_origins = vec!["https://app.example".into()];
    })
    .await;
    let general = TestGateway::spawn(&[("order-workflow", up.url())], |c| {
        c.cors_origins = vec!["https://app.example".into()];
        c.direct_path = false;
    })
    .await;
    // The same token for both: they trust each other's signer through their own JWKS.
    direct.jwks.set(&[&direct.signer, &general.signer]);
    general.jwks.set(&[&direct.signer, &general.signer]);
    let token = direct.token();
    let bearer = format!("Bearer {token}");
    let auth = ("authorization", bearer.as_str());
    let cases: Vec<Case> = vec![
        (
            Method::GET,
            "/api/order-workflow/orders?page=2",
            vec![auth, ("x-custom", "kept"), ("origin", "https://app.example")],
            "",
        ),
        (Method::POST, "/api/order-workflow/orders", vec![auth, ("content-type", "application/json")], r#"{"a":1}"#),
        (Method::PUT, "/api/order-workflow/orders/1", vec![auth, ("connection", "keep-alive, close")], "x"),
        (Method::DELETE, "/api/order-workflow/orders/1", vec![auth], ""),
        (Method::HEAD, "/api/order-workflow/orders", vec![auth], ""),
        (Method::GET, "/api/order-workflow/status/418", vec![auth], ""),
        (Method::GET, "/api/order-workflow/status/204", vec![auth], ""),
        (Method::GET, "/api/order-workflow/large?bytes=300000", vec![auth], ""),
        (Method::GET, "/api/order-workflow/large?bytes=300000&chunked=1", vec![auth], ""),
        (Method::GET, "/api/order-workflow/orders", vec![], ""),
        (Method::GET, "/api/order-workflow/orders", vec![("authorization", "Bearer forged.token.here")], ""),
        (Method::GET, "/api/nowhere/x", vec![auth], ""),
        (Method::GET, "/api/order-workflow/%2e%2e/x", vec![auth], ""),
    ];
    for (method, path, headers, body) in cases {
        let a = direct.client.request(method.clone(), path, &headers, Bytes::copy_from_slice(body.as_bytes())).await;
        let b = general.client.request(method.clone(), path, &headers, Bytes::copy_from_slice(body.as_bytes())).await;
        assert_eq!(
            comparable(a.status.as_u16(), &a.headers, &a.body),
            comparable(b.status.as_u16(), &b.headers, &b.body),
            "{method} {path}"
        );
        assert!(a.header("x-request-id").is_some(), "{method} {path}");
    }
    assert!(metric(&direct.metrics().await, "gateway_connections_total{path=\"direct\"}").unwrap() >= 13.0);
    assert_eq!(metric(&general.metrics().await, "gateway_connections_total{path=\"direct\"}"), None);
}

/// A service that answers every connection with `script` (after reading a request head) and
/// then closes it.
pub async fn scripted(script: &'static [u8]) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((mut tcp, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut seen = Vec::new();
                let mut buf = [0u8; 4096];
                while !seen.windows(4).any(|w| w == b"\r\n\r\n") {
                    match tcp.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => seen.extend_from_slice(&buf[..n]),
                    }
                }
                let _ = tcp.write_all(script).await;
            });
        }
    });
    port
}

#[tokio::test]
async fn every_response_framing_is_relayed() {
    let cases: [(&str, &'static [u8]); 7] = [
        ("named", b"HTTP/1.1 200 OK\r\nconnection: x-internal, keep-alive\r\nx-internal: secret\r\nx-frame-options: ALLOW\r\ncontent-length: 2\r\n\r\nok"),
        ("until-close", b"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\n\r\nuntil the end"),
        ("interim", b"HTTP/1.1 103 Early Hints\r\nlink: </a>\r\n\r\nHTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok"),
        ("trailers", b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n4;x=y\r\nabcd\r\n0\r\nx-sum: 1\r\n\r\n"),
        ("gzip-coded", b"HTTP/1.1 200 OK\r\ntransfer-encoding: gzip, chunked\r\n\r\n0\r\n\r\n"),
        ("cut-short", b"HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nhalf"),
        ("garbage", b"NOT HTTP AT ALL\r\n\r\n"),
    ];
    let mut services = Vec::new();
    for (name, script) in cases {
        services.push((name, format!("http://127.0.0.1:{}", scripted(script).await)));
    }
    let gw = TestGateway::spawn(&services, |_| {}).await;
    let token = gw.token();
    let get =
        |service: &str| format!("GET /api/{service}/x HTTP/1.1\r\nhost: gw\r\nauthorization: Bearer {token}\r\n\r\n");
    let exchange = async |service: &str| {
        let mut tcp = TcpStream::connect(("127.0.0.1", gw.port)).await.unwrap();
        tcp.write_all(get(service).as_bytes()).await.unwrap();
        let mut pending = Vec::new();
        read_response(&mut tcp, &mut pending, false).await
    };

    let r = exchange("until-close").await.unwrap();
    assert_eq!((r.status, r.body.as_slice()), (200, &b"until the end"[..]));
    assert_eq!(r.header("connection"), Some("close"), "the client learns the end is the connection's");
    // What the service's `Connection` names stays on its hop; what the gateway decides is its own.
    let r = exchange("named").await.unwrap();
    assert_eq!((r.status, r.body.as_slice()), (200, &b"ok"[..]));
    assert_eq!((r.header("x-internal"), r.header("connection")), (None, None));
    assert_eq!(r.header("x-frame-options"), Some("DENY"));
    let date = r.header("date").expect("a response without a date gets one");
    assert!(httpdate::parse_http_date(date).is_ok(), "{date}");
    let r = exchange("interim").await.unwrap();
    assert_eq!((r.status, r.body.as_slice()), (200, &b"ok"[..]));
    let r = exchange("trailers").await.unwrap();
    assert_eq!((r.status, r.body.as_slice(), r.header("transfer-encoding")), (200, &b"abcd"[..], Some("chunked")));
    for bad in ["gzip-coded", "garbage"] {
        let r = exchange(bad).await.unwrap();
        assert_eq!(r.status, 502, "{bad}: {}", String::from_utf8_lossy(&r.body));
        let v: Value = serde_json::from_slice(&r.body).unwrap();
        assert_eq!(v["code"], 502);
    }
    // The head went out before the body failed: the client sees a cut response, never a whole one.
    assert!(exchange("cut-short").await.is_none());
}

#[tokio::test]
async fn stopping_closes_idle_connections_and_finishes_requests_under_way() {
    let service = TestUpstream::start("svc").await;
    let mut gw = TestGateway::spawn(&[("svc", service.url())], |_| {}).await;
    let token = gw.token();
    let request = |path: &str| format!("GET {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n\r\n");

    // An idle kept-alive connection, and one whose request the service takes a while over.
    let mut idle = TcpStream::connect(("127.0.0.1", gw.port)).await.unwrap();
    idle.write_all(request("/api/svc/a").as_bytes()).await.unwrap();
    let mut pending = Vec::new();
    assert_eq!(read_response(&mut idle, &mut pending, false).await.unwrap().status, 200);
    let mut busy = TcpStream::connect(("127.0.0.1", gw.port)).await.unwrap();
    busy.write_all(request("/api/svc/slow?ms=700").as_bytes()).await.unwrap();
    tokio::time::sleep(Duration::from_millis(150)).await;

    gw.stop();
    let mut byte = [0u8; 1];
    let closed = tokio::time::timeout(Duration::from_secs(2), idle.read(&mut byte)).await;
    assert!(matches!(closed, Ok(Ok(0))), "the idle connection is closed: {closed:?}");
    let mut pending = Vec::new();
    let finished = read_response(&mut busy, &mut pending, false).await.expect("the request under way is answered");
    assert_eq!(finished.status, 200);
    tokio::time::timeout(Duration::from_secs(5), gw.stopped()).await.expect("the gateway stops once drained");
}
