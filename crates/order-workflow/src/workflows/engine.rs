//! The engine, as plain functions over a transaction: start an instance, complete a task (choose
//! the transition, record it, move the stage, create the next task), and the hooks through which
//! an order follows its workflow. Who may take a task is decided by the caller (`tasks::service`);
//! the engine enforces the business rules — for orders, the order status machine and who may
//! make each move (`orders::rules`), exactly as a status change by hand would.
//!
//! Concurrency: a completion locks the task row, then the instance row, and marks the task
//! completed with a conditional update (`status` still open); a transition names its task under
//! a unique index. Two completions of one task therefore make one transition, on PostgreSQL
//! (row locks) and SQLite (write transactions are exclusive) alike; the loser gets a 409.

use super::model::{definition, instance, transition};
use super::rules::{self, Definition, Stage};
use crate::notifications::service::{Notice, notify};
use crate::orders::model::order;
use crate::orders::rules::{self as order_rules, Actor};
use crate::tasks::model as task;
use chrono::{Duration, Utc};
use crm_common::{ApiError, ApiResult};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter,
    QueryOrder, QuerySelect,
};
use serde_json::{Map, Value, json};
use uuid::Uuid;

/// The notification type of a new task. The notifications table's CHECK still holds the
/// original's five types only; a task on an order is an update of that order for its assignee.
pub const TASK_NOTIFICATION: &str = "order_updated";

/// What a completion did.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub task: task::Model,
    pub instance: Option<instance::Model>,
    pub transition: Option<transition::Model>,
    /// The task the next stage created, if any.
    pub next: Option<task::Model>,
}

fn snapshot(i: &instance::Model) -> ApiResult<Definition> {
    rules::read(&i.definition_snapshot).map_err(|_| ApiError::internal("an instance holds an unreadable definition"))
}

/// The instance still in progress (running or suspended) for a record, if any.
pub async fn live_instance(
    db: &impl ConnectionTrait,
    organization_id: Uuid,
    business_type: &str,
    business_id: Uuid,
) -> ApiResult<Option<instance::Model>> {
    Ok(instance::Entity::find()
        .filter(instance::Column::OrganizationId.eq(organization_id))
        .filter(instance::Column::BusinessType.eq(business_type))
        .filter(instance::Column::BusinessId.eq(business_id))
        .filter(instance::Column::Status.is_in(["running", "suspended"]))
        .order_by_desc(instance::Column::StartedAt)
        .one(db)
        .await?)
}

/// Starts an instance of `def` for a record and enters its first stage. A record has at most one
/// instance in progress (409 otherwise).
pub async fn start(
    txn: &impl ConnectionTrait,
    def: &definition::Model,
    business_id: Uuid,
    started_by: Option<Uuid>,
    variables: Map<String, Value>,
) -> ApiResult<(instance::Model, Option<task::Model>)> {
    if !def.is_active {
        return Err(ApiError::conflict(format!("the workflow `{}` is switched off", def.code)));
    }
    let parsed =
        rules::read(&def.definition_json).map_err(|_| ApiError::internal("a stored definition does not read"))?;
    let first = parsed.start().ok_or_else(|| ApiError::internal("a stored definition has no stage"))?.clone();
    if live_instance(txn, def.organization_id, &def.business_type, business_id).await?.is_some() {
        return Err(ApiError::conflict("this record already has a workflow in progress"));
    }
    let now = Utc::now();
    let inst = instance::ActiveModel {
        id: Set(Uuid::now_v7()),
        organization_id: Set(def.organization_id),
        workflow_definition_id: Set(Some(def.id)),
        definition_code: Set(def.code.clone()),
        definition_snapshot: Set(def.definition_json.clone()),
        business_type: Set(def.business_type.clone()),
        business_id: Set(business_id),
        current_stage: Set(first.stage_code.clone()),
        status: Set("running".into()),
        started_by: Set(started_by),
        started_at: Set(now),
        completed_at: Set(None),
        variables: Set(Value::Object(variables)),
        updated_at: Set(now),
    }
    .insert(txn)
    .await?;
    record(txn, &inst, None, None, &first.stage_code, Some("start"), started_by, None).await?;
    let created = enter(txn, &inst, &first, started_by, None).await?;
    Ok((inst, created))
}

