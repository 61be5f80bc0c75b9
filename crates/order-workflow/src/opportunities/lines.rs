//! An opportunity's products and payment stages. Products are the catalogue's, so choosing them
//! asks service-management: the products must exist (their names and codes are copied here, so
//! the opportunity keeps what was sold when the catalogue changes), their `required` dependencies
//! must be chosen too (400 naming each "A requires B"), missing `recommended` ones become
//! warnings, and missing execution orders come from the dependency order. Nothing here is
//! written before every answer from service-management is in.

use super::dto::{
    DependencyCheck, DependencyGap, OpportunityOrderStep, OpportunityPaymentStageItem, OpportunityProductItem,
    OpportunityProductLine, PaymentStageLine,
};
use super::model::{payment_stage, product};
use super::rules::{self, PAYMENT_STATUSES, PAYMENT_TRIGGERS, PRODUCT_STATUSES};
use crate::AppState;
use chrono::{NaiveDate, Utc};
use crm_common::api::money;
use crm_common::api::patch::clean;
use crm_common::api::validate::Validator;
use crm_common::http::peer::{Forward, text_of};
use crm_common::{ApiError, ApiResult};
use rust_decimal::Decimal;
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::{HashMap, HashSet};
use uuid::Uuid;

/// service-management's dependency endpoints (at the original's path, which it serves).
const DEPENDENCIES: &str = "/api/order-workflow/product-dependencies";
/// Products one opportunity may carry (and one dependency question may name).
pub const MAX_PRODUCTS: usize = 200;

/// A product line ready to be written: checked, priced, named and ordered.
#[derive(Debug, Clone)]
pub struct Line {
    pub product_id: Uuid,
    pub product_name: String,
    pub product_code: Option<String>,
    pub quantity: i32,
    pub unit_price: Decimal,
    pub total_amount: Decimal,
    pub execution_order: i32,
    pub status: String,
    pub start_date: Option<NaiveDate>,
    pub expected_completion_date: Option<NaiveDate>,
    pub notes: Option<String>,
}

/// A payment stage ready to be written.
#[derive(Debug, Clone)]
pub struct Stage {
    pub stage_number: i32,
    pub stage_name: String,
    pub amount: Decimal,
    pub due_date: Option<NaiveDate>,
    pub payment_trigger: String,
    pub status: String,
}

/// Product lines and the warnings their dependencies gave.
#[derive(Debug, Clone, Default)]
pub struct Prepared {
    pub lines: Vec<Line>,
    pub warnings: Vec<String>,
}

#[derive(Debug, Deserialize)]
struct Gap {
    product_id: Uuid,
    depends_on_product_id: Uuid,
    depends_on_product_name: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Validation {
    missing_required: Vec<Gap>,
    warnings: Vec<Gap>,
}

#[derive(Debug, Deserialize)]
struct Step {
    product_id: Uuid,
    execution_order: u32,
    #[serde(default)]
    dependencies: Vec<Uuid>,
}

#[derive(Debug, Deserialize)]
struct Order {
    order: Vec<Step>,
}

#[derive(Serialize)]
struct Selection<'a> {
    product_ids: &'a [Uuid],
}

/// The largest amount a column holds (18 digits, 2 after the point).
fn max_amount() -> Decimal {
    Decimal::from(10_i64.pow(16))
}

/// `value` fits an amount column: 0 or more, at most two decimals (more is refused, never
/// silently rounded), below the column's limit.
pub fn check_amount(v: &mut Validator, field: &str, value: Option<Decimal>) {
    if let Some(x) = value {
        v.check(x >= Decimal::ZERO, field, "must be 0 or more");
        v.check(x.normalize().scale() <= money::AMOUNT_SCALE, field, "must have at most 2 decimal places");
        v.check(x < max_amount(), field, "is too large");
    }
}

