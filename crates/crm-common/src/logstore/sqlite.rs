//! The embedded log store: one SQLite file (WAL, busy timeout) that every service of a host writes.
//! Times are stored as fixed-width RFC 3339 text in UTC (`2025-01-01T12:00:00.000000Z`), so text
//! order is time order and the timestamp index serves range queries and sorting.

use super::{LogQuery, LogRecord, LogStoreError, non_blank};
use chrono::{DateTime, SecondsFormat, Utc};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteRow, SqliteSynchronous,
};
use sqlx::{ConnectOptions, QueryBuilder, Row, Sqlite};
use std::path::Path;
use std::time::Duration;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS app_logs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    timestamp TEXT NOT NULL,
    level TEXT NOT NULL,
    message TEXT NOT NULL,
    service TEXT NOT NULL,
    name TEXT NOT NULL,
    function TEXT,
    line INTEGER,
    file TEXT,
    module TEXT,
    thread INTEGER,
    process INTEGER NOT NULL,
    exception TEXT,
    extra TEXT
);
CREATE INDEX IF NOT EXISTS app_logs_timestamp ON app_logs (timestamp);
CREATE INDEX IF NOT EXISTS app_logs_level ON app_logs (level);
CREATE INDEX IF NOT EXISTS app_logs_service ON app_logs (service);
";

const INSERT: &str = "INSERT INTO app_logs \
    (timestamp, level, message, service, name, function, line, file, module, thread, process, exception, extra) \
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";

const COLUMNS: &str =
    "id, timestamp, level, message, service, name, function, line, file, module, thread, process, exception, extra";

#[derive(Clone, Debug)]
pub struct SqliteLogStore {
    pool: SqlitePool,
}

