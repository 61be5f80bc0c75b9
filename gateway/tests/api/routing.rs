use crate::client::Client;
use crate::helpers::{ADMIN_EMAIL, ADMIN_PASSWORD, TestGateway, spawn_foundation};
use crate::upstream::TestUpstream;
use crm_gateway::config::{DEFAULT_OVERRIDES, pairs};
use http::Method;
use hyper::body::Bytes;
use serde_json::json;

#[tokio::test]
async fn routes_by_service_and_by_override() {
    let orders = TestUpstream::start("order-workflow").await;
    let services = TestUpstream::start("service-management").await;
    let gw = TestGateway::spawn(&[("order-workflow", orders.url()), ("service-management", services.url())], |c| {
        c.overrides = pairs("X", DEFAULT_OVERRIDES).unwrap()
    })
    .await;
    let token = gw.token();
    let t = Some(token.as_str());

    let r = gw.client.get("/api/order-workflow/orders?page=2&size=5", t).await;
    let echo = r.echo();
    assert_eq!(echo["upstream"], "order-workflow");
    assert_eq!(echo["path"], "/api/order-workflow/orders");
    assert_eq!(echo["query"], "page=2&size=5");
    for owned in ["product-dependencies", "customer-levels/7", "follow-up-statuses"] {
        let r = gw.client.get(&format!("/api/order-workflow/{owned}"), t).await;
        assert_eq!(r.echo()["upstream"], "service-management", "{owned}");
        assert_eq!(r.echo()["path"], format!("/api/order-workflow/{owned}"), "path is forwarded unchanged");
    }
    // Prefixes match whole segments only.
    let r = gw.client.get("/api/order-workflow/customer-levelsx", t).await;
    assert_eq!(r.echo()["upstream"], "order-workflow");
    assert_eq!(gw.client.get("/api/service-management/customers", t).await.echo()["upstream"], "service-management");

    for unknown in ["/api/nope/x", "/elsewhere", "/api"] {
        let r = gw.client.get(unknown, t).await;
        r.expect_envelope(404);
    }
    assert_eq!(orders.hits() + services.hits(), 6);
}

#[tokio::test]
async fn method_headers_status_and_body_are_preserved() {
    let up = TestUpstream::start("order-workflow").await;
    let gw = TestGateway::spawn(&[("order-workflow", up.url())], |_| {}).await;
    let token = gw.token();
    let bearer = format!("Bearer {token}");
    let r = gw
        .client
        .request(
            Method::PUT,
            "/api/order-workflow/orders/1",
            &[
                ("authorization", &bearer),
                ("x-custom", "kept"),
                ("connection", "x-hop"),
                ("x-hop", "dropped"),
                ("x-forwarded-for", "6.6.6.6"),
                ("content-type", "application/json"),
            ],
            Bytes::from_static(br#"{"a":1}"#),
        )
        .await;
    let echo = r.echo();
    let h = &echo["headers"];
    assert_eq!(echo["method"], "PUT");
    assert_eq!(echo["body_bytes"], 7);
    assert_eq!(h["authorization"], bearer.as_str(), "token forwarded unchanged");
    assert_eq!(h["x-custom"], "kept");
    assert!(h.get("x-hop").is_none(), "headers named in Connection are hop-by-hop");
    // The test client is on loopback, a trusted proxy: its chain is extended.
    assert_eq!(h["x-forwarded-for"], "6.6.6.6, 127.0.0.1");
    assert_eq!(h["x-forwarded-proto"], "http");
    assert_eq!(h["x-forwarded-host"], format!("127.0.0.1:{}", gw.port));
    assert_eq!(h["host"], format!("127.0.0.1:{}", up.port), "Host is the upstream's");

    let r = gw.client.get("/api/order-workflow/status/418", Some(&token)).await;
    assert_eq!(r.status.as_u16(), 418);
    assert_eq!(r.json()["teapot"], 418);
}

#[tokio::test]
async fn untrusted_clients_cannot_forge_forwarded_for() {
    let up = TestUpstream::start("order-workflow").await;
    let gw =
        TestGateway::spawn(&[("order-workflow", up.url())], |c| c.common.trusted_proxies = Default::default()).await;
    let token = gw.token();
    let bearer = format!("Bearer {token}");
    let r = gw
        .client
        .get_with("/api/order-workflow/x", &[("authorization", &bearer), ("x-forwarded-for", "6.6.6.6")])
        .await;
    assert_eq!(r.echo()["headers"]["x-forwarded-for"], "127.0.0.1");
}

/// The gateway in front of the real foundation binary: public login, then an authenticated call.
#[tokio::test]
async fn in_front_of_foundation() {
    let foundation = spawn_foundation().await;
    let url = format!("http://127.0.0.1:{}", foundation.port);
    let jwks = format!("{url}/api/foundation/auth/jwks.json");
    let gw = TestGateway::spawn(&[("foundation", url)], |c| c.common.jwks_url = jwks).await;
    let client: &Client = &gw.client;

    let r = client.get("/api/foundation/auth/jwks.json", None).await;
    assert_eq!(r.status.as_u16(), 200);
    assert!(!r.json()["keys"].as_array().unwrap().is_empty());

    let r = client
        .post_json("/api/foundation/auth/login", None, &json!({"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}))
        .await;
    let login = r.expect_envelope(200);
    let token = login["data"]["token"].as_str().unwrap().to_owned();

    let r = client.get("/api/foundation/auth/me", Some(&token)).await;
    let me = r.expect_envelope(200);
    assert_eq!(me["data"]["email"], ADMIN_EMAIL);

    client.get("/api/foundation/auth/me", None).await.expect_envelope(401);
    client.get("/api/foundation/users", Some("not.a.token")).await.expect_envelope(401);

    // Uploads through the gateway, a small one (read whole) and one past the direct path's
    // 64 KiB (streamed), come back byte for byte.
    let auth = format!("Bearer {token}");
    let boundary = "gw-upload-boundary";
    let content_type = format!("multipart/form-data; boundary={boundary}");
    for size in [300, 300_000] {
        let content: Vec<u8> = (0..size).map(|i| b'a' + (i % 26) as u8).collect();
        let mut body =
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"notes.txt\"\r\n\r\n")
                .into_bytes();
        body.extend_from_slice(&content);
        body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        let headers = [("authorization", auth.as_str()), ("content-type", content_type.as_str())];
        let r = client.request(Method::POST, "/api/foundation/upload", &headers, body.into()).await;
        let uploaded = r.expect_envelope(200);
        assert_eq!(uploaded["data"]["size"], size);
        let back = client.get(uploaded["data"]["url"].as_str().unwrap(), Some(&token)).await;
        assert_eq!((back.status.as_u16(), back.body.as_ref()), (200, content.as_slice()));
        assert_eq!(back.header("content-disposition"), Some("attachment; filename=\"notes.txt\""));
    }
}
