use super::dto::{AuditPage, HistoryQuery, ListAudit};
use super::model as audit_log;
use super::service::{self, Filters, MAX_BATCH, order_column, parse_time};
use crate::AppState;
use crate::perm::AuditView;
use axum::extract::FromRequestParts;
use axum::extract::State;
use axum::http::request::Parts;
use axum::response::Response;
use crm_common::api::{Json, PageParams, Path, Query, ok};
use crm_common::auth::{Authorized, Principal};
use crm_common::contracts::{AUDIT_TOKEN_HEADER, AuditBatch};
use crm_common::{ApiError, ApiResult};
use sea_orm::{Condition, EntityTrait, Order, PaginatorTrait, QueryFilter, QueryOrder};
use serde_json::json;
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

/// Events from the capture middleware of every service; storing an event twice is a no-op.
pub async fn ingest(
    State(state): State<AppState>,
    _: IngestCaller,
    Json(batch): Json<AuditBatch>,
) -> ApiResult<Response> {
    if batch.events.len() > MAX_BATCH {
        return Err(ApiError::field("events", format!("at most {MAX_BATCH} events per call")));
    }
    let stored = service::store(&state.db, &batch.events).await?;
    Ok(ok(json!({ "received": batch.events.len(), "stored": stored })))
}
