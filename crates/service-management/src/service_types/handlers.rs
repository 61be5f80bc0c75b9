use super::dto::{CreateServiceType, ListServiceTypes, ServiceTypeItem, UpdateServiceType};
use super::model as service_type;
use super::service;
use crate::AppState;
use crate::access::require_catalog_owner;
use crate::perm::{CatalogManage, CatalogView};
use axum::extract::State;
use axum::response::Response;
use chrono::Utc;
use crm_common::api::openapi::{BadRequest, Conflict, Forbidden, NoData, NotFound};
use crm_common::api::patch::{clean, set_text};
use crm_common::api::{Envelope, Json, Page, Path, Query, ok};
use crm_common::auth::Authorized;
use crm_common::db::contains_ci;
use crm_common::http::audit::with_before;
use crm_common::{ApiError, ApiResult};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, EntityTrait, IntoActiveModel, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect,
};
use uuid::Uuid;

/// Create a service type
#[utoipa::path(
    post,
    path = "/api/service-management/service-types",
    tag = "service-types",
    request_body = CreateServiceType,
    responses(
        (status = 200, description = "The new service type", body = Envelope<ServiceTypeItem>),
        (status = 400, response = BadRequest),
        (status = 403, response = Forbidden),
        (status = 409, response = Conflict),
    ),
    security(("bearer" = []))
)]
pub async fn create(
    State(state): State<AppState>,
    caller: Authorized<CatalogManage>,
    Json(body): Json<CreateServiceType>,
) -> ApiResult<Response> {
    require_catalog_owner(&caller)?;
    service::validate(Some(&body.code), Some(&body.name), body.name_en.as_deref(), body.display_order)?;
    let code = body.code.trim().to_owned();
    service::check_code_free(&state.db, &code).await?;
    let now = Utc::now();
    let saved = service_type::ActiveModel {
        id: Set(Uuid::now_v7()),
        code: Set(code),
        name: Set(body.name.trim().to_owned()),
        name_en: Set(clean(body.name_en)),
        description: Set(clean(body.description)),
        display_order: Set(body.display_order.unwrap_or(0)),
        is_active: Set(body.is_active.unwrap_or(true)),
        created_at: Set(now),
        updated_at: Set(now),
        version: Set(1),
    }
    .insert(&state.db)
    .await?;
    Ok(ok(ServiceTypeItem::from(saved)))
}

/// List service types
///
/// Ordered by display order, then code.
#[utoipa::path(
    get,
    path = "/api/service-management/service-types",
    tag = "service-types",
    params(ListServiceTypes),
    responses(
        (status = 200, description = "A page of service types", body = Envelope<Page<ServiceTypeItem>>),
        (status = 400, response = BadRequest),
        (status = 403, response = Forbidden),
    ),
    security(("bearer" = []))
)]
pub async fn list(
    State(state): State<AppState>,
    _caller: Authorized<CatalogView>,
    Query(q): Query<ListServiceTypes>,
) -> ApiResult<Response> {
    let (page, size) =
        crm_common::api::PageParams { page: q.page, size: q.size, page_size: q.page_size }.resolve(10, 1000)?;
    let mut query = service_type::Entity::find();
    if let Some(code) = clean(q.code) {
        query = query.filter(contains_ci(service_type::Column::Code, &code));
    }
    if let Some(name) = clean(q.name) {
        query = query.filter(
            Condition::any()
                .add(contains_ci(service_type::Column::Name, &name))
                .add(contains_ci(service_type::Column::NameEn, &name)),
        );
    }
    if let Some(active) = q.is_active {
        query = query.filter(service_type::Column::IsActive.eq(active));
    }
    let total = query.clone().count(&state.db).await?;
    let rows = query
        .order_by_asc(service_type::Column::DisplayOrder)
        .order_by_asc(service_type::Column::Code)
        .offset((page - 1) * size)
        .limit(size)
        .all(&state.db)
        .await?;
    let items = rows.into_iter().map(ServiceTypeItem::from).collect();
    Ok(ok(Page::new(items, total, page, size)))
}

/// A service type by its code
#[utoipa::path(
    get,
    path = "/api/service-management/service-types/code/{code}",
    tag = "service-types",
    params(("code" = String, Path)),
    responses(
        (status = 200, description = "The service type", body = Envelope<ServiceTypeItem>),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
    ),
    security(("bearer" = []))
)]
pub async fn by_code(
    State(state): State<AppState>,
    _caller: Authorized<CatalogView>,
    Path(code): Path<String>,
) -> ApiResult<Response> {
    let found = service_type::Entity::find()
        .filter(service_type::Column::Code.eq(code.trim()))
        .one(&state.db)
        .await?
        .ok_or_else(|| ApiError::not_found("service type"))?;
    Ok(ok(ServiceTypeItem::from(found)))
}

/// A service type
#[utoipa::path(
    get,
    path = "/api/service-management/service-types/{id}",
    tag = "service-types",
    params(("id" = Uuid, Path)),
    responses(
        (status = 200, description = "The service type", body = Envelope<ServiceTypeItem>),
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
    Ok(ok(ServiceTypeItem::from(service::find(&state.db, id).await?)))
}

/// Update a service type
///
/// Every field but the code, which products and orders refer to by value.
#[utoipa::path(
    put,
    path = "/api/service-management/service-types/{id}",
    tag = "service-types",
    params(("id" = Uuid, Path)),
    request_body = UpdateServiceType,
    responses(
        (status = 200, description = "The service type as updated", body = Envelope<ServiceTypeItem>),
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
    Json(body): Json<UpdateServiceType>,
) -> ApiResult<Response> {
    require_catalog_owner(&caller)?;
    service::validate(None, body.name.as_deref(), body.name_en.as_deref(), body.display_order)?;
    let before = service::find(&state.db, id).await?;
    let mut active = before.clone().into_active_model();
    if let Some(name) = body.name {
        active.name = Set(name.trim().to_owned());
    }
    set_text(&mut active.name_en, body.name_en);
    set_text(&mut active.description, body.description);
    if let Some(order) = body.display_order {
        active.display_order = Set(order);
    }
    if let Some(is_active) = body.is_active {
        active.is_active = Set(is_active);
    }
    active.updated_at = Set(Utc::now());
    active.version = Set(before.version + 1);
    let saved = active.update(&state.db).await?;
    Ok(with_before(ok(ServiceTypeItem::from(saved)), &ServiceTypeItem::from(before)))
}

/// Delete a service type
///
/// Refused (409) while products use it: they would point at nothing.
#[utoipa::path(
    delete,
    path = "/api/service-management/service-types/{id}",
    tag = "service-types",
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
    service::check_unused(&state.db, id).await?;
    service_type::Entity::delete_by_id(id).exec(&state.db).await?;
    Ok(with_before(ok(()), &ServiceTypeItem::from(before)))
}
