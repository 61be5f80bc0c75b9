//! The opportunity rules that touch the database or a peer: who sees which opportunity, how
//! answers are assembled (names by one batched lookup per page and peer), and the writes, each
//! conditional on the version it read.

use super::dto::{CreateOpportunity, OpportunityItem, UpdateOpportunity};
use super::lines::{self, Prepared, Stage};
use super::model::opportunity;
use super::rules;
use crate::AppState;
use crate::leads::model::lead;
use chrono::{NaiveDate, Utc};
use crm_common::api::patch::clean;
use crm_common::api::validate::Validator;
use crm_common::auth::Principal;
use crm_common::db::begin_write;
use crm_common::http::peer::{Forward, text_of};
use crm_common::{ApiError, ApiResult};
use rust_decimal::Decimal;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, EntityTrait, IntoActiveModel,
    QueryFilter,
};
use std::collections::{HashMap, HashSet};
use uuid::Uuid;

/// What the caller may see and change of opportunities.
#[derive(Debug, Clone, Copy)]
pub struct Viewer {
    pub user_id: Uuid,
    pub organization_id: Uuid,
    /// Sees and changes every opportunity of the organization (ADMIN, as for leads); everyone
    /// else only the ones they own.
    pub is_admin: bool,
}

impl Viewer {
    pub fn of(p: &Principal) -> Self {
        Self {
            user_id: p.user_id,
            organization_id: p.organization_id,
            is_admin: p.is_platform_admin || p.has_role("ADMIN"),
        }
    }

    pub fn can_see(&self, o: &opportunity::Model) -> bool {
        o.organization_id == self.organization_id && (self.is_admin || o.owner_user_id == Some(self.user_id))
    }

    /// The list's visibility as a condition.
    pub fn condition(&self) -> Condition {
        let mut cond = Condition::all().add(opportunity::Column::OrganizationId.eq(self.organization_id));
        if !self.is_admin {
            cond = cond.add(opportunity::Column::OwnerUserId.eq(self.user_id));
        }
        cond
    }
}

/// An opportunity the caller may see; anything else (another organization's, another seller's)
/// is a 404, as if it did not exist. Seeing one is also what changing it takes.
pub async fn find_visible(db: &impl ConnectionTrait, viewer: &Viewer, id: Uuid) -> ApiResult<opportunity::Model> {
    opportunity::Entity::find_by_id(id)
        .one(db)
        .await?
        .filter(|o| viewer.can_see(o))
        .ok_or_else(|| ApiError::not_found("opportunity"))
}

/// `owner` may own the caller's opportunities: a non-administrator may name only themselves
/// (403); an administrator any member of the organization (400 otherwise).
pub async fn check_owner(state: &AppState, forward: &Forward, viewer: &Viewer, owner: Uuid) -> ApiResult<()> {
    if owner == viewer.user_id {
        return Ok(());
    }
    if !viewer.is_admin {
        return Err(ApiError::forbidden("only administrators may give an opportunity to someone else"));
    }
    crate::leads::service::require_member(state, forward, owner).await
}

/// `customer_id` is a customer of service-management the caller may see (its 404 otherwise).
pub async fn check_customer(state: &AppState, forward: &Forward, customer_id: Uuid) -> ApiResult<()> {
    let path = format!("/api/service-management/customers/{customer_id}");
    state.service_management.get::<serde_json::Value>(&path, forward).await.map(|_| ())
}

/// Customer names for an answer; without them when service-management does not answer, so that
/// opportunities stay readable while it is down.
async fn customer_names(state: &AppState, forward: &Forward, ids: HashSet<Uuid>) -> HashMap<Uuid, serde_json::Value> {
    if ids.is_empty() {
        return HashMap::new();
    }
    state.customers.get(ids, forward).await.unwrap_or_else(|e| {
        tracing::warn!(error = %e, "customer names unavailable; answering without them");
        HashMap::new()
    })
}

