use chrono::{DateTime, Duration, TimeZone, Utc};
use crm_common::logstore::{LogQuery, LogRecord, LogStore, LogStoreConfig};
use serde_json::json;
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Instant;

/// A scratch directory removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new() -> Self {
        let dir = std::env::temp_dir().join(format!("crm-logstore-{}", uuid::Uuid::now_v7().simple()));
        std::fs::create_dir_all(&dir).expect("create temp dir");
        Self(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A fresh SQLite log store in a directory of its own.
pub async fn sqlite_store() -> (TempDir, LogStore) {
    let dir = TempDir::new();
    let store =
        LogStore::open(&LogStoreConfig::Sqlite { path: dir.0.join("logs.db") }).await.expect("open SQLite log store");
    (dir, store)
}

/// SecantusDB (a MongoDB-wire server) on a free port with in-memory storage; killed on drop.
pub struct MongoServer {
    child: Child,
    pub port: u16,
    _logs: TempDir,
}

impl MongoServer {
    pub fn start() -> Self {
        let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
        let python = root.join(".venv/bin/python");
        assert!(
            python.exists(),
            "{} is missing: run scripts/ensure-services.sh (it installs SecantusDB into ./.venv)",
            python.display()
        );
        let port = TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("free port").port();
        let logs = TempDir::new();
        let log_file = logs.0.join("secantus.log");
        let out = std::fs::File::create(&log_file).expect("create server log");
        let err = out.try_clone().expect("clone server log");
        let child = Command::new(&python)
            .args(["-m", "secantus", "--port", &port.to_string(), "--storage-path", ":memory:"])
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .expect("start SecantusDB");
        let mut server = Self { child, port, _logs: logs };
        let started = Instant::now();
        loop {
            if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return server;
            }
            if let Ok(Some(status)) = server.child.try_wait() {
                let log = std::fs::read_to_string(&log_file).unwrap_or_default();
                panic!("SecantusDB exited with {status} before listening:\n{log}");
            }
            if started.elapsed() > std::time::Duration::from_secs(60) {
                let log = std::fs::read_to_string(&log_file).unwrap_or_default();
                panic!("SecantusDB did not listen on port {port} within 60 s:\n{log}");
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
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

pub fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 1, 1, 12, 0, 0).single().expect("valid time")
}

pub fn record(service: &str, level: &str, message: &str, timestamp: DateTime<Utc>) -> LogRecord {
    LogRecord {
        id: None,
        timestamp,
        level: level.into(),
        message: message.into(),
        service: service.into(),
        name: format!("crm_{service}::handlers"),
        function: None,
        line: Some(10),
        file: Some(format!("crates/{service}/src/handlers.rs")),
        module: Some(format!("crm_{service}::handlers")),
        thread: Some(3),
        process: 4242,
        exception: None,
        extra: None,
    }
}

/// The failed-login record: every optional field set.
pub fn failed_login() -> LogRecord {
    let mut r = record("foundation", "ERROR", "Login FAILED: bad password", t0() + Duration::seconds(1));
    r.function = Some("login".into());
    r.file = Some("crates/foundation/src/auth/login.rs".into());
    r.exception = Some("invalid credentials: password mismatch".into());
    r.extra = json!({"user_id": "u1", "attempt": 3, "nested": {"ok": true}}).as_object().cloned();
    r
}

pub const FILLER: usize = 120;

/// Writes the fixture and checks every filter, the order and the paging. Both stores must pass it.
pub async fn exercise(store: &LogStore) {
    let fixture = vec![
        record("foundation", "INFO", "user logged in", t0()),
        failed_login(),
        record("gateway", "WARNING", "upstream slow", t0() + Duration::seconds(2)),
        record("service-management", "INFO", "客户 登录失败 (50% done)", t0() + Duration::seconds(3)),
    ];
    store.insert(&fixture).await.expect("insert fixture");
    let filler: Vec<LogRecord> = (0..FILLER)
        .map(|i| {
            record(
                "order-workflow",
                "INFO",
                &format!("order {i}"),
                t0() + Duration::seconds(10) + Duration::milliseconds(i as i64),
            )
        })
        .collect();
    store.insert(&filler).await.expect("insert filler");
    store.insert(&[]).await.expect("empty batch");

    let all = store.query(&LogQuery::default()).await.expect("query all");
    assert_eq!(all.total, 4 + FILLER as u64);
    assert_eq!((all.page, all.page_size, all.total_pages, all.logs.len()), (1, 50, 3, 50));
    assert_eq!(all.logs[0].message, format!("order {}", FILLER - 1), "newest first");
    assert!(all.logs.windows(2).all(|w| w[0].timestamp >= w[1].timestamp));
    assert!(all.logs.iter().all(|r| r.id.as_deref().is_some_and(|id| !id.is_empty())));

    // One record comes back exactly as written (apart from the id the store assigns).
    let found =
        store.query(&LogQuery { keyword: Some("failed".into()), ..LogQuery::default() }).await.expect("keyword");
    assert_eq!(found.total, 1, "keyword is a case-insensitive substring: {:?}", found.logs);
    let mut back = found.logs[0].clone();
    back.id = None;
    assert_eq!(back, failed_login());

    let messages =
        |page: &crm_common::logstore::LogPage| page.logs.iter().map(|r| r.message.clone()).collect::<Vec<_>>();

    let q = LogQuery { levels: vec!["error".into(), "WARN".into()], ..LogQuery::default() };
    let page = store.query(&q).await.expect("levels");
    assert_eq!(messages(&page), ["upstream slow", "Login FAILED: bad password"]);

    let q = LogQuery { services: vec!["foundation".into(), "gateway".into()], ..LogQuery::default() };
    assert_eq!(store.query(&q).await.expect("services").total, 3);

    let q = LogQuery { services: vec!["foundation".into()], levels: vec!["INFO".into()], ..LogQuery::default() };
    assert_eq!(messages(&store.query(&q).await.expect("service and level")), ["user logged in"]);

    let q = LogQuery { keyword: Some("登录失败".into()), ..LogQuery::default() };
    assert_eq!(messages(&store.query(&q).await.expect("unicode keyword")), ["客户 登录失败 (50% done)"]);

    // Pattern characters match literally.
    for literal in ["50% done", "(50%"] {
        let q = LogQuery { keyword: Some(literal.into()), ..LogQuery::default() };
        assert_eq!(store.query(&q).await.expect("literal keyword").total, 1, "keyword {literal:?}");
    }
    for pattern in [".*", "5_%", "order [0-9]"] {
        let q = LogQuery { keyword: Some(pattern.into()), ..LogQuery::default() };
        assert_eq!(
            store.query(&q).await.expect("pattern keyword").total,
            0,
            "keyword {pattern:?} must not be a pattern"
        );
    }

    let q = LogQuery { file: Some("AUTH/LOGIN".into()), function: Some("LOG".into()), ..LogQuery::default() };
    assert_eq!(messages(&store.query(&q).await.expect("file and function")), ["Login FAILED: bad password"]);

    // Inclusive time range.
    let q = LogQuery {
        start_time: Some(t0() + Duration::seconds(1)),
        end_time: Some(t0() + Duration::seconds(2)),
        ..LogQuery::default()
    };
    assert_eq!(messages(&store.query(&q).await.expect("time range")), ["upstream slow", "Login FAILED: bad password"]);
    let q = LogQuery { start_time: Some(t0() + Duration::seconds(5)), ..LogQuery::default() };
    assert_eq!(store.query(&q).await.expect("since").total, FILLER as u64);
    let q = LogQuery { end_time: Some(t0() - Duration::seconds(1)), ..LogQuery::default() };
    let empty = store.query(&q).await.expect("before everything");
    assert_eq!((empty.total, empty.total_pages, empty.logs.len()), (0, 0, 0));

    // Paging through one service, newest first.
    let q = |page| LogQuery {
        services: vec!["order-workflow".into()],
        page: Some(page),
        page_size: Some(50),
        ..LogQuery::default()
    };
    let second = store.query(&q(2)).await.expect("page 2");
    assert_eq!((second.total, second.page, second.total_pages, second.logs.len()), (FILLER as u64, 2, 3, 50));
    assert_eq!(second.logs[0].message, format!("order {}", FILLER - 51));
    let third = store.query(&q(3)).await.expect("page 3");
    assert_eq!(third.logs.len(), FILLER - 100);
    assert_eq!(third.logs.last().map(|r| r.message.as_str()), Some("order 0"));
    assert!(store.query(&q(4)).await.expect("page 4").logs.is_empty());

    let big = store.query(&LogQuery { page_size: Some(10_000), ..LogQuery::default() }).await.expect("big page");
    assert_eq!((big.page_size, big.logs.len(), big.total_pages), (500, 4 + FILLER, 1));
}
