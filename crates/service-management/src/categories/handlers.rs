use super::dto::{
    CategoryItem, CategoryTree, CreateCategory, ListCategories, TreeProduct, TreeQuery, UpdateCategory, validate,
};
use super::model as category;
use super::service;
use crate::AppState;
use crate::access::require_catalog_owner;
use crate::perm::{CatalogManage, CatalogView};
use crate::products::model as product;
use axum::extract::State;
use axum::response::Response;
use chrono::Utc;
use crm_common::api::openapi::{BadRequest, Conflict, Forbidden, NoData, NotFound};
use crm_common::api::patch::clean;
use crm_common::api::{Envelope, Json, Page, Path, Query, ok};
use crm_common::auth::Authorized;
use crm_common::db::contains_ci;
use crm_common::http::audit::with_before;
use crm_common::{ApiError, ApiResult};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, IntoActiveModel, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect,
};
use uuid::Uuid;

async fn item(state: &AppState, c: category::Model) -> ApiResult<CategoryItem> {
    let names = service::parent_names(&state.db, std::slice::from_ref(&c)).await?;
    let parent = c.parent_id.and_then(|p| names.get(&p).cloned());
    Ok(CategoryItem::new(c, parent))
}

/// `(category_id, id, name, code, enterprise_service_code)` of a product in the tree.
type TreeRow = (Option<Uuid>, Uuid, String, Option<String>, Option<String>);

/// Create a category
#[utoipa::path(
    post,
    path = "/api/service-management/categories",
    tag = "categories",
    request_body = CreateCategory,
    responses(
        (status = 200, description = "The new category", body = Envelope<CategoryItem>),
        (status = 400, response = BadRequest),
        (status = 403, response = Forbidden),
        (status = 409, response = Conflict),
    ),
    security(("bearer" = []))
)]
pub async fn create(
    State(state): State<AppState>,
    caller: Authorized<CatalogManage>,
    Json(body): Json<CreateCategory>,
) -> ApiResult<Response> {
    require_catalog_owner(&caller)?;
    validate(Some(&body.code), Some(&body.name), body.display_order)?;
    if let Some(parent) = body.parent_id {
        service::check_parent(&state.db, None, parent).await?;
    }
    let code = body.code.trim().to_owned();
    if category::Entity::find().filter(category::Column::Code.eq(&code)).count(&state.db).await? > 0 {
        return Err(ApiError::conflict(format!("category code {code} already exists")));
    }
    let now = Utc::now();
    let saved = category::ActiveModel {
        id: Set(Uuid::now_v7()),
        code: Set(code),
        name: Set(body.name.trim().to_owned()),
        description: Set(clean(body.description)),
        parent_id: Set(body.parent_id),
        display_order: Set(body.display_order.unwrap_or(0)),
        is_active: Set(body.is_active.unwrap_or(true)),
        created_by: Set(Some(caller.user_id)),
        created_at: Set(now),
        updated_at: Set(now),
        version: Set(1),
    }
    .insert(&state.db)
    .await?;
    Ok(ok(item(&state, saved).await?))
}

/// List categories
///
/// Ordered by display order, then name.
#[utoipa::path(
    get,
    path = "/api/service-management/categories",
    tag = "categories",
    params(ListCategories),
    responses(
        (status = 200, description = "A page of categories", body = Envelope<Page<CategoryItem>>),
        (status = 400, response = BadRequest),
        (status = 403, response = Forbidden),
    ),
    security(("bearer" = []))
)]
pub async fn list(
    State(state): State<AppState>,
    _caller: Authorized<CatalogView>,
    Query(q): Query<ListCategories>,
) -> ApiResult<Response> {
    let (page, size) =
        crm_common::api::PageParams { page: q.page, size: q.size, page_size: q.page_size }.resolve(10, 1000)?;
    let mut query = category::Entity::find();
    if let Some(code) = clean(q.code) {
        query = query.filter(contains_ci(category::Column::Code, &code));
    }
    if let Some(name) = clean(q.name) {
        query = query.filter(contains_ci(category::Column::Name, &name));
    }
    match q.parent_id.as_deref().map(str::trim) {
        None => {}
        Some("") => query = query.filter(category::Column::ParentId.is_null()),
        Some(id) => {
            let id = Uuid::parse_str(id).map_err(|_| ApiError::field("parent_id", "must be a category id or empty"))?;
            query = query.filter(category::Column::ParentId.eq(id));
        }
    }
    if let Some(active) = q.is_active {
        query = query.filter(category::Column::IsActive.eq(active));
    }
    let total = query.clone().count(&state.db).await?;
    let rows = query
        .order_by_asc(category::Column::DisplayOrder)
        .order_by_asc(category::Column::Name)
        .order_by_asc(category::Column::Id)
        .offset((page - 1) * size)
        .limit(size)
        .all(&state.db)
        .await?;
    let names = service::parent_names(&state.db, &rows).await?;
    let items = rows
        .into_iter()
        .map(|c| {
            let parent = c.parent_id.and_then(|p| names.get(&p).cloned());
            CategoryItem::new(c, parent)
        })
        .collect();
    Ok(ok(Page::new(items, total, page, size)))
}

