//! The `uploads` table: a file a member uploaded, with its content.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "uploads")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub organization_id: Uuid,
    pub uploaded_by: Uuid,
    /// `avatar`, `document` or `export`.
    pub category: String,
    /// The stored name, safe in a URL (see `kinds::safe_name`).
    pub filename: String,
    pub original_name: String,
    pub mime_type: String,
    pub size: i64,
    #[sea_orm(column_type = "Blob")]
    pub content: Vec<u8>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