/// The answer for `rows`: owner names (foundation) and customer names (service-management) by
/// one lookup each for the whole page, lead names by one query; with `detail`, each
/// opportunity's products and payment stages too.
pub async fn items(
    state: &AppState,
    forward: &Forward,
    rows: Vec<opportunity::Model>,
    detail: bool,
) -> ApiResult<Vec<OpportunityItem>> {
    let owners: HashSet<Uuid> = rows.iter().filter_map(|o| o.owner_user_id).collect();
    let users = if owners.is_empty() { HashMap::new() } else { state.users.get(owners, forward).await? };
    let customers = customer_names(state, forward, rows.iter().filter_map(|o| o.customer_id).collect()).await;
    let lead_ids: HashSet<Uuid> = rows.iter().filter_map(|o| o.lead_id).collect();
    let leads: HashMap<Uuid, String> = if lead_ids.is_empty() {
        HashMap::new()
    } else {
        lead::Entity::find()
            .filter(lead::Column::Id.is_in(lead_ids))
            .all(&state.db)
            .await?
            .into_iter()
            .map(|l| (l.id, l.name))
            .collect()
    };
    let mut out = Vec::with_capacity(rows.len());
    for o in rows {
        let (products, payment_stages) = if detail {
            let (p, s) = lines::load(&state.db, o.id).await?;
            (Some(p), Some(s))
        } else {
            (None, None)
        };
        out.push(OpportunityItem {
            owner_username: text_of(&users, o.owner_user_id, "username"),
            customer_name: text_of(&customers, o.customer_id, "name"),
            lead_name: o.lead_id.and_then(|l| leads.get(&l).cloned()),
            id: o.id,
            organization_id: o.organization_id,
            name: o.name,
            customer_id: o.customer_id,
            lead_id: o.lead_id,
            amount: o.amount,
            probability: o.probability,
            stage: o.stage,
            status: o.status,
            owner_user_id: o.owner_user_id,
            expected_close_date: o.expected_close_date,
            actual_close_date: o.actual_close_date,
            description: o.description,
            created_by: o.created_by,
            updated_by: o.updated_by,
            created_at: o.created_at,
            updated_at: o.updated_at,
            version: o.version,
            products,
            payment_stages,
            warnings: None,
        });
    }
    Ok(out)
}

/// One opportunity with its products and payment stages.
pub async fn one(state: &AppState, forward: &Forward, o: opportunity::Model) -> ApiResult<OpportunityItem> {
    items(state, forward, vec![o], true).await?.pop().ok_or_else(|| ApiError::internal("empty opportunity view"))
}

/// The answer to a stale `version`: 409 carrying the opportunity as it now is.
pub async fn stale(state: &AppState, forward: &Forward, current: opportunity::Model) -> ApiError {
    let current = one(state, forward, current).await.ok();
    ApiError::Conflict {
        message: "the opportunity was changed by someone else; here is its current version".into(),
        current: current.and_then(|c| serde_json::to_value(c).ok()),
    }
}

/// Writes `a` (a change of `before`) only if the stored opportunity still has `before`'s version;
/// bumps the version and stamps who and when.
pub async fn save(
    state: &AppState,
    forward: &Forward,
    viewer: &Viewer,
    before: &opportunity::Model,
    mut a: opportunity::ActiveModel,
    db: &impl ConnectionTrait,
) -> ApiResult<opportunity::Model> {
    a.updated_by = Set(Some(viewer.user_id));
    a.updated_at = Set(Utc::now());
    a.version = Set(before.version + 1);
    let result = match opportunity::Entity::update(a).validate() {
        Ok(update) => update.filter(opportunity::Column::Version.eq(before.version)).exec(db).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(after) => Ok(after),
        Err(sea_orm::DbErr::RecordNotUpdated) => {
            let current = opportunity::Entity::find_by_id(before.id).one(&state.db).await?;
            match current.filter(|o| viewer.can_see(o)) {
                Some(c) => Err(stale(state, forward, c).await),
                None => Err(ApiError::not_found("opportunity")),
            }
        }
        Err(e) => Err(e.into()),
    }
}

/// Everything a new opportunity is made of, checked (and its products asked of
/// service-management) but not yet written: shared by `POST /opportunities` and the conversions.
#[derive(Debug, Clone)]
pub struct Draft {
    pub name: String,
    pub amount: Option<Decimal>,
    pub probability: Option<i32>,
    pub stage: String,
    pub status: String,
    pub owner_user_id: Uuid,
    pub expected_close_date: Option<NaiveDate>,
    pub actual_close_date: Option<NaiveDate>,
    pub description: Option<String>,
    pub products: Prepared,
    pub stages: Vec<Stage>,
}

/// What a new opportunity is asked to be, from any of the routes that make one.
#[derive(Debug, Clone)]
pub struct Wish {
    pub name: String,
    pub amount: Option<Decimal>,
    pub probability: Option<f64>,
    pub stage: Option<String>,
    pub status: Option<String>,
    pub owner_user_id: Uuid,
    pub expected_close_date: Option<NaiveDate>,
    pub description: Option<String>,
    pub products: Vec<super::dto::OpportunityProductLine>,
    pub payment_stages: Vec<super::dto::PaymentStageLine>,
    pub auto_calculate_order: bool,
}

