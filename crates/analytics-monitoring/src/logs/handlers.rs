use super::dto::{LogPageView, LogRecordView, LogStatistics, QueryBody, QueryParams, StatisticsParams, TimeRange};
use crate::AppState;
use crate::perm::{LogsView, require_platform};
use axum::extract::State;
use axum::response::Response;
use crm_common::api::openapi::{BadRequest, Forbidden, Unavailable};
use crm_common::api::{Envelope, Json, Query, ok};
use crm_common::auth::Authorized;
use crm_common::logstore::{LogQuery, LogStore, LogStoreError};
use crm_common::{ApiError, ApiResult};

fn store(state: &AppState) -> ApiResult<&LogStore> {
    state.logs.as_ref().ok_or_else(|| ApiError::Unavailable("the log store is unavailable".into()))
}

fn store_error(err: LogStoreError) -> ApiError {
    tracing::warn!(error = %err, "log store query failed");
    ApiError::Unavailable("the log store is unavailable".into())
}

async fn search(state: &AppState, query: LogQuery) -> ApiResult<Response> {
    let page = store(state)?.query(&query).await.map_err(store_error)?;
    let logs = page
        .logs
        .into_iter()
        .map(|r| LogRecordView {
            id: r.id,
            timestamp: r.timestamp,
            level: r.level,
            message: r.message,
            service: r.service,
            name: r.name,
            function: r.function,
            line: r.line,
            file: r.file,
            module: r.module,
            thread: r.thread,
            process: r.process,
            exception: r.exception,
            extra: r.extra,
        })
        .collect();
    Ok(ok(LogPageView {
        logs,
        total: page.total,
        page: page.page,
        page_size: page.page_size,
        total_pages: page.total_pages,
    }))
}

/// Search the logs
///
/// Records matching every filter given, newest first, one page of them with the exact total.
/// Empty `services` or `levels` match all; `keyword`, `file` and `function` match a part,
/// ignoring case.
#[utoipa::path(post, path = "/api/analytics-monitoring/logs/query", tag = "logs", request_body = QueryBody,
    responses((status = 200, description = "A page of records", body = Envelope<LogPageView>),
        (status = 400, response = BadRequest), (status = 403, response = Forbidden),
        (status = 503, response = Unavailable)),
    security(("bearer" = [])))]
pub async fn query_post(
    State(state): State<AppState>,
    caller: Authorized<LogsView>,
    Json(body): Json<QueryBody>,
) -> ApiResult<Response> {
    require_platform(&caller, "log search")?;
    search(&state, body.into_query()?).await
}

/// Search the logs (query parameters)
///
/// As `POST /logs/query`, with `services` and `levels` comma-separated: for a browser.
#[utoipa::path(get, path = "/api/analytics-monitoring/logs/query", tag = "logs", params(QueryParams),
    responses((status = 200, description = "A page of records", body = Envelope<LogPageView>),
        (status = 400, response = BadRequest), (status = 403, response = Forbidden),
        (status = 503, response = Unavailable)),
    security(("bearer" = [])))]
pub async fn query_get(
    State(state): State<AppState>,
    caller: Authorized<LogsView>,
    Query(params): Query<QueryParams>,
) -> ApiResult<Response> {
    require_platform(&caller, "log search")?;
    search(&state, QueryBody::from(params).into_query()?).await
}

/// Log statistics
///
/// Records per level and per service in the range, counted in the database.
#[utoipa::path(get, path = "/api/analytics-monitoring/logs/statistics", tag = "logs", params(StatisticsParams),
    responses((status = 200, description = "The counts", body = Envelope<LogStatistics>),
        (status = 400, response = BadRequest), (status = 403, response = Forbidden),
        (status = 503, response = Unavailable)),
    security(("bearer" = [])))]
pub async fn statistics(
    State(state): State<AppState>,
    caller: Authorized<LogsView>,
    Query(params): Query<StatisticsParams>,
) -> ApiResult<Response> {
    require_platform(&caller, "log statistics")?;
    let query = params.into_query()?;
    let counts = store(&state)?.statistics(&query).await.map_err(store_error)?;
    Ok(ok(LogStatistics {
        total_logs: counts.total_logs,
        by_level: counts.by_level,
        by_service: counts.by_service,
        error_count: counts.error_count,
        warning_count: counts.warning_count,
        time_range: TimeRange { start: query.start_time, end: query.end_time },
    }))
}
