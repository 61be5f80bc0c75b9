use super::dto::{CreateProduct, ListProducts, ListVendorProducts, ProductItem, UpdateProduct, VendorProductItem};
use super::model as product;
use super::service;
use crate::AppState;
use crate::access::{require_catalog_owner, vendor_access};
use crate::perm::{CatalogManage, CatalogView, VendorProductView};
use crate::vendors::model as vendor_product;
use axum::extract::State;
use axum::response::Response;
use chrono::Utc;
use crm_common::api::openapi::{BadRequest, Conflict, Forbidden, NoData, NotFound};
use crm_common::api::patch::clean;
use crm_common::api::{Envelope, Json, Page, PageParams, Path, Query, ok};
use crm_common::auth::Authorized;
use crm_common::db::contains_ci;
use crm_common::http::audit::with_before;
use crm_common::http::peer::Forward;
use crm_common::{ApiError, ApiResult};
use rust_decimal::Decimal;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, IntoActiveModel, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
};
use std::collections::HashMap;
use uuid::Uuid;

/// The IDR per CNY a product starts with (the column's default).
const DEFAULT_EXCHANGE_RATE: i64 = 2000;

async fn item(state: &AppState, p: product::Model) -> ApiResult<ProductItem> {
    let (categories, types) = service::names(&state.db, std::slice::from_ref(&p)).await?;
    let category = p.category_id.and_then(|c| categories.get(&c).cloned());
    let service_type = p.service_type_id.and_then(|s| types.get(&s).cloned());
    Ok(ProductItem::new(p, category, service_type))
}

async fn items(state: &AppState, rows: Vec<product::Model>) -> ApiResult<Vec<ProductItem>> {
    let (categories, types) = service::names(&state.db, &rows).await?;
    Ok(rows
        .into_iter()
        .map(|p| {
            let category = p.category_id.and_then(|c| categories.get(&c).cloned());
            let service_type = p.service_type_id.and_then(|s| types.get(&s).cloned());
            ProductItem::new(p, category, service_type)
        })
        .collect())
}

fn tags(tags: Option<Vec<String>>) -> Option<serde_json::Value> {
    tags.map(|t| serde_json::Value::from(t.into_iter().map(|s| s.trim().to_owned()).collect::<Vec<_>>()))
}

/// Checks and completes `p` as it will be stored: field rules, status bookkeeping, profits.
fn settle(p: &mut product::Model, discontinued_at_sent: bool) -> ApiResult<()> {
    service::validate(p)?;
    service::settle_status(p, discontinued_at_sent, Utc::now());
    service::apply_profits(p);
    Ok(())
}

