#![allow(dead_code)]

use crm_analytics_monitoring::config::{AlertSettings, Config};
use crm_common::config::{PeerSettings, ServiceConfig};
use crm_common::http::audit::AuditSettings;
use crm_common::logstore::LogStoreConfig;
use crm_common::testing::{Backend, TestClient, TestDatabase, TestResponse};
use serde_json::{Value, json};
use std::path::Path;
use std::time::Duration;
use uuid::Uuid;

pub const ADMIN_EMAIL: &str = "admin@bantu.test";
pub const ADMIN_PASSWORD: &str = "Admin12345";
pub const PASSWORD: &str = "Passw0rd99";
pub const INGEST_TOKEN: &str = "test-ingest-token-0123456789";
pub const PREFIX: &str = "/api/analytics-monitoring";

fn common(service: &'static str, db: &TestDatabase, dir: &Path, foundation_url: &str) -> ServiceConfig {
    ServiceConfig {
        service,
        bind_addr: "127.0.0.1:0".parse().unwrap(),
        database_url: db.url.clone(),
        redis_url: None,
        cache_prefix: format!("{service}-test-{}:", Uuid::now_v7().simple()),
        data_dir: dir.to_path_buf(),
        jwks_url: format!("{foundation_url}/api/foundation/auth/jwks.json"),
        body_limit_bytes: 1024 * 1024,
        trusted_proxies: crm_common::net::Proxies::parse("127.0.0.1").unwrap(),
    }
}

fn peers(foundation_url: &str) -> PeerSettings {
    PeerSettings {
        foundation_url: foundation_url.to_owned(),
        jwt_issuer: "bantu-crm".into(),
        jwt_audience: "bantu-crm".into(),
        jwks_min_refresh: Duration::from_secs(1),
        principal_cache: Duration::from_secs(30),
        lookup_cache: Duration::from_secs(60),
        connect_timeout: Duration::from_millis(500),
        timeout: Duration::from_secs(5),
    }
}

fn audit(dir: &Path, foundation_url: &str) -> AuditSettings {
    AuditSettings {
        record_reads: false,
        ingest_url: format!("{foundation_url}/api/foundation/audit-logs/ingest"),
        ingest_token: Some(INGEST_TOKEN.into()),
        token_file: dir.join("audit-ingest.token"),
        outbox_dir: dir.join(format!("audit-outbox-{}", Uuid::now_v7().simple())),
        max_params_bytes: 16 * 1024,
        retry_max: Duration::from_millis(200),
    }
}

/// A router served on a port that can be stopped and started again on the same port, as a real
/// outage and recovery look to the services that call it.
pub struct Served {
    pub port: u16,
    router: axum::Router,
    running: Option<(tokio::sync::oneshot::Sender<()>, tokio::task::JoinHandle<()>)>,
}

impl Served {
    pub async fn start_router(router: axum::Router) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let port = listener.local_addr().unwrap().port();
        let mut me = Self { port, router, running: None };
        me.serve(listener);
        me
    }

    fn serve(&mut self, listener: tokio::net::TcpListener) {
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let app = self.router.clone().into_make_service_with_connect_info::<std::net::SocketAddr>();
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    let _ = stopped.await;
                })
                .await;
        });
        self.running = Some((stop, task));
    }

    /// Stops listening and closes every connection.
    pub async fn stop(&mut self) {
        if let Some((stop, task)) = self.running.take() {
            let _ = stop.send(());
            let _ = task.await;
        }
    }

    /// Serves again on the same port.
    pub async fn start(&mut self) {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", self.port)).await.expect("the same port again");
        self.serve(listener);
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn client(&self) -> TestClient {
        TestClient::new(self.url())
    }
}

/// The whole system in this process: foundation, service-management, order-workflow and
/// analytics-monitoring, each on its own database.
pub struct TestApp {
    pub client: TestClient,
    pub port: u16,
    pub state: crm_analytics_monitoring::AppState,
    pub foundation: Served,
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
        common: common("analytics-monitoring", db, dir, foundation_url),
        peers: peers(foundation_url),
        service_management_url: sm_url.to_owned(),
        order_workflow_url: ow_url.to_owned(),
        audit: audit(dir, foundation_url),
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
        let fdb = TestDatabase::create(backend).await;
        let fdir = fdb.data_dir().join("foundation");
        let mut fcfg = crm_foundation::config::Config::local(&fdb.url, &fdir, ADMIN_EMAIL, ADMIN_PASSWORD);
        fcfg.audit.ingest_token = Some(INGEST_TOKEN.into());
        let (fapp, _) = crm_foundation::Application::build(fcfg).await.expect("foundation starts");
        let fport = fapp.port();
        tokio::spawn(fapp.run_until_stopped());
        let foundation_url = format!("http://127.0.0.1:{fport}");
        let foundation = Served { port: fport, router: axum::Router::new(), running: None };

