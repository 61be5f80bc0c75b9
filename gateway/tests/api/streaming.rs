//! Bodies stream through the real gateway binary without being held in memory.

use crate::client::Client;
use crate::helpers::spawn_gateway_process;
use crate::upstream::TestUpstream;
use http::{Method, Request};
use http_body_util::{BodyExt, StreamBody};
use hyper::body::{Body, Bytes, Frame};

const MIB: usize = 1024 * 1024;
const TOTAL: usize = 50 * MIB;

/// (VmRSS, VmHWM) of a process, in KiB.
fn memory_kib(pid: u32) -> (u64, u64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse().ok())
            .unwrap()
    };
    (field("VmRSS:"), field("VmHWM:"))
}

async fn count_body(body: hyper::body::Incoming) -> usize {
    let mut body = body;
    let mut n = 0;
    while let Some(frame) = body.frame().await {
        n += frame.unwrap().data_ref().map_or(0, |d| d.len());
    }
    n
}

#[tokio::test]
async fn fifty_mib_both_ways_with_bounded_memory() {
    let up = TestUpstream::start("order-workflow").await;
    let gateway = spawn_gateway_process(&[
        ("CRM_SERVICE_URLS", format!("order-workflow={}", up.url())),
        ("CRM_GATEWAY_VERIFY_JWT", "false".into()),
        ("CRM_BODY_LIMIT_BYTES", (100 * MIB).to_string()),
    ])
    .await;
    let client = Client::plain(gateway.port);
    // Warm up (allocator arenas, connection pool) before taking the baseline.
    for _ in 0..3 {
        assert_eq!(client.get("/api/order-workflow/warm", None).await.status.as_u16(), 200);
    }
    let (baseline, _) = memory_kib(gateway.pid());

    // Upload 50 MiB, streamed back by the upstream as it arrives, read as it comes.
    let chunk = Bytes::from(vec![b'z'; 256 * 1024]);
    let frames = (0..TOTAL / chunk.len()).map(move |_| Ok::<_, std::io::Error>(Frame::data(chunk.clone())));
    let body = StreamBody::new(futures_util::stream::iter(frames));
    assert!(body.size_hint().exact().is_none(), "sent chunked, without a declared length");
    let request = Request::builder().method(Method::POST).uri("/api/order-workflow/stream-echo").body(body).unwrap();
    let response = client.send(request).await;
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(count_body(response.into_body()).await, TOTAL);

    // Download 50 MiB.
    let request = Request::builder()
        .uri(format!("/api/order-workflow/large?bytes={TOTAL}"))
        .body(http_body_util::Empty::<Bytes>::new())
        .unwrap();
    let response = client.send(request).await;
    assert_eq!(response.headers()["content-length"], TOTAL.to_string().as_str());
    assert_eq!(count_body(response.into_body()).await, TOTAL);

    let (_, peak) = memory_kib(gateway.pid());
    let growth_mib = peak.saturating_sub(baseline) as f64 / 1024.0;
    eprintln!("gateway memory: baseline RSS {baseline} KiB, peak {peak} KiB, growth {growth_mib:.1} MiB");
    assert!(growth_mib < 16.0, "gateway peak memory grew by {growth_mib:.1} MiB for 2×50 MiB streamed");

    // The access log: one JSON line per request, no secrets.
    let _ = client.get("/api/order-workflow/logged?token=secret-in-query", Some("secret-token")).await;
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let log = std::fs::read_to_string(gateway.dir.0.join("stdout.log")).unwrap();
    let lines: Vec<serde_json::Value> = log
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v["message"] == "request")
        .collect();
    let line = lines.iter().find(|v| v["path"] == "/api/order-workflow/logged").expect("access log line");
    for field in ["method", "route", "status", "duration_ms", "upstream", "request_id", "user_id"] {
        assert!(line.get(field).is_some(), "{field} missing in {line}");
    }
    assert_eq!(line["status"], 200);
    assert_eq!(line["upstream"], "order-workflow");
    let upload = lines.iter().find(|v| v["path"] == "/api/order-workflow/stream-echo").unwrap();
    assert!(upload["duration_ms"].as_f64().unwrap() > 0.0);
    assert!(!log.contains("secret-token") && !log.contains("secret-in-query"), "no tokens or queries in logs");
}