/// Create a product
///
/// The derived profits are computed from the IDR prices; any sent are ignored.
#[utoipa::path(
    post,
    path = "/api/service-management/products",
    tag = "products",
    request_body = CreateProduct,
    responses(
        (status = 200, description = "The new product", body = Envelope<ProductItem>),
        (status = 400, response = BadRequest),
        (status = 403, response = Forbidden),
        (status = 409, response = Conflict),
    ),
    security(("bearer" = []))
)]
pub async fn create(
    State(state): State<AppState>,
    caller: Authorized<CatalogManage>,
    Json(body): Json<CreateProduct>,
) -> ApiResult<Response> {
    require_catalog_owner(&caller)?;
    let now = Utc::now();
    let discontinued_at_sent = body.discontinued_at.is_some();
    let mut p = product::Model {
        id: Uuid::now_v7(),
        name: body.name.trim().to_owned(),
        code: clean(body.code),
        enterprise_service_code: clean(body.enterprise_service_code),
        category_id: body.category_id,
        service_type_id: body.service_type_id,
        service_type: clean(body.service_type),
        service_subtype: clean(body.service_subtype),
        description: clean(body.description),
        validity_period: body.validity_period,
        processing_days: body.processing_days,
        processing_time_text: clean(body.processing_time_text),
        is_urgent_available: body.is_urgent_available.unwrap_or(false),
        urgent_processing_days: body.urgent_processing_days,
        urgent_price_surcharge: body.urgent_price_surcharge,
        required_documents: clean(body.required_documents),
        sla_description: clean(body.sla_description),
        service_level: clean(body.service_level),
        price_cost_idr: body.price_cost_idr,
        price_cost_cny: body.price_cost_cny,
        price_channel_idr: body.price_channel_idr,
        price_channel_cny: body.price_channel_cny,
        price_direct_idr: body.price_direct_idr,
        price_direct_cny: body.price_direct_cny,
        price_list_idr: body.price_list_idr,
        price_list_cny: body.price_list_cny,
        default_currency: clean(body.default_currency).unwrap_or_else(|| "IDR".into()),
        exchange_rate: body.exchange_rate.unwrap_or(Decimal::from(DEFAULT_EXCHANGE_RATE)),
        channel_profit: None,
        channel_profit_rate: None,
        channel_customer_profit: None,
        channel_customer_profit_rate: None,
        direct_profit: None,
        direct_profit_rate: None,
        commission_rate: body.commission_rate,
        commission_amount: body.commission_amount,
        equivalent_cny: body.equivalent_cny,
        monthly_orders: body.monthly_orders,
        total_amount: body.total_amount,
        status: clean(body.status).unwrap_or_else(|| "active".into()),
        suspended_reason: clean(body.suspended_reason),
        discontinued_at: body.discontinued_at,
        is_active: body.is_active.unwrap_or(true),
        is_locked: body.is_locked.unwrap_or(false),
        tags: tags(body.tags),
        notes: clean(body.notes),
        created_by: Some(caller.user_id),
        updated_by: Some(caller.user_id),
        created_at: now,
        updated_at: now,
        version: 1,
    };
    settle(&mut p, discontinued_at_sent)?;
    if let Some(category) = p.category_id {
        service::check_category(&state.db, category).await?;
    }
    if let Some(service_type) = p.service_type_id {
        service::check_service_type(&state.db, service_type).await?;
    }
    if let Some(code) = &p.code {
        service::check_code_free(&state.db, code, None).await?;
    }
    let saved = p.into_active_model().reset_all().insert(&state.db).await?;
    Ok(ok(item(&state, saved).await?))
}

/// List products
///
/// Newest first. Up to 1000 a page: the admin pages' product pickers ask for that many.
#[utoipa::path(
    get,
    path = "/api/service-management/products",
    tag = "products",
    params(ListProducts),
    responses(
        (status = 200, description = "A page of products", body = Envelope<Page<ProductItem>>),
        (status = 400, response = BadRequest),
        (status = 403, response = Forbidden),
    ),
    security(("bearer" = []))
)]
pub async fn list(
    State(state): State<AppState>,
    _caller: Authorized<CatalogView>,
    Query(q): Query<ListProducts>,
) -> ApiResult<Response> {
    let (page, size) = PageParams { page: q.page, size: q.size, page_size: q.page_size }.resolve(10, 1000)?;
    let mut query = product::Entity::find();
    if let Some(name) = clean(q.name) {
        query = query.filter(contains_ci(product::Column::Name, &name));
    }
    if let Some(code) = clean(q.code) {
        query = query.filter(contains_ci(product::Column::Code, &code));
    }
    if let Some(category) = q.category_id {
        query = query.filter(product::Column::CategoryId.eq(category));
    }
    if let Some(service_type) = q.service_type_id {
        query = query.filter(product::Column::ServiceTypeId.eq(service_type));
    }
    if let Some(service_type) = clean(q.service_type) {
        query = query.filter(product::Column::ServiceType.eq(service_type));
    }
    if let Some(subtype) = clean(q.service_subtype) {
        query = query.filter(product::Column::ServiceSubtype.eq(subtype));
    }
    if let Some(status) = clean(q.status) {
        if !service::STATUSES.contains(&status.as_str()) {
            return Err(ApiError::field("status", format!("must be one of: {}", service::STATUSES.join(", "))));
        }
        query = query.filter(product::Column::Status.eq(status));
    }
    if let Some(active) = q.is_active {
        query = query.filter(product::Column::IsActive.eq(active));
    }
    let total = query.clone().count(&state.db).await?;
    let rows = query
        .order_by_desc(product::Column::CreatedAt)
        .order_by_desc(product::Column::Id)
        .offset((page - 1) * size)
        .limit(size)
        .all(&state.db)
        .await?;
    Ok(ok(Page::new(items(&state, rows).await?, total, page, size)))
}

