//! The stage rules that touch the database: who may change an order's stages, and the writes.
//! Every write locks the order row first, so a stage cannot be reopened or added while the
//! order is being completed (which checks its stages in the same way).

use super::dto::{CreateStage, UpdateStage};
use super::model as stage;
use super::rules;
use crate::AppState;
use crate::orders::model::order;
use crate::orders::service::{Viewer, assignees, check_member, find_visible, lock_visible, open_for_changes};
use chrono::Utc;
use crm_common::api::patch::{clean, set_text};
use crm_common::api::validate::Validator;
use crm_common::db::begin_write;
use crm_common::http::peer::Forward;
use crm_common::{ApiError, ApiResult};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter,
    QueryOrder,
};
use uuid::Uuid;

/// Managers of orders (approvers, assigners) change any stage of an order they see; the
/// operator the order is assigned to changes its stages; whoever a stage is assigned to changes
/// that stage. Sellers and finance only read them.
async fn check_manager(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    o: &order::Model,
    s: Option<&stage::Model>,
) -> ApiResult<()> {
    if viewer.actor.approver || viewer.actor.assigner {
        return Ok(());
    }
    if s.is_some_and(|s| s.assigned_to_user_id == Some(viewer.user_id)) {
        return Ok(());
    }
    if assignees(db, &[o.id]).await?.get(&o.id) == Some(&viewer.user_id) {
        return Ok(());
    }
    Err(ApiError::forbidden("only a manager, or the operator the order is assigned to, may change its stages"))
}

/// The names of the order's stages that are neither completed nor cancelled, in stage order:
/// an order may complete only when this is empty.
pub async fn unfinished(db: &impl ConnectionTrait, order_id: Uuid) -> ApiResult<Vec<String>> {
    let rows = stage::Entity::find()
        .filter(stage::Column::OrderId.eq(order_id))
        .filter(stage::Column::Status.is_not_in(["completed", "cancelled"]))
        .order_by_asc(stage::Column::StageOrder)
        .all(db)
        .await?;
    Ok(rows.into_iter().map(|s| s.stage_name).collect())
}

/// The stages of an order the caller may see, in stage order.
pub async fn list(state: &AppState, viewer: &Viewer, order_id: Uuid) -> ApiResult<Vec<stage::Model>> {
    find_visible(&state.db, viewer, order_id).await?;
    Ok(stage::Entity::find()
        .filter(stage::Column::OrderId.eq(order_id))
        .order_by_asc(stage::Column::StageOrder)
        .order_by_asc(stage::Column::CreatedAt)
        .all(&state.db)
        .await?)
}

/// A stage of an order the caller may see (404 for anything else, another order's stage too).
pub async fn find(
    state: &AppState,
    viewer: &Viewer,
    order_id: Uuid,
    id: Uuid,
) -> ApiResult<(order::Model, stage::Model)> {
    let o = find_visible(&state.db, viewer, order_id).await.map_err(|_| ApiError::not_found("order stage"))?;
    let s = stage::Entity::find_by_id(id)
        .one(&state.db)
        .await?
        .filter(|s| s.order_id == o.id && s.organization_id == o.organization_id)
        .ok_or_else(|| ApiError::not_found("order stage"))?;
    Ok((o, s))
}

/// Checks that `stage_id`, given with a comment or a file, is a stage of `o` (400 naming the
/// field otherwise), so a comment or a file never points at another order's stage.
pub async fn check_of_order(db: &impl ConnectionTrait, o: &order::Model, stage_id: Option<Uuid>) -> ApiResult<()> {
    let Some(id) = stage_id else { return Ok(()) };
    stage::Entity::find_by_id(id)
        .one(db)
        .await?
        .filter(|s| s.order_id == o.id)
        .map(|_| ())
        .ok_or_else(|| ApiError::field("order_stage_id", "not a stage of this order"))
}

fn validate(v: &mut Validator, name: Option<&str>, code: Option<&str>, order: Option<i32>, status: Option<&str>) {
    if let Some(n) = name {
        v.length("stage_name", n.trim(), 1, 255);
    }
    v.optional_length("stage_code", code, 100)
        .check(order.is_none_or(|o| o >= 0), "stage_order", "must not be negative")
        .one_of("status", status, rules::STATUSES);
}

