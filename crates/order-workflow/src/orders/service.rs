//! The order rules that touch the database or a peer: who sees and changes which order, how a
//! new order is checked against service-management (customer, products) and foundation (the
//! seller), and the writes. Every write that changes items recomputes the order's totals in the
//! same transaction, with the order row locked, so totals never drift from the items.

use super::dto::{AssignOrder, CreateItem, CreateOrder, ItemView, OrderView, UpdateItem, UpdateOrder};
use super::model::{assignment, item, order};
use super::rules::{self, Actor};
use crate::AppState;
use crate::notifications::triggers::{OrderEvent, order_event};
use crate::perm::{CUSTOMER_PII, ORDER_APPROVE, OrderAssign};
use chrono::{NaiveDate, Utc};
use crm_common::api::patch::{clean, set_text};
use crm_common::api::validate::Validator;
use crm_common::auth::{Permission, Principal};
use crm_common::db::{begin_write, is_unique_violation};
use crm_common::http::peer::{Forward, text_of};
use crm_common::{ApiError, ApiResult, pii};
use rust_decimal::Decimal;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, EntityTrait, IntoActiveModel,
    QueryFilter, QueryOrder, QuerySelect, TransactionTrait,
};
use serde::Deserialize;
use std::collections::{HashMap, HashSet};
use uuid::Uuid;

/// What the caller may see and change of orders.
#[derive(Debug, Clone, Copy)]
pub struct Viewer {
    pub user_id: Uuid,
    pub organization_id: Uuid,
    /// Sees every order of the organization: managers (ADMIN), operations and finance. Sellers
    /// see the orders they sold or created.
    pub org_wide: bool,
    /// Holds `customer.pii`: sees passport numbers unmasked on every order it sees.
    pub sees_pii: bool,
    pub actor: Actor,
}

impl Viewer {
    pub fn of(p: &Principal) -> Self {
        Self {
            user_id: p.user_id,
            organization_id: p.organization_id,
            org_wide: p.is_platform_admin || ["ADMIN", "OPERATION", "FINANCE"].iter().any(|r| p.has_role(r)),
            sees_pii: p.has(CUSTOMER_PII),
            actor: Actor { user_id: p.user_id, approver: p.has(ORDER_APPROVE), assigner: p.has(OrderAssign::CODE) },
        }
    }

    fn mine(&self, o: &order::Model) -> bool {
        o.sales_user_id == self.user_id || o.created_by == Some(self.user_id)
    }

    pub fn can_see(&self, o: &order::Model) -> bool {
        o.organization_id == self.organization_id && (self.org_wide || self.mine(o))
    }

    /// Passport numbers: with `customer.pii`, or to whoever sold or delivers the order.
    pub fn sees_pii_of(&self, o: &order::Model, assignee: Option<Uuid>) -> bool {
        self.sees_pii || o.sales_user_id == self.user_id || assignee == Some(self.user_id)
    }

    /// The list's visibility as a condition.
    pub fn condition(&self) -> Condition {
        let mut cond = Condition::all().add(order::Column::OrganizationId.eq(self.organization_id));
        if !self.org_wide {
            cond = cond.add(
                Condition::any()
                    .add(order::Column::SalesUserId.eq(self.user_id))
                    .add(order::Column::CreatedBy.eq(self.user_id)),
            );
        }
        cond
    }
}

/// An order the caller may see; anything else (another organization's, another seller's) is a
/// 404, as if it did not exist.
pub async fn find_visible(db: &impl ConnectionTrait, viewer: &Viewer, id: Uuid) -> ApiResult<order::Model> {
    order::Entity::find_by_id(id)
        .one(db)
        .await?
        .filter(|o| viewer.can_see(o))
        .ok_or_else(|| ApiError::not_found("order"))
}

/// The same, read with the row locked for the rest of `txn` (PostgreSQL; SQLite's write
/// transactions are exclusive already), so item writes and total recomputation of one order
/// happen one after another.
pub async fn lock_visible(txn: &impl ConnectionTrait, viewer: &Viewer, id: Uuid) -> ApiResult<order::Model> {
    order::Entity::find_by_id(id)
        .lock_exclusive()
        .one(txn)
        .await?
        .filter(|o| viewer.can_see(o))
        .ok_or_else(|| ApiError::not_found("order"))
}

pub fn open_for_changes(o: &order::Model) -> ApiResult<()> {
    if matches!(o.status_code.as_str(), "completed" | "cancelled") {
        Err(ApiError::conflict(format!("the order is {} and can no longer change", o.status_code)))
    } else {
        Ok(())
    }
}

/// The operator currently assigned to each of `orders`.
pub async fn assignees(db: &impl ConnectionTrait, orders: &[Uuid]) -> ApiResult<HashMap<Uuid, Uuid>> {
    if orders.is_empty() {
        return Ok(HashMap::new());
    }
    let rows = assignment::Entity::find()
        .filter(assignment::Column::OrderId.is_in(orders.iter().copied()))
        .filter(assignment::Column::UnassignedAt.is_null())
        .filter(assignment::Column::IsPrimary.eq(true))
        .all(db)
        .await?;
    Ok(rows.into_iter().map(|a| (a.order_id, a.assigned_to_user_id)).collect())
}

/// `zh` (default) or `id`.
pub fn lang_of(lang: Option<&str>) -> ApiResult<bool> {
    match lang.map(str::trim).filter(|l| !l.is_empty()) {
        None | Some("zh") => Ok(false),
        Some("id") => Ok(true),
        Some(_) => Err(ApiError::field("lang", "must be zh or id")),
    }
}