/// Products a vendor offers
///
/// The organization's `vendor_products` rows with their products: primary first, then by
/// priority (smaller first), then newest. A vendor's staff see only their own organization's
/// (another's is a 404); BANTU's staff see every vendor's.
#[utoipa::path(
    get,
    path = "/api/service-management/products/vendors/{vendor_id}",
    tag = "products",
    params(("vendor_id" = Uuid, Path), ListVendorProducts),
    responses(
        (status = 200, description = "A page of offered products", body = Envelope<Page<VendorProductItem>>),
        (status = 400, response = BadRequest),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
    ),
    security(("bearer" = []))
)]
pub async fn by_vendor(
    State(state): State<AppState>,
    caller: Authorized<VendorProductView>,
    forward: Forward,
    Path(vendor_id): Path<Uuid>,
    Query(q): Query<ListVendorProducts>,
) -> ApiResult<Response> {
    let (page, size) = PageParams { page: q.page, size: q.size, page_size: q.page_size }.resolve(10, 1000)?;
    vendor_access(&state, &forward, &caller, vendor_id).await?;
    let mut query = vendor_product::Entity::find().filter(vendor_product::Column::OrganizationId.eq(vendor_id));
    if let Some(available) = q.is_available {
        query = query.filter(vendor_product::Column::IsAvailable.eq(available));
    }
    if let Some(primary) = q.is_primary {
        query = query.filter(vendor_product::Column::IsPrimary.eq(primary));
    }
    let total = query.clone().count(&state.db).await?;
    let offers = query
        .order_by_desc(vendor_product::Column::IsPrimary)
        .order_by_asc(vendor_product::Column::Priority)
        .order_by_desc(vendor_product::Column::CreatedAt)
        .order_by_desc(vendor_product::Column::Id)
        .offset((page - 1) * size)
        .limit(size)
        .all(&state.db)
        .await?;
    let ids: Vec<Uuid> = offers.iter().map(|o| o.product_id).collect();
    let products = if ids.is_empty() {
        Vec::new()
    } else {
        product::Entity::find().filter(product::Column::Id.is_in(ids)).all(&state.db).await?
    };
    let mut products: HashMap<Uuid, ProductItem> =
        items(&state, products).await?.into_iter().map(|p| (p.id, p)).collect();
    // The foreign key cascades deletes, so every offer has its product.
    let rows = offers
        .into_iter()
        .filter_map(|o| products.remove(&o.product_id).map(|p| VendorProductItem::new(p, o)))
        .collect();
    Ok(ok(Page::new(rows, total, page, size)))
}

/// A product
#[utoipa::path(
    get,
    path = "/api/service-management/products/{id}",
    tag = "products",
    params(("id" = Uuid, Path)),
    responses(
        (status = 200, description = "The product", body = Envelope<ProductItem>),
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
    let p = service::find(&state.db, id).await?;
    Ok(ok(item(&state, p).await?))
}

