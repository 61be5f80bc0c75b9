#![allow(dead_code)]

use crm_common::config::ServiceConfig;
use crm_common::http::audit::AuditSettings;
use crm_common::testing::{Backend, TestClient, TestDatabase, TestResponse};
use crm_foundation::audit::model as audit_log;
use crm_foundation::config::Config;
use crm_foundation::{AppState, Application};
use sea_orm::{EntityTrait, QueryOrder};
use serde_json::{Value, json};
use std::path::PathBuf;
use uuid::Uuid;

pub const ADMIN_EMAIL: &str = "admin@bantu.test";
pub const ADMIN_PASSWORD: &str = "Admin12345";
pub const PASSWORD: &str = "Passw0rd99";
pub const INGEST_TOKEN: &str = "test-ingest-token-0123456789";

pub struct TestApp {
    pub client: TestClient,
    pub port: u16,
    pub state: AppState,
    pub admin_token: String,
    pub admin_id: Uuid,
    pub db: TestDatabase,
}

pub fn config(db: &TestDatabase, data_dir: PathBuf) -> Config {
    Config {
        common: ServiceConfig {
            service: "foundation",
            bind_addr: "127.0.0.1:0".parse().unwrap(),
            database_url: db.url.clone(),
            redis_url: None,
            cache_prefix: format!("foundation-test-{}:", uuid::Uuid::now_v7().simple()),
            jwks_url: String::new(),
            body_limit_bytes: 1024 * 1024,
            trusted_proxies: crm_common::net::Proxies::parse("127.0.0.1").unwrap(),
            data_dir: data_dir.clone(),
        },
        admin_email: ADMIN_EMAIL.into(),
        admin_username: "admin".into(),
        admin_password: Some(ADMIN_PASSWORD.into()),
        jwt_key_file: data_dir.join("jwt.pem"),
        jwt_retired_key_files: Vec::new(),
        issuer: "bantu-crm".into(),
        audience: "bantu-crm".into(),
        access_ttl_secs: crm_foundation::config::ACCESS_TTL_SECS,
        refresh_ttl_secs: 3600,
        session_idle_secs: crm_foundation::config::SESSION_IDLE_SECS,
        allow_registration: false,
        registration_org_code: "BANTU".into(),
        login_max_failures: 5,
        login_max_failures_per_ip: 50,
        login_failure_window_secs: 900,
        export_max_bytes: 64 * 1024 * 1024,
        upload_quota_bytes: 1024 * 1024 * 1024,
        audit: AuditSettings {
            record_reads: false,
            ingest_url: String::new(),
            ingest_token: Some(INGEST_TOKEN.into()),
            token_file: data_dir.join("audit-ingest.token"),
            outbox_dir: data_dir.join("audit-outbox"),
            max_params_bytes: 16 * 1024,
            retry_max: std::time::Duration::from_millis(200),
        },
    }
}

impl TestApp {
    pub async fn spawn(backend: Backend) -> Self {
        Self::spawn_with(backend, |_| {}).await
    }

    pub async fn spawn_with(backend: Backend, tweak: impl FnOnce(&mut Config)) -> Self {
        let db = TestDatabase::create(backend).await;
        let mut cfg = config(&db, db.data_dir());
        tweak(&mut cfg);
        Self::start(db, cfg).await
    }

    /// Starts a server on an existing database and configuration.
    pub async fn start(db: TestDatabase, mut cfg: Config) -> Self {
        // Each running instance needs an outbox of its own, even when instances share a data dir.
        cfg.audit.outbox_dir = db.data_dir().join(format!("audit-outbox-{}", Uuid::now_v7().simple()));
        let (app, _) = Application::build(cfg).await.expect("foundation starts");
        let port = app.port();
        let state = app.state.clone();
        tokio::spawn(app.run_until_stopped());
        let client = TestClient::new(format!("http://127.0.0.1:{port}"));
        let mut me = Self { client, port, state, admin_token: String::new(), admin_id: Uuid::nil(), db };
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
        self.client.get(&format!("/api/foundation{path}"), token).await
    }
    pub async fn post(&self, path: &str, token: Option<&str>, body: Value) -> TestResponse {
        self.client.post(&format!("/api/foundation{path}"), token, &body).await
    }
    pub async fn put(&self, path: &str, token: Option<&str>, body: Value) -> TestResponse {
        self.client.put(&format!("/api/foundation{path}"), token, &body).await
    }
    pub async fn delete(&self, path: &str, token: Option<&str>) -> TestResponse {
        self.client.delete(&format!("/api/foundation{path}"), token).await
    }