/// The text in the asked language, falling back to the other one.
pub fn pick(indonesian: bool, zh: &Option<String>, id: &Option<String>) -> Option<String> {
    if indonesian { id.clone().or_else(|| zh.clone()) } else { zh.clone().or_else(|| id.clone()) }
}

pub fn status_name(code: &str, indonesian: bool) -> String {
    let (zh, id) = match code {
        "submitted" => ("已提交", "Diajukan"),
        "approved" => ("已批准", "Disetujui"),
        "assigned" => ("已分配", "Ditugaskan"),
        "processing" => ("处理中", "Diproses"),
        "completed" => ("已完成", "Selesai"),
        "cancelled" => ("已取消", "Dibatalkan"),
        other => (other, other),
    };
    if indonesian { id.into() } else { zh.into() }
}

pub fn item_view(i: item::Model, indonesian: bool) -> ItemView {
    ItemView {
        product_name: pick(indonesian, &i.product_name_zh, &i.product_name_id),
        service_type_name: pick(indonesian, &i.service_type_name_zh, &i.service_type_name_id),
        description: pick(indonesian, &i.description_zh, &i.description_id),
        id: i.id,
        order_id: i.order_id,
        item_number: i.item_number,
        product_id: i.product_id,
        product_name_zh: i.product_name_zh,
        product_name_id: i.product_name_id,
        product_code: i.product_code,
        service_type_id: i.service_type_id,
        service_type_name_zh: i.service_type_name_zh,
        service_type_name_id: i.service_type_name_id,
        quantity: i.quantity,
        unit: i.unit,
        unit_price: i.unit_price,
        discount_amount: i.discount_amount,
        item_amount: i.item_amount,
        currency_code: i.currency_code,
        description_zh: i.description_zh,
        description_id: i.description_id,
        requirements: i.requirements,
        expected_start_date: i.expected_start_date,
        expected_completion_date: i.expected_completion_date,
        status: i.status,
        created_at: i.created_at,
        updated_at: i.updated_at,
        version: i.version,
    }
}

/// The answer for `rows`: seller and operator names by one lookup for the whole page, the
/// current assignees by one query, and (for details) the items by one query.
pub async fn views(
    state: &AppState,
    forward: &Forward,
    viewer: &Viewer,
    rows: Vec<order::Model>,
    indonesian: bool,
    with_items: bool,
) -> ApiResult<Vec<OrderView>> {
    views_as(state, Some(forward), viewer, rows, indonesian, with_items).await
}

/// [`views`]; without a caller to ask foundation as (`forward` `None`: a shared link opened by
/// anyone), the people's names are left out.
pub async fn views_as(
    state: &AppState,
    forward: Option<&Forward>,
    viewer: &Viewer,
    rows: Vec<order::Model>,
    indonesian: bool,
    with_items: bool,
) -> ApiResult<Vec<OrderView>> {
    let ids: Vec<Uuid> = rows.iter().map(|o| o.id).collect();
    let assigned = assignees(&state.db, &ids).await?;
    let people: HashSet<Uuid> = rows.iter().map(|o| o.sales_user_id).chain(assigned.values().copied()).collect();
    let users = match forward {
        Some(forward) => state.users.get(people, forward).await?,
        None => HashMap::new(),
    };
    let mut items: HashMap<Uuid, Vec<ItemView>> = HashMap::new();
    if with_items && !ids.is_empty() {
        let found = item::Entity::find()
            .filter(item::Column::OrderId.is_in(ids.iter().copied()))
            .order_by_asc(item::Column::ItemNumber)
            .all(&state.db)
            .await?;
        for i in found {
            items.entry(i.order_id).or_default().push(item_view(i, indonesian));
        }
    }
    Ok(rows
        .into_iter()
        .map(|o| {
            let assignee = assigned.get(&o.id).copied();
            let hide = !viewer.sees_pii_of(&o, assignee);
            OrderView {
                sales_username: text_of(&users, Some(o.sales_user_id), "username"),
                assigned_to_user_id: assignee,
                assigned_to_username: text_of(&users, assignee, "username"),
                status_name: status_name(&o.status_code, indonesian),
                passport_id: pii::masked(o.passport_id, hide, pii::document),
                pii_masked: hide,
                order_items: with_items.then(|| items.remove(&o.id).unwrap_or_default()),
                id: o.id,
                organization_id: o.organization_id,
                order_number: o.order_number,
                title: o.title,
                customer_id: o.customer_id,
                customer_name: o.customer_name,
                service_record_id: o.service_record_id,
                opportunity_id: o.opportunity_id,
                sales_user_id: o.sales_user_id,
                total_amount: o.total_amount,
                discount_amount: o.discount_amount,
                final_amount: o.final_amount,
                currency_code: o.currency_code,
                exchange_rate: o.exchange_rate,
                status_code: o.status_code,
                expected_start_date: o.expected_start_date,
                expected_completion_date: o.expected_completion_date,
                actual_start_date: o.actual_start_date,
                actual_completion_date: o.actual_completion_date,
                customer_notes: o.customer_notes,
                internal_notes: o.internal_notes,
                requirements: o.requirements,
                description: o.description,
                notes: o.notes,
                entry_city: o.entry_city,
                processor: o.processor,
                created_by: o.created_by,
                updated_by: o.updated_by,
                created_at: o.created_at,
                updated_at: o.updated_at,
                version: o.version,
            }
        })
        .collect())
}

