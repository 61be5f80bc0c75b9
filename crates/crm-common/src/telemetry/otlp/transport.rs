//! The HTTP client the OTLP exporters post with: the workspace's `reqwest`, driven by a small
//! runtime on a thread of its own.
//!
//! The SDK's batch span processor and periodic metric reader each run on a plain thread and wait
//! for an export with a blocking executor, where `reqwest`'s async client cannot run (it needs a
//! tokio reactor). opentelemetry-otlp's own clients would bring a second `reqwest` (blocking) or a
//! hyper client of their own; instead each export is spawned onto this runtime and awaited from
//! the exporter's thread. The runtime never shares a worker with request handling, and it stops
//! when the last exporter holding the client is dropped.

use opentelemetry_http::{Bytes, HttpClient, HttpError, Request, Response};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

/// Ends the export runtime's thread when dropped.
#[derive(Debug)]
struct Stop {
    /// Never sent on: dropping it is what stops the runtime.
    _sender: tokio::sync::oneshot::Sender<()>,
}

#[derive(Debug, Clone)]
pub(super) struct ExportClient {
    http: reqwest::Client,
    runtime: tokio::runtime::Handle,
    _stop: Arc<Stop>,
}

impl ExportClient {
    /// Starts the export runtime on thread `name`; every request is bounded by `timeout`.
    pub(super) fn start(name: &str, timeout: Duration) -> std::io::Result<Self> {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
        let handle = runtime.handle().clone();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        std::thread::Builder::new().name(name.to_owned()).spawn(move || {
            runtime.block_on(async {
                let _ = stopped.await;
            });
        })?;
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(std::io::Error::other)?;
        Ok(Self { http, runtime: handle, _stop: Arc::new(Stop { _sender: stop }) })
    }
}

impl HttpClient for ExportClient {
    fn send_bytes<'life0, 'async_trait>(
        &'life0 self,
        request: Request<Bytes>,
    ) -> Pin<Box<dyn Future<Output = Result<Response<Bytes>, HttpError>> + Send + 'async_trait>>
    where
        'life0: 'async_trait,
        Self: 'async_trait,
    {
        let http = self.http.clone();
        let task = self.runtime.spawn(async move { http.send_bytes(request).await });
        Box::pin(async move {
            match task.await {
                Ok(result) => result,
                Err(error) => Err(Box::new(error) as HttpError),
            }
        })
    }
}
