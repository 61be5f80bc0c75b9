use super::dto::{
    AssignOpportunity, CreateOpportunity, DependencyCheck, ListOpportunities, OpportunityItem, OpportunityOrderStep,
    OpportunityStageChange, OpportunityStatusChange, UpdateOpportunity,
};
use super::lines;
use super::model::opportunity;
use super::rules;
use super::service::{self, Viewer};
use crate::AppState;
use crate::perm::{OpportunityCreate, OpportunityList, OpportunityUpdate, OpportunityView};
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use crm_common::api::openapi::{BadRequest, Conflict, Forbidden, NoData, NotFound, Unavailable};
use crm_common::api::patch::clean;
use crm_common::api::validate::Validator;
use crm_common::api::{Envelope, Json, PageParams, Path, Query, RecordsPage, ok};
use crm_common::auth::Authorized;
use crm_common::db::contains_ci;
use crm_common::http::audit::with_before;
use crm_common::http::peer::Forward;
use crm_common::{ApiError, ApiResult};
use rust_decimal::Decimal;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect};
use std::str::FromStr;
use uuid::Uuid;

fn with_warnings(mut item: OpportunityItem, warnings: Vec<String>, products_sent: bool) -> OpportunityItem {
    if products_sent {
        item.warnings = Some(warnings);
    }
    item
}

/// Create an opportunity
///
/// The organization is the caller's; the owner defaults to the caller. Products must exist in
/// service-management and bring their `required` dependencies along (400 listing "A requires B");
/// missing `recommended` ones are answered as `warnings`. Their names and codes are copied, and
/// missing execution orders follow the dependency order (`auto_calculate_order`). Answers 200,
/// which the admin frontend needs (the original answered 201).
#[utoipa::path(post, path = "/api/order-workflow/opportunities", tag = "opportunities", request_body = CreateOpportunity,
    responses((status = 200, description = "The new opportunity", body = Envelope<OpportunityItem>), (status = 400, response = BadRequest),
        (status = 403, response = Forbidden), (status = 404, response = NotFound), (status = 409, response = Conflict),
        (status = 503, response = Unavailable)),
    security(("bearer" = [])))]
pub async fn create(
    State(state): State<AppState>,
    caller: Authorized<OpportunityCreate>,
    forward: Forward,
    Json(body): Json<CreateOpportunity>,
) -> ApiResult<Response> {
    let products_sent = !body.products.is_empty();
    let (saved, warnings) = service::create(&state, &forward, &caller, body).await?;
    let item = service::one(&state, &forward, saved).await?;
    Ok(ok(with_warnings(item, warnings, products_sent)))
}

fn amount_param(field: &str, value: Option<String>) -> ApiResult<Option<Decimal>> {
    clean(value).map(|s| Decimal::from_str(&s).map_err(|_| ApiError::field(field, "must be a number"))).transpose()
}

/// List opportunities
///
/// Newest first. Administrators see the organization's opportunities; everyone else their own
/// (`owner_user_id=<self>` is the "my opportunities" view).
#[utoipa::path(get, path = "/api/order-workflow/opportunities", tag = "opportunities", params(ListOpportunities),
    responses((status = 200, description = "A page of opportunities", body = Envelope<RecordsPage<OpportunityItem>>),
        (status = 400, response = BadRequest), (status = 403, response = Forbidden)),
    security(("bearer" = [])))]
pub async fn list(
    State(state): State<AppState>,
    caller: Authorized<OpportunityList>,
    forward: Forward,
    Query(q): Query<ListOpportunities>,
) -> ApiResult<Response> {
    let viewer = Viewer::of(&caller);
    let (page, size) = PageParams { page: q.page, size: q.size, page_size: q.page_size }.resolve(20, 100)?;
    Validator::new()
        .one_of("stage", q.stage.as_deref(), rules::STAGES)
        .one_of("status", q.status.as_deref(), rules::STATUSES)
        .finish()?;
    let min = amount_param("min_amount", q.min_amount)?;
    let max = amount_param("max_amount", q.max_amount)?;
    let mut cond = viewer.condition();
    if let Some(o) = q.owner_user_id {
        cond = cond.add(opportunity::Column::OwnerUserId.eq(o));
    }
    if let Some(c) = q.customer_id {
        cond = cond.add(opportunity::Column::CustomerId.eq(c));
    }
    if let Some(s) = q.stage {
        cond = cond.add(opportunity::Column::Stage.eq(s));
    }
    if let Some(s) = q.status {
        cond = cond.add(opportunity::Column::Status.eq(s));
    }
    if let Some(n) = clean(q.name) {
        cond = cond.add(contains_ci(opportunity::Column::Name, &n));
    }
    if let Some(m) = min {
        cond = cond.add(opportunity::Column::Amount.gte(m));
    }
    if let Some(m) = max {
        cond = cond.add(opportunity::Column::Amount.lte(m));
    }
    let total = opportunity::Entity::find().filter(cond.clone()).count(&state.db).await?;
    let rows = opportunity::Entity::find()
        .filter(cond)
        .order_by_desc(opportunity::Column::CreatedAt)
        .order_by_desc(opportunity::Column::Id)
        .offset((page - 1) * size)
        .limit(size)
        .all(&state.db)
        .await?;
    let records = service::items(&state, &forward, rows, false).await?;
    Ok(ok(RecordsPage::new(records, total, page, size)))
}