pub async fn one(
    state: &AppState,
    forward: &Forward,
    viewer: &Viewer,
    o: order::Model,
    indonesian: bool,
) -> ApiResult<OrderView> {
    views(state, forward, viewer, vec![o], indonesian, true)
        .await?
        .pop()
        .ok_or_else(|| ApiError::internal("empty order view"))
}

/// A customer as service-management shows it to the caller.
#[derive(Debug, Deserialize)]
struct CustomerRef {
    name: String,
}

/// The customer's name, if the caller may see the customer in service-management (400 naming
/// the field otherwise).
async fn customer_name(state: &AppState, forward: &Forward, id: Uuid) -> ApiResult<String> {
    let path = format!("/api/service-management/customers/{id}");
    match state.service_management.get::<CustomerRef>(&path, forward).await {
        Ok(c) => Ok(c.name),
        Err(ApiError::NotFound(_)) => Err(ApiError::field("customer_id", "no such customer")),
        Err(e) => Err(e),
    }
}

/// What an item copies from its product.
#[derive(Debug, Clone, Deserialize)]
pub struct ProductRef {
    pub name: String,
    pub code: Option<String>,
    pub service_type_id: Option<Uuid>,
    pub service_type_name: Option<String>,
    #[serde(default, with = "crm_common::api::money::opt")]
    pub price_direct_cny: Option<Decimal>,
    #[serde(default, with = "crm_common::api::money::opt")]
    pub price_direct_idr: Option<Decimal>,
}

/// The products named by items, one call per distinct product (400 naming the item for an
/// unknown one).
async fn products(state: &AppState, forward: &Forward, items: &[CreateItem]) -> ApiResult<HashMap<Uuid, ProductRef>> {
    let mut found = HashMap::new();
    for (n, i) in items.iter().enumerate() {
        let Some(id) = i.product_id else { continue };
        if found.contains_key(&id) {
            continue;
        }
        let path = format!("/api/service-management/products/{id}");
        match state.service_management.get::<ProductRef>(&path, forward).await {
            Ok(p) => {
                found.insert(id, p);
            }
            Err(ApiError::NotFound(_)) => {
                return Err(ApiError::field(&format!("order_items[{n}].product_id"), "no such product"));
            }
            Err(e) => return Err(e),
        }
    }
    Ok(found)
}

/// `user` is a member of the caller's organization as foundation shows it (400 otherwise).
pub async fn check_member(state: &AppState, forward: &Forward, field: &str, user: Uuid) -> ApiResult<()> {
    if state.users.get([user], forward).await?.contains_key(&user) {
        Ok(())
    } else {
        Err(ApiError::field(field, "not a user of this organization"))
    }
}

fn validate_item(v: &mut Validator, prefix: &str, i: &CreateItem) {
    let f = |name: &str| format!("{prefix}{name}");
    v.check(i.quantity.is_none_or(|q| q >= 1), &f("quantity"), "must be at least 1")
        .check(i.unit_price.is_none_or(|p| p >= Decimal::ZERO), &f("unit_price"), "must not be negative")
        .check(i.discount_amount.is_none_or(|p| p >= Decimal::ZERO), &f("discount_amount"), "must not be negative")
        .check(i.item_number.is_none_or(|n| n >= 1), &f("item_number"), "must be at least 1")
        .one_of(&f("status"), i.status.as_deref(), rules::ITEM_STATUSES)
        .optional_length(&f("currency_code"), i.currency_code.as_deref(), 10)
        .optional_length(&f("unit"), i.unit.as_deref(), 50);
}

/// The item row for `i` (validated), with the product's name, code and price copied onto it.
fn new_item(
    org: Uuid,
    order_id: Uuid,
    number: i32,
    i: CreateItem,
    product: Option<&ProductRef>,
    order_currency: &str,
    indonesian: bool,
) -> ApiResult<(item::ActiveModel, Option<Decimal>)> {
    let currency = clean(i.currency_code).unwrap_or_else(|| order_currency.to_owned());
    let quantity = i.quantity.unwrap_or(1);
    let discount = i.discount_amount.unwrap_or_default();
    let listed = product.and_then(|p| if currency == "IDR" { p.price_direct_idr } else { p.price_direct_cny });
    let unit_price = i.unit_price.or(listed);
    let amount = rules::item_amount(quantity, unit_price, discount)?;
    let named = clean(i.product_name);
    let (mut name_zh, mut name_id) = (clean(i.product_name_zh), clean(i.product_name_id));
    if let Some(n) = named {
        if indonesian { name_id = name_id.or(Some(n)) } else { name_zh = name_zh.or(Some(n)) }
    }
    if let Some(p) = product {
        name_zh = name_zh.or_else(|| Some(p.name.clone()));
        name_id = name_id.or_else(|| Some(p.name.clone()));
    }
    let (mut desc_zh, mut desc_id) = (clean(i.description_zh), clean(i.description_id));
    if let Some(d) = clean(i.description) {
        if indonesian { desc_id = desc_id.or(Some(d)) } else { desc_zh = desc_zh.or(Some(d)) }
    }
    let now = Utc::now();
    let row = item::ActiveModel {
        id: Set(Uuid::now_v7()),
        organization_id: Set(org),
        order_id: Set(order_id),
        item_number: Set(number),
        product_id: Set(i.product_id),
        product_name_zh: Set(name_zh),
        product_name_id: Set(name_id),
        product_code: Set(clean(i.product_code).or_else(|| product.and_then(|p| p.code.clone()))),
        service_type_id: Set(i.service_type_id.or_else(|| product.and_then(|p| p.service_type_id))),
        service_type_name_zh: Set(
            clean(i.service_type_name_zh).or_else(|| product.and_then(|p| p.service_type_name.clone()))
        ),
        service_type_name_id: Set(
            clean(i.service_type_name_id).or_else(|| product.and_then(|p| p.service_type_name.clone()))
        ),
        quantity: Set(quantity),
        unit: Set(clean(i.unit)),
        unit_price: Set(unit_price),
        discount_amount: Set(discount),
        item_amount: Set(amount),
        currency_code: Set(currency),
        description_zh: Set(desc_zh),
        description_id: Set(desc_id),
        requirements: Set(clean(i.requirements)),
        expected_start_date: Set(i.expected_start_date),
        expected_completion_date: Set(i.expected_completion_date),
        status: Set(i.status.unwrap_or_else(|| "pending".into())),
        created_at: Set(now),
        updated_at: Set(now),
        version: Set(1),
    };
    Ok((row, amount))
}

