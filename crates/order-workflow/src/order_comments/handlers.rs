use super::dto::{CommentLang, CommentList, CommentView, CreateComment, ListComments, PinComment, UpdateComment};
use super::service::{self, Filter};
use crate::AppState;
use crate::orders::service::{Viewer, lang_of};
use crate::perm::{OrderUpdate, OrderView as OrderViewPerm};
use axum::extract::State;
use axum::response::Response;
use crm_common::api::openapi::{BadRequest, Forbidden, NoData, NotFound};
use crm_common::api::{Envelope, Json, Page, PageParams, Path, Query, ok};
use crm_common::auth::Authorized;
use crm_common::http::audit::with_before;
use crm_common::http::peer::Forward;
use crm_common::{ApiError, ApiResult};
use uuid::Uuid;

/// Add a comment to an order
///
/// The original's path: the body names its `order_id` (404 if the caller does not see it). With
/// `replied_to_comment_id` it is a reply to a comment of the same order, never pinned.
#[utoipa::path(post, path = "/api/order-workflow/order-comments", tag = "orders", params(CommentLang),
    request_body = CreateComment,
    responses((status = 200, description = "The new comment", body = Envelope<CommentView>),
        (status = 400, response = BadRequest), (status = 403, response = Forbidden), (status = 404, response = NotFound)),
    security(("bearer" = [])))]
pub async fn comment_create_flat(
    State(state): State<AppState>,
    caller: Authorized<OrderUpdate>,
    forward: Forward,
    Query(lang): Query<CommentLang>,
    Json(body): Json<CreateComment>,
) -> ApiResult<Response> {
    let order = body.order_id.ok_or_else(|| ApiError::field("order_id", "is required"))?;
    create(&state, &forward, &Viewer::of(&caller), Some(order), None, body, lang).await
}

/// Add a comment to an order
///
/// The real client's path; `content` is written in the `lang` language.
#[utoipa::path(post, path = "/api/order-workflow/orders/{id}/comments", tag = "orders",
    params(("id" = Uuid, Path), CommentLang), request_body = CreateComment,
    responses((status = 200, description = "The new comment", body = Envelope<CommentView>),
        (status = 400, response = BadRequest), (status = 403, response = Forbidden), (status = 404, response = NotFound)),
    security(("bearer" = [])))]
pub async fn comment_create_nested(
    State(state): State<AppState>,
    caller: Authorized<OrderUpdate>,
    forward: Forward,
    Path(order): Path<Uuid>,
    Query(lang): Query<CommentLang>,
    Json(body): Json<CreateComment>,
) -> ApiResult<Response> {
    create(&state, &forward, &Viewer::of(&caller), Some(order), None, body, lang).await
}

/// Reply to a comment
///
/// The original's path: the reply belongs to the parent's order; 404 if there is no such parent.
/// A reply is never pinned.
#[utoipa::path(post, path = "/api/order-workflow/order-comments/{comment_id}/reply", tag = "orders",
    params(("comment_id" = Uuid, Path), CommentLang), request_body = CreateComment,
    responses((status = 200, description = "The reply", body = Envelope<CommentView>),
        (status = 400, response = BadRequest), (status = 403, response = Forbidden), (status = 404, response = NotFound)),
    security(("bearer" = [])))]
pub async fn comment_reply_flat(
    State(state): State<AppState>,
    caller: Authorized<OrderUpdate>,
    forward: Forward,
    Path(parent): Path<Uuid>,
    Query(lang): Query<CommentLang>,
    Json(body): Json<CreateComment>,
) -> ApiResult<Response> {
    create(&state, &forward, &Viewer::of(&caller), None, Some(parent), body, lang).await
}

/// Reply to a comment of an order
#[utoipa::path(post, path = "/api/order-workflow/orders/{id}/comments/{comment_id}/reply", tag = "orders",
    params(("id" = Uuid, Path), ("comment_id" = Uuid, Path), CommentLang), request_body = CreateComment,
    responses((status = 200, description = "The reply", body = Envelope<CommentView>),
        (status = 400, response = BadRequest), (status = 403, response = Forbidden), (status = 404, response = NotFound)),
    security(("bearer" = [])))]
pub async fn comment_reply_nested(
    State(state): State<AppState>,
    caller: Authorized<OrderUpdate>,
    forward: Forward,
    Path((order, parent)): Path<(Uuid, Uuid)>,
    Query(lang): Query<CommentLang>,
    Json(body): Json<CreateComment>,
) -> ApiResult<Response> {
    create(&state, &forward, &Viewer::of(&caller), Some(order), Some(parent), body, lang).await
}

async fn create(
    state: &AppState,
    forward: &Forward,
    viewer: &Viewer,
    order: Option<Uuid>,
    parent: Option<Uuid>,
    body: CreateComment,
    lang: CommentLang,
) -> ApiResult<Response> {
    let indonesian = lang_of(lang.lang.as_deref())?;
    let saved = service::create(state, viewer, order, parent, body, indonesian).await?;
    Ok(ok(service::view(state, forward, saved, indonesian).await?))
}

