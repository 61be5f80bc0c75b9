//! Counters that hand out numbers inside a write transaction, in commit order.
//!
//! `next_seq` gives each change to a synced record (customers, contacts, follow-ups) the
//! organization's next change number. The counter row is updated in the writer's transaction, so
//! it stays locked until that transaction commits (PostgreSQL row lock; SQLite's write lock):
//! changes of one organization therefore commit in the order of their numbers, and a client that
//! has read everything up to number N never later finds a change numbered ≤ N appearing. That is
//! what makes `GET /sync/changes?since=N` a stable cursor under concurrent writes; the price is
//! that one organization's synced writes are serialized, which their volume allows.

use super::model::{counter, tombstone};
use chrono::Utc;
use crm_common::{ApiError, ApiResult};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use uuid::Uuid;

/// The organization's next change number; call inside the write transaction.
pub async fn next_seq(txn: &impl ConnectionTrait, organization_id: Uuid) -> ApiResult<i64> {
    counter::Entity::insert(counter::ActiveModel { organization_id: Set(organization_id), seq: Set(0) })
        .on_conflict_do_nothing_on([counter::Column::OrganizationId])
        .exec(txn)
        .await?;
    let rows = counter::Entity::update_many()
        .col_expr(counter::Column::Seq, Expr::col(counter::Column::Seq).add(1))
        .filter(counter::Column::OrganizationId.eq(organization_id))
        .exec_with_returning(txn)
        .await?;
    rows.first().map(|r| r.seq).ok_or_else(|| ApiError::internal("sync counter row missing after upsert"))
}

/// Records that a synced record was deleted, for clients walking the changes.
pub async fn tombstone(txn: &impl ConnectionTrait, organization_id: Uuid, entity: &str, id: Uuid) -> ApiResult<()> {
    let seq = next_seq(txn, organization_id).await?;
    let row = tombstone::ActiveModel {
        id: Set(Uuid::now_v7()),
        organization_id: Set(organization_id),
        entity: Set(entity.to_owned()),
        entity_id: Set(id),
        sync_seq: Set(seq),
        deleted_at: Set(Utc::now()),
    };
    tombstone::Entity::insert(row).exec_without_returning(txn).await?;
    Ok(())
}

/// The organization's last handed-out change number (0 before its first synced write). Read
/// outside a write, it is the number of the last *committed* change: the counter row commits with
/// the change that moved it, and changes commit in number order, so every change numbered up to
/// the answer is visible to statements issued afterwards.
pub async fn current_seq(db: &impl ConnectionTrait, organization_id: Uuid) -> ApiResult<i64> {
    Ok(counter::Entity::find_by_id(organization_id).one(db).await?.map_or(0, |c| c.seq))
}
