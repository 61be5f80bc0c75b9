#![expect(
    clippy::expect_used,
    clippy::unwrap_used,
    reason = "test support: a failed setup step should stop the test loudly"
)]

//! foundation for the other services' integration tests: served in the test's process on a
//! database of its own, with its administrator logged in, and the few directory calls every
//! service's tests start from (organizations, users with roles, their tokens).

use crate::{AppState, Application};
use crm_common::testing::{Backend, INGEST_TOKEN, TestClient, TestDatabase, TestResponse};
use serde_json::{Value, json};
use uuid::Uuid;

pub const ADMIN_EMAIL: &str = "admin@bantu.test";
pub const ADMIN_PASSWORD: &str = "Admin12345";
/// The password of every account the helpers create.
pub const PASSWORD: &str = "Passw0rd99";

pub struct Foundation {
    pub client: TestClient,
    pub port: u16,
    pub state: AppState,
    pub db: TestDatabase,
    /// The platform administrator's access token and id.
    pub admin_token: String,
    pub admin_id: Uuid,
}

fn uuid(v: &Value) -> Uuid {
    v.as_str().and_then(|s| s.parse().ok()).unwrap_or_else(|| panic!("not a uuid: {v}"))
}

impl Foundation {
    pub async fn spawn(backend: Backend) -> Self {
        let db = TestDatabase::create(backend).await;
        let dir = db.data_dir().join("foundation");
        let mut cfg = crate::config::Config::local(&db.url, &dir, ADMIN_EMAIL, ADMIN_PASSWORD);
        cfg.audit.ingest_token = Some(INGEST_TOKEN.into());
        let (app, _) = Application::build(cfg).await.expect("foundation starts");
        let port = app.port();
        let state = app.state.clone();
        tokio::spawn(app.run_until_stopped());
        let client = TestClient::new(format!("http://127.0.0.1:{port}"));
        let mut me = Self { client, port, state, db, admin_token: String::new(), admin_id: Uuid::nil() };
        let login = me.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
        login.expect(200);
        me.admin_token = login.data()["token"].as_str().unwrap().to_owned();
        me.admin_id = uuid(&login.data()["user"]["id"]);
        me
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn admin(&self) -> Option<&str> {
        Some(&self.admin_token)
    }

    pub async fn fget(&self, path: &str, token: Option<&str>) -> TestResponse {
        self.client.get(&format!("/api/foundation{path}"), token).await
    }

    pub async fn fpost(&self, path: &str, token: Option<&str>, body: Value) -> TestResponse {
        self.client.post(&format!("/api/foundation{path}"), token, &body).await
    }

    pub async fn fput(&self, path: &str, token: Option<&str>, body: Value) -> TestResponse {
        self.client.put(&format!("/api/foundation{path}"), token, &body).await
    }

    pub async fn fdelete(&self, path: &str, token: Option<&str>) -> TestResponse {
        self.client.delete(&format!("/api/foundation{path}"), token).await
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

    /// An organization of `kind`; its id and its administrator's (id, token).
    pub async fn org(&self, name: &str, kind: &str) -> (Uuid, Uuid, String) {
        let body = json!({ "name": name, "organization_type": kind, "admin_password": PASSWORD });
        let r = self.fpost("/organizations", self.admin(), body).await;
        r.expect(200);
        let email = r.data()["admin_user"]["email"].as_str().unwrap().to_owned();
        let admin_id = uuid(&r.data()["admin_user"]["id"]);
        (uuid(&r.data()["id"]), admin_id, self.token(&email, PASSWORD).await)
    }

    /// A user with `roles` in `org`, logged in: (user id, token).
    pub async fn user(&self, org: Uuid, email: &str, roles: &[&str]) -> (Uuid, String) {
        let mut role_ids = Vec::new();
        for code in roles {
            role_ids.push(self.role_id(code).await);
        }
        let body = json!({ "organization_id": org, "email": email, "password": PASSWORD, "role_ids": role_ids });
        let r = self.fpost("/users", self.admin(), body).await;
        r.expect(200);
        (uuid(&r.data()["id"]), self.token(email, PASSWORD).await)
    }
}