fn check_lines(lines: &[OpportunityProductLine]) -> ApiResult<()> {
    let mut v = Validator::new();
    v.check(lines.len() <= MAX_PRODUCTS, "products", "at most 200 products");
    let mut seen = HashSet::new();
    for (i, l) in lines.iter().enumerate() {
        let at = |f: &str| format!("products[{i}].{f}");
        v.check(seen.insert(l.product_id), &at("product_id"), "chosen twice");
        v.check(l.quantity.is_none_or(|q| q >= 1), &at("quantity"), "must be 1 or more");
        v.check(l.execution_order.is_none_or(|o| o >= 1), &at("execution_order"), "must be 1 or more");
        check_amount(&mut v, &at("unit_price"), l.unit_price);
        let total = l.unit_price.unwrap_or_default().checked_mul(Decimal::from(l.quantity.unwrap_or(1)));
        v.check(total.is_some_and(|t| t < max_amount()), &at("quantity"), "the line's total is too large");
        v.one_of(&at("status"), l.status.as_deref(), PRODUCT_STATUSES);
    }
    v.finish()
}

/// Payment stages as sent, checked: numbers 1 or more and unique, names given, amounts valid.
pub fn stages(sent: Vec<PaymentStageLine>) -> ApiResult<Vec<Stage>> {
    let mut v = Validator::new();
    v.check(sent.len() <= MAX_PRODUCTS, "payment_stages", "at most 200 payment stages");
    let mut seen = HashSet::new();
    for (i, s) in sent.iter().enumerate() {
        let at = |f: &str| format!("payment_stages[{i}].{f}");
        v.check(s.stage_number >= 1, &at("stage_number"), "must be 1 or more");
        v.check(seen.insert(s.stage_number), &at("stage_number"), "used twice");
        v.length(&at("stage_name"), s.stage_name.trim(), 1, 255);
        check_amount(&mut v, &at("amount"), s.amount);
        v.one_of(&at("payment_trigger"), s.payment_trigger.as_deref(), PAYMENT_TRIGGERS);
        v.one_of(&at("status"), s.status.as_deref(), PAYMENT_STATUSES);
    }
    v.finish()?;
    Ok(sent
        .into_iter()
        .map(|s| Stage {
            stage_number: s.stage_number,
            stage_name: s.stage_name.trim().to_owned(),
            amount: s.amount.unwrap_or(Decimal::ZERO),
            due_date: s.due_date,
            payment_trigger: s.payment_trigger.unwrap_or_else(|| "manual".into()),
            status: s.status.unwrap_or_else(|| "pending".into()),
        })
        .collect())
}

async fn validation(state: &AppState, forward: &Forward, ids: &[Uuid]) -> ApiResult<Validation> {
    let path = format!("{DEPENDENCIES}/validate");
    state.service_management.post(&path, forward, &Selection { product_ids: ids }).await
}

async fn order(state: &AppState, forward: &Forward, ids: &[Uuid]) -> ApiResult<Vec<Step>> {
    let path = format!("{DEPENDENCIES}/calculate-order");
    let answer: Order = state.service_management.post(&path, forward, &Selection { product_ids: ids }).await?;
    Ok(answer.order)
}

fn gap(products: &HashMap<Uuid, Value>, g: Gap, verb: &str) -> DependencyGap {
    let product_name = text_of(products, Some(g.product_id), "name");
    let depends_on_product_name =
        g.depends_on_product_name.or_else(|| text_of(products, Some(g.depends_on_product_id), "name"));
    let a = product_name.clone().unwrap_or_else(|| g.product_id.to_string());
    let b = depends_on_product_name.clone().unwrap_or_else(|| g.depends_on_product_id.to_string());
    DependencyGap {
        message: format!("{a} {verb} {b}"),
        product_id: g.product_id,
        product_name,
        depends_on_product_id: g.depends_on_product_id,
        depends_on_product_name,
    }
}

fn check_selection(ids: &[Uuid]) -> ApiResult<()> {
    if ids.len() > MAX_PRODUCTS {
        return Err(ApiError::field("body", "at most 200 products"));
    }
    Ok(())
}

