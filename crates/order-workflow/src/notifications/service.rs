//! Writing notifications (inside the transaction of whatever they announce, so a notification
//! exists exactly when its cause does) and the caller's reads of their own.

use super::model as notification;
use crate::AppState;
use chrono::Utc;
use crm_common::auth::Principal;
use crm_common::{ApiError, ApiResult};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect,
};
use uuid::Uuid;

/// What a new notification says and points at.
#[derive(Debug, Clone)]
pub struct Notice<'a> {
    pub organization_id: Uuid,
    pub user_id: Uuid,
    pub notification_type: &'a str,
    pub title: String,
    pub content: Option<String>,
    pub resource_type: &'a str,
    pub resource_id: Uuid,
}

pub async fn notify(db: &impl ConnectionTrait, n: Notice<'_>) -> ApiResult<notification::Model> {
    Ok(notification::ActiveModel {
        id: Set(Uuid::now_v7()),
        organization_id: Set(n.organization_id),
        user_id: Set(n.user_id),
        notification_type: Set(n.notification_type.to_owned()),
        title: Set(n.title),
        content: Set(n.content),
        resource_type: Set(Some(n.resource_type.to_owned())),
        resource_id: Set(Some(n.resource_id)),
        is_read: Set(false),
        read_at: Set(None),
        created_at: Set(Utc::now()),
    }
    .insert(db)
    .await?)
}

fn mine(p: &Principal) -> Condition {
    Condition::all()
        .add(notification::Column::UserId.eq(p.user_id))
        .add(notification::Column::OrganizationId.eq(p.organization_id))
}

/// The caller's notifications, newest first.
pub async fn list(
    state: &AppState,
    p: &Principal,
    is_read: Option<bool>,
    page: u64,
    size: u64,
) -> ApiResult<(Vec<notification::Model>, u64)> {
    let mut cond = mine(p);
    if let Some(r) = is_read {
        cond = cond.add(notification::Column::IsRead.eq(r));
    }
    let total = notification::Entity::find().filter(cond.clone()).count(&state.db).await?;
    let rows = notification::Entity::find()
        .filter(cond)
        .order_by_desc(notification::Column::CreatedAt)
        .order_by_desc(notification::Column::Id)
        .offset((page - 1) * size)
        .limit(size)
        .all(&state.db)
        .await?;
    Ok((rows, total))
}

/// Marks one of the caller's notifications read (404 for anyone else's); reading it again keeps
/// the first `read_at`.
pub async fn read(state: &AppState, p: &Principal, id: Uuid) -> ApiResult<notification::Model> {
    let found = notification::Entity::find_by_id(id)
        .filter(mine(p))
        .one(&state.db)
        .await?
        .ok_or_else(|| ApiError::not_found("notification"))?;
    if found.is_read {
        return Ok(found);
    }
    notification::Entity::update_many()
        .col_expr(notification::Column::IsRead, Expr::value(true))
        .col_expr(notification::Column::ReadAt, Expr::value(Utc::now()))
        .filter(notification::Column::Id.eq(id))
        .filter(notification::Column::IsRead.eq(false))
        .exec(&state.db)
        .await?;
    notification::Entity::find_by_id(id).one(&state.db).await?.ok_or_else(|| ApiError::not_found("notification"))
}

pub async fn read_all(state: &AppState, p: &Principal) -> ApiResult<u64> {
    let done = notification::Entity::update_many()
        .col_expr(notification::Column::IsRead, Expr::value(true))
        .col_expr(notification::Column::ReadAt, Expr::value(Utc::now()))
        .filter(mine(p))
        .filter(notification::Column::IsRead.eq(false))
        .exec(&state.db)
        .await?;
    Ok(done.rows_affected)
}

pub async fn unread_count(state: &AppState, p: &Principal) -> ApiResult<u64> {
    Ok(notification::Entity::find()
        .filter(mine(p))
        .filter(notification::Column::IsRead.eq(false))
        .count(&state.db)
        .await?)
}
