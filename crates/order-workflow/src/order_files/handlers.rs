use super::dto::{
    FileLang, FileList, FileUrl, FileView, ListFiles, ListOrderFiles, SignedParams, UpdateFile, UploadForm, UrlParams,
    VerifyFile,
};
use super::model as file;
use super::service::{self, Fields, Filter, Staged};
use crate::AppState;
use crate::orders::service::{Viewer, find_visible, lang_of};
use crate::perm::{OrderUpdate, OrderView as OrderViewPerm};
use axum::body::Body;
use axum::extract::multipart::MultipartRejection;
use axum::extract::{Multipart, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use chrono::{Duration, Utc};
use crm_common::api::openapi::{BadRequest, Forbidden, NoData, NotFound, PayloadTooLarge, UnsupportedMediaType};
use crm_common::api::upload::{malformed, read_text};
use crm_common::api::{Envelope, Json, Page, PageParams, Path, Query, ok};
use crm_common::auth::Authorized;
use crm_common::http::audit::with_before;
use crm_common::{ApiError, ApiResult};
use uuid::Uuid;

/// Longest text field of the upload form.
const FIELD_LIMIT: usize = 4096;

fn uuid_field(name: &str, value: &str) -> ApiResult<Option<Uuid>> {
    if value.is_empty() {
        return Ok(None);
    }
    value.parse().map(Some).map_err(|_| ApiError::field(name, "must be a UUID"))
}

/// The form's fields, the file streamed to staging as it comes; unknown fields are skipped.
async fn read_form(state: &AppState, form: Result<Multipart, MultipartRejection>) -> ApiResult<(Staged, Fields)> {
    let mut form = form.map_err(|_| {
        ApiError::UnsupportedMediaType("send the file as multipart/form-data, in a field named file".into())
    })?;
    let mut staged = None;
    let mut f = Fields::default();
    while let Some(mut field) = form.next_field().await.map_err(malformed)? {
        let name = field.name().unwrap_or_default().to_owned();
        if name == "file" {
            if staged.is_some() {
                return Err(ApiError::field("file", "send one file per request"));
            }
            staged = Some(service::receive(state, &mut field).await?);
            continue;
        }
        let known = [
            "order_id",
            "order_item_id",
            "order_stage_id",
            "file_category",
            "file_name",
            "file_name_zh",
            "file_name_id",
            "description",
            "description_zh",
            "description_id",
            "is_required",
        ];
        if !known.contains(&name.as_str()) {
            while field.chunk().await.map_err(malformed)?.is_some() {}
            continue;
        }
        let text = read_text(&mut field, &name, FIELD_LIMIT).await?;
        match name.as_str() {
            "order_id" => f.order_id = uuid_field(&name, &text)?,
            "order_item_id" => f.order_item_id = uuid_field(&name, &text)?,
            "order_stage_id" => f.order_stage_id = uuid_field(&name, &text)?,
            "file_category" => f.file_category = Some(text),
            "file_name" => f.file_name = Some(text),
            "file_name_zh" => f.file_name_zh = Some(text),
            "file_name_id" => f.file_name_id = Some(text),
            "description" => f.description = Some(text),
            "description_zh" => f.description_zh = Some(text),
            "description_id" => f.description_id = Some(text),
            _ => {
                f.is_required = match text.as_str() {
                    "" => None,
                    "true" | "1" => Some(true),
                    "false" | "0" => Some(false),
                    _ => return Err(ApiError::field("is_required", "must be true or false")),
                }
            }
        }
    }
    let staged = staged.ok_or_else(|| ApiError::field("file", "required: a multipart field named file"))?;
    Ok((staged, f))
}

/// Upload a file to an order
///
/// The original's path: the form names its `order_id`. At most 10,000,000 bytes (413 past it);
/// the name's extension decides the type and the content must match it (a PNG called `.pdf` is
/// refused); `file_type` follows from the type.
#[utoipa::path(post, path = "/api/order-workflow/order-files/upload", tag = "orders", params(FileLang),
    request_body(content = UploadForm, content_type = "multipart/form-data"),
    responses((status = 200, description = "The stored file", body = Envelope<FileView>),
        (status = 400, response = BadRequest), (status = 403, response = Forbidden), (status = 404, response = NotFound),
        (status = 413, response = PayloadTooLarge), (status = 415, response = UnsupportedMediaType)),
    security(("bearer" = [])))]
