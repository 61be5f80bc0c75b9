use crate::client::TestResponse;
use crate::helpers::{TestGateway, metric, shared_redis_url, spawn_redis};
use crate::upstream::TestUpstream;
use crm_gateway::config::RateSpec;
use http::{Method, Request};
use http_body_util::{BodyExt, StreamBody};
use hyper::body::{Body, Bytes, Frame};
use std::time::Duration;
use uuid::Uuid;

const LOGIN: &str = "/api/foundation/auth/login";

fn per_min(limit: u64) -> RateSpec {
    RateSpec { limit, window: Duration::from_secs(60) }
}

/// A login attempt from `address` (the test runs on loopback, a trusted proxy, so clients are told
/// apart by `X-Forwarded-For`).
async fn attempt(gw: &TestGateway, address: &str, body: &str) -> TestResponse {
    let headers = [("x-forwarded-for", address), ("content-type", "application/json")];
    gw.client.request(Method::POST, LOGIN, &headers, Bytes::from(body.to_owned())).await
}

fn credentials(account: &str, password: &str) -> String {
    serde_json::json!({ "email": account, "password": password }).to_string()
}

/// A login body sent chunked, in the given pieces, without a declared length.
async fn attempt_chunked(gw: &TestGateway, pieces: Vec<Bytes>) -> TestResponse {
    let frames = pieces.into_iter().map(|b| Ok::<_, std::io::Error>(Frame::data(b)));
    let body = StreamBody::new(futures_util::stream::iter(frames));
    assert!(body.size_hint().exact().is_none(), "sent chunked, without a declared length");
    let request = Request::builder()
        .method(Method::POST)
        .uri(LOGIN)
        .header("x-forwarded-for", "10.9.9.9")
        .header("content-type", "application/json")
        .body(body)
        .unwrap();
    let (parts, body) = gw.client.send(request).await.into_parts();
    let body = body.collect().await.map(|b| b.to_bytes()).unwrap_or_default();
    TestResponse { status: parts.status, headers: parts.headers, body }
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
    // Clients behind a trusted proxy (the test runs on loopback, which is trusted) are told
    // apart by X-Forwarded-For; each attempt names another account.
    for n in 0..2 {
        let r = attempt(&gw, "10.0.0.1", &credentials(&format!("user{n}@bantu.test"), "x")).await;
        assert_eq!(r.status.as_u16(), 200);
        assert_eq!(r.header("x-ratelimit-limit"), Some("2"));
    }
    attempt(&gw, "10.0.0.1", &credentials("user2@bantu.test", "x")).await.expect_envelope(429);
    let r = attempt(&gw, "10.0.0.2", &credentials("user3@bantu.test", "x")).await;
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

/// The login limit also counts per account: one account tried from five addresses uses up its
/// budget, and a sixth attempt is refused even from an address never seen before.
#[tokio::test]
async fn login_limit_per_account_across_addresses() {
    let up = TestUpstream::start("foundation").await;
    let gw = TestGateway::spawn(&[("foundation", up.url())], |c| c.rate.login = per_min(5)).await;
    // Spellings of one account: the identifier is trimmed and lowercased, email or username.
    let bodies = [
        r#"{"email":"victim@bantu.test","password":"guess-1"}"#,
        r#"{"email":"  Victim@Bantu.Test ","password":"guess-2"}"#,
        r#"{"username":"VICTIM@bantu.test","password":"guess-3"}"#,
        r#"{"password":"guess-4","email":"victim@bantu.test"}"#,
        r#"{"email":"victim@BANTU.test","password":"guess-5"}"#,
    ];
    for (n, body) in bodies.iter().enumerate() {
        let r = attempt(&gw, &format!("10.1.0.{}", n + 1), body).await;
        assert_eq!(r.status.as_u16(), 200, "attempt {}", n + 1);
        assert_eq!(r.header("x-ratelimit-limit"), Some("5"));
        // Every address is fresh (4 left); the account's counter is the tighter one, reported.
        assert_eq!(r.header("x-ratelimit-remaining"), Some((4 - n).to_string().as_str()), "attempt {}", n + 1);
    }
    let r = attempt(&gw, "10.1.0.6", &credentials("victim@bantu.test", "guess-6")).await;
    r.expect_envelope(429);
    let retry: u64 = r.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry), "{retry}");
    assert_eq!(r.header("x-ratelimit-limit"), Some("5"));
    assert_eq!(r.header("x-ratelimit-remaining"), Some("0"));
    assert!(r.header("x-ratelimit-reset").is_some());
    assert_eq!(up.hits(), 5, "the refused attempt never reached foundation");
    // The fresh address is not exhausted by that: another account from it gets through.
    let r = attempt(&gw, "10.1.0.6", &credentials("someone-else@bantu.test", "x")).await;
    assert_eq!(r.status.as_u16(), 200);
    assert_eq!(up.hits(), 6);
    let text = gw.metrics().await;
    assert_eq!(metric(&text, r#"gateway_ratelimit_rejections_total{class="login"}"#), Some(1.0));
}

/// Changing accounts does not get around the per-address counter.
#[tokio::test]
async fn login_limit_per_address_across_accounts() {
    let up = TestUpstream::start("foundation").await;
    let gw = TestGateway::spawn(&[("foundation", up.url())], |c| c.rate.login = per_min(5)).await;
    for n in 0..5 {
        let r = attempt(&gw, "10.2.0.1", &credentials(&format!("user{n}@bantu.test"), "x")).await;
        assert_eq!(r.status.as_u16(), 200, "attempt {}", n + 1);
        assert_eq!(r.header("x-ratelimit-remaining"), Some((4 - n).to_string().as_str()));
    }
    let r = attempt(&gw, "10.2.0.1", &credentials("user5@bantu.test", "x")).await;
    r.expect_envelope(429);
    assert!(r.header("retry-after").is_some());
    assert_eq!(up.hits(), 5);
    // The accounts themselves are not exhausted.
    assert_eq!(attempt(&gw, "10.2.0.2", &credentials("user0@bantu.test", "x")).await.status.as_u16(), 200);
}

/// foundation receives exactly the bytes the client sent, declared or chunked, with their length.
#[tokio::test]
async fn login_body_reaches_foundation_byte_for_byte() {
    let up = TestUpstream::start("foundation").await;
    let gw = TestGateway::spawn(&[("foundation", up.url())], |_| {}).await;
    let body = "{ \"email\" : \"  \u{c4}nne@Bantu.test \",\n  \"password\": \"p\\u00e4ss \\\"w0rd\\\" \u{1f511}\",\
                \"remember\": [1, 2.50, null] }\n";
    let r = attempt(&gw, "10.4.0.1", body).await;
    let echo = r.echo();
    assert_eq!(echo["path"], LOGIN);
    assert_eq!(echo["body"].as_str(), Some(body));
    assert_eq!(echo["body_bytes"], body.len());
    assert_eq!(echo["headers"]["content-length"], body.len().to_string());
    assert_eq!(echo["headers"]["content-type"], "application/json");

    // Chunked, split inside a multi-byte character: one body of declared length upstream.
    let bytes = Bytes::from(body);
    let r = attempt_chunked(&gw, vec![bytes.slice(..16), bytes.slice(16..40), bytes.slice(40..)]).await;
    let echo = r.echo();
    assert_eq!(echo["body"].as_str(), Some(body));
    assert_eq!(echo["headers"]["content-length"], body.len().to_string());
    assert!(echo["headers"].get("transfer-encoding").is_none(), "{echo}");
    assert_eq!(up.hits(), 2);
}

/// Login bodies the gateway cannot read an account from are refused before foundation is
/// contacted: too large (declared or streamed), not JSON, not an object.
#[tokio::test]
async fn oversized_or_malformed_login_bodies_never_reach_foundation() {
    let up = TestUpstream::start("foundation").await;
    let gw = TestGateway::spawn(&[("foundation", up.url())], |c| c.rate.login = per_min(100)).await;
    let big = credentials("a@bantu.test", &"x".repeat(9000));
    attempt(&gw, "10.3.0.1", &big).await.expect_envelope(413);
    let pieces = big.as_bytes().chunks(1000).map(Bytes::copy_from_slice).collect();
    attempt_chunked(&gw, pieces).await.expect_envelope(413);
    for bad in ["", "email=a%40bantu.test&password=x", r#"["a@bantu.test","x"]"#, r#"{"email":"a@bantu.test","#] {
        attempt(&gw, "10.3.0.1", bad).await.expect_envelope(400);
    }
    assert_eq!(up.hits(), 0, "foundation was never contacted");
    // Just under the bound is fine.
    let r = attempt(&gw, "10.3.0.1", &credentials("a@bantu.test", &"x".repeat(8000))).await;
    assert_eq!(r.echo()["body_bytes"], 8000 + credentials("a@bantu.test", "").len());
    assert_eq!(up.hits(), 1);
}

/// Two replicas on one Redis share the per-account counter, and Redis holds a digest of the
/// account, never the e-mail address.
#[tokio::test]
async fn login_account_counter_shared_in_redis_as_a_digest() {
    let up = TestUpstream::start("foundation").await;
    let prefix = format!("gw-test-{}:", Uuid::now_v7().simple());
    let mut replicas = Vec::new();
    for _ in 0..2 {
        let replica = TestGateway::spawn(&[("foundation", up.url())], |c| {
            c.rate.login = per_min(2);
            c.common.redis_url = Some(shared_redis_url());
            c.common.cache_prefix = prefix.clone();
        })
        .await;
        replicas.push(replica);
    }
    let (a, b) = (&replicas[0], &replicas[1]);
    let body = credentials("Shared.Victim@bantu.test", "x");
    assert_eq!(attempt(a, "10.5.0.1", &body).await.status.as_u16(), 200);
    assert_eq!(attempt(b, "10.5.0.2", &body).await.status.as_u16(), 200);
    attempt(a, "10.5.0.3", &body).await.expect_envelope(429);
    attempt(b, "10.5.0.4", &body).await.expect_envelope(429);
    assert_eq!(up.hits(), 2);

    let scan = std::process::Command::new("redis-cli")
        .args(["-u", &shared_redis_url(), "--scan", "--pattern", &format!("{prefix}*")])
        .output()
        .expect("redis-cli");
    let keys = String::from_utf8(scan.stdout).unwrap();
    let account_keys: Vec<&str> = keys.lines().filter(|k| k.contains("rl:login:acct:")).collect();
    assert_eq!(account_keys.len(), 1, "{keys}");
    let digest = account_keys[0].rsplit(':').next().unwrap();
    assert_eq!(digest.len(), 64, "{keys}");
    assert!(digest.bytes().all(|b| b.is_ascii_hexdigit()), "{keys}");
    assert!(!keys.to_ascii_lowercase().contains("victim"), "no e-mail address in Redis: {keys}");
}
