//! `workflow_tasks`.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "workflow_tasks")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub organization_id: Uuid,
    /// None for a person's own task attached to a record.
    pub workflow_instance_id: Option<Uuid>,
    pub stage_code: Option<String>,
    pub task_code: Option<String>,
    pub task_name_zh: String,
    pub task_name_id: String,
    pub description: Option<String>,
    pub task_type: Option<String>,
    /// What completing it does besides moving the instance (`assign_order`).
    pub action: Option<String>,
    /// How the assignee was chosen (`order_assignee`, …): a reassigned order moves its
    /// `order_assignee` tasks to the new operator.
    pub assign_rule: Option<String>,
    pub assigned_to_user_id: Option<Uuid>,
    /// A role code: anyone holding it may take the task.
    pub assigned_to_role: Option<String>,
    /// The record the task is about: `order`, `service_record` or `opportunity`.
    pub business_type: Option<String>,
    pub business_id: Option<Uuid>,
    pub status: String,
    pub due_date: Option<Date>,
    pub completed_at: Option<DateTimeUtc>,
    pub completed_by: Option<Uuid>,
    /// The payload the task was completed with.
    pub result: Option<Json>,
    pub created_by: Option<Uuid>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
