use super::dto::{CustomerTrend, OrdersParams, Revenue, RevenueParams, Scope, TrendParams};
use super::rules;
use crate::AppState;
use crate::flight::Freshness;
use crate::perm::AnalyticsView;
use axum::extract::State;
use axum::http::HeaderValue;
use axum::response::Response;
use chrono::{NaiveDate, Utc};
use crm_common::api::openapi::{BadRequest, Forbidden, Unavailable};
use crm_common::api::{Envelope, Query, ok};
use crm_common::auth::Authorized;
use crm_common::http::peer::{Forward, PeerClient};
use crm_common::stats::{
    CustomersSummary, DailyCounts, DailyRevenue, Funnel, OpportunitiesSummary, OrdersSummary, OrganizationsSummary,
    Period, ServiceRecordStatistics, UsersActivity,
};
use crm_common::{ApiError, ApiResult};
use serde::de::DeserializeOwned;
use uuid::Uuid;

/// The answer with `X-Cache: hit|miss|stale`; a stale one also says so in its message and in
/// `X-Analytics-Computed-At`, when it was computed.
fn answer(cached: crate::flight::Cached, freshness: Freshness) -> Response {
    let mut response = ok(cached.data);
    let headers = response.headers_mut();
    headers.insert("x-cache", HeaderValue::from_static(freshness.as_str()));
    if let Ok(v) = HeaderValue::from_str(&cached.computed_at.to_rfc3339()) {
        headers.insert("x-analytics-computed-at", v);
    }
    response
}

fn org_key(org: Option<Uuid>) -> String {
    org.map_or_else(|| "all".into(), |o| o.to_string())
}

/// `path` with the scope the caller asked for (the owner scopes it again, by the same rule).
fn scoped(path: &str, requested: Option<Uuid>, extra: &[(&str, String)]) -> String {
    let mut query = form_query(extra);
    if let Some(org) = requested {
        if !query.is_empty() {
            query.push('&');
        }
        query.push_str(&format!("organization_id={org}"));
    }
    if query.is_empty() { path.to_owned() } else { format!("{path}?{query}") }
}

fn form_query(pairs: &[(&str, String)]) -> String {
    pairs.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("&")
}

/// One owner's aggregate, cached under `key`.
async fn cached<T: DeserializeOwned + serde::Serialize>(
    state: &AppState,
    key: String,
    peer: &PeerClient,
    path: String,
    forward: &Forward,
) -> ApiResult<Response> {
    let path = path.as_str();
    let (value, freshness) = state
        .analytics
        .get_or_compute(&key, move || async move {
            let data: T = peer.get(path, forward).await?;
            Ok(serde_json::to_value(data)?)
        })
        .await?;
    Ok(answer(value, freshness))
}

fn period(raw: Option<&str>, default: Period) -> ApiResult<Period> {
    match raw.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(default),
        Some(p) => Period::parse(p).ok_or_else(|| ApiError::field("period", "must be day, week or month")),
    }
}

fn today() -> NaiveDate {
    Utc::now().date_naive()
}

/// Customers' summary
///
/// Customers by type (`individual`, `organization`) and source (`own`, `agent`), and how many are
/// active: with a service record created in the last 30 days. Cached five minutes.
#[utoipa::path(get, path = "/api/analytics-monitoring/analytics/customers/summary", tag = "analytics", params(Scope),
    responses((status = 200, description = "The summary", body = Envelope<CustomersSummary>),
        (status = 400, response = BadRequest), (status = 403, response = Forbidden), (status = 503, response = Unavailable)),
    security(("bearer" = [])))]
pub async fn customers_summary(
    State(state): State<AppState>,
    caller: Authorized<AnalyticsView>,
    forward: Forward,
    Query(q): Query<Scope>,
) -> ApiResult<Response> {
    let org = caller.scope_org(q.organization_id)?;
    let path = scoped("/api/service-management/stats/customers/summary", q.organization_id, &[]);
    let key = format!("customers:summary:{}", org_key(org));
    cached::<CustomersSummary>(&state, key, &state.service_management, path, &forward).await
}

/// Customers' growth trend
///
/// New customers per bucket and the running total: `day` — the last 30 days (`YYYY-MM-DD`),
/// `week` — the last 12 ISO weeks (`YYYY-WW`), `month` — the last 12 months (`YYYY-MM`). Cached
/// five minutes.
#[utoipa::path(get, path = "/api/analytics-monitoring/analytics/customers/trend", tag = "analytics", params(TrendParams),
    responses((status = 200, description = "The trend", body = Envelope<CustomerTrend>),
        (status = 400, response = BadRequest), (status = 403, response = Forbidden), (status = 503, response = Unavailable)),
    security(("bearer" = [])))]
