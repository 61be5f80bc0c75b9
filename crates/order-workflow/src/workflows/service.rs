//! Definitions and instances that touch the database: the organization's definitions (its
//! `order_approval` seeded on first look), their validation on save, and starting, reading and
//! ending instances. Every query is scoped to the caller's organization.

use super::dto::{CreateDefinition, ListInstances, StartInstance, UpdateDefinition};
use super::engine;
use super::model::{definition, instance, transition};
use super::rules;
use super::seed;
use crate::AppState;
use crate::orders::service::find_visible;
use crate::tasks::model as task;
use crate::tasks::service::Worker;
use chrono::Utc;
use crm_common::api::patch::{clean, set_text};
use crm_common::api::validate::Validator;
use crm_common::db::{begin_write, is_unique_violation};
use crm_common::http::peer::Forward;
use crm_common::{ApiError, ApiResult};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, EntityTrait, IntoActiveModel, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect,
};
use serde_json::{Map, Value};
use uuid::Uuid;

fn is_code(s: &str) -> bool {
    !s.is_empty() && s.len() <= 100 && s.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

/// The definition, read and validated for `business_type` (400 naming every place that is wrong).
fn checked(value: &Value, business_type: &str) -> ApiResult<()> {
    let def = rules::read(value).map_err(ApiError::Validation)?;
    let errors = rules::validate(&def, business_type);
    if errors.is_empty() { Ok(()) } else { Err(ApiError::Validation(errors)) }
}

/// Only one definition of orders may start on every new order.
async fn check_one_auto_start(
    db: &impl sea_orm::ConnectionTrait,
    organization_id: Uuid,
    except: Option<Uuid>,
) -> ApiResult<()> {
    let mut q = definition::Entity::find()
        .filter(definition::Column::OrganizationId.eq(organization_id))
        .filter(definition::Column::BusinessType.eq("order"))
        .filter(definition::Column::AutoStart.eq(true));
    if let Some(id) = except {
        q = q.filter(definition::Column::Id.ne(id));
    }
    if let Some(other) = q.one(db).await? {
        return Err(ApiError::conflict(format!(
            "`{}` already starts on every new order; switch it off first",
            other.code
        )));
    }
    Ok(())
}

pub async fn list_definitions(
    state: &AppState,
    w: &Worker,
    workflow_type: Option<String>,
    is_active: Option<bool>,
) -> ApiResult<Vec<definition::Model>> {
    Validator::new().one_of("workflow_type", workflow_type.as_deref(), rules::WORKFLOW_TYPES).finish()?;
    seed::ensure(&state.db, w.organization_id).await?;
    let mut cond = Condition::all().add(definition::Column::OrganizationId.eq(w.organization_id));
    if let Some(t) = clean(workflow_type) {
        cond = cond.add(definition::Column::WorkflowType.eq(t));
    }
    if let Some(a) = is_active {
        cond = cond.add(definition::Column::IsActive.eq(a));
    }
    Ok(definition::Entity::find().filter(cond).order_by_asc(definition::Column::Code).all(&state.db).await?)
}

pub async fn find_definition(state: &AppState, w: &Worker, id: Uuid) -> ApiResult<definition::Model> {
    definition::Entity::find_by_id(id)
        .one(&state.db)
        .await?
        .filter(|d| d.organization_id == w.organization_id)
        .ok_or_else(|| ApiError::not_found("workflow definition"))
}

pub async fn create_definition(state: &AppState, w: &Worker, body: CreateDefinition) -> ApiResult<definition::Model> {
    let business_type = clean(body.business_type).unwrap_or_else(|| "order".into());
    let code = body.code.trim().to_owned();
    let mut v = Validator::new();
    v.check(is_code(&code), "code", "lower-case letters, digits and _ (1–100)")
        .length("name_zh", body.name_zh.trim(), 1, 255)
        .length("name_id", body.name_id.trim(), 1, 255)
        .one_of("workflow_type", Some(&body.workflow_type), rules::WORKFLOW_TYPES)
        .one_of("business_type", Some(&business_type), rules::BUSINESS_TYPES)
        .check(
            body.auto_start != Some(true) || business_type == "order",
            "auto_start",
            "only definitions of orders start by themselves",
        );
    v.finish()?;
    checked(&body.definition_json, &business_type)?;
    seed::ensure(&state.db, w.organization_id).await?;
    let now = Utc::now();
    let auto_start = body.auto_start.unwrap_or(false);
    let txn = begin_write(&state.db).await?;
    if auto_start {
        check_one_auto_start(&txn, w.organization_id, None).await?;
    }
    let saved = definition::ActiveModel {
        id: Set(Uuid::now_v7()),
        organization_id: Set(w.organization_id),
        code: Set(code.clone()),
        name_zh: Set(body.name_zh.trim().to_owned()),
        name_id: Set(body.name_id.trim().to_owned()),
        description_zh: Set(clean(body.description_zh)),
        description_id: Set(clean(body.description_id)),
        workflow_type: Set(body.workflow_type),
        business_type: Set(business_type),
        definition_json: Set(body.definition_json),
        version: Set(1),
        is_active: Set(body.is_active.unwrap_or(true)),
        auto_start: Set(auto_start),
        created_by: Set(Some(w.user_id)),
        updated_by: Set(Some(w.user_id)),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&txn)
    .await;
    let saved = match saved {
        Ok(s) => s,
        Err(e) if is_unique_violation(&e) => {
            return Err(ApiError::conflict(format!("the organization already has a definition `{code}`")));
        }
        Err(e) => return Err(e.into()),
    };
    txn.commit().await?;
    Ok(saved)
}

pub async fn update_definition(
    state: &AppState,
    w: &Worker,
    id: Uuid,
    body: UpdateDefinition,
) -> ApiResult<(definition::Model, definition::Model)> {
    let current = find_definition(state, w, id).await?;
    let mut v = Validator::new();
    if let Some(n) = &body.name_zh {
        v.length("name_zh", n.trim(), 1, 255);
    }
    if let Some(n) = &body.name_id {
        v.length("name_id", n.trim(), 1, 255);
    }
    v.check(
        body.auto_start != Some(true) || current.business_type == "order",
        "auto_start",
        "only definitions of orders start by themselves",
    )
    .finish()?;
    if let Some(d) = &body.definition_json {
        checked(d, &current.business_type)?;
    }
    let txn = begin_write(&state.db).await?;
    let before = definition::Entity::find_by_id(id)
        .lock_exclusive()
        .one(&txn)
        .await?
        .ok_or_else(|| ApiError::not_found("workflow definition"))?;
    if body.auto_start == Some(true) && !before.auto_start {
        check_one_auto_start(&txn, w.organization_id, Some(id)).await?;
    }
    let mut a = before.clone().into_active_model();
    if let Some(n) = body.name_zh {
        a.name_zh = Set(n.trim().to_owned());
    }
    if let Some(n) = body.name_id {
        a.name_id = Set(n.trim().to_owned());
    }
    set_text(&mut a.description_zh, body.description_zh);
    set_text(&mut a.description_id, body.description_id);
    if let Some(d) = body.definition_json.filter(|d| *d != before.definition_json) {
        a.definition_json = Set(d);
        a.version = Set(before.version + 1);
    }
    if let Some(x) = body.is_active {
        a.is_active = Set(x);
    }
    if let Some(x) = body.auto_start {
        a.auto_start = Set(x);
    }
    a.updated_by = Set(Some(w.user_id));
    a.updated_at = Set(Utc::now());
    let after = a.update(&txn).await?;
    txn.commit().await?;
    Ok((before, after))
}

/// Deletes a definition; its instances keep running on their snapshot. The seeded
/// `order_approval` is switched off rather than deleted (it would come back on the next look).
pub async fn delete_definition(state: &AppState, w: &Worker, id: Uuid) -> ApiResult<definition::Model> {
    let before = find_definition(state, w, id).await?;
    if before.code == seed::ORDER_APPROVAL {
        return Err(ApiError::conflict("the seeded order_approval is switched off (is_active false), not deleted"));
    }
    definition::Entity::delete_by_id(id).exec(&state.db).await?;
    Ok(before)
}

/// The record an instance is bound to exists and the caller sees it (400 naming `business_id`).
async fn check_business(
    state: &AppState,
    forward: &Forward,
    w: &Worker,
    business_type: &str,
    id: Uuid,
) -> ApiResult<()> {
    if business_type == "order" {
        return find_visible(&state.db, &w.viewer, id)
            .await
            .map(|_| ())
            .map_err(|_| ApiError::field("business_id", "no such order"));
    }
    let path = format!("/api/service-management/service-records/{id}");
    match state.service_management.get::<Value>(&path, forward).await {
        Ok(_) => Ok(()),
        Err(ApiError::NotFound(_)) => Err(ApiError::field("business_id", "no such service record")),
        Err(e) => Err(e),
    }
}

pub async fn start(state: &AppState, forward: &Forward, w: &Worker, body: StartInstance) -> ApiResult<instance::Model> {
    let variables: Map<String, Value> = match body.variables {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(m)) => m,
        Some(_) => return Err(ApiError::field("variables", "must be an object")),
    };
    seed::ensure(&state.db, w.organization_id).await?;
    let by_org = definition::Column::OrganizationId.eq(w.organization_id);
    let def = match (body.workflow_definition_id, clean(body.code)) {
        (Some(id), _) => definition::Entity::find_by_id(id).filter(by_org).one(&state.db).await?,
        (None, Some(code)) => {
            definition::Entity::find().filter(by_org).filter(definition::Column::Code.eq(code)).one(&state.db).await?
        }
        (None, None) => {
            return Err(ApiError::field("workflow_definition_id", "name the definition by id or by code"));
        }
    }
    .ok_or_else(|| ApiError::field("workflow_definition_id", "no such workflow definition"))?;
    check_business(state, forward, w, &def.business_type, body.business_id).await?;
    let txn = begin_write(&state.db).await?;
    let (inst, _) = engine::start(&txn, &def, body.business_id, Some(w.user_id), variables).await?;
    txn.commit().await?;
    Ok(inst)
}