    pub async fn login(&self, email: &str, password: &str) -> TestResponse {
        self.post("/auth/login", None, json!({ "email": email, "password": password })).await
    }

    pub async fn token(&self, email: &str, password: &str) -> String {
        let r = self.login(email, password).await;
        r.expect(200);
        r.data()["token"].as_str().unwrap().to_owned()
    }

    pub async fn role_id(&self, code: &str) -> Uuid {
        let r = self.get("/roles", self.admin()).await;
        r.expect(200);
        let role = r.data().as_array().unwrap().iter().find(|x| x["code"] == code).expect("role exists");
        uuid(&role["id"])
    }

    /// An organization created by the platform admin; returns its data (with `admin_user`).
    pub async fn create_org(&self, name: &str, org_type: &str) -> Value {
        let r = self
            .post(
                "/organizations",
                self.admin(),
                json!({ "name": name, "organization_type": org_type, "admin_password": PASSWORD }),
            )
            .await;
        r.expect(200);
        r.data().clone()
    }

    /// A user with the given preset roles in `org`, created by the platform admin.
    pub async fn create_user(&self, org: Uuid, email: &str, roles: &[&str]) -> Value {
        let mut role_ids = Vec::new();
        for code in roles {
            role_ids.push(self.role_id(code).await);
        }
        let r = self
            .post(
                "/users",
                self.admin(),
                json!({ "organization_id": org, "email": email, "password": PASSWORD, "role_ids": role_ids }),
            )
            .await;
        r.expect(200);
        r.data().clone()
    }

    /// A user with `roles` in `org`, logged in; returns (user id, token).
    pub async fn user_with_token(&self, org: Uuid, email: &str, roles: &[&str]) -> (Uuid, String) {
        let user = self.create_user(org, email, roles).await;
        (uuid(&user["id"]), self.token(email, PASSWORD).await)
    }

    /// An agent organization and its auto-created admin's token.
    pub async fn org_with_admin(&self, name: &str) -> (Uuid, String) {
        let org = self.create_org(name, "agent").await;
        let email = org["admin_user"]["email"].as_str().unwrap().to_owned();
        (uuid(&org["id"]), self.token(&email, PASSWORD).await)
    }
}

pub fn uuid(v: &Value) -> Uuid {
    v.as_str().and_then(|s| s.parse().ok()).unwrap_or_else(|| panic!("not a uuid: {v}"))
}

pub const BANTU: Uuid = Uuid::from_u128(1);

impl TestApp {
    /// Every stored audit entry, oldest first.
    pub async fn audit_rows(&self) -> Vec<audit_log::Model> {
        audit_log::Entity::find().order_by_asc(audit_log::Column::CreatedAt).all(&self.state.db).await.unwrap()
    }

    /// Waits (up to 10 s) until the stored audit entries satisfy `done`; returns them.
    pub async fn audit_until(&self, what: &str, done: impl Fn(&[audit_log::Model]) -> bool) -> Vec<audit_log::Model> {
        for _ in 0..400 {
            let rows = self.audit_rows().await;
            if done(&rows) {
                return rows;
            }
            tokio::time::sleep(std::time::Duration::from_millis(25)).await;
        }
        panic!("timed out waiting for audit entries: {what}");
    }

    /// A request with a chosen `X-Request-ID`, to find its audit entry afterwards.
    pub async fn send_traced(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
        request_id: &str,
    ) -> TestResponse {
        let mut req =
            self.client.builder(method, &format!("/api/foundation{path}"), token).header("x-request-id", request_id);
        if let Some(b) = body {
            req = req.json(&b);
        }
        self.client.send(req).await
    }
}