pub async fn customers_trend(
    State(state): State<AppState>,
    caller: Authorized<AnalyticsView>,
    forward: Forward,
    Query(q): Query<TrendParams>,
) -> ApiResult<Response> {
    let period = period(q.period.as_deref(), Period::Day)?;
    let org = caller.scope_org(q.organization_id)?;
    let today = today();
    let since = period.window_start(today);
    let path =
        scoped("/api/service-management/stats/customers/created", q.organization_id, &[("since", since.to_string())]);
    let key = format!("customers:trend:{}:{}:{today}", period.as_str(), org_key(org));
    let (peer, path, forward) = (&state.service_management, path.as_str(), &forward);
    let (value, freshness) = state
        .analytics
        .get_or_compute(&key, move || async move {
            let counts: DailyCounts = peer.get(path, forward).await?;
            Ok(serde_json::to_value(rules::trend(period, today, &counts))?)
        })
        .await?;
    Ok(answer(value, freshness))
}

/// Orders' summary
///
/// Orders created in the optional range (`start_date`, `end_date`, inclusive) by status, and the
/// sum of their final amounts (cancelled orders excluded) in `currency_code`, each order
/// converted at its own exchange rate. Cached five minutes per range.
#[utoipa::path(get, path = "/api/analytics-monitoring/analytics/orders/summary", tag = "analytics", params(OrdersParams),
    responses((status = 200, description = "The summary", body = Envelope<OrdersSummary>),
        (status = 400, response = BadRequest), (status = 403, response = Forbidden), (status = 503, response = Unavailable)),
    security(("bearer" = [])))]
pub async fn orders_summary(
    State(state): State<AppState>,
    caller: Authorized<AnalyticsView>,
    forward: Forward,
    Query(q): Query<OrdersParams>,
) -> ApiResult<Response> {
    for (field, day) in [("start_date", q.start_date), ("end_date", q.end_date)] {
        if let Some(day) = day {
            crm_common::stats::check_day(field, day)?;
        }
    }
    if let (Some(s), Some(e)) = (q.start_date, q.end_date)
        && s > e
    {
        return Err(ApiError::field("start_date", "must not be after end_date"));
    }
    let org = caller.scope_org(q.organization_id)?;
    let mut extra = Vec::new();
    if let Some(s) = q.start_date {
        extra.push(("start_date", s.to_string()));
    }
    if let Some(e) = q.end_date {
        extra.push(("end_date", e.to_string()));
    }
    let path = scoped("/api/order-workflow/stats/orders/summary", q.organization_id, &extra);
    let range = |d: Option<NaiveDate>| d.map_or_else(String::new, |d| d.to_string());
    let key = format!("orders:summary:{}:{}:{}", org_key(org), range(q.start_date), range(q.end_date));
    cached::<OrdersSummary>(&state, key, &state.order_workflow, path, &forward).await
}

/// Revenue
///
/// Revenue per bucket (the customer trend's windows; `month` by default) and the window's total,
/// in `currency_code`: paid payment stages on the day they were paid, and completed orders without
/// payment stages on the day they completed, converted at each order's exchange rate. Cached five
/// minutes.
#[utoipa::path(get, path = "/api/analytics-monitoring/analytics/orders/revenue", tag = "analytics", params(RevenueParams),
    responses((status = 200, description = "The revenue", body = Envelope<Revenue>),
        (status = 400, response = BadRequest), (status = 403, response = Forbidden), (status = 503, response = Unavailable)),
    security(("bearer" = [])))]
pub async fn orders_revenue(
    State(state): State<AppState>,
    caller: Authorized<AnalyticsView>,
    forward: Forward,
    Query(q): Query<RevenueParams>,
) -> ApiResult<Response> {
    let period = period(q.period.as_deref(), Period::Month)?;
    let org = caller.scope_org(q.organization_id)?;
    let today = today();
    let since = period.window_start(today);
    let path = scoped("/api/order-workflow/stats/orders/revenue", q.organization_id, &[("since", since.to_string())]);
    let key = format!("revenue:{}:{}:{today}", period.as_str(), org_key(org));
    let (peer, path, forward) = (&state.order_workflow, path.as_str(), &forward);
    let (value, freshness) = state
        .analytics
        .get_or_compute(&key, move || async move {
            let daily: DailyRevenue = peer.get(path, forward).await?;
            Ok(serde_json::to_value(rules::revenue(period, today, &daily))?)
        })
        .await?;
    Ok(answer(value, freshness))
}

/// Service records' statistics
///
/// Service records by status and by priority. Cached five minutes.
#[utoipa::path(get, path = "/api/analytics-monitoring/analytics/service-records/statistics", tag = "analytics",
    params(Scope),
    responses((status = 200, description = "The statistics", body = Envelope<ServiceRecordStatistics>),
        (status = 400, response = BadRequest), (status = 403, response = Forbidden), (status = 503, response = Unavailable)),
    security(("bearer" = [])))]