/// An instance the caller may see: managers any of the organization's; others the instances of
/// orders they see, and those they started (404 otherwise).
pub async fn find_instance(state: &AppState, w: &Worker, id: Uuid) -> ApiResult<instance::Model> {
    let i = instance::Entity::find_by_id(id)
        .one(&state.db)
        .await?
        .filter(|i| i.organization_id == w.organization_id)
        .ok_or_else(|| ApiError::not_found("workflow instance"))?;
    if w.manager || i.started_by == Some(w.user_id) {
        return Ok(i);
    }
    if i.business_type == "order" && find_visible(&state.db, &w.viewer, i.business_id).await.is_ok() {
        return Ok(i);
    }
    Err(ApiError::not_found("workflow instance"))
}

/// An instance's tasks and transitions, oldest first.
pub async fn history(state: &AppState, id: Uuid) -> ApiResult<(Vec<task::Model>, Vec<transition::Model>)> {
    let tasks = task::Entity::find()
        .filter(task::Column::WorkflowInstanceId.eq(id))
        .order_by_asc(task::Column::CreatedAt)
        .order_by_asc(task::Column::Id)
        .all(&state.db)
        .await?;
    let transitions = transition::Entity::find()
        .filter(transition::Column::WorkflowInstanceId.eq(id))
        .order_by_asc(transition::Column::TriggeredAt)
        .order_by_asc(transition::Column::Id)
        .all(&state.db)
        .await?;
    Ok((tasks, transitions))
}