/// An opportunity
///
/// With its products (in execution order) and payment stages (by number).
#[utoipa::path(get, path = "/api/order-workflow/opportunities/{id}", tag = "opportunities", params(("id" = Uuid, Path)),
    responses((status = 200, description = "The opportunity", body = Envelope<OpportunityItem>), (status = 403, response = Forbidden),
        (status = 404, response = NotFound)),
    security(("bearer" = [])))]
pub async fn get(
    State(state): State<AppState>,
    caller: Authorized<OpportunityView>,
    forward: Forward,
    Path(id): Path<Uuid>,
) -> ApiResult<Response> {
    let o = service::find_visible(&state.db, &Viewer::of(&caller), id).await?;
    Ok(ok(service::one(&state, &forward, o).await?))
}

/// Update an opportunity
///
/// Absent fields are kept, `null` clears. Stage and status move together (a closed stage sets
/// its outcome and the close date, an open one makes it active again; of the two sent in
/// disagreement the one that changed decides, and both changed into a contradiction is a 400).
/// `products` and `payment_stages`, when sent, replace the stored ones. With `version` in the
/// body (or `If-Match`), an opportunity changed since answers 409 with its current state.
#[utoipa::path(put, path = "/api/order-workflow/opportunities/{id}", tag = "opportunities", params(("id" = Uuid, Path)),
    request_body = UpdateOpportunity,
    responses((status = 200, description = "The opportunity as updated", body = Envelope<OpportunityItem>),
        (status = 400, response = BadRequest), (status = 403, response = Forbidden), (status = 404, response = NotFound),
        (status = 409, response = Conflict), (status = 503, response = Unavailable)),
    security(("bearer" = [])))]
pub async fn update(
    State(state): State<AppState>,
    caller: Authorized<OpportunityUpdate>,
    forward: Forward,
    headers: HeaderMap,
    Path(id): Path<Uuid>,
    Json(body): Json<UpdateOpportunity>,
) -> ApiResult<Response> {
    let expected = crm_common::api::patch::expected_version(&headers, body.version)?;
    let products_sent = body.products.is_some();
    let (before, after, warnings) = service::update(&state, &forward, &caller, id, body, expected).await?;
    let item = with_warnings(service::one(&state, &forward, after).await?, warnings, products_sent);
    Ok(with_before(ok(item), &service::one(&state, &forward, before).await?))
}

/// Delete an opportunity
///
/// Its products, payment stages, follow-ups and notes go with it. Administrators delete any of
/// the organization's; others their own.
#[utoipa::path(delete, path = "/api/order-workflow/opportunities/{id}", tag = "opportunities", params(("id" = Uuid, Path)),
    responses((status = 200, description = "Deleted", body = Envelope<NoData>), (status = 403, response = Forbidden),
        (status = 404, response = NotFound)),
    security(("bearer" = [])))]
pub async fn delete(
    State(state): State<AppState>,
    caller: Authorized<OpportunityUpdate>,
    Path(id): Path<Uuid>,
) -> ApiResult<Response> {
    let before = service::delete(&state, &caller, id).await?;
    Ok(with_before(ok(()), &serde_json::json!({"id": before.id, "name": before.name})))
}

async fn moved(
    state: &AppState,
    forward: &Forward,
    caller: &crm_common::auth::Principal,
    id: Uuid,
    stage: Option<&str>,
    status: Option<&str>,
) -> ApiResult<Response> {
    let (before, after) = service::move_to(state, forward, caller, id, stage, status).await?;
    let item = service::one(state, forward, after).await?;
    let was = serde_json::json!({"id": before.id, "stage": before.stage, "status": before.status});
    Ok(with_before(ok(item), &was))
}

/// Move an opportunity to a stage
///
/// The board's move. A closed stage sets the matching status (`closed_won` → `won`,
/// `closed_lost` → `lost`) and the close date; an open stage makes the deal active again. Served
/// at the original's `PUT …/stage` and the admin frontend's `POST …/update-stage`.
#[utoipa::path(put, path = "/api/order-workflow/opportunities/{id}/stage", tag = "opportunities", params(("id" = Uuid, Path)),
    request_body = OpportunityStageChange,
    responses((status = 200, description = "The opportunity at its new stage", body = Envelope<OpportunityItem>),
        (status = 400, response = BadRequest), (status = 403, response = Forbidden), (status = 404, response = NotFound)),
    security(("bearer" = [])))]
pub async fn stage(
    State(state): State<AppState>,
    caller: Authorized<OpportunityUpdate>,
    forward: Forward,
    Path(id): Path<Uuid>,
    Json(body): Json<OpportunityStageChange>,
) -> ApiResult<Response> {
    moved(&state, &forward, &caller, id, Some(&body.stage), None).await
}

