//! The payment-stage rules that touch the database. A payment is recorded in one transaction
//! with its stage's row locked (PostgreSQL; SQLite's write transactions are exclusive already):
//! the check against what remains, the payment row and the stage's new paid amount and status
//! happen together, so concurrent payments can never add up to more than the stage asks.

use super::dto::{CreatePaymentStage, RecordPayment, UpdatePaymentStage};
use super::model::{payment, stage};
use super::rules;
use crate::AppState;
use crate::orders::model::order;
use crate::orders::service::{Viewer, find_visible};
use chrono::{NaiveDate, Utc};
use crm_common::api::patch::{clean, set_text};
use crm_common::api::validate::Validator;
use crm_common::db::begin_write;
use crm_common::{ApiError, ApiResult};
use rust_decimal::Decimal;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect,
};
use uuid::Uuid;

/// Whether any payment was recorded against the order (which then may not be deleted).
pub async fn has_payments(db: &impl ConnectionTrait, order_id: Uuid) -> ApiResult<bool> {
    Ok(payment::Entity::find().filter(payment::Column::OrderId.eq(order_id)).count(db).await? > 0)
}

/// The payment stages of an order the caller may see, by number.
pub async fn list(state: &AppState, viewer: &Viewer, order_id: Uuid) -> ApiResult<Vec<stage::Model>> {
    find_visible(&state.db, viewer, order_id).await?;
    Ok(stage::Entity::find()
        .filter(stage::Column::OrderId.eq(order_id))
        .order_by_asc(stage::Column::StageNumber)
        .all(&state.db)
        .await?)
}

/// A payment stage of an order the caller may see (404 for anything else).
pub async fn find(
    state: &AppState,
    viewer: &Viewer,
    order_id: Uuid,
    id: Uuid,
) -> ApiResult<(order::Model, stage::Model)> {
    let o = find_visible(&state.db, viewer, order_id).await.map_err(|_| ApiError::not_found("payment stage"))?;
    let s = stage::Entity::find_by_id(id)
        .one(&state.db)
        .await?
        .filter(|s| s.order_id == o.id && s.organization_id == o.organization_id)
        .ok_or_else(|| ApiError::not_found("payment stage"))?;
    Ok((o, s))
}

fn validate(
    v: &mut Validator,
    number: Option<i32>,
    name: Option<&str>,
    amount: Option<Decimal>,
    trigger: Option<&str>,
) {
    if let Some(n) = name {
        v.length("stage_name", n.trim(), 1, 100);
    }
    v.check(number.is_none_or(|n| n > 0), "stage_number", "must be greater than 0")
        .check(amount.is_none_or(|a| a >= Decimal::ZERO), "amount", "must not be negative")
        .one_of("payment_trigger", trigger, rules::TRIGGERS);
}

async fn next_number(db: &impl ConnectionTrait, order_id: Uuid) -> ApiResult<i32> {
    let last = stage::Entity::find()
        .filter(stage::Column::OrderId.eq(order_id))
        .order_by_desc(stage::Column::StageNumber)
        .one(db)
        .await?;
    Ok(last.map_or(1, |s| s.stage_number + 1))
}

