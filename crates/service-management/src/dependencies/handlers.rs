use super::dto::{
    CreateDependency, DependencyItem, ExecutionOrder, ListDependencies, ProductSelection, TypeFilter, UpdateDependency,
    ValidationResult, check_type,
};
use super::model as dependency;
use super::service;
use crate::AppState;
use crate::access::require_catalog_owner;
use crate::perm::{CatalogManage, CatalogView};
use axum::extract::State;
use axum::response::Response;
use chrono::Utc;
use crm_common::api::openapi::{BadRequest, Forbidden, NoData, NotFound};
use crm_common::api::patch::clean;
use crm_common::api::{Envelope, Json, PageParams, Path, Query, RecordsPage, created, ok};
use crm_common::auth::Authorized;
use crm_common::http::audit::with_before;
use crm_common::{ApiError, ApiResult};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, IntoActiveModel, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect,
};
use uuid::Uuid;

/// Products a selection may hold: far more than any order, and a bound on the query.
const MAX_SELECTION: usize = 1000;

async fn items(state: &AppState, rows: Vec<dependency::Model>) -> ApiResult<Vec<DependencyItem>> {
    let names = service::names_of(&state.db, &rows).await?;
    Ok(rows.into_iter().map(|d| DependencyItem::new(d, &names)).collect())
}

async fn item(state: &AppState, d: dependency::Model) -> ApiResult<DependencyItem> {
    let names = service::names_of(&state.db, std::slice::from_ref(&d)).await?;
    Ok(DependencyItem::new(d, &names))
}

fn check_selection(s: &ProductSelection) -> ApiResult<()> {
    if s.product_ids.len() > MAX_SELECTION {
        return Err(ApiError::field("product_ids", format!("at most {MAX_SELECTION} products")));
    }
    Ok(())
}

/// List dependencies
///
/// Administrators' view of every dependency, filtered, newest first.
#[utoipa::path(
    get,
    path = "/api/order-workflow/product-dependencies",
    tag = "product-dependencies",
    params(ListDependencies),
    responses(
        (status = 200, description = "A page of dependencies", body = Envelope<RecordsPage<DependencyItem>>),
        (status = 400, response = BadRequest),
        (status = 403, response = Forbidden),
    ),
    security(("bearer" = []))
)]
pub async fn list(
    State(state): State<AppState>,
    _caller: Authorized<CatalogManage>,
    Query(q): Query<ListDependencies>,
) -> ApiResult<Response> {
    let (page, size) = PageParams { page: q.page, size: q.size, page_size: q.page_size }.resolve(20, 100)?;
    let mut query = dependency::Entity::find();
    if let Some(p) = q.product_id {
        query = query.filter(dependency::Column::ProductId.eq(p));
    }
    if let Some(p) = q.depends_on_product_id {
        query = query.filter(dependency::Column::DependsOnProductId.eq(p));
    }
    if let Some(t) = q.dependency_type.as_deref().filter(|t| !t.is_empty()) {
        check_type(t)?;
        query = query.filter(dependency::Column::DependencyType.eq(t));
    }
    let total = query.clone().count(&state.db).await?;
    let rows = query
        .order_by_desc(dependency::Column::CreatedAt)
        .order_by_desc(dependency::Column::Id)
        .offset((page - 1) * size)
        .limit(size)
        .all(&state.db)
        .await?;
    Ok(ok(RecordsPage::new(items(&state, rows).await?, total, page, size)))
}

