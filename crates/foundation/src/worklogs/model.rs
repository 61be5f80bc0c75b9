//! The `work_logs` table: what a member did on a day, rated by themself and by a supervisor.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "work_logs")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub organization_id: Uuid,
    /// The author.
    pub user_id: Uuid,
    pub work_date: Date,
    pub content: String,
    pub completion_status: String,
    pub self_rating: Option<i16>,
    pub supervisor_rating: Option<i16>,
    pub supervisor_comment: Option<String>,
    pub rated_by: Option<Uuid>,
    pub rated_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub version: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