/// Update a product
///
/// Absent fields are kept. A changed category is checked like a create; the derived profits
/// are recomputed from the prices as they stand after the change.
#[utoipa::path(
    put,
    path = "/api/service-management/products/{id}",
    tag = "products",
    params(("id" = Uuid, Path)),
    request_body = UpdateProduct,
    responses(
        (status = 200, description = "The product as updated", body = Envelope<ProductItem>),
        (status = 400, response = BadRequest),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
    ),
    security(("bearer" = []))
)]
pub async fn update(
    State(state): State<AppState>,
    caller: Authorized<CatalogManage>,
    Path(id): Path<Uuid>,
    Json(body): Json<UpdateProduct>,
) -> ApiResult<Response> {
    require_catalog_owner(&caller)?;
    let before = service::find(&state.db, id).await?;
    let mut p = before.clone();
    let discontinued_at_sent = body.discontinued_at.is_some();
    apply(&mut p, body);
    settle(&mut p, discontinued_at_sent)?;
    if let Some(category) = p.category_id
        && before.category_id != Some(category)
    {
        service::check_category(&state.db, category).await?;
    }
    if let Some(service_type) = p.service_type_id
        && before.service_type_id != Some(service_type)
    {
        service::check_service_type(&state.db, service_type).await?;
    }
    if let Some(code) = &p.code
        && before.code.as_ref() != Some(code)
    {
        service::check_code_free(&state.db, code, Some(id)).await?;
    }
    p.updated_by = Some(caller.user_id);
    p.updated_at = Utc::now();
    p.version = before.version + 1;
    let saved = p.into_active_model().reset_all().update(&state.db).await?;
    Ok(with_before(ok(item(&state, saved).await?), &ProductItem::new(before, None, None)))
}

/// Applies the fields `body` carries: absent keeps, `null` or a blank text clears.
fn apply(p: &mut product::Model, body: UpdateProduct) {
    fn text(field: &mut Option<String>, value: Option<String>) {
        if let Some(v) = value {
            *field = clean(Some(v));
        }
    }
    fn set<T>(field: &mut T, value: Option<T>) {
        if let Some(v) = value {
            *field = v;
        }
    }
    if let Some(name) = body.name {
        p.name = name.trim().to_owned();
    }
    text(&mut p.code, body.code);
    text(&mut p.enterprise_service_code, body.enterprise_service_code);
    set(&mut p.category_id, body.category_id);
    set(&mut p.service_type_id, body.service_type_id);
    text(&mut p.service_type, body.service_type);
    text(&mut p.service_subtype, body.service_subtype);
    text(&mut p.description, body.description);
    set(&mut p.validity_period, body.validity_period);
    set(&mut p.processing_days, body.processing_days);
    text(&mut p.processing_time_text, body.processing_time_text);
    set(&mut p.is_urgent_available, body.is_urgent_available);
    set(&mut p.urgent_processing_days, body.urgent_processing_days);
    set(&mut p.urgent_price_surcharge, body.urgent_price_surcharge);
    text(&mut p.required_documents, body.required_documents);
    text(&mut p.sla_description, body.sla_description);
    text(&mut p.service_level, body.service_level);
    set(&mut p.price_cost_idr, body.price_cost_idr);
    set(&mut p.price_cost_cny, body.price_cost_cny);
    set(&mut p.price_channel_idr, body.price_channel_idr);
    set(&mut p.price_channel_cny, body.price_channel_cny);
    set(&mut p.price_direct_idr, body.price_direct_idr);
    set(&mut p.price_direct_cny, body.price_direct_cny);
    set(&mut p.price_list_idr, body.price_list_idr);
    set(&mut p.price_list_cny, body.price_list_cny);
    if let Some(currency) = clean(body.default_currency) {
        p.default_currency = currency;
    }
    set(&mut p.exchange_rate, body.exchange_rate);
    set(&mut p.commission_rate, body.commission_rate);
    set(&mut p.commission_amount, body.commission_amount);
    set(&mut p.equivalent_cny, body.equivalent_cny);
    set(&mut p.monthly_orders, body.monthly_orders);
    set(&mut p.total_amount, body.total_amount);
    if let Some(status) = clean(body.status) {
        p.status = status;
    }
    text(&mut p.suspended_reason, body.suspended_reason);
    set(&mut p.discontinued_at, body.discontinued_at);
    set(&mut p.is_active, body.is_active);
    set(&mut p.is_locked, body.is_locked);
    if let Some(t) = body.tags {
        p.tags = tags(t);
    }
    text(&mut p.notes, body.notes);
}

/// Delete a product
///
/// Its vendor offers, prices and price history go with it (the foreign keys cascade).
#[utoipa::path(
    delete,
    path = "/api/service-management/products/{id}",
    tag = "products",
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
    product::Entity::delete_by_id(id).exec(&state.db).await?;
    Ok(with_before(ok(()), &ProductItem::new(before, None, None)))
}
