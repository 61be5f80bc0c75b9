//! Tasks that touch the database: who sees and takes which task, the caller's list with its
//! filters, completion through the engine, and people's own tasks. Every query is scoped to the
//! caller's organization.
//!
//! A task assigned to a person is theirs; one for a role (and nobody in particular) is for
//! everyone holding the role. Managers (`workflow.manage`) see and take any task of the
//! organization. Taking a task is not the last word: the engine still applies the rules of the
//! record (for orders, who may approve, assign or process — `orders::rules`).

use super::dto::{CreateTask, ListTasks, UpdateTask};
use super::model as task;
use crate::AppState;
use crate::orders::rules::Actor;
use crate::orders::service::{Viewer, check_member, find_visible, lang_of};
use crate::perm::WorkflowManage;
use crate::workflows::engine::{self, Outcome};
use chrono::Utc;
use crm_common::api::patch::{clean, set_text};
use crm_common::api::validate::Validator;
use crm_common::auth::{Permission, Principal};
use crm_common::db::begin_write;
use crm_common::http::peer::Forward;
use crm_common::{ApiError, ApiResult};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, EntityTrait, IntoActiveModel,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
};
use serde_json::{Map, Value};
use uuid::Uuid;

/// The caller, as tasks see them.
#[derive(Debug, Clone)]
pub struct Worker {
    pub user_id: Uuid,
    pub organization_id: Uuid,
    pub roles: Vec<String>,
    /// Holds `workflow.manage`: sees and takes any task, manages definitions and instances.
    pub manager: bool,
    pub viewer: Viewer,
    /// The same caller as opportunities see them (tasks attached to a deal).
    pub deals: crate::opportunities::service::Viewer,
}

impl Worker {
    pub fn of(p: &Principal) -> Self {
        Self {
            user_id: p.user_id,
            organization_id: p.organization_id,
            roles: p.roles.clone(),
            manager: p.has(WorkflowManage::CODE),
            viewer: Viewer::of(p),
            deals: crate::opportunities::service::Viewer::of(p),
        }
    }

    fn actor(&self) -> Actor {
        self.viewer.actor
    }

    /// The tasks that are the caller's: assigned to them, for a role they hold and nobody in
    /// particular, or their own that they created.
    fn mine(&self) -> Condition {
        self.assigned().add(
            Condition::all()
                .add(task::Column::WorkflowInstanceId.is_null())
                .add(task::Column::CreatedBy.eq(self.user_id)),
        )
    }

    /// The tasks given to the caller: to them, or to a role they hold and nobody in particular.
    fn assigned(&self) -> Condition {
        let mut any = Condition::any().add(task::Column::AssignedToUserId.eq(self.user_id));
        if !self.roles.is_empty() {
            any = any.add(
                Condition::all()
                    .add(task::Column::AssignedToUserId.is_null())
                    .add(task::Column::AssignedToRole.is_in(self.roles.iter().cloned())),
            );
        }
        any
    }

    fn takes(&self, t: &task::Model) -> bool {
        self.manager
            || match t.assigned_to_user_id {
                Some(u) => u == self.user_id,
                None => t.assigned_to_role.as_ref().is_some_and(|r| self.roles.contains(r)),
            }
    }

    fn sees(&self, t: &task::Model) -> bool {
        self.takes(t) || (t.workflow_instance_id.is_none() && t.created_by == Some(self.user_id))
    }
}

const BUSINESS_TYPES: &[&str] = &["order", "service_record", "opportunity"];

