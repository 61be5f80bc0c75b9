//! The whole system as real processes: foundation, service-management, order-workflow (one or more
//! replicas), analytics-monitoring and the gateway over HTTPS, each binary on a port and data directory of its own that
//! it keeps when stopped and started again. What the end-to-end and the fault tests drive.

use crate::client::Client;
use crate::helpers::{ADMIN_EMAIL, ADMIN_PASSWORD, TempDir, free_port, sibling_binary, wait_for_health};
use crm_gateway::tls::DEV_CERT_FILE;
use http::Method;
use hyper::body::Bytes;
use serde_json::{Value, json};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};
use uuid::Uuid;

pub const INGEST_TOKEN: &str = "e2e-ingest-token-0123456789abcdef";
pub const PASSWORD: &str = "Passw0rd99";
/// The longest any one request through the gateway may take in these tests.
pub const REQUEST_DEADLINE: Duration = Duration::from_secs(30);

/// One binary run as a process; stopped when dropped. Its port, data directory, environment and
/// log (`stdout.log` in the data directory, appended to by every start) outlive the process, so
/// that it can be started again as the same node.
pub struct Node {
    pub binary: &'static str,
    pub port: u16,
    pub dir: TempDir,
    envs: Vec<(String, String)>,
    child: Option<Child>,
}

impl Node {
    /// `binary` (a sibling of this test's executable) on a free port and a new data directory,
    /// with `envs`; `{dir}` in a value is replaced by the data directory. Returns once healthy.
    pub async fn start(binary: &'static str, envs: &[(&str, String)]) -> Self {
        let port = free_port();
        let dir = TempDir::new();
        let at = dir.0.display().to_string();
        let mut all = vec![
            ("CRM_BIND_ADDR".to_owned(), format!("127.0.0.1:{port}")),
            ("CRM_DATA_DIR".to_owned(), at.clone()),
            // The same namespace in a shared cache across restarts of this node.
            ("CRM_CACHE_PREFIX".to_owned(), format!("sys-{binary}-{}:", Uuid::now_v7().simple())),
            ("RUST_LOG".to_owned(), "info".to_owned()),
        ];
        all.extend(envs.iter().map(|(k, v)| ((*k).to_owned(), v.replace("{dir}", &at))));
        let mut node = Self { binary, port, dir, envs: all, child: None };
        node.start_again().await;
        node
    }

    /// Starts the process on the node's port and data directory (after [`Node::kill`] or
    /// [`Node::terminate`]); returns once it answers `/health`.
    pub async fn start_again(&mut self) {
        assert!(self.child.is_none(), "{} is running already", self.binary);
        let log = std::fs::OpenOptions::new().create(true).append(true).open(self.dir.0.join("stdout.log")).unwrap();
        let mut command = Command::new(sibling_binary(self.binary));
        command
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .envs(self.envs.iter().map(|(k, v)| (k, v)))
            .stdout(Stdio::from(log))
            .stderr(Stdio::null());
        let mut child = command.spawn().unwrap_or_else(|e| panic!("start {}: {e}", self.binary));
        wait_for_health(self.port, &mut child, self.binary).await;
        self.child = Some(child);
    }

