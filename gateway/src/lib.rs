//! crm-gateway: the edge of BANTU CRM. It routes `/api/<service>/*` to the services, verifies
//! access tokens, limits rates, terminates TLS and reports the health of everything behind it —
//! and holds no business logic.
//!
//! A request goes through the phases in [`phases`] in order — identify, authenticate, limit,
//! choose the upstream, proxy, log — carrying one [`context::RequestContext`]; see [`pipeline`].

pub mod body;
pub mod client_io;
pub mod config;
pub mod context;
pub mod docs;
pub mod h1;
pub mod local;
pub mod phases;
pub mod pipeline;
pub mod server;
pub mod tls;
pub mod upstream;

use config::Config;
use crm_common::auth::{KeySet, Verifier, VerifierSettings};
use crm_common::cache::Cache;
use crm_common::http::Metrics;
use crm_common::telemetry::otlp::Tracer;
use phases::authenticate::Authenticator;
use phases::edge::Cors;
use phases::limit::Limiter;
use phases::proxy::Proxy;
use phases::route::RouteTable;
use pipeline::Gateway;
use std::future::Future;
use std::sync::Arc;
use std::time::Instant;
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;
use upstream::Upstream;

pub use local::VERSION;

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("configuration: {0}")]
    Config(#[from] crm_common::config::ConfigError),
    #[error("rate-limit store: {0}")]
    Cache(String),
    #[error("{0}")]
    Tls(#[from] tls::TlsError),
    #[error("listen: {0}")]
    Io(#[from] std::io::Error),
}

/// A bound, ready-to-serve gateway.
///
/// Connections are accepted on the runtime that runs it and served on `workers` threads, each
/// with its own single-threaded event loop and its own upstream connections, so a request never
/// changes thread (see [`server`]). What they share (route table, key set, counters, metrics) is
/// behind the one [`Gateway`]. Background work (health probes, exporters) stays on the runtime
/// that built the application.
pub struct Application {
    plain: TcpListener,
    tls: Option<(TcpListener, TlsAcceptor)>,
    gateway: Arc<Gateway>,
    workers: usize,
}

impl Application {
    pub async fn build(config: Config) -> Result<Self, StartupError> {
        let plain = TcpListener::bind(config.common.bind_addr).await?;
        let tls = if config.tls_enabled {
            let server_config =
                tls::server_config(config.tls_cert.as_deref(), config.tls_key.as_deref(), &config.common.data_dir)?;
            let listener = TcpListener::bind(config.tls_bind_addr).await?;
            Some((listener, TlsAcceptor::from(server_config)))
        } else {
            None
        };
        let tls_port = match &tls {
            Some((listener, _)) => Some(listener.local_addr()?.port()),
            None => None,
        };
        let gateway = Arc::new(assemble(&config, tls_port.filter(|_| config.http_redirect))?);
        Ok(Self { plain, tls, gateway, workers: config.workers.max(1) })
    }

    /// The plain-HTTP port.
    pub fn port(&self) -> u16 {
        self.plain.local_addr().map(|a| a.port()).unwrap_or_default()
    }

    /// The HTTPS port, when TLS is enabled.
    pub fn tls_port(&self) -> Option<u16> {
        self.tls.as_ref().and_then(|(l, _)| l.local_addr().ok()).map(|a| a.port())
    }

    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.run_until(crm_common::http::shutdown_signal()).await
    }

    /// Serves until `stop` resolves (or this future is dropped), then lets every worker drain its
    /// open connections (bounded).
    pub async fn run_until(self, stop: impl Future<Output = ()>) -> std::io::Result<()> {
        let (tx, rx) = tokio::sync::watch::channel(false);
        let workers = Arc::new(server::Workers::start(self.workers, self.gateway.clone(), rx.clone())?);
        let plain = tokio::spawn(server::accept(self.plain, None, workers.clone(), rx.clone()));
        let secure = self
            .tls
            .map(|(listener, acceptor)| tokio::spawn(server::accept(listener, Some(acceptor), workers.clone(), rx)));
        stop.await;
        let _ = tx.send(true);
        let _ = plain.await;
        if let Some(secure) = secure {
            let _ = secure.await;
        }
        if let Some(workers) = Arc::into_inner(workers) {
            let _ = tokio::task::spawn_blocking(move || workers.join()).await;
        }
        if let Some(tracer) = &self.gateway.tracer {
            tracer.flush(std::time::Duration::from_secs(3)).await;
        }
        crm_common::telemetry::flush(std::time::Duration::from_secs(3)).await;
        Ok(())
    }
}

/// The gateway's shared state, from configuration.
fn assemble(config: &Config, redirect_to: Option<u16>) -> Result<Gateway, StartupError> {
    let metrics = Arc::new(Metrics::new());
    let upstreams: Vec<Arc<Upstream>> = config
        .services
        .iter()
        .map(|(name, url)| Arc::new(Upstream::new(name, url, &config.upstream, config.workers.max(1))))
        .collect();
    upstream::spawn_prober(upstreams.iter().map(Arc::downgrade).collect(), config.upstream.probe_interval);
    let routes =
        RouteTable::new(&upstreams, &config.overrides, &config.upstream.route_timeouts, config.upstream.timeout);
    let verifier = config.verify_jwt.then(|| {
        let keys = KeySet::remote(config.common.jwks_url.clone(), config.jwks_min_refresh);
        let settings = VerifierSettings {
            issuer: config.jwt_issuer.clone(),
            audience: config.jwt_audience.clone(),
            leeway_secs: 30,
        };
        Verifier::new(keys, settings)
    });
    if verifier.is_none() {
        tracing::warn!("CRM_GATEWAY_VERIFY_JWT=false: tokens are NOT verified (benchmarks only)");
    }
    let cache = Cache::from_url(&config.common.cache_prefix, config.common.redis_url.as_deref())
        .map_err(StartupError::Cache)?;
    tracing::info!(backend = cache.backend(), "rate-limit counters");
    let tracer = config.traces.clone().or_else(crm_common::telemetry::otlp::global);
    if let Some(tracer) = &tracer {
        metrics.export_requests(tracer);
    }
    let tracer = tracer.filter(Tracer::traces);
    Ok(Gateway {
        started: Instant::now(),
        routes,
        auth: Authenticator::new(verifier, config.public_paths.clone()),
        limiter: Limiter::new(cache, config.rate.clone(), metrics.clone()),
        proxy: Proxy {
            metrics: metrics.clone(),
            trusted: config.common.trusted_proxies.clone(),
            body_limit: config.common.body_limit_bytes,
            retries: config.upstream.retries,
            tunnel_idle: config.upstream.tunnel_idle,
            pace: body::Pace {
                timeout: config.client.body_timeout,
                grace: config.client.body_grace,
                min_rate: config.client.body_min_rate,
            },
            websocket_paths: config.websocket_paths.clone().into(),
        },
        send_timeout: config.client.send_timeout,
        cors: Cors::new(&config.cors_origins),
        trusted: config.common.trusted_proxies.clone(),
        body_limit: config.common.body_limit_bytes,
        health_deadline: config.health_deadline,
        docs: docs::Docs::new(config.health_deadline),
        redirect_to,
        direct_path: config.direct_path,
        tracer,
        metrics,
    })
}
