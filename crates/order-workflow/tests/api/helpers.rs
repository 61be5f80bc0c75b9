#![allow(dead_code)]

use crm_common::config::{PeerSettings, ServiceConfig};
use crm_common::http::audit::AuditSettings;
use crm_common::testing::{Backend, TestClient, TestDatabase, TestResponse};
use crm_order_workflow::config::Config;
use serde_json::{Value, json};
use std::path::Path;
use std::time::Duration;
use uuid::Uuid;

pub const ADMIN_EMAIL: &str = "admin@bantu.test";
pub const ADMIN_PASSWORD: &str = "Admin12345";
pub const PASSWORD: &str = "Passw0rd99";
pub const INGEST_TOKEN: &str = "test-ingest-token-0123456789";
pub const PREFIX: &str = "/api/order-workflow";
/// Signs order files' links in tests, so a test can make an expired or a forged one.
pub const FILE_URL_KEY: &str = "test-file-url-key-0123456789abcdef";

/// foundation, running in this process on its own database.
pub struct Foundation {
    pub client: TestClient,
    pub port: u16,
    pub db: TestDatabase,
}

impl Foundation {
    pub async fn spawn(backend: Backend) -> Self {
        let db = TestDatabase::create(backend).await;
        let dir = db.data_dir().join("foundation");
        let mut cfg = crm_foundation::config::Config::local(&db.url, &dir, ADMIN_EMAIL, ADMIN_PASSWORD);
        cfg.audit.ingest_token = Some(INGEST_TOKEN.into());
        let (app, _) = crm_foundation::Application::build(cfg).await.expect("foundation starts");
        let port = app.port();
        tokio::spawn(app.run_until_stopped());
        Self { client: TestClient::new(format!("http://127.0.0.1:{port}")), port, db }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

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

/// service-management, running in this process on its own database: the owner of customer levels,
/// customers, products and their dependencies. It can be stopped and started again on the same
/// port and database, as a real outage and recovery would look to order-workflow.
pub struct ServiceManagement {
    pub port: u16,
    pub db: TestDatabase,
    router: axum::Router,
    running: Option<(tokio::sync::oneshot::Sender<()>, tokio::task::JoinHandle<()>)>,
}

impl ServiceManagement {
    pub async fn spawn(backend: Backend, foundation_url: &str) -> Self {
        let db = TestDatabase::create(backend).await;
        let dir = db.data_dir().join("service-management");
        let cfg = crm_service_management::config::Config {
            common: common("service-management", &db, &dir, foundation_url),
            peers: peers(foundation_url),
            audit: audit(&dir, foundation_url),
        };
        let state = crm_service_management::prepare(cfg).await.expect("service-management starts");
        let c = &state.config;
        let capture = crm_common::http::audit::AuditCapture::over_http(
            "service-management",
            &c.audit,
            c.common.trusted_proxies.clone(),
        )
        .expect("audit capture");
        let router = crm_service_management::router(state, capture);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let port = listener.local_addr().unwrap().port();
        let mut me = Self { port, db, router, running: None };
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

    /// Stops listening and closes every connection (order-workflow's idle ones too).
    pub async fn stop(&mut self) {
        if let Some((stop, task)) = self.running.take() {
            let _ = stop.send(());
            let _ = task.await;
        }
    }

    /// Serves again on the same port and database.
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

/// Settings of an order-workflow talking to the foundation and service-management given.
pub fn config(db: &TestDatabase, dir: &Path, foundation_url: &str, sm_url: &str) -> Config {
    Config {
        common: common("order-workflow", db, dir, foundation_url),
        peers: peers(foundation_url),
        service_management_url: sm_url.to_owned(),
        levels_cache: Duration::from_secs(60),
        collection_interval: Duration::ZERO,
        audit: audit(dir, foundation_url),
        files_dir: dir.join("order-files"),
        file_url_key: Some(FILE_URL_KEY.into()),
        file_url_key_file: dir.join("order-file-url.key"),
        file_url_ttl: Duration::from_secs(900),
        live: crm_order_workflow::live::socket::Limits {
            ping: Duration::from_secs(25),
            idle: Duration::from_secs(60),
            write_timeout: Duration::from_secs(10),
            queue: 32,
            max_per_user: 16,
        },
    }
}

pub struct TestApp {
    pub client: TestClient,
    pub port: u16,
    pub state: crm_order_workflow::AppState,
    pub foundation: Foundation,
    pub sm: Option<ServiceManagement>,
    pub admin_token: String,
    pub admin_id: Uuid,
    pub db: TestDatabase,
}

impl TestApp {
    pub async fn spawn(backend: Backend) -> Self {
        Self::spawn_with(backend, true).await
    }

    /// With `with_sm` false, service-management's URL is a closed port: it is down.
    pub async fn spawn_with(backend: Backend, with_sm: bool) -> Self {
        let foundation = Foundation::spawn(backend).await;
        let sm = if with_sm { Some(ServiceManagement::spawn(backend, &foundation.url()).await) } else { None };
        let sm_url = match &sm {
            Some(s) => s.url(),
            None => format!("http://127.0.0.1:{}", crm_common::testing::free_port()),
        };
        let db = TestDatabase::create(backend).await;
        let dir = db.data_dir().join("order-workflow");
        let cfg = config(&db, &dir, &foundation.url(), &sm_url);
        let app = crm_order_workflow::Application::build(cfg).await.expect("order-workflow starts");
        let port = app.port();
        let state = app.state.clone();
        tokio::spawn(app.run_until_stopped());
        let client = TestClient::new(format!("http://127.0.0.1:{port}"));
        let mut me =
            Self { client, port, state, foundation, sm, admin_token: String::new(), admin_id: Uuid::nil(), db };
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
    pub async fn put(&self, path: &str, token: Option<&str>, body: Value) -> TestResponse {
        self.client.put(&format!("{PREFIX}{path}"), token, &body).await
    }
    pub async fn delete(&self, path: &str, token: Option<&str>) -> TestResponse {
        self.client.delete(&format!("{PREFIX}{path}"), token).await
    }

    pub async fn fget(&self, path: &str, token: Option<&str>) -> TestResponse {
        self.foundation.client.get(&format!("/api/foundation{path}"), token).await
    }
    pub async fn fpost(&self, path: &str, token: Option<&str>, body: Value) -> TestResponse {
        self.foundation.client.post(&format!("/api/foundation{path}"), token, &body).await
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

    /// The running service-management.
    pub fn sm(&self) -> &ServiceManagement {
        self.sm.as_ref().expect("service-management was spawned")
    }

    pub fn sm_mut(&mut self) -> &mut ServiceManagement {
        self.sm.as_mut().expect("service-management was spawned")
    }

    /// A product of the catalogue (created by the BANTU administrator); its id.
    pub async fn product(&self, name: &str) -> Uuid {
        let body = json!({"name": name, "code": format!("P-{}", name.replace(' ', "-")), "status": "active", "is_active": true});
        let r = self.sm().client().post("/api/service-management/products", self.admin(), &body).await;
        r.expect(200);
        uuid(&r.data()["id"])
    }

    /// `product` requires (or recommends) `on`, in service-management's catalogue.
    pub async fn depends(&self, product: Uuid, on: Uuid, kind: &str) {
        let body = json!({"product_id": product, "depends_on_product_id": on, "dependency_type": kind});
        let r = self.sm().client().post("/api/order-workflow/product-dependencies", self.admin(), &body).await;
        r.expect(201);
    }

    /// A customer of service-management created by `token`; its id.
    pub async fn customer(&self, token: &str, name: &str) -> Uuid {
        let sm = self.sm().client();
        let sources = sm.get("/api/service-management/customer-sources", Some(token)).await;
        let body = json!({"name": name, "source_id": sources.data()[0]["id"]});
        let r = sm.post("/api/service-management/customers", Some(token), &body).await;
        r.expect(200);
        uuid(&r.data()["id"])
    }

    /// How many customers service-management holds in the caller's view (an administrator: the
    /// organization's).
    pub async fn customer_count(&self, token: &str) -> u64 {
        let r = self.sm().client().get("/api/service-management/customers?view_type=global", Some(token)).await;
        r.expect(200);
        r.data()["total"].as_u64().unwrap()
    }

    /// An opportunity created by `token` with `body` (the name defaults); the answer's data.
    pub async fn opportunity(&self, token: &str, body: Value) -> Value {
        let mut body = body;
        if body.get("name").is_none() {
            body["name"] = json!("Work visas for PT Maju");
        }
        let r = self.post("/opportunities", Some(token), body).await;
        assert_eq!(r.status, 200, "{}", r.text);
        r.data().clone()
    }

    pub async fn patch(&self, path: &str, token: Option<&str>, body: Value) -> TestResponse {
        self.client
            .send(self.client.builder(reqwest::Method::PATCH, &format!("{PREFIX}{path}"), token).json(&body))
            .await
    }

    /// A lead created by `token` with `body` (the name defaults); the answer's data.
    pub async fn lead(&self, token: &str, body: Value) -> Value {
        let mut body = body;
        if body.get("name").is_none() {
            body["name"] = json!("Budi Santoso");
        }
        let r = self.post("/leads", Some(token), body).await;
        assert_eq!(r.status, 200, "{}", r.text);
        r.data().clone()
    }
}

pub fn uuid(v: &Value) -> Uuid {
    v.as_str().and_then(|s| s.parse().ok()).unwrap_or_else(|| panic!("not a uuid: {v}"))
}

pub fn id_of(v: &Value) -> String {
    v["id"].as_str().unwrap().to_owned()
}

/// The BANTU organization's fixed id.
pub const BANTU: Uuid = Uuid::from_u128(1);
