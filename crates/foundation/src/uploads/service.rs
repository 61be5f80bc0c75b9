//! Rules for uploaded files: a file belongs to the organization it was uploaded in, and the
//! members of that organization may fetch it (an avatar is shown to colleagues, a document shared
//! with them; `file.view`); only its uploader lists or deletes it (`file.upload`).

use super::kinds::{self, Category};
use super::model as upload;
use chrono::{DateTime, SubsecRound, Utc};
use crm_common::auth::Principal;
use crm_common::{ApiError, ApiResult};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DerivePartialModel, EntityTrait, Order, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

/// A file as the client sent it.
pub struct Incoming {
    pub category: Category,
    pub name: String,
    pub content: Vec<u8>,
}

/// A file's record without its content.
#[derive(Debug, DerivePartialModel)]
#[sea_orm(entity = "upload::Entity", from_query_result)]
pub struct Meta {
    pub id: Uuid,
    pub uploaded_by: Uuid,
    pub category: String,
    pub filename: String,
    pub original_name: String,
    pub mime_type: String,
    pub size: i64,
    pub created_at: DateTime<Utc>,
}

/// Seed 002's upload object.
#[derive(Debug, Serialize, ToSchema)]
pub struct UploadView {
    pub file_id: Uuid,
    /// The stored name: the original's ASCII letters and digits, and its extension.
    pub filename: String,
    pub original_name: String,
    pub size: i64,
    pub mime_type: String,
    /// Where members of the organization download it (with their token).
    pub url: String,
    /// `avatar`, `document` or `export`.
    pub category: String,
    pub uploaded_by: Uuid,
    pub uploaded_at: DateTime<Utc>,
}

impl From<Meta> for UploadView {
    fn from(m: Meta) -> Self {
        Self {
            url: format!("/api/foundation/uploads/{}/{}", m.id, m.filename),
            file_id: m.id,
            filename: m.filename,
            original_name: m.original_name,
            size: m.size,
            mime_type: m.mime_type,
            category: m.category,
            uploaded_by: m.uploaded_by,
            uploaded_at: m.created_at,
        }
    }
}

/// Checks `file` and keeps it for the caller's organization, within the organization's `quota`
/// of stored bytes. Two uploads at the same moment may both pass a nearly full quota; the
/// overshoot is at most one file each.
pub async fn store(db: &impl ConnectionTrait, caller: &Principal, file: Incoming, quota: u64) -> ApiResult<UploadView> {
    let original_name = kinds::original_name(&file.name)?;
    let kind = kinds::check(file.category, &original_name, &file.content)?;
    let used = stored_bytes(db, caller.organization_id).await?;
    if used.saturating_add(file.content.len() as u64) > quota {
        return Err(ApiError::conflict(format!(
            "the organization's files would exceed its quota of {quota} bytes ({used} used); delete some first"
        )));
    }
    let meta = Meta {
        id: Uuid::now_v7(),
        uploaded_by: caller.user_id,
        category: file.category.as_str().to_owned(),
        filename: kinds::safe_name(&original_name, kind),
        original_name,
        mime_type: kind.mime_type.to_owned(),
        size: file.content.len() as i64,
        // As stored: the databases keep microseconds.
        created_at: Utc::now().trunc_subsecs(6),
    };
    upload::Entity::insert(upload::ActiveModel::from(upload::Model {
        id: meta.id,
        organization_id: caller.organization_id,
        uploaded_by: meta.uploaded_by,
        category: meta.category.clone(),
        filename: meta.filename.clone(),
        original_name: meta.original_name.clone(),
        mime_type: meta.mime_type.clone(),
        size: meta.size,
        content: file.content,
        created_at: meta.created_at,
    }))
    .exec_without_returning(db)
    .await?;
    Ok(meta.into())
}

/// The bytes of files an organization keeps.
async fn stored_bytes(db: &impl ConnectionTrait, organization_id: Uuid) -> ApiResult<u64> {
    // PostgreSQL sums a bigint column as numeric: cast back, the same on SQLite.
    let total: Option<i64> = upload::Entity::find()
        .select_only()
        .column_as(Expr::cust("CAST(COALESCE(SUM(size), 0) AS BIGINT)"), "total")
        .filter(upload::Column::OrganizationId.eq(organization_id))
        .into_tuple()
        .one(db)
        .await?;
    Ok(total.and_then(|t| u64::try_from(t).ok()).unwrap_or(0))
}

fn in_organization(caller: &Principal) -> sea_orm::Select<upload::Entity> {
    upload::Entity::find().filter(upload::Column::OrganizationId.eq(caller.organization_id))
}

/// A file of the caller's organization, without its content.
pub async fn find(db: &impl ConnectionTrait, caller: &Principal, id: Uuid) -> ApiResult<Meta> {
    in_organization(caller)
        .filter(upload::Column::Id.eq(id))
        .into_partial_model::<Meta>()
        .one(db)
        .await?
        .ok_or_else(|| ApiError::not_found("file"))
}

/// A file of the caller's organization with its content, when `filename` is its stored name.
pub async fn content(
    db: &impl ConnectionTrait,
    caller: &Principal,
    id: Uuid,
    filename: &str,
) -> ApiResult<upload::Model> {
    in_organization(caller)
        .filter(upload::Column::Id.eq(id))
        .filter(upload::Column::Filename.eq(filename))
        .one(db)
        .await?
        .ok_or_else(|| ApiError::not_found("file"))
}

/// The caller's own uploads in the organization, newest first.
pub async fn list_own(
    db: &impl ConnectionTrait,
    caller: &Principal,
    category: Option<Category>,
    page: u64,
    size: u64,
) -> ApiResult<(Vec<UploadView>, u64)> {
    let mut query = in_organization(caller).filter(upload::Column::UploadedBy.eq(caller.user_id));
    if let Some(category) = category {
        query = query.filter(upload::Column::Category.eq(category.as_str()));
    }
    let paginator = query
        .order_by(upload::Column::CreatedAt, Order::Desc)
        .order_by(upload::Column::Id, Order::Desc)
        .into_partial_model::<Meta>()
        .paginate(db, size);
    let total = paginator.num_items().await?;
    let rows = paginator.fetch_page(page - 1).await?;
    Ok((rows.into_iter().map(UploadView::from).collect(), total))
}

/// Deletes a file of the caller's organization; only its uploader may. Returns what was deleted.
pub async fn delete(db: &impl ConnectionTrait, caller: &Principal, id: Uuid) -> ApiResult<UploadView> {
    let found = find(db, caller, id).await?;
    if found.uploaded_by != caller.user_id {
        return Err(ApiError::forbidden("only the file's uploader may delete it"));
    }
    upload::Entity::delete_many()
        .filter(upload::Column::Id.eq(id))
        .filter(upload::Column::OrganizationId.eq(caller.organization_id))
        .exec(db)
        .await?;
    Ok(found.into())
}
