use crm_common::logstore::{LogQuery, MAX_PAGE_SIZE, parse_time};
use crm_common::{ApiError, ApiResult};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::{IntoParams, ToSchema};

/// Seed 001's log query body.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct QueryBody {
    /// Services (`foundation-service`, …); empty: all.
    #[serde(default)]
    pub services: Vec<String>,
    /// `DEBUG`, `INFO`, `WARNING`, `ERROR`, `CRITICAL`; empty: all.
    #[serde(default)]
    pub levels: Vec<String>,
    /// ISO 8601, with or without an offset (without: UTC).
    pub start_time: Option<String>,
    pub end_time: Option<String>,
    /// Case-insensitive part of the message.
    pub keyword: Option<String>,
    /// Case-insensitive part of the file name.
    pub file: Option<String>,
    /// Case-insensitive part of the function name.
    pub function: Option<String>,
    /// From 1 (default 1).
    pub page: Option<u64>,
    /// 1–500 (default 50).
    pub page_size: Option<u64>,
}

/// The same filters as query parameters, lists comma-separated.
#[derive(Debug, Default, Deserialize, IntoParams)]
pub struct QueryParams {
    /// Comma-separated services.
    pub services: Option<String>,
    /// Comma-separated levels.
    pub levels: Option<String>,
    pub start_time: Option<String>,
    pub end_time: Option<String>,
    pub keyword: Option<String>,
    pub file: Option<String>,
    pub function: Option<String>,
    pub page: Option<u64>,
    pub page_size: Option<u64>,
}

#[derive(Debug, Default, Deserialize, IntoParams)]
pub struct StatisticsParams {
    /// Comma-separated services.
    pub services: Option<String>,
    pub start_time: Option<String>,
    pub end_time: Option<String>,
}

const LEVELS: &[&str] = &["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"];
/// Longest text filter accepted (a search box, not a document).
const MAX_TEXT: usize = 200;

fn split(raw: Option<&str>) -> Vec<String> {
    raw.map(|r| r.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect()).unwrap_or_default()
}

fn time(field: &str, raw: Option<&str>) -> ApiResult<Option<chrono::DateTime<chrono::Utc>>> {
    match raw.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(t) => parse_time(t).map(Some).ok_or_else(|| ApiError::field(field, "must be an ISO 8601 time")),
    }
}

fn text(field: &str, raw: Option<String>) -> ApiResult<Option<String>> {
    match raw {
        Some(t) if t.chars().count() > MAX_TEXT => {
            Err(ApiError::field(field, format!("at most {MAX_TEXT} characters")))
        }
        other => Ok(other.filter(|t| !t.trim().is_empty())),
    }
}

impl QueryBody {
    /// The store's query, every filter checked.
    pub fn into_query(self) -> ApiResult<LogQuery> {
        let q = LogQuery {
            services: self.services,
            levels: self.levels,
            start_time: time("start_time", self.start_time.as_deref())?,
            end_time: time("end_time", self.end_time.as_deref())?,
            keyword: text("keyword", self.keyword)?,
            file: text("file", self.file)?,
            function: text("function", self.function)?,
            page: self.page,
            page_size: self.page_size,
        };
        for level in q.normalized_levels() {
            if !LEVELS.contains(&level.as_str()) {
                return Err(ApiError::field("levels", format!("{level:?} is not one of {}", LEVELS.join(", "))));
            }
        }
        if q.page == Some(0) {
            return Err(ApiError::field("page", "starts at 1"));
        }
        if q.page_size.is_some_and(|s| s == 0 || s > MAX_PAGE_SIZE) {
            return Err(ApiError::field("page_size", format!("must be between 1 and {MAX_PAGE_SIZE}")));
        }
        // Skipping past 2^63 rows is no page anyone has.
        if q.page.is_some_and(|p| p > 1_000_000_000) {
            return Err(ApiError::field("page", "is too large"));
        }
        if let (Some(s), Some(e)) = (q.start_time, q.end_time)
            && s > e
        {
            return Err(ApiError::field("start_time", "must not be after end_time"));
        }
        Ok(q)
    }
}

impl From<QueryParams> for QueryBody {
    fn from(p: QueryParams) -> Self {
        Self {
            services: split(p.services.as_deref()),
            levels: split(p.levels.as_deref()),
            start_time: p.start_time,
            end_time: p.end_time,
            keyword: p.keyword,
            file: p.file,
            function: p.function,
            page: p.page,
            page_size: p.page_size,
        }
    }
}

impl StatisticsParams {
    pub fn into_query(self) -> ApiResult<LogQuery> {
        QueryBody {
            services: split(self.services.as_deref()),
            start_time: self.start_time,
            end_time: self.end_time,
            ..QueryBody::default()
        }
        .into_query()
    }
}

/// One log record (seed 001).
#[derive(Debug, Serialize, ToSchema)]
pub struct LogRecordView {
    pub id: Option<String>,
    pub timestamp: chrono::DateTime<chrono::Utc>,
    pub level: String,
    pub message: String,
    pub service: String,
    pub name: String,
    pub function: Option<String>,
    pub line: Option<u32>,
    pub file: Option<String>,
    pub module: Option<String>,
    pub thread: Option<u64>,
    pub process: u32,
    pub exception: Option<String>,
    #[schema(value_type = Option<Object>)]
    pub extra: Option<serde_json::Map<String, serde_json::Value>>,
}

/// Seed 001's page of log records, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct LogPageView {
    pub logs: Vec<LogRecordView>,
    pub total: u64,
    pub page: u64,
    pub page_size: u64,
    pub total_pages: u64,
}

/// The range the statistics covered.
#[derive(Debug, Serialize, ToSchema)]
pub struct TimeRange {
    pub start: Option<chrono::DateTime<chrono::Utc>>,
    pub end: Option<chrono::DateTime<chrono::Utc>>,
}

/// Seed 001's log statistics.
#[derive(Debug, Serialize, ToSchema)]
pub struct LogStatistics {
    pub total_logs: u64,
    pub by_level: BTreeMap<String, u64>,
    pub by_service: BTreeMap<String, u64>,
    /// `ERROR` and `CRITICAL` records.
    pub error_count: u64,
    pub warning_count: u64,
    pub time_range: TimeRange,
}
