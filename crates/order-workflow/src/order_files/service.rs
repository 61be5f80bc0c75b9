//! The order-file rules: a file is seen by whoever sees its order and written by whoever may
//! change orders and sees it; only its uploader or an order manager deletes it. Uploads are
//! streamed to a staging file under the files directory while their content is checked against
//! their type (crm-common's `api::upload`), then moved to `order_{order_id}/{file_id}.{ext}`
//! once the order, the item and the fields are known to be good; the row is written last, so a
//! refused upload leaves nothing behind. Deleting a file removes the object too.

use super::dto::{FileView, UpdateFile};
use super::model as file;
use crate::AppState;
use crate::notifications::triggers::{OrderEvent, order_event};
use crate::orders::model::{item, order};
use crate::orders::service::{Viewer, find_visible, pick};
use axum::extract::multipart::Field;
use chrono::{DateTime, Duration, Utc};
use crm_common::api::patch::clean;
use crm_common::api::upload::{self, ContentCheck, Kind, MAX_FILE_BYTES, malformed};
use crm_common::api::validate::Validator;
use crm_common::{ApiError, ApiResult};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, EntityTrait, IntoActiveModel, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect,
};
use std::path::{Path, PathBuf};
use tokio::io::AsyncWriteExt;
use uuid::Uuid;

pub const CATEGORIES: &[&str] = &["passport", "visa", "document", "other"];
pub const FILE_TYPES: &[&str] = &["image", "pdf", "doc", "excel", "other"];

/// `file_type` from the MIME type.
pub fn file_type(mime: &str) -> &'static str {
    if mime.starts_with("image/") {
        "image"
    } else if mime == "application/pdf" {
        "pdf"
    } else if mime == "application/msword" || mime.contains("wordprocessingml") {
        "doc"
    } else if mime == "application/vnd.ms-excel" || mime.contains("spreadsheetml") || mime.starts_with("text/csv") {
        "excel"
    } else {
        "other"
    }
}

/// A file received and checked, waiting under the staging directory; removed when dropped
/// unless it was moved into place.
pub struct Staged {
    pub id: Uuid,
    pub original_name: String,
    pub kind: &'static Kind,
    pub size: u64,
    path: Option<PathBuf>,
}

impl Drop for Staged {
    fn drop(&mut self) {
        if let Some(p) = self.path.take() {
            let _ = std::fs::remove_file(p);
        }
    }
}

/// Streams the multipart `file` field to a staging file, checking its name, size and content as
/// it arrives: at most [`MAX_FILE_BYTES`] (413 past it, without reading the rest).
pub async fn receive(state: &AppState, field: &mut Field<'_>) -> ApiResult<Staged> {
    let original_name = upload::original_name(field.file_name().unwrap_or_default())?;
    let kind = upload::kind_by_name(&original_name)?;
    let dir = state.config.files_dir.join(".incoming");
    tokio::fs::create_dir_all(&dir).await.map_err(ApiError::internal)?;
    let id = Uuid::now_v7();
    let path = dir.join(format!("{id}.part"));
    let mut out = tokio::fs::File::create(&path).await.map_err(ApiError::internal)?;
    let mut staged = Staged { id, original_name, kind, size: 0, path: Some(path) };
    let mut check = ContentCheck::new(kind);
    while let Some(chunk) = field.chunk().await.map_err(malformed)? {
        check.feed(&chunk);
        if check.len() > MAX_FILE_BYTES as u64 {
            return Err(upload::too_big());
        }
        out.write_all(&chunk).await.map_err(ApiError::internal)?;
    }
    out.flush().await.map_err(ApiError::internal)?;
    staged.size = check.len();
    check.finish()?;
    Ok(staged)
}

/// What came with the file.
#[derive(Debug, Default)]
pub struct Fields {
    pub order_id: Option<Uuid>,
    pub order_item_id: Option<Uuid>,
    pub order_stage_id: Option<Uuid>,
    pub file_category: Option<String>,
    pub file_name: Option<String>,
    pub file_name_zh: Option<String>,
    pub file_name_id: Option<String>,
    pub description: Option<String>,
    pub description_zh: Option<String>,
    pub description_id: Option<String>,
    pub is_required: Option<bool>,
}

