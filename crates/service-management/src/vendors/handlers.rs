use super::dto::{
    BatchAdd, BatchAddResult, BatchPrices, BatchPricesResult, ListServices, ListSuppliers, MAX_BATCH, ServicePrice,
    SupplierItem, SupplierService,
};
use super::model as offer;
use super::service::{self, CostChange, FOUNDATION_PAGE};
use crate::AppState;
use crate::access::{Organization, require_vendor_manage, vendor_access};
use crate::perm::{VendorProductManage, VendorProductView};
use crate::prices::model::price;
use crate::products::model as product;
use axum::extract::State;
use axum::response::Response;
use chrono::Utc;
use crm_common::api::openapi::{BadRequest, Forbidden, NoData, NotFound};
use crm_common::api::{Envelope, Json, Page, PageParams, Path, Query, RecordsPage, ok};
use crm_common::auth::Authorized;
use crm_common::http::audit::with_before;
use crm_common::http::peer::Forward;
use crm_common::{ApiError, ApiResult};
use rust_decimal::Decimal;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, IntoActiveModel, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect,
};
use serde_json::Value;
use std::collections::{HashMap, HashSet};
use uuid::Uuid;

/// Offers per supplier among `ids`: one grouped query.
async fn service_counts(state: &AppState, ids: Vec<Uuid>) -> ApiResult<HashMap<Uuid, u64>> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let rows: Vec<(Uuid, i64)> = offer::Entity::find()
        .select_only()
        .column(offer::Column::OrganizationId)
        .column_as(Expr::col(offer::Column::Id).count(), "n")
        .filter(offer::Column::OrganizationId.is_in(ids))
        .group_by(offer::Column::OrganizationId)
        .into_tuple()
        .all(&state.db)
        .await?;
    Ok(rows.into_iter().map(|(id, n)| (id, u64::try_from(n).unwrap_or(0))).collect())
}

/// List suppliers
///
/// Vendor organizations from foundation (as the caller may see them there), each with the
/// number of products it offers, counted in one grouped query.
#[utoipa::path(
    get,
    path = "/api/service-management/suppliers",
    tag = "suppliers",
    params(ListSuppliers),
    responses(
        (status = 200, description = "A page of suppliers", body = Envelope<Page<SupplierItem>>),
        (status = 400, response = BadRequest),
        (status = 403, response = Forbidden),
    ),
    security(("bearer" = []))
)]
pub async fn list(
    State(state): State<AppState>,
    _caller: Authorized<VendorProductView>,
    forward: Forward,
    Query(q): Query<ListSuppliers>,
) -> ApiResult<Response> {
    let (page, size) = PageParams { page: q.page, size: q.size, page_size: q.page_size }.resolve(10, 1000)?;
    let mut filters = String::from("organization_type=vendor");
    let mut param = |k: &str, v: &str| {
        filters.push_str(&format!("&{k}={}", encode(v)));
    };
    if let Some(n) = q.name.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        param("name", n);
    }
    if let Some(c) = q.code.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        param("code", c);
    }
    if let Some(a) = q.is_active {
        param("is_active", &a.to_string());
    }
    if let Some(l) = q.is_locked {
        param("is_locked", &l.to_string());
    }
    let mut orgs = Vec::new();
    let mut total = 0;
    for (fpage, skip, take) in service::foundation_pages(page, size, FOUNDATION_PAGE) {
        let path = format!("/api/foundation/organizations?{filters}&page={fpage}&size={FOUNDATION_PAGE}");
        let answer: RecordsPage<Value> = state.foundation.get(&path, &forward).await.map(records)?;
        total = answer.total;
        let got = answer.records.len();
        orgs.extend(answer.records.iter().skip(skip).take(take).filter_map(Organization::from_value));
        if got < FOUNDATION_PAGE as usize {
            break;
        }
    }
    let counts = service_counts(&state, orgs.iter().map(|o| o.id).collect()).await?;
    let items: Vec<SupplierItem> = orgs
        .into_iter()
        .map(|o| {
            let n = counts.get(&o.id).copied().unwrap_or(0);
            SupplierItem::new(o, n)
        })
        .collect();
    Ok(ok(Page::new(items, total, page, size)))
}