/// A new order, checked and with everything it needs from the peers, ready to be written in a
/// transaction (alone, or with the opportunity it is converted from).
pub struct NewOrder {
    order: order::ActiveModel,
    items: Vec<item::ActiveModel>,
}

/// Where a new order comes from besides the request: an opportunity being converted.
#[derive(Debug, Default, Clone, Copy)]
pub struct Origin {
    pub opportunity_id: Option<Uuid>,
}

/// Checks `body` and resolves what it names (customer, products, seller) before anything is
/// written. Status is always `submitted`; items are numbered by position; totals are the items'.
pub async fn prepare(
    state: &AppState,
    forward: &Forward,
    viewer: &Viewer,
    body: CreateOrder,
    origin: Origin,
    indonesian: bool,
) -> ApiResult<NewOrder> {
    let mut v = Validator::new();
    v.length("title", body.title.trim(), 1, 255)
        .check(body.discount_amount.is_none_or(|d| d >= Decimal::ZERO), "discount_amount", "must not be negative")
        .check(body.exchange_rate.is_none_or(|r| r > Decimal::ZERO), "exchange_rate", "must be greater than 0")
        .optional_length("currency_code", body.currency_code.as_deref(), 10)
        .optional_length("entry_city", body.entry_city.as_deref(), 100)
        .optional_length("passport_id", body.passport_id.as_deref(), 100)
        .optional_length("processor", body.processor.as_deref(), 100)
        .check(body.order_items.len() <= 500, "order_items", "at most 500 items per order");
    for (n, i) in body.order_items.iter().enumerate() {
        validate_item(&mut v, &format!("order_items[{n}]."), i);
    }
    v.finish()?;
    let seller = body.sales_user_id.unwrap_or(viewer.user_id);
    if seller != viewer.user_id {
        check_member(state, forward, "sales_user_id", seller).await?;
    }
    let customer = customer_name(state, forward, body.customer_id).await?;
    let products = products(state, forward, &body.order_items).await?;
    let id = Uuid::now_v7();
    let currency = clean(body.currency_code).unwrap_or_else(|| "CNY".into());
    let mut items = Vec::with_capacity(body.order_items.len());
    let mut amounts = Vec::with_capacity(body.order_items.len());
    for (n, i) in body.order_items.into_iter().enumerate() {
        let product = i.product_id.and_then(|p| products.get(&p));
        let number = i32::try_from(n + 1).map_err(ApiError::internal)?;
        let (row, amount) = new_item(viewer.organization_id, id, number, i, product, &currency, indonesian)?;
        items.push(row);
        amounts.push(amount);
    }
    let discount = body.discount_amount.map(crm_common::api::money::amount).unwrap_or_default();
    let (total, final_amount) = rules::totals(amounts, discount);
    let now = Utc::now();
    let order = order::ActiveModel {
        id: Set(id),
        organization_id: Set(viewer.organization_id),
        order_number: Set(String::new()),
        title: Set(body.title.trim().to_owned()),
        customer_id: Set(body.customer_id),
        customer_name: Set(Some(customer)),
        service_record_id: Set(body.service_record_id),
        opportunity_id: Set(origin.opportunity_id),
        sales_user_id: Set(seller),
        total_amount: Set(total),
        discount_amount: Set(discount),
        final_amount: Set(final_amount),
        currency_code: Set(currency),
        exchange_rate: Set(body.exchange_rate),
        status_code: Set("submitted".into()),
        expected_start_date: Set(body.expected_start_date),
        expected_completion_date: Set(body.expected_completion_date),
        actual_start_date: Set(None),
        actual_completion_date: Set(None),
        customer_notes: Set(clean(body.customer_notes)),
        internal_notes: Set(clean(body.internal_notes)),
        requirements: Set(clean(body.requirements)),
        description: Set(clean(body.description)),
        notes: Set(clean(body.notes)),
        entry_city: Set(clean(body.entry_city)),
        passport_id: Set(clean(body.passport_id)),
        processor: Set(clean(body.processor)),
        created_by: Set(Some(viewer.user_id)),
        updated_by: Set(Some(viewer.user_id)),
        created_at: Set(now),
        updated_at: Set(now),
        version: Set(1),
    };
    Ok(NewOrder { order, items })
}