pub async fn list(
    state: &AppState,
    w: &Worker,
    q: &ListTasks,
    page: u64,
    size: u64,
) -> ApiResult<(Vec<task::Model>, u64)> {
    let mut statuses = crate::workflows::rules::TASK_STATUSES.to_vec();
    statuses.push("open");
    Validator::new()
        .one_of("status", q.status.as_deref(), &statuses)
        .one_of("scope", q.scope.as_deref(), &["mine", "all"])
        .one_of("business_type", q.business_type.as_deref(), BUSINESS_TYPES)
        .check(q.due_from.zip(q.due_to).is_none_or(|(a, b)| a <= b), "due_to", "must not be before due_from")
        .finish()?;
    let all = q.scope.as_deref() == Some("all");
    if all && !w.manager {
        return Err(ApiError::forbidden("only a manager of workflows sees every task (scope=all)"));
    }
    let mut cond = Condition::all().add(task::Column::OrganizationId.eq(w.organization_id));
    if !all {
        cond = cond.add(w.mine());
    }
    match q.status.as_deref() {
        Some("open") => cond = cond.add(task::Column::Status.is_in(["pending", "in_progress"])),
        Some(s) => cond = cond.add(task::Column::Status.eq(s)),
        None => {}
    }
    if let Some(d) = q.due_from {
        cond = cond.add(task::Column::DueDate.gte(d));
    }
    if let Some(d) = q.due_to {
        cond = cond.add(task::Column::DueDate.lte(d));
    }
    if let Some(a) = clean(q.assignee.clone()) {
        if a == "me" {
            // Mine: given to me, or to a role I hold and nobody in particular yet (a role's
            // members are each told of such a task and any of them takes it).
            cond = cond.add(w.assigned());
        } else {
            let user = a.parse::<Uuid>().map_err(|_| ApiError::field("assignee", "a user id or `me`"))?;
            cond = cond.add(task::Column::AssignedToUserId.eq(user));
        }
    }
    if let Some(r) = clean(q.role.clone()) {
        cond = cond.add(task::Column::AssignedToRole.eq(r));
    }
    if let Some(t) = &q.business_type {
        cond = cond.add(task::Column::BusinessType.eq(t.as_str()));
    }
    if let Some(b) = q.business_id {
        cond = cond.add(task::Column::BusinessId.eq(b));
    }
    if let Some(i) = q.workflow_instance_id {
        cond = cond.add(task::Column::WorkflowInstanceId.eq(i));
    }
    let total = task::Entity::find().filter(cond.clone()).count(&state.db).await?;
    let rows = task::Entity::find()
        .filter(cond)
        .order_by_desc(task::Column::CreatedAt)
        .order_by_desc(task::Column::Id)
        .offset((page - 1) * size)
        .limit(size)
        .all(&state.db)
        .await?;
    Ok((rows, total))
}

/// A task the caller sees (404 for anything else, another organization's too).
pub async fn find(db: &impl ConnectionTrait, w: &Worker, id: Uuid) -> ApiResult<task::Model> {
    task::Entity::find_by_id(id)
        .one(db)
        .await?
        .filter(|t| t.organization_id == w.organization_id && w.sees(t))
        .ok_or_else(|| ApiError::not_found("task"))
}

/// Completes a task the caller takes (403 for one they only see): the engine moves its
/// workflow. An allocation task's operator is checked in foundation first.
pub async fn complete(
    state: &AppState,
    forward: &Forward,
    w: &Worker,
    id: Uuid,
    result: Option<Value>,
    notes: Option<String>,
) -> ApiResult<Outcome> {
    let result: Map<String, Value> = match result {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(m)) => m,
        Some(_) => return Err(ApiError::field("result", "must be an object")),
    };
    Validator::new().optional_length("notes", notes.as_deref(), 2000).finish()?;
    let current = find(&state.db, w, id).await?;
    if !w.takes(&current) {
        return Err(ApiError::forbidden("the task is someone else's"));
    }
    if current.action.as_deref() == Some("assign_order")
        && let Some(user) = result.get("assigned_to_user_id").and_then(Value::as_str).and_then(|s| s.parse().ok())
    {
        check_member(state, forward, "result.assigned_to_user_id", user).await?;
    }
    let txn = begin_write(&state.db).await?;
    let t = engine::lock_open_task(&txn, w.organization_id, id).await?;
    let done = engine::complete(&txn, t, &w.actor(), result, clean(notes), false).await?;
    txn.commit().await?;
    Ok(done)
}

/// A person's own task; assigning it to someone else takes `workflow.manage`, and the assignee
/// is notified.
pub async fn create(
    state: &AppState,
    forward: &Forward,
    w: &Worker,
    body: CreateTask,
    lang: Option<&str>,
) -> ApiResult<task::Model> {
    let indonesian = lang_of(lang)?;
    let title = clean(body.title);
    let zh = clean(body.task_name_zh).or_else(|| title.clone().filter(|_| !indonesian));
    let id_name = clean(body.task_name_id).or_else(|| title.clone().filter(|_| indonesian));
    let (zh, id_name) = match (zh, id_name) {
        (Some(a), Some(b)) => (a, b),
        (Some(a), None) => (a.clone(), a),
        (None, Some(b)) => (b.clone(), b),
        (None, None) => return Err(ApiError::field("title", "is required (or task_name_zh / task_name_id)")),
    };
    let mut v = Validator::new();
    v.length("task_name_zh", &zh, 1, 255)
        .length("task_name_id", &id_name, 1, 255)
        .optional_length("description", body.description.as_deref(), 5000)
        .one_of("business_type", body.business_type.as_deref(), &["order", "opportunity"])
        .check(body.business_type.is_some() == body.business_id.is_some(), "business_id", "goes with business_type");
    v.finish()?;
    let assignee = body.assigned_to_user_id.unwrap_or(w.user_id);
    if assignee != w.user_id {
        if !w.manager {
            return Err(ApiError::forbidden("only a manager of workflows assigns tasks to others"));
        }
        check_member(state, forward, "assigned_to_user_id", assignee).await?;
    }
    match (body.business_type.as_deref(), body.business_id) {
        (Some("order"), Some(id)) => {
            find_visible(&state.db, &w.viewer, id)
                .await
                .map_err(|_| ApiError::field("business_id", "no such order"))?;
        }
        (Some(_), Some(id)) => {
            crate::opportunities::service::find_visible(&state.db, &w.deals, id)
                .await
                .map_err(|_| ApiError::field("business_id", "no such opportunity"))?;
        }
        _ => {}
    }
    let now = Utc::now();
    let txn = begin_write(&state.db).await?;
    let saved = task::ActiveModel {
        id: Set(Uuid::now_v7()),
        organization_id: Set(w.organization_id),
        workflow_instance_id: Set(None),
        stage_code: Set(None),
        task_code: Set(None),
        task_name_zh: Set(zh),
        task_name_id: Set(id_name),
        description: Set(clean(body.description)),
        task_type: Set(Some("user_task".into())),
        action: Set(None),
        assign_rule: Set(None),
        assigned_to_user_id: Set(Some(assignee)),
        assigned_to_role: Set(None),
        business_type: Set(body.business_type),
        business_id: Set(body.business_id),
        status: Set("pending".into()),
        due_date: Set(body.due_date),
        completed_at: Set(None),
        completed_by: Set(None),
        result: Set(None),
        created_by: Set(Some(w.user_id)),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&txn)
    .await?;
    if assignee != w.user_id {
        engine::announce(&txn, &saved, None, assignee).await?;
    }
    txn.commit().await?;
    Ok(saved)
}

