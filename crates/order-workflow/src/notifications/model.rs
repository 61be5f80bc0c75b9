//! `notifications`.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "notifications")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub organization_id: Uuid,
    pub user_id: Uuid,
    pub notification_type: String,
    pub title: String,
    pub content: Option<String>,
    pub resource_type: Option<String>,
    pub resource_id: Option<Uuid>,
    pub is_read: bool,
    pub read_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    /// Finer than `notification_type`: `order_status`, `order_item`, `order_file`,
    /// `order_comment`, `workflow_task`, `collection_task`, `lead_assigned`…
    pub category: Option<String>,
    /// The Indonesian wording; `title`/`content` hold the Chinese.
    pub title_id: Option<String>,
    pub content_id: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
