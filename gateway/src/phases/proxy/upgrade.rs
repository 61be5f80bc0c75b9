//! Protocol upgrades (WebSocket): once the upstream answers 101, both connections are handed over
//! and bytes are copied both ways until either side closes.

use hyper::upgrade::OnUpgrade;
use hyper_util::rt::TokioIo;

pub fn tunnel(client: OnUpgrade, upstream: OnUpgrade, request_id: String) {
    tokio::spawn(async move {
        let (client, upstream) = match tokio::try_join!(client, upstream) {
            Ok(pair) => pair,
            Err(err) => {
                tracing::warn!(request_id, error = %err, "upgrade failed");
                return;
            }
        };
        let mut client = TokioIo::new(client);
        let mut upstream = TokioIo::new(upstream);
        match tokio::io::copy_bidirectional(&mut client, &mut upstream).await {
            Ok((up, down)) => {
                tracing::debug!(request_id, bytes_up = up, bytes_down = down, "upgraded connection closed")
            }
            Err(err) => tracing::debug!(request_id, error = %err, "upgraded connection ended"),
        }
    });
}
