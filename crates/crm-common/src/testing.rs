#![expect(clippy::expect_used, reason = "test support: a failed setup step should stop the test loudly")]

//! Integration-test support: a fresh database per test on SQLite or PostgreSQL (dropped afterwards,
//! so tests run concurrently), a typed HTTP client, and a macro that runs one test body on both
//! backends.

#[path = "testing_openapi.rs"]
pub mod openapi;

use sea_orm::{ConnectionTrait, Database};
use serde_json::Value;
use std::path::PathBuf;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The server PostgreSQL test databases are created on.
pub fn postgres_admin_url() -> String {
    std::env::var("TEST_POSTGRES_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

pub fn redis_url() -> String {
    std::env::var("TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into())
}

/// A database that exists for one test.
pub struct TestDatabase {
    pub url: String,
    pub backend: Backend,
    name: String,
    dir: Option<PathBuf>,
}

impl TestDatabase {
    pub async fn create(backend: Backend) -> Self {
        let name = format!("crm_test_{}", uuid::Uuid::now_v7().simple());
        match backend {
            Backend::Sqlite => {
                let dir = std::env::temp_dir().join(&name);
                std::fs::create_dir_all(&dir).expect("create temp dir");
                let url = format!("sqlite://{}/test.db", dir.display());
                Self { url, backend, name, dir: Some(dir) }
            }
            Backend::Postgres => {
                let admin = postgres_admin_url();
                let conn = Database::connect(admin.as_str()).await.expect("connect to PostgreSQL (is it running?)");
                conn.execute_unprepared(&format!("CREATE DATABASE \"{name}\"")).await.expect("create database");
                let _ = conn.close().await;
                let base = admin.rsplit_once('/').map(|(b, _)| b).unwrap_or(&admin);
                Self { url: format!("{base}/{name}"), backend, name, dir: None }
            }
        }
    }

    /// A scratch directory for files the service keeps next to its database (keys, logs).
    pub fn data_dir(&self) -> PathBuf {
        match &self.dir {
            Some(d) => d.clone(),
            None => {
                let d = std::env::temp_dir().join(&self.name);
                let _ = std::fs::create_dir_all(&d);
                d
            }
        }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(std::env::temp_dir().join(&self.name));
        if self.backend == Backend::Postgres {
            let name = self.name.clone();
            // Drop runs inside the test's runtime; do the async cleanup on a thread of its own.
            let _ = std::thread::spawn(move || {
                let Ok(rt) = tokio::runtime::Builder::new_current_thread().enable_all().build() else {
                    return;
                };
                rt.block_on(async {
                    if let Ok(conn) = Database::connect(postgres_admin_url().as_str()).await {
                        let _ =
                            conn.execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)")).await;
                        let _ = conn.close().await;
                    }
                });
            })
            .join();
        }
    }
}

/// Runs one async test body on SQLite and on PostgreSQL: `db_test!(async fn name(backend) { … })`
/// expands to `name::sqlite` and `name::postgres`.
#[macro_export]
macro_rules! db_test {
    ($(#[$meta:meta])* async fn $name:ident($backend:ident) $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            $(#[$meta])*
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let $backend = $crate::testing::Backend::Sqlite;
                $body
            }
            $(#[$meta])*
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                let $backend = $crate::testing::Backend::Postgres;
                $body
            }
        }
    };
}

/// A response with its body parsed as JSON when it is JSON.
#[derive(Debug)]
pub struct TestResponse {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub text: String,
    pub body: Value,
}

impl TestResponse {
    pub fn data(&self) -> &Value {
        &self.body["data"]
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Asserts the status and the standard envelope (`code` equals the status).
    #[track_caller]
    pub fn expect(&self, status: u16) -> &Self {
        assert_eq!(self.status, status, "unexpected status; body: {}", self.text);
        assert_eq!(self.body["code"], status, "envelope code differs from status: {}", self.text);
        assert!(self.body["timestamp"].is_string(), "envelope lacks timestamp: {}", self.text);
        assert!(self.body.get("message").is_some(), "envelope lacks message: {}", self.text);
        self
    }
}

/// An HTTP client bound to one base URL.
#[derive(Clone)]
pub struct TestClient {
    pub base: String,
    pub http: reqwest::Client,
}

impl TestClient {
    pub fn new(base: impl Into<String>) -> Self {
        let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client");
        Self { base: base.into(), http }
    }

    pub async fn send(&self, req: reqwest::RequestBuilder) -> TestResponse {
        let response = req.send().await.expect("request failed");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let text = response.text().await.expect("body");
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        TestResponse { status, headers, text, body }
    }

    pub fn builder(&self, method: reqwest::Method, path: &str, token: Option<&str>) -> reqwest::RequestBuilder {
        let mut req = self.http.request(method, format!("{}{}", self.base, path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        req
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> TestResponse {
        self.send(self.builder(reqwest::Method::GET, path, token)).await
    }

    pub async fn post(&self, path: &str, token: Option<&str>, body: &Value) -> TestResponse {
        self.send(self.builder(reqwest::Method::POST, path, token).json(body)).await
    }

    pub async fn put(&self, path: &str, token: Option<&str>, body: &Value) -> TestResponse {
        self.send(self.builder(reqwest::Method::PUT, path, token).json(body)).await
    }

    pub async fn delete(&self, path: &str, token: Option<&str>) -> TestResponse {
        self.send(self.builder(reqwest::Method::DELETE, path, token)).await
    }
}

/// A signing key for tests of services that verify foundation's tokens without running it:
/// give the service [`TestKeys::key_set`] and call it with [`TestKeys::token`].
pub struct TestKeys {
    pub signer: crate::auth::Signer,
}

impl Default for TestKeys {
    fn default() -> Self {
        Self { signer: crate::auth::Signer::new(ed25519_dalek::SigningKey::generate(&mut rand::rngs::OsRng)) }
    }
}

impl TestKeys {
    pub fn key_set(&self) -> crate::auth::KeySet {
        crate::auth::KeySet::fixed(vec![self.signer.verifying_key()])
    }

    /// Claims valid for 15 minutes with the default issuer and audience.
    pub fn claims(user_id: uuid::Uuid, organization_id: uuid::Uuid, roles: &[&str]) -> crate::auth::Claims {
        let now = chrono::Utc::now().timestamp();
        crate::auth::Claims {
            iss: "bantu-crm".into(),
            aud: "bantu-crm".into(),
            sub: user_id,
            exp: now + 900,
            nbf: now,
            iat: now,
            jti: uuid::Uuid::now_v7(),
            typ: crate::auth::TokenType::Access,
            organization_id,
            roles: roles.iter().map(|r| (*r).to_owned()).collect(),
            username: String::new(),
            email: String::new(),
            user_id: Some(user_id),
            primary_organization_id: Some(organization_id),
            sid: None,
        }
    }

    pub fn token(&self, user_id: uuid::Uuid, organization_id: uuid::Uuid, roles: &[&str]) -> String {
        self.sign(&Self::claims(user_id, organization_id, roles))
    }

    pub fn sign(&self, claims: &crate::auth::Claims) -> String {
        self.signer.sign(claims).expect("sign test token")
    }
}

/// Serves `router` in-process on a free loopback port; returns its base URL.
pub async fn spawn(router: axum::Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("local addr");
    tokio::spawn(crate::http::serve(listener, router));
    format!("http://{addr}")
}

/// The backend chosen by `TEST_DB` (`sqlite` or `postgres`), for tests that run on one only.
pub fn backend_from_env() -> Backend {
    match std::env::var("TEST_DB").as_deref() {
        Ok("postgres") | Ok("postgresql") => Backend::Postgres,
        _ => Backend::Sqlite,
    }
}

/// A free loopback port (bound and released; a race with another process is unlikely in tests).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("a free port")
}

/// A binary of this workspace that cargo built next to the running test executable
/// (`target/<profile>/<name>`); `make test` builds every binary before the tests run.
pub fn sibling_binary(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    let dir = exe.parent().and_then(|deps| deps.parent()).expect("target directory");
    let path = dir.join(name);
    assert!(path.exists(), "{} is missing: build it first (cargo build --bins)", path.display());
    path
}

/// A service started as a real process, killed when dropped; its stderr goes to a log file.
pub struct Process {
    child: std::process::Child,
    pub port: u16,
    log: PathBuf,
}

impl Process {
    /// Starts `binary` with `env` (plus `CRM_BIND_ADDR` on `port`), logging to `dir`.
    pub fn start(binary: &std::path::Path, port: u16, dir: &std::path::Path, env: &[(&str, String)]) -> Self {
        std::fs::create_dir_all(dir).expect("process directory");
        let name = binary.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let log = dir.join(format!("{name}-{}.log", uuid::Uuid::now_v7().simple()));
        let file = std::fs::File::create(&log).expect("log file");
        let mut cmd = std::process::Command::new(binary);
        cmd.env("CRM_BIND_ADDR", format!("127.0.0.1:{port}"))
            .env("RUST_LOG", "warn")
            .env_remove("REDIS_URL")
            .env_remove("MONGODB_URL")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::from(file));
        for (k, v) in env {
            cmd.env(k, v);
        }
        let child = cmd.spawn().expect("start process");
        Self { child, port, log }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Waits (up to 60 s) for `/health` to answer 200.
    pub async fn healthy(mut self) -> Self {
        let client = reqwest::Client::new();
        for _ in 0..600 {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("process exited early ({status}):\n{}", self.log());
            }
            if let Ok(r) = client.get(format!("{}/health", self.url())).send().await
                && r.status().is_success()
            {
                return self;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        panic!("process on port {} never became healthy:\n{}", self.port, self.log());
    }

    /// Ends the process abruptly (SIGKILL).
    pub fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// SecantusDB (a MongoDB-wire server, installed into `./.venv` by `scripts/ensure-services.sh`)
/// on a free port with in-memory storage; killed on drop. For tests of services that search the
/// MongoDB log store.
pub struct MongoServer {
    child: std::process::Child,
    pub port: u16,
}

impl MongoServer {
    pub fn start() -> Self {
        let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
        let python = root.join(".venv/bin/python");
        assert!(python.exists(), "{} is missing: run scripts/ensure-services.sh", python.display());
        let port = free_port();
        let child = std::process::Command::new(&python)
            .args(["-m", "secantus", "--port", &port.to_string(), "--storage-path", ":memory:"])
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("start SecantusDB");
        let mut server = Self { child, port };
        let started = std::time::Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Ok(Some(status)) = server.child.try_wait() {
                panic!("SecantusDB exited with {status} before listening");
            }
            assert!(started.elapsed() < std::time::Duration::from_secs(60), "SecantusDB did not listen on {port}");
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        server
    }

    /// A URL naming a database of its own.
    pub fn url(&self) -> String {
        format!("mongodb://127.0.0.1:{}/crm_logs_{}?directConnection=true", self.port, uuid::Uuid::now_v7().simple())
    }
}

impl Drop for MongoServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The audit ingest token every test system shares between foundation and the services.
pub const INGEST_TOKEN: &str = "test-ingest-token-0123456789";

/// The common settings of `service` under test: its own database and data directory, a free port,
/// a fresh cache namespace, keys from the foundation at `foundation_url`.
pub fn service_settings(
    service: &'static str,
    db: &TestDatabase,
    dir: &std::path::Path,
    foundation_url: &str,
) -> crate::config::ServiceConfig {
    crate::config::ServiceConfig {
        service,
        bind_addr: std::net::SocketAddr::from(([127, 0, 0, 1], 0)),
        database_url: db.url.clone(),
        redis_url: None,
        cache_prefix: format!("{service}-test-{}:", uuid::Uuid::now_v7().simple()),
        data_dir: dir.to_path_buf(),
        jwks_url: format!("{foundation_url}/api/foundation/auth/jwks.json"),
        body_limit_bytes: 1024 * 1024,
        trusted_proxies: crate::net::Proxies::parse("127.0.0.1").expect("loopback"),
    }
}

/// How a service under test reaches the foundation at `foundation_url`: short caches and timeouts,
/// so that tests of expiry and outages finish quickly.
pub fn peer_settings(foundation_url: &str) -> crate::config::PeerSettings {
    use std::time::Duration;
    crate::config::PeerSettings {
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

/// Audit shipping of a service under test to the foundation at `foundation_url` with
/// [`INGEST_TOKEN`]; its outbox in `dir`.
pub fn audit_settings(dir: &std::path::Path, foundation_url: &str) -> crate::http::audit::AuditSettings {
    crate::http::audit::AuditSettings {
        record_reads: false,
        ingest_url: format!("{foundation_url}/api/foundation/audit-logs/ingest"),
        ingest_token: Some(INGEST_TOKEN.into()),
        token_file: dir.join("audit-ingest.token"),
        outbox_dir: dir.join(format!("audit-outbox-{}", uuid::Uuid::now_v7().simple())),
        max_params_bytes: 16 * 1024,
        retry_max: std::time::Duration::from_millis(200),
    }
}

/// A router served on a loopback port that can be stopped and started again on the same port,
/// as a real outage and recovery look to the services that call it.
pub struct Served {
    pub port: u16,
    router: axum::Router,
    running: Option<(tokio::sync::oneshot::Sender<()>, tokio::task::JoinHandle<()>)>,
}

impl Served {
    pub async fn start_router(router: axum::Router) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let port = listener.local_addr().expect("local addr").port();
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

    /// Stops listening and closes every connection (callers' idle ones too).
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

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn minted_tokens_verify_against_the_key_set() {
        let keys = TestKeys::default();
        let verifier = crate::auth::Verifier::new(keys.key_set(), crate::auth::VerifierSettings::default());
        let user = uuid::Uuid::now_v7();
        let claims = verifier.verify(&keys.token(user, uuid::Uuid::now_v7(), &["SALES"])).await.unwrap();
        assert_eq!(claims.sub, user);
        assert_eq!(claims.roles, ["SALES"]);
    }
}
