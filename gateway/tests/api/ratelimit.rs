use crate::helpers::{TestGateway, metric, shared_redis_url, spawn_redis};
use crate::upstream::TestUpstream;
use crm_gateway::config::RateSpec;
use http::Method;
use hyper::body::Bytes;
use std::time::Duration;
use uuid::Uuid;

fn per_min(limit: u64) -> RateSpec {
    RateSpec { limit, window: Duration::from_secs(60) }
}

#[tokio::test]
async fn general_limit_per_user_with_headers() {
    let up = TestUpstream::start("order-workflow").await;
    let gw = TestGateway::spawn(&[("order-workflow", up.url())], |c| c.rate.general = per_min(3)).await;
    let alice = gw.token();
    let bob = gw.token();
    for remaining in (0..3).rev() {
        let r = gw.client.get("/api/order-workflow/orders", Some(&alice)).await;
        assert_eq!(r.status.as_u16(), 200);
        assert_eq!(r.header("x-ratelimit-limit"), Some("3"));
        assert_eq!(r.header("x-ratelimit-remaining"), Some(remaining.to_string().as_str()));
        let reset: u64 = r.header("x-ratelimit-reset").unwrap().parse().unwrap();
        assert!((1..=60).contains(&reset));
    }
    let r = gw.client.get("/api/order-workflow/orders", Some(&alice)).await;
    r.expect_envelope(429);
    let retry: u64 = r.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry));
    assert_eq!(r.header("x-ratelimit-remaining"), Some("0"));
    assert_eq!(up.hits(), 3, "the refused request never reached the upstream");
    // Another user has a budget of their own.
    assert_eq!(gw.client.get("/api/order-workflow/orders", Some(&bob)).await.status.as_u16(), 200);
    let text = gw.metrics().await;
    assert_eq!(metric(&text, r#"gateway_ratelimit_rejections_total{class="general"}"#), Some(1.0));
}

#[tokio::test]
async fn login_upload_and_export_limits() {
    let up = TestUpstream::start("foundation").await;
    let gw = TestGateway::spawn(&[("foundation", up.url())], |c| {
        c.rate.login = per_min(2);
        c.rate.upload = per_min(1);
        c.rate.export = RateSpec { limit: 1, window: Duration::from_secs(3600) };
    })
    .await;
    let login = "/api/foundation/auth/login";
    // Clients behind a trusted proxy (the test runs on loopback, which is trusted) are told
    // apart by X-Forwarded-For.
    for _ in 0..2 {
        let r = gw.client.request(Method::POST, login, &[("x-forwarded-for", "10.0.0.1")], Bytes::new()).await;
        assert_eq!(r.status.as_u16(), 200);
        assert_eq!(r.header("x-ratelimit-limit"), Some("2"));
    }
    let r = gw.client.request(Method::POST, login, &[("x-forwarded-for", "10.0.0.1")], Bytes::new()).await;
    r.expect_envelope(429);
    let r = gw.client.request(Method::POST, login, &[("x-forwarded-for", "10.0.0.2")], Bytes::new()).await;
    assert_eq!(r.status.as_u16(), 200, "another address is not affected");

    let bearer = format!("Bearer {}", gw.token());
    let auth = [("authorization", bearer.as_str())];
    let upload = "/api/foundation/users/1/files";
    assert_eq!(gw.client.request(Method::POST, upload, &auth, Bytes::from_static(b"x")).await.status.as_u16(), 200);
    gw.client.request(Method::POST, upload, &auth, Bytes::from_static(b"x")).await.expect_envelope(429);
    assert_eq!(
        gw.client.request(Method::GET, upload, &auth, Bytes::new()).await.status.as_u16(),
        200,
        "GET is no upload"
    );

    let export = "/api/foundation/users/export";
    let r = gw.client.request(Method::GET, export, &auth, Bytes::new()).await;
    assert_eq!(r.status.as_u16(), 200);
    let r = gw.client.request(Method::GET, export, &auth, Bytes::new()).await;
    r.expect_envelope(429);
    let retry: u64 = r.header("retry-after").unwrap().parse().unwrap();
    assert!(retry > 3000, "exports reset hourly: {retry}");
    let text = gw.metrics().await;
    for class in ["login", "upload", "export"] {
        assert_eq!(metric(&text, &format!(r#"gateway_ratelimit_rejections_total{{class="{class}"}}"#)), Some(1.0));
    }
}

/// Two replicas on one Redis share their counters.
#[tokio::test]
async fn replicas_share_counters_in_redis() {
    let up = TestUpstream::start("order-workflow").await;
    let prefix = format!("gw-test-{}:", Uuid::now_v7().simple());
    let a = TestGateway::spawn(&[("order-workflow", up.url())], |c| {
        c.rate.general = per_min(4);
        c.common.redis_url = Some(shared_redis_url());
        c.common.cache_prefix = prefix.clone();
    })
    .await;
    // The second replica trusts the same issuer, so one user's token works on both.
    let b = TestGateway::spawn(&[("order-workflow", up.url())], |c| {
        c.rate.general = per_min(4);
        c.common.redis_url = Some(shared_redis_url());
        c.common.cache_prefix = prefix.clone();
        c.common.jwks_url = a.jwks.url();
    })
    .await;
    let token = a.token();
    let path = "/api/order-workflow/orders";
    for (replica, remaining) in [(&a, "3"), (&b, "2"), (&a, "1"), (&b, "0")] {
        let r = replica.client.get(path, Some(&token)).await;
        assert_eq!(r.status.as_u16(), 200);
        assert_eq!(r.header("x-ratelimit-remaining"), Some(remaining));
    }
    a.client.get(path, Some(&token)).await.expect_envelope(429);
    b.client.get(path, Some(&token)).await.expect_envelope(429);
    assert_eq!(up.hits(), 4);
    assert_eq!(metric(&a.metrics().await, "gateway_ratelimit_backend_fallbacks_total"), None, "Redis answered");
}

#[tokio::test]
async fn redis_going_away_falls_back_to_memory() {
    let redis = spawn_redis().await;
    let up = TestUpstream::start("order-workflow").await;
    let gw = TestGateway::spawn(&[("order-workflow", up.url())], |c| {
        c.rate.general = per_min(3);
        c.common.redis_url = Some(format!("redis://127.0.0.1:{}", redis.port));
    })
    .await;
    let token = gw.token();
    let path = "/api/order-workflow/orders";
    for _ in 0..2 {
        assert_eq!(gw.client.get(path, Some(&token)).await.status.as_u16(), 200);
    }
    assert_eq!(metric(&gw.metrics().await, "gateway_ratelimit_backend_degraded"), Some(0.0));
    drop(redis); // kills the server
    // Requests keep being served — never a 5xx because the counter store is gone — and the
    // limit still holds, now counted in process.
    let mut statuses = Vec::new();
    for _ in 0..5 {
        statuses.push(gw.client.get(path, Some(&token)).await.status.as_u16());
    }
    assert_eq!(statuses, vec![200, 200, 200, 429, 429]);
    let text = gw.metrics().await;
    assert!(metric(&text, "gateway_ratelimit_backend_fallbacks_total").unwrap() >= 5.0, "{text}");
    assert_eq!(metric(&text, "gateway_ratelimit_backend_degraded"), Some(1.0));
}
