//! Database connect and migrate for SQLite (embedded default) and PostgreSQL (production), plus the
//! one mapping of database errors to API errors.

use crate::api::ApiError;
use crate::http::{Probe, ProbeFuture};
use sea_orm::sea_query::{Expr, ExprTrait, Func, LikeExpr};
use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr, SqlErr,
    SqliteTransactionMode, TransactionOptions, TransactionTrait,
};
use std::time::Duration;

pub use sea_orm_migration::MigratorTrait;

/// Connects by URL. SQLite files (and their directory) are created when missing and opened in WAL
/// mode with foreign keys on and a busy timeout, so concurrent writers wait instead of failing.
pub async fn connect(url: &str) -> Result<DatabaseConnection, DbErr> {
    let url = prepare_sqlite_url(url)?;
    let is_sqlite = url.starts_with("sqlite:");
    let mut opts = ConnectOptions::new(url);
    opts.max_connections(if is_sqlite { 8 } else { 16 })
        .min_connections(1)
        .connect_timeout(Duration::from_secs(5))
        .acquire_timeout(Duration::from_secs(10))
        .sqlx_logging(false)
        .map_sqlx_sqlite_opts(|o| {
            o.journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(10))
        });
    Database::connect(opts).await
}

fn prepare_sqlite_url(url: &str) -> Result<String, DbErr> {
    let Some(rest) = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:")) else {
        return Ok(url.to_owned());
    };
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    if path != ":memory:"
        && let Some(dir) = std::path::Path::new(path).parent().filter(|d| !d.as_os_str().is_empty())
    {
        std::fs::create_dir_all(dir).map_err(|e| DbErr::Custom(format!("cannot create {}: {e}", dir.display())))?;
    }
    let mode = if query.contains("mode=") { String::new() } else { "mode=rwc".into() };
    let sep = if query.is_empty() || mode.is_empty() { "" } else { "&" };
    Ok(format!("sqlite://{path}?{query}{sep}{mode}"))
}

/// Key of the PostgreSQL advisory lock migrations are applied under ("BANTU" in ASCII).
const MIGRATION_LOCK: i64 = 0x42_41_4E_54_55;

/// Applies every pending migration of a service, all in one transaction. Processes starting
/// together on one database take turns: the first applies them, the others then find nothing
/// pending (instead of failing on what the first created). On PostgreSQL they queue on an
/// advisory lock; on SQLite on the write lock, which `BEGIN IMMEDIATE` takes at once.
pub async fn migrate<M: MigratorTrait>(db: &DatabaseConnection) -> Result<(), DbErr> {
    let txn = begin_serialized(db, MIGRATION_LOCK).await?;
    M::up(&txn, None).await?;
    txn.commit().await
}

/// Begins a write transaction that runs alone among those begun with the same `key`, across
/// processes: for check-then-insert rules (a count under a limit) that no unique index can state.
/// On PostgreSQL it holds the transaction-scoped advisory lock `key` until commit or rollback; on
/// SQLite the write lock `BEGIN IMMEDIATE` takes already serializes every writer.
pub async fn begin_serialized(db: &DatabaseConnection, key: i64) -> Result<DatabaseTransaction, DbErr> {
    let txn = begin_write(db).await?;
    if db.get_database_backend() == DbBackend::Postgres {
        txn.execute_unprepared(&format!("SELECT pg_advisory_xact_lock({key})")).await?;
    }
    Ok(txn)
}

/// An advisory-lock key for one row or owner (say, a user), taken from the id's low 64 bits; the
/// `scope` keeps different rules on the same id apart.
pub fn lock_key(scope: u8, id: uuid::Uuid) -> i64 {
    let low = id.as_u128() as u64;
    ((low & !(0xFF << 56)) | (u64::from(scope) << 56)) as i64
}

pub struct DbProbe(pub DatabaseConnection);

impl Probe for DbProbe {
    fn name(&self) -> &'static str {
        "database"
    }
    fn check(&self) -> ProbeFuture<'_> {
        Box::pin(async move { self.0.ping().await.map_err(|e| e.to_string()) })
    }
}

/// Begins a transaction that is going to write. On SQLite it takes the write lock at `BEGIN`
/// (`BEGIN IMMEDIATE`), waiting up to the busy timeout for other writers; a deferred transaction
/// would instead fail with "database is locked" at its first write whenever another connection
/// committed after the transaction's first read. PostgreSQL starts an ordinary transaction.
pub async fn begin_write(db: &DatabaseConnection) -> Result<DatabaseTransaction, DbErr> {
    let options = TransactionOptions {
        sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
        ..TransactionOptions::default()
    };
    db.begin_with_options(options).await
}

pub fn is_unique_violation(err: &DbErr) -> bool {
    matches!(err.sql_err(), Some(SqlErr::UniqueConstraintViolation(_)))
}

/// Whether a statement failed because the database went away under it rather than because of
/// the statement: the connection broke (I/O), the pool is closed or timed out, or the server is
/// shutting down or not accepting connections yet (SQLSTATE classes 08 and 57, e.g. `57P01` when
/// PostgreSQL restarts). Such a request is worth trying again later: a 503, not a 500. The pool
/// replaces the broken connection by itself.
pub fn is_connection_lost(err: &DbErr) -> bool {
    use sea_orm::RuntimeErr;
    use sea_orm::sqlx::Error as Sqlx;
    let (DbErr::Query(RuntimeErr::SqlxError(e)) | DbErr::Exec(RuntimeErr::SqlxError(e))) = err else {
        return false;
    };
    match &**e {
        Sqlx::Io(_) | Sqlx::PoolTimedOut | Sqlx::PoolClosed | Sqlx::WorkerCrashed => true,
        Sqlx::Database(db) => db.code().is_some_and(|code| code.starts_with("08") || code.starts_with("57")),
        _ => false,
    }
}

