//! service-management: the service catalogue BANTU sells — product categories, service types,
//! products with their prices, vendor offers, time-bounded prices and their history, and the
//! dependencies between products.
//!
//! It copies foundation's shape: one folder per resource (`mod.rs` routes, `handlers.rs`,
//! `dto.rs`, `model.rs`, `service.rs` with the rules). Callers are identified by verifying their
//! token locally and asking foundation for their standing (crm-common's `RemoteResolver`);
//! names of users and organizations come from foundation in one batched, cached call per page.

pub mod access;
pub mod categories;
pub mod config;
pub mod contacts;
pub mod customers;
pub mod dependencies;
pub mod legacy;
pub mod lookup;
pub mod openapi;
pub mod perm;
pub mod prices;
pub mod products;
pub mod reference;
pub mod service_records;
pub mod service_types;
pub mod stats;
pub mod sync;
pub mod vendors;

use config::Config;
use crm_common::auth::remote::remote_identity;
use crm_common::auth::{AuthContext, HasAuth};
use crm_common::cache::Cache;
use crm_common::http::audit::AuditCapture;
use crm_common::http::peer::{NameLookup, PeerClient};
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
    pub foundation: PeerClient,
    /// foundation's users by id (`created_by` names).
    pub users: NameLookup,
    /// foundation's organizations by id (vendors: name, kind, state).
    pub organizations: NameLookup,
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
    crm_common::db::migrate::<service_management_migration::Migrator>(&db).await?;
    reference::seed::run(&db).await.map_err(StartupError::Seed)?;
    let cache = Cache::from_url(&config.common.cache_prefix, config.common.redis_url.as_deref())
        .map_err(StartupError::Cache)?;
    let peers = &config.peers;
    let (auth, foundation) = remote_identity(peers, &config.common.jwks_url, &cache).map_err(StartupError::Peer)?;
    let users =
        NameLookup::per_caller(foundation.clone(), "/api/foundation/lookup/users", cache.clone(), peers.lookup_cache);
    let organizations =
        NameLookup::new(foundation.clone(), "/api/foundation/lookup/organizations", cache.clone(), peers.lookup_cache);
    Ok(AppState(Arc::new(Inner { db, cache, auth, foundation, users, organizations, config })))
}

/// Every route of the service, wrapped in the common layers and audit capture.
pub fn router(state: AppState, audit: AuditCapture) -> axum::Router {
    let outer = state.clone();
    let api = axum::Router::new()
        .merge(categories::routes())
        .merge(service_types::routes())
        .merge(products::routes())
        .merge(vendors::routes())
        .merge(prices::routes())
        .merge(reference::routes())
        .merge(customers::routes())
        .merge(sync::routes())
        .merge(contacts::routes())
        .merge(service_records::routes())
        .merge(lookup::routes())
        .merge(stats::routes())
        .route("/openapi.json", axum::routing::get(openapi::serve))
        .with_state(state.clone());
    // The original served product dependencies under order-workflow's prefix; the gateway's
    // prefix override sends that path here, and the service answers it at the same full path.
    let legacy = axum::Router::new().merge(dependencies::routes()).merge(legacy::routes()).with_state(state);
    let app = axum::Router::new().nest("/api/service-management", api).nest("/api/order-workflow", legacy);
    crm_common::service::assemble(app, &outer.config.common, VERSION, &outer.db, &outer.cache, audit)
}

/// A bound, ready-to-serve service-management.
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

    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.bound.serve().await
    }
}
