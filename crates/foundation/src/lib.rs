//! foundation: identity and administration for BANTU CRM — authentication, users, organizations
//! and their members and domains, roles, permissions and menus, positions, work logs, and the
//! audit log every service writes to.

pub mod access;
pub mod audit;
pub mod auth;
pub mod authz;
pub mod config;
pub mod directory;
pub mod domains;
pub mod employees;
pub mod menus;
pub mod openapi;
pub mod organizations;
pub mod patch;
pub mod perm;
pub mod permissions;
pub mod positions;
pub mod roles;
pub mod seed;
pub mod stats;
pub mod tasks;
#[cfg(feature = "testing")]
pub mod testing;
pub mod tree;
pub mod uploads;
pub mod users;
pub mod worklogs;

use auth::password::Passwords;
use auth::throttle::LoginThrottle;
use config::Config;
use crm_common::auth::{AuthContext, HasAuth, Signer, Verifier, VerifierSettings};
use crm_common::cache::Cache;
use crm_common::http::audit::{AuditCapture, Outbox};
use crm_common::service::Bound;
use sea_orm::DatabaseConnection;
use std::ops::Deref;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Shared by every handler; cheap to clone.
#[derive(Clone)]
pub struct AppState(Arc<Inner>);

pub struct Inner {
    pub db: DatabaseConnection,
    pub cache: Cache,
    pub auth: AuthContext,
    pub signer: Signer,
    pub passwords: Passwords,
    pub throttle: LoginThrottle,
    pub config: Config,
    /// SQL statements issued since start (every connection and transaction): what a request
    /// costs in database round trips, which the tests hold down.
    pub db_statements: Arc<AtomicU64>,
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

impl AppState {
    pub fn session_policy(&self) -> auth::sessions::Policy {
        auth::sessions::Policy { idle_secs: self.config.session_idle_secs }
    }

    pub fn access_token(&self, grant: &auth::tokens::AccessGrant<'_>) -> crm_common::ApiResult<String> {
        let c = &self.config;
        auth::tokens::issue_access(&self.signer, &c.issuer, &c.audience, c.access_ttl_secs, grant)
    }
}

pub use crm_common::service::StartupError;

/// Connects, migrates and seeds; returns the state and, on first start without a configured
/// password, the generated administrator credentials to show once.
pub async fn prepare(mut config: Config) -> Result<(AppState, Option<seed::FirstAdmin>), StartupError> {
    config.audit.ensure_token()?;
    let mut db = crm_common::db::connect(&config.common.database_url).await?;
    let db_statements = Arc::new(AtomicU64::new(0));
    let counter = db_statements.clone();
    db.set_metric_callback(move |_| {
        counter.fetch_add(1, Ordering::Relaxed);
    });
    crm_common::db::migrate::<foundation_migration::Migrator>(&db).await?;
    let cache = Cache::from_url(&config.common.cache_prefix, config.common.redis_url.as_deref())
        .map_err(StartupError::Cache)?;
    let keyring = auth::keyring::load(&config.jwt_key_file, &config.jwt_retired_key_files)
        .map_err(|e| StartupError::Keys(e.to_string()))?;
    let passwords = Passwords::new().map_err(StartupError::Seed)?;
    let first_admin = seed::run(&db, &passwords, &config).await.map_err(StartupError::Seed)?;
    auth::password::calibrate(&db, &passwords).await.map_err(StartupError::Seed)?;
    let settings =
        VerifierSettings { issuer: config.issuer.clone(), audience: config.audience.clone(), leeway_secs: 30 };
    let resolver = Arc::new(authz::Resolver {
        db: db.clone(),
        cache: cache.clone(),
        sessions: auth::sessions::Policy { idle_secs: config.session_idle_secs },
    });
    let throttle = LoginThrottle {
        cache: cache.clone(),
        max_per_account: config.login_max_failures,
        max_per_ip: config.login_max_failures_per_ip,
        window: Duration::from_secs(config.login_failure_window_secs),
    };
    let state = AppState(Arc::new(Inner {
        db,
        cache,
        auth: AuthContext { verifier: Verifier::new(keyring.keys, settings), resolver },
        signer: keyring.signer,
        passwords,
        throttle,
        config,
        db_statements,
    }));
    Ok((state, first_admin))
}

/// foundation's own audit capture: the durable outbox, delivering straight into its database.
pub fn audit_capture(state: &AppState) -> std::io::Result<AuditCapture> {
    let settings = &state.config.audit;
    let deliver = Arc::new(audit::service::DbDeliver(state.db.clone()));
    let outbox = Outbox::open(&settings.outbox_dir, deliver, settings.outbox_options())?;
    Ok(AuditCapture::with_sink("foundation", settings, state.config.common.trusted_proxies.clone(), outbox))
}

/// Every route of the service, wrapped in the common layers and audit capture.
pub fn router(state: AppState, audit: AuditCapture) -> axum::Router {
    let outer = state.clone();
    let api = axum::Router::new()
        .nest("/auth", auth::routes())
        .merge(directory::routes())
        .merge(users::routes())
        .merge(employees::routes())
        .merge(tasks::routes())
        .merge(organizations::routes())
        .merge(roles::routes())
        .merge(permissions::routes())
        .merge(menus::routes())
        .merge(domains::routes())
        .merge(positions::routes())
        .merge(worklogs::routes())
        .merge(uploads::routes())
        .merge(audit::routes())
        .merge(stats::routes())
        .route("/openapi.json", axum::routing::get(openapi::serve))
        .with_state(state);
    let app = axum::Router::new().nest("/api/foundation", api);
    crm_common::service::assemble(app, &outer.config.common, VERSION, &outer.db, &outer.cache, audit)
}

/// A bound, ready-to-serve foundation.
pub struct Application {
    bound: Bound,
    pub state: AppState,
}

impl Application {
    pub async fn build(config: Config) -> Result<(Self, Option<seed::FirstAdmin>), StartupError> {
        let bind = config.common.bind_addr;
        let (state, first_admin) = prepare(config).await?;
        let audit = audit_capture(&state)?;
        Ok((Self { bound: Bound::bind(bind, router(state.clone(), audit)).await?, state }, first_admin))
    }

    pub fn port(&self) -> u16 {
        self.bound.port()
    }

    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.bound.serve().await
    }
}
