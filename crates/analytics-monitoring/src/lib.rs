//! analytics-monitoring: what managers and operators watch. Business analytics (customers,
//! orders and revenue, service records, users, organizations, the sales funnel) composed from
//! aggregates the owning services compute in their own databases and serve on internal
//! endpoints — this service reads no other service's tables; system monitoring (every service's
//! health, this host's and the database's metrics) with alerts persisted in its own database; and
//! search over the application logs every service ships to the log store.
//!
//! It copies order-workflow's shape: one folder per resource (`mod.rs` routes, `handlers.rs`,
//! `dto.rs`, `service.rs`). Callers are identified by verifying their token locally and asking
//! foundation for their standing (crm-common's `RemoteResolver`); the owners are called through one
//! `PeerClient` each, with the caller's token, so each scopes its aggregate to the caller itself.

pub mod alerts;
pub mod analytics;
pub mod config;
pub mod dashboard;
pub mod flight;
pub mod logs;
pub mod monitoring;
pub mod openapi;
pub mod perm;
pub mod reports;

use config::Config;
use crm_common::auth::remote::remote_identity;
use crm_common::auth::{AuthContext, HasAuth};
use crm_common::cache::Cache;
use crm_common::http::audit::AuditCapture;
use crm_common::http::peer::PeerClient;
use crm_common::logstore::LogStore;
use crm_common::service::Bound;
use sea_orm::DatabaseConnection;
use std::ops::Deref;
use std::sync::Arc;

pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Shared by every handler; cheap to clone.
#[derive(Clone)]
pub struct AppState(Arc<Inner>);

pub struct Inner {
    pub db: DatabaseConnection,
    pub cache: Cache,
    pub auth: AuthContext,
    /// foundation: users' activity and organizations' summary.
    pub foundation: PeerClient,
    /// service-management: customers and service records.
    pub service_management: PeerClient,
    /// order-workflow: orders, revenue, opportunities.
    pub order_workflow: PeerClient,
    /// The analytics results, cached and computed once at a time.
    pub analytics: flight::Analytics,
    /// Asks the services' `/health` (the monitoring fan-out).
    pub health_http: reqwest::Client,
    /// This host's CPU, memory and disk.
    pub system: Arc<monitoring::system::SystemProbe>,
    /// The log store every service ships to; `None` when it could not be opened (log search then
    /// answers 503, the rest of the service works).
    pub logs: Option<LogStore>,
    pub config: Config,
}

impl Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl HasAuth for AppState {
    fn auth(&self) -> &AuthContext {
        &self.0.auth
    }
}

pub use crm_common::service::StartupError;

/// Connects and migrates; the state every handler shares.
pub async fn prepare(config: Config) -> Result<AppState, StartupError> {
    let db = crm_common::db::connect(&config.common.database_url).await?;
    crm_common::db::migrate::<analytics_monitoring_migration::Migrator>(&db).await?;
    let cache = Cache::from_url(&config.common.cache_prefix, config.common.redis_url.as_deref())
        .map_err(StartupError::Cache)?;
    let peers = &config.peers;
    let (auth, foundation) = remote_identity(peers, &config.common.jwks_url, &cache).map_err(StartupError::Peer)?;
    let service_management = PeerClient::new("service-management", &config.service_management_url, peers.timeouts())
        .map_err(StartupError::Peer)?;
    let order_workflow =
        PeerClient::new("order-workflow", &config.order_workflow_url, peers.timeouts()).map_err(StartupError::Peer)?;
    let analytics = flight::Analytics::new(cache.clone(), config.analytics_ttl, config.stale_ttl);
    let health_http = reqwest::Client::builder()
        .connect_timeout(config.health_timeout)
        .timeout(config.health_timeout)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| StartupError::Peer(e.to_string()))?;
    let system = Arc::new(monitoring::system::SystemProbe::new(&config.common.data_dir));
    let logs = match LogStore::open(&config.logs).await {
        Ok(store) => Some(store),
        Err(err) => {
            tracing::error!(error = %err, "log store unavailable; log search will answer 503");
            None
        }
    };
    Ok(AppState(Arc::new(Inner {
        db,
        cache,
        auth,
        foundation,
        service_management,
        order_workflow,
        analytics,
        health_http,
        system,
        logs,
        config,
    })))
}

/// Every route of the service, wrapped in the common layers and audit capture.
pub fn router(state: AppState, audit: AuditCapture) -> axum::Router {
    let outer = state.clone();
    let api = axum::Router::new()
        // One line per resource, each also listed in `openapi::parts`. The dashboard page and the
        // report exports mount here beside them.
        .merge(analytics::routes())
        .merge(monitoring::routes())
        .merge(alerts::routes())
        .merge(logs::routes())
        .merge(reports::routes())
        .route("/openapi.json", axum::routing::get(openapi::serve))
        .with_state(state);
    let app = axum::Router::new()
        .nest("/api/analytics-monitoring", api)
        // The dashboard page sits outside the API prefix: the gateway routes `/dashboard` here.
        .merge(dashboard::routes());
    crm_common::service::assemble(app, &outer.config.common, VERSION, &outer.db, &outer.cache, audit)
}

/// A bound, ready-to-serve analytics-monitoring.
pub struct Application {
    bound: Bound,
    pub state: AppState,
}

impl Application {
    pub async fn build(config: Config) -> Result<Self, StartupError> {
        let bind = config.common.bind_addr;
        let state = prepare(config).await?;
        let c = &state.config;
        let audit = AuditCapture::over_http(config::SERVICE, &c.audit, c.common.trusted_proxies.clone())?;
        Ok(Self { bound: Bound::bind(bind, router(state.clone(), audit)).await?, state })
    }

    pub fn port(&self) -> u16 {
        self.bound.port()
    }

    /// Serves until stopped; the alert evaluator runs beside it when its interval is set (every
    /// replica runs it, one at a time evaluates: `alerts::lease`).
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let interval = self.state.config.alerts.interval;
        let job = (!interval.is_zero()).then(|| alerts::job::spawn(self.state.clone(), interval));
        let served = self.bound.serve().await;
        if let Some(job) = job {
            job.abort();
        }
        served
    }
}