/// What service-management says of combining `ids`: the unmet dependencies and the order to
/// carry the products out in.
pub async fn check(state: &AppState, forward: &Forward, ids: &[Uuid]) -> ApiResult<DependencyCheck> {
    check_selection(ids)?;
    if ids.is_empty() {
        return Ok(DependencyCheck {
            is_valid: true,
            missing_dependencies: Vec::new(),
            warnings: Vec::new(),
            suggested_order: Vec::new(),
        });
    }
    let found = validation(state, forward, ids).await?;
    let steps = order(state, forward, ids).await?;
    let mut named: Vec<Uuid> = ids.to_vec();
    named.extend(found.missing_required.iter().chain(&found.warnings).map(|g| g.depends_on_product_id));
    let products = state.products.get(named, forward).await?;
    let missing: Vec<DependencyGap> =
        found.missing_required.into_iter().map(|g| gap(&products, g, "requires")).collect();
    Ok(DependencyCheck {
        is_valid: missing.is_empty(),
        missing_dependencies: missing,
        warnings: found.warnings.into_iter().map(|g| gap(&products, g, "recommends")).collect(),
        suggested_order: steps.into_iter().map(|s| s.product_id).collect(),
    })
}

/// The order to carry `ids` out in, each step naming the chosen products it requires.
pub async fn calculate_order(
    state: &AppState,
    forward: &Forward,
    ids: &[Uuid],
) -> ApiResult<Vec<OpportunityOrderStep>> {
    check_selection(ids)?;
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(order(state, forward, ids)
        .await?
        .into_iter()
        .map(|s| OpportunityOrderStep {
            product_id: s.product_id,
            execution_order: s.execution_order,
            dependencies: s.dependencies,
        })
        .collect())
}

/// Checks `sent` and asks service-management about it: every product exists (404 naming the first
/// that does not), required dependencies are all chosen (400 listing "A requires B"), recommended
/// ones missing become warnings; names and codes are copied; with `auto_order`, lines without an
/// execution order take the dependency order's (those with one keep it).
pub async fn prepare(
    state: &AppState,
    forward: &Forward,
    sent: Vec<OpportunityProductLine>,
    auto_order: bool,
) -> ApiResult<Prepared> {
    check_lines(&sent)?;
    if sent.is_empty() {
        return Ok(Prepared::default());
    }
    let ids: Vec<Uuid> = sent.iter().map(|l| l.product_id).collect();
    let found = validation(state, forward, &ids).await?;
    let mut named = ids.clone();
    named.extend(found.missing_required.iter().chain(&found.warnings).map(|g| g.depends_on_product_id));
    let products = state.products.get(named, forward).await?;
    if let Some(unknown) = ids.iter().find(|id| !products.contains_key(id)) {
        return Err(ApiError::NotFound(format!("product {unknown} not found")));
    }
    if !found.missing_required.is_empty() {
        let list: Vec<String> =
            found.missing_required.into_iter().map(|g| gap(&products, g, "requires").message).collect();
        return Err(ApiError::bad_request(format!("product dependencies are not met: {}", list.join("; "))));
    }
    let warnings: Vec<String> = found.warnings.into_iter().map(|g| gap(&products, g, "recommends").message).collect();
    let calculated: HashMap<Uuid, i32> = if auto_order && sent.iter().any(|l| l.execution_order.is_none()) {
        order(state, forward, &ids)
            .await?
            .into_iter()
            .map(|s| (s.product_id, i32::try_from(s.execution_order).unwrap_or(i32::MAX)))
            .collect()
    } else {
        HashMap::new()
    };
    let lines = sent
        .into_iter()
        .map(|l| {
            let quantity = l.quantity.unwrap_or(1);
            let unit_price = l.unit_price.unwrap_or(Decimal::ZERO);
            Line {
                product_name: text_of(&products, Some(l.product_id), "name").unwrap_or_default(),
                product_code: text_of(&products, Some(l.product_id), "code"),
                execution_order: l.execution_order.or_else(|| calculated.get(&l.product_id).copied()).unwrap_or(1),
                total_amount: rules::line_total(unit_price, quantity),
                product_id: l.product_id,
                quantity,
                unit_price,
                status: l.status.unwrap_or_else(|| "pending".into()),
                start_date: l.start_date,
                expected_completion_date: l.expected_completion_date,
                notes: clean(l.notes),
            }
        })
        .collect();
    Ok(Prepared { lines, warnings })
}