/// An order comment
#[utoipa::path(get, path = "/api/order-workflow/order-comments/{comment_id}", tag = "orders",
    params(("comment_id" = Uuid, Path), CommentLang),
    responses((status = 200, description = "The comment", body = Envelope<CommentView>), (status = 404, response = NotFound)),
    security(("bearer" = [])))]
pub async fn comment_get_flat(
    State(state): State<AppState>,
    caller: Authorized<OrderViewPerm>,
    forward: Forward,
    Path(id): Path<Uuid>,
    Query(lang): Query<CommentLang>,
) -> ApiResult<Response> {
    get(&state, &forward, &Viewer::of(&caller), None, id, lang).await
}

/// A comment of an order
#[utoipa::path(get, path = "/api/order-workflow/orders/{id}/comments/{comment_id}", tag = "orders",
    params(("id" = Uuid, Path), ("comment_id" = Uuid, Path), CommentLang),
    responses((status = 200, description = "The comment", body = Envelope<CommentView>), (status = 404, response = NotFound)),
    security(("bearer" = [])))]
pub async fn comment_get_nested(
    State(state): State<AppState>,
    caller: Authorized<OrderViewPerm>,
    forward: Forward,
    Path((order, id)): Path<(Uuid, Uuid)>,
    Query(lang): Query<CommentLang>,
) -> ApiResult<Response> {
    get(&state, &forward, &Viewer::of(&caller), Some(order), id, lang).await
}

async fn get(
    state: &AppState,
    forward: &Forward,
    viewer: &Viewer,
    order: Option<Uuid>,
    id: Uuid,
    lang: CommentLang,
) -> ApiResult<Response> {
    let indonesian = lang_of(lang.lang.as_deref())?;
    let (_, c) = service::find(state, viewer, order, id).await?;
    Ok(ok(service::view(state, forward, c, indonesian).await?))
}

/// Update an order comment
///
/// Absent fields are kept; only the author or an order manager may. A reply cannot be pinned.
#[utoipa::path(put, path = "/api/order-workflow/order-comments/{comment_id}", tag = "orders",
    params(("comment_id" = Uuid, Path), CommentLang), request_body = UpdateComment,
    responses((status = 200, description = "The comment as updated", body = Envelope<CommentView>),
        (status = 400, response = BadRequest), (status = 403, response = Forbidden), (status = 404, response = NotFound)),
    security(("bearer" = [])))]
pub async fn comment_update_flat(
    State(state): State<AppState>,
    caller: Authorized<OrderUpdate>,
    forward: Forward,
    Path(id): Path<Uuid>,
    Query(lang): Query<CommentLang>,
    Json(body): Json<UpdateComment>,
) -> ApiResult<Response> {
    update(&state, &forward, &Viewer::of(&caller), None, id, body, lang).await
}

/// Update a comment of an order
#[utoipa::path(put, path = "/api/order-workflow/orders/{id}/comments/{comment_id}", tag = "orders",
    params(("id" = Uuid, Path), ("comment_id" = Uuid, Path), CommentLang), request_body = UpdateComment,
    responses((status = 200, description = "The comment as updated", body = Envelope<CommentView>),
        (status = 400, response = BadRequest), (status = 403, response = Forbidden), (status = 404, response = NotFound)),
    security(("bearer" = [])))]
pub async fn comment_update_nested(
    State(state): State<AppState>,
    caller: Authorized<OrderUpdate>,
    forward: Forward,
    Path((order, id)): Path<(Uuid, Uuid)>,
    Query(lang): Query<CommentLang>,
    Json(body): Json<UpdateComment>,
) -> ApiResult<Response> {
    update(&state, &forward, &Viewer::of(&caller), Some(order), id, body, lang).await
}

async fn update(
    state: &AppState,
    forward: &Forward,
    viewer: &Viewer,
    order: Option<Uuid>,
    id: Uuid,
    body: UpdateComment,
    lang: CommentLang,
) -> ApiResult<Response> {
    let indonesian = lang_of(lang.lang.as_deref())?;
    let (before, after) = service::update(state, viewer, order, id, body, indonesian).await?;
    let mut views = service::views(state, forward, vec![after, before], indonesian).await?.into_iter();
    let (after, before) = (views.next(), views.next());
    Ok(with_before(ok(after), &before))
}

/// Pin or unpin a comment of an order
///
/// Pinned comments are listed first; a reply cannot be pinned. Only the author or an order
/// manager may.
#[utoipa::path(post, path = "/api/order-workflow/orders/{id}/comments/{comment_id}/pin", tag = "orders",
    params(("id" = Uuid, Path), ("comment_id" = Uuid, Path), CommentLang), request_body = PinComment,
    responses((status = 200, description = "The comment", body = Envelope<CommentView>),
        (status = 400, response = BadRequest), (status = 403, response = Forbidden), (status = 404, response = NotFound)),
    security(("bearer" = [])))]