/// foundation's `{records, total, …}` as read through `serde_json::Value`.
fn records(v: RecordsPageWire) -> RecordsPage<Value> {
    RecordsPage::new(v.records, v.total, v.current, v.size)
}

#[derive(serde::Deserialize)]
struct RecordsPageWire {
    #[serde(default)]
    records: Vec<Value>,
    #[serde(default)]
    total: u64,
    #[serde(default)]
    size: u64,
    #[serde(default)]
    current: u64,
}

/// Percent-encodes a query value (only unreserved characters pass).
fn encode(v: &str) -> String {
    v.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A supplier
#[utoipa::path(
    get,
    path = "/api/service-management/suppliers/{id}",
    tag = "suppliers",
    params(("id" = Uuid, Path)),
    responses(
        (status = 200, description = "The supplier", body = Envelope<SupplierItem>),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
    ),
    security(("bearer" = []))
)]
pub async fn get(
    State(state): State<AppState>,
    caller: Authorized<VendorProductView>,
    forward: Forward,
    Path(id): Path<Uuid>,
) -> ApiResult<Response> {
    vendor_access(&state, &forward, &caller, id).await?;
    let org = service::supplier(&state, &forward, id).await?;
    let n = service_counts(&state, vec![id]).await?.get(&id).copied().unwrap_or(0);
    Ok(ok(SupplierItem::new(org, n)))
}

/// A supplier's offered products
///
/// Each offer with its product and category, in one joined query; by product name.
#[utoipa::path(
    get,
    path = "/api/service-management/suppliers/{id}/services",
    tag = "suppliers",
    params(("id" = Uuid, Path), ListServices),
    responses(
        (status = 200, description = "A page of offers", body = Envelope<Page<SupplierService>>),
        (status = 400, response = BadRequest),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
    ),
    security(("bearer" = []))
)]
pub async fn services(
    State(state): State<AppState>,
    caller: Authorized<VendorProductView>,
    forward: Forward,
    Path(id): Path<Uuid>,
    Query(q): Query<ListServices>,
) -> ApiResult<Response> {
    let (page, size) = PageParams { page: q.page, size: q.size, page_size: q.page_size }.resolve(20, 1000)?;
    vendor_access(&state, &forward, &caller, id).await?;
    service::supplier(&state, &forward, id).await?;
    let mut count = offer::Entity::find().filter(offer::Column::OrganizationId.eq(id));
    let mut query = service::services_query(id);
    if let Some(a) = q.is_available {
        count = count.filter(offer::Column::IsAvailable.eq(a));
        query = query.filter(offer::Column::IsAvailable.eq(a));
    }
    let total = count.count(&state.db).await?;
    let items = query
        .order_by_asc(product::Column::Name)
        .order_by_asc(offer::Column::Id)
        .offset((page - 1) * size)
        .limit(size)
        .into_model::<SupplierService>()
        .all(&state.db)
        .await?;
    Ok(ok(Page::new(items, total, page, size)))
}

/// The supplier's prices of one product
///
/// The vendor-specific rows of `/prices` for this product, newest period first.
#[utoipa::path(
    get,
    path = "/api/service-management/suppliers/{id}/services/{product_id}/prices",
    tag = "suppliers",
    params(("id" = Uuid, Path), ("product_id" = Uuid, Path)),
    responses(
        (status = 200, description = "Its prices", body = Envelope<Vec<crate::prices::PriceItem>>),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
    ),
    security(("bearer" = []))
)]
pub async fn service_prices(
    State(state): State<AppState>,
    caller: Authorized<VendorProductView>,
    forward: Forward,
    Path((id, product_id)): Path<(Uuid, Uuid)>,
) -> ApiResult<Response> {
    vendor_access(&state, &forward, &caller, id).await?;
    let rows = price::Entity::find()
        .filter(price::Column::OrganizationId.eq(id))
        .filter(price::Column::ProductId.eq(product_id))
        .order_by_desc(price::Column::EffectiveFrom)
        .all(&state.db)
        .await?;
    Ok(ok(rows.into_iter().map(crate::prices::PriceItem::from).collect::<Vec<_>>()))
}

