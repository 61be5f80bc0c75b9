//! Applying one item of a sync batch through the same write functions, visibility and
//! permissions as the API, with the answers offline clients need: `unchanged` for replays,
//! `conflict` with the server's copy instead of an HTTP error, and a per-item error otherwise.

use super::dto::{Entity, ItemError, ItemResult, Op, Status, SyncItem};
use crate::AppState;
use crate::contacts::model as contact;
use crate::contacts::{CreateContact, UpdateContact};
use crate::customers::model::{customer, follow_up};
use crate::customers::service::{self as customers, Viewer, write};
use crate::customers::{CreateCustomer, CreateFollowUp, UpdateCustomer};
use crate::perm::{CustomerCreate, CustomerDelete, CustomerUpdate};
use crm_common::auth::{Permission, Principal};
use crm_common::http::peer::Forward;
use crm_common::{ApiError, ApiResult};
use sea_orm::EntityTrait;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use uuid::Uuid;

/// Applies `item`; never fails as a whole, so one bad item does not stop the others.
pub async fn apply(state: &AppState, forward: &Forward, caller: &Principal, item: SyncItem, force: bool) -> ItemResult {
    let (id, entity) = (item.id, item.entity);
    let outcome = match entity {
        Entity::Customer => customer_item(state, forward, caller, item, force).await,
        Entity::FollowUp => follow_up_item(state, forward, caller, item, force).await,
        Entity::Contact => contact_item(state, forward, caller, item, force).await,
    };
    outcome.unwrap_or_else(|e| failed(id, entity, e))
}

/// The error as the item's result: the status the same API call would have answered.
fn failed(id: Uuid, entity: Entity, e: ApiError) -> ItemResult {
    let code = e.status().as_u16();
    let (message, fields) = match e {
        ApiError::Validation(fields) => ("request parameter error".to_owned(), fields),
        ApiError::Internal(cause) => {
            tracing::error!(error = %cause, %id, entity = entity.as_str(), "sync item failed");
            ("internal server error".to_owned(), Vec::new())
        }
        other => (other.to_string(), Vec::new()),
    };
    ItemResult { error: Some(ItemError { code, message, fields }), ..ItemResult::new(id, entity, Status::Error) }
}

fn done(id: Uuid, entity: Entity, status: Status, version: i32, server: Value) -> ItemResult {
    ItemResult { version: Some(version), server: Some(server), ..ItemResult::new(id, entity, status) }
}

fn conflict(id: Uuid, entity: Entity, server: Value, differences: Vec<String>) -> ItemResult {
    let version = server.get("version").and_then(Value::as_i64).and_then(|v| i32::try_from(v).ok());
    ItemResult {
        version,
        server: Some(server),
        differences: Some(differences),
        ..ItemResult::new(id, entity, Status::Conflict)
    }
}

/// A base version other than the server's, unless the client forces its copy.
fn is_stale(force: bool, base_version: Option<i32>, current: i32) -> bool {
    !force && base_version.is_some_and(|b| b != current)
}

/// `data` as the create or update body, parsed as the API parses a request body so that a type
/// error names the field as it would there.
fn decode<T: DeserializeOwned>(data: Map<String, Value>) -> ApiResult<T> {
    crm_common::api::parse_json(&serde_json::to_vec(&Value::Object(data))?)
}

/// Keys that describe the record rather than being its fields.
const NOT_COMPARED: &[&str] = &["id", "version", "base_version"];

/// The keys of `data` whose value differs from `server` (the record as the API shows it). Keys
/// the server copy does not have are not fields of the record and are left out; `raw` may say a
/// value is the stored one where the shown one is masked.
pub fn differences(data: &Map<String, Value>, server: &Value, raw: impl Fn(&str, &Value) -> bool) -> Vec<String> {
    data.iter()
        .filter(|(key, _)| !NOT_COMPARED.contains(&key.as_str()))
        .filter_map(|(key, sent)| {
            let shown = server.get(key)?;
            (!same(sent, shown) && !raw(key, sent)).then(|| key.clone())
        })
        .collect()
}

