//! order-workflow: what the company does between a first contact and a delivered service: leads —
//! prospects with their follow-ups and notes, the public pool, the lead status machine and the
//! duplicate check — and opportunities, with their products, payment stages, follow-ups and
//! notes, and the conversion of a lead into a customer (in service-management) and an opportunity.
//!
//! It copies service-management's shape: one folder per resource (`mod.rs` routes, `handlers.rs`,
//! `dto.rs`, `model.rs`, `service.rs` with the rules). Callers are identified by verifying their
//! token locally and asking foundation for their standing (crm-common's `RemoteResolver`); user
//! names come from foundation, and customer levels, customer and product names and product
//! dependencies from service-management, each through one `PeerClient`, batched and briefly cached.
//!
//! The original also served product dependencies, customer levels and follow-up statuses under
//! `/api/order-workflow`; the gateway sends those paths to service-management, which owns that
//! data, so this service does not mount them.

pub mod collection;
pub mod config;
pub mod leads;
pub mod levels;
pub mod live;
pub mod notifications;
pub mod openapi;
pub mod opportunities;
pub mod order_comments;
pub mod order_files;
pub mod order_stages;
pub mod orders;
pub mod payment_stages;
pub mod perm;
pub mod stats;
pub mod tasks;
pub mod temporary_links;
pub mod workflows;

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
    /// foundation's users by id (`owner_username`, `created_by_name`).
    pub users: NameLookup,
    /// service-management: product dependencies, customers created by conversion, the customer
    /// and products an order names.
    pub service_management: PeerClient,
    /// service-management's customers by id (`customer_name`), as each caller may see them.
    pub customers: NameLookup,
    /// service-management's products by id (names and codes, copied into opportunity products).
    pub products: NameLookup,
    /// service-management's customer levels, briefly cached.
    pub levels: levels::Levels,
    /// Signs and checks order files' links.
    pub file_signer: order_files::signing::Signer,
    /// The notification sockets this replica holds, and the way to every replica's.
    pub live: live::Live,
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
    crm_common::db::migrate::<order_workflow_migration::Migrator>(&db).await?;
    let cache = Cache::from_url(&config.common.cache_prefix, config.common.redis_url.as_deref())
        .map_err(StartupError::Cache)?;
    let peers = &config.peers;
    let (auth, foundation) = remote_identity(peers, &config.common.jwks_url, &cache).map_err(StartupError::Peer)?;
    let service_management = PeerClient::new("service-management", &config.service_management_url, peers.timeouts())
        .map_err(StartupError::Peer)?;
    let users =
        NameLookup::per_caller(foundation.clone(), "/api/foundation/lookup/users", cache.clone(), peers.lookup_cache);
    let customers = NameLookup::per_caller(
        service_management.clone(),
        "/api/service-management/lookup/customers",
        cache.clone(),
        peers.lookup_cache,
    );
    let products = NameLookup::new(
        service_management.clone(),
        "/api/service-management/lookup/products",
        cache.clone(),
        peers.lookup_cache,
    );
    let levels = levels::Levels::new(service_management.clone(), config.levels_cache);
    let file_signer = order_files::signing::Signer::from_config(&config)?;
    let live = live::Live::new(cache.clone());
    Ok(AppState(Arc::new(Inner {
        db,
        cache,
        auth,
        foundation,
        users,
        service_management,
        customers,
        products,
        levels,
        file_signer,
        live,
        config,
    })))
}

/// Every route of the service, wrapped in the common layers and audit capture.
pub fn router(state: AppState, audit: AuditCapture) -> axum::Router {
    let outer = state.clone();
    let api = axum::Router::new()
        .merge(leads::routes())
        .merge(opportunities::routes())
        .merge(orders::routes())
        .merge(order_stages::routes())
        .merge(payment_stages::routes())
        .merge(collection::routes())
        .merge(notifications::routes())
        .merge(order_comments::routes())
        .merge(order_files::routes())
        .merge(workflows::routes())
        .merge(tasks::routes())
        .merge(stats::routes())
        .merge(live::routes())
        .merge(temporary_links::routes())
        .route("/openapi.json", axum::routing::get(openapi::serve))
        // Notifications written while a request runs are pushed once it is over (committed).
        .layer(axum::middleware::from_fn_with_state(state.clone(), live::outbox::after_commit))
        .with_state(state);
    let app = axum::Router::new().nest("/api/order-workflow", api);
    crm_common::service::assemble(app, &outer.config.common, VERSION, &outer.db, &outer.cache, audit)
}

/// A bound, ready-to-serve order-workflow.
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

    /// Serves until stopped; the collection job runs beside it when its interval is set, and the
    /// live push's Redis subscriber when there is Redis.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let interval = self.state.config.collection_interval;
        let job = (!interval.is_zero()).then(|| collection::job::spawn(self.state.clone(), interval));
        let subscriber = self.state.live.spawn_subscriber();
        let served = self.bound.serve().await;
        for task in job.into_iter().chain(subscriber) {
            task.abort();
        }
        served
    }
}