impl From<DbErr> for ApiError {
    fn from(err: DbErr) -> Self {
        match &err {
            DbErr::RecordNotFound(_) => ApiError::NotFound("not found".into()),
            DbErr::ConnectionAcquire(_) | DbErr::Conn(_) => {
                tracing::error!(error = %err, "database unavailable");
                ApiError::Unavailable("database unavailable".into())
            }
            _ if is_connection_lost(&err) => {
                tracing::error!(error = %err, "database unavailable");
                ApiError::Unavailable("database unavailable".into())
            }
            _ if is_unique_violation(&err) => ApiError::conflict("a record with the same unique value already exists"),
            // A row written against a parent removed meanwhile (or a parent removed under its
            // children) lost a race with another request: the caller may retry, nothing broke.
            _ if matches!(err.sql_err(), Some(SqlErr::ForeignKeyConstraintViolation(_))) => {
                ApiError::conflict("a related record was changed or removed meanwhile; reload and try again")
            }
            _ => ApiError::internal(err),
        }
    }
}

/// Case-insensitive substring match that behaves the same on SQLite and PostgreSQL; `%`, `_` and
/// `\` in the needle match literally.
pub fn contains_ci(column: impl sea_orm::sea_query::IntoColumnRef, needle: &str) -> Expr {
    let escaped = needle.to_lowercase().replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
    Expr::expr(Func::lower(Expr::col(column))).like(LikeExpr::new(format!("%{escaped}%")).escape('\\'))
}

/// The UTC day (`YYYY-MM-DD` text) of a timestamp column, the same on SQLite (where sea-orm
/// stores `2026-12-07 10:00:00+00:00` text) and PostgreSQL: what the owners group daily
/// aggregates by. `column` is a trusted, possibly table-qualified, quoted column reference.
pub fn utc_day(backend: DbBackend, column: &str) -> Expr {
    Expr::cust(utc_day_sql(backend, column))
}

/// [`utc_day`] as SQL text, for hand-written aggregate queries.
pub fn utc_day_sql(backend: DbBackend, column: &str) -> String {
    match backend {
        DbBackend::Postgres => format!("to_char({column} AT TIME ZONE 'UTC', 'YYYY-MM-DD')"),
        _ => format!("substr({column}, 1, 10)"),
    }
}

/// The day of a date column as `YYYY-MM-DD` text, on SQLite and PostgreSQL (SQL text).
pub fn date_text_sql(backend: DbBackend, column: &str) -> String {
    match backend {
        DbBackend::Postgres => format!("to_char({column}, 'YYYY-MM-DD')"),
        _ => format!("substr({column}, 1, 10)"),
    }
}

/// The `n`th (from 1) bind placeholder of a hand-written statement on `backend`.
pub fn placeholder(backend: DbBackend, n: usize) -> String {
    match backend {
        DbBackend::Postgres => format!("${n}"),
        _ => "?".into(),
    }
}

/// A decimal read back as text (`CAST(SUM(x) AS TEXT)`): PostgreSQL's exact `NUMERIC`, or SQLite's
/// REAL (`1250.5`, `1.0e+15`), rounded to an amount.
pub fn decimal_text(text: Option<&str>) -> rust_decimal::Decimal {
    use std::str::FromStr;
    let Some(t) = text.map(str::trim).filter(|t| !t.is_empty()) else {
        return rust_decimal::Decimal::ZERO;
    };
    let parsed = rust_decimal::Decimal::from_str(t).or_else(|_| rust_decimal::Decimal::from_scientific(t));
    crate::api::money::amount(parsed.unwrap_or_default())
}

pub fn backend_name(db: &DatabaseConnection) -> &'static str {
    match db.get_database_backend() {
        DbBackend::Sqlite => "sqlite",
        DbBackend::Postgres => "postgres",
        _ => "other",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lost_connection_is_unavailable_and_a_bad_statement_is_not() {
        use sea_orm::RuntimeErr;
        use std::sync::Arc;
        let io = sea_orm::sqlx::Error::Io(std::io::Error::from(std::io::ErrorKind::ConnectionReset));
        let lost = DbErr::Query(RuntimeErr::SqlxError(Arc::new(io)));
        assert!(is_connection_lost(&lost));
        assert!(matches!(ApiError::from(lost), ApiError::Unavailable(_)));
        let closed = DbErr::Exec(RuntimeErr::SqlxError(Arc::new(sea_orm::sqlx::Error::PoolClosed)));
        assert!(matches!(ApiError::from(closed), ApiError::Unavailable(_)));
        let bad = DbErr::Query(RuntimeErr::SqlxError(Arc::new(sea_orm::sqlx::Error::RowNotFound)));
        assert!(!is_connection_lost(&bad));
        assert!(!matches!(ApiError::from(bad), ApiError::Unavailable(_)));
    }

    #[test]
    fn sqlite_urls_get_create_mode() {
        let dir = std::env::temp_dir().join(format!("crm-url-{}", uuid::Uuid::now_v7()));
        let url = format!("sqlite://{}/x.db", dir.display());
        assert_eq!(prepare_sqlite_url(&url).unwrap(), format!("{url}?mode=rwc"));
        assert!(dir.exists());
        let _ = std::fs::remove_dir_all(dir);
        assert_eq!(prepare_sqlite_url("postgres://h/db").unwrap(), "postgres://h/db");
    }
}
