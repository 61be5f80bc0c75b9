//! The shipping layer (request path: build a record, `try_send` it, never wait) and the shipper (a
//! thread of its own that drains the channel and writes batches).

use super::{LogRecord, LogStore, LogStoreConfig};
use crate::config::ConfigError;
use serde_json::{Map, Value};
use std::fmt::Debug;
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;
use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::layer::{Context, Layer};

tokio::task_local! {
    /// Set while the shipper runs: events raised inside it are never shipped.
    static SHIPPING: ();
}

/// Targets that are never shipped: this module's own and the database drivers' (their events
/// come from the shipper's writes; shipping them would feed the shipper its own activity).
const QUIET_TARGETS: &[&str] = &[
    "crm_common::logstore",
    "sqlx",
    "sqlx_core",
    "sqlx_sqlite",
    "mongodb",
    "hickory_proto",
    "hickory_resolver",
    "rustls",
    "tokio_rustls",
];

fn quiet(target: &str) -> bool {
    QUIET_TARGETS.iter().any(|q| target.strip_prefix(q).is_some_and(|rest| rest.is_empty() || rest.starts_with("::")))
}

/// How events are shipped.
#[derive(Debug, Clone)]
pub struct ShipConfig {
    /// The `service` of every record.
    pub service: String,
    /// Events at this level or more severe are shipped (`CRM_LOG_SHIP_LEVEL`, default `info`;
    /// `off` ships nothing).
    pub level: LevelFilter,
    /// Records waiting to be written; when full, new records are dropped and counted.
    pub capacity: usize,
    /// Largest batch written at once.
    pub batch_size: usize,
    /// Longest a record waits for its batch to fill.
    pub flush_interval: Duration,
}

impl ShipConfig {
    pub fn new(service: impl Into<String>) -> Self {
        Self {
            service: service.into(),
            level: LevelFilter::INFO,
            capacity: 10_000,
            batch_size: 500,
            flush_interval: Duration::from_millis(500),
        }
    }

    pub fn from_env(service: impl Into<String>) -> Result<Self, ConfigError> {
        let mut config = Self::new(service);
        if let Some(raw) = crate::config::env("CRM_LOG_SHIP_LEVEL") {
            let raw = if raw.eq_ignore_ascii_case("warning") { "warn".to_owned() } else { raw };
            config.level = LevelFilter::from_str(&raw).map_err(|_| ConfigError {
                name: "CRM_LOG_SHIP_LEVEL".into(),
                reason: format!("expected off, error, warn, info, debug or trace, got {raw}"),
            })?;
        }
        Ok(config)
    }
}

/// Counters of one shipping channel. Every accepted record ends up shipped or failed.
#[derive(Debug, Default)]
pub struct ShipStats {
    accepted: AtomicU64,
    dropped: AtomicU64,
    shipped: AtomicU64,
    failed: AtomicU64,
}

impl ShipStats {
    /// Records put on the channel.
    pub fn accepted(&self) -> u64 {
        self.accepted.load(Ordering::Relaxed)
    }
    /// Records not put on the channel because it was full (or the shipper had stopped).
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }
    /// Records written to the store.
    pub fn shipped(&self) -> u64 {
        self.shipped.load(Ordering::Relaxed)
    }
    /// Records lost because the store refused their batch three times.
    pub fn failed(&self) -> u64 {
        self.failed.load(Ordering::Relaxed)
    }
}

/// The `tracing` layer: one record per event at or above the configured level.
pub struct ShipLayer {
    service: Arc<str>,
    level: LevelFilter,
    tx: mpsc::Sender<LogRecord>,
    stats: Arc<ShipStats>,
}

/// The shipper's end of the channel.
pub struct LogReceiver {
    rx: mpsc::Receiver<LogRecord>,
    stats: Arc<ShipStats>,
    batch_size: usize,
    flush_interval: Duration,
}

/// A layer and the receiver that must be run (see [`LogReceiver::run`] / [`LogReceiver::spawn`])
/// for its records to reach a store.
pub fn channel(config: &ShipConfig) -> (ShipLayer, LogReceiver) {
    let (tx, rx) = mpsc::channel(config.capacity.max(1));
    let stats = Arc::new(ShipStats::default());
    let layer = ShipLayer { service: config.service.as_str().into(), level: config.level, tx, stats: stats.clone() };
    let receiver =
        LogReceiver { rx, stats, batch_size: config.batch_size.max(1), flush_interval: config.flush_interval };
    (layer, receiver)
}

/// The layer and receiver for `service` from the environment, or `None` when shipping is off
/// (`CRM_LOG_SHIP_LEVEL=off`). An invalid level is reported on stderr and `info` is used.
pub fn shipping_from_env(service: &str) -> Option<(ShipLayer, LogReceiver)> {
    let config = ShipConfig::from_env(service).unwrap_or_else(|err| {
        eprintln!("{err}; shipping logs at info");
        ShipConfig::new(service)
    });
    (config.level != LevelFilter::OFF).then(|| channel(&config))
}