    /// SIGKILL: the process ends at once, with whatever it had in flight.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// SIGTERM, then waits up to `deadline` for the process to end (it drains what it serves);
    /// its exit status.
    pub async fn terminate(&mut self, deadline: Duration) -> ExitStatus {
        let mut child = self.child.take().unwrap_or_else(|| panic!("{} is not running", self.binary));
        let sent = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().expect("run kill");
        assert!(sent.success(), "SIGTERM to {}", self.binary);
        let until = Instant::now() + deadline;
        loop {
            if let Some(status) = child.try_wait().unwrap() {
                return status;
            }
            if Instant::now() > until {
                let _ = child.kill();
                let _ = child.wait();
                panic!("{} did not stop within {deadline:?} of SIGTERM", self.binary);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Everything the node logged (JSON lines), over all its starts.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.0.join("stdout.log")).unwrap_or_default()
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A service's `DATABASE_URL` from its database name.
pub type DatabaseUrls = Box<dyn Fn(&str) -> String>;

/// How a [`System`] is started.
pub struct Options {
    /// `DATABASE_URL` of each service from its database name (`foundation`, …); `None` = a
    /// SQLite file per service in a directory the system keeps.
    pub database: Option<DatabaseUrls>,
    /// `REDIS_URL` for every process; `None` = in-process caches and counters.
    pub redis_url: Option<String>,
    /// Replicas of order-workflow, on one database (at least one).
    pub order_workflow_replicas: usize,
    /// Settings of the gateway's beyond those [`start_with`] sets (later ones win).
    pub gateway_env: Vec<(&'static str, String)>,
}

impl Default for Options {
    fn default() -> Self {
        Self { database: None, redis_url: None, order_workflow_replicas: 1, gateway_env: Vec::new() }
    }
}

pub struct System {
    pub foundation: Node,
    pub sm: Node,
    /// order-workflow's replicas; the first is the one every test has.
    pub ow: Vec<Node>,
    pub am: Node,
    pub gateway: Node,
    pub https: Client,
    /// The SQLite databases, when there are no others.
    _databases: TempDir,
}

/// Every service on SQLite and the gateway over HTTPS with rate limits off.
pub async fn start() -> System {
    start_with(Options::default()).await
}

pub async fn start_with(options: Options) -> System {
    let databases = TempDir::new();
    let sqlite = databases.0.display().to_string();
    let database_url = |name: &str| match &options.database {
        Some(url) => url(name),
        None => format!("sqlite://{sqlite}/{name}.db"),
    };
    let redis: Vec<(&str, String)> = options.redis_url.iter().map(|u| ("REDIS_URL", u.clone())).collect();
    let mut env = vec![
        ("DATABASE_URL", database_url("foundation")),
        ("CRM_ADMIN_EMAIL", ADMIN_EMAIL.into()),
        ("CRM_ADMIN_PASSWORD", ADMIN_PASSWORD.into()),
        ("CRM_AUDIT_INGEST_TOKEN", INGEST_TOKEN.into()),
    ];
    env.extend(redis.iter().cloned());
    let foundation = Node::start("crm-foundation", &env).await;
    let f = foundation.url();
    let peer = |db: &str| -> Vec<(&'static str, String)> {
        let mut env = vec![
            ("DATABASE_URL", database_url(db)),
            ("CRM_FOUNDATION_URL", f.clone()),
            ("CRM_JWKS_URL", format!("{f}/api/foundation/auth/jwks.json")),
            ("CRM_AUDIT_INGEST_URL", format!("{f}/api/foundation/audit-logs/ingest")),
            ("CRM_AUDIT_INGEST_TOKEN", INGEST_TOKEN.into()),
        ];
        env.extend(redis.iter().cloned());
        env
    };
    let sm = Node::start("crm-service-management", &peer("service-management")).await;
    let mut ow_env = peer("order-workflow");
    ow_env.push(("CRM_SERVICE_MANAGEMENT_URL", sm.url()));
    let mut ow = Vec::new();
    for _ in 0..options.order_workflow_replicas.max(1) {
        ow.push(Node::start("crm-order-workflow", &ow_env).await);
    }
    let replicas = ow.iter().map(Node::url).collect::<Vec<_>>().join("|");
    let mut am_env = peer("analytics-monitoring");
    am_env.push(("CRM_SERVICE_MANAGEMENT_URL", sm.url()));
    am_env.push(("CRM_ORDER_WORKFLOW_URL", ow[0].url()));
    am_env.push(("CRM_ALERT_INTERVAL_SECS", "0".into()));
    let am = Node::start("crm-analytics-monitoring", &am_env).await;
    let tls_port = free_port();
    let mut gateway_env = vec![
        ("CRM_TLS_ENABLED", "true".into()),
        ("CRM_TLS_BIND_ADDR", format!("127.0.0.1:{tls_port}")),
        ("CRM_HTTP_REDIRECT", "false".into()),
        ("CRM_RATELIMIT_ENABLED", "false".into()),
        (
            "CRM_SERVICE_URLS",
            format!(
                "foundation={f},service-management={},order-workflow={replicas},analytics-monitoring={}",
                sm.url(),
                am.url()
            ),
        ),
        ("CRM_JWKS_URL", format!("{f}/api/foundation/auth/jwks.json")),
    ];
    gateway_env.extend(redis.iter().cloned());
    gateway_env.extend(options.gateway_env.iter().cloned());
    let gateway = Node::start("crm-gateway", &gateway_env).await;
    let cert = std::fs::read(gateway.dir.0.join(DEV_CERT_FILE)).expect("the development certificate");
    System { foundation, sm, ow, am, gateway, https: Client::tls(tls_port, &cert), _databases: databases }
}

impl System {
    /// A request through the gateway that must succeed; its `data`.
    pub async fn call(&self, method: Method, path: &str, token: Option<&str>, body: Option<Value>) -> Value {
        let (status, v) = self.try_call(method.clone(), path, token, body, &[]).await;
        assert!((200..300).contains(&status), "{method} {path}: {status} {v}");
        v["data"].clone()
    }

    /// A request through the gateway: its status and body (`null` when empty).
    pub async fn try_call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
        extra: &[(&str, &str)],
    ) -> (u16, Value) {
        let auth = token.map(|t| format!("Bearer {t}"));
        let mut headers: Vec<(&str, &str)> = extra.to_vec();
        headers.extend(auth.iter().map(|a| ("authorization", a.as_str())));
        let bytes = match &body {
            Some(b) => {
                headers.push(("content-type", "application/json"));
                Bytes::from(b.to_string())
            }
            None => Bytes::new(),
        };
        let r = tokio::time::timeout(REQUEST_DEADLINE, self.https.request(method.clone(), path, &headers, bytes))
            .await
            .unwrap_or_else(|_| panic!("{method} {path}: no answer within {REQUEST_DEADLINE:?}"));
        let v = if r.body.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&r.body).unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&r.body).into()))
        };
        (r.status.as_u16(), v)
    }

    pub async fn login(&self, email: &str, password: &str) -> String {
        let d = self
            .call(Method::POST, "/api/foundation/auth/login", None, Some(json!({"email": email, "password": password})))
            .await;
        d["token"].as_str().unwrap().to_owned()
    }
}

pub fn id(v: &Value) -> String {
    v["id"].as_str().unwrap_or_else(|| panic!("no id in {v}")).to_owned()
}

/// Calls `check` every 100 ms until it returns `Some`, for at most `deadline`; panics with
/// `what` and the last `Err` otherwise.
pub async fn eventually<T, F, Fut>(what: &str, deadline: Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, String>>,
{
    let until = Instant::now() + deadline;
    loop {
        match check().await {
            Ok(value) => return value,
            Err(last) if Instant::now() > until => panic!("{what}: not within {deadline:?}; last: {last}"),
            Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
}