/// Checks `wish` and prepares its products (service-management is asked here, before anything
/// is written anywhere).
pub async fn draft(state: &AppState, forward: &Forward, viewer: &Viewer, wish: Wish) -> ApiResult<Draft> {
    let mut v = Validator::new();
    v.length("name", wish.name.trim(), 1, 255);
    lines::check_amount(&mut v, "amount", wish.amount);
    v.finish()?;
    let probability = wish.probability.map(rules::probability).transpose()?;
    let (stage, status) = rules::settle("initial_contact", "active", wish.stage.as_deref(), wish.status.as_deref())?;
    check_owner(state, forward, viewer, wish.owner_user_id).await?;
    let stages = lines::stages(wish.payment_stages)?;
    let products = lines::prepare(state, forward, wish.products, wish.auto_calculate_order).await?;
    let today = Utc::now().date_naive();
    Ok(Draft {
        actual_close_date: rules::close_date("active", &status, None, None, today),
        name: wish.name.trim().to_owned(),
        amount: wish.amount,
        probability,
        stage,
        status,
        owner_user_id: wish.owner_user_id,
        expected_close_date: wish.expected_close_date,
        description: clean(wish.description),
        products,
        stages,
    })
}

/// Writes a drafted opportunity (and its products and payment stages) under `id`.
pub async fn insert(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    id: Uuid,
    customer_id: Option<Uuid>,
    lead_id: Option<Uuid>,
    draft: &Draft,
) -> ApiResult<opportunity::Model> {
    let now = Utc::now();
    let saved = opportunity::ActiveModel {
        id: Set(id),
        organization_id: Set(viewer.organization_id),
        customer_id: Set(customer_id),
        lead_id: Set(lead_id),
        name: Set(draft.name.clone()),
        amount: Set(draft.amount),
        probability: Set(draft.probability),
        stage: Set(draft.stage.clone()),
        status: Set(draft.status.clone()),
        owner_user_id: Set(Some(draft.owner_user_id)),
        expected_close_date: Set(draft.expected_close_date),
        actual_close_date: Set(draft.actual_close_date),
        description: Set(draft.description.clone()),
        created_by: Set(Some(viewer.user_id)),
        updated_by: Set(Some(viewer.user_id)),
        created_at: Set(now),
        updated_at: Set(now),
        version: Set(1),
    }
    .insert(db)
    .await?;
    lines::insert(db, viewer.organization_id, id, &draft.products.lines, &draft.stages).await?;
    Ok(saved)
}

/// A lead of the caller's organization that may be named by a new opportunity: visible to the
/// caller (404) and not yet the source of another opportunity (409).
async fn check_lead(state: &AppState, caller: &Principal, lead_id: Uuid) -> ApiResult<()> {
    crate::leads::service::find_visible(state, &crate::leads::service::Viewer::of(caller), lead_id).await?;
    let taken = opportunity::Entity::find().filter(opportunity::Column::LeadId.eq(lead_id)).one(&state.db).await?;
    if taken.is_some() {
        return Err(ApiError::conflict("the lead already has an opportunity"));
    }
    Ok(())
}

/// A new opportunity of the caller's organization; with the warnings its products gave.
pub async fn create(
    state: &AppState,
    forward: &Forward,
    caller: &Principal,
    body: CreateOpportunity,
) -> ApiResult<(opportunity::Model, Vec<String>)> {
    let viewer = Viewer::of(caller);
    if let Some(lead_id) = body.lead_id {
        check_lead(state, caller, lead_id).await?;
    }
    let wish = Wish {
        name: body.name,
        amount: body.amount,
        probability: body.probability,
        stage: body.stage,
        status: body.status,
        owner_user_id: body.owner_user_id.unwrap_or(viewer.user_id),
        expected_close_date: body.expected_close_date,
        description: body.description,
        products: body.products,
        payment_stages: body.payment_stages,
        auto_calculate_order: body.auto_calculate_order,
    };
    let draft = draft(state, forward, &viewer, wish).await?;
    if let Some(c) = body.customer_id {
        check_customer(state, forward, c).await?;
    }
    let txn = begin_write(&state.db).await?;
    let saved = insert(&txn, &viewer, Uuid::now_v7(), body.customer_id, body.lead_id, &draft).await?;
    txn.commit().await?;
    Ok((saved, draft.products.warnings))
}

