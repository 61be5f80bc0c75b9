//! Application-log shipping and search (feature `logstore`).
//!
//! Every service ships its log events, in batches and off the request path, to one log store that
//! analytics-monitoring searches: MongoDB (collection `app_logs`) when `MONGODB_URL` is set, else
//! the SQLite file `$CRM_DATA_DIR/logs.db` (table `app_logs`) that all services of a host share.
//! A record has seed 001's shape; a query returns seed 001's page `{logs, total, page, page_size,
//! total_pages}`, newest first.
//!
//! [`ShipLayer`] is the `tracing` layer that turns events into records; `telemetry::init` installs
//! it. The shipper writes through the drivers directly and never logs: events of its own targets and
//! of the database drivers, and any event raised while it writes, are not shipped.

mod layer;
mod mongo;
mod sqlite;

pub use layer::{LogReceiver, ShipConfig, ShipLayer, ShipStats, channel, flush, shipping_from_env, stats};
pub use mongo::MongoLogStore;
pub use sqlite::SqliteLogStore;

use chrono::{DateTime, NaiveDateTime, Utc};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// Default and largest page size of a log query.
pub const DEFAULT_PAGE_SIZE: u64 = 50;
pub const MAX_PAGE_SIZE: u64 = 500;

/// One application-log record (seed 001). `id` is assigned by the store: the MongoDB ObjectId as a
/// hex string, or the SQLite row id; it is `None` before the record is stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogRecord {
    pub id: Option<String>,
    pub timestamp: DateTime<Utc>,
    /// `DEBUG` | `INFO` | `WARNING` | `ERROR` (tracing's `TRACE` is stored as `DEBUG`).
    pub level: String,
    pub message: String,
    pub service: String,
    /// The logger name: the event's `tracing` target.
    pub name: String,
    /// From an event field `function` when the event has one; tracing does not know the function.
    pub function: Option<String>,
    pub line: Option<u32>,
    pub file: Option<String>,
    /// The Rust module path of the event.
    pub module: Option<String>,
    /// The number of the thread the event was raised on (Rust's `ThreadId`).
    pub thread: Option<u64>,
    pub process: u32,
    /// The event's `error` field, as text, when present.
    pub exception: Option<String>,
    /// Every other field of the event (and the request id when raised inside a request), or `None`.
    pub extra: Option<serde_json::Map<String, serde_json::Value>>,
}

/// Filters of a log search. Empty lists match everything; text filters are case-insensitive
/// substrings; times are inclusive.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LogQuery {
    pub services: Vec<String>,
    pub levels: Vec<String>,
    pub start_time: Option<DateTime<Utc>>,
    pub end_time: Option<DateTime<Utc>>,
    /// Substring of `message`.
    pub keyword: Option<String>,
    /// Substring of `file`.
    pub file: Option<String>,
    /// Substring of `function`.
    pub function: Option<String>,
    /// From 1; `0` or unset means 1.
    pub page: Option<u64>,
    /// 1..=500; unset means 50, larger values are capped at 500.
    pub page_size: Option<u64>,
}

impl LogQuery {
    /// `(page, page_size)` after defaults and bounds.
    pub fn paging(&self) -> (u64, u64) {
        let page = self.page.unwrap_or(1).max(1);
        let size = self.page_size.unwrap_or(DEFAULT_PAGE_SIZE).clamp(1, MAX_PAGE_SIZE);
        (page, size)
    }

    /// Rows to skip for the requested page.
    pub fn offset(&self) -> u64 {
        let (page, size) = self.paging();
        (page - 1).saturating_mul(size)
    }

    /// Levels as stored: upper case, `WARN` → `WARNING`, `TRACE` → `DEBUG`, blanks removed.
    pub fn normalized_levels(&self) -> Vec<String> {
        let mut levels: Vec<String> =
            self.levels.iter().map(|l| l.trim()).filter(|l| !l.is_empty()).map(normalize_level).collect();
        levels.sort();
        levels.dedup();
        levels
    }

    /// Services with blanks removed.
    pub fn normalized_services(&self) -> Vec<String> {
        self.services.iter().map(|s| s.trim()).filter(|s| !s.is_empty()).map(str::to_owned).collect()
    }
}

fn non_blank(s: &Option<String>) -> Option<&str> {
    s.as_deref().filter(|s| !s.is_empty())
}

/// A level name as stored.
pub fn normalize_level(level: &str) -> String {
    match level.to_ascii_uppercase().as_str() {
        "WARN" => "WARNING".into(),
        "TRACE" => "DEBUG".into(),
        other => other.to_owned(),
    }
}

/// Parses a query time: RFC 3339 (`2025-01-01T00:00:00Z`, any offset) or, as the original's
/// clients send it, without an offset (`2025-01-01T00:00:00`, fractions allowed), taken as UTC.
pub fn parse_time(raw: &str) -> Option<DateTime<Utc>> {
    let raw = raw.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(raw) {
        return Some(t.with_timezone(&Utc));
    }
    NaiveDateTime::parse_from_str(raw, "%Y-%m-%dT%H:%M:%S%.f")
        .or_else(|_| NaiveDateTime::parse_from_str(raw, "%Y-%m-%d %H:%M:%S%.f"))
        .ok()
        .map(|t| t.and_utc())
}

/// Seed 001's page of log records.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogPage {
    pub logs: Vec<LogRecord>,
    pub total: u64,
    pub page: u64,
    pub page_size: u64,
    pub total_pages: u64,
}

