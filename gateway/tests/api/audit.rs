//! The HTTP/1.1 robustness audit's findings, one test each, on both paths (a gateway with the
//! direct path and one without it) wherever both apply: clients that starve a service by sending
//! or reading slowly, and the lenient edges where two parsers could disagree.

use crate::client::raw_status;
use crate::direct::{read_response, scripted};
use crate::helpers::{TestGateway, metric};
use crate::upstream::TestUpstream;
use crm_gateway::config::Config;
use serde_json::Value;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// The same gateway twice: with the direct path, and with every request on the general path.
async fn both(services: &[(&str, String)], tweak: impl Fn(&mut Config)) -> [(&'static str, TestGateway); 2] {
    let direct = TestGateway::spawn(services, |c| {
        c.verify_jwt = false;
        tweak(c);
    })
    .await;
    let general = TestGateway::spawn(services, |c| {
        c.verify_jwt = false;
        c.direct_path = false;
        tweak(c);
    })
    .await;
    [("direct", direct), ("general", general)]
}

/// Sends `request` on a new connection and reads everything until the gateway closes it (the
/// request should ask for that), at most 5 s.
async fn exchange_raw(port: u16, request: &[u8]) -> Vec<u8> {
    let mut tcp = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    tcp.write_all(request).await.unwrap();
    let mut out = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), tcp.read_to_end(&mut out)).await;
    out
}

/// One request on a new connection, its response read by its framing.
async fn one(port: u16, request: &str) -> crate::direct::Raw {
    let mut tcp = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    tcp.write_all(request.as_bytes()).await.unwrap();
    read_response(&mut tcp, &mut Vec::new(), false).await.expect("a response")
}

fn json(raw: &crate::direct::Raw) -> Value {
    serde_json::from_slice(&raw.body).unwrap_or_else(|_| panic!("not JSON: {}", String::from_utf8_lossy(&raw.body)))
}

/// Asserts an error envelope with `status`.
fn envelope(raw: &crate::direct::Raw, status: u16, what: &str) {
    assert_eq!(raw.status, status, "{what}: {}", String::from_utf8_lossy(&raw.body));
    assert_eq!(json(raw)["code"], status, "{what}");
}

/// A client that starts an upload of `declared` bytes, sends `first` of them, then one byte every
/// `every` until the gateway answers or closes, or `give_up` has passed. Returns the status it
/// got (0: none) and how long that took.
async fn trickle(port: u16, forwarded_for: String, declared: usize, first: usize, every: Duration) -> (u16, Duration) {
    let started = Instant::now();
    let give_up = Duration::from_secs(6);
    let mut tcp = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    let head = format!(
        "POST /api/foundation/drain HTTP/1.1\r\nHost: gw\r\nX-Forwarded-For: {forwarded_for}\r\n\
         Content-Length: {declared}\r\n\r\n"
    );
    if tcp.write_all(head.as_bytes()).await.is_err() || tcp.write_all(&vec![b'a'; first]).await.is_err() {
        return (0, started.elapsed());
    }
    let (mut read, mut write) = tcp.into_split();
    let answer = tokio::spawn(async move {
        let mut out = Vec::new();
        let mut buf = [0u8; 4096];
        while !out.windows(4).any(|w| w == b"\r\n\r\n") {
            match read.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => out.extend_from_slice(&buf[..n]),
            }
        }
        raw_status(&String::from_utf8_lossy(&out))
    });
    let sending = async {
        while started.elapsed() < give_up && write.write_all(b"a").await.is_ok() {
            tokio::time::sleep(every).await;
        }
    };
    let status = tokio::select! {
        status = answer => status.unwrap_or(0),
        () = sending => 0,
    };
    (status, started.elapsed())
}