impl SqliteLogStore {
    /// Opens (creating when missing) the file and its directory, and the table and indexes.
    pub async fn open(path: &Path) -> Result<Self, LogStoreError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .map_err(|e| LogStoreError::Other(format!("cannot create {}: {e}", dir.display())))?;
        }
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(10))
            .disable_statement_logging();
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .min_connections(0)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options)
            .await?;
        sqlx::raw_sql(SCHEMA).execute(&pool).await?;
        Ok(Self { pool })
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }

    pub(super) async fn insert(&self, records: &[LogRecord]) -> Result<(), LogStoreError> {
        let mut tx = self.pool.begin().await?;
        for r in records {
            let extra = match &r.extra {
                Some(map) => Some(serde_json::to_string(map).map_err(|e| LogStoreError::Other(e.to_string()))?),
                None => None,
            };
            sqlx::query(INSERT)
                .bind(format_time(r.timestamp))
                .bind(r.level.as_str())
                .bind(r.message.as_str())
                .bind(r.service.as_str())
                .bind(r.name.as_str())
                .bind(r.function.as_deref())
                .bind(r.line.map(i64::from))
                .bind(r.file.as_deref())
                .bind(r.module.as_deref())
                .bind(r.thread.and_then(|t| i64::try_from(t).ok()))
                .bind(i64::from(r.process))
                .bind(r.exception.as_deref())
                .bind(extra)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    pub(super) async fn query(&self, query: &LogQuery) -> Result<(Vec<LogRecord>, u64), LogStoreError> {
        let mut count = QueryBuilder::<Sqlite>::new("SELECT COUNT(*) FROM app_logs");
        push_filters(&mut count, query);
        let total: i64 = count.build_query_scalar().fetch_one(&self.pool).await?;

        let (_, size) = query.paging();
        let mut select = QueryBuilder::<Sqlite>::new(format!("SELECT {COLUMNS} FROM app_logs"));
        push_filters(&mut select, query);
        select.push(" ORDER BY timestamp DESC, id DESC LIMIT ");
        select.push_bind(i64::try_from(size).unwrap_or(i64::MAX));
        select.push(" OFFSET ");
        select.push_bind(i64::try_from(query.offset()).unwrap_or(i64::MAX));
        let rows = select.build().fetch_all(&self.pool).await?;
        let logs = rows.iter().map(from_row).collect::<Result<Vec<_>, _>>()?;
        Ok((logs, u64::try_from(total).unwrap_or(0)))
    }
}

impl SqliteLogStore {
    /// `(level, service, count)` of the records matching `query` (its paging ignored).
    pub(super) async fn counts(&self, query: &LogQuery) -> Result<Vec<(String, String, u64)>, LogStoreError> {
        let mut qb = QueryBuilder::<Sqlite>::new("SELECT level, service, COUNT(*) AS n FROM app_logs");
        push_filters(&mut qb, query);
        qb.push(" GROUP BY level, service");
        let rows = qb.build().fetch_all(&self.pool).await?;
        rows.iter()
            .map(|row| {
                let n: i64 = row.try_get("n")?;
                Ok((row.try_get("level")?, row.try_get("service")?, u64::try_from(n).unwrap_or(0)))
            })
            .collect()
    }
}

pub(super) fn format_time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// `%needle%` for `LIKE … ESCAPE '\'`, with `%`, `_` and `\` in the needle matching literally.
/// SQLite's `LIKE` ignores case for ASCII letters only.
fn like_pattern(needle: &str) -> String {
    let escaped = needle.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
    format!("%{escaped}%")
}

fn push_filters(qb: &mut QueryBuilder<Sqlite>, query: &LogQuery) {
    qb.push(" WHERE 1 = 1");
    for (column, values) in [("service", query.normalized_services()), ("level", query.normalized_levels())] {
        if values.is_empty() {
            continue;
        }
        qb.push(format!(" AND {column} IN ("));
        let mut list = qb.separated(", ");
        for v in values {
            list.push_bind(v);
        }
        list.push_unseparated(")");
    }
    if let Some(start) = query.start_time {
        qb.push(" AND timestamp >= ").push_bind(format_time(start));
    }
    if let Some(end) = query.end_time {
        qb.push(" AND timestamp <= ").push_bind(format_time(end));
    }
    for (column, needle) in [
        ("message", non_blank(&query.keyword)),
        ("file", non_blank(&query.file)),
        ("function", non_blank(&query.function)),
    ] {
        if let Some(needle) = needle {
            qb.push(format!(" AND {column} LIKE ")).push_bind(like_pattern(needle)).push(" ESCAPE '\\'");
        }
    }
}

fn from_row(row: &SqliteRow) -> Result<LogRecord, LogStoreError> {
    let raw_time: String = row.try_get("timestamp")?;
    let timestamp = DateTime::parse_from_rfc3339(&raw_time)
        .map_err(|e| LogStoreError::Other(format!("bad timestamp {raw_time:?}: {e}")))?
        .with_timezone(&Utc);
    let extra: Option<String> = row.try_get("extra")?;
    let extra = match extra {
        Some(text) => match serde_json::from_str::<serde_json::Value>(&text) {
            Ok(serde_json::Value::Object(map)) => Some(map),
            _ => None,
        },
        None => None,
    };
    Ok(LogRecord {
        id: Some(row.try_get::<i64, _>("id")?.to_string()),
        timestamp,
        level: row.try_get("level")?,
        message: row.try_get("message")?,
        service: row.try_get("service")?,
        name: row.try_get("name")?,
        function: row.try_get("function")?,
        line: row.try_get::<Option<i64>, _>("line")?.and_then(|l| u32::try_from(l).ok()),
        file: row.try_get("file")?,
        module: row.try_get("module")?,
        thread: row.try_get::<Option<i64>, _>("thread")?.and_then(|t| u64::try_from(t).ok()),
        process: u32::try_from(row.try_get::<i64, _>("process")?).unwrap_or(0),
        exception: row.try_get("exception")?,
        extra,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_patterns_escape_wildcards() {
        assert_eq!(like_pattern("50%_a\\b"), "%50\\%\\_a\\\\b%");
    }

    #[test]
    fn times_sort_as_text() {
        let a = format_time(DateTime::parse_from_rfc3339("2025-01-01T09:00:00Z").unwrap().with_timezone(&Utc));
        let b = format_time(DateTime::parse_from_rfc3339("2025-01-01T10:00:00.5Z").unwrap().with_timezone(&Utc));
        assert_eq!(a, "2025-01-01T09:00:00.000000Z");
        assert!(a < b);
    }
}
