//! The service-record rules: who sees which record, the status flow, the priority order, the
//! references a record may make, and the names copied from them on write.

use super::dto::{CURRENCIES, PRIORITIES, STATUSES, ServiceRecordItem};
use super::model as record;
use crate::AppState;
use crate::contacts::model as contact;
use crate::contacts::service::full_name;
use crate::customers::model::customer;
use crate::customers::service::{Viewer, owned_by};
use crate::products::model as product;
use crate::service_types::model as service_type;
use crm_common::api::validate::Validator;
use crm_common::http::peer::{Forward, text_of};
use crm_common::{ApiError, ApiResult};
use rust_decimal::Decimal;
use sea_orm::sea_query::Query;
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter};
use std::collections::HashMap;
use uuid::Uuid;

/// The statuses a record in `from` may move to; completed and cancelled are final. The design
/// notes' intended flow, which the original did not enforce.
pub fn allowed_moves(from: &str) -> &'static [&'static str] {
    match from {
        "pending" => &["in_progress", "cancelled", "on_hold"],
        "in_progress" => &["completed", "on_hold", "cancelled"],
        "on_hold" => &["in_progress", "cancelled"],
        _ => &[],
    }
}

/// Staying put is always allowed; any other move must be in [`allowed_moves`], else 409 naming
/// the moves that are.
pub fn check_move(from: &str, to: &str) -> ApiResult<()> {
    if from == to {
        return Ok(());
    }
    let allowed = allowed_moves(from);
    if allowed.contains(&to) {
        return Ok(());
    }
    Err(ApiError::conflict(if allowed.is_empty() {
        format!("a {from} service record cannot change status: {from} is final")
    } else {
        format!("a {from} service record cannot move to {to}; allowed: {}", allowed.join(", "))
    }))
}

/// The stored sort key of a priority, so lists sort urgent > high > normal > low in SQL.
pub fn priority_rank(priority: &str) -> i32 {
    match priority {
        "urgent" => 0,
        "high" => 1,
        "normal" => 2,
        _ => 3,
    }
}

/// Records the caller may see: its organization's; for non-administrators only those whose
/// customer they own, created or act for, or whose salesperson they are.
pub fn visible(viewer: &Viewer) -> Condition {
    let mut cond = Condition::all().add(record::Column::OrganizationId.eq(viewer.organization_id));
    if !viewer.is_admin {
        let mine = Query::select()
            .column(customer::Column::Id)
            .from(customer::Entity)
            .cond_where(owned_by(viewer.user_id))
            .to_owned();
        cond = cond.add(
            Condition::any()
                .add(record::Column::CustomerId.in_subquery(mine))
                .add(record::Column::SalesUserId.eq(viewer.user_id)),
        );
    }
    cond
}

/// A record the caller may see; anything else is a 404, as if it did not exist.
pub async fn find_visible(db: &impl ConnectionTrait, viewer: &Viewer, id: Uuid) -> ApiResult<record::Model> {
    record::Entity::find_by_id(id)
        .filter(visible(viewer))
        .one(db)
        .await?
        .ok_or_else(|| ApiError::not_found("service record"))
}

/// Status, priority, currency and amounts of a record as it would be written.
pub fn validate(r: &record::Model) -> ApiResult<()> {
    let mut v = Validator::new();
    v.one_of("status", Some(&r.status), STATUSES)
        .one_of("priority", Some(&r.priority), PRIORITIES)
        .one_of("currency_code", Some(&r.currency_code), CURRENCIES)
        .check(r.quantity >= Decimal::ZERO, "quantity", "must be at least 0")
        .check(r.estimated_price.is_none_or(|p| p >= Decimal::ZERO), "estimated_price", "must be at least 0")
        .check(r.final_price.is_none_or(|p| p >= Decimal::ZERO), "final_price", "must be at least 0")
        .optional_length("service_name", r.service_name.as_deref(), 255)
        .optional_length("service_code", r.service_code.as_deref(), 100)
        .optional_length("unit", r.unit.as_deref(), 50);
    v.finish()
}