/// How often a freshly drawn order number may collide before giving up: with six hexadecimal
/// characters per day a collision is rare, two in a row rarer still.
const NUMBER_ATTEMPTS: usize = 8;

/// Writes a prepared order in `txn` under a new number. Each attempt runs in a savepoint, so a
/// number another order took meanwhile (the unique index) is retried with a fresh one without
/// losing the rest of the transaction.
pub async fn insert(txn: &sea_orm::DatabaseTransaction, new: NewOrder) -> ApiResult<order::Model> {
    let NewOrder { order, items } = new;
    for _ in 0..NUMBER_ATTEMPTS {
        let mut attempt = order.clone();
        attempt.order_number = Set(rules::order_number(Utc::now().date_naive(), Uuid::new_v4()));
        let savepoint = txn.begin().await?;
        match attempt.insert(&savepoint).await {
            Ok(saved) => {
                if !items.is_empty() {
                    item::Entity::insert_many(items).exec_without_returning(&savepoint).await?;
                }
                savepoint.commit().await?;
                crate::workflows::engine::start_for_new_order(txn, &saved).await?;
                return Ok(saved);
            }
            Err(e) if is_unique_violation(&e) => savepoint.rollback().await?,
            Err(e) => return Err(e.into()),
        }
    }
    Err(ApiError::Unavailable("could not draw a free order number; try again".into()))
}

pub async fn create(
    state: &AppState,
    forward: &Forward,
    viewer: &Viewer,
    body: CreateOrder,
    indonesian: bool,
) -> ApiResult<order::Model> {
    let new = prepare(state, forward, viewer, body, Origin::default(), indonesian).await?;
    let txn = begin_write(&state.db).await?;
    let saved = insert(&txn, new).await?;
    txn.commit().await?;
    Ok(saved)
}

/// Recomputes `o`'s totals from its items (inside the transaction that changed them) and bumps
/// its version: a change of items is a change of the order.
async fn retotal(txn: &impl ConnectionTrait, viewer: &Viewer, o: &order::Model) -> ApiResult<order::Model> {
    let amounts: Vec<Option<Decimal>> = item::Entity::find()
        .select_only()
        .column(item::Column::ItemAmount)
        .filter(item::Column::OrderId.eq(o.id))
        .into_tuple()
        .all(txn)
        .await?;
    let (total, final_amount) = rules::totals(amounts, o.discount_amount);
    let mut a = o.clone().into_active_model();
    a.total_amount = Set(total);
    a.final_amount = Set(final_amount);
    a.updated_by = Set(Some(viewer.user_id));
    a.updated_at = Set(Utc::now());
    a.version = Set(o.version + 1);
    Ok(a.update(txn).await?)
}

/// 409 carrying the order as it now is.
pub async fn stale(state: &AppState, forward: &Forward, viewer: &Viewer, current: order::Model) -> ApiError {
    let current = one(state, forward, viewer, current, false).await.ok();
    ApiError::Conflict {
        message: "the order was changed by someone else; here is its current version".into(),
        current: current.and_then(|c| serde_json::to_value(c).ok()),
    }
}