pub async fn service_records(
    State(state): State<AppState>,
    caller: Authorized<AnalyticsView>,
    forward: Forward,
    Query(q): Query<Scope>,
) -> ApiResult<Response> {
    let org = caller.scope_org(q.organization_id)?;
    let path = scoped("/api/service-management/stats/service-records", q.organization_id, &[]);
    let key = format!("service_records:statistics:{}", org_key(org));
    cached::<ServiceRecordStatistics>(&state, key, &state.service_management, path, &forward).await
}

/// Users' activity
///
/// The organization's users; active ones logged in within 30 days, `recent_login_count` within 7.
/// Cached five minutes.
#[utoipa::path(get, path = "/api/analytics-monitoring/analytics/users/activity", tag = "analytics", params(Scope),
    responses((status = 200, description = "The activity", body = Envelope<UsersActivity>),
        (status = 400, response = BadRequest), (status = 403, response = Forbidden), (status = 503, response = Unavailable)),
    security(("bearer" = [])))]
pub async fn users_activity(
    State(state): State<AppState>,
    caller: Authorized<AnalyticsView>,
    forward: Forward,
    Query(q): Query<Scope>,
) -> ApiResult<Response> {
    let org = caller.scope_org(q.organization_id)?;
    let path = scoped("/api/foundation/stats/users/activity", q.organization_id, &[]);
    let key = format!("users:activity:{}", org_key(org));
    cached::<UsersActivity>(&state, key, &state.foundation, path, &forward).await
}

/// Organizations' summary
///
/// Organizations by type (`internal`, `vendor`, `agent`) and how many are active; a caller who is
/// not a platform administrator sees their own organization. Cached five minutes.
#[utoipa::path(get, path = "/api/analytics-monitoring/analytics/organizations/summary", tag = "analytics", params(Scope),
    responses((status = 200, description = "The summary", body = Envelope<OrganizationsSummary>),
        (status = 400, response = BadRequest), (status = 403, response = Forbidden), (status = 503, response = Unavailable)),
    security(("bearer" = [])))]
pub async fn organizations_summary(
    State(state): State<AppState>,
    caller: Authorized<AnalyticsView>,
    forward: Forward,
    Query(q): Query<Scope>,
) -> ApiResult<Response> {
    let org = caller.scope_org(q.organization_id)?;
    let path = scoped("/api/foundation/stats/organizations/summary", q.organization_id, &[]);
    let key = format!("organizations:summary:{}", org_key(org));
    cached::<OrganizationsSummary>(&state, key, &state.foundation, path, &forward).await
}

/// Opportunities' summary
///
/// Opportunities by status with their amounts, the total and the amount won (seed 003's deals
/// summary). Cached five minutes.
#[utoipa::path(get, path = "/api/analytics-monitoring/analytics/opportunities/summary", tag = "analytics", params(Scope),
    responses((status = 200, description = "The summary", body = Envelope<OpportunitiesSummary>),
        (status = 400, response = BadRequest), (status = 403, response = Forbidden), (status = 503, response = Unavailable)),
    security(("bearer" = [])))]
pub async fn opportunities_summary(
    State(state): State<AppState>,
    caller: Authorized<AnalyticsView>,
    forward: Forward,
    Query(q): Query<Scope>,
) -> ApiResult<Response> {
    let org = caller.scope_org(q.organization_id)?;
    let path = scoped("/api/order-workflow/stats/opportunities/summary", q.organization_id, &[]);
    let key = format!("opportunities:summary:{}", org_key(org));
    cached::<OpportunitiesSummary>(&state, key, &state.order_workflow, path, &forward).await
}

/// The sales funnel
///
/// Opportunities per stage, `initial_contact` → … → `closed_won` / `closed_lost`, with their
/// amounts (seed 003's deals funnel). Cached five minutes.
#[utoipa::path(get, path = "/api/analytics-monitoring/analytics/opportunities/funnel", tag = "analytics", params(Scope),
    responses((status = 200, description = "The funnel", body = Envelope<Funnel>),
        (status = 400, response = BadRequest), (status = 403, response = Forbidden), (status = 503, response = Unavailable)),
    security(("bearer" = [])))]
pub async fn opportunities_funnel(
    State(state): State<AppState>,
    caller: Authorized<AnalyticsView>,
    forward: Forward,
    Query(q): Query<Scope>,
) -> ApiResult<Response> {
    let org = caller.scope_org(q.organization_id)?;
    let path = scoped("/api/order-workflow/stats/opportunities/funnel", q.organization_id, &[]);
    let key = format!("opportunities:funnel:{}", org_key(org));
    cached::<Funnel>(&state, key, &state.order_workflow, path, &forward).await
}