impl LogPage {
    pub fn new(logs: Vec<LogRecord>, total: u64, query: &LogQuery) -> Self {
        let (page, page_size) = query.paging();
        Self { logs, total, page, page_size, total_pages: total.div_ceil(page_size) }
    }
}

/// Seed 001's log statistics: counts by level and by service of the records a query matches.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LogCounts {
    pub total_logs: u64,
    pub by_level: std::collections::BTreeMap<String, u64>,
    pub by_service: std::collections::BTreeMap<String, u64>,
    pub error_count: u64,
    pub warning_count: u64,
}

impl LogCounts {
    /// Folds `(level, service, count)` groups.
    pub fn from_groups(groups: impl IntoIterator<Item = (String, String, u64)>) -> Self {
        let mut out = Self::default();
        for (level, service, n) in groups {
            out.total_logs += n;
            match level.as_str() {
                "ERROR" | "CRITICAL" => out.error_count += n,
                "WARNING" => out.warning_count += n,
                _ => {}
            }
            *out.by_level.entry(level).or_default() += n;
            *out.by_service.entry(service).or_default() += n;
        }
        out
    }
}

#[derive(Debug, thiserror::Error)]
pub enum LogStoreError {
    #[error("SQLite log store: {0}")]
    Sqlite(#[from] sqlx::Error),
    #[error("MongoDB log store: {0}")]
    Mongo(#[from] mongodb::error::Error),
    #[error("log store: {0}")]
    Other(String),
}

/// Where the logs go, from the environment: `MONGODB_URL`, else `$CRM_DATA_DIR/logs.db`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogStoreConfig {
    Sqlite { path: PathBuf },
    Mongo { url: String },
}

impl LogStoreConfig {
    pub fn from_env() -> Self {
        match crate::config::env("MONGODB_URL") {
            Some(url) => Self::Mongo { url },
            None => {
                let dir = PathBuf::from(crate::config::env("CRM_DATA_DIR").unwrap_or_else(|| "./data".into()));
                Self::Sqlite { path: dir.join("logs.db") }
            }
        }
    }
}

/// A log store: both backends answer the same writes and queries.
#[derive(Clone)]
pub enum LogStore {
    Sqlite(SqliteLogStore),
    Mongo(MongoLogStore),
}

impl LogStore {
    /// Opens the store and creates its table or collection indexes when missing.
    pub async fn open(config: &LogStoreConfig) -> Result<Self, LogStoreError> {
        Ok(match config {
            LogStoreConfig::Sqlite { path } => Self::Sqlite(SqliteLogStore::open(path).await?),
            LogStoreConfig::Mongo { url } => Self::Mongo(MongoLogStore::open(url).await?),
        })
    }

    pub fn backend(&self) -> &'static str {
        match self {
            Self::Sqlite(_) => "sqlite",
            Self::Mongo(_) => "mongodb",
        }
    }

    /// Writes a batch; the records' `id`s are ignored (the store assigns them).
    pub async fn insert(&self, records: &[LogRecord]) -> Result<(), LogStoreError> {
        if records.is_empty() {
            return Ok(());
        }
        match self {
            Self::Sqlite(s) => s.insert(records).await,
            Self::Mongo(m) => m.insert(records).await,
        }
    }

    /// Records matching `query`, newest first, one page of them, with the total count.
    pub async fn query(&self, query: &LogQuery) -> Result<LogPage, LogStoreError> {
        let (logs, total) = match self {
            Self::Sqlite(s) => s.query(query).await?,
            Self::Mongo(m) => m.query(query).await?,
        };
        Ok(LogPage::new(logs, total, query))
    }

    /// Counts by level and service of the records matching `query`, grouped in the database.
    pub async fn statistics(&self, query: &LogQuery) -> Result<LogCounts, LogStoreError> {
        let groups = match self {
            Self::Sqlite(s) => s.counts(query).await?,
            Self::Mongo(m) => m.counts(query).await?,
        };
        Ok(LogCounts::from_groups(groups))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paging_defaults_and_bounds() {
        let q = LogQuery::default();
        assert_eq!(q.paging(), (1, 50));
        assert_eq!(q.offset(), 0);
        let q = LogQuery { page: Some(3), page_size: Some(10_000), ..LogQuery::default() };
        assert_eq!(q.paging(), (3, 500));
        assert_eq!(q.offset(), 1000);
        let q = LogQuery { page: Some(0), page_size: Some(0), ..LogQuery::default() };
        assert_eq!(q.paging(), (1, 1));
        let page = LogPage::new(vec![], 101, &LogQuery { page_size: Some(50), ..LogQuery::default() });
        assert_eq!(page.total_pages, 3);
    }

    #[test]
    fn levels_are_normalized() {
        let q = LogQuery {
            levels: vec!["warn".into(), " error ".into(), "".into(), "WARNING".into()],
            ..Default::default()
        };
        assert_eq!(q.normalized_levels(), vec!["ERROR".to_owned(), "WARNING".to_owned()]);
    }

    #[test]
    fn times_parse_with_and_without_offset() {
        let utc = parse_time("2025-01-01T12:00:00").unwrap();
        assert_eq!(utc.to_rfc3339(), "2025-01-01T12:00:00+00:00");
        assert_eq!(parse_time("2025-01-01T14:00:00+02:00").unwrap(), utc);
        assert_eq!(parse_time("2025-01-01 12:00:00.5").unwrap().timestamp_subsec_millis(), 500);
        assert!(parse_time("yesterday").is_none());
    }
}