        let smdb = TestDatabase::create(backend).await;
        let smdir = smdb.data_dir().join("service-management");
        let smcfg = crm_service_management::config::Config {
            common: common("service-management", &smdb, &smdir, &foundation_url),
            peers: peers(&foundation_url),
            audit: audit(&smdir, &foundation_url),
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
            common: common("order-workflow", &owdb, &owdir, &foundation_url),
            peers: peers(&foundation_url),
            service_management_url: sm.url(),
            levels_cache: Duration::from_secs(60),
            collection_interval: Duration::ZERO,
            audit: audit(&owdir, &foundation_url),
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
        let mut me = Self {
            client,
            port,
            state,
            foundation,
            sm,
            ow,
            sm_db,
            ow_db,
            admin_token: String::new(),
            admin_id: Uuid::nil(),
            db,
            peer_dbs: vec![fdb, smdb, owdb],
        };
        let login = me.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
        login.expect(200);
        me.admin_token = login.data()["token"].as_str().unwrap().to_owned();
        me.admin_id = uuid(&login.data()["user"]["id"]);
        me
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

    pub fn fclient(&self) -> TestClient {
        self.foundation.client()
    }
    pub async fn fget(&self, path: &str, token: Option<&str>) -> TestResponse {
        self.fclient().get(&format!("/api/foundation{path}"), token).await
    }
    pub async fn fpost(&self, path: &str, token: Option<&str>, body: Value) -> TestResponse {
        self.fclient().post(&format!("/api/foundation{path}"), token, &body).await
    }

    pub async fn login(&self, email: &str, password: &str) -> TestResponse {
        self.fpost("/auth/login", None, json!({ "email": email, "password": password })).await
    }

    pub async fn token(&self, email: &str, password: &str) -> String {
        let r = self.login(email, password).await;
        r.expect(200);
        r.data()["token"].as_str().unwrap().to_owned()
    }

    pub async fn role_id(&self, code: &str) -> Uuid {
        let r = self.fget("/roles", self.admin()).await;
        r.expect(200);
        let role = r.data().as_array().unwrap().iter().find(|x| x["code"] == code).expect("role exists");
        uuid(&role["id"])
    }

    /// An organization of `kind`; returns its id and its administrator's (id, token).
    pub async fn org(&self, name: &str, kind: &str) -> (Uuid, Uuid, String) {
        let r = self
            .fpost(
                "/organizations",
                self.admin(),
                json!({ "name": name, "organization_type": kind, "admin_password": PASSWORD }),
            )
            .await;
        r.expect(200);
        let email = r.data()["admin_user"]["email"].as_str().unwrap().to_owned();
        let admin_id = uuid(&r.data()["admin_user"]["id"]);
        (uuid(&r.data()["id"]), admin_id, self.token(&email, PASSWORD).await)
    }

    /// A user with `roles` in `org`, logged in; returns (user id, token).
    pub async fn user(&self, org: Uuid, email: &str, roles: &[&str]) -> (Uuid, String) {
        let mut role_ids = Vec::new();
        for code in roles {
            role_ids.push(self.role_id(code).await);
        }
        let r = self
            .fpost(
                "/users",
                self.admin(),
                json!({ "organization_id": org, "email": email, "password": PASSWORD, "role_ids": role_ids }),
            )
            .await;
        r.expect(200);
        (uuid(&r.data()["id"]), self.token(email, PASSWORD).await)
    }
}

impl Served {
    /// A handle on a server this module did not start (foundation runs until the test ends).
    pub fn external(port: u16) -> Self {
        Self { port, router: axum::Router::new(), running: None }
    }
}

pub fn uuid(v: &Value) -> Uuid {
    v.as_str().and_then(|s| s.parse().ok()).unwrap_or_else(|| panic!("not a uuid: {v}"))
}

/// The BANTU organization's fixed id.
pub const BANTU: Uuid = Uuid::from_u128(1);
