//! Collection tasks that touch the database: who sees and changes which task, the writes, and
//! the notification each new assignment sends (in the same transaction as the task).

use super::dto::{CreateTask, UpdateTask};
use super::model as task;
use super::rules;
use crate::AppState;
use crate::notifications::service::{Notice, Wording, notify_bilingual};
use crate::orders::model::order;
use crate::orders::service::{Viewer, check_member, find_visible};
use crate::payment_stages::model::stage;
use chrono::Utc;
use crm_common::api::patch::{clean, set_text};
use crm_common::api::validate::Validator;
use crm_common::db::begin_write;
use crm_common::http::peer::Forward;
use crm_common::{ApiError, ApiResult};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, EntityTrait, IntoActiveModel,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
};
use uuid::Uuid;

/// The caller, and whether they manage collection (`payment.manage`: finance and managers).
#[derive(Debug, Clone, Copy)]
pub struct Collector {
    pub viewer: Viewer,
    pub manager: bool,
}

/// The notification telling `user` about `t`.
pub async fn announce(db: &impl ConnectionTrait, t: &task::Model, o: &order::Model, user: Uuid) -> ApiResult<()> {
    let n = &o.order_number;
    let (due_zh, due_id) = match t.due_date {
        Some(d) => (format!("，截止 {d}"), format!(", jatuh tempo {d}")),
        None => (String::new(), String::new()),
    };
    notify_bilingual(
        db,
        Notice {
            organization_id: t.organization_id,
            user_id: user,
            notification_type: "collection_task",
            title: format!("订单 {n} 待收款"),
            content: Some(format!("{n} — {}{due_zh}", o.title)),
            resource_type: "collection_task",
            resource_id: t.id,
        },
        Wording {
            title_id: Some(format!("Tagih pembayaran pesanan {n}")),
            content_id: Some(format!("{n} — {}{due_id}", o.title)),
            category: None,
        },
    )
    .await?;
    Ok(())
}

/// A task the caller may see: their own, or one of an order they see (404 otherwise).
pub async fn find(state: &AppState, viewer: &Viewer, id: Uuid) -> ApiResult<(task::Model, order::Model)> {
    let t = task::Entity::find_by_id(id)
        .one(&state.db)
        .await?
        .filter(|t| t.organization_id == viewer.organization_id)
        .ok_or_else(|| ApiError::not_found("collection task"))?;
    let o = order::Entity::find_by_id(t.order_id)
        .one(&state.db)
        .await?
        .filter(|o| o.organization_id == viewer.organization_id)
        .ok_or_else(|| ApiError::not_found("collection task"))?;
    if t.assigned_to_user_id == Some(viewer.user_id) || viewer.can_see(&o) {
        Ok((t, o))
    } else {
        Err(ApiError::not_found("collection task"))
    }
}