/// Move an opportunity to a stage (the admin frontend's path)
///
/// The same as `PUT /opportunities/{id}/stage`.
#[utoipa::path(post, path = "/api/order-workflow/opportunities/{id}/update-stage", tag = "opportunities",
    params(("id" = Uuid, Path)), request_body = OpportunityStageChange,
    responses((status = 200, description = "The opportunity at its new stage", body = Envelope<OpportunityItem>),
        (status = 400, response = BadRequest), (status = 403, response = Forbidden), (status = 404, response = NotFound)),
    security(("bearer" = [])))]
pub async fn update_stage(
    state: State<AppState>,
    caller: Authorized<OpportunityUpdate>,
    forward: Forward,
    id: Path<Uuid>,
    body: Json<OpportunityStageChange>,
) -> ApiResult<Response> {
    stage(state, caller, forward, id, body).await
}

/// Set an opportunity's status
///
/// The deal funnel's outcome: `won`/`lost` close the deal at the matching stage and date it,
/// `active` reopens a closed one (at `negotiation`), `cancelled` drops an open one where it stands
/// (a closed one must be reopened first: 409).
#[utoipa::path(patch, path = "/api/order-workflow/opportunities/{id}/status", tag = "opportunities",
    params(("id" = Uuid, Path)), request_body = OpportunityStatusChange,
    responses((status = 200, description = "The opportunity with its new status", body = Envelope<OpportunityItem>),
        (status = 400, response = BadRequest), (status = 403, response = Forbidden), (status = 404, response = NotFound),
        (status = 409, response = Conflict)),
    security(("bearer" = [])))]
pub async fn status(
    State(state): State<AppState>,
    caller: Authorized<OpportunityUpdate>,
    forward: Forward,
    Path(id): Path<Uuid>,
    Json(body): Json<OpportunityStatusChange>,
) -> ApiResult<Response> {
    moved(&state, &forward, &caller, id, None, Some(&body.status)).await
}

/// Assign an opportunity
///
/// Administrators give any opportunity of the organization to any of its members; others may
/// only name themselves (403).
#[utoipa::path(post, path = "/api/order-workflow/opportunities/{id}/assign", tag = "opportunities", params(("id" = Uuid, Path)),
    request_body = AssignOpportunity,
    responses((status = 200, description = "The opportunity with its new owner", body = Envelope<OpportunityItem>),
        (status = 400, response = BadRequest), (status = 403, response = Forbidden), (status = 404, response = NotFound),
        (status = 409, response = Conflict)),
    security(("bearer" = [])))]
pub async fn assign(
    State(state): State<AppState>,
    caller: Authorized<OpportunityUpdate>,
    forward: Forward,
    Path(id): Path<Uuid>,
    Json(body): Json<AssignOpportunity>,
) -> ApiResult<Response> {
    let (before, after) = service::assign(&state, &forward, &caller, id, body.owner_user_id).await?;
    let item = service::one(&state, &forward, after).await?;
    Ok(with_before(ok(item), &serde_json::json!({"id": before.id, "owner_user_id": before.owner_user_id})))
}

/// Check products' dependencies for an opportunity
///
/// Body: a JSON array of product ids. Asks service-management which `required` dependencies are
/// missing (each "A requires B"), which `recommended` ones, and the order to carry the products
/// out in.
#[utoipa::path(post, path = "/api/order-workflow/opportunities/{id}/products/validate-dependencies", tag = "opportunities",
    params(("id" = Uuid, Path)), request_body = Vec<Uuid>,
    responses((status = 200, description = "What is missing and the suggested order", body = Envelope<DependencyCheck>),
        (status = 400, response = BadRequest), (status = 403, response = Forbidden), (status = 404, response = NotFound),
        (status = 503, response = Unavailable)),
    security(("bearer" = [])))]
pub async fn validate_dependencies(
    State(state): State<AppState>,
    caller: Authorized<OpportunityView>,
    forward: Forward,
    Path(id): Path<Uuid>,
    Json(ids): Json<Vec<Uuid>>,
) -> ApiResult<Response> {
    service::find_visible(&state.db, &Viewer::of(&caller), id).await?;
    Ok(ok(lines::check(&state, &forward, &ids).await?))
}

/// The order to carry products out in
///
/// Body: a JSON array of product ids. service-management's topological order over their
/// `required` dependencies, each step naming the chosen products it requires.
#[utoipa::path(post, path = "/api/order-workflow/opportunities/products/calculate-order", tag = "opportunities",
    request_body = Vec<Uuid>,
    responses((status = 200, description = "The products in order", body = Envelope<Vec<OpportunityOrderStep>>),
        (status = 400, response = BadRequest), (status = 403, response = Forbidden), (status = 503, response = Unavailable)),
    security(("bearer" = [])))]
pub async fn calculate_order(
    State(state): State<AppState>,
    _caller: Authorized<OpportunityView>,
    forward: Forward,
    Json(ids): Json<Vec<Uuid>>,
) -> ApiResult<Response> {
    Ok(ok(lines::calculate_order(&state, &forward, &ids).await?))
}