/// The text in the `lang` language from `text` unless that language is sent explicitly; an
/// explicit empty text clears it; otherwise `kept`.
fn written(
    explicit: Option<String>,
    lang_text: &Option<String>,
    this_lang: bool,
    kept: Option<String>,
) -> Option<String> {
    match explicit {
        Some(t) => clean(Some(t)),
        None if this_lang && lang_text.is_some() => lang_text.clone(),
        None => kept,
    }
}

/// An item of `order` (400 naming the field otherwise).
async fn check_item(state: &AppState, order: &order::Model, item_id: Uuid) -> ApiResult<()> {
    item::Entity::find_by_id(item_id)
        .one(&state.db)
        .await?
        .filter(|i| i.order_id == order.id)
        .map(|_| ())
        .ok_or_else(|| ApiError::field("order_item_id", "not an item of this order"))
}

/// Files the staged upload for `order_id` (the path's, or the form's).
pub async fn create(
    state: &AppState,
    viewer: &Viewer,
    order_id: Option<Uuid>,
    staged: Staged,
    f: Fields,
    indonesian: bool,
) -> ApiResult<file::Model> {
    let order_id = order_id.or(f.order_id).ok_or_else(|| ApiError::field("order_id", "is required"))?;
    let category = clean(f.file_category).unwrap_or_else(|| "other".into());
    Validator::new().one_of("file_category", Some(&category), CATEGORIES).finish()?;
    let o = find_visible(&state.db, viewer, order_id).await?;
    if let Some(i) = f.order_item_id {
        check_item(state, &o, i).await?;
    }
    crate::order_stages::service::check_of_order(&state.db, &o, f.order_stage_id).await?;
    let name = clean(f.file_name);
    let description = clean(f.description);
    let mut name_zh = written(f.file_name_zh, &name, !indonesian, None);
    let mut name_id = written(f.file_name_id, &name, indonesian, None);
    if name_zh.is_none() && name_id.is_none() {
        (name_zh, name_id) = (Some(staged.original_name.clone()), Some(staged.original_name.clone()));
    }
    let mut v = Validator::new();
    v.optional_length("file_name_zh", name_zh.as_deref(), 255).optional_length("file_name_id", name_id.as_deref(), 255);
    v.finish()?;
    let key = format!("order_{}/{}.{}", o.id, staged.id, staged.kind.extension);
    let target = state.config.files_dir.join(&key);
    place(&staged, &target).await?;
    let now = Utc::now();
    let row = file::ActiveModel {
        id: Set(staged.id),
        organization_id: Set(o.organization_id),
        order_id: Set(o.id),
        order_item_id: Set(f.order_item_id),
        order_stage_id: Set(f.order_stage_id),
        file_category: Set(category),
        file_name_zh: Set(name_zh),
        file_name_id: Set(name_id),
        file_type: Set(file_type(staged.kind.mime_type).into()),
        file_path: Set(key),
        file_size: Set(i64::try_from(staged.size).unwrap_or(i64::MAX)),
        mime_type: Set(staged.kind.mime_type.into()),
        description_zh: Set(written(f.description_zh, &description, !indonesian, None)),
        description_id: Set(written(f.description_id, &description, indonesian, None)),
        is_required: Set(f.is_required.unwrap_or(false)),
        is_verified: Set(false),
        verified_by: Set(None),
        verified_at: Set(None),
        uploaded_by: Set(Some(viewer.user_id)),
        created_at: Set(now),
        updated_at: Set(now),
    };
    match row.insert(&state.db).await {
        Ok(saved) => {
            let name = saved.file_name_zh.as_deref().or(saved.file_name_id.as_deref()).unwrap_or_default();
            order_event(&state.db, &o, viewer.user_id, &[], OrderEvent::FileUploaded(name)).await?;
            Ok(saved)
        }
        Err(e) => {
            let _ = tokio::fs::remove_file(&target).await;
            Err(e.into())
        }
    }
}

