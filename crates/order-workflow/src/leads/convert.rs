//! Converting a lead: into a customer in service-management (`convert-to-customer`), and into an
//! opportunity here (`convert-to-opportunity`, the original's `convert-from-lead`), creating the
//! customer on the way unless one is named or the lead already has one.
//!
//! Two services are written, so the order is what makes it safe (docs/ARCHITECTURE.md,
//! "Conversions across services"): every question to service-management is asked first and
//! nothing is written here before it answered; the customer is created through its offline-sync
//! upsert under an id derived from the lead's, so a retry (or a concurrent twin) finds the same
//! customer instead of making a second; then one local transaction, holding the lead, writes the
//! opportunity under an id derived from the lead's and marks the lead converted — or finds that
//! another request already did and answers with that.

use super::model::lead;
use super::service::{self as leads, Viewer};
use crate::AppState;
use crate::opportunities::model::opportunity;
use crate::opportunities::service::{self as opportunities, Wish};
use crate::opportunities::{OpportunityItem, OpportunityProductLine, PaymentStageLine};
use crate::perm::LeadConvert;
use axum::extract::State;
use axum::response::Response;
use chrono::NaiveDate;
use crm_common::api::openapi::{BadRequest, Conflict, Forbidden, NotFound, Unavailable};
use crm_common::api::patch::clean;
use crm_common::api::{Envelope, Json, Path, ok};
use crm_common::auth::{Authorized, Principal};
use crm_common::db::begin_write;
use crm_common::http::audit::with_before;
use crm_common::http::peer::Forward;
use crm_common::{ApiError, ApiResult};
use rust_decimal::Decimal;
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter, QuerySelect};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use sha1::{Digest, Sha1};
use utoipa::ToSchema;
use uuid::Uuid;

/// The namespace of the UUIDs (version 5) derived from lead ids.
const NAMESPACE: Uuid = Uuid::from_u128(0x6b2f_4c1e_93a7_4d0b_8e55_1f3c_9a72_d604);

/// A name-based UUID (RFC 9562 version 5: SHA-1 of the namespace and the name).
fn v5(name: &str) -> Uuid {
    let mut hash = Sha1::new();
    hash.update(NAMESPACE.as_bytes());
    hash.update(name.as_bytes());
    let digest = hash.finalize();
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    uuid::Builder::from_sha1_bytes(bytes).into_uuid()
}

/// The id of the customer a lead is converted into: the same on every attempt, so that
/// service-management recognises a retry as a replay.
pub fn customer_id_for(lead_id: Uuid) -> Uuid {
    v5(&format!("lead-customer:{lead_id}"))
}

/// The id of the opportunity a lead is converted into.
pub fn opportunity_id_for(lead_id: Uuid) -> Uuid {
    v5(&format!("lead-opportunity:{lead_id}"))
}

/// The original's conversion body (and the admin frontend's "convert" dialog).
#[derive(Debug, Deserialize, ToSchema)]
pub struct ConvertLead {
    /// An existing customer the caller may see; when absent (and the lead has none yet) one is
    /// created in service-management from the lead.
    pub customer_id: Option<Uuid>,
    /// Default: the lead's company name, else its name.
    pub name: Option<String>,
    #[serde(default, with = "crm_common::api::money::opt")]
    #[schema(value_type = Option<f64>)]
    pub amount: Option<Decimal>,
    pub probability: Option<f64>,
    /// Default `initial_contact`.
    pub stage: Option<String>,
    /// Default: the lead's owner, else the caller.
    pub owner_user_id: Option<Uuid>,
    #[serde(default, deserialize_with = "crate::opportunities::day::opt")]
    pub expected_close_date: Option<NaiveDate>,
    pub description: Option<String>,
    #[serde(default)]
    pub products: Vec<OpportunityProductLine>,
    #[serde(default)]
    pub payment_stages: Vec<PaymentStageLine>,
    #[serde(default = "yes")]
    pub auto_calculate_order: bool,
}

fn yes() -> bool {
    true
}

/// The admin frontend's "convert to customer" dialog.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct ConvertToCustomer {
    /// Default: the lead's company name, else its name.
    pub customer_name: Option<String>,
    /// Default: the lead's contact name; kept in the customer's description.
    pub contact_name: Option<String>,
}

