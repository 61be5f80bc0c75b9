use super::dto::{AuditPage, HistoryQuery, IngestResult, ListAudit};
use super::model as audit_log;
use super::service::{self, Filters, MAX_BATCH, order_column, parse_time};
use crate::AppState;
use crate::perm::AuditView;
use axum::extract::FromRequestParts;
use axum::extract::State;
use axum::http::request::Parts;
use axum::response::Response;
use crm_common::api::openapi::{BadRequest, Forbidden, NotFound, Unavailable};
use crm_common::api::{Envelope, Json, PageParams, Path, Query, ok};
use crm_common::auth::{Authorized, Principal};
use crm_common::contracts::{AUDIT_TOKEN_HEADER, AuditBatch};
use crm_common::{ApiError, ApiResult};
use sea_orm::{Condition, EntityTrait, Order, PaginatorTrait, QueryFilter, QueryOrder};
use subtle::ConstantTimeEq;
use uuid::Uuid;

async fn page(
    state: &AppState,
    condition: Condition,
    order: (audit_log::Column, bool),
    params: PageParams,
) -> ApiResult<Response> {
    let (page, size) = params.resolve(10, 100)?;
    let direction = if order.1 { Order::Desc } else { Order::Asc };
    let paginator = audit_log::Entity::find()
        .filter(condition)
        .order_by(order.0, direction.clone())
        .order_by(audit_log::Column::Id, direction)
        .paginate(&state.db, size);
    let total = paginator.num_items().await?;
    let records = paginator.fetch_page(page - 1).await?;
    Ok(ok(AuditPage::new(records, total, page, size)))
}

/// Search the audit log
///
/// Search the caller's organization's entries (any organization's for platform administrators).
#[utoipa::path(
    get,
    path = "/api/foundation/audit-logs",
    tag = "audit-logs",
    params(ListAudit),
    responses(
        (status = 200, description = "A page of entries", body = Envelope<AuditPage<audit_log::Model>>),
        (status = 400, response = BadRequest),
        (status = 403, response = Forbidden),
    ),
    security(("bearer" = []))
)]
pub async fn list(
    State(state): State<AppState>,
    caller: Authorized<AuditView>,
    Query(q): Query<ListAudit>,
) -> ApiResult<Response> {
    let filters = q.filters(&caller)?;
    let order = (order_column(q.order_by.as_deref())?, q.order_desc.unwrap_or(true));
    let params = PageParams { page: q.page, size: q.size, page_size: q.page_size };
    page(&state, filters.condition(), order, params).await
}

/// Get an audit entry
#[utoipa::path(
    get,
    path = "/api/foundation/audit-logs/{audit_log_id}",
    tag = "audit-logs",
    params(("audit_log_id" = Uuid, Path, description = "The entry's id")),
    responses(
        (status = 200, description = "The entry", body = Envelope<audit_log::Model>),
        (status = 400, response = BadRequest),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
    ),
    security(("bearer" = []))
)]
pub async fn get(
    State(state): State<AppState>,
    caller: Authorized<AuditView>,
    Path(id): Path<Uuid>,
) -> ApiResult<Response> {
    let entry = audit_log::Entity::find_by_id(id)
        .one(&state.db)
        .await?
        .filter(|e| caller.is_platform_admin || e.organization_id == Some(caller.organization_id))
        .ok_or_else(|| ApiError::not_found("audit log"))?;
    Ok(ok(entry))
}

/// Histories span the caller's organization, or every organization for platform admins.
fn history(caller: &Principal, q: &HistoryQuery) -> ApiResult<Filters> {
    Ok(Filters {
        organization: (!caller.is_platform_admin).then_some(caller.organization_id),
        start: parse_time("start_time", q.start_time.as_deref(), false)?,
        end: parse_time("end_time", q.end_time.as_deref(), true)?,
        ..Filters::default()
    })
}

