//! Response shapes of the caller's notifications.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListNotifications {
    pub page: Option<u64>,
    /// 1–100, default 20.
    pub size: Option<u64>,
    pub page_size: Option<u64>,
    /// Only read (`true`) or unread (`false`) ones.
    pub is_read: Option<bool>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct NotificationView {
    pub id: Uuid,
    pub user_id: Uuid,
    /// `collection_task`, `lead_assigned`, `order_updated`, `lead_created` or `lead_updated`.
    pub notification_type: String,
    pub title: String,
    pub content: Option<String>,
    /// What it is about (`collection_task`, `order`…) and its id.
    pub resource_type: Option<String>,
    pub resource_id: Option<Uuid>,
    pub is_read: bool,
    pub read_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    /// What the notification is about, finer than `notification_type` (`order_status`,
    /// `order_file`, `workflow_task`…); the `category` of the live push.
    pub category: String,
    /// The Indonesian title and content (`title`/`content` are the Chinese).
    pub title_id: Option<String>,
    pub content_id: Option<String>,
}

impl From<super::model::Model> for NotificationView {
    fn from(n: super::model::Model) -> Self {
        let category = n.category.unwrap_or_else(|| n.notification_type.clone());
        Self {
            id: n.id,
            user_id: n.user_id,
            notification_type: n.notification_type,
            title: n.title,
            content: n.content,
            resource_type: n.resource_type,
            resource_id: n.resource_id,
            is_read: n.is_read,
            read_at: n.read_at,
            created_at: n.created_at,
            category,
            title_id: n.title_id,
            content_id: n.content_id,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UpdatedCount {
    pub updated_count: u64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UnreadCount {
    pub unread_count: u64,
}
