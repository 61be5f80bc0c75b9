use super::dto::{BatchResult, ChangesPage, ChangesQuery, MAX_BATCH_ITEMS, SyncBatch};
use super::{batch, changes, service};
use crate::AppState;
use crate::customers::service::Viewer;
use crate::perm::{CustomerUpdate, CustomerView};
use axum::extract::State;
use axum::response::Response;
use crm_common::api::openapi::{BadRequest, Forbidden};
use crm_common::api::{Envelope, Json, Query, ok};
use crm_common::auth::Authorized;
use crm_common::http::peer::Forward;
use crm_common::{ApiError, ApiResult};

/// Apply offline changes
///
/// Each item is applied on its own, in the order sent (a follow-up may follow its new
/// customer), with the API's rules and permissions; a failing item does not stop the others.
/// An upsert creates the record under the client's id or updates it if `base_version` is
/// current (any version with `force`); data equal to the server's is `unchanged` and writes
/// nothing, so a batch may be replayed. A stale `base_version` is a `conflict` carrying the
/// server's copy and the differing fields.
#[utoipa::path(post, path = "/api/service-management/sync/batch", tag = "sync", request_body = SyncBatch,
    responses((status = 200, description = "One result per item and the cursor after the batch", body = Envelope<BatchResult>),
        (status = 400, response = BadRequest), (status = 403, response = Forbidden)),
    security(("bearer" = [])))]
pub async fn batch(
    State(state): State<AppState>,
    caller: Authorized<CustomerUpdate>,
    forward: Forward,
    Json(body): Json<SyncBatch>,
) -> ApiResult<Response> {
    if body.items.len() > MAX_BATCH_ITEMS {
        return Err(ApiError::field("items", format!("at most {MAX_BATCH_ITEMS} items per batch")));
    }
    let mut results = Vec::with_capacity(body.items.len());
    for item in body.items {
        results.push(batch::apply(&state, &forward, &caller, item, body.force).await);
    }
    let cursor = service::current_seq(&state.db, caller.organization_id).await?;
    Ok(ok(BatchResult { results, cursor }))
}

/// Changes since a cursor
///
/// Customers and follow-ups (at their latest state) and deletions with a change number above
/// `since`, in change-number order, only those the caller may see. Continue from `cursor` while
/// `has_more`; the cursor never skips a change made concurrently.
#[utoipa::path(get, path = "/api/service-management/sync/changes", tag = "sync", params(ChangesQuery),
    responses((status = 200, description = "A page of changes", body = Envelope<ChangesPage>),
        (status = 400, response = BadRequest), (status = 403, response = Forbidden)),
    security(("bearer" = [])))]
pub async fn changes(
    State(state): State<AppState>,
    caller: Authorized<CustomerView>,
    forward: Forward,
    Query(q): Query<ChangesQuery>,
) -> ApiResult<Response> {
    let since = q.since.unwrap_or(0);
    if since < 0 {
        return Err(ApiError::field("since", "must be a cursor of this endpoint (0 or more)"));
    }
    let limit = q.limit.unwrap_or(200);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::field("limit", "must be between 1 and 1000"));
    }
    Ok(ok(changes::changes(&state, &forward, &Viewer::of(&caller), since, limit).await?))
}
