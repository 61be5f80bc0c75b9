//! `order_files`: a file's record; its bytes are under the service's files directory at
//! `file_path`.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "order_files")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub organization_id: Uuid,
    pub order_id: Uuid,
    pub order_item_id: Option<Uuid>,
    pub order_stage_id: Option<Uuid>,
    pub file_category: String,
    pub file_name_zh: Option<String>,
    pub file_name_id: Option<String>,
    pub file_type: String,
    /// `order_{order_id}/{file_id}.{ext}`, relative to the files directory.
    pub file_path: String,
    pub file_size: i64,
    pub mime_type: String,
    pub description_zh: Option<String>,
    pub description_id: Option<String>,
    pub is_required: bool,
    pub is_verified: bool,
    pub verified_by: Option<Uuid>,
    pub verified_at: Option<DateTimeUtc>,
    pub uploaded_by: Option<Uuid>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