/// The category tree
///
/// Every category as a tree (children always an array), each with the number of products in its
/// subtree and, with `include_products=true`, its own products. Two queries, whatever the size.
#[utoipa::path(
    get,
    path = "/api/service-management/categories/tree",
    tag = "categories",
    params(TreeQuery),
    responses(
        (status = 200, description = "The tree", body = Envelope<CategoryTree>),
        (status = 400, response = BadRequest),
        (status = 403, response = Forbidden),
    ),
    security(("bearer" = []))
)]
pub async fn tree(
    State(state): State<AppState>,
    _caller: Authorized<CatalogView>,
    Query(q): Query<TreeQuery>,
) -> ApiResult<Response> {
    let mut categories = category::Entity::find();
    let mut products = product::Entity::find()
        .select_only()
        .column(product::Column::CategoryId)
        .column(product::Column::Id)
        .column(product::Column::Name)
        .column(product::Column::Code)
        .column(product::Column::EnterpriseServiceCode)
        .filter(product::Column::CategoryId.is_not_null());
    if q.is_active == Some(true) {
        categories = categories.filter(category::Column::IsActive.eq(true));
        products = products.filter(product::Column::IsActive.eq(true));
    }
    let categories = categories.all(&state.db).await?;
    let rows: Vec<TreeRow> = products.order_by_asc(product::Column::Name).into_tuple().all(&state.db).await?;
    let products = rows
        .into_iter()
        .filter_map(|(category_id, id, name, code, enterprise_service_code)| {
            Some((category_id?, TreeProduct { id, name, code, enterprise_service_code }))
        })
        .collect();
    Ok(ok(CategoryTree { categories: service::build_tree(categories, products, q.include_products) }))
}

/// A category
#[utoipa::path(
    get,
    path = "/api/service-management/categories/{id}",
    tag = "categories",
    params(("id" = Uuid, Path)),
    responses(
        (status = 200, description = "The category", body = Envelope<CategoryItem>),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
    ),
    security(("bearer" = []))
)]
pub async fn get(
    State(state): State<AppState>,
    _caller: Authorized<CatalogView>,
    Path(id): Path<Uuid>,
) -> ApiResult<Response> {
    let c = service::find(&state.db, id).await?;
    Ok(ok(item(&state, c).await?))
}

/// Update a category
///
/// The code is fixed. Moving it under another parent is checked like a create, and also refused
/// when the new parent is one of its own descendants.
#[utoipa::path(
    put,
    path = "/api/service-management/categories/{id}",
    tag = "categories",
    params(("id" = Uuid, Path)),
    request_body = UpdateCategory,
    responses(
        (status = 200, description = "The category as updated", body = Envelope<CategoryItem>),
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
    Json(body): Json<UpdateCategory>,
) -> ApiResult<Response> {
    require_catalog_owner(&caller)?;
    validate(None, body.name.as_deref(), body.display_order)?;
    let before = service::find(&state.db, id).await?;
    if let Some(Some(parent)) = body.parent_id
        && before.parent_id != Some(parent)
    {
        service::check_parent(&state.db, Some(id), parent).await?;
    }
    let mut active = before.clone().into_active_model();
    if let Some(name) = body.name {
        active.name = Set(name.trim().to_owned());
    }
    crm_common::api::patch::set_text(&mut active.description, body.description);
    if let Some(parent) = body.parent_id {
        active.parent_id = Set(parent);
    }
    if let Some(order) = body.display_order {
        active.display_order = Set(order);
    }
    if let Some(is_active) = body.is_active {
        active.is_active = Set(is_active);
    }
    active.updated_at = Set(Utc::now());
    active.version = Set(before.version + 1);
    let saved = active.update(&state.db).await?;
    Ok(with_before(ok(item(&state, saved).await?), &CategoryItem::new(before, None)))
}

/// Delete a category
///
/// Refused (409) while products or subcategories use it: deleting it would leave them pointing
/// at nothing.
#[utoipa::path(
    delete,
    path = "/api/service-management/categories/{id}",
    tag = "categories",
    params(("id" = Uuid, Path)),
    responses(
        (status = 200, description = "Deleted", body = Envelope<NoData>),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
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
    let products = product::Entity::find().filter(product::Column::CategoryId.eq(id)).count(&state.db).await?;
    if products > 0 {
        return Err(ApiError::conflict(format!("the category has {products} products; move or delete them first")));
    }
    let children = category::Entity::find().filter(category::Column::ParentId.eq(id)).count(&state.db).await?;
    if children > 0 {
        return Err(ApiError::conflict(format!(
            "the category has {children} subcategories; move or delete them first"
        )));
    }
    category::Entity::delete_by_id(id).exec(&state.db).await?;
    Ok(with_before(ok(()), &CategoryItem::new(before, None)))
}