/// Moves the staged file to `target`; from then on the row (or its failure) owns it.
async fn place(staged: &Staged, target: &Path) -> ApiResult<()> {
    let Some(from) = staged.path.as_ref() else {
        return Err(ApiError::internal("the staged file is gone"));
    };
    if let Some(dir) = target.parent() {
        tokio::fs::create_dir_all(dir).await.map_err(ApiError::internal)?;
    }
    tokio::fs::rename(from, target).await.map_err(ApiError::internal)
}

/// A file of an order the caller sees; `order` (the nested paths) must be its order. Another
/// organization's file, or one of an order the caller does not see, is a 404.
pub async fn find(
    state: &AppState,
    viewer: &Viewer,
    order: Option<Uuid>,
    id: Uuid,
) -> ApiResult<(order::Model, file::Model)> {
    let f = file::Entity::find_by_id(id)
        .one(&state.db)
        .await?
        .filter(|f| f.organization_id == viewer.organization_id && order.is_none_or(|o| o == f.order_id))
        .ok_or_else(|| ApiError::not_found("order file"))?;
    let o = find_visible(&state.db, viewer, f.order_id).await.map_err(|_| ApiError::not_found("order file"))?;
    Ok((o, f))
}

/// Changes a file's details; absent fields are kept. Verifying records who and when.
pub async fn update(
    state: &AppState,
    viewer: &Viewer,
    order: Option<Uuid>,
    id: Uuid,
    body: UpdateFile,
    indonesian: bool,
) -> ApiResult<(file::Model, file::Model)> {
    let (o, before) = find(state, viewer, order, id).await?;
    let category = clean(body.file_category);
    let kind = clean(body.file_type);
    let name = clean(body.file_name);
    let description = clean(body.description);
    let name_zh = written(body.file_name_zh, &name, !indonesian, before.file_name_zh.clone());
    let name_id = written(body.file_name_id, &name, indonesian, before.file_name_id.clone());
    let mut v = Validator::new();
    v.one_of("file_category", category.as_deref(), CATEGORIES)
        .one_of("file_type", kind.as_deref(), FILE_TYPES)
        .optional_length("file_name_zh", name_zh.as_deref(), 255)
        .optional_length("file_name_id", name_id.as_deref(), 255);
    v.finish()?;
    let mut a = before.clone().into_active_model();
    if let Some(c) = category {
        a.file_category = Set(c);
    }
    if let Some(k) = kind {
        a.file_type = Set(k);
    }
    a.file_name_zh = Set(name_zh);
    a.file_name_id = Set(name_id);
    a.description_zh = Set(written(body.description_zh, &description, !indonesian, before.description_zh.clone()));
    a.description_id = Set(written(body.description_id, &description, indonesian, before.description_id.clone()));
    if let Some(r) = body.is_required {
        a.is_required = Set(r);
    }
    let now = Utc::now();
    if let Some(verified) = body.is_verified
        && verified != before.is_verified
    {
        a.is_verified = Set(verified);
        a.verified_by = Set(verified.then_some(viewer.user_id));
        a.verified_at = Set(verified.then_some(now));
    }
    a.updated_at = Set(now);
    let after = a.update(&state.db).await?;
    if after.is_verified != before.is_verified {
        let name = after.file_name_zh.as_deref().or(after.file_name_id.as_deref()).unwrap_or_default();
        let uploader: Vec<Uuid> = after.uploaded_by.into_iter().collect();
        order_event(&state.db, &o, viewer.user_id, &uploader, OrderEvent::FileVerified(name)).await?;
    }
    Ok((before, after))
}

/// Deletes a file and its stored object; only its uploader or an order manager may.
pub async fn delete(state: &AppState, viewer: &Viewer, order: Option<Uuid>, id: Uuid) -> ApiResult<file::Model> {
    let (_, before) = find(state, viewer, order, id).await?;
    if !(viewer.actor.approver || before.uploaded_by == Some(viewer.user_id)) {
        return Err(ApiError::forbidden("only the file's uploader or an order manager may delete it"));
    }
    file::Entity::delete_by_id(id).exec(&state.db).await?;
    remove_object(state, &before).await;
    Ok(before)
}

