use super::kinds::{self, Category};
use super::service::{self, Incoming, UploadView};
use crate::AppState;
use crate::perm::{FileUpload, FileView};
use axum::extract::multipart::MultipartRejection;
use axum::extract::{Multipart, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use crm_common::api::openapi::{
    BadRequest, Conflict, Forbidden, NoData, NotFound, PayloadTooLarge, UnsupportedMediaType,
};
use crm_common::api::upload::{malformed, read_field};
use crm_common::api::{Envelope, Page, PageParams, Path, Query, ok};
use crm_common::auth::Authorized;
use crm_common::http::audit::with_before;
use crm_common::{ApiError, ApiResult};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

/// The form of `POST /upload` (`multipart/form-data`).
#[allow(dead_code)]
#[derive(ToSchema)]
pub struct UploadForm {
    /// The file: at most 10 MB; its name's extension decides its type, which its content must match.
    #[schema(value_type = String, format = Binary)]
    pub file: Vec<u8>,
    /// `avatar` (.jpg .jpeg .png .webp), `document` (every accepted type, the default) or `export`
    /// (.csv .xls .xlsx .pdf).
    pub category: Option<String>,
}

/// Upload a file
///
/// For the caller's organization: its members with `file.view` may download it, its uploader may
/// delete it.
/// Accepted: .pdf .jpg .jpeg .png .webp .doc .docx .xls .xlsx .csv .txt, at most 10,000,000 bytes;
/// 409 when the organization's files would exceed its quota (`CRM_UPLOAD_QUOTA_BYTES`).
#[utoipa::path(
    post,
    path = "/api/foundation/upload",
    tag = "uploads",
    request_body(content = UploadForm, content_type = "multipart/form-data"),
    responses(
        (status = 200, description = "The stored file", body = Envelope<UploadView>),
        (status = 400, response = BadRequest),
        (status = 403, response = Forbidden),
        (status = 409, response = Conflict),
        (status = 413, response = PayloadTooLarge),
        (status = 415, response = UnsupportedMediaType),
    ),
    security(("bearer" = []))
)]
pub async fn upload(
    State(state): State<AppState>,
    caller: Authorized<FileUpload>,
    form: Result<Multipart, MultipartRejection>,
) -> ApiResult<Response> {
    let form = form.map_err(|_| {
        ApiError::UnsupportedMediaType("send the file as multipart/form-data, in a field named file".into())
    })?;
    let incoming = read_form(form).await?;
    Ok(ok(service::store(&state.db, &caller, incoming, state.config.upload_quota_bytes).await?))
}

/// The `file` and `category` fields; any other field is read and ignored.
async fn read_form(mut form: Multipart) -> ApiResult<Incoming> {
    let mut file: Option<(String, Vec<u8>)> = None;
    let mut category = None;
    while let Some(mut field) = form.next_field().await.map_err(malformed)? {
        match field.name() {
            Some("file") if file.is_some() => return Err(ApiError::field("file", "send one file per request")),
            Some("file") => {
                let name = field.file_name().unwrap_or_default().to_owned();
                let too_big = || {
                    ApiError::PayloadTooLarge(format!(
                        "the file is larger than {} bytes (10 MB)",
                        kinds::MAX_FILE_BYTES
                    ))
                };
                file = Some((name, read_field(&mut field, kinds::MAX_FILE_BYTES, too_big).await?));
            }
            Some("category") => {
                let raw = read_field(&mut field, 32, || ApiError::field("category", "at most 32 bytes")).await?;
                category = Some(Category::parse(std::str::from_utf8(&raw).unwrap_or_default().trim())?);
            }
            _ => while field.chunk().await.map_err(malformed)?.is_some() {},
        }
    }
    let Some((name, content)) = file else {
        return Err(ApiError::field("file", "required: a multipart field named file"));
    };
    Ok(Incoming { category: category.unwrap_or(Category::Document), name, content })
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListUploads {
    /// From 1.
    pub page: Option<u64>,
    /// 1–100, default 20.
    pub size: Option<u64>,
    /// Alias of `size`.
    pub page_size: Option<u64>,
    /// `avatar`, `document` or `export`.
    pub category: Option<String>,
}

/// List my uploads
///
/// The caller's own files in the organization, newest first.
#[utoipa::path(
    get,
    path = "/api/foundation/uploads",
    tag = "uploads",
    params(ListUploads),
    responses(
        (status = 200, description = "A page of files", body = Envelope<Page<UploadView>>),
        (status = 400, response = BadRequest),
        (status = 403, response = Forbidden),
    ),
    security(("bearer" = []))
)]
pub async fn list(
    State(state): State<AppState>,
    caller: Authorized<FileUpload>,
    Query(q): Query<ListUploads>,
) -> ApiResult<Response> {
    let (page, size) = PageParams { page: q.page, size: q.size, page_size: q.page_size }.resolve(20, 100)?;
    let category = q.category.as_deref().map(Category::parse).transpose()?;
    let (items, total) = service::list_own(&state.db, &caller, category, page, size).await?;
    Ok(ok(Page::new(items, total, page, size)))
}