/// Applies `body` to an order the caller may see. A status change follows the machine and its
/// role rules; `assigned` is reached only through `POST /orders/{id}/assign`. A new customer is
/// checked in service-management and its name copied; a new discount recomputes the totals.
pub async fn update(
    state: &AppState,
    forward: &Forward,
    viewer: &Viewer,
    id: Uuid,
    body: UpdateOrder,
    expected: Option<i32>,
) -> ApiResult<(order::Model, order::Model)> {
    let current = find_visible(&state.db, viewer, id).await?;
    if let Some(v) = expected
        && v != current.version
    {
        return Err(stale(state, forward, viewer, current).await);
    }
    let mut v = Validator::new();
    if let Some(t) = &body.title {
        v.length("title", t.trim(), 1, 255);
    }
    v.check(body.discount_amount.is_none_or(|d| d >= Decimal::ZERO), "discount_amount", "must not be negative")
        .check(body.exchange_rate.is_none_or(|r| r > Decimal::ZERO), "exchange_rate", "must be greater than 0")
        .one_of("status_code", body.status_code.as_deref(), rules::STATUSES)
        .optional_length("currency_code", body.currency_code.as_deref(), 10)
        .optional_length("passport_id", body.passport_id.as_deref(), 100);
    v.finish()?;
    let status_change = body.status_code.clone().filter(|s| *s != current.status_code);
    let only_status = status_change.is_some() && is_status_only(&body);
    if !only_status {
        open_for_changes(&current)?;
    }
    let customer = match body.customer_id.filter(|c| *c != current.customer_id) {
        Some(c) => Some((c, customer_name(state, forward, c).await?)),
        None => None,
    };
    let txn = begin_write(&state.db).await?;
    let before = lock_visible(&txn, viewer, id).await?;
    if before.version != current.version && expected.is_some() {
        return Err(stale(state, forward, viewer, before).await);
    }
    if let Some(to) = &status_change {
        rules::check_move(&before.status_code, to)?;
        if to == "assigned" {
            return Err(ApiError::conflict("an order is assigned with POST /orders/{id}/assign, naming the operator"));
        }
        let assignee = assignees(&txn, &[id]).await?.get(&id).copied();
        rules::check_actor(&viewer.actor, &before.status_code, to, before.sales_user_id, assignee)?;
        crate::workflows::engine::on_order_status(&txn, &before, to, &viewer.actor).await?;
        if to == "completed" {
            let open = crate::order_stages::service::unfinished(&txn, id).await?;
            if !open.is_empty() {
                return Err(ApiError::conflict(format!(
                    "the order cannot complete while these stages are not completed: {}",
                    open.join(", ")
                )));
            }
        }
    }
    let mut a = before.clone().into_active_model();
    if let Some(t) = body.title {
        a.title = Set(t.trim().to_owned());
    }
    if let Some((c, name)) = customer {
        a.customer_id = Set(c);
        a.customer_name = Set(Some(name));
    }
    if let Some(s) = body.service_record_id {
        a.service_record_id = Set(Some(s));
    }
    set_text(&mut a.entry_city, body.entry_city);
    set_text(&mut a.processor, body.processor);
    if let Some(p) = body.passport_id
        && !pii::echoes_mask(p.trim(), before.passport_id.as_deref(), pii::document)
    {
        set_text(&mut a.passport_id, Some(p));
    }
    if let Some(c) = clean(body.currency_code) {
        a.currency_code = Set(c);
    }
    if let Some(r) = body.exchange_rate {
        a.exchange_rate = Set(Some(r));
    }
    set_date(&mut a.expected_start_date, body.expected_start_date);
    set_date(&mut a.expected_completion_date, body.expected_completion_date);
    set_date(&mut a.actual_start_date, body.actual_start_date);
    set_date(&mut a.actual_completion_date, body.actual_completion_date);
    set_text(&mut a.customer_notes, body.customer_notes);
    set_text(&mut a.internal_notes, body.internal_notes);
    set_text(&mut a.requirements, body.requirements);
    set_text(&mut a.description, body.description);
    set_text(&mut a.notes, body.notes);
    if let Some(d) = body.discount_amount {
        let d = crm_common::api::money::amount(d);
        a.discount_amount = Set(d);
        a.final_amount = Set((before.total_amount - d).max(Decimal::ZERO));
    }
    if let Some(to) = status_change {
        let today = Utc::now().date_naive();
        if to == "processing" && before.actual_start_date.is_none() {
            a.actual_start_date = Set(Some(today));
        }
        if to == "completed" && before.actual_completion_date.is_none() {
            a.actual_completion_date = Set(Some(today));
        }
        a.status_code = Set(to);
    }
    a.updated_by = Set(Some(viewer.user_id));
    a.updated_at = Set(Utc::now());
    a.version = Set(before.version + 1);
    let after = a.update(&txn).await?;
    if after.status_code != before.status_code {
        order_event(&txn, &after, viewer.user_id, &[], OrderEvent::Status).await?;
    }
    txn.commit().await?;
    Ok((before, after))
}

/// The body changes nothing but the status (the detail page's status buttons), which is allowed
/// on an order whatever its state, the machine deciding.
fn is_status_only(b: &UpdateOrder) -> bool {
    b.title.is_none()
        && b.customer_id.is_none()
        && b.service_record_id.is_none()
        && b.entry_city.is_none()
        && b.passport_id.is_none()
        && b.processor.is_none()
        && b.currency_code.is_none()
        && b.discount_amount.is_none()
        && b.exchange_rate.is_none()
        && b.expected_start_date.is_none()
        && b.expected_completion_date.is_none()
        && b.actual_start_date.is_none()
        && b.actual_completion_date.is_none()
        && b.customer_notes.is_none()
        && b.internal_notes.is_none()
        && b.requirements.is_none()
        && b.description.is_none()
        && b.notes.is_none()
}

fn set_date(field: &mut sea_orm::ActiveValue<Option<NaiveDate>>, value: Option<NaiveDate>) {
    if let Some(d) = value {
        *field = Set(Some(d));
    }
}

/// Managers delete any order; sellers their own while it is still `submitted` or `cancelled`
/// (nothing has been done on it yet). Items and assignments go with it.
pub async fn delete(state: &AppState, viewer: &Viewer, id: Uuid) -> ApiResult<order::Model> {
    let before = find_visible(&state.db, viewer, id).await?;
    let untouched = matches!(before.status_code.as_str(), "submitted" | "cancelled");
    if !(viewer.actor.approver || (viewer.mine(&before) && untouched)) {
        return Err(ApiError::forbidden(
            "only a manager may delete an order once approved; sellers may delete their own submitted orders",
        ));
    }
    // The order row stays locked from the payment check to the delete: a payment being recorded
    // locks it too, so the two serialize and the loser gets a 409, never a foreign-key failure.
    let txn = begin_write(&state.db).await?;
    let before = lock_visible(&txn, viewer, id).await?;
    if crate::payment_stages::service::has_payments(&txn, id).await? {
        return Err(ApiError::conflict("an order with payments recorded cannot be deleted; cancel it instead"));
    }
    let files = crate::order_files::model::Entity::find()
        .filter(crate::order_files::model::Column::OrderId.eq(id))
        .all(&txn)
        .await?;
    crate::workflows::engine::forget(&txn, before.organization_id, "order", id).await?;
    order::Entity::delete_by_id(id).exec(&txn).await?;
    txn.commit().await?;
    // The rows went with the order (cascade); their stored objects go once that is committed.
    for f in &files {
        crate::order_files::service::remove_object(state, f).await;
    }
    Ok(before)
}

