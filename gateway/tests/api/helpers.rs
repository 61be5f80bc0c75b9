//! Spawning what the tests need: the gateway (in process, or as the real binary), foundation as
//! a process, a JWKS server whose keys can be swapped, token minting, and a private Redis.

use crate::client::Client;
use crm_common::auth::{Claims, Jwk, Jwks, Signer, TokenType};
use crm_gateway::Application;
use crm_gateway::config::Config;
use ed25519_dalek::SigningKey;
use http::{Request, Response};
use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::TcpListener;
use uuid::Uuid;

/// A scratch directory removed when dropped.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new() -> Self {
        let dir = std::env::temp_dir().join(format!("crm-gateway-test-{}", Uuid::now_v7().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A port that was free a moment ago.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

pub fn claims(offset_exp: i64) -> Claims {
    let now = chrono::Utc::now().timestamp();
    Claims {
        iss: "bantu-crm".into(),
        aud: "bantu-crm".into(),
        sub: Uuid::now_v7(),
        exp: now + offset_exp,
        nbf: now - 1,
        iat: now,
        jti: Uuid::now_v7(),
        typ: TokenType::Access,
        organization_id: Uuid::now_v7(),
        roles: vec!["ADMIN".into()],
        username: "tester".into(),
        email: "tester@bantu.test".into(),
        user_id: None,
        primary_organization_id: None,
        sid: None,
    }
}

pub fn new_signer() -> Signer {
    Signer::new(SigningKey::generate(&mut rand::rngs::OsRng))
}

/// Serves `/jwks.json` from keys the test can replace; counts fetches.
pub struct JwksServer {
    pub port: u16,
    keys: Arc<Mutex<Jwks>>,
    pub fetches: Arc<AtomicUsize>,
}

impl JwksServer {
    pub async fn start(signers: &[&Signer]) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let keys = Arc::new(Mutex::new(Jwks::default()));
        let fetches = Arc::new(AtomicUsize::new(0));
        let (k, f) = (keys.clone(), fetches.clone());
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let (k, f) = (k.clone(), f.clone());
                let service = service_fn(move |_req: Request<Incoming>| {
                    f.fetch_add(1, Ordering::SeqCst);
                    let body = serde_json::to_string(&*k.lock().unwrap()).unwrap();
                    async move { Ok::<_, std::convert::Infallible>(Response::new(Full::new(Bytes::from(body)))) }
                });
                tokio::spawn(
                    hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(stream), service),
                );
            }
        });
        let server = Self { port, keys, fetches };
        server.set(signers);
        server
    }

    pub fn set(&self, signers: &[&Signer]) {
        *self.keys.lock().unwrap() = Jwks { keys: signers.iter().map(|s| Jwk::from_key(&s.verifying_key())).collect() };
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/jwks.json", self.port)
    }
}

/// A gateway running in this test's runtime, with a token signer its JWKS trusts.
pub struct TestGateway {
    pub port: u16,
    pub tls_port: Option<u16>,
    pub client: Client,
    pub signer: Signer,
    pub jwks: JwksServer,
    pub dir: TempDir,
    /// Stops the gateway when sent to or dropped.
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    /// Ends when the gateway has stopped and drained.
    stopped: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl TestGateway {
    /// A gateway in front of `services` (`name`, `base url`), configured further by `tweak`.
    pub async fn spawn(services: &[(&str, String)], tweak: impl FnOnce(&mut Config)) -> Self {
        let signer = new_signer();
        let jwks = JwksServer::start(&[&signer]).await;
        let dir = TempDir::new();
        let services = services.iter().map(|(n, u)| ((*n).to_owned(), u.clone())).collect();
        let mut config = Config::local(services, jwks.url(), dir.0.clone());
        tweak(&mut config);
        let app = Application::build(config).await.expect("gateway starts");
        let (port, tls_port) = (app.port(), app.tls_port());
        let (stop, stopping) = tokio::sync::oneshot::channel::<()>();
        let stopped = tokio::spawn(app.run_until(async {
            let _ = stopping.await;
        }));
        Self { port, tls_port, client: Client::plain(port), signer, jwks, dir, stop: Some(stop), stopped }
    }

    /// Asks the gateway to stop, as a termination signal does; returns at once.
    pub fn stop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }

    /// Waits until the gateway has stopped (its connections drained).
    pub async fn stopped(self) {
        self.stopped.await.expect("gateway task").expect("gateway ran");
    }

    pub fn token(&self) -> String {
        self.signer.sign(&claims(300)).unwrap()
    }