/// The tasks assigned to the caller, newest first.
pub async fn mine(
    state: &AppState,
    viewer: &Viewer,
    status: Option<String>,
    page: u64,
    size: u64,
) -> ApiResult<(Vec<task::Model>, u64)> {
    Validator::new().one_of("status", status.as_deref(), rules::STATUSES).finish()?;
    let mut cond = Condition::all()
        .add(task::Column::OrganizationId.eq(viewer.organization_id))
        .add(task::Column::AssignedToUserId.eq(viewer.user_id));
    if let Some(s) = clean(status) {
        cond = cond.add(task::Column::Status.eq(s));
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

/// The tasks of an order the caller sees, newest first.
pub async fn of_order(state: &AppState, viewer: &Viewer, order_id: Uuid) -> ApiResult<Vec<task::Model>> {
    find_visible(&state.db, viewer, order_id).await?;
    Ok(task::Entity::find()
        .filter(task::Column::OrderId.eq(order_id))
        .order_by_desc(task::Column::CreatedAt)
        .order_by_desc(task::Column::Id)
        .all(&state.db)
        .await?)
}

/// A task for an order, by finance, a manager or the order's seller; assigned to the order's
/// seller unless someone else is named, who is notified.
pub async fn create(
    state: &AppState,
    forward: &Forward,
    who: &Collector,
    order_id: Uuid,
    body: CreateTask,
) -> ApiResult<task::Model> {
    let kind = clean(body.task_type).unwrap_or_else(|| "manual".into());
    Validator::new()
        .one_of("task_type", Some(&kind), rules::TYPES)
        .check(kind != "auto" || body.payment_stage_id.is_some(), "payment_stage_id", "an auto task names its stage")
        .finish()?;
    let o = find_visible(&state.db, &who.viewer, order_id).await?;
    if !(who.manager || o.sales_user_id == who.viewer.user_id) {
        return Err(ApiError::forbidden("only finance, a manager or the order's seller may add collection tasks"));
    }
    let stage = match body.payment_stage_id {
        Some(id) => Some(
            stage::Entity::find_by_id(id)
                .one(&state.db)
                .await?
                .filter(|s| s.order_id == o.id)
                .ok_or_else(|| ApiError::field("payment_stage_id", "not a payment stage of this order"))?,
        ),
        None => None,
    };
    let assignee = body.assigned_to_user_id.unwrap_or(o.sales_user_id);
    if body.assigned_to_user_id.is_some_and(|u| u != o.sales_user_id) {
        check_member(state, forward, "assigned_to_user_id", assignee).await?;
    }
    let now = Utc::now();
    let txn = begin_write(&state.db).await?;
    let saved = task::ActiveModel {
        id: Set(Uuid::now_v7()),
        organization_id: Set(o.organization_id),
        order_id: Set(o.id),
        payment_stage_id: Set(stage.as_ref().map(|s| s.id)),
        auto_stage_key: Set(if kind == "auto" { stage.as_ref().map(|s| s.id) } else { None }),
        task_type: Set(kind),
        status: Set("pending".into()),
        due_date: Set(body.due_date.or(stage.as_ref().and_then(|s| s.due_date))),
        reminder_count: Set(0),
        notes: Set(clean(body.notes)),
        assigned_to_user_id: Set(Some(assignee)),
        created_by: Set(Some(who.viewer.user_id)),
        completed_at: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&txn)
    .await?;
    announce(&txn, &saved, &o, assignee).await?;
    txn.commit().await?;
    Ok(saved)
}

/// Finance, managers, the order's seller and the assignee change a task; a new assignee is
/// notified.
pub async fn update(
    state: &AppState,
    forward: &Forward,
    who: &Collector,
    id: Uuid,
    body: UpdateTask,
) -> ApiResult<(task::Model, task::Model)> {
    Validator::new().one_of("status", body.status.as_deref(), rules::STATUSES).finish()?;
    let (current, o) = find(state, &who.viewer, id).await?;
    let me = who.viewer.user_id;
    if !(who.manager || o.sales_user_id == me || current.assigned_to_user_id == Some(me)) {
        return Err(ApiError::forbidden(
            "only finance, a manager, the order's seller or the assignee may change this task",
        ));
    }
    let reassigned = body.assigned_to_user_id.filter(|u| Some(*u) != current.assigned_to_user_id);
    if let Some(u) = reassigned {
        check_member(state, forward, "assigned_to_user_id", u).await?;
    }
    let txn = begin_write(&state.db).await?;
    let before = task::Entity::find_by_id(id)
        .lock_exclusive()
        .one(&txn)
        .await?
        .ok_or_else(|| ApiError::not_found("collection task"))?;
    let mut a = before.clone().into_active_model();
    if let Some(to) = body.status {
        rules::check_move(&before.status, &to)?;
        if to == "completed" && before.completed_at.is_none() {
            a.completed_at = Set(Some(Utc::now()));
        }
        a.status = Set(to);
    }
    if let Some(d) = body.due_date {
        a.due_date = Set(Some(d));
    }
    set_text(&mut a.notes, body.notes);
    if let Some(u) = reassigned {
        a.assigned_to_user_id = Set(Some(u));
    }
    a.updated_at = Set(Utc::now());
    let after = a.update(&txn).await?;
    if let Some(u) = reassigned {
        announce(&txn, &after, &o, u).await?;
    }
    txn.commit().await?;
    Ok((before, after))
}

/// Only the assignee completes a task (403 for anyone else who sees it).
pub async fn complete(state: &AppState, viewer: &Viewer, id: Uuid) -> ApiResult<(task::Model, task::Model)> {
    let (current, _) = find(state, viewer, id).await?;
    if current.assigned_to_user_id != Some(viewer.user_id) {
        return Err(ApiError::forbidden("only the assignee may complete a collection task"));
    }
    let txn = begin_write(&state.db).await?;
    let before = task::Entity::find_by_id(id)
        .lock_exclusive()
        .one(&txn)
        .await?
        .ok_or_else(|| ApiError::not_found("collection task"))?;
    if matches!(before.status.as_str(), "completed" | "cancelled") {
        return Err(ApiError::conflict(format!("the collection task is already {}", before.status)));
    }
    let mut a = before.clone().into_active_model();
    if before.completed_at.is_none() {
        a.completed_at = Set(Some(Utc::now()));
    }
    a.status = Set("completed".into());
    a.updated_at = Set(Utc::now());
    let after = a.update(&txn).await?;
    txn.commit().await?;
    Ok((before, after))
}
