use crate::helpers::TestGateway;
use crate::upstream::{TestUpstream, dead_port, hanging};
use std::time::{Duration, Instant};

#[tokio::test]
async fn gateway_health() {
    let gw = TestGateway::spawn(&[], |_| {}).await;
    let r = gw.client.get("/health", None).await;
    assert_eq!(r.status.as_u16(), 200);
    let body = r.json();
    assert_eq!(body["status"], "healthy");
    assert_eq!(body["service"], "gateway");
    assert_eq!(body["version"], crm_gateway::VERSION);
    assert!(body["uptime_seconds"].is_u64());
}

#[tokio::test]
async fn services_health_fans_out_within_the_deadline() {
    let up = TestUpstream::start("foundation").await;
    let dead = dead_port().await;
    let stuck = hanging().await;
    let gw = TestGateway::spawn(
        &[
            ("foundation", up.url()),
            ("order-workflow", format!("http://127.0.0.1:{dead}")),
            ("analytics-monitoring", format!("http://127.0.0.1:{}", stuck.port)),
        ],
        |c| c.health_deadline = Duration::from_millis(500),
    )
    .await;
    let started = Instant::now();
    let r = gw.client.get("/health/services", None).await;
    let took = started.elapsed();
    assert!(took < Duration::from_millis(1500), "bounded by the 500 ms deadline, not the hanging service: {took:?}");
    let body = r.expect_envelope(200);
    let data = &body["data"];
    assert_eq!(data["overall_status"], "degraded");
    assert!(data["checked_at"].is_string());
    let services = data["services"].as_array().unwrap();
    let by_name = |n: &str| services.iter().find(|s| s["name"] == n).unwrap().clone();
    let healthy = by_name("foundation");
    assert_eq!(healthy["status"], "healthy");
    assert_eq!(healthy["version"], "9.9.9");
    assert_eq!(healthy["uptime"], 42);
    assert!(healthy["latency_ms"].as_f64().unwrap() < 500.0);
    assert_eq!(by_name("order-workflow")["status"], "unreachable");
    assert_eq!(by_name("analytics-monitoring")["status"], "timeout");
    assert!(stuck.connections.load(std::sync::atomic::Ordering::SeqCst) >= 1);

    // Everything down: unhealthy, 503.
    let gw = TestGateway::spawn(&[("order-workflow", format!("http://127.0.0.1:{dead}"))], |_| {}).await;
    let body = gw.client.get("/health/services", None).await.expect_envelope(503);
    assert_eq!(body["data"]["overall_status"], "unhealthy");
}