/// Instances of the organization (managers), or of one record the caller sees.
pub async fn list_instances(
    state: &AppState,
    w: &Worker,
    q: &ListInstances,
    page: u64,
    size: u64,
) -> ApiResult<(Vec<instance::Model>, u64)> {
    Validator::new()
        .one_of("business_type", q.business_type.as_deref(), rules::BUSINESS_TYPES)
        .one_of("status", q.status.as_deref(), rules::INSTANCE_STATUSES)
        .finish()?;
    let mut cond = Condition::all().add(instance::Column::OrganizationId.eq(w.organization_id));
    if let Some(t) = &q.business_type {
        cond = cond.add(instance::Column::BusinessType.eq(t.as_str()));
    }
    if let Some(id) = q.business_id {
        cond = cond.add(instance::Column::BusinessId.eq(id));
    }
    if let Some(s) = &q.status {
        cond = cond.add(instance::Column::Status.eq(s.as_str()));
    }
    if !w.manager {
        let mut mine = Condition::any().add(instance::Column::StartedBy.eq(w.user_id));
        if let (Some("order"), Some(id)) = (q.business_type.as_deref(), q.business_id)
            && find_visible(&state.db, &w.viewer, id).await.is_ok()
        {
            mine = mine.add(instance::Column::BusinessId.eq(id));
        }
        cond = cond.add(mine);
    }
    let total = instance::Entity::find().filter(cond.clone()).count(&state.db).await?;
    let rows = instance::Entity::find()
        .filter(cond)
        .order_by_desc(instance::Column::StartedAt)
        .order_by_desc(instance::Column::Id)
        .offset((page - 1) * size)
        .limit(size)
        .all(&state.db)
        .await?;
    Ok((rows, total))
}

/// What a manager does to a whole instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Control {
    Complete,
    Cancel,
    Suspend,
    Resume,
}

pub async fn control(
    state: &AppState,
    w: &Worker,
    id: Uuid,
    what: Control,
) -> ApiResult<(instance::Model, instance::Model)> {
    find_instance(state, w, id).await?;
    let txn = begin_write(&state.db).await?;
    let before = instance::Entity::find_by_id(id)
        .lock_exclusive()
        .one(&txn)
        .await?
        .ok_or_else(|| ApiError::not_found("workflow instance"))?;
    let after = match what {
        Control::Complete => engine::finish(&txn, &before, "completed").await?,
        Control::Cancel => engine::finish(&txn, &before, "cancelled").await?,
        Control::Suspend => engine::suspend(&txn, &before, true).await?,
        Control::Resume => engine::suspend(&txn, &before, false).await?,
    };
    txn.commit().await?;
    Ok((before, after))
}
