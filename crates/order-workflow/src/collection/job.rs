//! The automatic collection job. Every run marks open payment stages past their due date
//! `overdue`, then gives each stage that is due (its due date, or for the `date` trigger its
//! trigger date, reached; money still expected) one `auto` collection task assigned to the
//! order's seller, with a notification.
//!
//! Several replicas may run it at once against one database, with no leader: the task's
//! `auto_stage_key` is unique and the insert is `ON CONFLICT DO NOTHING`, so whichever replica
//! inserts first creates the task and the others insert nothing — and only the replica whose
//! insert made a row writes the notification, in the same transaction. Nothing is ever created
//! twice, however the runs interleave.

use super::model as task;
use super::rules;
use super::service::announce;
use crate::orders::model::order;
use crate::payment_stages::model::stage;
use chrono::{NaiveDate, Utc};
use crm_common::ApiResult;
use crm_common::db::begin_write;
use sea_orm::sea_query::{Expr, OnConflict, Query};
use sea_orm::{ColumnTrait, Condition, DatabaseConnection, EntityTrait, QueryFilter};
use std::collections::HashMap;
use std::time::Duration;
use uuid::Uuid;

/// What one run did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Run {
    /// Stages newly marked overdue.
    pub overdue: u64,
    /// Auto tasks this run created (another replica's are not counted).
    pub created: usize,
}

/// One run of the job as of `today`.
pub async fn run_once(db: &DatabaseConnection, today: NaiveDate) -> ApiResult<Run> {
    let now = Utc::now();
    let overdue = stage::Entity::update_many()
        .col_expr(stage::Column::Status, Expr::value("overdue"))
        .col_expr(stage::Column::UpdatedAt, Expr::value(now))
        .filter(stage::Column::Status.is_in(["pending", "partial"]))
        .filter(stage::Column::DueDate.lt(today))
        .exec(db)
        .await?
        .rows_affected;
    // Stages without an auto task yet; the unique key, not this filter, is what guarantees one.
    let has_task = Query::select()
        .column(task::Column::AutoStageKey)
        .from(task::Entity)
        .and_where(task::Column::AutoStageKey.is_not_null())
        .to_owned();
    let candidates = stage::Entity::find()
        .filter(stage::Column::Status.is_in(["pending", "partial", "overdue"]))
        .filter(Condition::any().add(stage::Column::DueDate.lte(today)).add(stage::Column::TriggerDate.lte(today)))
        .filter(stage::Column::Id.not_in_subquery(has_task))
        .all(db)
        .await?;
    let due: Vec<stage::Model> = candidates
        .into_iter()
        .filter(|s| rules::is_due(&s.status, &s.payment_trigger, s.trigger_date, s.due_date, today))
        .collect();
    if due.is_empty() {
        return Ok(Run { overdue, created: 0 });
    }
    let orders: HashMap<Uuid, order::Model> = order::Entity::find()
        .filter(order::Column::Id.is_in(due.iter().map(|s| s.order_id)))
        .all(db)
        .await?
        .into_iter()
        .map(|o| (o.id, o))
        .collect();
    let mut created = 0;
    for s in due {
        let Some(o) = orders.get(&s.order_id) else { continue };
        let t = task::Model {
            id: Uuid::now_v7(),
            organization_id: s.organization_id,
            order_id: s.order_id,
            payment_stage_id: Some(s.id),
            auto_stage_key: Some(s.id),
            task_type: "auto".into(),
            status: "pending".into(),
            due_date: Some(s.due_date.unwrap_or(today)),
            reminder_count: 0,
            notes: Some(format!("Payment stage {} ({}) is due", s.stage_number, s.stage_name)),
            assigned_to_user_id: Some(o.sales_user_id),
            created_by: None,
            completed_at: None,
            created_at: now,
            updated_at: now,
        };
        let txn = begin_write(db).await?;
        let inserted = task::Entity::insert(task::ActiveModel::from(t.clone()))
            .on_conflict(OnConflict::column(task::Column::AutoStageKey).do_nothing().to_owned())
            .exec_without_returning(&txn)
            .await?;
        if inserted == 1 {
            announce(&txn, &t, o, o.sales_user_id).await?;
            created += 1;
        }
        txn.commit().await?;
    }
    Ok(Run { overdue, created })
}

/// Runs the job every `interval` until the process ends; a failed run is logged and the next one
/// tries again (a database blip must not stop collection for good).
pub fn spawn(state: crate::AppState, interval: Duration) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut ticker = tokio::time::interval(interval);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let db = &state.db;
        loop {
            ticker.tick().await;
            // Each run's notifications are pushed live once it has committed them.
            let run = crate::live::outbox::scope(&state.live, db, run_once(db, Utc::now().date_naive())).await;
            match run {
                Ok(run) if run.created > 0 || run.overdue > 0 => {
                    tracing::info!(created = run.created, overdue = run.overdue, "collection job ran");
                }
                Ok(_) => {}
                Err(err) => tracing::warn!(error = %err, "collection job failed; retrying at the next tick"),
            }
        }
    })
}
