use super::service;
use crate::AppState;
use crate::perm::AnalyticsView;
use axum::extract::State;
use axum::response::Response;
use crm_common::ApiResult;
use crm_common::api::openapi::{BadRequest, Forbidden};
use crm_common::api::{Envelope, Query, ok};
use crm_common::auth::Authorized;
use crm_common::stats::{OrganizationsSummary, StatsScope, UsersActivity};

/// Users' activity (internal)
///
/// The organization's users: how many, how many logged in within 30 days (active) and within 7
/// days (recent logins). For analytics-monitoring's `users/activity`.
#[utoipa::path(get, path = "/api/foundation/stats/users/activity", tag = "stats", params(StatsScope),
    responses((status = 200, description = "Counts", body = Envelope<UsersActivity>),
        (status = 400, response = BadRequest), (status = 403, response = Forbidden)),
    security(("bearer" = [])))]
pub async fn users_activity(
    State(state): State<AppState>,
    caller: Authorized<AnalyticsView>,
    Query(q): Query<StatsScope>,
) -> ApiResult<Response> {
    let org = caller.scope_org(q.organization_id)?;
    Ok(ok(service::users_activity(&state.db, org, chrono::Utc::now()).await?))
}

/// Organizations' summary (internal)
///
/// Organizations by type and how many are active (not locked). A caller who is not a platform
/// administrator sees their own organization only.
#[utoipa::path(get, path = "/api/foundation/stats/organizations/summary", tag = "stats", params(StatsScope),
    responses((status = 200, description = "Counts", body = Envelope<OrganizationsSummary>),
        (status = 400, response = BadRequest), (status = 403, response = Forbidden)),
    security(("bearer" = [])))]
pub async fn organizations_summary(
    State(state): State<AppState>,
    caller: Authorized<AnalyticsView>,
    Query(q): Query<StatsScope>,
) -> ApiResult<Response> {
    let org = caller.scope_org(q.organization_id)?;
    Ok(ok(service::organizations_summary(&state.db, org).await?))
}
