use crate::helpers::{TestGateway, metric};
use crate::upstream::{TestUpstream, dead_port, dropping, hanging};
use std::time::{Duration, Instant};

#[tokio::test]
async fn upstream_failures_become_502_503_504_envelopes() {
    let dead = dead_port().await;
    let drops = dropping().await;
    let slow = TestUpstream::start("slow").await;
    let gw = TestGateway::spawn(
        &[
            ("dead", format!("http://127.0.0.1:{dead}")),
            ("drops", format!("http://127.0.0.1:{drops}")),
            ("slow", slow.url()),
        ],
        |c| {
            c.upstream.route_timeouts = vec![("/api/slow/hang".into(), Duration::from_millis(300))];
            c.upstream.timeout = Duration::from_secs(5);
        },
    )
    .await;
    let token = gw.token();
    let t = Some(token.as_str());

    let r = gw.client.get("/api/dead/x", t).await;
    r.expect_envelope(503);
    assert!(r.header("retry-after").is_some());
    // Only the bodiless GET was retried (once, within the budget); a POST never is.
    gw.client.post_json("/api/dead/x", t, &serde_json::json!({"a": 1})).await.expect_envelope(503);
    gw.client.get("/api/drops/x", t).await.expect_envelope(502);

    let started = Instant::now();
    gw.client.get("/api/slow/hang", t).await.expect_envelope(504);
    let took = started.elapsed();
    assert!(took >= Duration::from_millis(300) && took < Duration::from_secs(3), "per-route timeout: {took:?}");
    // The same upstream within its (longer) default timeout is fine.
    assert_eq!(gw.client.get("/api/slow/slow?ms=400", t).await.status.as_u16(), 200);

    let text = gw.metrics().await;
    assert_eq!(metric(&text, r#"gateway_upstream_errors_total{upstream="dead",kind="connect"}"#), Some(2.0));
    assert_eq!(metric(&text, r#"gateway_upstream_retries_total{upstream="dead"}"#), Some(1.0));
    assert_eq!(metric(&text, r#"gateway_upstream_retries_total{upstream="drops"}"#), None, "not a connect error");
    assert_eq!(metric(&text, r#"gateway_upstream_errors_total{upstream="drops",kind="bad_response"}"#), Some(1.0));
    assert_eq!(metric(&text, r#"gateway_upstream_errors_total{upstream="slow",kind="timeout"}"#), Some(1.0));
    assert_eq!(metric(&text, r#"http_requests_total{route="slow",method="GET",status="504"}"#), Some(1.0));
    assert!(text.contains(r#"http_request_duration_seconds_bucket{le="+Inf",route="slow"}"#), "{text}");
    assert_eq!(metric(&text, r#"gateway_upstream_in_flight{upstream="slow"}"#), Some(0.0));
}

#[tokio::test]
async fn a_hanging_service_does_not_delay_the_others() {
    let stuck = hanging().await;
    let fast = TestUpstream::start("fast").await;
    let gw = TestGateway::spawn(&[("stuck", format!("http://127.0.0.1:{}", stuck.port)), ("fast", fast.url())], |c| {
        c.upstream.timeout = Duration::from_secs(3);
        c.upstream.max_concurrency = 8;
    })
    .await;
    let token = gw.token();
    // Fill the stuck service's slots and then some.
    let mut pending = Vec::new();
    for _ in 0..12 {
        let client = gw.client.clone();
        let token = token.clone();
        pending.push(tokio::spawn(async move { client.get("/api/stuck/x", Some(&token)).await.status.as_u16() }));
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    for _ in 0..5 {
        let started = Instant::now();
        let r = gw.client.get("/api/fast/x", Some(&token)).await;
        assert_eq!(r.status.as_u16(), 200);
        // Well under the stuck service's 3 s timeout: nothing waits behind it.
        assert!(started.elapsed() < Duration::from_millis(1000), "fast route took {:?}", started.elapsed());
    }
    let statuses: Vec<u16> = futures_util::future::join_all(pending).await.into_iter().map(Result::unwrap).collect();
    assert_eq!(statuses.iter().filter(|s| **s == 503).count(), 4, "over the concurrency bound: 503 at once");
    assert_eq!(statuses.iter().filter(|s| **s == 504).count(), 8, "the rest time out: {statuses:?}");
    let text = gw.metrics().await;
    assert_eq!(metric(&text, r#"gateway_upstream_errors_total{upstream="stuck",kind="saturated"}"#), Some(4.0));
}

#[tokio::test]
async fn circuit_opens_on_failures_and_health_probes_close_it() {
    let up = TestUpstream::start("flaky").await;
    let gw = TestGateway::spawn(&[("flaky", up.url())], |c| {
        c.upstream.circuit_failures = 3;
        c.upstream.circuit_open = Duration::from_secs(60);
        c.upstream.probe_interval = Duration::from_millis(100);
    })
    .await;
    let token = gw.token();
    let t = Some(token.as_str());
    up.set_broken(true);
    for _ in 0..3 {
        gw.client.get("/api/flaky/x", t).await.expect_envelope(502);
    }
    let hits = up.hits();
    // Open: refused at once without touching the service.
    let started = Instant::now();
    gw.client.get("/api/flaky/x", t).await.expect_envelope(503);
    assert!(started.elapsed() < Duration::from_millis(1000));
    assert_eq!(up.hits(), hits);
    assert_eq!(metric(&gw.metrics().await, r#"gateway_circuit_open{upstream="flaky"}"#), Some(1.0));
    // The service recovers; an active /health probe closes the circuit well before 60 s.
    up.set_broken(false);
    let mut closed = false;
    for _ in 0..40 {
        tokio::time::sleep(Duration::from_millis(50)).await;
        if gw.client.get("/api/flaky/x", t).await.status.as_u16() == 200 {
            closed = true;
            break;
        }
    }
    assert!(closed, "the circuit was closed by probing");
    let text = gw.metrics().await;
    assert!(metric(&text, r#"gateway_upstream_errors_total{upstream="flaky",kind="circuit_open"}"#).unwrap() >= 1.0);
    assert_eq!(metric(&text, r#"gateway_circuit_open{upstream="flaky"}"#), Some(0.0));
}

#[tokio::test]
async fn a_half_open_circuit_sends_one_trial_at_a_time() {
    let up = TestUpstream::start("trial").await;
    let gw = TestGateway::spawn(&[("trial", up.url())], |c| {
        c.upstream.circuit_failures = 2;
        c.upstream.circuit_open = Duration::from_millis(300);
        // No probe within the test: only trial requests can close the circuit.
        c.upstream.probe_interval = Duration::from_secs(600);
    })
    .await;
    let token = gw.token();
    let t = Some(token.as_str());
    up.set_broken(true);
    for _ in 0..2 {
        gw.client.get("/api/trial/x", t).await.expect_envelope(502);
    }
    gw.client.get("/api/trial/x", t).await.expect_envelope(503);

    // Half-open, still broken: the trial reaches the service and fails; the circuit is open again
    // at once, so the next request does not reach it.
    tokio::time::sleep(Duration::from_millis(350)).await;
    let hits = up.hits();
    gw.client.get("/api/trial/x", t).await.expect_envelope(502);
    assert_eq!(up.hits(), hits + 1);
    gw.client.get("/api/trial/x", t).await.expect_envelope(503);
    assert_eq!(up.hits(), hits + 1);

    // Half-open while the trial hangs: a second request is refused instead of piling on.
    up.set_broken(false);
    tokio::time::sleep(Duration::from_millis(350)).await;
    let slow = {
        let client = gw.client.clone();
        let token = token.clone();
        tokio::spawn(async move { client.get("/api/trial/slow?ms=400", Some(&token)).await.status.as_u16() })
    };
    tokio::time::sleep(Duration::from_millis(100)).await;
    gw.client.get("/api/trial/x", t).await.expect_envelope(503);
    // The trial succeeds and closes the circuit: everything goes again.
    assert_eq!(slow.await.unwrap(), 200);
    for _ in 0..3 {
        assert_eq!(gw.client.get("/api/trial/x", t).await.status.as_u16(), 200);
    }
}

#[tokio::test]
async fn bodiless_responses_leave_the_upstream_connection_reusable() {
    let service = TestUpstream::start("bodiless").await;
    let gw = TestGateway::spawn(&[("bodiless", service.url())], |_| {}).await;
    let auth = format!("Bearer {}", gw.token());
    let headers = [("authorization", auth.as_str())];
    for (method, path, status) in [
        (http::Method::HEAD, "/api/bodiless/x", 200),
        (http::Method::GET, "/api/bodiless/status/204", 204),
        (http::Method::GET, "/api/bodiless/status/304", 304),
    ] {
        for _ in 0..5 {
            let r = gw.client.request(method.clone(), path, &headers, Default::default()).await;
            assert_eq!(r.status.as_u16(), status, "{method} {path}");
        }
    }
    let used = service.connections();
    assert!(used <= 2, "15 bodiless responses in a row share kept-alive connections, not {used}");
}

#[tokio::test]
async fn upstream_connections_are_kept_alive_and_replaced_when_the_service_closes_them() {
    let service = TestUpstream::start_with_idle_close("closing", Some(Duration::from_millis(150))).await;
    let gw = TestGateway::spawn(&[("closing", service.url())], |_| {}).await;
    let token = gw.token();
    let t = Some(token.as_str());
    for _ in 0..20 {
        assert_eq!(gw.client.get("/api/closing/x", t).await.status.as_u16(), 200);
    }
    let used = service.connections();
    assert!(used <= 2, "20 requests in a row share kept-alive connections, not {used}");
    let text = gw.metrics().await;
    let open = metric(&text, r#"gateway_upstream_connections{upstream="closing"}"#).unwrap_or_default();
    assert!(open >= 1.0, "open connections are reported: {text}");

    // The service closes the idle connections; requests after that, with or without a body,
    // go out on new ones instead of failing on the closed ones.
    tokio::time::sleep(Duration::from_millis(400)).await;
    for i in 0..3 {
        let r = gw.client.post_json("/api/closing/x", t, &serde_json::json!({ "n": i })).await;
        assert_eq!(r.status.as_u16(), 200, "{}", String::from_utf8_lossy(&r.body));
        assert_eq!(gw.client.get("/api/closing/x", t).await.status.as_u16(), 200);
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert!(service.connections() > used, "closed connections were replaced");
    let text = gw.metrics().await;
    assert_eq!(metric(&text, r#"gateway_upstream_errors_total{upstream="closing",kind="bad_response"}"#), None);
}