/// Assigns the order to an operator of the organization: the previous assignment ends, a new
/// one starts, and an approved order becomes `assigned`. Reassigning an order already being
/// delivered keeps its status.
pub async fn assign(
    state: &AppState,
    forward: &Forward,
    viewer: &Viewer,
    id: Uuid,
    body: AssignOrder,
) -> ApiResult<(order::Model, order::Model)> {
    let kind = clean(body.assignment_type).unwrap_or_else(|| "operation".into());
    Validator::new().one_of("assignment_type", Some(&kind), &["operation", "sales"]).finish()?;
    if !viewer.actor.assigner {
        return Err(ApiError::forbidden("only a manager of operations may assign an order"));
    }
    find_visible(&state.db, viewer, id).await?;
    check_member(state, forward, "assigned_to_user_id", body.assigned_to_user_id).await?;
    let txn = begin_write(&state.db).await?;
    let before = lock_visible(&txn, viewer, id).await?;
    if !matches!(before.status_code.as_str(), "approved" | "assigned" | "processing") {
        return Err(ApiError::conflict(format!(
            "an order that is {} cannot be assigned; it must be approved first",
            before.status_code
        )));
    }
    let now = Utc::now();
    record_assignment(&txn, &before, body.assigned_to_user_id, viewer.user_id, &kind, clean(body.notes)).await?;
    let mut a = before.clone().into_active_model();
    if before.status_code == "approved" {
        a.status_code = Set("assigned".into());
    }
    a.updated_by = Set(Some(viewer.user_id));
    a.updated_at = Set(now);
    a.version = Set(before.version + 1);
    let after = a.update(&txn).await?;
    // A workflow driving the order takes the assignment as the completion of its allocation
    // task, and moves its operator's open tasks to the new operator.
    crate::workflows::engine::on_order_assigned(&txn, &after, &viewer.actor, body.assigned_to_user_id).await?;
    let after = order::Entity::find_by_id(id).one(&txn).await?.ok_or_else(|| ApiError::not_found("order"))?;
    order_event(&txn, &after, viewer.user_id, &[], OrderEvent::Assigned).await?;
    txn.commit().await?;
    Ok((before, after))
}

/// Ends the order's current assignment and starts one for `user`, in the caller's transaction
/// (the order's status is the caller's to move).
pub async fn record_assignment(
    txn: &impl ConnectionTrait,
    o: &order::Model,
    user: Uuid,
    by: Uuid,
    kind: &str,
    notes: Option<String>,
) -> ApiResult<()> {
    let now = Utc::now();
    assignment::Entity::update_many()
        .col_expr(assignment::Column::UnassignedAt, sea_orm::sea_query::Expr::value(now))
        .filter(assignment::Column::OrderId.eq(o.id))
        .filter(assignment::Column::UnassignedAt.is_null())
        .exec(txn)
        .await?;
    assignment::ActiveModel {
        id: Set(Uuid::now_v7()),
        organization_id: Set(o.organization_id),
        order_id: Set(o.id),
        assigned_to_user_id: Set(user),
        assigned_by_user_id: Set(Some(by)),
        assignment_type: Set(kind.to_owned()),
        is_primary: Set(true),
        notes: Set(notes),
        assigned_at: Set(now),
        unassigned_at: Set(None),
    }
    .insert(txn)
    .await?;
    Ok(())
}

/// An item of an order the caller may see; `order` (the nested paths) must be its order.
pub async fn find_item(
    state: &AppState,
    viewer: &Viewer,
    order: Option<Uuid>,
    id: Uuid,
) -> ApiResult<(order::Model, item::Model)> {
    let i = item::Entity::find_by_id(id)
        .one(&state.db)
        .await?
        .filter(|i| i.organization_id == viewer.organization_id && order.is_none_or(|o| o == i.order_id))
        .ok_or_else(|| ApiError::not_found("order item"))?;
    let o = find_visible(&state.db, viewer, i.order_id).await.map_err(|_| ApiError::not_found("order item"))?;
    Ok((o, i))
}

/// Adds an item to an order that can still change: numbered as asked if free (409 if taken),
/// else after the last; the order's totals follow in the same transaction.
pub async fn add_item(
    state: &AppState,
    forward: &Forward,
    viewer: &Viewer,
    order_id: Uuid,
    body: CreateItem,
    indonesian: bool,
) -> ApiResult<item::Model> {
    let mut v = Validator::new();
    validate_item(&mut v, "", &body);
    v.finish()?;
    let current = find_visible(&state.db, viewer, order_id).await?;
    open_for_changes(&current)?;
    let products = products(state, forward, std::slice::from_ref(&body)).await?;
    let txn = begin_write(&state.db).await?;
    let o = lock_visible(&txn, viewer, order_id).await?;
    open_for_changes(&o)?;
    let numbers: Vec<i32> = item::Entity::find()
        .select_only()
        .column(item::Column::ItemNumber)
        .filter(item::Column::OrderId.eq(order_id))
        .into_tuple()
        .all(&txn)
        .await?;
    let number = match body.item_number {
        Some(n) if numbers.contains(&n) => {
            return Err(ApiError::conflict(format!("the order already has an item number {n}")));
        }
        Some(n) => n,
        None => numbers.iter().max().copied().unwrap_or(0) + 1,
    };
    let product = body.product_id.and_then(|p| products.get(&p));
    let (row, _) = new_item(o.organization_id, o.id, number, body, product, &o.currency_code, indonesian)?;
    let saved = row.insert(&txn).await?;
    retotal(&txn, viewer, &o).await?;
    order_event(&txn, &o, viewer.user_id, &[], OrderEvent::ItemAdded).await?;
    txn.commit().await?;
    Ok(saved)
}

