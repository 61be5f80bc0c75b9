//! Request and response shapes of collection tasks.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListTasks {
    pub page: Option<u64>,
    /// 1–100, default 20.
    pub size: Option<u64>,
    pub page_size: Option<u64>,
    /// `pending`, `in_progress`, `completed` or `cancelled`.
    pub status: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct CreateTask {
    /// A payment stage of the same order.
    pub payment_stage_id: Option<Uuid>,
    /// `manual` (default); `auto` (one per payment stage, 409 if it exists) is what the
    /// collection job creates.
    pub task_type: Option<String>,
    /// Default: the payment stage's due date, else none.
    pub due_date: Option<NaiveDate>,
    pub notes: Option<String>,
    /// Default: the order's sales user. Notified either way.
    pub assigned_to_user_id: Option<Uuid>,
}

/// Absent fields are kept. `status` moves forward only (409 naming the allowed moves). A new
/// assignee is notified.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct UpdateTask {
    pub status: Option<String>,
    pub due_date: Option<NaiveDate>,
    pub notes: Option<String>,
    pub assigned_to_user_id: Option<Uuid>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TaskView {
    pub id: Uuid,
    pub order_id: Uuid,
    pub payment_stage_id: Option<Uuid>,
    /// `auto` (the collection job's) or `manual`.
    pub task_type: String,
    /// `pending`, `in_progress`, `completed` or `cancelled`.
    pub status: String,
    pub due_date: Option<NaiveDate>,
    pub reminder_count: i32,
    pub notes: Option<String>,
    pub assigned_to_user_id: Option<Uuid>,
    pub created_by: Option<Uuid>,
    pub completed_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<super::model::Model> for TaskView {
    fn from(t: super::model::Model) -> Self {
        Self {
            id: t.id,
            order_id: t.order_id,
            payment_stage_id: t.payment_stage_id,
            task_type: t.task_type,
            status: t.status,
            due_date: t.due_date,
            reminder_count: t.reminder_count,
            notes: t.notes,
            assigned_to_user_id: t.assigned_to_user_id,
            created_by: t.created_by,
            completed_at: t.completed_at,
            created_at: t.created_at,
            updated_at: t.updated_at,
        }
    }
}
