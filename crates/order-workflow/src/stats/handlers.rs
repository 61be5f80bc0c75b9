use super::service;
use crate::AppState;
use crate::perm::AnalyticsView;
use axum::extract::State;
use axum::response::Response;
use chrono::NaiveDate;
use crm_common::api::openapi::{BadRequest, Forbidden};
use crm_common::api::{Envelope, Query, ok};
use crm_common::auth::Authorized;
use crm_common::stats::{DailyRevenue, Funnel, OpportunitiesSummary, OrdersSummary, SinceScope, StatsScope, check_day};
use crm_common::{ApiError, ApiResult};
use serde::Deserialize;
use utoipa::IntoParams;
use uuid::Uuid;

#[derive(Debug, Deserialize, IntoParams)]
pub struct OrdersRange {
    pub organization_id: Option<Uuid>,
    /// Orders created on or after this day (`YYYY-MM-DD`, UTC).
    pub start_date: Option<NaiveDate>,
    /// Orders created on or before this day.
    pub end_date: Option<NaiveDate>,
}

/// Orders' summary (internal)
///
/// Orders created in the range by status, and the sum of their final amounts (cancelled orders
/// excluded) in the reporting currency. For analytics-monitoring's `orders/summary`.
#[utoipa::path(get, path = "/api/order-workflow/stats/orders/summary", tag = "stats", params(OrdersRange),
    responses((status = 200, description = "Counts and amount", body = Envelope<OrdersSummary>),
        (status = 400, response = BadRequest), (status = 403, response = Forbidden)),
    security(("bearer" = [])))]
pub async fn orders_summary(
    State(state): State<AppState>,
    caller: Authorized<AnalyticsView>,
    Query(q): Query<OrdersRange>,
) -> ApiResult<Response> {
    let org = caller.scope_org(q.organization_id)?;
    let start = q.start_date.map(|d| check_day("start_date", d)).transpose()?;
    let end = q.end_date.map(|d| check_day("end_date", d)).transpose()?;
    if let (Some(s), Some(e)) = (start, end)
        && s > e
    {
        return Err(ApiError::field("start_date", "must not be after end_date"));
    }
    Ok(ok(service::orders_summary(&state.db, org, start, end).await?))
}

/// Revenue per day (internal)
///
/// Paid payment stages on the day they were paid, and completed orders without payment stages on
/// the day they completed, per UTC day from `since`, in the reporting currency. For
/// analytics-monitoring's `orders/revenue`.
#[utoipa::path(get, path = "/api/order-workflow/stats/orders/revenue", tag = "stats", params(SinceScope),
    responses((status = 200, description = "Revenue per day", body = Envelope<DailyRevenue>),
        (status = 400, response = BadRequest), (status = 403, response = Forbidden)),
    security(("bearer" = [])))]
pub async fn revenue(
    State(state): State<AppState>,
    caller: Authorized<AnalyticsView>,
    Query(q): Query<SinceScope>,
) -> ApiResult<Response> {
    let since = check_day("since", q.since)?;
    let org = caller.scope_org(q.organization_id)?;
    Ok(ok(service::revenue(&state.db, org, since).await?))
}

/// Opportunities' summary (internal)
///
/// Opportunities by status with their amounts. For analytics-monitoring's
/// `opportunities/summary`.
#[utoipa::path(get, path = "/api/order-workflow/stats/opportunities/summary", tag = "stats", params(StatsScope),
    responses((status = 200, description = "Counts and amounts", body = Envelope<OpportunitiesSummary>),
        (status = 400, response = BadRequest), (status = 403, response = Forbidden)),
    security(("bearer" = [])))]
pub async fn opportunities_summary(
    State(state): State<AppState>,
    caller: Authorized<AnalyticsView>,
    Query(q): Query<StatsScope>,
) -> ApiResult<Response> {
    let org = caller.scope_org(q.organization_id)?;
    Ok(ok(service::opportunities_summary(&state.db, org).await?))
}

/// The sales funnel (internal)
///
/// Opportunities per stage, in the stages' order, with their amounts. For analytics-monitoring's
/// `opportunities/funnel`.
#[utoipa::path(get, path = "/api/order-workflow/stats/opportunities/funnel", tag = "stats", params(StatsScope),
    responses((status = 200, description = "Counts and amounts per stage", body = Envelope<Funnel>),
        (status = 400, response = BadRequest), (status = 403, response = Forbidden)),
    security(("bearer" = [])))]
pub async fn funnel(
    State(state): State<AppState>,
    caller: Authorized<AnalyticsView>,
    Query(q): Query<StatsScope>,
) -> ApiResult<Response> {
    let org = caller.scope_org(q.organization_id)?;
    Ok(ok(service::funnel(&state.db, org).await?))
}
