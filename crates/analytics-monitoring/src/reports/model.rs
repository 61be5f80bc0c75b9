//! The `report_jobs` table: one export, how far it has got, and its finished file.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "report_jobs")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub organization_id: Uuid,
    /// Who asked for it: the only one who may see it.
    pub user_id: Uuid,
    /// `orders`, `leads` or `customers`.
    pub report_type: String,
    pub start_date: Date,
    pub end_date: Date,
    /// `running`, `completed` or `failed`.
    pub status: String,
    /// 0–100.
    pub progress: i32,
    pub row_count: Option<i64>,
    pub file_name: Option<String>,
    #[sea_orm(column_type = "Blob")]
    pub content: Option<Vec<u8>>,
    pub error: Option<String>,
    pub created_at: DateTimeUtc,
    pub finished_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