/// Set an offer's cost prices
///
/// Updates the offer and records each changed cost in the price history (type `cost`, this
/// vendor's), in one transaction.
#[utoipa::path(
    put,
    path = "/api/service-management/suppliers/{id}/services/{product_id}/price",
    tag = "suppliers",
    params(("id" = Uuid, Path), ("product_id" = Uuid, Path)),
    request_body = ServicePrice,
    responses(
        (status = 200, description = "The offer as updated", body = Envelope<SupplierService>),
        (status = 400, response = BadRequest),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
    ),
    security(("bearer" = []))
)]
pub async fn set_service_price(
    State(state): State<AppState>,
    caller: Authorized<VendorProductManage>,
    forward: Forward,
    Path((id, product_id)): Path<(Uuid, Uuid)>,
    Json(body): Json<ServicePrice>,
) -> ApiResult<Response> {
    service::check_costs(body.cost_price_idr, body.cost_price_cny)?;
    require_vendor_manage(&state, &forward, &caller, id).await?;
    let txn = crm_common::db::begin_write(&state.db).await?;
    let before = offer::Entity::find()
        .filter(offer::Column::OrganizationId.eq(id))
        .filter(offer::Column::ProductId.eq(product_id))
        .one(&txn)
        .await?
        .ok_or_else(|| ApiError::not_found("offer"))?;
    let from = body.effective_from.unwrap_or_else(Utc::now);
    let idr = body.cost_price_idr.map(crm_common::api::money::amount).or(before.cost_price_idr);
    let cny = body.cost_price_cny.map(crm_common::api::money::amount).or(before.cost_price_cny);
    let change = |currency, old, new| CostChange {
        vendor: id,
        product_id,
        currency,
        old,
        new,
        effective_from: from,
        by: caller.user_id,
    };
    service::record_cost(&txn, change("IDR", before.cost_price_idr, idr)).await?;
    service::record_cost(&txn, change("CNY", before.cost_price_cny, cny)).await?;
    let mut active = before.clone().into_active_model();
    active.cost_price_idr = Set(idr);
    active.cost_price_cny = Set(cny);
    active.updated_by = Set(Some(caller.user_id));
    active.updated_at = Set(Utc::now());
    active.version = Set(before.version + 1);
    active.update(&txn).await?;
    let item = service::service(&txn, id, product_id).await?;
    txn.commit().await?;
    Ok(ok(item))
}

