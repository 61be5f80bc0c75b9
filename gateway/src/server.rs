//! Listeners and workers: connections are accepted on the runtime that started the gateway and
//! handed to the worker thread with the fewest open connections. Each worker runs its own
//! single-threaded event loop (TLS handshake, HTTP/1.1 on the direct path or hyper's with
//! upgrades, the request pipeline and its upstream connections), so a request never changes
//! thread; on shutdown every worker lets its open connections finish their current request.

use crate::context::{Connection, Scheme};
use crate::pipeline::Gateway;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, watch};
use tokio_rustls::TlsAcceptor;

const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(30);
const TLS_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
const DRAIN_TIMEOUT: Duration = Duration::from_secs(10);

/// A connection on its way from the acceptor to a worker.
struct Accepted {
    stream: std::net::TcpStream,
    peer: SocketAddr,
    tls: Option<TlsAcceptor>,
}

struct Worker {
    inbox: mpsc::UnboundedSender<Accepted>,
    /// Connections the worker has open; the acceptor picks the least loaded worker.
    open: Arc<AtomicUsize>,
    thread: std::thread::JoinHandle<()>,
}

/// The worker threads.
pub struct Workers(Vec<Worker>);

impl Workers {
    /// Starts `count` workers; each serves what it is handed until `shutdown` turns true (or its
    /// sender is dropped), then drains its connections.
    pub fn start(count: usize, gateway: Arc<Gateway>, shutdown: watch::Receiver<bool>) -> std::io::Result<Self> {
        let mut workers = Vec::with_capacity(count);
        for index in 0..count.max(1) {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
            let (inbox, rx) = mpsc::unbounded_channel();
            let open = Arc::new(AtomicUsize::new(0));
            let (gateway, shutdown, counter) = (gateway.clone(), shutdown.clone(), open.clone());
            let thread = std::thread::Builder::new().name(format!("gateway-worker-{index}")).spawn(move || {
                crate::upstream::set_worker(index);
                crm_common::shard::assign(index);
                runtime.block_on(work(rx, counter, gateway, shutdown));
            })?;
            workers.push(Worker { inbox, open, thread });
        }
        Ok(Self(workers))
    }

    fn dispatch(&self, accepted: Accepted) {
        let Some(worker) = self.0.iter().min_by_key(|w| w.open.load(Ordering::Relaxed)) else { return };
        // Counted here, not when the worker picks it up, so a burst of accepts spreads out.
        worker.open.fetch_add(1, Ordering::Relaxed);
        if worker.inbox.send(accepted).is_err() {
            worker.open.fetch_sub(1, Ordering::Relaxed);
        }
    }

    /// Waits (blocking) for every worker to finish draining.
    pub fn join(self) {
        for worker in self.0 {
            drop(worker.inbox);
            let _ = worker.thread.join();
        }
    }
}

/// Accepts on `listener` until `shutdown` turns true, handing each connection to a worker.
pub async fn accept(
    listener: TcpListener,
    tls: Option<TlsAcceptor>,
    workers: Arc<Workers>,
    mut shutdown: watch::Receiver<bool>,
) {
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = stopped(&mut shutdown) => break,
        };
        let (stream, peer) = match accepted {
            Ok(pair) => pair,
            Err(err) => {
                // Out of file descriptors and the like: back off instead of spinning.
                tracing::warn!(error = %err, "accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        match stream.into_std() {
            Ok(stream) => workers.dispatch(Accepted { stream, peer, tls: tls.clone() }),
            Err(err) => tracing::debug!(error = %err, "accepted connection unusable"),
        }
    }
}

/// Decrements the worker's open-connection count when the connection ends.
struct Open(Arc<AtomicUsize>);