/// Checks what `r` refers to and copies the names: the contact must be one of the record's
/// customer's (another customer's → 400, unknown → 404), the referral customer must exist in the
/// organization (404), the product and service type must exist in the catalogue (400).
pub async fn resolve(state: &AppState, forward: &Forward, r: &mut record::Model) -> ApiResult<()> {
    let db = &state.db;
    let owner = customer::Entity::find_by_id(r.customer_id)
        .one(db)
        .await?
        .filter(|c| c.organization_id == r.organization_id)
        .ok_or_else(|| ApiError::not_found("customer"))?;
    r.customer_name = Some(owner.name);
    r.contact_name = match r.contact_id {
        None => None,
        Some(id) => {
            let c = contact::Entity::find_by_id(id)
                .one(db)
                .await?
                .filter(|c| c.organization_id == r.organization_id)
                .ok_or_else(|| ApiError::not_found("contact"))?;
            if c.customer_id != r.customer_id {
                return Err(ApiError::field("contact_id", "the contact belongs to another customer"));
            }
            Some(full_name(c.first_name.as_deref(), &c.last_name))
        }
    };
    r.referral_customer_name = match r.referral_customer_id {
        None => None,
        Some(id) => Some(
            customer::Entity::find_by_id(id)
                .one(db)
                .await?
                .filter(|c| c.organization_id == r.organization_id)
                .ok_or_else(|| ApiError::not_found("referral customer"))?
                .name,
        ),
    };
    (r.product_name, r.product_code) = match r.product_id {
        None => (None, None),
        Some(id) => {
            let p = product::Entity::find_by_id(id)
                .one(db)
                .await?
                .ok_or_else(|| ApiError::field("product_id", "unknown product"))?;
            (Some(p.name), p.code)
        }
    };
    r.service_type_name = match r.service_type_id {
        None => None,
        Some(id) => Some(
            service_type::Entity::find_by_id(id)
                .one(db)
                .await?
                .ok_or_else(|| ApiError::field("service_type_id", "unknown service type"))?
                .name,
        ),
    };
    r.sales_username = match r.sales_user_id {
        None => None,
        Some(id) => text_of(&state.users.get([id], forward).await?, Some(id), "name"),
    };
    r.priority_rank = priority_rank(&r.priority);
    Ok(())
}

fn strings(json: &Option<serde_json::Value>) -> Vec<String> {
    values(json).into_iter().filter_map(|t| t.as_str().map(str::to_owned)).collect()
}

fn values(json: &Option<serde_json::Value>) -> Vec<serde_json::Value> {
    json.as_ref().and_then(|v| v.as_array()).cloned().unwrap_or_default()
}