/// Offer several products
///
/// The supplier must be an active, unlocked vendor or internal organization (400). Unknown
/// products and products it already offers are reported as failed; the rest are added in one
/// transaction (becoming their products' primary supplier when `is_primary`).
#[utoipa::path(
    post,
    path = "/api/service-management/suppliers/{id}/products/batch",
    tag = "suppliers",
    params(("id" = Uuid, Path)),
    request_body = BatchAdd,
    responses(
        (status = 200, description = "What was added", body = Envelope<BatchAddResult>),
        (status = 400, response = BadRequest),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
    ),
    security(("bearer" = []))
)]
pub async fn batch_add(
    State(state): State<AppState>,
    caller: Authorized<VendorProductManage>,
    forward: Forward,
    Path(id): Path<Uuid>,
    Json(body): Json<BatchAdd>,
) -> ApiResult<Response> {
    if body.product_ids.len() > MAX_BATCH {
        return Err(ApiError::field("product_ids", format!("at most {MAX_BATCH} products")));
    }
    service::check_costs(body.default_cost_price_idr, body.default_cost_price_cny)?;
    require_vendor_manage(&state, &forward, &caller, id).await?;
    let org =
        crate::access::organization(&state, &forward, id).await?.ok_or_else(|| ApiError::not_found("supplier"))?;
    if !org.can_supply() {
        return Err(ApiError::bad_request(
            "only an active, unlocked vendor or internal organization can offer products",
        ));
    }
    let mut wanted = Vec::new();
    let mut seen = HashSet::new();
    for p in &body.product_ids {
        if seen.insert(*p) {
            wanted.push(*p);
        }
    }
    let primary = body.is_primary.unwrap_or(false);
    let txn = crm_common::db::begin_write(&state.db).await?;
    let known: HashSet<Uuid> = if wanted.is_empty() {
        HashSet::new()
    } else {
        let ids: Vec<Uuid> = product::Entity::find()
            .select_only()
            .column(product::Column::Id)
            .filter(product::Column::Id.is_in(wanted.clone()))
            .into_tuple()
            .all(&txn)
            .await?;
        let offered: Vec<Uuid> = offer::Entity::find()
            .select_only()
            .column(offer::Column::ProductId)
            .filter(offer::Column::OrganizationId.eq(id))
            .filter(offer::Column::ProductId.is_in(wanted.clone()))
            .into_tuple()
            .all(&txn)
            .await?;
        let offered: HashSet<Uuid> = offered.into_iter().collect();
        ids.into_iter().filter(|p| !offered.contains(p)).collect()
    };
    let (added, failed): (Vec<Uuid>, Vec<Uuid>) = wanted.into_iter().partition(|p| known.contains(p));
    if primary {
        service::clear_other_primaries(&txn, added.clone(), id).await?;
    }
    let now = Utc::now();
    let rows: Vec<offer::ActiveModel> = added
        .iter()
        .map(|p| offer::ActiveModel {
            id: Set(Uuid::now_v7()),
            organization_id: Set(id),
            product_id: Set(*p),
            is_primary: Set(primary),
            priority: Set(0),
            cost_price_idr: Set(body.default_cost_price_idr.map(crm_common::api::money::amount)),
            cost_price_cny: Set(body.default_cost_price_cny.map(crm_common::api::money::amount)),
            exchange_rate: Set(Decimal::from(2000)),
            min_quantity: Set(1),
            max_quantity: Set(None),
            lead_time_days: Set(None),
            processing_days: Set(None),
            is_available: Set(body.is_available.unwrap_or(true)),
            availability_notes: Set(None),
            available_from: Set(None),
            available_to: Set(None),
            account_code: Set(None),
            cost_center: Set(None),
            expense_category: Set(None),
            notes: Set(None),
            created_by: Set(Some(caller.user_id)),
            updated_by: Set(Some(caller.user_id)),
            created_at: Set(now),
            updated_at: Set(now),
            version: Set(1),
        })
        .collect();
    if !rows.is_empty() {
        offer::Entity::insert_many(rows).exec(&txn).await?;
    }
    txn.commit().await?;
    Ok(ok(BatchAddResult {
        success_count: added.len(),
        failed_count: failed.len(),
        success_product_ids: added,
        failed_product_ids: failed,
    }))
}