pub async fn comment_pin(
    State(state): State<AppState>,
    caller: Authorized<OrderUpdate>,
    forward: Forward,
    Path((order, id)): Path<(Uuid, Uuid)>,
    Query(lang): Query<CommentLang>,
    Json(body): Json<PinComment>,
) -> ApiResult<Response> {
    let indonesian = lang_of(lang.lang.as_deref())?;
    let (before, after) = service::pin(&state, &Viewer::of(&caller), order, id, body.is_pinned).await?;
    let view = service::view(&state, &forward, after, indonesian).await?;
    Ok(with_before(ok(view), &serde_json::json!({"id": before.id, "is_pinned": before.is_pinned})))
}

/// Delete an order comment
///
/// Only the author or an order manager may; its replies stay.
#[utoipa::path(delete, path = "/api/order-workflow/order-comments/{comment_id}", tag = "orders",
    params(("comment_id" = Uuid, Path)),
    responses((status = 200, description = "Deleted", body = Envelope<NoData>), (status = 403, response = Forbidden),
        (status = 404, response = NotFound)),
    security(("bearer" = [])))]
pub async fn comment_delete_flat(
    State(state): State<AppState>,
    caller: Authorized<OrderUpdate>,
    Path(id): Path<Uuid>,
) -> ApiResult<Response> {
    delete(&state, &Viewer::of(&caller), None, id).await
}

/// Delete a comment of an order
#[utoipa::path(delete, path = "/api/order-workflow/orders/{id}/comments/{comment_id}", tag = "orders",
    params(("id" = Uuid, Path), ("comment_id" = Uuid, Path)),
    responses((status = 200, description = "Deleted", body = Envelope<NoData>), (status = 403, response = Forbidden),
        (status = 404, response = NotFound)),
    security(("bearer" = [])))]
pub async fn comment_delete_nested(
    State(state): State<AppState>,
    caller: Authorized<OrderUpdate>,
    Path((order, id)): Path<(Uuid, Uuid)>,
) -> ApiResult<Response> {
    delete(&state, &Viewer::of(&caller), Some(order), id).await
}

async fn delete(state: &AppState, viewer: &Viewer, order: Option<Uuid>, id: Uuid) -> ApiResult<Response> {
    let before = service::delete(state, viewer, order, id).await?;
    Ok(with_before(
        ok(true),
        &serde_json::json!({"id": before.id, "order_id": before.order_id, "content_zh": before.content_zh,
            "content_id": before.content_id}),
    ))
}

fn filter(q: &ListComments) -> Filter {
    Filter { order_stage_id: q.order_stage_id, is_internal: q.is_internal }
}

/// Comments of an order, paged
///
/// The original's path: `{comments, total}`, pinned first, then newest; `size` 1–100 (default 20).
#[utoipa::path(get, path = "/api/order-workflow/order-comments/order/{id}/comments", tag = "orders",
    params(("id" = Uuid, Path), ListComments),
    responses((status = 200, description = "A page of comments", body = Envelope<CommentList>),
        (status = 400, response = BadRequest), (status = 404, response = NotFound)),
    security(("bearer" = [])))]
pub async fn comment_list_flat(
    State(state): State<AppState>,
    caller: Authorized<OrderViewPerm>,
    forward: Forward,
    Path(order): Path<Uuid>,
    Query(q): Query<ListComments>,
) -> ApiResult<Response> {
    let indonesian = lang_of(q.lang.as_deref())?;
    let paging = PageParams { page: q.page, size: q.size, page_size: q.page_size }.resolve(20, 100)?;
    let (rows, total) = service::list(&state, &Viewer::of(&caller), order, filter(&q), paging).await?;
    Ok(ok(CommentList { comments: service::views(&state, &forward, rows, indonesian).await?, total }))
}

/// Comments of an order
///
/// The real client's path: `{items, total, page, size}`, pinned first, then newest; `size`
/// 1–100 (default 20).
#[utoipa::path(get, path = "/api/order-workflow/orders/{id}/comments", tag = "orders",
    params(("id" = Uuid, Path), ListComments),
    responses((status = 200, description = "A page of comments", body = Envelope<Page<CommentView>>),
        (status = 400, response = BadRequest), (status = 404, response = NotFound)),
    security(("bearer" = [])))]
pub async fn comment_list_nested(
    State(state): State<AppState>,
    caller: Authorized<OrderViewPerm>,
    forward: Forward,
    Path(order): Path<Uuid>,
    Query(q): Query<ListComments>,
) -> ApiResult<Response> {
    let indonesian = lang_of(q.lang.as_deref())?;
    let (page, size) = PageParams { page: q.page, size: q.size, page_size: q.page_size }.resolve(20, 100)?;
    let (rows, total) = service::list(&state, &Viewer::of(&caller), order, filter(&q), (page, size)).await?;
    Ok(ok(Page::new(service::views(&state, &forward, rows, indonesian).await?, total, page, size)))
}
