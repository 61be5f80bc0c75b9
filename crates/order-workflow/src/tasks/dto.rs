//! Request and response shapes of tasks.

use super::model;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListTasks {
    pub page: Option<u64>,
    /// 1–100, default 20.
    pub size: Option<u64>,
    pub page_size: Option<u64>,
    /// `pending`, `in_progress`, `completed` or `cancelled`; `open` for the first two.
    pub status: Option<String>,
    /// Due on or after this day.
    pub due_from: Option<NaiveDate>,
    /// Due on or before this day.
    pub due_to: Option<NaiveDate>,
    /// Assigned to this user; `me`: to the caller, or to a role the caller holds and nobody in
    /// particular yet.
    pub assignee: Option<String>,
    /// For this role code.
    pub role: Option<String>,
    /// `order`, `service_record` or `opportunity`.
    pub business_type: Option<String>,
    pub business_id: Option<Uuid>,
    pub workflow_instance_id: Option<Uuid>,
    /// `mine` (default: the caller's, their roles', the ones they created) or `all` (managers:
    /// the organization's).
    pub scope: Option<String>,
    pub lang: Option<String>,
}

/// Completes a task. `result` is what the transitions' conditions read
/// (`{"approval_result": "approved"}`); an allocation task takes `assigned_to_user_id`.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[schema(as = WorkflowCompleteTask)]
pub struct CompleteTask {
    #[schema(value_type = Option<Object>)]
    pub result: Option<Value>,
    pub notes: Option<String>,
}

/// A person's own task, attached to a record or not (seed 003's tasks on deals).
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[schema(as = WorkflowCreateTask)]
pub struct CreateTask {
    /// The title in the request's language (`lang`), when the two are not given apart.
    pub title: Option<String>,
    pub task_name_zh: Option<String>,
    pub task_name_id: Option<String>,
    pub description: Option<String>,
    pub due_date: Option<NaiveDate>,
    /// Default: the caller. Someone else takes `workflow.manage`.
    pub assigned_to_user_id: Option<Uuid>,
    /// `order` or `opportunity` (checked: one the caller sees), with `business_id`.
    pub business_type: Option<String>,
    pub business_id: Option<Uuid>,
}

/// Absent fields are kept. Names and description change on a person's own tasks only; `status`
/// moves `pending → in_progress`, or to `cancelled` for own tasks (completion is
/// `POST /tasks/{id}/complete`).
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[schema(as = WorkflowUpdateTask)]
pub struct UpdateTask {
    pub task_name_zh: Option<String>,
    pub task_name_id: Option<String>,
    pub description: Option<String>,
    pub due_date: Option<NaiveDate>,
    pub status: Option<String>,
    /// Reassign (managers); the new assignee is notified.
    pub assigned_to_user_id: Option<Uuid>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = WorkflowTaskView)]
pub struct TaskView {
    pub id: Uuid,
    /// None for a person's own task.
    pub workflow_instance_id: Option<Uuid>,
    pub stage_code: Option<String>,
    pub task_code: Option<String>,
    /// `task_name_zh` or `task_name_id` by `lang`.
    pub task_name: String,
    pub task_name_zh: String,
    pub task_name_id: String,
    pub description: Option<String>,
    /// `user_task`, `service_task` or `script_task`.
    pub task_type: Option<String>,
    pub action: Option<String>,
    pub assigned_to_user_id: Option<Uuid>,
    pub assigned_to_role: Option<String>,
    pub business_type: Option<String>,
    pub business_id: Option<Uuid>,
    /// `pending`, `in_progress`, `completed` or `cancelled`.
    pub status: String,
    pub due_date: Option<NaiveDate>,
    pub completed_at: Option<DateTime<Utc>>,
    pub completed_by: Option<Uuid>,
    #[schema(value_type = Option<Object>)]
    pub result: Option<Value>,
    pub created_by: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl TaskView {
    pub fn of(t: model::Model, indonesian: bool) -> Self {
        Self {
            task_name: if indonesian { t.task_name_id.clone() } else { t.task_name_zh.clone() },
            id: t.id,
            workflow_instance_id: t.workflow_instance_id,
            stage_code: t.stage_code,
            task_code: t.task_code,
            task_name_zh: t.task_name_zh,
            task_name_id: t.task_name_id,
            description: t.description,
            task_type: t.task_type,
            action: t.action,
            assigned_to_user_id: t.assigned_to_user_id,
            assigned_to_role: t.assigned_to_role,
            business_type: t.business_type,
            business_id: t.business_id,
            status: t.status,
            due_date: t.due_date,
            completed_at: t.completed_at,
            completed_by: t.completed_by,
            result: t.result,
            created_by: t.created_by,
            created_at: t.created_at,
            updated_at: t.updated_at,
        }
    }
}

/// What completing a task did.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Completion {
    pub task: TaskView,
    /// The instance after the move (none for a person's own task).
    pub instance: Option<crate::workflows::InstanceView>,
    pub transition: Option<crate::workflows::TransitionView>,
    /// The task the next stage created.
    pub next_task: Option<TaskView>,
}