/// Removes a file's object; one already gone is fine, any other failure is logged (the row is
/// gone, so the object is unreachable either way).
pub(crate) async fn remove_object(state: &AppState, f: &file::Model) {
    if let Err(e) = tokio::fs::remove_file(state.config.files_dir.join(&f.file_path)).await
        && e.kind() != std::io::ErrorKind::NotFound
    {
        tracing::warn!(file = %f.id, path = %f.file_path, error = %e, "could not remove an order file's object");
    }
}

/// What a list may be narrowed to.
#[derive(Debug, Default, Clone)]
pub struct Filter {
    pub order_item_id: Option<Uuid>,
    pub order_stage_id: Option<Uuid>,
    pub file_category: Option<String>,
}

/// An order's files, newest first; every one without `page`.
pub async fn list(
    state: &AppState,
    viewer: &Viewer,
    order_id: Uuid,
    filter: Filter,
    page: Option<(u64, u64)>,
) -> ApiResult<(Vec<file::Model>, u64)> {
    let category = clean(filter.file_category);
    Validator::new().one_of("file_category", category.as_deref(), CATEGORIES).finish()?;
    find_visible(&state.db, viewer, order_id).await?;
    let mut cond = Condition::all().add(file::Column::OrderId.eq(order_id));
    if let Some(i) = filter.order_item_id {
        cond = cond.add(file::Column::OrderItemId.eq(i));
    }
    if let Some(s) = filter.order_stage_id {
        cond = cond.add(file::Column::OrderStageId.eq(s));
    }
    if let Some(c) = category {
        cond = cond.add(file::Column::FileCategory.eq(c));
    }
    let query =
        file::Entity::find().filter(cond).order_by_desc(file::Column::CreatedAt).order_by_desc(file::Column::Id);
    let total = query.clone().count(&state.db).await?;
    let rows = match page {
        Some((page, size)) => query.offset((page - 1) * size).limit(size).all(&state.db).await?,
        None => query.all(&state.db).await?,
    };
    Ok((rows, total))
}

/// A signed link to `f` valid until `expires`.
pub fn link(state: &AppState, f: &file::Model, expires: DateTime<Utc>) -> String {
    state.file_signer.url(f.id, f.organization_id, expires.timestamp())
}

pub fn view(state: &AppState, f: file::Model, indonesian: bool) -> FileView {
    let ttl = Duration::from_std(state.config.file_url_ttl).unwrap_or(Duration::minutes(15));
    let expires = Utc::now() + ttl;
    FileView {
        file_url: link(state, &f, expires),
        file_url_expires_at: expires,
        file_name: pick(indonesian, &f.file_name_zh, &f.file_name_id),
        description: pick(indonesian, &f.description_zh, &f.description_id),
        id: f.id,
        order_id: f.order_id,
        order_item_id: f.order_item_id,
        order_stage_id: f.order_stage_id,
        file_category: f.file_category,
        file_name_zh: f.file_name_zh,
        file_name_id: f.file_name_id,
        file_type: f.file_type,
        file_size: f.file_size,
        mime_type: f.mime_type,
        description_zh: f.description_zh,
        description_id: f.description_id,
        is_required: f.is_required,
        is_verified: f.is_verified,
        verified_by: f.verified_by,
        verified_at: f.verified_at,
        uploaded_by: f.uploaded_by,
        created_at: f.created_at,
        updated_at: f.updated_at,
    }
}

/// The file a signed link names, when the signature is this service's for that file, its
/// organization and the expiry, and the expiry has not passed: 403 for a changed link (whatever
/// was changed — so another organization's file never opens), 410 once expired.
pub async fn by_link(state: &AppState, id: Uuid, expires: i64, sig: &str) -> ApiResult<file::Model> {
    let refused = || ApiError::forbidden("the link is not valid");
    let f = file::Entity::find_by_id(id).one(&state.db).await?.ok_or_else(refused)?;
    if !state.file_signer.verify(f.id, f.organization_id, expires, sig) {
        return Err(refused());
    }
    if expires < Utc::now().timestamp() {
        return Err(ApiError::Gone("the link has expired; ask for a new one".into()));
    }
    Ok(f)
}

/// Where a file's bytes are.
pub fn object_path(state: &AppState, f: &file::Model) -> PathBuf {
    state.config.files_dir.join(&f.file_path)
}
