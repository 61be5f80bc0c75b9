//! The frame every service binary shares around its own state and routes: why it could not start,
//! the common layers and endpoints around its API, and the bound listener it serves on. Each
//! service keeps only what is its own (its state, its resource routes, its background jobs).

use crate::cache::Cache;
use crate::config::{ConfigError, ServiceConfig};
use crate::db::DbProbe;
use crate::http::audit::AuditCapture;
use crate::http::{Metrics, Probe, TrustedProxies};
use axum::Router;
use sea_orm::DatabaseConnection;
use std::net::SocketAddr;
use std::sync::Arc;

/// Why a service did not start; `main` prints it and exits non-zero.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("configuration: {0}")]
    Config(#[from] ConfigError),
    #[error("database: {0}")]
    Database(#[from] sea_orm::DbErr),
    #[error("cache: {0}")]
    Cache(String),
    #[error("signing keys: {0}")]
    Keys(String),
    #[error("seeding: {0}")]
    Seed(crate::ApiError),
    #[error("peer client: {0}")]
    Peer(String),
    #[error("listen: {0}")]
    Io(#[from] std::io::Error),
}

/// `app` (the service's routes, already under their `/api/<service>` prefix) with `/health`,
/// `/ready` (the database and the cache) and `/metrics`, inside the common layers (request id,
/// envelope, access log, metrics, body limit) and audit capture.
pub fn assemble(
    app: Router,
    common: &ServiceConfig,
    version: &'static str,
    db: &DatabaseConnection,
    cache: &Cache,
    audit: AuditCapture,
) -> Router {
    let metrics = Arc::new(Metrics::new());
    let probes: Vec<Arc<dyn Probe>> = vec![Arc::new(DbProbe(db.clone())), Arc::new(cache.clone())];
    let trusted = TrustedProxies(Arc::new(common.trusted_proxies.clone()));
    let app = app.merge(crate::http::health_router(common.service, version, probes, metrics.clone()));
    crate::http::audit::mount(crate::http::finish(app, metrics, common.body_limit_bytes, trusted), audit)
}

/// A service's router bound to its address: bound before serving, so that a test (or a
/// configuration with port 0) can learn the port first.
pub struct Bound {
    listener: tokio::net::TcpListener,
    router: Router,
}

impl Bound {
    pub async fn bind(addr: SocketAddr, router: Router) -> std::io::Result<Self> {
        Ok(Self { listener: tokio::net::TcpListener::bind(addr).await?, router })
    }

    pub fn port(&self) -> u16 {
        self.listener.local_addr().map(|a| a.port()).unwrap_or_default()
    }

    /// Serves until ctrl-c or SIGTERM, draining requests in flight.
    pub async fn serve(self) -> std::io::Result<()> {
        crate::http::serve(self.listener, self.router).await
    }
}
