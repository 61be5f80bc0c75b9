use super::service;
use crate::AppState;
use crate::perm::AnalyticsView;
use axum::extract::State;
use axum::response::Response;
use chrono::Utc;
use crm_common::ApiResult;
use crm_common::api::openapi::{BadRequest, Forbidden};
use crm_common::api::{Envelope, Query, ok};
use crm_common::auth::Authorized;
use crm_common::stats::{CustomersSummary, DailyCounts, ServiceRecordStatistics, SinceScope, StatsScope};

/// Customers' summary (internal)
///
/// Customers by type and source, and how many are active (a service record created in the last
/// 30 days). For analytics-monitoring's `customers/summary`.
#[utoipa::path(get, path = "/api/service-management/stats/customers/summary", tag = "stats", params(StatsScope),
    responses((status = 200, description = "Counts", body = Envelope<CustomersSummary>),
        (status = 400, response = BadRequest), (status = 403, response = Forbidden)),
    security(("bearer" = [])))]
pub async fn customers_summary(
    State(state): State<AppState>,
    caller: Authorized<AnalyticsView>,
    Query(q): Query<StatsScope>,
) -> ApiResult<Response> {
    let org = caller.scope_org(q.organization_id)?;
    Ok(ok(service::customers_summary(&state.db, org, Utc::now()).await?))
}

/// Customers created per day (internal)
///
/// New customers per UTC day from `since`, and how many existed before it. For
/// analytics-monitoring's `customers/trend`.
#[utoipa::path(get, path = "/api/service-management/stats/customers/created", tag = "stats", params(SinceScope),
    responses((status = 200, description = "Counts per day", body = Envelope<DailyCounts>),
        (status = 400, response = BadRequest), (status = 403, response = Forbidden)),
    security(("bearer" = [])))]
pub async fn customers_created(
    State(state): State<AppState>,
    caller: Authorized<AnalyticsView>,
    Query(q): Query<SinceScope>,
) -> ApiResult<Response> {
    let since = crm_common::stats::check_day("since", q.since)?;
    let org = caller.scope_org(q.organization_id)?;
    Ok(ok(service::customers_created(&state.db, org, since).await?))
}

/// Service records' statistics (internal)
///
/// Service records by status and by priority. For analytics-monitoring's
/// `service-records/statistics`.
#[utoipa::path(get, path = "/api/service-management/stats/service-records", tag = "stats", params(StatsScope),
    responses((status = 200, description = "Counts", body = Envelope<ServiceRecordStatistics>),
        (status = 400, response = BadRequest), (status = 403, response = Forbidden)),
    security(("bearer" = [])))]
pub async fn service_records(
    State(state): State<AppState>,
    caller: Authorized<AnalyticsView>,
    Query(q): Query<StatsScope>,
) -> ApiResult<Response> {
    let org = caller.scope_org(q.organization_id)?;
    Ok(ok(service::service_records(&state.db, org).await?))
}