/// Add a dependency
///
/// Both products must exist (404) and differ (400); the pair must be new (400) and must not
/// close a cycle over all existing dependencies, of any type (400). Checked and written in one
/// write transaction, so concurrent additions cannot together make a cycle.
#[utoipa::path(
    post,
    path = "/api/order-workflow/product-dependencies",
    tag = "product-dependencies",
    request_body = CreateDependency,
    responses(
        (status = 201, description = "The new dependency", body = Envelope<DependencyItem>),
        (status = 400, response = BadRequest),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
    ),
    security(("bearer" = []))
)]
pub async fn create(
    State(state): State<AppState>,
    caller: Authorized<CatalogManage>,
    Json(body): Json<CreateDependency>,
) -> ApiResult<Response> {
    require_catalog_owner(&caller)?;
    let kind = body.dependency_type.unwrap_or_else(|| "required".to_owned());
    check_type(&kind)?;
    if body.product_id == body.depends_on_product_id {
        return Err(ApiError::field("depends_on_product_id", "a product cannot depend on itself"));
    }
    let txn = crm_common::db::begin_write(&state.db).await?;
    service::serialize_writes(&txn).await?;
    let names = service::names(&txn, [body.product_id, body.depends_on_product_id]).await?;
    if !names.contains_key(&body.product_id) {
        return Err(ApiError::not_found("product"));
    }
    if !names.contains_key(&body.depends_on_product_id) {
        return Err(ApiError::not_found("depended-on product"));
    }
    let edges = service::all_edges(&txn).await?;
    if edges.contains(&(body.product_id, body.depends_on_product_id)) {
        return Err(ApiError::field("depends_on_product_id", "this dependency already exists"));
    }
    if service::creates_cycle(&edges, body.product_id, body.depends_on_product_id) {
        return Err(ApiError::field("depends_on_product_id", "the dependency would create a cycle"));
    }
    let now = Utc::now();
    let saved = dependency::ActiveModel {
        id: Set(Uuid::now_v7()),
        product_id: Set(body.product_id),
        depends_on_product_id: Set(body.depends_on_product_id),
        dependency_type: Set(kind),
        description: Set(clean(body.description)),
        created_by: Set(Some(caller.user_id)),
        created_at: Set(now),
        updated_at: Set(now),
        version: Set(1),
    }
    .insert(&txn)
    .await?;
    txn.commit().await?;
    Ok(created(DependencyItem::new(saved, &names)))
}

/// What a product depends on
///
/// `{id}` is a product id here; optionally only one `dependency_type`.
#[utoipa::path(
    get,
    path = "/api/order-workflow/product-dependencies/{id}",
    tag = "product-dependencies",
    params(("id" = Uuid, Path, description = "a product id"), TypeFilter),
    responses(
        (status = 200, description = "Its dependencies", body = Envelope<Vec<DependencyItem>>),
        (status = 400, response = BadRequest),
        (status = 403, response = Forbidden),
    ),
    security(("bearer" = []))
)]
pub async fn of_product(
    State(state): State<AppState>,
    _caller: Authorized<CatalogView>,
    Path(product_id): Path<Uuid>,
    Query(q): Query<TypeFilter>,
) -> ApiResult<Response> {
    let mut query = dependency::Entity::find().filter(dependency::Column::ProductId.eq(product_id));
    if let Some(t) = q.dependency_type.as_deref().filter(|t| !t.is_empty()) {
        check_type(t)?;
        query = query.filter(dependency::Column::DependencyType.eq(t));
    }
    let rows = query.order_by_asc(dependency::Column::CreatedAt).all(&state.db).await?;
    Ok(ok(items(&state, rows).await?))
}

/// Products that depend on a product
#[utoipa::path(
    get,
    path = "/api/order-workflow/product-dependencies/{id}/dependents",
    tag = "product-dependencies",
    params(("id" = Uuid, Path, description = "a product id")),
    responses(
        (status = 200, description = "The dependencies pointing at it", body = Envelope<Vec<DependencyItem>>),
        (status = 400, response = BadRequest),
        (status = 403, response = Forbidden),
    ),
    security(("bearer" = []))
)]
pub async fn dependents(
    State(state): State<AppState>,
    _caller: Authorized<CatalogView>,
    Path(product_id): Path<Uuid>,
) -> ApiResult<Response> {
    let rows = dependency::Entity::find()
        .filter(dependency::Column::DependsOnProductId.eq(product_id))
        .order_by_asc(dependency::Column::CreatedAt)
        .all(&state.db)
        .await?;
    Ok(ok(items(&state, rows).await?))
}

/// Change a dependency's type or description
///
/// `{id}` is a dependency id here. Changing the type cannot make a cycle: the edge stays.
#[utoipa::path(
    put,
    path = "/api/order-workflow/product-dependencies/{id}",
    tag = "product-dependencies",
    params(("id" = Uuid, Path, description = "a dependency id")),
    request_body = UpdateDependency,
    responses(
        (status = 200, description = "The dependency as updated", body = Envelope<DependencyItem>),
        (status = 400, response = BadRequest),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
    ),
    security(("bearer" = []))
)]
pub async fn update(
    State(state): State<AppState>,
    caller: Authorized<CatalogManage>,
    Path(id): Path<Uuid>,
    Json(body): Json<UpdateDependency>,
) -> ApiResult<Response> {
    require_catalog_owner(&caller)?;
    if let Some(t) = &body.dependency_type {
        check_type(t)?;
    }
    let before = service::find(&state.db, id).await?;
    let mut active = before.clone().into_active_model();
    if let Some(t) = body.dependency_type {
        active.dependency_type = Set(t);
    }
    crm_common::api::patch::set_text(&mut active.description, body.description);
    active.updated_at = Set(Utc::now());
    active.version = Set(before.version + 1);
    let saved = active.update(&state.db).await?;
    let names = service::names_of(&state.db, std::slice::from_ref(&before)).await?;
    Ok(with_before(ok(item(&state, saved).await?), &DependencyItem::new(before, &names)))
}