pub async fn file_upload_flat(
    State(state): State<AppState>,
    caller: Authorized<OrderUpdate>,
    Query(lang): Query<FileLang>,
    form: Result<Multipart, MultipartRejection>,
) -> ApiResult<Response> {
    let indonesian = lang_of(lang.lang.as_deref())?;
    let (staged, fields) = read_form(&state, form).await?;
    let saved = service::create(&state, &Viewer::of(&caller), None, staged, fields, indonesian).await?;
    Ok(ok(service::view(&state, saved, indonesian)))
}

/// Upload a file to an order
///
/// The real client's path (`file`, `file_category`, `description`); the same checks.
#[utoipa::path(post, path = "/api/order-workflow/orders/{id}/files", tag = "orders", params(("id" = Uuid, Path), FileLang),
    request_body(content = UploadForm, content_type = "multipart/form-data"),
    responses((status = 200, description = "The stored file", body = Envelope<FileView>),
        (status = 400, response = BadRequest), (status = 403, response = Forbidden), (status = 404, response = NotFound),
        (status = 413, response = PayloadTooLarge), (status = 415, response = UnsupportedMediaType)),
    security(("bearer" = [])))]
pub async fn file_upload_nested(
    State(state): State<AppState>,
    caller: Authorized<OrderUpdate>,
    Path(order): Path<Uuid>,
    Query(lang): Query<FileLang>,
    form: Result<Multipart, MultipartRejection>,
) -> ApiResult<Response> {
    let indonesian = lang_of(lang.lang.as_deref())?;
    let viewer = Viewer::of(&caller);
    // Refused before a byte of the file is read.
    find_visible(&state.db, &viewer, order).await?;
    let (staged, fields) = read_form(&state, form).await?;
    let saved = service::create(&state, &viewer, Some(order), staged, fields, indonesian).await?;
    Ok(ok(service::view(&state, saved, indonesian)))
}

/// An order file
#[utoipa::path(get, path = "/api/order-workflow/order-files/{file_id}", tag = "orders",
    params(("file_id" = Uuid, Path), FileLang),
    responses((status = 200, description = "The file", body = Envelope<FileView>), (status = 404, response = NotFound)),
    security(("bearer" = [])))]
pub async fn file_get_flat(
    State(state): State<AppState>,
    caller: Authorized<OrderViewPerm>,
    Path(id): Path<Uuid>,
    Query(lang): Query<FileLang>,
) -> ApiResult<Response> {
    get(&state, &Viewer::of(&caller), None, id, lang).await
}

/// A file of an order
#[utoipa::path(get, path = "/api/order-workflow/orders/{id}/files/{file_id}", tag = "orders",
    params(("id" = Uuid, Path), ("file_id" = Uuid, Path), FileLang),
    responses((status = 200, description = "The file", body = Envelope<FileView>), (status = 404, response = NotFound)),
    security(("bearer" = [])))]
pub async fn file_get_nested(
    State(state): State<AppState>,
    caller: Authorized<OrderViewPerm>,
    Path((order, id)): Path<(Uuid, Uuid)>,
    Query(lang): Query<FileLang>,
) -> ApiResult<Response> {
    get(&state, &Viewer::of(&caller), Some(order), id, lang).await
}

async fn get(state: &AppState, viewer: &Viewer, order: Option<Uuid>, id: Uuid, lang: FileLang) -> ApiResult<Response> {
    let indonesian = lang_of(lang.lang.as_deref())?;
    let (_, f) = service::find(state, viewer, order, id).await?;
    Ok(ok(service::view(state, f, indonesian)))
}

/// Update an order file's details
///
/// Absent fields are kept; `file_name`/`description` write the `lang` language. `is_verified`
/// records who verified it and when.
#[utoipa::path(put, path = "/api/order-workflow/order-files/{file_id}", tag = "orders",
    params(("file_id" = Uuid, Path), FileLang), request_body = UpdateFile,
    responses((status = 200, description = "The file as updated", body = Envelope<FileView>),
        (status = 400, response = BadRequest), (status = 403, response = Forbidden), (status = 404, response = NotFound)),
    security(("bearer" = [])))]
pub async fn file_update_flat(
    State(state): State<AppState>,
    caller: Authorized<OrderUpdate>,
    Path(id): Path<Uuid>,
    Query(lang): Query<FileLang>,
    Json(body): Json<UpdateFile>,
) -> ApiResult<Response> {
    update(&state, &Viewer::of(&caller), None, id, body, lang).await
}