impl Drop for Open {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

/// One worker's event loop.
async fn work(
    mut inbox: mpsc::UnboundedReceiver<Accepted>,
    open: Arc<AtomicUsize>,
    gateway: Arc<Gateway>,
    mut global: watch::Receiver<bool>,
) {
    // The connections watch a channel of this worker's own, which follows the global one: every
    // wait for the next request registers with the channel it watches, and one shared by all
    // workers would be a lock and a cache line each of them takes on every request.
    let (local, mut shutdown) = watch::channel(false);
    tokio::spawn(async move {
        stopped(&mut global).await;
        let _ = local.send(true);
    });
    let (alive_tx, mut alive_rx) = mpsc::channel::<()>(1);
    loop {
        let accepted = tokio::select! {
            accepted = inbox.recv() => accepted,
            () = stopped(&mut shutdown) => None,
        };
        let Some(Accepted { stream, peer, tls }) = accepted else { break };
        let guard = Open(open.clone());
        let (gateway, shutdown, alive) = (gateway.clone(), shutdown.clone(), alive_tx.clone());
        tokio::spawn(async move {
            let stream = match TcpStream::from_std(stream) {
                Ok(stream) => stream,
                Err(err) => {
                    tracing::debug!(error = %err, "accepted connection unusable");
                    return;
                }
            };
            let _ = stream.set_nodelay(true);
            match tls {
                None => serve(stream, Connection::new(peer, Scheme::Http), gateway, shutdown).await,
                Some(acceptor) => match tokio::time::timeout(TLS_HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
                    Ok(Ok(stream)) => serve(stream, Connection::new(peer, Scheme::Https), gateway, shutdown).await,
                    Ok(Err(err)) => tracing::debug!(error = %err, "TLS handshake failed"),
                    Err(_) => tracing::debug!("TLS handshake timed out"),
                },
            }
            drop((alive, guard));
        });
    }
    drop(alive_tx);
    let _ = tokio::time::timeout(DRAIN_TIMEOUT, alive_rx.recv()).await;
}

/// One connection, on the direct path ([`crate::h1`]) when the gateway allows it there.
async fn serve<S>(stream: S, info: Connection, gateway: Arc<Gateway>, shutdown: watch::Receiver<bool>)
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    // Both paths write through the send timeout, so a client that stops reading cannot hold a
    // response, and the service slot it holds, for good.
    let stream = crate::client_io::SendTimeout::new(stream, gateway.send_timeout);
    let direct = gateway.direct_connection(info.scheme);
    let help = "Client connections accepted, by the path they started on (direct, or general: hyper's).";
    gateway.metrics.inc("gateway_connections_total", help, &[("path", if direct { "direct" } else { "general" })], 1);
    if direct {
        crate::h1::serve(stream, info, gateway, shutdown).await;
    } else {
        general(stream, info, gateway, shutdown).await;
    }
}

/// One connection on the general path: hyper's HTTP/1.1 server, with upgrades.
pub(crate) async fn general<S>(stream: S, info: Connection, gateway: Arc<Gateway>, mut shutdown: watch::Receiver<bool>)
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let stream = crate::h1::strict::StrictRequests::new(stream, gateway.proxy.websocket_paths.clone());
    let service = service_fn(move |request| {
        // Built outside the `async` block, which then holds only the handler's future and not
        // also the request and the handles the future already holds.
        let response = gateway.clone().handle(request, info.clone());
        async move { Ok::<_, Infallible>(response.await) }
    });
    let conn = http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_READ_TIMEOUT)
        .serve_connection(TokioIo::new(stream), service)
        .with_upgrades();
    tokio::pin!(conn);
    let result = tokio::select! {
        result = conn.as_mut() => result,
        () = stopped(&mut shutdown) => {
            conn.as_mut().graceful_shutdown();
            conn.await
        }
    };
    if let Err(err) = result {
        tracing::debug!(error = %err, "connection ended with an error");
    }
}

/// Resolves once `shutdown` turns true.
pub(crate) async fn stopped(shutdown: &mut watch::Receiver<bool>) {
    let _ = shutdown.wait_for(|stop| *stop).await;
}