/// Applies `body` to an opportunity the caller sees. Stage and status move together
/// ([`rules::settle`]); an owner change follows the assignment rules (`null` is ignored);
/// products and payment stages, when sent, replace the stored ones. With `expected` the write
/// happens only if nobody changed the opportunity since.
pub async fn update(
    state: &AppState,
    forward: &Forward,
    caller: &Principal,
    id: Uuid,
    body: UpdateOpportunity,
    expected: Option<i32>,
) -> ApiResult<(opportunity::Model, opportunity::Model, Vec<String>)> {
    let viewer = Viewer::of(caller);
    let before = find_visible(&state.db, &viewer, id).await?;
    if let Some(v) = expected
        && v != before.version
    {
        return Err(stale(state, forward, before).await);
    }
    let mut v = Validator::new();
    if let Some(n) = &body.name {
        v.length("name", n.trim(), 1, 255);
    }
    lines::check_amount(&mut v, "amount", body.amount.flatten());
    v.finish()?;
    let probability = body.probability.map(|p| p.map(rules::probability).transpose()).transpose()?;
    let (stage, status) = rules::settle(&before.stage, &before.status, body.stage.as_deref(), body.status.as_deref())?;
    if let Some(Some(owner)) = body.owner_user_id
        && before.owner_user_id != Some(owner)
    {
        check_owner(state, forward, &viewer, owner).await?;
    }
    let stages = body.payment_stages.map(lines::stages).transpose()?;
    let auto = body.auto_calculate_order.unwrap_or(true);
    let products = match body.products {
        Some(p) => Some(lines::prepare(state, forward, p, auto).await?),
        None => None,
    };
    if let Some(Some(c)) = body.customer_id
        && before.customer_id != Some(c)
    {
        check_customer(state, forward, c).await?;
    }
    let mut a = before.clone().into_active_model();
    if let Some(n) = body.name {
        a.name = Set(n.trim().to_owned());
    }
    if let Some(c) = body.customer_id {
        a.customer_id = Set(c);
    }
    if let Some(amount) = body.amount {
        a.amount = Set(amount);
    }
    if let Some(p) = probability {
        a.probability = Set(p);
    }
    if let Some(Some(owner)) = body.owner_user_id {
        a.owner_user_id = Set(Some(owner));
    }
    if let Some(d) = body.expected_close_date {
        a.expected_close_date = Set(d);
    }
    if let Some(d) = body.description {
        a.description = Set(clean(d));
    }
    let today = Utc::now().date_naive();
    a.actual_close_date =
        Set(rules::close_date(&before.status, &status, before.actual_close_date, body.actual_close_date, today));
    a.stage = Set(stage);
    a.status = Set(status);
    let txn = begin_write(&state.db).await?;
    let after = save(state, forward, &viewer, &before, a, &txn).await?;
    lines::clear(&txn, id, products.is_some(), stages.is_some()).await?;
    let warnings = products.as_ref().map(|p| p.warnings.clone()).unwrap_or_default();
    let none = Vec::new();
    lines::insert(
        &txn,
        before.organization_id,
        id,
        products.as_ref().map_or(&none, |p| &p.lines),
        stages.as_deref().unwrap_or_default(),
    )
    .await?;
    txn.commit().await?;
    Ok((before, after, warnings))
}

/// Moves an opportunity's stage and/or status ([`rules::settle`]), dating its close.
pub async fn move_to(
    state: &AppState,
    forward: &Forward,
    caller: &Principal,
    id: Uuid,
    stage: Option<&str>,
    status: Option<&str>,
) -> ApiResult<(opportunity::Model, opportunity::Model)> {
    let body = UpdateOpportunity {
        stage: stage.map(str::to_owned),
        status: status.map(str::to_owned),
        ..UpdateOpportunity::default()
    };
    let (before, after, _) = update(state, forward, caller, id, body, None).await?;
    Ok((before, after))
}

/// Gives an opportunity to `owner`: administrators to any member of the organization; others
/// only to themselves (so, for an opportunity they see, a harmless retry).
pub async fn assign(
    state: &AppState,
    forward: &Forward,
    caller: &Principal,
    id: Uuid,
    owner: Uuid,
) -> ApiResult<(opportunity::Model, opportunity::Model)> {
    let viewer = Viewer::of(caller);
    let before = find_visible(&state.db, &viewer, id).await?;
    check_owner(state, forward, &viewer, owner).await?;
    let mut a = before.clone().into_active_model();
    a.owner_user_id = Set(Some(owner));
    let after = save(state, forward, &viewer, &before, a, &state.db).await?;
    Ok((before, after))
}

/// Deletes an opportunity the caller sees, with its products, payment stages, follow-ups and
/// notes.
pub async fn delete(state: &AppState, caller: &Principal, id: Uuid) -> ApiResult<opportunity::Model> {
    let before = find_visible(&state.db, &Viewer::of(caller), id).await?;
    opportunity::Entity::delete_by_id(id).exec(&state.db).await?;
    Ok(before)
}