/// Update a file of an order
#[utoipa::path(put, path = "/api/order-workflow/orders/{id}/files/{file_id}", tag = "orders",
    params(("id" = Uuid, Path), ("file_id" = Uuid, Path), FileLang), request_body = UpdateFile,
    responses((status = 200, description = "The file as updated", body = Envelope<FileView>),
        (status = 400, response = BadRequest), (status = 403, response = Forbidden), (status = 404, response = NotFound)),
    security(("bearer" = [])))]
pub async fn file_update_nested(
    State(state): State<AppState>,
    caller: Authorized<OrderUpdate>,
    Path((order, id)): Path<(Uuid, Uuid)>,
    Query(lang): Query<FileLang>,
    Json(body): Json<UpdateFile>,
) -> ApiResult<Response> {
    update(&state, &Viewer::of(&caller), Some(order), id, body, lang).await
}

/// Verify a file of an order
///
/// Sets `verified_by` and `verified_at` (or clears them with `is_verified: false`).
#[utoipa::path(post, path = "/api/order-workflow/orders/{id}/files/{file_id}/verify", tag = "orders",
    params(("id" = Uuid, Path), ("file_id" = Uuid, Path), FileLang), request_body = VerifyFile,
    responses((status = 200, description = "The file", body = Envelope<FileView>),
        (status = 400, response = BadRequest), (status = 403, response = Forbidden), (status = 404, response = NotFound)),
    security(("bearer" = [])))]
pub async fn file_verify(
    State(state): State<AppState>,
    caller: Authorized<OrderUpdate>,
    Path((order, id)): Path<(Uuid, Uuid)>,
    Query(lang): Query<FileLang>,
    Json(body): Json<VerifyFile>,
) -> ApiResult<Response> {
    let body = UpdateFile { is_verified: Some(body.is_verified), ..UpdateFile::default() };
    update(&state, &Viewer::of(&caller), Some(order), id, body, lang).await
}

async fn update(
    state: &AppState,
    viewer: &Viewer,
    order: Option<Uuid>,
    id: Uuid,
    body: UpdateFile,
    lang: FileLang,
) -> ApiResult<Response> {
    let indonesian = lang_of(lang.lang.as_deref())?;
    let (before, after) = service::update(state, viewer, order, id, body, indonesian).await?;
    Ok(with_before(ok(service::view(state, after, indonesian)), &audit_view(&before)))
}

/// What the audit log keeps of a file (no link: it would outlive its purpose there).
fn audit_view(f: &file::Model) -> serde_json::Value {
    serde_json::json!({"id": f.id, "order_id": f.order_id, "file_category": f.file_category,
        "file_name_zh": f.file_name_zh, "file_name_id": f.file_name_id, "file_path": f.file_path,
        "is_required": f.is_required, "is_verified": f.is_verified})
}

/// Delete an order file
///
/// The stored object goes with it. Only its uploader or an order manager may.
#[utoipa::path(delete, path = "/api/order-workflow/order-files/{file_id}", tag = "orders", params(("file_id" = Uuid, Path)),
    responses((status = 200, description = "Deleted", body = Envelope<NoData>), (status = 403, response = Forbidden),
        (status = 404, response = NotFound)),
    security(("bearer" = [])))]
pub async fn file_delete_flat(
    State(state): State<AppState>,
    caller: Authorized<OrderUpdate>,
    Path(id): Path<Uuid>,
) -> ApiResult<Response> {
    delete(&state, &Viewer::of(&caller), None, id).await
}

/// Delete a file of an order
#[utoipa::path(delete, path = "/api/order-workflow/orders/{id}/files/{file_id}", tag = "orders",
    params(("id" = Uuid, Path), ("file_id" = Uuid, Path)),
    responses((status = 200, description = "Deleted", body = Envelope<NoData>), (status = 403, response = Forbidden),
        (status = 404, response = NotFound)),
    security(("bearer" = [])))]
pub async fn file_delete_nested(
    State(state): State<AppState>,
    caller: Authorized<OrderUpdate>,
    Path((order, id)): Path<(Uuid, Uuid)>,
) -> ApiResult<Response> {
    delete(&state, &Viewer::of(&caller), Some(order), id).await
}

async fn delete(state: &AppState, viewer: &Viewer, order: Option<Uuid>, id: Uuid) -> ApiResult<Response> {
    let before = service::delete(state, viewer, order, id).await?;
    Ok(with_before(ok(true), &audit_view(&before)))
}

