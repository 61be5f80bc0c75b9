use super::dto::{CreateLink, LinkView, ListLinks, Opened};
use super::service;
use crate::AppState;
use crate::perm::TemporaryLinkManage;
use axum::extract::State;
use axum::response::Response;
use crm_common::ApiResult;
use crm_common::api::openapi::{BadRequest, Forbidden, Gone, NotFound};
use crm_common::api::{Envelope, Json, Page, PageParams, Path, Query, ok};
use crm_common::auth::Authorized;
use crm_common::http::peer::Forward;
use uuid::Uuid;

/// Share a resource by a temporary link
///
/// `resource_type` `order` (the caller must see the order), `customer` (service-management must
/// show it to the caller) or `service_account`; `max_access_count` opens (default 1) until
/// `expires_at` (never when absent). Answers the link with its token.
#[utoipa::path(post, path = "/api/order-workflow/temporary-links", tag = "temporary-links",
    request_body = CreateLink,
    responses((status = 200, description = "The new link", body = Envelope<LinkView>),
        (status = 400, response = BadRequest), (status = 403, response = Forbidden), (status = 404, response = NotFound)),
    security(("bearer" = [])))]
pub async fn create(
    State(state): State<AppState>,
    caller: Authorized<TemporaryLinkManage>,
    forward: Forward,
    Json(body): Json<CreateLink>,
) -> ApiResult<Response> {
    Ok(ok(LinkView::from(service::create(&state, &caller, &forward, body).await?)))
}

/// Open a temporary link
///
/// Public: the token is the credential (and is cut out of every log line). Each call spends one
/// access; 404 for an unknown or disabled link, 410 once it has expired or used up its accesses,
/// or when the shared order has been deleted since (no access spent).
#[utoipa::path(get, path = "/api/order-workflow/temporary-links/{token}", tag = "temporary-links",
    params(("token" = String, Path)),
    responses((status = 200, description = "The link and its resource", body = Envelope<Opened>),
        (status = 404, response = NotFound),
        (status = 410, response = Gone)))]
pub async fn open(State(state): State<AppState>, Path(token): Path<String>) -> ApiResult<Response> {
    let (link, resource_data) = service::open(&state, &token).await?;
    Ok(ok(Opened { link: link.into(), resource_data }))
}

/// The caller's temporary links
///
/// Newest first, `{items, total, page, size}`.
#[utoipa::path(get, path = "/api/order-workflow/temporary-links", tag = "temporary-links", params(ListLinks),
    responses((status = 200, description = "A page of links", body = Envelope<Page<LinkView>>),
        (status = 400, response = BadRequest), (status = 403, response = Forbidden)),
    security(("bearer" = [])))]
pub async fn list(
    State(state): State<AppState>,
    caller: Authorized<TemporaryLinkManage>,
    Query(q): Query<ListLinks>,
) -> ApiResult<Response> {
    let (page, size) = PageParams { page: q.page, size: q.size, page_size: q.page_size }.resolve(20, 100)?;
    let (rows, total) = service::mine(&state, &caller, page, size).await?;
    Ok(ok(Page::new(rows.into_iter().map(LinkView::from).collect(), total, page, size)))
}

/// Disable a temporary link
///
/// Only its creator (403); it then answers 404 to anyone opening it.
#[utoipa::path(put, path = "/api/order-workflow/temporary-links/{link_id}/disable", tag = "temporary-links",
    params(("link_id" = Uuid, Path)),
    responses((status = 200, description = "The link, disabled", body = Envelope<LinkView>),
        (status = 403, response = Forbidden), (status = 404, response = NotFound)),
    security(("bearer" = [])))]
pub async fn disable(
    State(state): State<AppState>,
    caller: Authorized<TemporaryLinkManage>,
    Path(link_id): Path<Uuid>,
) -> ApiResult<Response> {
    Ok(ok(LinkView::from(service::disable(&state, &caller, link_id).await?)))
}
