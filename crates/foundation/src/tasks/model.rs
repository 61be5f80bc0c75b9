//! The `export_tasks` table: a file made in the background, and how far it has got.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "export_tasks")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub organization_id: Uuid,
    /// Who asked for it: the only one who may see it.
    pub user_id: Uuid,
    /// What is exported (`work_logs`).
    pub kind: String,
    pub status: String,
    pub progress: i16,
    pub file_name: Option<String>,
    pub mime_type: Option<String>,
    #[sea_orm(column_type = "Blob")]
    pub content: Option<Vec<u8>>,
    pub rows: Option<i64>,
    pub error: Option<String>,
    pub created_at: DateTimeUtc,
    pub finished_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