/// Equal as the write functions would store them: text is trimmed and blank clears it, and
/// timestamps are compared as instants whatever their notation.
pub fn same(sent: &Value, shown: &Value) -> bool {
    match (sent, shown) {
        (a, b) if a == b => true,
        (Value::String(s), Value::Null) => s.trim().is_empty(),
        (Value::String(a), Value::String(b)) => a.trim() == b.trim() || same_instant(a, b),
        (Value::Number(a), Value::Number(b)) => a.as_f64() == b.as_f64(),
        (Value::Array(a), Value::Array(b)) => a.len() == b.len() && a.iter().zip(b).all(|(x, y)| same(x, y)),
        _ => false,
    }
}

fn same_instant(a: &str, b: &str) -> bool {
    match (chrono::DateTime::parse_from_rfc3339(a), chrono::DateTime::parse_from_rfc3339(b)) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

/// Whether `sent` is the stored value of a contact field shown masked to this caller (a client
/// that knows the real value sends it back unchanged).
fn stored_contact(c: &customer::Model, key: &str, sent: &Value) -> bool {
    let stored = match key {
        "phone" => &c.phone,
        "mobile" => &c.mobile,
        "email" => &c.email,
        "wechat_id" => &c.wechat_id,
        "id_number" => &c.id_number,
        _ => return false,
    };
    matches!((sent, stored), (Value::String(s), Some(v)) if s.trim() == v)
}

async fn customer_view(state: &AppState, forward: &Forward, viewer: &Viewer, c: customer::Model) -> ApiResult<Value> {
    let item = customers::items(state, forward, viewer, vec![c])
        .await?
        .pop()
        .ok_or_else(|| ApiError::internal("empty customer view"))?;
    Ok(serde_json::to_value(item)?)
}

async fn customer_item(
    state: &AppState,
    forward: &Forward,
    caller: &Principal,
    item: SyncItem,
    force: bool,
) -> ApiResult<ItemResult> {
    let (id, entity) = (item.id, Entity::Customer);
    let viewer = Viewer::of(caller);
    // As in the API, the permission to delete is checked before the record is looked up.
    if item.op == Op::Delete {
        caller.require(CustomerDelete::CODE)?;
    }
    // Another organization's or another seller's customer is a 404, as in the API, and never
    // "created" again under the same id.
    let existing = match customer::Entity::find_by_id(id).one(&state.db).await? {
        Some(c) if viewer.can_see(&c) => Some(c),
        Some(_) => return Err(ApiError::not_found("customer")),
        None => None,
    };
    match (item.op, existing) {
        (Op::Delete, None) => Ok(ItemResult::new(id, entity, Status::Unchanged)),
        (Op::Delete, Some(c)) => {
            if is_stale(force, item.base_version, c.version) {
                return Ok(conflict(id, entity, customer_view(state, forward, &viewer, c).await?, Vec::new()));
            }
            write::delete(state, caller, id).await?;
            Ok(ItemResult::new(id, entity, Status::Deleted))
        }
        (Op::Upsert, None) => {
            caller.require(CustomerCreate::CODE)?;
            let mut body: CreateCustomer = decode(item.data.clone())?;
            body.id = Some(id);
            match write::create(state, forward, caller, body).await {
                Ok(saved) => {
                    let version = saved.version;
                    Ok(done(id, entity, Status::Created, version, customer_view(state, forward, &viewer, saved).await?))
                }
                // The same item sent twice at once (a retried request, or concurrent conversions
                // of one lead in order-workflow): the other copy created the record between our
                // look-up and our insert. Answer as a replay of it would, never as an error or a
                // second record.
                Err(e @ ApiError::Conflict { .. }) => match customer::Entity::find_by_id(id).one(&state.db).await? {
                    Some(c) if viewer.can_see(&c) => {
                        upsert_existing(state, forward, caller, &viewer, item, force, c).await
                    }
                    _ => Err(e),
                },
                Err(e) => Err(e),
            }
        }
        (Op::Upsert, Some(c)) => upsert_existing(state, forward, caller, &viewer, item, force, c).await,
    }
}

/// An upsert of a customer that exists: nothing when the data is what the server holds, an update
/// when the base version is current (or forced), a conflict otherwise.
async fn upsert_existing(
    state: &AppState,
    forward: &Forward,
    caller: &Principal,
    viewer: &Viewer,
    item: SyncItem,
    force: bool,
    c: customer::Model,
) -> ApiResult<ItemResult> {
    let (id, entity) = (item.id, Entity::Customer);
    caller.require(CustomerUpdate::CODE)?;
    let shown = customer_view(state, forward, viewer, c.clone()).await?;
    // A replay (or a change someone else already made) writes nothing: no new version, no new
    // change number.
    if differences(&item.data, &shown, |k, v| stored_contact(&c, k, v)).is_empty() {
        return Ok(done(id, entity, Status::Unchanged, c.version, shown));
    }
    let mut data = item.data.clone();
    data.remove("version");
    let body: UpdateCustomer = decode(data)?;
    let expected = if force { None } else { item.base_version };
    match write::update(state, forward, caller, id, body, expected).await {
        Ok((_, after)) => {
            let version = after.version;
            Ok(done(id, entity, Status::Updated, version, customer_view(state, forward, viewer, after).await?))
        }
        Err(ApiError::Conflict { current: Some(server), .. }) => {
            let current = customer::Entity::find_by_id(id).one(&state.db).await?;
            let diff =
                differences(&item.data, &server, |k, v| current.as_ref().is_some_and(|c| stored_contact(c, k, v)));
            Ok(conflict(id, entity, server, diff))
        }
        Err(e) => Err(e),
    }
}

async fn follow_up_view(state: &AppState, forward: &Forward, f: follow_up::Model) -> ApiResult<Value> {
    let item = customers::follow_up_items(state, forward, vec![f])
        .await?
        .pop()
        .ok_or_else(|| ApiError::internal("empty follow-up view"))?;
    Ok(serde_json::to_value(item)?)
}

async fn follow_up_item(
    state: &AppState,
    forward: &Forward,
    caller: &Principal,
    item: SyncItem,
    force: bool,
) -> ApiResult<ItemResult> {
    let (id, entity) = (item.id, Entity::FollowUp);
    let viewer = Viewer::of(caller);
    caller.require(CustomerUpdate::CODE)?;
    // A follow-up is visible with its customer.
    let existing = match follow_up::Entity::find_by_id(id).one(&state.db).await? {
        Some(f) => match customers::find_visible(&state.db, &viewer, f.customer_id).await {
            Ok(_) => Some(f),
            Err(ApiError::NotFound(_)) => return Err(ApiError::not_found("follow-up")),
            Err(e) => return Err(e),
        },
        None => None,
    };
    match (item.op, existing) {
        (Op::Delete, None) => Ok(ItemResult::new(id, entity, Status::Unchanged)),
        (Op::Upsert, None) => {
            let customer_id = item
                .data
                .get("customer_id")
                .and_then(Value::as_str)
                .and_then(|s| s.parse::<Uuid>().ok())
                .ok_or_else(|| ApiError::field("data.customer_id", "the follow-up's customer id is required"))?;
            let mut body: CreateFollowUp = decode(item.data)?;
            body.id = Some(id);
            let saved = write::add_follow_up(state, caller, customer_id, body).await?;
            let version = saved.version;
            Ok(done(id, entity, Status::Created, version, follow_up_view(state, forward, saved).await?))
        }
        (op, Some(f)) => {
            let version = f.version;
            let shown = follow_up_view(state, forward, f).await?;
            let diff = differences(&item.data, &shown, |_, _| false);
            if op == Op::Upsert && diff.is_empty() {
                return Ok(done(id, entity, Status::Unchanged, version, shown));
            }
            if is_stale(force, item.base_version, version) {
                return Ok(conflict(id, entity, shown, diff));
            }
            // The API records follow-ups and never edits or deletes them: they are the
            // customer's history, and the customer's follow-up dates were moved by them.
            Err(ApiError::conflict("a follow-up is history: it is not changed or deleted once recorded"))
        }
    }
}

/// Whether `sent` is the stored value of a contact's field shown masked to this caller.
fn stored_contact_detail(c: &contact::Model, key: &str, sent: &Value) -> bool {
    let stored = match key {
        "phone" => &c.phone,
        "mobile" => &c.mobile,
        "email" => &c.email,
        "wechat_id" => &c.wechat_id,
        _ => return false,
    };
    matches!((sent, stored), (Value::String(s), Some(v)) if s.trim() == v)
}

async fn contact_view(state: &AppState, viewer: &Viewer, c: contact::Model) -> ApiResult<Value> {
    let item = crate::contacts::service::items(&state.db, viewer, vec![c])
        .await?
        .pop()
        .ok_or_else(|| ApiError::internal("empty contact view"))?;
    Ok(serde_json::to_value(item)?)
}

/// A contact: as for customers, through the contacts API's writes and visibility (a contact is
/// seen with its customer).
async fn contact_item(
    state: &AppState,
    forward: &Forward,
    caller: &Principal,
    item: SyncItem,
    force: bool,
) -> ApiResult<ItemResult> {
    let (id, entity) = (item.id, Entity::Contact);
    let viewer = Viewer::of(caller);
    caller.require(CustomerUpdate::CODE)?;
    let existing = match contact::Entity::find_by_id(id).one(&state.db).await? {
        Some(_) => Some(crate::contacts::service::find_visible(&state.db, &viewer, id).await?.0),
        None => None,
    };
    match (item.op, existing) {
        (Op::Delete, None) => Ok(ItemResult::new(id, entity, Status::Unchanged)),
        (Op::Delete, Some(c)) => {
            if is_stale(force, item.base_version, c.version) {
                return Ok(conflict(id, entity, contact_view(state, &viewer, c).await?, Vec::new()));
            }
            crate::contacts::service::write::delete(state, caller, id).await?;
            Ok(ItemResult::new(id, entity, Status::Deleted))
        }
        (Op::Upsert, None) => {
            let mut body: CreateContact = decode(item.data)?;
            body.id = Some(id);
            let saved = crate::contacts::service::write::create(state, forward, caller, body).await?;
            let version = saved.version;
            Ok(done(id, entity, Status::Created, version, contact_view(state, &viewer, saved).await?))
        }
        (Op::Upsert, Some(c)) => {
            let shown = contact_view(state, &viewer, c.clone()).await?;
            if differences(&item.data, &shown, |k, v| stored_contact_detail(&c, k, v)).is_empty() {
                return Ok(done(id, entity, Status::Unchanged, c.version, shown));
            }
            let mut data = item.data.clone();
            data.remove("version");
            data.remove("customer_id");
            let body: UpdateContact = decode(data)?;
            let expected = if force { None } else { item.base_version };
            match crate::contacts::service::write::update(state, forward, caller, id, body, expected).await {
                Ok((_, after)) => {
                    let version = after.version;
                    Ok(done(id, entity, Status::Updated, version, contact_view(state, &viewer, after).await?))
                }
                Err(ApiError::Conflict { current: Some(server), .. }) => {
                    let diff = differences(&item.data, &server, |k, v| stored_contact_detail(&c, k, v));
                    Ok(conflict(id, entity, server, diff))
                }
                Err(e) => Err(e),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn equal_as_stored() {
        assert!(same(&json!(" Acme "), &json!("Acme")));
        assert!(same(&json!(""), &Value::Null));
        assert!(same(&json!("2026-12-07T10:00:00+00:00"), &json!("2026-12-07T10:00:00Z")));
        assert!(same(&json!([" a"]), &json!(["a"])));
        assert!(same(&json!(1), &json!(1.0)));
        assert!(!same(&json!("Acme"), &json!("Acme Ltd")));
        assert!(!same(&json!(null), &json!("x")));
    }

    #[test]
    fn differences_name_the_sent_fields_that_differ() {
        let data = json!({"name": "A", "phone": "1", "version": 3, "unknown": 1, "tags": []});
        let server = json!({"name": "B", "phone": "1", "version": 4, "tags": []});
        let Value::Object(data) = data else { return };
        assert_eq!(differences(&data, &server, |_, _| false), vec!["name".to_owned()]);
        assert!(!is_stale(true, Some(1), 2));
        assert!(is_stale(false, Some(1), 2));
        assert!(!is_stale(false, None, 2));
    }
}
