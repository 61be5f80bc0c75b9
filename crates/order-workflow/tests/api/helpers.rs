#![allow(dead_code)]

use crm_common::testing::{
    Backend, Served, TestClient, TestDatabase, TestResponse, audit_settings, peer_settings, service_settings,
};
use crm_order_workflow::config::Config;
use serde_json::{Value, json};
use std::path::Path;
use std::time::Duration;
use uuid::Uuid;

pub use crm_foundation::testing::Foundation;
pub const PREFIX: &str = "/api/order-workflow";
/// Signs order files' links in tests, so a test can make an expired or a forged one.
pub const FILE_URL_KEY: &str = "test-file-url-key-0123456789abcdef";

/// service-management, running in this process on its own database: the owner of customer levels,
/// customers, products and their dependencies. It can be stopped and started again on the same
/// port and database, as a real outage and recovery would look to order-workflow.
pub struct ServiceManagement {
    pub served: Served,
    pub db: TestDatabase,
}

impl ServiceManagement {
    pub async fn spawn(backend: Backend, foundation_url: &str) -> Self {
        let db = TestDatabase::create(backend).await;
        let dir = db.data_dir().join("service-management");
        let cfg = crm_service_management::config::Config {
            common: service_settings("service-management", &db, &dir, foundation_url),
            peers: peer_settings(foundation_url),
            audit: audit_settings(&dir, foundation_url),
        };
        let state = crm_service_management::prepare(cfg).await.expect("service-management starts");
        let c = &state.config;
        let capture = crm_common::http::audit::AuditCapture::over_http(
            "service-management",
            &c.audit,
            c.common.trusted_proxies.clone(),
        )
        .expect("audit capture");
        let served = Served::start_router(crm_service_management::router(state, capture)).await;
        Self { served, db }
    }
}

/// Stopping and starting it again (`stop`, `start`) and its `url`, `client` and `port`.
impl std::ops::Deref for ServiceManagement {
    type Target = Served;
    fn deref(&self) -> &Served {
        &self.served
    }
}

impl std::ops::DerefMut for ServiceManagement {
    fn deref_mut(&mut self) -> &mut Served {
        &mut self.served
    }
}

/// Settings of an order-workflow talking to the foundation and service-management given.
pub fn config(db: &TestDatabase, dir: &Path, foundation_url: &str, sm_url: &str) -> Config {
    Config {
        common: service_settings("order-workflow", db, dir, foundation_url),
        peers: peer_settings(foundation_url),
        service_management_url: sm_url.to_owned(),
        levels_cache: Duration::from_secs(60),
        collection_interval: Duration::ZERO,
        audit: audit_settings(dir, foundation_url),
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
        let (admin_token, admin_id) = (foundation.admin_token.clone(), foundation.admin_id);
        Self { client, port, state, foundation, sm, admin_token, admin_id, db }
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

pub fn id_of(v: &Value) -> String {
    v["id"].as_str().unwrap().to_owned()
}

/// The BANTU organization's fixed id.
pub const BANTU: Uuid = Uuid::from_u128(1);