/// Get a file's details
#[utoipa::path(
    get,
    path = "/api/foundation/uploads/{file_id}",
    tag = "uploads",
    params(("file_id" = Uuid, Path, description = "The file's id")),
    responses(
        (status = 200, description = "The file's details", body = Envelope<UploadView>),
        (status = 400, response = BadRequest),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
    ),
    security(("bearer" = []))
)]
pub async fn get(
    State(state): State<AppState>,
    caller: Authorized<FileView>,
    Path(id): Path<Uuid>,
) -> ApiResult<Response> {
    Ok(ok(UploadView::from(service::find(&state.db, &caller, id).await?)))
}

/// Download a file
///
/// Images are served inline, everything else as an attachment.
#[utoipa::path(
    get,
    path = "/api/foundation/uploads/{file_id}/{filename}",
    tag = "uploads",
    params(
        ("file_id" = Uuid, Path, description = "The file's id"),
        ("filename" = String, Path, description = "The file's stored name (`filename`)"),
    ),
    responses(
        (status = 200, description = "The file's content", content_type = "application/octet-stream", body = String),
        (status = 400, response = BadRequest),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
    ),
    security(("bearer" = []))
)]
pub async fn download(
    State(state): State<AppState>,
    caller: Authorized<FileView>,
    Path((id, filename)): Path<(Uuid, String)>,
) -> ApiResult<Response> {
    let file = service::content(&state.db, &caller, id, &filename).await?;
    let how = if file.mime_type.starts_with("image/") { "inline" } else { "attachment" };
    let headers = [
        (header::CONTENT_TYPE, file.mime_type),
        // The stored name is plain ASCII without quotes (see `kinds::safe_name`).
        (header::CONTENT_DISPOSITION, format!("{how}; filename=\"{}\"", file.filename)),
        // The content behind an id never changes.
        (header::CACHE_CONTROL, "private, max-age=86400, immutable".to_owned()),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_owned()),
        // Opened in a tab, a file runs nothing and loads nothing.
        (header::CONTENT_SECURITY_POLICY, "default-src 'none'; sandbox".to_owned()),
    ];
    Ok((headers, file.content).into_response())
}

/// Delete a file
///
/// Only its uploader may.
#[utoipa::path(
    delete,
    path = "/api/foundation/uploads/{file_id}",
    tag = "uploads",
    params(("file_id" = Uuid, Path, description = "The file's id")),
    responses(
        (status = 200, description = "Deleted", body = Envelope<NoData>),
        (status = 400, response = BadRequest),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
    ),
    security(("bearer" = []))
)]
pub async fn delete(
    State(state): State<AppState>,
    caller: Authorized<FileUpload>,
    Path(id): Path<Uuid>,
) -> ApiResult<Response> {
    let deleted = service::delete(&state.db, &caller, id).await?;
    Ok(with_before(ok(()), &deleted))
}
