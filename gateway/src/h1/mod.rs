//! The direct path: a plain HTTP/1.1 connection loop for what most traffic is — a request with a
//! small or no body, forwarded to a service and its response relayed back.
//!
//! The general path (hyper, [`crate::server`]) goes through a request and response body channel,
//! a connection task per upstream connection and the boxing of every body on the way; for a small
//! proxied exchange that machinery costs more than the proxying. Here a connection's requests are
//! parsed from its read buffer, run through the same phases ([`crate::pipeline::Gateway::admit`]
//! and the proxy's pieces), written to a kept-alive service connection as one buffer, and the
//! response head and body are relayed as they arrive (see [`relay`]), all on the connection's own
//! task.
//!
//! The first request this path does not take — one whose framing could be read more than one way,
//! a streamed or large body, an upgrade, one of the gateway's own routes, a preflight, a login
//! counted per account, or any request while traces are exported — hands the connection to the
//! general path, with the bytes read so far put back in front ([`rewind`]). That request and
//! everything after it on the connection are served there.

pub mod deadline;
pub mod direct;
pub mod relay;
pub mod rewind;
pub mod strict;
pub mod wire;

use crate::context::Connection;
use crate::pipeline::Gateway;
use crate::server::stopped;
use bytes::BytesMut;
use deadline::Deadline;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::watch;

/// Largest request body the direct path reads whole; larger ones stream on the general path.
pub const BODY_LIMIT: usize = 64 * 1024;
/// Largest request head looked at here; the general path answers a larger one (431).
const MAX_HEAD: usize = 64 * 1024;
/// How long a request (head and body) may take to arrive, idle keep-alive time included.
const REQUEST_READ_TIMEOUT: Duration = Duration::from_secs(30);
const READ_CHUNK: usize = 8 * 1024;

/// Serves a connection's requests until it closes, `shutdown` turns true between two requests,
/// or a request needs the general path.
pub async fn serve<S>(mut stream: S, info: Connection, gateway: Arc<Gateway>, mut shutdown: watch::Receiver<bool>)
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let mut buf = BytesMut::with_capacity(READ_CHUNK);
    let mut scratch = direct::Scratch { out: BytesMut::with_capacity(READ_CHUNK), deadline: Deadline::new() };
    let max_body = BODY_LIMIT.min(gateway.body_limit) as u64;
    // Bounds the reads of each request; reused, like the service side's in `scratch`.
    let mut reading = Deadline::new();
    loop {
        reading.arm(REQUEST_READ_TIMEOUT);
        let request = loop {
            if !buf.is_empty() {
                let direct = |method: &_, path: &_| gateway.direct(method, path);
                match wire::request(&mut buf, max_body, direct) {
                    wire::Head::Direct(request) => break request,
                    wire::Head::Partial if buf.len() <= MAX_HEAD => {}
                    wire::Head::Partial | wire::Head::General => {
                        let general = Box::pin(handover(stream, buf, info, gateway, shutdown));
                        return general.await;
                    }
                }
            }
            let idle = buf.is_empty();
            tokio::select! {
                biased;
                read = reading.run(read_more(&mut stream, &mut buf)) => {
                    if read != Some(true) {
                        return;
                    }
                }
                // Between requests only: one under way is finished first.
                () = stopped(&mut shutdown), if idle => return,
            }
        };
        let length = usize::try_from(request.content_length).unwrap_or(usize::MAX);
        while buf.len() < length {
            if reading.run(read_more(&mut stream, &mut buf)).await != Some(true) {
                return;
            }
        }
        let body = buf.split_to(length).freeze();
        if !direct::serve(&gateway, request, body, &info, &mut stream, &mut scratch).await {
            let _ = stream.shutdown().await;
            return;
        }
    }
}

/// Reads what the client sent next; false at the end of the stream or on an error.
async fn read_more<S: AsyncRead + Unpin>(stream: &mut S, buf: &mut BytesMut) -> bool {
    buf.reserve(READ_CHUNK);
    matches!(stream.read_buf(buf).await, Ok(n) if n > 0)
}

/// The rest of the connection on the general path, from the request in `buf` on.
async fn handover<S>(stream: S, buf: BytesMut, info: Connection, gateway: Arc<Gateway>, shutdown: watch::Receiver<bool>)
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let help = "Connections the direct path handed to the general path, at the first request it does not serve.";
    gateway.metrics.inc("gateway_direct_handovers_total", help, &[], 1);
    crate::server::general(rewind::Rewind::new(stream, buf.freeze()), info, gateway, shutdown).await;
}
