use crate::client::raw;
use crate::helpers::TestGateway;
use crate::upstream::TestUpstream;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// WebSocket upgrades pass only under the configured paths.
fn allow_ws(config: &mut crm_gateway::config::Config) {
    config.websocket_paths = vec!["/api/analytics-monitoring/ws".into()];
}

/// Sends the WebSocket handshake and reads the response head.
async fn upgrade(port: u16, token: &str) -> (TcpStream, String) {
    let handshake = format!(
        "GET /api/analytics-monitoring/ws HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n\
         Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
    );
    let mut tcp = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    tcp.write_all(handshake.as_bytes()).await.unwrap();
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        assert_eq!(tcp.read(&mut byte).await.unwrap(), 1, "connection closed during the handshake");
        head.push(byte[0]);
    }
    (tcp, String::from_utf8(head).unwrap().to_ascii_lowercase())
}

async fn echo(tcp: &mut TcpStream, message: &[u8]) {
    tcp.write_all(message).await.unwrap();
    let mut got = vec![0u8; message.len()];
    tokio::time::timeout(Duration::from_secs(5), tcp.read_exact(&mut got)).await.unwrap().unwrap();
    assert_eq!(got, message);
}

#[tokio::test]
async fn websocket_upgrade_passes_through() {
    let up = TestUpstream::start("analytics-monitoring").await;
    let gw = TestGateway::spawn(&[("analytics-monitoring", up.url())], allow_ws).await;
    let (mut tcp, head) = upgrade(gw.port, &gw.token()).await;
    assert!(head.starts_with("http/1.1 101"), "{head}");
    assert!(head.contains("upgrade: websocket"), "{head}");
    // Bytes flow both ways over the upgraded connection.
    for message in [&b"hello"[..], &b"over the gateway"[..]] {
        echo(&mut tcp, message).await;
    }
    // Without a token the handshake is refused like any request.
    let refused = raw(
        gw.port,
        "GET /api/analytics-monitoring/ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n",
    )
    .await;
    assert!(refused.starts_with("HTTP/1.1 401"), "{refused}");
}

#[tokio::test]
async fn idle_tunnels_are_closed_and_busy_ones_kept() {
    let up = TestUpstream::start("analytics-monitoring").await;
    let gw = TestGateway::spawn(&[("analytics-monitoring", up.url())], |c| {
        allow_ws(c);
        c.upstream.tunnel_idle = Duration::from_millis(400);
    })
    .await;
    let (mut tcp, head) = upgrade(gw.port, &gw.token()).await;
    assert!(head.starts_with("http/1.1 101"), "{head}");
    // Traffic every 150 ms keeps the tunnel open well past the idle limit.
    let mut last = std::time::Instant::now();
    for i in 0..8u8 {
        tokio::time::sleep(Duration::from_millis(150)).await;
        echo(&mut tcp, &[b'a' + i]).await;
        last = std::time::Instant::now();
    }
    assert!(gw.metrics().await.contains("gateway_tunnels_open{upstream=\"analytics-monitoring\"} 1"));
    // Then silence: the gateway closes the client's connection once the limit has passed.
    let mut byte = [0u8; 1];
    let read = tokio::time::timeout(Duration::from_secs(5), tcp.read(&mut byte)).await.expect("tunnel still open");
    assert_eq!(read.unwrap_or(0), 0, "expected the connection to be closed");
    assert!(last.elapsed() >= Duration::from_millis(350), "closed too early: {:?}", last.elapsed());
    assert!(gw.metrics().await.contains("gateway_tunnels_open{upstream=\"analytics-monitoring\"} 0"));
}

#[tokio::test]
async fn upgrades_beyond_the_tunnel_bound_are_refused_without_reaching_the_service() {
    let up = TestUpstream::start("analytics-monitoring").await;
    let gw = TestGateway::spawn(&[("analytics-monitoring", up.url())], |c| {
        allow_ws(c);
        c.upstream.max_tunnels = 1;
    })
    .await;
    let (mut first, head) = upgrade(gw.port, &gw.token()).await;
    assert!(head.starts_with("http/1.1 101"), "{head}");
    let hits = up.hits();
    let (_, refused) = upgrade(gw.port, &gw.token()).await;
    assert!(refused.starts_with("http/1.1 503"), "{refused}");
    assert_eq!(up.hits(), hits, "a refused upgrade must not reach the service");
    // Plain requests are not held back by the open tunnel.
    let plain = raw(
        gw.port,
        &format!(
            "GET /api/analytics-monitoring/x HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\nConnection: close\r\n\r\n",
            gw.token()
        ),
    )
    .await;
    assert!(plain.starts_with("HTTP/1.1 200"), "{plain}");
    echo(&mut first, b"still open").await;
    let metrics = gw.metrics().await;
    assert!(metrics.contains("gateway_tunnels_open{upstream=\"analytics-monitoring\"} 1"), "{metrics}");
    assert!(metrics.contains("kind=\"tunnels_full\""), "{metrics}");
    // Once the first tunnel closes, its place is free again.
    drop(first);
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    loop {
        let (_, head) = upgrade(gw.port, &gw.token()).await;
        if head.starts_with("http/1.1 101") {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "the closed tunnel's place was not given back: {head}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