/// The admin frontend's "convert to opportunity" dialog.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct ConvertToOpportunity {
    /// Default: the lead's company name, else its name.
    pub opportunity_name: Option<String>,
    #[serde(default, with = "crm_common::api::money::opt")]
    #[schema(value_type = Option<f64>)]
    pub amount: Option<Decimal>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CustomerConversion {
    pub customer_id: Uuid,
    /// The customer as service-management shows it to the caller (null when it cannot be read).
    #[schema(value_type = Option<Object>)]
    pub customer: Option<Value>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OpportunityConversion {
    pub opportunity_id: Uuid,
    pub opportunity: OpportunityItem,
}

#[derive(Deserialize)]
struct Source {
    id: Uuid,
    code: String,
    name: String,
    name_zh: Option<String>,
    name_id: Option<String>,
}

/// The customer source matching the lead's free-text `source` (its code or a name it is listed
/// under, ignoring case), else the catalogue's "other" (`source_008`), else the first.
async fn source_for(state: &AppState, forward: &Forward, lead_source: Option<&str>) -> ApiResult<Uuid> {
    let sources: Vec<Source> =
        state.service_management.get("/api/service-management/customer-sources", forward).await?;
    let wanted = lead_source.map(|s| s.trim().to_lowercase()).filter(|s| !s.is_empty());
    let matches = |s: &Source| {
        wanted.as_deref().is_some_and(|w| {
            [Some(&s.code), Some(&s.name), s.name_zh.as_ref(), s.name_id.as_ref()]
                .into_iter()
                .flatten()
                .any(|n| n.to_lowercase() == w)
        })
    };
    sources
        .iter()
        .find(|s| matches(s))
        .or_else(|| sources.iter().find(|s| s.code == "source_008"))
        .or_else(|| sources.first())
        .map(|s| s.id)
        .ok_or_else(|| ApiError::BadGateway("service-management has no customer sources".into()))
}

#[derive(Deserialize)]
struct ItemError {
    code: u16,
    message: String,
}

#[derive(Deserialize)]
struct ItemAnswer {
    status: String,
    server: Option<Value>,
    error: Option<ItemError>,
}

#[derive(Deserialize)]
struct BatchAnswer {
    results: Vec<ItemAnswer>,
}

/// service-management's refusal of the customer item, as this service's error.
fn refused(e: ItemError) -> ApiError {
    match e.code {
        400 | 422 => ApiError::BadRequest(format!("service-management refused the customer: {}", e.message)),
        403 => ApiError::Forbidden(e.message),
        404 => ApiError::conflict(
            "the customer made from this lead in service-management is not visible to you; an administrator can \
             complete the conversion",
        ),
        409 => ApiError::conflict(e.message),
        503 => ApiError::Unavailable("service-management is unavailable".into()),
        _ => ApiError::BadGateway("service-management failed".into()),
    }
}

/// Creates (or, on a retry, finds) the customer `l` converts into: one offline-sync upsert under
/// [`customer_id_for`], based on version 1 so that a customer someone edited since is left as it
/// is. Name: `name`, else the company name, else the lead's name; an organization when there is
/// a company name; source "own"; owner `owner`; the lead's level and contact details.
async fn upsert_customer(
    state: &AppState,
    forward: &Forward,
    l: &lead::Model,
    owner: Uuid,
    name: Option<String>,
    contact: Option<String>,
) -> ApiResult<(Uuid, Option<Value>)> {
    let id = customer_id_for(l.id);
    let source = source_for(state, forward, l.source.as_deref()).await?;
    let company = clean(l.company_name.clone());
    let name = clean(name).or_else(|| company.clone()).unwrap_or_else(|| l.name.clone());
    let mut data = Map::new();
    data.insert("name".into(), json!(name));
    data.insert("customer_type".into(), json!(if company.is_some() { "organization" } else { "individual" }));
    data.insert("customer_source_type".into(), json!("own"));
    data.insert("source_id".into(), json!(source));
    data.insert("owner_user_id".into(), json!(owner));
    let contact = clean(contact).or_else(|| clean(l.contact_name.clone()));
    let description = match contact {
        Some(c) => format!("Converted from lead \"{}\"; contact: {c}", l.name),
        None => format!("Converted from lead \"{}\"", l.name),
    };
    data.insert("description".into(), json!(description));
    for (key, value) in [("level", &l.level), ("phone", &l.phone), ("email", &l.email)] {
        if let Some(v) = clean(value.clone()) {
            data.insert(key.into(), json!(v));
        }
    }
    let item = json!({"entity": "customer", "op": "upsert", "id": id, "base_version": 1, "data": data});
    let answer: BatchAnswer =
        state.service_management.post("/api/service-management/sync/batch", forward, &json!({"items": [item]})).await?;
    let result =
        answer.results.into_iter().next().ok_or_else(|| ApiError::BadGateway("service-management failed".into()))?;
    match (result.status.as_str(), result.error) {
        (_, Some(e)) => Err(refused(e)),
        ("created" | "updated" | "unchanged" | "conflict", None) => Ok((id, result.server)),
        _ => Err(ApiError::BadGateway("service-management gave an invalid answer".into())),
    }
}

/// The lead, read and held (a row lock on PostgreSQL; SQLite's write transaction holds the whole
/// database) until the transaction ends, so that concurrent conversions of it take turns.
async fn hold(txn: &sea_orm::DatabaseTransaction, id: Uuid) -> ApiResult<lead::Model> {
    lead::Entity::find_by_id(id).lock_exclusive().one(txn).await?.ok_or_else(|| ApiError::not_found("lead"))
}

fn refuse_lost(l: &lead::Model) -> ApiResult<()> {
    if l.status == "lost" {
        return Err(ApiError::conflict("a lost lead cannot be converted"));
    }
    Ok(())
}

/// The lead's change on conversion: converted, with its customer, out of the pool, owned.
fn converted(l: &lead::Model, customer_id: Uuid, owner: Uuid) -> lead::ActiveModel {
    let mut a = l.clone().into_active_model();
    a.status = Set("converted".into());
    a.customer_id = Set(Some(l.customer_id.unwrap_or(customer_id)));
    a.owner_user_id = Set(Some(l.owner_user_id.unwrap_or(owner)));
    a.is_in_public_pool = Set(false);
    a.pool_id = Set(None);
    a.moved_to_pool_at = Set(None);
    a
}

/// Converts a visible lead into a customer; a lead that has one answers it again.
pub async fn to_customer(
    state: &AppState,
    forward: &Forward,
    caller: &Principal,
    id: Uuid,
    body: ConvertToCustomer,
) -> ApiResult<(lead::Model, CustomerConversion)> {
    let viewer = Viewer::of(caller);
    let before = leads::find_visible(state, &viewer, id).await?;
    if let Some(customer_id) = before.customer_id {
        return Ok((before, replayed(state, forward, customer_id).await));
    }
    refuse_lost(&before)?;
    let owner = before.owner_user_id.unwrap_or(viewer.user_id);
    let (customer_id, customer) =
        upsert_customer(state, forward, &before, owner, body.customer_name, body.contact_name).await?;
    let txn = begin_write(&state.db).await?;
    let held = hold(&txn, id).await?;
    if let Some(done) = held.customer_id {
        txn.commit().await?;
        return Ok((before, replayed(state, forward, done).await));
    }
    refuse_lost(&held)?;
    leads::save(state, forward, &viewer, &held, converted(&held, customer_id, owner), &txn).await?;
    txn.commit().await?;
    Ok((before, CustomerConversion { customer_id, customer }))
}

/// The answer for a lead converted before: its customer as service-management shows it now, or
/// null when that cannot be read (the conversion itself is done).
async fn replayed(state: &AppState, forward: &Forward, customer_id: Uuid) -> CustomerConversion {
    let path = format!("/api/service-management/customers/{customer_id}");
    let customer = state.service_management.get::<Value>(&path, forward).await.ok();
    CustomerConversion { customer_id, customer }
}

/// What an opportunity made from a lead is asked to be.
struct Request {
    customer_id: Option<Uuid>,
    name: Option<String>,
    amount: Option<Decimal>,
    probability: Option<f64>,
    stage: Option<String>,
    owner_user_id: Option<Uuid>,
    expected_close_date: Option<NaiveDate>,
    description: Option<String>,
    products: Vec<OpportunityProductLine>,
    payment_stages: Vec<PaymentStageLine>,
    auto_calculate_order: bool,
}

/// Converts a visible lead into an opportunity (and a customer, unless one is named or the lead
/// has one). A lead converted before answers its opportunity (`false`: nothing new was made).
async fn to_opportunity(
    state: &AppState,
    forward: &Forward,
    caller: &Principal,
    id: Uuid,
    req: Request,
) -> ApiResult<(lead::Model, opportunity::Model, bool, Vec<String>)> {
    let viewer = Viewer::of(caller);
    let seer = opportunities::Viewer::of(caller);
    let before = leads::find_visible(state, &viewer, id).await?;
    let existing = |o: opportunity::Model| {
        if seer.can_see(&o) {
            Ok(o)
        } else {
            Err(ApiError::conflict("the lead was already converted into an opportunity"))
        }
    };
    let made = opportunity::Entity::find().filter(opportunity::Column::LeadId.eq(id)).one(&state.db).await?;
    if let Some(o) = made {
        return Ok((before.clone(), existing(o)?, false, Vec::new()));
    }
    refuse_lost(&before)?;
    let owner = req.owner_user_id.or(before.owner_user_id).unwrap_or(viewer.user_id);
    let name = clean(req.name).or_else(|| clean(before.company_name.clone())).unwrap_or_else(|| before.name.clone());
    let wish = Wish {
        name,
        amount: req.amount,
        probability: req.probability,
        stage: req.stage,
        status: None,
        owner_user_id: owner,
        expected_close_date: req.expected_close_date,
        description: req.description,
        products: req.products,
        payment_stages: req.payment_stages,
        auto_calculate_order: req.auto_calculate_order,
    };
    let draft = opportunities::draft(state, forward, &seer, wish).await?;
    let customer_id = match (req.customer_id, before.customer_id) {
        (Some(c), _) => {
            opportunities::check_customer(state, forward, c).await?;
            c
        }
        (None, Some(c)) => c,
        (None, None) => upsert_customer(state, forward, &before, owner, None, None).await?.0,
    };
    let txn = begin_write(&state.db).await?;
    let held = hold(&txn, id).await?;
    let made = opportunity::Entity::find().filter(opportunity::Column::LeadId.eq(id)).one(&txn).await?;
    if let Some(o) = made {
        txn.commit().await?;
        return Ok((before, existing(o)?, false, Vec::new()));
    }
    refuse_lost(&held)?;
    let saved = opportunities::insert(&txn, &seer, opportunity_id_for(id), Some(customer_id), Some(id), &draft).await?;
    leads::save(state, forward, &viewer, &held, converted(&held, customer_id, owner), &txn).await?;
    txn.commit().await?;
    Ok((before, saved, true, draft.products.warnings))
}

async fn answer_opportunity(
    state: &AppState,
    forward: &Forward,
    before: &lead::Model,
    o: opportunity::Model,
    warnings: Option<Vec<String>>,
) -> ApiResult<(OpportunityItem, Value)> {
    let mut item = opportunities::one(state, forward, o).await?;
    item.warnings = warnings;
    let was = json!({"id": before.id, "status": before.status, "customer_id": before.customer_id});
    Ok((item, was))
}

/// Convert a lead into an opportunity
///
/// The original's path. Creates the customer in service-management from the lead unless
/// `customer_id` is given or the lead already has one, then the opportunity (products checked as
/// on create), and marks the lead `converted` with its customer — all or nothing as far as the
/// caller can tell: with service-management down nothing changes (503), and a retry completes
/// once. A lead converted before answers its opportunity. Answers 200, which the admin frontend
/// needs (the original answered 201).
#[utoipa::path(post, path = "/api/order-workflow/opportunities/convert-from-lead/{lead_id}", tag = "opportunities",
    params(("lead_id" = Uuid, Path)), request_body = ConvertLead,
    responses((status = 200, description = "The opportunity made from the lead", body = Envelope<OpportunityItem>),
        (status = 400, response = BadRequest), (status = 403, response = Forbidden), (status = 404, response = NotFound),
        (status = 409, response = Conflict), (status = 503, response = Unavailable)),
    security(("bearer" = [])))]
