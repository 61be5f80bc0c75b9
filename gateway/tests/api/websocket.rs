use crate::client::raw;
use crate::helpers::TestGateway;
use crate::upstream::TestUpstream;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[tokio::test]
async fn websocket_upgrade_passes_through() {
    let up = TestUpstream::start("analytics-monitoring").await;
    let gw = TestGateway::spawn(&[("analytics-monitoring", up.url())], |_| {}).await;
    let token = gw.token();
    let handshake = format!(
        "GET /api/analytics-monitoring/ws HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n\
         Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
    );
    let mut tcp = tokio::net::TcpStream::connect(("127.0.0.1", gw.port)).await.unwrap();
    tcp.write_all(handshake.as_bytes()).await.unwrap();
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        assert_eq!(tcp.read(&mut byte).await.unwrap(), 1, "connection closed during the handshake");
        head.push(byte[0]);
    }
    let head = String::from_utf8(head).unwrap().to_ascii_lowercase();
    assert!(head.starts_with("http/1.1 101"), "{head}");
    assert!(head.contains("upgrade: websocket"), "{head}");
    // Bytes flow both ways over the upgraded connection.
    for message in [&b"hello"[..], &b"over the gateway"[..]] {
        tcp.write_all(message).await.unwrap();
        let mut got = vec![0u8; message.len()];
        tokio::time::timeout(std::time::Duration::from_secs(5), tcp.read_exact(&mut got)).await.unwrap().unwrap();
        assert_eq!(got, message);
    }
    // Without a token the handshake is refused like any request.
    let refused = raw(
        gw.port,
        "GET /api/analytics-monitoring/ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n",
    )
    .await;
    assert!(refused.starts_with("HTTP/1.1 401"), "{refused}");
}
