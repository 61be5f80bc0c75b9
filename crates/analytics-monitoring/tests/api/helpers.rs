#![allow(dead_code)]

use crm_analytics_monitoring::config::{AlertSettings, Config};
use crm_common::logstore::LogStoreConfig;
use crm_common::testing::{
    Backend, TestClient, TestDatabase, TestResponse, audit_settings, peer_settings, service_settings,
};
use serde_json::Value;
use std::path::Path;
use std::time::Duration;
use uuid::Uuid;

pub use crm_common::testing::Served;
pub use crm_foundation::testing::{ADMIN_EMAIL, ADMIN_PASSWORD, Foundation, PASSWORD};
pub const PREFIX: &str = "/api/analytics-monitoring";

/// The whole system in this process: foundation, service-management, order-workflow and
/// analytics-monitoring, each on its own database.
pub struct TestApp {
    pub client: TestClient,
    pub port: u16,
    pub state: crm_analytics_monitoring::AppState,
    pub foundation: Foundation,
    pub sm: Served,
    pub ow: Served,
    /// The owners' databases, where tests seed what the owners' APIs would write.
    pub sm_db: sea_orm::DatabaseConnection,
    pub ow_db: sea_orm::DatabaseConnection,
    pub admin_token: String,
    pub admin_id: Uuid,
    pub db: TestDatabase,
    /// Kept alive for the peers' databases.
    pub peer_dbs: Vec<TestDatabase>,
}

/// Settings of an analytics-monitoring talking to the peers given.
pub fn config(db: &TestDatabase, dir: &Path, foundation_url: &str, sm_url: &str, ow_url: &str) -> Config {
    Config {
        common: service_settings("analytics-monitoring", db, dir, foundation_url),
        peers: peer_settings(foundation_url),
        service_management_url: sm_url.to_owned(),
        order_workflow_url: ow_url.to_owned(),
        audit: audit_settings(dir, foundation_url),
        monitored: vec![
            ("foundation".into(), foundation_url.to_owned()),
            ("service-management".into(), sm_url.to_owned()),
            ("order-workflow".into(), ow_url.to_owned()),
        ],
        health_timeout: Duration::from_secs(2),
        analytics_ttl: Duration::from_secs(300),
        stale_ttl: Duration::from_secs(3600),
        logs: LogStoreConfig::Sqlite { path: dir.join("logs.db") },
        alerts: AlertSettings { interval: Duration::ZERO, ..AlertSettings::default() },
        reports: Default::default(),
    }
}

impl TestApp {
    pub async fn spawn(backend: Backend) -> Self {
        Self::spawn_with(backend, |_| {}).await
    }

    /// With `adjust` changing analytics-monitoring's settings before it starts.
    pub async fn spawn_with(backend: Backend, adjust: impl FnOnce(&mut Config)) -> Self {
        let foundation = Foundation::spawn(backend).await;
        let foundation_url = foundation.url();

        let smdb = TestDatabase::create(backend).await;
        let smdir = smdb.data_dir().join("service-management");
        let smcfg = crm_service_management::config::Config {
            common: service_settings("service-management", &smdb, &smdir, &foundation_url),
            peers: peer_settings(&foundation_url),
            audit: audit_settings(&smdir, &foundation_url),
        };
        let state = crm_service_management::prepare(smcfg).await.expect("service-management starts");
        let sm_db = state.db.clone();
        let c = &state.config;
        let capture = crm_common::http::audit::AuditCapture::over_http(
            "service-management",
            &c.audit,
            c.common.trusted_proxies.clone(),
        )
        .expect("audit capture");
        let sm = Served::start_router(crm_service_management::router(state, capture)).await;

        let owdb = TestDatabase::create(backend).await;
        let owdir = owdb.data_dir().join("order-workflow");
        let owcfg = crm_order_workflow::config::Config {
            common: service_settings("order-workflow", &owdb, &owdir, &foundation_url),
            peers: peer_settings(&foundation_url),
            service_management_url: sm.url(),
            levels_cache: Duration::from_secs(60),
            collection_interval: Duration::ZERO,
            audit: audit_settings(&owdir, &foundation_url),
            files_dir: owdir.join("order-files"),
            file_url_key: Some("test-file-url-key-0123456789abcdef".into()),
            file_url_key_file: owdir.join("order-file-url.key"),
            file_url_ttl: Duration::from_secs(900),
            live: crm_order_workflow::live::socket::Limits {
                ping: Duration::from_secs(25),
                idle: Duration::from_secs(60),
                write_timeout: Duration::from_secs(10),
                queue: 32,
                max_per_user: 16,
            },
        };
        let state = crm_order_workflow::prepare(owcfg).await.expect("order-workflow starts");
        let ow_db = state.db.clone();
        let c = &state.config;
        let capture = crm_common::http::audit::AuditCapture::over_http(
            "order-workflow",
            &c.audit,
            c.common.trusted_proxies.clone(),
        )
        .expect("audit capture");
        let ow = Served::start_router(crm_order_workflow::router(state, capture)).await;

        let db = TestDatabase::create(backend).await;
        let dir = db.data_dir().join("analytics-monitoring");
        let mut cfg = config(&db, &dir, &foundation_url, &sm.url(), &ow.url());
        adjust(&mut cfg);
        let app = crm_analytics_monitoring::Application::build(cfg).await.expect("analytics-monitoring starts");
        let port = app.port();
        let state = app.state.clone();
        tokio::spawn(app.run_until_stopped());
        let client = TestClient::new(format!("http://127.0.0.1:{port}"));
        let (admin_token, admin_id) = (foundation.admin_token.clone(), foundation.admin_id);
        Self {
            client,
            port,
            state,
            foundation,
            sm,
            ow,
            sm_db,
            ow_db,
            admin_token,
            admin_id,
            db,
            peer_dbs: vec![smdb, owdb],
        }
    }

    pub fn admin(&self) -> Option<&str> {
        Some(&self.admin_token)
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> TestResponse {
        self.client.get(&format!("{PREFIX}{path}"), token).await
    }
    pub async fn post(&self, path: &str, token: Option<&str>, body: Value) -> TestResponse {
        self.client.post(&format!("{PREFIX}{path}"), token, &body).await
    }
}

/// foundation's API and directory helpers (`fget`, `login`, `token`, `org`, `user`, …) on the app.
impl std::ops::Deref for TestApp {
    type Target = Foundation;
    fn deref(&self) -> &Foundation {
        &self.foundation
    }
}

pub fn uuid(v: &Value) -> Uuid {
    v.as_str().and_then(|s| s.parse().ok()).unwrap_or_else(|| panic!("not a uuid: {v}"))
}

/// The BANTU organization's fixed id.
pub const BANTU: Uuid = Uuid::from_u128(1);