/// Files of an order, paged
///
/// The original's path: `{files, total}`, newest first; `size` 1–200 (default 50).
#[utoipa::path(get, path = "/api/order-workflow/order-files/order/{id}/files", tag = "orders",
    params(("id" = Uuid, Path), ListFiles),
    responses((status = 200, description = "A page of files", body = Envelope<FileList>),
        (status = 400, response = BadRequest), (status = 404, response = NotFound)),
    security(("bearer" = [])))]
pub async fn file_list_flat(
    State(state): State<AppState>,
    caller: Authorized<OrderViewPerm>,
    Path(order): Path<Uuid>,
    Query(q): Query<ListFiles>,
) -> ApiResult<Response> {
    let indonesian = lang_of(q.lang.as_deref())?;
    let paging = PageParams { page: q.page, size: q.size, page_size: q.page_size }.resolve(50, 200)?;
    let filter =
        Filter { order_item_id: q.order_item_id, order_stage_id: q.order_stage_id, file_category: q.file_category };
    let (rows, total) = service::list(&state, &Viewer::of(&caller), order, filter, Some(paging)).await?;
    Ok(ok(FileList { files: rows.into_iter().map(|f| service::view(&state, f, indonesian)).collect(), total }))
}

/// Files of an order
///
/// The real client's path: `{items, total, page, size}`, newest first; `size` 1–200 (default 50).
#[utoipa::path(get, path = "/api/order-workflow/orders/{id}/files", tag = "orders",
    params(("id" = Uuid, Path), ListOrderFiles),
    responses((status = 200, description = "A page of files", body = Envelope<Page<FileView>>),
        (status = 400, response = BadRequest), (status = 404, response = NotFound)),
    security(("bearer" = [])))]
pub async fn file_list_nested(
    State(state): State<AppState>,
    caller: Authorized<OrderViewPerm>,
    Path(order): Path<Uuid>,
    Query(q): Query<ListOrderFiles>,
) -> ApiResult<Response> {
    let indonesian = lang_of(q.lang.as_deref())?;
    let (page, size) = PageParams { page: q.page, size: q.size, page_size: q.page_size }.resolve(50, 200)?;
    let filter = Filter { order_item_id: q.item_id, order_stage_id: q.stage_id, file_category: q.category };
    let (rows, total) = service::list(&state, &Viewer::of(&caller), order, filter, Some((page, size))).await?;
    let items = rows.into_iter().map(|f| service::view(&state, f, indonesian)).collect();
    Ok(ok(Page::new(items, total, page, size)))
}

/// Files of an order's stage
///
/// Every one, newest first, as a plain array.
#[utoipa::path(get, path = "/api/order-workflow/orders/{id}/stages/{stage_id}/files", tag = "orders",
    params(("id" = Uuid, Path), ("stage_id" = Uuid, Path), FileLang),
    responses((status = 200, description = "The files", body = Envelope<Vec<FileView>>), (status = 404, response = NotFound)),
    security(("bearer" = [])))]
pub async fn file_stage_files(
    State(state): State<AppState>,
    caller: Authorized<OrderViewPerm>,
    Path((order, stage)): Path<(Uuid, Uuid)>,
    Query(lang): Query<FileLang>,
) -> ApiResult<Response> {
    let filter = Filter { order_stage_id: Some(stage), ..Filter::default() };
    all_files(&state, &Viewer::of(&caller), order, filter, lang).await
}

/// Files of an order's item
///
/// Every one, newest first, as a plain array.
#[utoipa::path(get, path = "/api/order-workflow/orders/{id}/items/{item_id}/files", tag = "orders",
    params(("id" = Uuid, Path), ("item_id" = Uuid, Path), FileLang),
    responses((status = 200, description = "The files", body = Envelope<Vec<FileView>>), (status = 404, response = NotFound)),
    security(("bearer" = [])))]
pub async fn file_item_files(
    State(state): State<AppState>,
    caller: Authorized<OrderViewPerm>,
    Path((order, item)): Path<(Uuid, Uuid)>,
    Query(lang): Query<FileLang>,
) -> ApiResult<Response> {
    let filter = Filter { order_item_id: Some(item), ..Filter::default() };
    all_files(&state, &Viewer::of(&caller), order, filter, lang).await
}

async fn all_files(
    state: &AppState,
    viewer: &Viewer,
    order: Uuid,
    filter: Filter,
    lang: FileLang,
) -> ApiResult<Response> {
    let indonesian = lang_of(lang.lang.as_deref())?;
    let (rows, _) = service::list(state, viewer, order, filter, None).await?;
    Ok(ok(rows.into_iter().map(|f| service::view(state, f, indonesian)).collect::<Vec<_>>()))
}