/// A user's audit history
///
/// Everything one user did, newest first.
#[utoipa::path(
    get,
    path = "/api/foundation/audit-logs/users/{user_id}",
    tag = "audit-logs",
    params(("user_id" = Uuid, Path, description = "The user's id"), HistoryQuery),
    responses(
        (status = 200, description = "A page of entries", body = Envelope<AuditPage<audit_log::Model>>),
        (status = 400, response = BadRequest),
        (status = 403, response = Forbidden),
    ),
    security(("bearer" = []))
)]
pub async fn by_user(
    State(state): State<AppState>,
    caller: Authorized<AuditView>,
    Path(user_id): Path<Uuid>,
    Query(q): Query<HistoryQuery>,
) -> ApiResult<Response> {
    let filters = Filters { user_id: Some(user_id), ..history(&caller, &q)? };
    let params = PageParams { page: q.page, size: q.size, page_size: q.page_size };
    page(&state, filters.condition(), (audit_log::Column::CreatedAt, true), params).await
}

/// A record's audit history
///
/// Everything done to one record, newest first.
#[utoipa::path(
    get,
    path = "/api/foundation/audit-logs/resources/{resource_type}/{resource_id}",
    tag = "audit-logs",
    params(("resource_type" = String, Path, description = "e.g. `user`, `organization`"), ("resource_id" = String, Path, description = "The record's id"), HistoryQuery),
    responses(
        (status = 200, description = "A page of entries", body = Envelope<AuditPage<audit_log::Model>>),
        (status = 400, response = BadRequest),
        (status = 403, response = Forbidden),
    ),
    security(("bearer" = []))
)]
pub async fn by_resource(
    State(state): State<AppState>,
    caller: Authorized<AuditView>,
    Path((resource_type, resource_id)): Path<(String, String)>,
    Query(q): Query<HistoryQuery>,
) -> ApiResult<Response> {
    let filters =
        Filters { resource_type: Some(resource_type), resource_id: Some(resource_id), ..history(&caller, &q)? };
    let params = PageParams { page: q.page, size: q.size, page_size: q.page_size };
    page(&state, filters.condition(), (audit_log::Column::CreatedAt, true), params).await
}

/// A caller presenting the shared secret `CRM_AUDIT_INGEST_TOKEN` in `X-Audit-Token`; checked
/// before the body is read, so strangers learn nothing from parse errors.
pub struct IngestCaller;

impl FromRequestParts<AppState> for IngestCaller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let Some(expected) = state.config.audit.ingest_token.as_deref() else {
            return Err(ApiError::Unavailable("audit ingest is not configured (CRM_AUDIT_INGEST_TOKEN)".into()));
        };
        let given = parts.headers.get(AUDIT_TOKEN_HEADER).map(|v| v.as_bytes()).unwrap_or_default();
        if bool::from(given.ct_eq(expected.as_bytes())) {
            Ok(Self)
        } else {
            Err(ApiError::unauthorized("invalid audit ingest token"))
        }
    }
}

/// Store audit events from a service
///
/// Events from the capture middleware of every service; storing an event twice is a no-op.
#[utoipa::path(
    post,
    path = "/api/foundation/audit-logs/ingest",
    tag = "audit-logs",
    request_body = crm_common::contracts::AuditBatch,
    responses(
        (status = 200, description = "How many events arrived and how many were new", body = Envelope<IngestResult>),
        (status = 400, response = BadRequest),
        (status = 401, response = crm_common::api::openapi::Unauthorized),
        (status = 503, response = Unavailable),
    ),
    security(("audit_token" = []))
)]
pub async fn ingest(
    State(state): State<AppState>,
    _: IngestCaller,
    Json(batch): Json<AuditBatch>,
) -> ApiResult<Response> {
    if batch.events.len() > MAX_BATCH {
        return Err(ApiError::field("events", format!("at most {MAX_BATCH} events per call")));
    }
    let stored = service::store(&state.db, &batch.events).await?;
    Ok(ok(IngestResult { received: batch.events.len(), stored }))
}
