#![allow(dead_code)]

use crm_common::testing::{
    Backend, TestClient, TestDatabase, TestResponse, audit_settings, peer_settings, service_settings,
};
use crm_service_management::config::Config;
use serde_json::Value;
use std::path::Path;
use uuid::Uuid;

pub use crm_common::testing::INGEST_TOKEN;
pub use crm_foundation::testing::{ADMIN_EMAIL, ADMIN_PASSWORD, Foundation};
pub const PREFIX: &str = "/api/service-management";

/// Settings of a service-management talking to the foundation at `foundation_url`.
pub fn config(db: &TestDatabase, dir: &Path, foundation_url: &str) -> Config {
    Config {
        common: service_settings("service-management", db, dir, foundation_url),
        peers: peer_settings(foundation_url),
        audit: audit_settings(dir, foundation_url),
    }
}

pub struct TestApp {
    pub client: TestClient,
    pub port: u16,
    pub state: crm_service_management::AppState,
    pub foundation: Foundation,
    pub admin_token: String,
    pub admin_id: Uuid,
    pub db: TestDatabase,
}

impl TestApp {
    pub async fn spawn(backend: Backend) -> Self {
        Self::spawn_with(backend, |_| {}).await
    }

    pub async fn spawn_with(backend: Backend, tweak: impl FnOnce(&mut Config)) -> Self {
        let foundation = Foundation::spawn(backend).await;
        let db = TestDatabase::create(backend).await;
        let dir = db.data_dir().join("service-management");
        let mut cfg = config(&db, &dir, &foundation.url());
        tweak(&mut cfg);
        let app = crm_service_management::Application::build(cfg).await.expect("service-management starts");
        let port = app.port();
        let state = app.state.clone();
        tokio::spawn(app.run_until_stopped());
        let client = TestClient::new(format!("http://127.0.0.1:{port}"));
        let (admin_token, admin_id) = (foundation.admin_token.clone(), foundation.admin_id);
        Self { client, port, state, foundation, admin_token, admin_id, db }
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

    /// An organization of `kind` (`internal`, `vendor`, `agent`); returns its id and its
    /// administrator's token.
    pub async fn org(&self, name: &str, kind: &str) -> (Uuid, String) {
        let (id, _, token) = self.foundation.org(name, kind).await;
        (id, token)
    }
}

/// foundation's API and directory helpers (`fget`, `login`, `token`, `user`, …) on the app.
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