async fn number_taken(db: &impl ConnectionTrait, order_id: Uuid, number: i32, except: Option<Uuid>) -> ApiResult<()> {
    let mut q =
        stage::Entity::find().filter(stage::Column::OrderId.eq(order_id)).filter(stage::Column::StageNumber.eq(number));
    if let Some(id) = except {
        q = q.filter(stage::Column::Id.ne(id));
    }
    if q.count(db).await? > 0 {
        return Err(ApiError::conflict(format!("the order already has a payment stage number {number}")));
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn new_stage(
    o: &order::Model,
    number: i32,
    name: String,
    description: Option<String>,
    amount: Decimal,
    currency: Option<String>,
    trigger: Option<String>,
    trigger_date: Option<NaiveDate>,
    due: Option<NaiveDate>,
    notes: Option<String>,
    created_by: Option<Uuid>,
) -> stage::ActiveModel {
    let now = Utc::now();
    let amount = crm_common::api::money::amount(amount);
    stage::ActiveModel {
        id: Set(Uuid::now_v7()),
        organization_id: Set(o.organization_id),
        order_id: Set(o.id),
        order_number: Set(o.order_number.clone()),
        stage_number: Set(number),
        stage_name: Set(name.trim().to_owned()),
        stage_description: Set(clean(description)),
        amount: Set(amount),
        paid_amount: Set(Decimal::ZERO),
        currency_code: Set(clean(currency).unwrap_or_else(|| o.currency_code.clone())),
        payment_trigger: Set(clean(trigger).unwrap_or_else(|| "manual".into())),
        trigger_date: Set(trigger_date),
        due_date: Set(due),
        actual_payment_date: Set(None),
        status: Set(rules::status_for("pending", amount, Decimal::ZERO, due, now.date_naive())),
        notes: Set(clean(notes)),
        created_by: Set(created_by),
        created_at: Set(now),
        updated_at: Set(now),
    }
}

pub async fn create(
    state: &AppState,
    viewer: &Viewer,
    order_id: Uuid,
    body: CreatePaymentStage,
) -> ApiResult<stage::Model> {
    let mut v = Validator::new();
    validate(
        &mut v,
        body.stage_number,
        Some(body.stage_name.as_str()),
        Some(body.amount),
        body.payment_trigger.as_deref(),
    );
    v.optional_length("currency_code", body.currency_code.as_deref(), 10);
    v.finish()?;
    find_visible(&state.db, viewer, order_id).await?;
    let txn = begin_write(&state.db).await?;
    let o = crate::orders::service::lock_visible(&txn, viewer, order_id).await?;
    let number = match body.stage_number {
        Some(n) => {
            number_taken(&txn, o.id, n, None).await?;
            n
        }
        None => next_number(&txn, o.id).await?,
    };
    let row = new_stage(
        &o,
        number,
        body.stage_name,
        body.stage_description,
        body.amount,
        body.currency_code,
        body.payment_trigger,
        body.trigger_date,
        body.due_date,
        body.notes,
        Some(viewer.user_id),
    );
    let saved = row.insert(&txn).await?;
    txn.commit().await?;
    Ok(saved)
}

/// One stage of an opportunity as the conversion hands it over: number, name, amount, due date
/// and payment trigger.
pub type OpportunityStage = (i32, String, Decimal, Option<NaiveDate>, String);

/// Copies an opportunity's payment stages onto the order it became, inside the conversion's
/// transaction (so an order never exists without the stages it was sold with). Numbers must be
/// > 0 and distinct, amounts ≥ 0, triggers known (400 naming `payment_stages[i]` otherwise).
pub async fn copy_from_opportunity(
    txn: &impl ConnectionTrait,
    order: &order::Model,
    stages: Vec<OpportunityStage>,
) -> ApiResult<Vec<stage::Model>> {
    let mut v = Validator::new();
    let mut seen = std::collections::HashSet::new();
    for (i, (number, name, amount, _, trigger)) in stages.iter().enumerate() {
        let f = |field: &str| format!("payment_stages[{i}].{field}");
        v.check(*number > 0, &f("stage_number"), "must be greater than 0")
            .check(seen.insert(*number), &f("stage_number"), "is repeated")
            .length(&f("stage_name"), name.trim(), 1, 100)
            .check(*amount >= Decimal::ZERO, &f("amount"), "must not be negative")
            .one_of(&f("payment_trigger"), Some(trigger.as_str()), rules::TRIGGERS);
    }
    v.finish()?;
    let mut saved = Vec::with_capacity(stages.len());
    for (number, name, amount, due, trigger) in stages {
        let row = new_stage(order, number, name, None, amount, None, Some(trigger), None, due, None, order.created_by);
        saved.push(row.insert(txn).await?);
    }
    Ok(saved)
}

pub async fn update(
    state: &AppState,
    viewer: &Viewer,
    order_id: Uuid,
    id: Uuid,
    body: UpdatePaymentStage,
) -> ApiResult<(stage::Model, stage::Model)> {
    let mut v = Validator::new();
    validate(&mut v, body.stage_number, body.stage_name.as_deref(), body.amount, body.payment_trigger.as_deref());
    v.optional_length("currency_code", body.currency_code.as_deref(), 10).one_of(
        "status",
        body.status.as_deref(),
        rules::STATUSES,
    );
    v.finish()?;
    find(state, viewer, order_id, id).await?;
    let txn = begin_write(&state.db).await?;
    let before = stage::Entity::find_by_id(id)
        .lock_exclusive()
        .one(&txn)
        .await?
        .ok_or_else(|| ApiError::not_found("payment stage"))?;
    if let Some(n) = body.stage_number.filter(|n| *n != before.stage_number) {
        number_taken(&txn, order_id, n, Some(id)).await?;
    }
    if let Some(to) = &body.status {
        rules::check_manual_status(&before.status, to)?;
    }
    let amount = body.amount.map(crm_common::api::money::amount).unwrap_or(before.amount);
    if amount != before.amount {
        if before.status == "paid" || before.status == "cancelled" {
            return Err(ApiError::conflict(format!("a payment stage that is {} keeps its amount", before.status)));
        }
        if amount < before.paid_amount {
            return Err(ApiError::field("amount", format!("must be at least the {} already paid", before.paid_amount)));
        }
    }
    let mut a = before.clone().into_active_model();
    if let Some(n) = body.stage_number {
        a.stage_number = Set(n);
    }
    if let Some(n) = body.stage_name {
        a.stage_name = Set(n.trim().to_owned());
    }
    set_text(&mut a.stage_description, body.stage_description);
    set_text(&mut a.notes, body.notes);
    if let Some(c) = clean(body.currency_code) {
        a.currency_code = Set(c);
    }
    if let Some(t) = clean(body.payment_trigger) {
        a.payment_trigger = Set(t);
    }
    if let Some(d) = body.trigger_date {
        a.trigger_date = Set(Some(d));
    }
    let due = body.due_date.or(before.due_date);
    a.due_date = Set(due);
    a.amount = Set(amount);
    let today = Utc::now().date_naive();
    let status = match body.status.as_deref() {
        Some("cancelled") => "cancelled".to_owned(),
        _ => rules::status_for(&before.status, amount, before.paid_amount, due, today),
    };
    // A later due date lifts a stage out of `overdue` (the same money, no longer late).
    let status = if before.status == "overdue" && status == "overdue" && due.is_none_or(|d| d >= today) {
        if before.paid_amount > Decimal::ZERO { "partial".to_owned() } else { "pending".to_owned() }
    } else {
        status
    };
    if status == "paid" && before.actual_payment_date.is_none() {
        a.actual_payment_date = Set(Some(today));
    }
    a.status = Set(status);
    a.updated_at = Set(Utc::now());
    let after = a.update(&txn).await?;
    txn.commit().await?;
    Ok((before, after))
}

/// A stage without payments; one with money recorded is cancelled instead (409).
pub async fn delete(state: &AppState, viewer: &Viewer, order_id: Uuid, id: Uuid) -> ApiResult<stage::Model> {
    let (_, before) = find(state, viewer, order_id, id).await?;
    let txn = begin_write(&state.db).await?;
    let paid = payment::Entity::find().filter(payment::Column::PaymentStageId.eq(id)).count(&txn).await?;
    if paid > 0 {
        return Err(ApiError::conflict("a payment stage with payments recorded cannot be deleted; cancel it instead"));
    }
    stage::Entity::delete_by_id(id).exec(&txn).await?;
    txn.commit().await?;
    Ok(before)
}

/// Records a payment against a stage: checked against what remains and written together with
/// the stage's paid amount and status, the stage row locked throughout.
pub async fn record_payment(
    state: &AppState,
    viewer: &Viewer,
    order_id: Uuid,
    id: Uuid,
    body: RecordPayment,
) -> ApiResult<(payment::Model, stage::Model)> {
    Validator::new()
        .optional_length("payment_type", body.payment_type.as_deref(), 50)
        .optional_length("payment_method", body.payment_method.as_deref(), 50)
        .optional_length("transaction_id", body.transaction_id.as_deref(), 100)
        .optional_length("payer_name", body.payer_name.as_deref(), 255)
        .check(body.amount > Decimal::ZERO, "amount", "must be greater than 0")
        .finish()?;
    find(state, viewer, order_id, id).await?;
    let amount = crm_common::api::money::amount(body.amount);
    let txn = begin_write(&state.db).await?;
    // The order first, as its delete does: a payment and a delete of the same order serialize.
    crate::orders::service::lock_visible(&txn, viewer, order_id).await?;
    let before = stage::Entity::find_by_id(id)
        .lock_exclusive()
        .one(&txn)
        .await?
        .ok_or_else(|| ApiError::not_found("payment stage"))?;
    rules::check_payment(&before.status, before.amount - before.paid_amount, amount)?;
    let now = Utc::now();
    let today = now.date_naive();
    let saved = payment::ActiveModel {
        id: Set(Uuid::now_v7()),
        organization_id: Set(before.organization_id),
        order_id: Set(before.order_id),
        payment_stage_id: Set(before.id),
        payment_type: Set(clean(body.payment_type).unwrap_or_else(|| "payment".into())),
        amount: Set(amount),
        currency_code: Set(before.currency_code.clone()),
        payment_method: Set(clean(body.payment_method)),
        payment_date: Set(body.payment_date.unwrap_or(today)),
        transaction_id: Set(clean(body.transaction_id)),
        payer_name: Set(clean(body.payer_name)),
        status: Set("confirmed".into()),
        notes: Set(clean(body.notes)),
        created_by: Set(Some(viewer.user_id)),
        created_at: Set(now),
    }
    .insert(&txn)
    .await?;
    let paid = before.paid_amount + amount;
    let status = rules::status_for(&before.status, before.amount, paid, before.due_date, today);
    let mut a = before.clone().into_active_model();
    if status == "paid" {
        a.actual_payment_date = Set(Some(body.payment_date.unwrap_or(today)));
    }
    a.paid_amount = Set(paid);
    a.status = Set(status);
    a.updated_at = Set(now);
    let after = a.update(&txn).await?;
    txn.commit().await?;
    Ok((saved, after))
}

/// The payments of a stage, oldest first.
pub async fn payments(state: &AppState, viewer: &Viewer, order_id: Uuid, id: Uuid) -> ApiResult<Vec<payment::Model>> {
    find(state, viewer, order_id, id).await?;
    Ok(payment::Entity::find()
        .filter(payment::Column::PaymentStageId.eq(id))
        .order_by_asc(payment::Column::CreatedAt)
        .order_by_asc(payment::Column::Id)
        .all(&state.db)
        .await?)
}
