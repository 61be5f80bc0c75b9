//! One evaluator across replicas: a lease row in this service's database. A replica evaluates only
//! while it holds the lease; taking it is one conditional `UPDATE` (held by me, or expired), which
//! both PostgreSQL and SQLite apply atomically, so two replicas racing for it never both win. A
//! replica that dies stops renewing and another takes over once the lease expires. Chosen over a
//! PostgreSQL advisory lock because it works on SQLite too and needs no session held open.

use super::model::lease;
use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, QueryFilter};

/// The alert evaluator's lease.
pub const EVALUATOR: &str = "alert-evaluator";

/// Takes or renews `name` for `holder` until `now + ttl`; whether `holder` now holds it.
pub async fn acquire(
    db: &impl ConnectionTrait,
    name: &str,
    holder: &str,
    ttl: Duration,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    // The row exists from the first attempt on (a concurrent insert of it is a no-op).
    lease::Entity::insert(lease::ActiveModel {
        name: Set(name.to_owned()),
        holder: Set(None),
        expires_at: Set(now - Duration::seconds(1)),
    })
    .on_conflict(OnConflict::column(lease::Column::Name).do_nothing().to_owned())
    .exec_without_returning(db)
    .await?;
    let taken = lease::Entity::update_many()
        .col_expr(lease::Column::Holder, Expr::value(holder.to_owned()))
        .col_expr(lease::Column::ExpiresAt, Expr::value(now + ttl))
        .filter(lease::Column::Name.eq(name))
        .filter(Condition::any().add(lease::Column::Holder.eq(holder)).add(lease::Column::ExpiresAt.lt(now)))
        .exec(db)
        .await?;
    Ok(taken.rows_affected == 1)
}

/// Gives `name` up (at shutdown), so another replica need not wait for it to expire.
pub async fn release(db: &impl ConnectionTrait, name: &str, holder: &str) -> Result<(), DbErr> {
    lease::Entity::update_many()
        .col_expr(lease::Column::Holder, Expr::value(Option::<String>::None))
        .col_expr(lease::Column::ExpiresAt, Expr::value(Utc::now() - Duration::seconds(1)))
        .filter(lease::Column::Name.eq(name))
        .filter(lease::Column::Holder.eq(holder))
        .exec(db)
        .await?;
    Ok(())
}