/// The answer for `rows`, with their customers' current names (one query).
pub async fn items(db: &impl ConnectionTrait, rows: Vec<record::Model>) -> ApiResult<Vec<ServiceRecordItem>> {
    let ids: Vec<Uuid> = rows.iter().map(|r| r.customer_id).collect();
    let names: HashMap<Uuid, String> = if ids.is_empty() {
        HashMap::new()
    } else {
        customer::Entity::find()
            .filter(customer::Column::Id.is_in(ids))
            .all(db)
            .await?
            .into_iter()
            .map(|c| (c.id, c.name))
            .collect()
    };
    Ok(rows
        .into_iter()
        .map(|r| ServiceRecordItem {
            customer_name: names.get(&r.customer_id).cloned().or(r.customer_name),
            attachments: values(&r.attachments),
            tags: strings(&r.tags),
            id: r.id,
            organization_id: r.organization_id,
            customer_id: r.customer_id,
            service_type_id: r.service_type_id,
            service_type_name: r.service_type_name,
            product_id: r.product_id,
            product_name: r.product_name,
            product_code: r.product_code,
            service_name: r.service_name,
            service_description: r.service_description,
            service_code: r.service_code,
            contact_id: r.contact_id,
            contact_name: r.contact_name,
            sales_user_id: r.sales_user_id,
            sales_username: r.sales_username,
            referral_customer_id: r.referral_customer_id,
            referral_customer_name: r.referral_customer_name,
            status: r.status,
            status_description: r.status_description,
            priority: r.priority,
            expected_start_date: r.expected_start_date,
            expected_completion_date: r.expected_completion_date,
            actual_start_date: r.actual_start_date,
            actual_completion_date: r.actual_completion_date,
            deadline: r.deadline,
            estimated_price: r.estimated_price,
            final_price: r.final_price,
            currency_code: r.currency_code,
            price_notes: r.price_notes,
            quantity: r.quantity,
            unit: r.unit,
            requirements: r.requirements,
            customer_requirements: r.customer_requirements,
            internal_notes: r.internal_notes,
            customer_notes: r.customer_notes,
            required_documents: r.required_documents,
            last_follow_up_at: r.last_follow_up_at,
            next_follow_up_at: r.next_follow_up_at,
            follow_up_notes: r.follow_up_notes,
            created_by: r.created_by,
            created_at: r.created_at,
            updated_at: r.updated_at,
            version: r.version,
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_status_flow_table() {
        let table: &[(&str, &[&str])] = &[
            ("pending", &["in_progress", "cancelled", "on_hold"]),
            ("in_progress", &["completed", "on_hold", "cancelled"]),
            ("on_hold", &["in_progress", "cancelled"]),
            ("completed", &[]),
            ("cancelled", &[]),
        ];
        for (from, allowed) in table {
            assert_eq!(&allowed_moves(from), allowed, "from {from}");
            for to in STATUSES {
                let ok = from == to || allowed.contains(to);
                assert_eq!(check_move(from, to).is_ok(), ok, "{from} → {to}");
            }
        }
        let message = check_move("pending", "completed").err().map(|e| e.to_string()).unwrap_or_default();
        assert!(message.contains("in_progress, cancelled, on_hold"), "{message}");
        let message = check_move("completed", "pending").err().map(|e| e.to_string()).unwrap_or_default();
        assert!(message.contains("final"), "{message}");
    }

    #[test]
    fn priorities_rank_urgent_first() {
        let ranks: Vec<i32> = ["urgent", "high", "normal", "low"].iter().map(|p| priority_rank(p)).collect();
        assert_eq!(ranks, [0, 1, 2, 3]);
    }
}

/// Writes of service records.
pub mod write {
    use super::super::dto::{CreateServiceRecord, UpdateServiceRecord};
    use super::*;
    use crate::customers::service::find_visible as find_visible_customer;
    use chrono::Utc;
    use crm_common::api::patch::clean;
    use crm_common::auth::Principal;
    use crm_common::db::begin_write;
    use sea_orm::{ActiveModelTrait, IntoActiveModel};

    fn tags_json(tags: &[String]) -> Option<serde_json::Value> {
        Some(serde_json::Value::Array(
            tags.iter()
                .map(|t| t.trim())
                .filter(|t| !t.is_empty())
                .map(|t| serde_json::Value::from(t.to_owned()))
                .collect(),
        ))
    }

    /// A new record of a customer the caller can see.
    pub async fn create(
        state: &AppState,
        forward: &Forward,
        caller: &Principal,
        body: CreateServiceRecord,
    ) -> ApiResult<record::Model> {
        let viewer = Viewer::of(caller);
        let owner = find_visible_customer(&state.db, &viewer, body.customer_id).await?;
        let id = body.id.unwrap_or_else(Uuid::now_v7);
        if record::Entity::find_by_id(id).one(&state.db).await?.is_some() {
            return Err(ApiError::conflict("a service record with this id already exists"));
        }
        let now = Utc::now();
        let priority = body.priority.unwrap_or_else(|| "normal".into());
        let mut r = record::Model {
            id,
            organization_id: owner.organization_id,
            customer_id: owner.id,
            customer_name: None,
            service_type_id: body.service_type_id,
            service_type_name: None,
            product_id: body.product_id,
            product_name: None,
            product_code: None,
            service_name: clean(body.service_name),
            service_description: clean(body.service_description),
            service_code: clean(body.service_code),
            contact_id: body.contact_id,
            contact_name: None,
            sales_user_id: body.sales_user_id,
            sales_username: None,
            referral_customer_id: body.referral_customer_id,
            referral_customer_name: None,
            status: body.status.unwrap_or_else(|| "pending".into()),
            status_description: clean(body.status_description),
            priority_rank: priority_rank(&priority),
            priority,
            expected_start_date: body.expected_start_date,
            expected_completion_date: body.expected_completion_date,
            actual_start_date: body.actual_start_date,
            actual_completion_date: body.actual_completion_date,
            deadline: body.deadline,
            estimated_price: body.estimated_price.map(crm_common::api::money::amount),
            final_price: body.final_price.map(crm_common::api::money::amount),
            currency_code: body.currency_code.unwrap_or_else(|| "CNY".into()),
            price_notes: clean(body.price_notes),
            quantity: body.quantity.unwrap_or(Decimal::ONE),
            unit: clean(body.unit),
            requirements: clean(body.requirements),
            customer_requirements: clean(body.customer_requirements),
            internal_notes: clean(body.internal_notes),
            customer_notes: clean(body.customer_notes),
            required_documents: clean(body.required_documents),
            attachments: Some(serde_json::Value::Array(body.attachments)),
            last_follow_up_at: body.last_follow_up_at,
            next_follow_up_at: body.next_follow_up_at,
            follow_up_notes: clean(body.follow_up_notes),
            tags: tags_json(&body.tags),
            created_by: Some(caller.user_id),
            updated_by: Some(caller.user_id),
            created_at: now,
            updated_at: now,
            version: 1,
        };
        validate(&r)?;
        resolve(state, forward, &mut r).await?;
        let txn = begin_write(&state.db).await?;
        let saved = r.into_active_model().reset_all().insert(&txn).await?;
        txn.commit().await?;
        Ok(saved)
    }

    /// The answer to a stale `version`: 409 carrying the record as it now is.
    pub async fn stale(state: &AppState, current: record::Model) -> ApiError {
        let current = items(&state.db, vec![current]).await.ok().and_then(|mut v| v.pop());
        ApiError::Conflict {
            message: "the service record was changed by someone else; here is its current version".into(),
            current: current.and_then(|c| serde_json::to_value(c).ok()),
        }
    }

    /// Applies `body` to a visible record: a status change must follow the flow, the names are
    /// copied again, and the write is conditional on the version read (or `expected`).
    pub async fn update(
        state: &AppState,
        forward: &Forward,
        caller: &Principal,
        id: Uuid,
        body: UpdateServiceRecord,
        expected: Option<i32>,
    ) -> ApiResult<(record::Model, record::Model)> {
        let viewer = Viewer::of(caller);
        let before = find_visible(&state.db, &viewer, id).await?;
        if let Some(v) = expected
            && v != before.version
        {
            return Err(stale(state, before).await);
        }
        let mut r = before.clone();
        macro_rules! keep_or {
            ($($field:ident),*) => {$(
                if let Some(value) = body.$field {
                    r.$field = value;
                }
            )*};
        }
        keep_or!(
            service_type_id,
            product_id,
            contact_id,
            sales_user_id,
            referral_customer_id,
            expected_start_date,
            expected_completion_date,
            actual_start_date,
            actual_completion_date,
            deadline,
            last_follow_up_at,
            next_follow_up_at
        );
        macro_rules! text {
            ($($field:ident),*) => {$(
                if let Some(value) = body.$field {
                    r.$field = clean(Some(value));
                }
            )*};
        }
        text!(
            service_name,
            service_description,
            service_code,
            status_description,
            price_notes,
            unit,
            requirements,
            customer_requirements,
            internal_notes,
            customer_notes,
            required_documents,
            follow_up_notes
        );
        if let Some(p) = body.estimated_price {
            r.estimated_price = p.map(crm_common::api::money::amount);
        }
        if let Some(p) = body.final_price {
            r.final_price = p.map(crm_common::api::money::amount);
        }
        if let Some(q) = body.quantity {
            r.quantity = q;
        }
        if let Some(c) = body.currency_code {
            r.currency_code = c;
        }
        if let Some(p) = body.priority {
            r.priority = p;
        }
        if let Some(a) = body.attachments {
            r.attachments = Some(serde_json::Value::Array(a));
        }
        if let Some(t) = body.tags {
            r.tags = tags_json(&t);
        }
        if let Some(s) = body.status {
            r.status = s;
        }
        validate(&r)?;
        check_move(&before.status, &r.status)?;
        resolve(state, forward, &mut r).await?;
        r.updated_by = Some(caller.user_id);
        r.updated_at = Utc::now();
        r.version = before.version + 1;
        let mut a = r.into_active_model().reset_all();
        a.id = sea_orm::ActiveValue::Unchanged(id);
        let txn = begin_write(&state.db).await?;
        let result = match record::Entity::update(a).validate() {
            Ok(update) => update.filter(record::Column::Version.eq(before.version)).exec(&txn).await,
            Err(e) => Err(e),
        };
        match result {
            Ok(after) => {
                txn.commit().await?;
                Ok((before, after))
            }
            Err(sea_orm::DbErr::RecordNotUpdated) => {
                txn.rollback().await?;
                let current = find_visible(&state.db, &viewer, id).await?;
                Err(stale(state, current).await)
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Deletes a visible record.
    pub async fn delete(state: &AppState, caller: &Principal, id: Uuid) -> ApiResult<record::Model> {
        let before = find_visible(&state.db, &Viewer::of(caller), id).await?;
        record::Entity::delete_by_id(id).exec(&state.db).await?;
        Ok(before)
    }
}
