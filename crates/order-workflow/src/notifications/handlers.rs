use super::dto::{ListNotifications, NotificationView, UnreadCount, UpdatedCount};
use super::service;
use crate::AppState;
use axum::extract::State;
use axum::response::Response;
use crm_common::ApiResult;
use crm_common::api::openapi::{BadRequest, NotFound};
use crm_common::api::{Envelope, Page, PageParams, Path, Query, ok};
use crm_common::auth::CurrentUser;
use uuid::Uuid;

/// The caller's notifications
///
/// Newest first, `{items, total, page, size}`; `is_read` filters.
#[utoipa::path(get, path = "/api/order-workflow/notifications", tag = "notifications", params(ListNotifications),
    responses((status = 200, description = "A page of notifications", body = Envelope<Page<NotificationView>>),
        (status = 400, response = BadRequest)),
    security(("bearer" = [])))]
pub async fn list(
    State(state): State<AppState>,
    caller: CurrentUser,
    Query(q): Query<ListNotifications>,
) -> ApiResult<Response> {
    let (page, size) = PageParams { page: q.page, size: q.size, page_size: q.page_size }.resolve(20, 100)?;
    let (rows, total) = service::list(&state, &caller, q.is_read, page, size).await?;
    Ok(ok(Page::new(rows.into_iter().map(NotificationView::from).collect(), total, page, size)))
}

/// Mark a notification read
///
/// Only the caller's own (404 for anyone else's).
#[utoipa::path(put, path = "/api/order-workflow/notifications/{notification_id}/read", tag = "notifications",
    params(("notification_id" = Uuid, Path)),
    responses((status = 200, description = "The notification, read", body = Envelope<NotificationView>),
        (status = 404, response = NotFound)),
    security(("bearer" = [])))]
pub async fn read(
    State(state): State<AppState>,
    caller: CurrentUser,
    Path(notification_id): Path<Uuid>,
) -> ApiResult<Response> {
    Ok(ok(NotificationView::from(service::read(&state, &caller, notification_id).await?)))
}

/// Mark all the caller's notifications read
#[utoipa::path(put, path = "/api/order-workflow/notifications/read-all", tag = "notifications",
    responses((status = 200, description = "How many were unread", body = Envelope<UpdatedCount>)),
    security(("bearer" = [])))]
pub async fn read_all(State(state): State<AppState>, caller: CurrentUser) -> ApiResult<Response> {
    Ok(ok(UpdatedCount { updated_count: service::read_all(&state, &caller).await? }))
}

/// How many of the caller's notifications are unread
#[utoipa::path(get, path = "/api/order-workflow/notifications/unread-count", tag = "notifications",
    responses((status = 200, description = "The unread count", body = Envelope<UnreadCount>)),
    security(("bearer" = [])))]
pub async fn unread_count(State(state): State<AppState>, caller: CurrentUser) -> ApiResult<Response> {
    Ok(ok(UnreadCount { unread_count: service::unread_count(&state, &caller).await? }))
}