/// Changes an item of an order that can still change; the amount and the order's totals are
/// recomputed in the same transaction. With `expected`, only if nobody changed the item since.
#[allow(clippy::too_many_arguments)]
pub async fn update_item(
    state: &AppState,
    forward: &Forward,
    viewer: &Viewer,
    order: Option<Uuid>,
    id: Uuid,
    body: UpdateItem,
    expected: Option<i32>,
    indonesian: bool,
) -> ApiResult<(item::Model, item::Model)> {
    let (o, current) = find_item(state, viewer, order, id).await?;
    open_for_changes(&o)?;
    let probe = CreateItem {
        quantity: body.quantity,
        unit_price: body.unit_price,
        discount_amount: body.discount_amount,
        status: body.status.clone(),
        currency_code: body.currency_code.clone(),
        unit: body.unit.clone(),
        product_id: body.product_id.filter(|p| Some(*p) != current.product_id),
        ..CreateItem::default()
    };
    let mut v = Validator::new();
    validate_item(&mut v, "", &probe);
    v.finish()?;
    let products = products(state, forward, std::slice::from_ref(&probe)).await?;
    let txn = begin_write(&state.db).await?;
    let o = lock_visible(&txn, viewer, o.id).await?;
    open_for_changes(&o)?;
    let before = item::Entity::find_by_id(id).one(&txn).await?.ok_or_else(|| ApiError::not_found("order item"))?;
    if let Some(v) = expected
        && v != before.version
    {
        return Err(ApiError::Conflict {
            message: "the item was changed by someone else; here is its current version".into(),
            current: serde_json::to_value(item_view(before, indonesian)).ok(),
        });
    }
    let mut a = before.clone().into_active_model();
    if let Some(p) = probe.product_id
        && let Some(found) = products.get(&p)
    {
        a.product_id = Set(Some(p));
        a.product_name_zh = Set(Some(found.name.clone()));
        a.product_name_id = Set(Some(found.name.clone()));
        a.product_code = Set(found.code.clone());
    }
    if let Some(n) = clean(body.product_name) {
        if indonesian { a.product_name_id = Set(Some(n)) } else { a.product_name_zh = Set(Some(n)) }
    }
    set_text(&mut a.product_name_zh, body.product_name_zh);
    set_text(&mut a.product_name_id, body.product_name_id);
    set_text(&mut a.product_code, body.product_code);
    set_text(&mut a.unit, body.unit);
    if let Some(d) = clean(body.description) {
        if indonesian { a.description_id = Set(Some(d)) } else { a.description_zh = Set(Some(d)) }
    }
    set_text(&mut a.description_zh, body.description_zh);
    set_text(&mut a.description_id, body.description_id);
    set_text(&mut a.requirements, body.requirements);
    if let Some(c) = clean(body.currency_code) {
        a.currency_code = Set(c);
    }
    set_date(&mut a.expected_start_date, body.expected_start_date);
    set_date(&mut a.expected_completion_date, body.expected_completion_date);
    if let Some(s) = body.status {
        a.status = Set(s);
    }
    let quantity = body.quantity.unwrap_or(before.quantity);
    let unit_price = body.unit_price.or(before.unit_price);
    let discount = body.discount_amount.unwrap_or(before.discount_amount);
    a.quantity = Set(quantity);
    a.unit_price = Set(unit_price);
    a.discount_amount = Set(discount);
    a.item_amount = Set(rules::item_amount(quantity, unit_price, discount)?);
    a.updated_at = Set(Utc::now());
    a.version = Set(before.version + 1);
    let after = a.update(&txn).await?;
    retotal(&txn, viewer, &o).await?;
    order_event(&txn, &o, viewer.user_id, &[], OrderEvent::ItemChanged).await?;
    txn.commit().await?;
    Ok((before, after))
}

/// Removes an item; the order's totals follow in the same transaction.
pub async fn delete_item(state: &AppState, viewer: &Viewer, order: Option<Uuid>, id: Uuid) -> ApiResult<item::Model> {
    let (o, before) = find_item(state, viewer, order, id).await?;
    open_for_changes(&o)?;
    let txn = begin_write(&state.db).await?;
    let o = lock_visible(&txn, viewer, o.id).await?;
    open_for_changes(&o)?;
    item::Entity::delete_by_id(id).exec(&txn).await?;
    retotal(&txn, viewer, &o).await?;
    order_event(&txn, &o, viewer.user_id, &[], OrderEvent::ItemRemoved).await?;
    txn.commit().await?;
    Ok(before)
}

/// Items of an order the caller may see, by number.
pub async fn list_items(
    state: &AppState,
    viewer: &Viewer,
    order_id: Uuid,
    page: Option<(u64, u64)>,
) -> ApiResult<(Vec<item::Model>, u64)> {
    use sea_orm::PaginatorTrait;
    find_visible(&state.db, viewer, order_id).await?;
    let query = item::Entity::find().filter(item::Column::OrderId.eq(order_id)).order_by_asc(item::Column::ItemNumber);
    let total = query.clone().count(&state.db).await?;
    let rows = match page {
        Some((page, size)) => query.offset((page - 1) * size).limit(size).all(&state.db).await?,
        None => query.all(&state.db).await?,
    };
    Ok((rows, total))
}