/// Remove a dependency
#[utoipa::path(
    delete,
    path = "/api/order-workflow/product-dependencies/{id}",
    tag = "product-dependencies",
    params(("id" = Uuid, Path, description = "a dependency id")),
    responses(
        (status = 200, description = "Deleted", body = Envelope<NoData>),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
    ),
    security(("bearer" = []))
)]
pub async fn delete(
    State(state): State<AppState>,
    caller: Authorized<CatalogManage>,
    Path(id): Path<Uuid>,
) -> ApiResult<Response> {
    require_catalog_owner(&caller)?;
    let before = service::find(&state.db, id).await?;
    dependency::Entity::delete_by_id(id).exec(&state.db).await?;
    let names = service::names_of(&state.db, std::slice::from_ref(&before)).await?;
    Ok(with_before(ok(()), &DependencyItem::new(before, &names)))
}

/// Check a selection of products against their dependencies
///
/// `valid` is false when a selected product requires one that is not selected; missing
/// `recommended` products are warnings. What order-workflow asks before combining products.
#[utoipa::path(
    post,
    path = "/api/order-workflow/product-dependencies/validate",
    tag = "product-dependencies",
    request_body = ProductSelection,
    responses(
        (status = 200, description = "What is missing", body = Envelope<ValidationResult>),
        (status = 400, response = BadRequest),
        (status = 403, response = Forbidden),
    ),
    security(("bearer" = []))
)]
pub async fn validate(
    State(state): State<AppState>,
    _caller: Authorized<CatalogView>,
    Json(body): Json<ProductSelection>,
) -> ApiResult<Response> {
    check_selection(&body)?;
    let deps: Vec<(Uuid, Uuid, String)> = if body.product_ids.is_empty() {
        Vec::new()
    } else {
        dependency::Entity::find()
            .select_only()
            .column(dependency::Column::ProductId)
            .column(dependency::Column::DependsOnProductId)
            .column(dependency::Column::DependencyType)
            .filter(dependency::Column::ProductId.is_in(body.product_ids.clone()))
            .order_by_asc(dependency::Column::CreatedAt)
            .into_tuple()
            .all(&state.db)
            .await?
    };
    let names = service::names(&state.db, deps.iter().map(|d| d.1)).await?;
    let (missing_required, warnings) = service::unsatisfied(&body.product_ids, &deps, &names);
    Ok(ok(ValidationResult { valid: missing_required.is_empty(), missing_required, warnings }))
}

/// The order to carry out a selection of products in
///
/// A topological order over the `required` dependencies among the selected products (a product
/// after what it requires), each step naming the selected products it requires; products caught
/// in a cycle come last.
#[utoipa::path(
    post,
    path = "/api/order-workflow/product-dependencies/calculate-order",
    tag = "product-dependencies",
    request_body = ProductSelection,
    responses(
        (status = 200, description = "The execution order", body = Envelope<ExecutionOrder>),
        (status = 400, response = BadRequest),
        (status = 403, response = Forbidden),
    ),
    security(("bearer" = []))
)]
pub async fn calculate_order(
    State(state): State<AppState>,
    _caller: Authorized<CatalogView>,
    Json(body): Json<ProductSelection>,
) -> ApiResult<Response> {
    check_selection(&body)?;
    let edges: Vec<(Uuid, Uuid)> = if body.product_ids.is_empty() {
        Vec::new()
    } else {
        dependency::Entity::find()
            .select_only()
            .column(dependency::Column::ProductId)
            .column(dependency::Column::DependsOnProductId)
            .filter(dependency::Column::DependencyType.eq("required"))
            .filter(dependency::Column::ProductId.is_in(body.product_ids.clone()))
            .filter(dependency::Column::DependsOnProductId.is_in(body.product_ids.clone()))
            .into_tuple()
            .all(&state.db)
            .await?
    };
    Ok(ok(ExecutionOrder { order: service::execution_order(&body.product_ids, &edges) }))
}