/// Writes `lines` and `stages` for a new opportunity (or after [`clear`] for a replaced set).
pub async fn insert(
    db: &impl ConnectionTrait,
    organization_id: Uuid,
    opportunity_id: Uuid,
    lines: &[Line],
    stages: &[Stage],
) -> ApiResult<()> {
    let now = Utc::now();
    if !lines.is_empty() {
        product::Entity::insert_many(lines.iter().map(|l| product::ActiveModel {
            id: Set(Uuid::now_v7()),
            organization_id: Set(organization_id),
            opportunity_id: Set(opportunity_id),
            product_id: Set(l.product_id),
            product_name: Set(l.product_name.clone()),
            product_code: Set(l.product_code.clone()),
            quantity: Set(l.quantity),
            unit_price: Set(l.unit_price),
            total_amount: Set(l.total_amount),
            execution_order: Set(l.execution_order),
            status: Set(l.status.clone()),
            start_date: Set(l.start_date),
            expected_completion_date: Set(l.expected_completion_date),
            actual_completion_date: Set(None),
            notes: Set(l.notes.clone()),
            created_at: Set(now),
            updated_at: Set(now),
        }))
        .exec_without_returning(db)
        .await?;
    }
    if !stages.is_empty() {
        payment_stage::Entity::insert_many(stages.iter().map(|s| payment_stage::ActiveModel {
            id: Set(Uuid::now_v7()),
            organization_id: Set(organization_id),
            opportunity_id: Set(opportunity_id),
            stage_number: Set(s.stage_number),
            stage_name: Set(s.stage_name.clone()),
            amount: Set(s.amount),
            due_date: Set(s.due_date),
            payment_trigger: Set(s.payment_trigger.clone()),
            status: Set(s.status.clone()),
            created_at: Set(now),
            updated_at: Set(now),
        }))
        .exec_without_returning(db)
        .await?;
    }
    Ok(())
}

/// Removes the opportunity's products (`products`) and/or payment stages (`stages`) before a
/// replacement.
pub async fn clear(db: &impl ConnectionTrait, opportunity_id: Uuid, products: bool, stages: bool) -> ApiResult<()> {
    if products {
        product::Entity::delete_many().filter(product::Column::OpportunityId.eq(opportunity_id)).exec(db).await?;
    }
    if stages {
        payment_stage::Entity::delete_many()
            .filter(payment_stage::Column::OpportunityId.eq(opportunity_id))
            .exec(db)
            .await?;
    }
    Ok(())
}

/// The opportunity's products in execution order and its payment stages by number.
pub async fn load(
    db: &impl ConnectionTrait,
    opportunity_id: Uuid,
) -> ApiResult<(Vec<OpportunityProductItem>, Vec<OpportunityPaymentStageItem>)> {
    let products = product::Entity::find()
        .filter(product::Column::OpportunityId.eq(opportunity_id))
        .order_by_asc(product::Column::ExecutionOrder)
        .order_by_asc(product::Column::CreatedAt)
        .order_by_asc(product::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(|p| OpportunityProductItem {
            id: p.id,
            product_id: p.product_id,
            product_name: p.product_name,
            product_code: p.product_code,
            quantity: p.quantity,
            unit_price: p.unit_price,
            total_amount: p.total_amount,
            execution_order: p.execution_order,
            status: p.status,
            start_date: p.start_date,
            expected_completion_date: p.expected_completion_date,
            actual_completion_date: p.actual_completion_date,
            notes: p.notes,
        })
        .collect();
    let stages = payment_stage::Entity::find()
        .filter(payment_stage::Column::OpportunityId.eq(opportunity_id))
        .order_by_asc(payment_stage::Column::StageNumber)
        .all(db)
        .await?
        .into_iter()
        .map(|s| OpportunityPaymentStageItem {
            id: s.id,
            stage_number: s.stage_number,
            stage_name: s.stage_name,
            amount: s.amount,
            due_date: s.due_date,
            payment_trigger: s.payment_trigger,
            status: s.status,
        })
        .collect();
    Ok((products, stages))
}