pub async fn create(
    state: &AppState,
    forward: &Forward,
    viewer: &Viewer,
    order_id: Uuid,
    body: CreateStage,
) -> ApiResult<stage::Model> {
    let mut v = Validator::new();
    validate(
        &mut v,
        Some(body.stage_name.as_str()),
        body.stage_code.as_deref(),
        body.stage_order,
        body.status.as_deref(),
    );
    v.check(
        body.status.as_deref().is_none_or(|s| matches!(s, "pending" | "in_progress")),
        "status",
        "a new stage is pending or in_progress",
    );
    v.finish()?;
    let current = find_visible(&state.db, viewer, order_id).await?;
    check_manager(&state.db, viewer, &current, None).await?;
    open_for_changes(&current)?;
    if let Some(u) = body.assigned_to_user_id {
        check_member(state, forward, "assigned_to_user_id", u).await?;
    }
    let (status, progress) = rules::settle("pending", 0, body.status.as_deref(), body.progress_percent)?;
    let txn = begin_write(&state.db).await?;
    let o = lock_visible(&txn, viewer, order_id).await?;
    open_for_changes(&o)?;
    let stage_order = match body.stage_order {
        Some(n) => n,
        None => {
            let last = stage::Entity::find()
                .filter(stage::Column::OrderId.eq(order_id))
                .order_by_desc(stage::Column::StageOrder)
                .one(&txn)
                .await?;
            last.map_or(1, |s| s.stage_order + 1)
        }
    };
    let now = Utc::now();
    let saved = stage::ActiveModel {
        id: Set(Uuid::now_v7()),
        organization_id: Set(o.organization_id),
        order_id: Set(o.id),
        stage_name: Set(body.stage_name.trim().to_owned()),
        stage_code: Set(clean(body.stage_code)),
        stage_order: Set(stage_order),
        started_at: Set((status != "pending").then_some(now)),
        completed_at: Set(None),
        status: Set(status),
        progress_percent: Set(progress),
        notes: Set(clean(body.notes)),
        assigned_to_user_id: Set(body.assigned_to_user_id),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&txn)
    .await?;
    txn.commit().await?;
    Ok(saved)
}

pub async fn update(
    state: &AppState,
    forward: &Forward,
    viewer: &Viewer,
    order_id: Uuid,
    id: Uuid,
    body: UpdateStage,
) -> ApiResult<(stage::Model, stage::Model)> {
    let mut v = Validator::new();
    validate(&mut v, body.stage_name.as_deref(), body.stage_code.as_deref(), body.stage_order, body.status.as_deref());
    v.finish()?;
    let (o, current) = find(state, viewer, order_id, id).await?;
    check_manager(&state.db, viewer, &o, Some(&current)).await?;
    open_for_changes(&o)?;
    if let Some(u) = body.assigned_to_user_id {
        check_member(state, forward, "assigned_to_user_id", u).await?;
    }
    let txn = begin_write(&state.db).await?;
    let o = lock_visible(&txn, viewer, order_id).await?;
    open_for_changes(&o)?;
    let before = stage::Entity::find_by_id(id).one(&txn).await?.ok_or_else(|| ApiError::not_found("order stage"))?;
    let (status, progress) =
        rules::settle(&before.status, before.progress_percent, body.status.as_deref(), body.progress_percent)?;
    let now = Utc::now();
    let mut a = before.clone().into_active_model();
    if let Some(n) = body.stage_name {
        a.stage_name = Set(n.trim().to_owned());
    }
    set_text(&mut a.stage_code, body.stage_code);
    set_text(&mut a.notes, body.notes);
    if let Some(n) = body.stage_order {
        a.stage_order = Set(n);
    }
    if let Some(u) = body.assigned_to_user_id {
        a.assigned_to_user_id = Set(Some(u));
    }
    if status != "pending" && before.started_at.is_none() {
        a.started_at = Set(Some(now));
    }
    if status == "completed" && before.completed_at.is_none() {
        a.completed_at = Set(Some(now));
    }
    a.status = Set(status);
    a.progress_percent = Set(progress);
    a.updated_at = Set(now);
    let after = a.update(&txn).await?;
    txn.commit().await?;
    Ok((before, after))
}

pub async fn delete(state: &AppState, viewer: &Viewer, order_id: Uuid, id: Uuid) -> ApiResult<stage::Model> {
    let (o, before) = find(state, viewer, order_id, id).await?;
    if !(viewer.actor.approver || viewer.actor.assigner) {
        return Err(ApiError::forbidden("only a manager may delete an order's stages"));
    }
    open_for_changes(&o)?;
    let txn = begin_write(&state.db).await?;
    let o = lock_visible(&txn, viewer, order_id).await?;
    open_for_changes(&o)?;
    stage::Entity::delete_by_id(id).exec(&txn).await?;
    txn.commit().await?;
    Ok(before)
}