static STATS: OnceLock<Arc<ShipStats>> = OnceLock::new();

/// Counters of the process's shipper, once one has been spawned.
pub fn stats() -> Option<Arc<ShipStats>> {
    STATS.get().cloned()
}

/// Waits (blocking, up to `timeout`) until every record accepted so far by the process's shipper
/// has been written or given up; for a clean exit. `true` when nothing is left.
pub fn flush(timeout: Duration) -> bool {
    let Some(stats) = stats() else { return true };
    let target = stats.accepted();
    let deadline = Instant::now() + timeout;
    loop {
        if stats.shipped() + stats.failed() >= target {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

impl ShipLayer {
    pub fn stats(&self) -> Arc<ShipStats> {
        self.stats.clone()
    }

    fn record(&self, event: &Event<'_>) -> LogRecord {
        let meta = event.metadata();
        let mut fields = Fields::default();
        event.record(&mut fields);
        let mut extra = fields.extra;
        if !extra.contains_key("request_id") {
            let id = crate::api::request_id();
            if !id.is_empty() {
                extra.insert("request_id".into(), Value::String(id));
            }
        }
        LogRecord {
            id: None,
            timestamp: chrono::Utc::now(),
            level: level_name(*meta.level()).into(),
            message: fields.message.unwrap_or_default(),
            service: self.service.to_string(),
            name: fields.log_target.unwrap_or_else(|| meta.target().to_owned()),
            function: fields.function,
            line: fields.log_line.or(meta.line()),
            file: fields.log_file.or_else(|| meta.file().map(str::to_owned)),
            module: fields.log_module.or_else(|| meta.module_path().map(str::to_owned)),
            thread: THREAD_NUMBER.with(|n| *n),
            process: std::process::id(),
            exception: fields.error,
            extra: (!extra.is_empty()).then_some(extra),
        }
    }
}

impl<S: Subscriber> Layer<S> for ShipLayer {
    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        let meta = event.metadata();
        if *meta.level() > self.level || quiet(meta.target()) || SHIPPING.try_with(|_| ()).is_ok() {
            return;
        }
        // Reserve first: a full channel costs a counter increment, not a record.
        match self.tx.try_reserve() {
            Ok(permit) => {
                self.stats.accepted.fetch_add(1, Ordering::Relaxed);
                permit.send(self.record(event));
            }
            Err(_) => {
                self.stats.dropped.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
}

fn level_name(level: Level) -> &'static str {
    match level {
        Level::ERROR => "ERROR",
        Level::WARN => "WARNING",
        Level::INFO => "INFO",
        _ => "DEBUG",
    }
}

thread_local! {
    static THREAD_NUMBER: Option<u64> = format!("{:?}", std::thread::current().id())
        .trim_start_matches("ThreadId(")
        .trim_end_matches(')')
        .parse()
        .ok();
}

/// An event's fields: the special ones (`message`, `error`, `function`, and the `log.*` fields of
/// events bridged from the `log` crate) apart, the rest as JSON.
#[derive(Default)]
struct Fields {
    message: Option<String>,
    error: Option<String>,
    function: Option<String>,
    log_target: Option<String>,
    log_module: Option<String>,
    log_file: Option<String>,
    log_line: Option<u32>,
    extra: Map<String, Value>,
}

impl Fields {
    fn put(&mut self, field: &Field, value: Value) {
        let text = |v: Value| match v {
            Value::String(s) => s,
            other => other.to_string(),
        };
        match field.name() {
            "message" => self.message = Some(text(value)),
            "error" => self.error = Some(text(value)),
            "function" => self.function = Some(text(value)),
            "log.target" => self.log_target = Some(text(value)),
            "log.module_path" => self.log_module = Some(text(value)),
            "log.file" => self.log_file = Some(text(value)),
            "log.line" => self.log_line = value.as_u64().and_then(|l| u32::try_from(l).ok()),
            name => {
                self.extra.insert(name.to_owned(), value);
            }
        }
    }
}

impl Visit for Fields {
    fn record_debug(&mut self, field: &Field, value: &dyn Debug) {
        self.put(field, Value::String(format!("{value:?}")));
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.put(field, Value::String(value.to_owned()));
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.put(field, Value::Bool(value));
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.put(field, Value::from(value));
    }
    // Numbers beyond i64 (which BSON cannot hold) are kept as text.
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.put(field, i64::try_from(value).map_or_else(|_| Value::String(value.to_string()), Value::from));
    }
    fn record_i128(&mut self, field: &Field, value: i128) {
        self.put(field, i64::try_from(value).map_or_else(|_| Value::String(value.to_string()), Value::from));
    }
    fn record_u128(&mut self, field: &Field, value: u128) {
        self.put(field, i64::try_from(value).map_or_else(|_| Value::String(value.to_string()), Value::from));
    }
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.put(
            field,
            serde_json::Number::from_f64(value).map_or_else(|| Value::String(value.to_string()), Value::Number),
        );
    }
    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        let mut text = value.to_string();
        let mut source = value.source();
        while let Some(cause) = source {
            text.push_str(": ");
            text.push_str(&cause.to_string());
            source = cause.source();
        }
        self.put(field, Value::String(text));
    }
}

impl LogReceiver {
    /// Writes batches to `store` until every layer of this channel is gone and the channel is empty.
    /// Events raised while it runs are not shipped.
    pub async fn run(self, store: LogStore) {
        SHIPPING.scope((), self.drain(store)).await;
    }

    /// Opens the store (retrying with backoff while it is unreachable; records queue meanwhile, up
    /// to the channel's capacity) and then runs as [`run`](Self::run).
    pub async fn connect_and_run(self, config: LogStoreConfig) {
        SHIPPING
            .scope((), async move {
                let store = open_with_retry(&config).await;
                self.drain(store).await;
            })
            .await;
    }

    /// Runs the shipper on a thread of its own (with a single-threaded runtime), independent of
    /// the application's runtime, and makes its counters available to [`stats`] and [`flush`].
    pub fn spawn(self, config: LogStoreConfig) -> std::io::Result<()> {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
        let _ = STATS.set(self.stats.clone());
        std::thread::Builder::new()
            .name("crm-log-shipper".into())
            .spawn(move || runtime.block_on(self.connect_and_run(config)))?;
        Ok(())
    }

    /// [`spawn`](Self::spawn) with the store named by the environment (`MONGODB_URL`, else
    /// `$CRM_DATA_DIR/logs.db`); a failure to start is reported on stderr and logs stay on stdout.
    pub fn spawn_from_env(self) {
        if let Err(err) = self.spawn(LogStoreConfig::from_env()) {
            eprintln!("log shipping: cannot start the shipper thread: {err}");
        }
    }

    async fn drain(mut self, store: LogStore) {
        let mut batch = Vec::with_capacity(self.batch_size);
        let mut failing = false;
        loop {
            if self.rx.recv_many(&mut batch, self.batch_size).await == 0 {
                return;
            }
            let deadline = tokio::time::Instant::now() + self.flush_interval;
            let mut closed = false;
            while batch.len() < self.batch_size {
                let room = self.batch_size - batch.len();
                match tokio::time::timeout_at(deadline, self.rx.recv_many(&mut batch, room)).await {
                    Ok(0) => {
                        closed = true;
                        break;
                    }
                    Ok(_) => {}
                    Err(_) => break,
                }
            }
            write(&store, &mut batch, &self.stats, &mut failing).await;
            if closed {
                return;
            }
        }
    }
}

/// Writes a batch, trying three times; a batch the store keeps refusing is counted as failed.
/// Problems go to stderr once per outage, never through `tracing`.
async fn write(store: &LogStore, batch: &mut Vec<LogRecord>, stats: &ShipStats, failing: &mut bool) {
    let count = batch.len() as u64;
    for attempt in 1..=3u64 {
        match store.insert(batch).await {
            Ok(()) => {
                stats.shipped.fetch_add(count, Ordering::Relaxed);
                if *failing {
                    eprintln!("log shipping: the {} log store accepts writes again", store.backend());
                    *failing = false;
                }
                batch.clear();
                return;
            }
            Err(err) => {
                if !*failing {
                    eprintln!("log shipping: writing to the {} log store failed: {err}", store.backend());
                    *failing = true;
                }
                if attempt < 3 {
                    tokio::time::sleep(Duration::from_millis(500 * attempt)).await;
                }
            }
        }
    }
    stats.failed.fetch_add(count, Ordering::Relaxed);
    batch.clear();
}

async fn open_with_retry(config: &LogStoreConfig) -> LogStore {
    let mut delay = Duration::from_secs(1);
    let mut reported = false;
    loop {
        match LogStore::open(config).await {
            Ok(store) => {
                if reported {
                    eprintln!("log shipping: the {} log store is open", store.backend());
                }
                return store;
            }
            Err(err) => {
                if !reported {
                    eprintln!("log shipping: cannot open the log store ({err}); retrying");
                    reported = true;
                }
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(30));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quiet_targets_match_whole_segments() {
        assert!(quiet("sqlx::query"));
        assert!(quiet("mongodb"));
        assert!(quiet("crm_common::logstore::layer"));
        assert!(!quiet("sqlxyz"));
        assert!(!quiet("crm_foundation::auth"));
    }

    #[test]
    fn ship_level_parses_warning() {
        assert_eq!(ShipConfig::new("x").level, LevelFilter::INFO);
        assert_eq!(level_name(Level::WARN), "WARNING");
        assert_eq!(level_name(Level::TRACE), "DEBUG");
    }
}