pub async fn convert_from_lead(
    State(state): State<AppState>,
    caller: Authorized<LeadConvert>,
    forward: Forward,
    Path(lead_id): Path<Uuid>,
    Json(body): Json<ConvertLead>,
) -> ApiResult<Response> {
    let products_sent = !body.products.is_empty();
    let req = Request {
        customer_id: body.customer_id,
        name: body.name,
        amount: body.amount,
        probability: body.probability,
        stage: body.stage,
        owner_user_id: body.owner_user_id,
        expected_close_date: body.expected_close_date,
        description: body.description,
        products: body.products,
        payment_stages: body.payment_stages,
        auto_calculate_order: body.auto_calculate_order,
    };
    let (before, o, _, warnings) = to_opportunity(&state, &forward, &caller, lead_id, req).await?;
    let (item, was) = answer_opportunity(&state, &forward, &before, o, products_sent.then_some(warnings)).await?;
    Ok(with_before(ok(item), &was))
}

/// Convert a lead into an opportunity (the admin frontend's path)
///
/// As `POST /opportunities/convert-from-lead/{lead_id}`, with the dialog's `opportunity_name`
/// and `amount`; answers `{opportunity_id, opportunity}`.
#[utoipa::path(post, path = "/api/order-workflow/leads/{id}/convert-to-opportunity", tag = "leads",
    params(("id" = Uuid, Path)), request_body = ConvertToOpportunity,
    responses((status = 200, description = "The opportunity made from the lead", body = Envelope<OpportunityConversion>),
        (status = 400, response = BadRequest), (status = 403, response = Forbidden), (status = 404, response = NotFound),
        (status = 409, response = Conflict), (status = 503, response = Unavailable)),
    security(("bearer" = [])))]
