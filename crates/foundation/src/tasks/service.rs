//! Rules for export tasks: a task is its requester's alone; it runs on the replica that took the
//! request, and one that has not finished within [`STALE_AFTER`] (its replica stopped, say) is
//! reported failed rather than running forever. Tasks are kept for [`KEPT_FOR`].

use super::model as task;
use chrono::{Duration, Utc};
use crm_common::auth::Principal;
use crm_common::{ApiError, ApiResult};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

pub const RUNNING: &str = "running";
pub const COMPLETED: &str = "completed";
pub const FAILED: &str = "failed";
/// Longer than any export should take.
pub const STALE_AFTER: Duration = Duration::minutes(10);
/// How long a task and its file are kept.
pub const KEPT_FOR: Duration = Duration::days(7);

/// Seed 002's task object.
#[derive(Debug, Serialize, ToSchema)]
pub struct TaskView {
    pub task_id: Uuid,
    pub kind: String,
    /// `running`, `completed` or `failed`.
    pub status: String,
    /// 0–100.
    pub progress: i16,
    /// Where the finished file is downloaded (with the same token), once `completed`.
    pub file_url: Option<String>,
    pub file_name: Option<String>,
    pub rows: Option<i64>,
    pub error: Option<String>,
    pub created_at: chrono::DateTime<Utc>,
    pub finished_at: Option<chrono::DateTime<Utc>>,
}

impl TaskView {
    pub fn new(t: task::Model) -> Self {
        let file_url = (t.status == COMPLETED).then(|| format!("/api/foundation/tasks/{}/file", t.id));
        Self {
            task_id: t.id,
            kind: t.kind,
            status: t.status,
            progress: t.progress,
            file_url,
            file_name: t.file_name,
            rows: t.rows,
            error: t.error,
            created_at: t.created_at,
            finished_at: t.finished_at,
        }
    }
}

/// A new running task of `kind` for the caller. Tasks older than [`KEPT_FOR`] go first, so old
/// files do not pile up in the database.
pub async fn start(db: &impl ConnectionTrait, caller: &Principal, kind: &str) -> ApiResult<Uuid> {
    task::Entity::delete_many().filter(task::Column::CreatedAt.lt(Utc::now() - KEPT_FOR)).exec(db).await?;
    let id = Uuid::now_v7();
    task::Entity::insert(task::ActiveModel::from(task::Model {
        id,
        organization_id: caller.organization_id,
        user_id: caller.user_id,
        kind: kind.into(),
        status: RUNNING.into(),
        progress: 0,
        file_name: None,
        mime_type: None,
        content: None,
        rows: None,
        error: None,
        created_at: Utc::now(),
        finished_at: None,
    }))
    .exec_without_returning(db)
    .await?;
    Ok(id)
}

/// A finished file.
pub struct Finished {
    pub file_name: String,
    pub mime_type: &'static str,
    pub content: Vec<u8>,
    pub rows: i64,
}

/// Records how far a running task has got (0–100).
pub async fn progress(db: &impl ConnectionTrait, id: Uuid, progress: i16) -> ApiResult<()> {
    task::Entity::update_many()
        .col_expr(task::Column::Progress, Expr::value(progress))
        .filter(task::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

pub async fn complete(db: &impl ConnectionTrait, id: Uuid, file: Finished) -> ApiResult<()> {
    finish(db, id, COMPLETED, |u| {
        u.col_expr(task::Column::FileName, Expr::value(file.file_name))
            .col_expr(task::Column::MimeType, Expr::value(file.mime_type))
            .col_expr(task::Column::Content, Expr::value(file.content))
            .col_expr(task::Column::Rows, Expr::value(file.rows))
            .col_expr(task::Column::Progress, Expr::value(100i16))
    })
    .await
}

pub async fn fail(db: &impl ConnectionTrait, id: Uuid, error: &str) -> ApiResult<()> {
    finish(db, id, FAILED, |u| u.col_expr(task::Column::Error, Expr::value(error))).await
}

/// Ends a running task (only a running one: a task reported stale stays failed).
async fn finish(
    db: &impl ConnectionTrait,
    id: Uuid,
    status: &str,
    set: impl FnOnce(sea_orm::UpdateMany<task::Entity>) -> sea_orm::UpdateMany<task::Entity>,
) -> ApiResult<()> {
    set(task::Entity::update_many())
        .col_expr(task::Column::Status, Expr::value(status))
        .col_expr(task::Column::FinishedAt, Expr::value(Utc::now()))
        .filter(task::Column::Id.eq(id))
        .filter(task::Column::Status.eq(RUNNING))
        .exec(db)
        .await?;
    Ok(())
}

/// The caller's task `id`; anyone else's is "not found". A running task older than
/// [`STALE_AFTER`] is marked failed first.
pub async fn find_own(db: &impl ConnectionTrait, caller: &Principal, id: Uuid) -> ApiResult<task::Model> {
    let find = || {
        task::Entity::find_by_id(id)
            .filter(task::Column::UserId.eq(caller.user_id))
            .filter(task::Column::OrganizationId.eq(caller.organization_id))
    };
    let found = find().one(db).await?.ok_or_else(|| ApiError::not_found("task"))?;
    if found.status == RUNNING && found.created_at < Utc::now() - STALE_AFTER {
        fail(db, id, "the export was interrupted; start it again").await?;
        return find().one(db).await?.ok_or_else(|| ApiError::not_found("task"));
    }
    Ok(found)
}