/// Starts the organization's switched-on workflow for orders, if it has one, for a new order. An
/// organization's first order seeds its `order_approval` (switched on, see [`super::seed`]).
pub async fn start_for_new_order(txn: &impl ConnectionTrait, o: &order::Model) -> ApiResult<()> {
    let switched_on = || {
        definition::Entity::find()
            .filter(definition::Column::OrganizationId.eq(o.organization_id))
            .filter(definition::Column::BusinessType.eq("order"))
            .filter(definition::Column::AutoStart.eq(true))
            .filter(definition::Column::IsActive.eq(true))
            .order_by_asc(definition::Column::Code)
            .one(txn)
    };
    let mut def = switched_on().await?;
    if def.is_none() {
        let seeded = definition::Entity::find()
            .filter(definition::Column::OrganizationId.eq(o.organization_id))
            .filter(definition::Column::Code.eq(super::seed::ORDER_APPROVAL))
            .one(txn)
            .await?;
        if seeded.is_none() {
            super::seed::ensure(txn, o.organization_id).await?;
            def = switched_on().await?;
        }
    }
    if let Some(def) = def {
        start(txn, &def, o.id, o.created_by, Map::new()).await?;
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
async fn record(
    txn: &impl ConnectionTrait,
    inst: &instance::Model,
    task_id: Option<Uuid>,
    from: Option<&str>,
    to: &str,
    condition: Option<&str>,
    by: Option<Uuid>,
    notes: Option<String>,
) -> ApiResult<transition::Model> {
    Ok(transition::ActiveModel {
        id: Set(Uuid::now_v7()),
        organization_id: Set(inst.organization_id),
        workflow_instance_id: Set(inst.id),
        task_id: Set(task_id),
        from_stage: Set(from.map(str::to_owned)),
        to_stage: Set(to.to_owned()),
        transition_condition: Set(condition.map(str::to_owned)),
        triggered_by: Set(by),
        triggered_at: Set(Utc::now()),
        notes: Set(notes),
    }
    .insert(txn)
    .await?)
}

/// The order an order-bound instance drives, locked for the rest of the transaction.
async fn lock_order(txn: &impl ConnectionTrait, inst: &instance::Model) -> ApiResult<order::Model> {
    order::Entity::find_by_id(inst.business_id)
        .lock_exclusive()
        .one(txn)
        .await?
        .filter(|o| o.organization_id == inst.organization_id)
        .ok_or_else(|| ApiError::conflict("the order this workflow drives no longer exists"))
}

async fn assignee_of(txn: &impl ConnectionTrait, order_id: Uuid) -> ApiResult<Option<Uuid>> {
    Ok(crate::orders::service::assignees(txn, &[order_id]).await?.get(&order_id).copied())
}

/// Puts the order in `to` (its dates and version following), as the status machine allows.
async fn set_order_status(
    txn: &impl ConnectionTrait,
    o: &order::Model,
    to: &str,
    by: Option<Uuid>,
) -> ApiResult<order::Model> {
    if o.status_code == to {
        return Ok(o.clone());
    }
    order_rules::check_move(&o.status_code, to)?;
    let today = Utc::now().date_naive();
    let mut a = o.clone().into_active_model();
    if to == "processing" && o.actual_start_date.is_none() {
        a.actual_start_date = Set(Some(today));
    }
    if to == "completed" && o.actual_completion_date.is_none() {
        a.actual_completion_date = Set(Some(today));
    }
    a.status_code = Set(to.to_owned());
    if by.is_some() {
        a.updated_by = Set(by);
    }
    a.updated_at = Set(Utc::now());
    a.version = Set(o.version + 1);
    Ok(a.update(txn).await?)
}

/// Enters `stage`: the order follows its status, and a stage that is not an end gets its task
/// (the person the definition names when the record has one, else the role), whose assignee —
/// or every member of the role — is notified.
async fn enter(
    txn: &impl ConnectionTrait,
    inst: &instance::Model,
    stage: &Stage,
    by: Option<Uuid>,
    locked: Option<order::Model>,
) -> ApiResult<Option<task::Model>> {
    let mut o = locked;
    if inst.business_type == "order" {
        let current = match o.take() {
            Some(x) => x,
            None => lock_order(txn, inst).await?,
        };
        o = Some(match &stage.order_status {
            Some(status) => set_order_status(txn, &current, status, by).await?,
            None => current,
        });
    }
    if stage.is_end {
        return Ok(None);
    }
    let user = match (stage.assign_to.as_deref(), &o) {
        (Some("order_assignee"), Some(o)) => assignee_of(txn, o.id).await?,
        (Some("order_seller"), Some(o)) => Some(o.sales_user_id),
        (Some("starter"), _) => inst.started_by,
        _ => None,
    };
    let role = stage.assign_to_role.clone();
    if user.is_none() && role.is_none() {
        return Err(ApiError::conflict(format!(
            "the task of stage `{}` has nobody to be assigned to ({} is unknown for this record)",
            stage.stage_code,
            stage.assign_to.as_deref().unwrap_or("the assignee")
        )));
    }
    let now = Utc::now();
    let (zh, id) = (stage.task_name_zh.clone().unwrap_or_default(), stage.task_name_id.clone().unwrap_or_default());
    let created = task::ActiveModel {
        id: Set(Uuid::now_v7()),
        organization_id: Set(inst.organization_id),
        workflow_instance_id: Set(Some(inst.id)),
        stage_code: Set(Some(stage.stage_code.clone())),
        task_code: Set(Some(stage.task_code.clone().unwrap_or_else(|| stage.stage_code.clone()))),
        task_name_zh: Set(zh.clone()),
        task_name_id: Set(id.clone()),
        description: Set(None),
        task_type: Set(Some(stage.task_type.clone().unwrap_or_else(|| "user_task".into()))),
        action: Set(stage.action.clone()),
        assign_rule: Set(stage.assign_to.clone()),
        assigned_to_user_id: Set(user),
        assigned_to_role: Set(role),
        business_type: Set(Some(inst.business_type.clone())),
        business_id: Set(Some(inst.business_id)),
        status: Set("pending".into()),
        due_date: Set(stage.due_in_days.map(|d| (now + Duration::days(i64::from(d))).date_naive())),
        completed_at: Set(None),
        completed_by: Set(None),
        result: Set(None),
        created_by: Set(by),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(txn)
    .await?;
    match user {
        Some(u) => announce(txn, &created, o.as_ref(), u).await?,
        // Everyone holding the role is told once the request is over (foundation knows them).
        None => crate::notifications::roles::stage(&created),
    }
    Ok(Some(created))
}

/// The in-app notification telling `user` a task is theirs (bilingual title; the order's number
/// when the task is about an order).
pub async fn announce(
    txn: &impl ConnectionTrait,
    t: &task::Model,
    o: Option<&order::Model>,
    user: Uuid,
) -> ApiResult<()> {
    let about = o.map(|o| format!(" — {} {}", o.order_number, o.title)).unwrap_or_default();
    notify(
        txn,
        Notice {
            organization_id: t.organization_id,
            user_id: user,
            notification_type: TASK_NOTIFICATION,
            title: format!("新任务：{} / Tugas baru: {}", t.task_name_zh, t.task_name_id),
            content: Some(format!("{} / {}{about}", t.task_name_zh, t.task_name_id)),
            resource_type: "workflow_task",
            resource_id: t.id,
        },
    )
    .await?;
    Ok(())
}

fn is_open(status: &str) -> bool {
    matches!(status, "pending" | "in_progress")
}

/// Marks `t` completed unless someone else did first (409).
async fn close(
    txn: &impl ConnectionTrait,
    t: &task::Model,
    by: Uuid,
    result: &Map<String, Value>,
) -> ApiResult<task::Model> {
    let now = Utc::now();
    let done = task::Entity::update_many()
        .col_expr(task::Column::Status, Expr::value("completed"))
        .col_expr(task::Column::CompletedAt, Expr::value(now))
        .col_expr(task::Column::CompletedBy, Expr::value(by))
        .col_expr(task::Column::Result, Expr::value(Value::Object(result.clone())))
        .col_expr(task::Column::UpdatedAt, Expr::value(now))
        .filter(task::Column::Id.eq(t.id))
        .filter(task::Column::Status.is_in(["pending", "in_progress"]))
        .exec(txn)
        .await?;
    if done.rows_affected != 1 {
        return Err(ApiError::conflict("the task was completed by someone else"));
    }
    task::Entity::find_by_id(t.id).one(txn).await?.ok_or_else(|| ApiError::not_found("task"))
}

/// The task, locked, if it is open and of `organization_id` (404 / 409 otherwise).
pub async fn lock_open_task(txn: &impl ConnectionTrait, organization_id: Uuid, id: Uuid) -> ApiResult<task::Model> {
    let t = task::Entity::find_by_id(id)
        .lock_exclusive()
        .one(txn)
        .await?
        .filter(|t| t.organization_id == organization_id)
        .ok_or_else(|| ApiError::not_found("task"))?;
    if !is_open(&t.status) {
        return Err(ApiError::conflict(format!("the task is already {}", t.status)));
    }
    Ok(t)
}

/// Completes an open task (locked by the caller with [`lock_open_task`]) as `actor` with
/// `result`: the instance takes the first transition whose condition holds for its variables and
/// the result (400 naming what the transitions wait for when none does), the order follows the
/// new stage's status under the order rules, the transition is recorded and the next stage's task
/// created. `assigned` says the order was already assigned by `POST /orders/{id}/assign`, so an
/// `assign_order` task does not assign it again.
pub async fn complete(
    txn: &impl ConnectionTrait,
    t: task::Model,
    actor: &Actor,
    result: Map<String, Value>,
    notes: Option<String>,
    assigned: bool,
) -> ApiResult<Outcome> {
    let Some(instance_id) = t.workflow_instance_id else {
        let task = close(txn, &t, actor.user_id, &result).await?;
        return Ok(Outcome { task, instance: None, transition: None, next: None });
    };
    let inst = instance::Entity::find_by_id(instance_id)
        .lock_exclusive()
        .one(txn)
        .await?
        .ok_or_else(|| ApiError::not_found("task"))?;
    match inst.status.as_str() {
        "running" => {}
        "suspended" => return Err(ApiError::conflict("the workflow is suspended; resume it first")),
        other => return Err(ApiError::conflict(format!("the workflow is {other}"))),
    }
    if t.stage_code.as_deref() != Some(inst.current_stage.as_str()) {
        return Err(ApiError::conflict("the task belongs to a stage the workflow has left"));
    }
    let def = snapshot(&inst)?;
    let vars = rules::merge(&inst.variables, &result);
    let chosen = rules::choose(&def, &inst.current_stage, &vars).cloned().ok_or_else(|| {
        ApiError::field(
            "result",
            format!(
                "no transition from `{}` matches the result; the transitions wait for: {}",
                inst.current_stage,
                rules::expected(&def, &inst.current_stage)
            ),
        )
    })?;
    let target = def.stage(&chosen.to).cloned().ok_or_else(|| ApiError::internal("a transition leads to no stage"))?;
    let mut locked = None;
    if inst.business_type == "order" {
        let mut o = lock_order(txn, &inst).await?;
        if t.action.as_deref() == Some("assign_order") && !assigned {
            let user = result
                .get("assigned_to_user_id")
                .and_then(Value::as_str)
                .and_then(|s| s.parse::<Uuid>().ok())
                .ok_or_else(|| {
                ApiError::field("result.assigned_to_user_id", "the operator to assign the order to")
            })?;
            order_rules::check_actor(actor, &o.status_code, "assigned", o.sales_user_id, None)?;
            crate::orders::service::record_assignment(txn, &o, user, actor.user_id, "operation", None).await?;
            o = set_order_status(txn, &o, "assigned", Some(actor.user_id)).await?;
        }
        if let Some(to) = target.order_status.as_deref().filter(|s| *s != o.status_code) {
            order_rules::check_move(&o.status_code, to)?;
            let assignee = assignee_of(txn, o.id).await?;
            order_rules::check_actor(actor, &o.status_code, to, o.sales_user_id, assignee)?;
            if to == "completed" {
                let open = crate::order_stages::service::unfinished(txn, o.id).await?;
                if !open.is_empty() {
                    return Err(ApiError::conflict(format!(
                        "the order cannot complete while these stages are not completed: {}",
                        open.join(", ")
                    )));
                }
            }
        }
        locked = Some(o);
    }
    let task = close(txn, &t, actor.user_id, &result).await?;
    let transition = record(
        txn,
        &inst,
        Some(task.id),
        Some(&inst.current_stage),
        &target.stage_code,
        Some(&chosen.condition),
        Some(actor.user_id),
        notes,
    )
    .await?;
    let now = Utc::now();
    let mut a = inst.clone().into_active_model();
    a.current_stage = Set(target.stage_code.clone());
    a.variables = Set(Value::Object(vars));
    if target.is_end {
        a.status = Set("completed".into());
        a.completed_at = Set(Some(now));
    }
    a.updated_at = Set(now);
    let moved = a.update(txn).await?;
    let next = enter(txn, &moved, &target, Some(actor.user_id), locked).await?;
    Ok(Outcome { task, instance: Some(moved), transition: Some(transition), next })
}

/// Ends an instance by hand (`completed` or `cancelled`), cancelling its open tasks. The record
/// stays as it is: an order whose workflow ends this way is moved by hand again.
pub async fn finish(txn: &impl ConnectionTrait, inst: &instance::Model, status: &str) -> ApiResult<instance::Model> {
    if !matches!(inst.status.as_str(), "running" | "suspended") {
        return Err(ApiError::conflict(format!("the workflow is already {}", inst.status)));
    }
    cancel_open_tasks(txn, inst.id).await?;
    let now = Utc::now();
    let mut a = inst.clone().into_active_model();
    a.status = Set(status.to_owned());
    a.completed_at = Set(Some(now));
    a.updated_at = Set(now);
    Ok(a.update(txn).await?)
}

async fn cancel_open_tasks(txn: &impl ConnectionTrait, instance_id: Uuid) -> ApiResult<()> {
    task::Entity::update_many()
        .col_expr(task::Column::Status, Expr::value("cancelled"))
        .col_expr(task::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(task::Column::WorkflowInstanceId.eq(instance_id))
        .filter(task::Column::Status.is_in(["pending", "in_progress"]))
        .exec(txn)
        .await?;
    Ok(())
}

/// Pauses or resumes an instance: a suspended instance's tasks cannot be completed.
pub async fn suspend(txn: &impl ConnectionTrait, inst: &instance::Model, pause: bool) -> ApiResult<instance::Model> {
    let (from, to) = if pause { ("running", "suspended") } else { ("suspended", "running") };
    if inst.status != from {
        return Err(ApiError::conflict(format!("the workflow is {}, not {from}", inst.status)));
    }
    let mut a = inst.clone().into_active_model();
    a.status = Set(to.to_owned());
    a.updated_at = Set(Utc::now());
    Ok(a.update(txn).await?)
}

/// An order's status set by hand while a workflow drives it (the detail page's buttons). A move
/// the workflow makes from its current stage is the completion of the task it waits for, with
/// the result that takes it there (`approved` completes the review with `approval_result ==
/// 'approved'`, `processing` the operator's task), so people who move orders by hand keep the
/// workflow in step; cancelling cancels the workflow; any other move (assigning goes through
/// `POST /orders/{id}/assign`) is refused (409 naming the open task). The order rules still decide who may make the move.
pub async fn on_order_status(txn: &impl ConnectionTrait, o: &order::Model, to: &str, actor: &Actor) -> ApiResult<()> {
    let Some(inst) = live_instance(txn, o.organization_id, "order", o.id).await? else { return Ok(()) };
    if to == "cancelled" {
        // Withdrawing an order is not its review's rejection: the workflow ends with it.
        finish(txn, &inst, "cancelled").await?;
        return Ok(());
    }
    let open = task::Entity::find()
        .filter(task::Column::WorkflowInstanceId.eq(inst.id))
        .filter(task::Column::Status.is_in(["pending", "in_progress"]))
        .order_by_asc(task::Column::CreatedAt)
        .one(txn)
        .await?;
    if inst.status == "running"
        && let Some(t) = open.as_ref().filter(|t| t.stage_code.as_deref() == Some(inst.current_stage.as_str()))
        && t.action.is_none()
        && let Some(result) = rules::result_for_move(&snapshot(&inst)?, &inst.current_stage, to, &inst.variables)
    {
        let t = lock_open_task(txn, o.organization_id, t.id).await?;
        let notes = Some(format!("the order's status was set to {to}"));
        complete(txn, t, actor, result, notes, false).await?;
        return Ok(());
    }
    Err(ApiError::conflict(match open {
        Some(t) => format!(
            "this order's status follows its workflow `{}`; complete its task `{}` ({}) instead",
            inst.definition_code,
            t.task_code.unwrap_or_default(),
            t.id
        ),
        None => format!("this order's status follows its workflow `{}`", inst.definition_code),
    }))
}

/// An order assigned with `POST /orders/{id}/assign` (already recorded and its status moved by
/// the caller, in the same transaction): an open `assign_order` task is completed by it, and the
/// open tasks for the order's assignee move to the new operator, who is notified.
pub async fn on_order_assigned(
    txn: &impl ConnectionTrait,
    o: &order::Model,
    actor: &Actor,
    user: Uuid,
) -> ApiResult<()> {
    let Some(inst) = live_instance(txn, o.organization_id, "order", o.id).await? else { return Ok(()) };
    if inst.status != "running" {
        return Ok(());
    }
    let open = task::Entity::find()
        .filter(task::Column::WorkflowInstanceId.eq(inst.id))
        .filter(task::Column::Status.is_in(["pending", "in_progress"]))
        .all(txn)
        .await?;
    for t in open {
        if t.action.as_deref() == Some("assign_order") {
            let t = lock_open_task(txn, o.organization_id, t.id).await?;
            let result = json!({"assigned_to_user_id": user});
            complete(txn, t, actor, result.as_object().cloned().unwrap_or_default(), None, true).await?;
        } else if t.assign_rule.as_deref() == Some("order_assignee") && t.assigned_to_user_id != Some(user) {
            let mut a = t.clone().into_active_model();
            a.assigned_to_user_id = Set(Some(user));
            a.updated_at = Set(Utc::now());
            let moved = a.update(txn).await?;
            announce(txn, &moved, Some(o), user).await?;
        }
    }
    Ok(())
}

/// Removes the instances of a record that is deleted (their tasks and transitions go with them).
pub async fn forget(db: &impl ConnectionTrait, organization_id: Uuid, business_type: &str, id: Uuid) -> ApiResult<()> {
    task::Entity::delete_many()
        .filter(task::Column::OrganizationId.eq(organization_id))
        .filter(task::Column::BusinessType.eq(business_type))
        .filter(task::Column::BusinessId.eq(id))
        .exec(db)
        .await?;
    instance::Entity::delete_many()
        .filter(instance::Column::OrganizationId.eq(organization_id))
        .filter(instance::Column::BusinessType.eq(business_type))
        .filter(instance::Column::BusinessId.eq(id))
        .exec(db)
        .await?;
    Ok(())
}