pub async fn convert_to_opportunity(
    State(state): State<AppState>,
    caller: Authorized<LeadConvert>,
    forward: Forward,
    Path(id): Path<Uuid>,
    Json(body): Json<ConvertToOpportunity>,
) -> ApiResult<Response> {
    let req = Request {
        customer_id: None,
        name: body.opportunity_name,
        amount: body.amount,
        probability: None,
        stage: None,
        owner_user_id: None,
        expected_close_date: None,
        description: None,
        products: Vec::new(),
        payment_stages: Vec::new(),
        auto_calculate_order: true,
    };
    let (before, o, _, _) = to_opportunity(&state, &forward, &caller, id, req).await?;
    let (opportunity, was) = answer_opportunity(&state, &forward, &before, o, None).await?;
    Ok(with_before(ok(OpportunityConversion { opportunity_id: opportunity.id, opportunity }), &was))
}

/// Convert a lead into a customer
///
/// Creates the customer in service-management from the lead (the dialog's `customer_name`, else
/// the company name, else the lead's name; an organization when there is a company name; the
/// lead's owner, level and contact details) and marks the lead `converted` with it. With
/// service-management down nothing changes (503); a retry, or a lead converted before, answers
/// the same customer.
#[utoipa::path(post, path = "/api/order-workflow/leads/{id}/convert-to-customer", tag = "leads",
    params(("id" = Uuid, Path)), request_body = ConvertToCustomer,
    responses((status = 200, description = "The customer made from the lead", body = Envelope<CustomerConversion>),
        (status = 400, response = BadRequest), (status = 403, response = Forbidden), (status = 404, response = NotFound),
        (status = 409, response = Conflict), (status = 503, response = Unavailable)),
    security(("bearer" = [])))]