/// Changes a task: its dates and progress by whoever takes it; names, description and
/// cancellation on a person's own tasks only (a workflow's tasks end with their workflow);
/// reassignment by managers.
pub async fn update(
    state: &AppState,
    forward: &Forward,
    w: &Worker,
    id: Uuid,
    body: UpdateTask,
) -> ApiResult<(task::Model, task::Model)> {
    let mut v = Validator::new();
    v.one_of("status", body.status.as_deref(), &["pending", "in_progress", "cancelled"]).optional_length(
        "description",
        body.description.as_deref(),
        5000,
    );
    if let Some(n) = &body.task_name_zh {
        v.length("task_name_zh", n.trim(), 1, 255);
    }
    if let Some(n) = &body.task_name_id {
        v.length("task_name_id", n.trim(), 1, 255);
    }
    v.finish()?;
    let current = find(&state.db, w, id).await?;
    let own = current.workflow_instance_id.is_none();
    if !(w.takes(&current) || (own && current.created_by == Some(w.user_id))) {
        return Err(ApiError::forbidden("the task is someone else's"));
    }
    let renames = body.task_name_zh.is_some() || body.task_name_id.is_some() || body.description.is_some();
    if !own && (renames || body.status.as_deref() == Some("cancelled")) {
        return Err(ApiError::conflict("a workflow's task keeps its name and ends with its workflow"));
    }
    let reassigned = body.assigned_to_user_id.filter(|u| Some(*u) != current.assigned_to_user_id);
    if let Some(u) = reassigned {
        if !w.manager {
            return Err(ApiError::forbidden("only a manager of workflows reassigns tasks"));
        }
        check_member(state, forward, "assigned_to_user_id", u).await?;
    }
    let txn = begin_write(&state.db).await?;
    let before = engine::lock_open_task(&txn, w.organization_id, id).await?;
    let mut a = before.clone().into_active_model();
    if let Some(s) = body.status.filter(|s| *s != before.status) {
        if s == "pending" {
            return Err(ApiError::conflict("a task that has started does not go back to pending"));
        }
        a.status = Set(s);
    }
    if let Some(n) = body.task_name_zh {
        a.task_name_zh = Set(n.trim().to_owned());
    }
    if let Some(n) = body.task_name_id {
        a.task_name_id = Set(n.trim().to_owned());
    }
    set_text(&mut a.description, body.description);
    if let Some(d) = body.due_date {
        a.due_date = Set(Some(d));
    }
    if let Some(u) = reassigned {
        a.assigned_to_user_id = Set(Some(u));
    }
    a.updated_at = Set(Utc::now());
    let after = a.update(&txn).await?;
    if let Some(u) = reassigned {
        engine::announce(&txn, &after, None, u).await?;
    }
    txn.commit().await?;
    Ok((before, after))
}

/// Deletes a person's own task (its creator or a manager); a workflow's tasks stay as its history.
pub async fn delete(state: &AppState, w: &Worker, id: Uuid) -> ApiResult<task::Model> {
    let before = find(&state.db, w, id).await?;
    if before.workflow_instance_id.is_some() {
        return Err(ApiError::conflict("a workflow's task is part of its history and is not deleted"));
    }
    if !(w.manager || before.created_by == Some(w.user_id)) {
        return Err(ApiError::forbidden("only the task's creator or a manager deletes it"));
    }
    task::Entity::delete_by_id(id).exec(&state.db).await?;
    Ok(before)
}