    pub async fn metrics(&self) -> String {
        String::from_utf8_lossy(&self.client.get("/metrics", None).await.body).into_owned()
    }
}

/// A child process killed when dropped.
pub struct Process {
    pub child: Child,
    pub port: u16,
    pub dir: TempDir,
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Process {
    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

/// The binaries cargo built next to this test executable (`target/<profile>/`).
pub fn sibling_binary(name: &str) -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let dir = exe.parent().and_then(|deps| deps.parent()).unwrap();
    let path = dir.join(name);
    assert!(path.exists(), "{} is missing: build it first (cargo build -p crm-foundation)", path.display());
    path
}

pub async fn wait_for_health(port: u16, child: &mut Child, what: &str) {
    let client = Client::plain(port);
    for _ in 0..300 {
        if let Ok(Some(status)) = child.try_wait() {
            panic!("{what} exited early: {status}");
        }
        if tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
            let r = client.get("/health", None).await;
            if r.status.is_success() {
                return;
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{what} did not become healthy on port {port}");
}

pub const ADMIN_EMAIL: &str = "admin@bantu.test";
pub const ADMIN_PASSWORD: &str = "Admin12345";

/// The real foundation binary on a fresh SQLite database.
pub async fn spawn_foundation() -> Process {
    let dir = TempDir::new();
    let port = free_port();
    let mut child = Command::new(sibling_binary("crm-foundation"))
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("CRM_BIND_ADDR", format!("127.0.0.1:{port}"))
        .env("CRM_DATA_DIR", &dir.0)
        .env("DATABASE_URL", format!("sqlite://{}/foundation.db", dir.0.display()))
        .env("CRM_ADMIN_EMAIL", ADMIN_EMAIL)
        .env("CRM_ADMIN_PASSWORD", ADMIN_PASSWORD)
        .env("CRM_CACHE_PREFIX", format!("gw-test-foundation-{}:", Uuid::now_v7().simple()))
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start crm-foundation");
    wait_for_health(port, &mut child, "crm-foundation").await;
    Process { child, port, dir }
}

/// foundation's signing key, as it generated it into its data directory.
pub fn foundation_signer(foundation_data_dir: &std::path::Path) -> Signer {
    use ed25519_dalek::pkcs8::DecodePrivateKey;
    let pem = std::fs::read_to_string(foundation_data_dir.join("jwt-ed25519.pem")).unwrap();
    Signer::new(SigningKey::from_pkcs8_pem(&pem).unwrap())
}

/// The real gateway binary; its stdout (the JSON log) goes to `dir/stdout.log`.
pub async fn spawn_gateway_process(envs: &[(&str, String)]) -> Process {
    let dir = TempDir::new();
    let port = free_port();
    let log = std::fs::File::create(dir.0.join("stdout.log")).unwrap();
    let mut command = Command::new(env!("CARGO_BIN_EXE_crm-gateway"));
    command
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("CRM_BIND_ADDR", format!("127.0.0.1:{port}"))
        .env("CRM_TLS_ENABLED", "false")
        .env("CRM_HTTP_REDIRECT", "false")
        .env("CRM_DATA_DIR", &dir.0)
        .env("RUST_LOG", "info")
        .stdout(Stdio::from(log))
        .stderr(Stdio::null());
    for (k, v) in envs {
        command.env(k, v);
    }
    let mut child = command.spawn().expect("start crm-gateway");
    wait_for_health(port, &mut child, "crm-gateway").await;
    Process { child, port, dir }
}

/// A Redis of this test's own, on a free port, without persistence.
pub async fn spawn_redis() -> Process {
    let dir = TempDir::new();
    let port = free_port();
    let mut child = Command::new("redis-server")
        .args(["--port", &port.to_string(), "--save", "", "--appendonly", "no", "--daemonize", "no"])
        .current_dir(&dir.0)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start redis-server (is it installed?)");
    for _ in 0..100 {
        if let Ok(Some(status)) = child.try_wait() {
            panic!("redis-server exited: {status}");
        }
        if tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
            return Process { child, port, dir };
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("redis-server did not start");
}

/// The shared Redis the project's tests use.
pub fn shared_redis_url() -> String {
    std::env::var("TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into())
}

/// A metric's value in Prometheus text (the first series that contains `series`).
pub fn metric(text: &str, series: &str) -> Option<f64> {
    text.lines().find(|l| l.starts_with(series)).and_then(|l| l.rsplit(' ').next()).and_then(|v| v.parse().ok())
}