/// A signed link to an order file
///
/// `{file_url, expires_at}`: opens the file without a token until `expires_at` (`expires_in`
/// seconds, 60–604800, default 3600).
#[utoipa::path(get, path = "/api/order-workflow/order-files/{file_id}/url", tag = "orders",
    params(("file_id" = Uuid, Path), UrlParams),
    responses((status = 200, description = "The link", body = Envelope<FileUrl>), (status = 400, response = BadRequest),
        (status = 404, response = NotFound)),
    security(("bearer" = [])))]
pub async fn file_url(
    State(state): State<AppState>,
    caller: Authorized<OrderViewPerm>,
    Path(id): Path<Uuid>,
    Query(q): Query<UrlParams>,
) -> ApiResult<Response> {
    let seconds = q.expires_in.unwrap_or(3600);
    if !(60..=604_800).contains(&seconds) {
        return Err(ApiError::field("expires_in", "must be between 60 and 604800 seconds"));
    }
    let (_, f) = service::find(&state, &Viewer::of(&caller), None, id).await?;
    let expires_at = Utc::now() + Duration::seconds(seconds);
    Ok(ok(FileUrl { file_url: service::link(&state, &f, expires_at), expires_at }))
}

/// Download a file of an order
///
/// The bytes, streamed, with their type; images inline, everything else as an attachment.
#[utoipa::path(get, path = "/api/order-workflow/orders/{id}/files/{file_id}/download", tag = "orders",
    params(("id" = Uuid, Path), ("file_id" = Uuid, Path)),
    responses((status = 200, description = "The file's content", content_type = "application/octet-stream", body = String),
        (status = 404, response = NotFound)),
    security(("bearer" = [])))]
pub async fn file_download(
    State(state): State<AppState>,
    caller: Authorized<OrderViewPerm>,
    Path((order, id)): Path<(Uuid, Uuid)>,
) -> ApiResult<Response> {
    let (_, f) = service::find(&state, &Viewer::of(&caller), Some(order), id).await?;
    serve(&state, f).await
}

/// Open a file by its signed link
///
/// No token: the link's signature (from `file_url` or `/order-files/{file_id}/url`) is checked
/// instead. 403 for a changed link, 410 once it has expired.
#[utoipa::path(get, path = "/api/order-workflow/files/signed/{file_id}", tag = "orders",
    params(("file_id" = Uuid, Path), SignedParams),
    responses((status = 200, description = "The file's content", content_type = "application/octet-stream", body = String),
        (status = 400, response = BadRequest), (status = 403, response = Forbidden),
        (status = 410, description = "The link has expired")))]
pub async fn file_signed(
    State(state): State<AppState>,
    Path(id): Path<Uuid>,
    Query(q): Query<SignedParams>,
) -> ApiResult<Response> {
    let f = service::by_link(&state, id, q.expires, &q.sig).await?;
    serve(&state, f).await
}

/// The file's bytes read from disk as they are sent.
async fn serve(state: &AppState, f: file::Model) -> ApiResult<Response> {
    let handle = match tokio::fs::File::open(service::object_path(state, &f)).await {
        Ok(h) => h,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(ApiError::not_found("order file content")),
        Err(e) => return Err(ApiError::internal(e)),
    };
    let stream = futures_util::stream::try_unfold(handle, |mut h| async move {
        use tokio::io::AsyncReadExt;
        let mut buf = vec![0u8; 64 * 1024];
        let n = h.read(&mut buf).await?;
        if n == 0 {
            return Ok::<_, std::io::Error>(None);
        }
        buf.truncate(n);
        Ok(Some((bytes::Bytes::from(buf), h)))
    });
    let how = if f.mime_type.starts_with("image/") { "inline" } else { "attachment" };
    let name = f.file_path.rsplit('/').next().unwrap_or("file").to_owned();
    let headers = [
        (header::CONTENT_TYPE, f.mime_type.clone()),
        (header::CONTENT_LENGTH, f.file_size.to_string()),
        // The stored name is `{file_id}.{ext}`: plain ASCII without quotes.
        (header::CONTENT_DISPOSITION, format!("{how}; filename=\"{name}\"")),
        (header::CACHE_CONTROL, "private, max-age=300".to_owned()),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_owned()),
        // Opened in a tab, a file runs nothing and loads nothing.
        (header::CONTENT_SECURITY_POLICY, "default-src 'none'; sandbox".to_owned()),
    ];
    Ok((headers, Body::from_stream(stream)).into_response())
}