pub async fn convert_to_customer(
    State(state): State<AppState>,
    caller: Authorized<LeadConvert>,
    forward: Forward,
    Path(id): Path<Uuid>,
    Json(body): Json<ConvertToCustomer>,
) -> ApiResult<Response> {
    let (before, answer) = to_customer(&state, &forward, &caller, id, body).await?;
    let was = json!({"id": before.id, "status": before.status, "customer_id": before.customer_id});
    Ok(with_before(ok(answer), &was))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derived_ids_are_version_5_and_stable() {
        // RFC 9562's construction, checked against a published value: uuid5(NAMESPACE_DNS,
        // "python.org") in Python's documentation.
        let dns = Uuid::from_u128(0x6ba7_b810_9dad_11d1_80b4_00c0_4fd4_30c8);
        let mut hash = Sha1::new();
        hash.update(dns.as_bytes());
        hash.update(b"python.org");
        let mut bytes = [0u8; 16];
        bytes.copy_from_slice(&hash.finalize()[..16]);
        let known = uuid::Builder::from_sha1_bytes(bytes).into_uuid();
        assert_eq!(known.to_string(), "886313e1-3b8a-5372-9b90-0c9aee199e5d");

        let lead = Uuid::now_v7();
        assert_eq!(customer_id_for(lead), customer_id_for(lead));
        assert_eq!(customer_id_for(lead).get_version_num(), 5);
        assert_ne!(customer_id_for(lead), opportunity_id_for(lead));
        assert_ne!(customer_id_for(lead), customer_id_for(Uuid::now_v7()));
    }
}