/// A short pause after every 32nd connection: hundreds of connects at once can overflow the
/// listen queue of a loaded test machine, and a dropped handshake is retried only after a second.
async fn stagger(n: usize) {
    if n % 32 == 31 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// A request from another client (its own address) that should be served.
async fn served(port: u16, n: usize) -> u16 {
    let request = format!(
        "POST /api/foundation/drain HTTP/1.1\r\nHost: gw\r\nX-Forwarded-For: 198.51.100.{n}\r\n\
         Content-Length: 5\r\nConnection: close\r\n\r\nhello"
    );
    one(port, &request).await.status
}

/// The pace the slow-upload scenarios run with: the real one's shape, shorter.
fn short_pace(c: &mut Config) {
    c.rate.enabled = false;
    c.client.body_grace = Duration::from_millis(1000);
    c.client.body_min_rate = 1000;
    c.client.body_timeout = Duration::from_secs(3);
}

#[tokio::test]
async fn slow_uploads_from_one_address_do_not_starve_a_service() {
    let up = TestUpstream::start("foundation").await;
    // The service's bounds as configured by default: 256 in flight, 64 per client address.
    let gateways = both(&[("foundation", up.url())], short_pace).await;
    // One gateway after the other, so that at most 260 slow connections are open at a time.
    for (path, gw) in &gateways {
        // One address opens 260 slow uploads over 64 KiB (so they stream), as in the audit: it
        // gets its share of the service's 256 slots, and 429 for the rest.
        let mut slow = Vec::new();
        for n in 0..260 {
            slow.push(tokio::spawn(trickle(gw.port, "203.0.113.9".into(), 70_000, 500, Duration::from_millis(200))));
            stagger(n).await;
        }
        tokio::time::sleep(Duration::from_millis(150)).await;
        for n in 0..5 {
            assert_eq!(served(gw.port, n).await, 200, "{path}: another client is served while they trickle");
        }
        let outcomes: Vec<(u16, Duration)> =
            futures_util::future::join_all(slow).await.into_iter().map(Result::unwrap).collect();
        // Refused at once with 429 (which the client may not get to read: the gateway closes the
        // connection while it is still sending, and the reset can discard the answer), or cut off.
        let cut: Vec<_> = outcomes.iter().filter(|(s, _)| *s == 400).collect();
        assert_eq!(cut.len(), 64, "{path}: {outcomes:?}");
        assert!(outcomes.iter().all(|(s, _)| matches!(s, 400 | 429 | 0)), "{path}: {outcomes:?}");
        // Cut off once behind the pace: 1 s of grace and half a second for the first 500 bytes.
        assert!(cut.iter().all(|(_, took)| *took < Duration::from_millis(3000)), "{path}: {cut:?}");
        let text = gw.metrics().await;
        assert_eq!(metric(&text, r#"gateway_upstream_in_flight{upstream="foundation"}"#), Some(0.0), "{path}");
        assert_eq!(
            metric(&text, r#"gateway_upstream_errors_total{upstream="foundation",kind="client_saturated"}"#),
            Some(196.0),
            "{path}"
        );
    }
}

#[tokio::test]
async fn slow_uploads_from_many_addresses_hold_a_service_only_until_their_pace_runs_out() {
    let up = TestUpstream::start("foundation").await;
    let gateways = both(&[("foundation", up.url())], |c| {
        short_pace(c);
        c.upstream.max_concurrency = 32;
    })
    .await;
    // Both gateways at once: the scenario waits on the pace, not on work.
    futures_util::future::join_all(gateways.iter().map(|(path, gw)| async move {
        // As many addresses as the service has slots: they take them all, but only until the
        // pace runs out; then the service is everyone's again.
        let started = Instant::now();
        let slow: Vec<_> = (0..32)
            .map(|n| {
                let address = format!("203.0.114.{}", n + 1);
                tokio::spawn(trickle(gw.port, address, 70_000, 500, Duration::from_millis(200)))
            })
            .collect();
        let in_flight = async || {
            metric(&gw.metrics().await, r#"gateway_upstream_in_flight{upstream="foundation"}"#).unwrap_or_default()
        };
        while in_flight().await < 32.0 && started.elapsed() < Duration::from_millis(900) {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert_eq!(in_flight().await, 32.0, "{path}: every slot taken");
        assert_eq!(served(gw.port, 8).await, 503, "{path}: meanwhile the service is full");
        let outcomes: Vec<(u16, Duration)> =
            futures_util::future::join_all(slow).await.into_iter().map(Result::unwrap).collect();
        assert!(outcomes.iter().all(|(s, _)| *s == 400), "{path}: {outcomes:?}");
        assert!(started.elapsed() < Duration::from_secs(3), "{path}: {:?}", started.elapsed());
        assert_eq!(served(gw.port, 9).await, 200, "{path}");
        let text = gw.metrics().await;
        assert_eq!(metric(&text, r#"gateway_upstream_in_flight{upstream="foundation"}"#), Some(0.0), "{path}");
    }))
    .await;
}

#[tokio::test]
async fn clients_that_never_read_give_back_their_slots() {
    let up = TestUpstream::start("svc").await;
    let gateways = both(&[("svc", up.url())], |c| {
        c.rate.enabled = false;
        c.upstream.max_concurrency = 8;
        c.client.send_timeout = Duration::from_millis(800);
    })
    .await;
    // Both gateways at once: the scenario waits on timeouts, not on work.
    futures_util::future::join_all(gateways.iter().map(|(path, gw)| async move {
        // Ten clients ask for 64 MiB each and read none of it.
        let mut silent = Vec::new();
        for _ in 0..10 {
            let mut tcp = TcpStream::connect(("127.0.0.1", gw.port)).await.unwrap();
            let request = "GET /api/svc/large?bytes=67108864 HTTP/1.1\r\nHost: gw\r\nConnection: close\r\n\r\n";
            tcp.write_all(request.as_bytes()).await.unwrap();
            silent.push(tcp);
        }
        // While their writes are stuck they hold the slots (8 of them; two got 503 at once);
        // once the send timeout has passed the slots are given back and others are served again.
        let in_flight =
            async || metric(&gw.metrics().await, r#"gateway_upstream_in_flight{upstream="svc"}"#).unwrap_or_default();
        let waiting = Instant::now();
        while in_flight().await < 8.0 && waiting.elapsed() < Duration::from_secs(2) {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let started = Instant::now();
        let request = "GET /api/svc/x HTTP/1.1\r\nHost: gw\r\nConnection: close\r\n\r\n";
        envelope(&one(gw.port, request).await, 503, path);
        let mut status = 0;
        while started.elapsed() < Duration::from_secs(4) {
            status = one(gw.port, request).await.status;
            if status == 200 && in_flight().await == 0.0 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert_eq!(status, 200, "{path}: others are served again");
        // The slots were taken a moment before `started`; the timeout counts from the first
        // write that could not go through, after that.
        assert!(started.elapsed() >= Duration::from_millis(700), "{path}: not before the send timeout");
        let text = gw.metrics().await;
        assert_eq!(metric(&text, r#"gateway_upstream_in_flight{upstream="svc"}"#), Some(0.0), "{path}");
        // The silent clients were cut off: reading now ends (after what was in flight) instead of
        // delivering 64 MiB. (The two refused with 503 at once were closed after it.)
        let drains = silent.into_iter().map(|mut tcp| async move {
            let mut total = 0usize;
            let mut buf = vec![0u8; 256 * 1024];
            let drained = tokio::time::timeout(Duration::from_secs(2), async {
                loop {
                    match tcp.read(&mut buf).await {
                        Ok(0) | Err(_) => break,
                        Ok(n) => total += n,
                    }
                }
            })
            .await;
            (drained.is_ok(), total)
        });
        let drained = futures_util::future::join_all(drains).await;
        assert!(drained.iter().all(|(_, total)| *total < 64 * 1024 * 1024), "{path}: {drained:?}");
        assert!(drained.iter().all(|(closed, _)| *closed), "{path}: {drained:?}");
    }))
    .await;
}

#[tokio::test]
async fn only_websocket_upgrades_pass_and_only_where_allowed() {
    let up = TestUpstream::start("svc").await;
    // A service that switches protocols whatever it is asked.
    let switching =
        scripted(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\nConnection: Upgrade\r\n\r\nraw").await;
    let services = [("svc", up.url()), ("switching", format!("http://127.0.0.1:{switching}"))];
    let gateways = both(&services, |c| c.websocket_paths = vec!["/api/svc/ws".into()]).await;
    for (path, gw) in &gateways {
        // h2c: forwarded as a plain request, without the upgrade and what Connection names.
        let h2c = "GET /api/svc/echo HTTP/1.1\r\nHost: gw\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\n\
                   HTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\nConnection: close\r\n\r\n";
        let r = one(gw.port, h2c).await;
        let headers = &json(&r)["headers"];
        assert_eq!(r.status, 200, "{path}");
        for gone in ["upgrade", "http2-settings", "connection"] {
            assert!(headers.get(gone).is_none(), "{path}: {gone} reached the service: {headers}");
        }
        // A service answering 101 to a request that asked for no upgrade is a bad gateway.
        envelope(&one(gw.port, h2c.replace("/api/svc/echo", "/api/switching/x").as_str()).await, 502, path);
        // WebSocket outside the allowed paths, or not with GET: no upgrade either.
        let ws = |method: &str, target: &str| {
            format!(
                "{method} {target} HTTP/1.1\r\nHost: gw\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\
                 Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nContent-Length: 0\r\n\r\n"
            )
        };
        let r = one(gw.port, &ws("GET", "/api/svc/echo")).await;
        assert!(json(&r)["headers"].get("upgrade").is_none(), "{path}");
        let r = one(gw.port, &ws("POST", "/api/svc/ws")).await;
        assert_ne!(r.status, 101, "{path}");
        // Where allowed, a WebSocket handshake passes.
        let mut tcp = TcpStream::connect(("127.0.0.1", gw.port)).await.unwrap();
        tcp.write_all(ws("GET", "/api/svc/ws").as_bytes()).await.unwrap();
        let r = read_response(&mut tcp, &mut Vec::new(), true).await.unwrap();
        assert_eq!(r.status, 101, "{path}");
    }
}

#[tokio::test]
async fn host_must_be_present_single_and_valid() {
    let up = TestUpstream::start("svc").await;
    let gateways = both(&[("svc", up.url())], |_| {}).await;
    for (path, gw) in &gateways {
        for (what, hosts) in [
            ("none", ""),
            ("two", "Host: gw\r\nHost: other\r\n"),
            ("traversal", "Host: evil.example/../x@y\r\n"),
            ("space", "Host: a b\r\n"),
            ("empty", "Host: \r\n"),
        ] {
            let r = one(gw.port, &format!("GET /api/svc/x HTTP/1.1\r\n{hosts}Connection: close\r\n\r\n")).await;
            envelope(&r, 400, &format!("{path} {what}"));
        }
        // HTTP/1.0 does not require one.
        let r = one(gw.port, "GET /api/svc/x HTTP/1.0\r\n\r\n").await;
        assert_eq!(r.status, 200, "{path}");
    }
    assert_eq!(up.hits(), 2, "only the HTTP/1.0 requests reached the service");
}

#[tokio::test]
async fn connection_cannot_remove_the_gateways_own_headers() {
    let up = TestUpstream::start("svc").await;
    let gateways = both(&[("svc", up.url())], |_| {}).await;
    for (path, gw) in &gateways {
        let r = one(
            gw.port,
            "GET /api/svc/x HTTP/1.1\r\nHost: gw\r\nConnection: X-Request-ID, traceparent, X-Real-IP\r\nConnection: close\r\n\r\n",
        )
        .await;
        let headers = &json(&r)["headers"];
        assert_eq!(headers["x-request-id"].as_str(), r.header("x-request-id"), "{path}: {headers}");
        assert_eq!(headers["traceparent"].as_str(), r.header("traceparent"), "{path}: {headers}");
        assert_eq!(headers["x-real-ip"], "127.0.0.1", "{path}: {headers}");
    }
}

#[tokio::test]
async fn client_address_headers_are_the_gateways_to_set() {
    let up = TestUpstream::start("svc").await;
    let claims = "X-Real-IP: 6.6.6.6\r\nForwarded: for=6.6.6.6\r\nTrue-Client-IP: 6.6.6.6\r\nX-Client-IP: 6.6.6.6\r\n";
    let request = format!(
        "GET /api/svc/x HTTP/1.1\r\nHost: gw\r\n{claims}X-Forwarded-For: 203.0.113.5\r\nConnection: close\r\n\r\n"
    );
    // 127.0.0.1 untrusted: every claim goes, X-Real-IP is the peer.
    let untrusted =
        both(&[("svc", up.url())], |c| c.common.trusted_proxies = crm_common::net::Proxies::parse("10.9.9.9").unwrap())
            .await;
    for (path, gw) in &untrusted {
        let headers = json(&one(gw.port, &request).await)["headers"].clone();
        assert_eq!(
            (headers["x-real-ip"].as_str(), headers["x-forwarded-for"].as_str()),
            (Some("127.0.0.1"), Some("127.0.0.1")),
            "{path}: {headers}"
        );
        for gone in ["forwarded", "true-client-ip", "x-client-ip"] {
            assert!(headers.get(gone).is_none(), "{path}: {gone}: {headers}");
        }
    }
    // Trusted (the default 127.0.0.1): X-Real-IP is the client its chain names, the rest kept.
    let trusted = both(&[("svc", up.url())], |_| {}).await;
    for (path, gw) in &trusted {
        let headers = json(&one(gw.port, &request).await)["headers"].clone();
        assert_eq!(headers["x-real-ip"], "203.0.113.5", "{path}: {headers}");
        assert_eq!(headers["forwarded"], "for=6.6.6.6", "{path}: {headers}");
    }
}

#[tokio::test]
async fn header_names_with_underscores_are_dropped() {
    let up = TestUpstream::start("svc").await;
    let gateways = both(&[("svc", up.url())], |_| {}).await;
    for (path, gw) in &gateways {
        let r = one(
            gw.port,
            "POST /api/svc/x HTTP/1.1\r\nHost: gw\r\nTransfer_Encoding: chunked\r\nContent_Length: 99\r\nX_Custom: 1\r\n\
             X-Kept: 1\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello",
        )
        .await;
        let echo = json(&r);
        assert_eq!((echo["body"].as_str(), echo["headers"]["x-kept"].as_str()), (Some("hello"), Some("1")), "{path}");
        let names: Vec<&String> = echo["headers"].as_object().unwrap().keys().collect();
        assert!(names.iter().all(|n| !n.contains('_')), "{path}: {names:?}");
    }
}

#[tokio::test]
async fn lengths_are_forwarded_as_numbers_and_odd_framing_is_refused() {
    let up = TestUpstream::start("svc").await;
    let padded = scripted(b"HTTP/1.1 200 OK\r\nContent-Length: 0002\r\n\r\nok").await;
    let services = [("svc", up.url()), ("padded", format!("http://127.0.0.1:{padded}"))];
    let gateways = both(&services, |_| {}).await;
    for (path, gw) in &gateways {
        for declared in ["05", "0000000000000000000005"] {
            let request = format!(
                "POST /api/svc/x HTTP/1.1\r\nHost: gw\r\nContent-Length: {declared}\r\nConnection: close\r\n\r\nhello"
            );
            let echo = json(&one(gw.port, &request).await);
            assert_eq!(
                (echo["headers"]["content-length"].as_str(), echo["body"].as_str()),
                (Some("5"), Some("hello")),
                "{path} {declared}"
            );
        }
        let r = one(gw.port, "GET /api/padded/x HTTP/1.1\r\nHost: gw\r\nConnection: close\r\n\r\n").await;
        assert_eq!((r.status, r.header("content-length"), r.body.as_slice()), (200, Some("2"), &b"ok"[..]), "{path}");

        // A chunk-size line with whitespace before its CRLF: refused, never a complete body.
        for line in ["5 ", "5\t"] {
            let request = format!(
                "POST /api/svc/drain HTTP/1.1\r\nHost: gw\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n\
                 {line}\r\nhello\r\n0\r\n\r\n"
            );
            envelope(&one(gw.port, &request).await, 400, &format!("{path} {line:?}"));
        }
        let request = "POST /api/svc/drain HTTP/1.1\r\nHost: gw\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n\
                       5;ext=1\r\nhello\r\n0\r\n\r\n";
        assert_eq!(json(&one(gw.port, request).await)["bytes"], 5, "{path}: a well-formed line still goes");

        // A dot segment with parameters is a dot segment.
        for target in ["/api/svc/..;/x", "/api/svc/.;x=1/y"] {
            let r = one(gw.port, &format!("GET {target} HTTP/1.1\r\nHost: gw\r\nConnection: close\r\n\r\n")).await;
            envelope(&r, 400, &format!("{path} {target}"));
        }
    }
}

#[tokio::test]
async fn upstream_replies_are_normalised_alike() {
    let scripts: [(&str, &'static [u8]); 6] = [
        ("no-content", b"HTTP/1.1 204 No Content\r\nContent-Length: 8\r\n\r\n"),
        ("trailers", b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4;x=y\r\nabcd\r\n2 \r\nef\r\n0\r\nContent-Length: 999\r\nX-Sum: 1\r\n\r\n"),
        ("both", b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n6\r\nabcdef\r\n0\r\n\r\n"),
        ("switch", b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: upgrade\r\n\r\n"),
        ("gzip", b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"),
        ("two-codings", b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"),
    ];
    let mut services = Vec::new();
    for (name, script) in scripts {
        services.push((name, format!("http://127.0.0.1:{}", scripted(script).await)));
    }
    let gateways = both(&services, |_| {}).await;
    let mut answers: Vec<Vec<String>> = Vec::new();
    for (path, gw) in &gateways {
        let get = |service: &str| format!("GET /api/{service}/x HTTP/1.1\r\nHost: gw\r\nConnection: close\r\n\r\n");
        let raw = |bytes: Vec<u8>| String::from_utf8_lossy(&bytes).to_ascii_lowercase();

        let r = raw(exchange_raw(gw.port, get("no-content").as_bytes()).await);
        assert!(r.starts_with("http/1.1 204") && !r.contains("content-length"), "{path}: {r}");

        let r = raw(exchange_raw(gw.port, get("trailers").as_bytes()).await);
        assert!(r.starts_with("http/1.1 200") && r.contains("transfer-encoding: chunked"), "{path}: {r}");
        let body = r.split_once("\r\n\r\n").unwrap().1.to_owned();
        assert_eq!(body, "4\r\nabcd\r\n2\r\nef\r\n0\r\n\r\n", "{path}: no extensions, no trailers");

        // A length beside chunked framing: the decoded body is framed anew, whole.
        let mut tcp = TcpStream::connect(("127.0.0.1", gw.port)).await.unwrap();
        tcp.write_all(get("both").replace("Connection: close\r\n", "").as_bytes()).await.unwrap();
        let r = read_response(&mut tcp, &mut Vec::new(), false).await.unwrap();
        assert_eq!((r.status, r.header("content-length"), r.body.as_slice()), (200, None, &b"abcdef"[..]), "{path}");

        let mut statuses = Vec::new();
        for bad in ["switch", "gzip", "two-codings"] {
            let r = one(gw.port, &get(bad)).await;
            envelope(&r, 502, &format!("{path} {bad}"));
            statuses.push(format!("{bad}: {}", r.status));
        }
        answers.push(statuses);
    }
    assert_eq!(answers[0], answers[1], "both paths answer alike");
}
