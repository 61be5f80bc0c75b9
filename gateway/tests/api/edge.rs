use crate::client::{raw, raw_status};
use crate::helpers::TestGateway;
use crate::upstream::TestUpstream;
use http::{Method, Request};
use http_body_util::{BodyExt, StreamBody};
use hyper::body::{Bytes, Frame};

#[tokio::test]
async fn traversal_and_absolute_targets_are_refused() {
    let up = TestUpstream::start("foundation").await;
    let gw = TestGateway::spawn(&[("foundation", up.url())], |c| c.verify_jwt = false).await;
    for target in [
        "/api/foundation/../order-workflow/orders",
        "/api/foundation/./users",
        "/api/foundation/%2e%2e/order-workflow",
        "/api/foundation/%2E%2E/order-workflow",
        "/api/foundation%2f..%2forder-workflow",
        "/api/foundation/users%2F1",
        "/api/foundation/%5c..%5cx",
        "/api/foundation/%252e%252e/x",
        "/api/foundation/a\\..\\b",
        "http://127.0.0.1:1/api/foundation/users",
        "http://evil.example/api/foundation/users",
    ] {
        let response =
            raw(gw.port, &format!("GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")).await;
        assert_eq!(raw_status(&response), 400, "{target}: {response}");
    }
    let connect = raw(gw.port, "CONNECT evil.example:443 HTTP/1.1\r\nHost: evil.example:443\r\n\r\n").await;
    assert!(matches!(raw_status(&connect), 400 | 405), "{connect}");
    assert_eq!(up.hits(), 0, "nothing reached an upstream");
    // The same paths without tricks work.
    let ok = raw(gw.port, "GET /api/foundation/users HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n").await;
    assert_eq!(raw_status(&ok), 200, "{ok}");
}

#[tokio::test]
async fn body_limit_on_declared_and_streamed_bodies() {
    let up = TestUpstream::start("foundation").await;
    let gw = TestGateway::spawn(&[("foundation", up.url())], |c| {
        c.verify_jwt = false;
        c.common.body_limit_bytes = 64 * 1024;
    })
    .await;
    // Declared too large: refused before the body is read or any upstream is contacted.
    let response = raw(
        gw.port,
        "POST /api/foundation/drain HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert_eq!(raw_status(&response), 413, "{response}");
    assert!(response.contains("\"code\":413"));
    assert_eq!(up.hits(), 0);

    // Chunked, no declared length: counted while streaming, refused once over the limit.
    let chunks = (0..32).map(|_| Ok::<_, std::io::Error>(Frame::data(Bytes::from(vec![b'a'; 8 * 1024]))));
    let body = StreamBody::new(futures_util::stream::iter(chunks));
    let request = Request::builder().method(Method::POST).uri("/api/foundation/drain").body(body).unwrap();
    let response = gw.client.send(request).await;
    assert_eq!(response.status().as_u16(), 413);
    let body = response.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(serde_json::from_slice::<serde_json::Value>(&body).unwrap()["code"], 413);

    // Under the limit, streamed the same way, it goes through whole.
    let chunks = (0..4).map(|_| Ok::<_, std::io::Error>(Frame::data(Bytes::from(vec![b'a'; 8 * 1024]))));
    let request = Request::builder()
        .method(Method::POST)
        .uri("/api/foundation/drain")
        .body(StreamBody::new(futures_util::stream::iter(chunks)))
        .unwrap();
    let response = gw.client.send(request).await;
    assert_eq!(response.status().as_u16(), 200);
    let body = response.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(serde_json::from_slice::<serde_json::Value>(&body).unwrap()["bytes"], 32 * 1024);
}

#[tokio::test]
async fn cors_and_security_headers() {
    let up = TestUpstream::start("foundation").await;
    let gw = TestGateway::spawn(&[("foundation", up.url())], |c| {
        c.verify_jwt = false;
        c.cors_origins = vec!["https://app.bantu.test".into()];
    })
    .await;
    let preflight = |origin: &'static str| {
        let client = gw.client.clone();
        async move {
            client
                .request(
                    Method::OPTIONS,
                    "/api/foundation/users",
                    &[
                        ("origin", origin),
                        ("access-control-request-method", "POST"),
                        ("access-control-request-headers", "authorization, content-type"),
                    ],
                    Bytes::new(),
                )
                .await
        }
    };
    let r = preflight("https://app.bantu.test").await;
    assert_eq!(r.status.as_u16(), 204);
    assert_eq!(r.header("access-control-allow-origin"), Some("https://app.bantu.test"));
    assert_eq!(r.header("access-control-allow-credentials"), Some("true"));
    assert!(r.header("access-control-allow-methods").unwrap().contains("POST"));
    assert_eq!(r.header("access-control-allow-headers"), Some("authorization, content-type"));
    preflight("https://evil.test").await.expect_envelope(403);
    assert_eq!(up.hits(), 0, "preflights are answered at the edge");

    let r = gw.client.get_with("/api/foundation/users", &[("origin", "https://app.bantu.test")]).await;
    assert_eq!(r.header("access-control-allow-origin"), Some("https://app.bantu.test"));
    assert_eq!(r.header("access-control-allow-credentials"), Some("true"));
    assert!(r.header("access-control-expose-headers").unwrap().contains("x-request-id"));
    assert_eq!(r.header("vary"), Some("origin"));
    let r = gw.client.get_with("/api/foundation/users", &[("origin", "https://evil.test")]).await;
    assert!(r.header("access-control-allow-origin").is_none());
    assert_eq!(r.header("x-content-type-options"), Some("nosniff"));
    assert_eq!(r.header("x-frame-options"), Some("DENY"));
    assert_eq!(r.header("referrer-policy"), Some("no-referrer"));
}