/// Change several offers' costs and terms
///
/// Each row names a product the supplier offers (else it is reported as failed) and its cost
/// either as `cost_price` + `currency` or as `cost_price_idr`/`cost_price_cny`. Changed costs go
/// to the price history; `is_primary: true` clears the product's other primary supplier. One
/// transaction.
#[utoipa::path(
    put,
    path = "/api/service-management/suppliers/{id}/products/batch-prices",
    tag = "suppliers",
    params(("id" = Uuid, Path)),
    request_body = BatchPrices,
    responses(
        (status = 200, description = "What was changed", body = Envelope<BatchPricesResult>),
        (status = 400, response = BadRequest),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
    ),
    security(("bearer" = []))
)]
pub async fn batch_prices(
    State(state): State<AppState>,
    caller: Authorized<VendorProductManage>,
    forward: Forward,
    Path(id): Path<Uuid>,
    Json(body): Json<BatchPrices>,
) -> ApiResult<Response> {
    if body.updates.len() > MAX_BATCH {
        return Err(ApiError::field("updates", format!("at most {MAX_BATCH} rows")));
    }
    let mut costs = Vec::with_capacity(body.updates.len());
    for u in &body.updates {
        costs.push(service::row_costs(u)?);
        if u.processing_days.is_some_and(|d| d < 0) {
            return Err(ApiError::field("processing_days", "must be 0 or more"));
        }
    }
    require_vendor_manage(&state, &forward, &caller, id).await?;
    let txn = crm_common::db::begin_write(&state.db).await?;
    let ids: Vec<Uuid> = body.updates.iter().map(|u| u.product_id).collect();
    let offers: HashMap<Uuid, offer::Model> = if ids.is_empty() {
        HashMap::new()
    } else {
        offer::Entity::find()
            .filter(offer::Column::OrganizationId.eq(id))
            .filter(offer::Column::ProductId.is_in(ids))
            .all(&txn)
            .await?
            .into_iter()
            .map(|o| (o.product_id, o))
            .collect()
    };
    let now = Utc::now();
    let mut done = 0;
    let mut failed = Vec::new();
    let mut current = offers;
    for (u, (idr, cny)) in body.updates.iter().zip(costs) {
        let Some(before) = current.remove(&u.product_id) else {
            failed.push(u.product_id);
            continue;
        };
        let idr = idr.map(crm_common::api::money::amount).or(before.cost_price_idr);
        let cny = cny.map(crm_common::api::money::amount).or(before.cost_price_cny);
        let change = |currency, old, new| CostChange {
            vendor: id,
            product_id: u.product_id,
            currency,
            old,
            new,
            effective_from: now,
            by: caller.user_id,
        };
        service::record_cost(&txn, change("IDR", before.cost_price_idr, idr)).await?;
        service::record_cost(&txn, change("CNY", before.cost_price_cny, cny)).await?;
        if u.is_primary == Some(true) {
            service::clear_other_primaries(&txn, vec![u.product_id], id).await?;
        }
        let mut active = before.clone().into_active_model();
        active.cost_price_idr = Set(idr);
        active.cost_price_cny = Set(cny);
        if let Some(d) = u.processing_days {
            active.processing_days = Set(Some(d));
        }
        if let Some(a) = u.is_available {
            active.is_available = Set(a);
        }
        if let Some(p) = u.is_primary {
            active.is_primary = Set(p);
        }
        if let Some(p) = u.priority {
            active.priority = Set(p);
        }
        active.updated_by = Set(Some(caller.user_id));
        active.updated_at = Set(now);
        active.version = Set(before.version + 1);
        let saved = active.update(&txn).await?;
        // A product named twice in one batch sees its first change.
        current.insert(saved.product_id, saved);
        done += 1;
    }
    txn.commit().await?;
    Ok(ok(BatchPricesResult { success_count: done, failed_count: failed.len(), failed_product_ids: failed }))
}

/// The products a supplier already offers
///
/// Their ids, as strings: the batch picker greys them out.
#[utoipa::path(
    get,
    path = "/api/service-management/suppliers/{id}/products/existing",
    tag = "suppliers",
    params(("id" = Uuid, Path)),
    responses(
        (status = 200, description = "Product ids", body = Envelope<Vec<Uuid>>),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
    ),
    security(("bearer" = []))
)]
pub async fn existing(
    State(state): State<AppState>,
    caller: Authorized<VendorProductView>,
    forward: Forward,
    Path(id): Path<Uuid>,
) -> ApiResult<Response> {
    vendor_access(&state, &forward, &caller, id).await?;
    let ids: Vec<Uuid> = offer::Entity::find()
        .select_only()
        .column(offer::Column::ProductId)
        .filter(offer::Column::OrganizationId.eq(id))
        .order_by_asc(offer::Column::CreatedAt)
        .into_tuple()
        .all(&state.db)
        .await?;
    Ok(ok(ids.into_iter().map(|p| p.to_string()).collect::<Vec<_>>()))
}

/// Stop offering a product
#[utoipa::path(
    delete,
    path = "/api/service-management/suppliers/{id}/products/{product_id}",
    tag = "suppliers",
    params(("id" = Uuid, Path), ("product_id" = Uuid, Path)),
    responses(
        (status = 200, description = "Removed", body = Envelope<NoData>),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
    ),
    security(("bearer" = []))
)]
pub async fn remove(
    State(state): State<AppState>,
    caller: Authorized<VendorProductManage>,
    forward: Forward,
    Path((id, product_id)): Path<(Uuid, Uuid)>,
) -> ApiResult<Response> {
    require_vendor_manage(&state, &forward, &caller, id).await?;
    let before = service::service(&state.db, id, product_id).await?;
    offer::Entity::delete_by_id(before.id).exec(&state.db).await?;
    Ok(with_before(ok(()), &before))
}
