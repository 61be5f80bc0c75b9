//! `collection_tasks`.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "collection_tasks")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub organization_id: Uuid,
    pub order_id: Uuid,
    pub payment_stage_id: Option<Uuid>,
    /// The payment stage of an automatic task, unique: what makes the collection job create one
    /// task per stage however many replicas run it. Null for manual tasks.
    pub auto_stage_key: Option<Uuid>,
    pub task_type: String,
    pub status: String,
    pub due_date: Option<Date>,
    pub reminder_count: i32,
    pub notes: Option<String>,
    pub assigned_to_user_id: Option<Uuid>,
    pub created_by: Option<Uuid>,
    pub completed_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
