//! Writing notifications (inside the transaction of whatever they announce, so a notification
//! exists exactly when its cause does; pushed live only after that) and the caller's reads of
//! their own.

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

/// What a new notification says and points at. `title` and `content` are the Chinese wording;
/// [`notify_bilingual`] adds the Indonesian.
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

/// The Indonesian wording of a [`Notice`] and its category when the type alone says too little
/// (`order_updated` covers status, items, files and comments).
#[derive(Debug, Clone, Default)]
pub struct Wording<'a> {
    pub title_id: Option<String>,
    pub content_id: Option<String>,
    pub category: Option<&'a str>,
}

/// The `notification_type`s the table accepts (the original's five).
const TYPES: &[&str] = &["collection_task", "lead_assigned", "order_updated", "lead_created", "lead_updated"];

/// Writes a notification for `n.user_id` and, once the surrounding request or job has finished
/// (its transaction committed, or not), pushes it live to every socket that user holds.
///
/// Never fails the operation that announces it: the text is cut to the columns' sizes and an
/// unknown type is stored as `order_updated` (keeping the precise one as its category), so the
/// insert has nothing left to refuse; a database error is logged and `Ok(None)` answered. (An
/// error that broke the connection would fail the enclosing transaction's commit anyway.) The
/// `Result` stays so callers' `?` reads as before.
pub async fn notify(db: &impl ConnectionTrait, n: Notice<'_>) -> ApiResult<Option<notification::Model>> {
    notify_bilingual(db, n, Wording::default()).await
}

/// [`notify`] with the Indonesian wording and a category.
pub async fn notify_bilingual(
    db: &impl ConnectionTrait,
    n: Notice<'_>,
    w: Wording<'_>,
) -> ApiResult<Option<notification::Model>> {
    let stored_type = if TYPES.contains(&n.notification_type) { n.notification_type } else { "order_updated" };
    // `order_updated` covers status, items, files and comments: the resource says which.
    let category = w.category.unwrap_or(match n.notification_type {
        "order_updated" => n.resource_type,
        t => t,
    });
    let row = notification::ActiveModel {
        id: Set(Uuid::now_v7()),
        organization_id: Set(n.organization_id),
        user_id: Set(n.user_id),
        notification_type: Set(stored_type.to_owned()),
        title: Set(cut(&n.title, 255)),
        content: Set(n.content),
        resource_type: Set(Some(cut(n.resource_type, 50))),
        resource_id: Set(Some(n.resource_id)),
        is_read: Set(false),
        read_at: Set(None),
        created_at: Set(Utc::now()),
        category: Set(Some(cut(category, 50))),
        title_id: Set(w.title_id.map(|t| cut(&t, 255))),
        content_id: Set(w.content_id),
    };
    match row.insert(db).await {
        Ok(saved) => {
            crate::live::outbox::stage(&saved);
            Ok(Some(saved))
        }
        Err(err) => {
            tracing::warn!(error = %err, user_id = %n.user_id, category, "notification not written");
            Ok(None)
        }
    }
}

/// At most `max` characters of `s`.
fn cut(s: &str, max: usize) -> String {
    s.chars().take(max).collect()
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
