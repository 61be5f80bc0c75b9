//! Request and response shapes of share links.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct CreateLink {
    /// `order`, `customer` or `service_account`.
    pub resource_type: Option<String>,
    pub resource_id: Option<Uuid>,
    /// When it stops opening; never when absent.
    pub expires_at: Option<DateTime<Utc>>,
    /// How many times it opens (1–10000, default 1).
    pub max_access_count: Option<i64>,
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListLinks {
    pub page: Option<u64>,
    /// 1–100, default 20.
    pub size: Option<u64>,
    pub page_size: Option<u64>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct LinkView {
    pub id: Uuid,
    /// The secret part of the link: `GET /api/order-workflow/temporary-links/{link_token}`.
    pub link_token: String,
    pub resource_type: String,
    pub resource_id: Uuid,
    pub expires_at: Option<DateTime<Utc>>,
    pub max_access_count: i32,
    pub current_access_count: i32,
    pub is_active: bool,
    pub created_by: Uuid,
    pub created_at: DateTime<Utc>,
}

impl From<super::model::Model> for LinkView {
    fn from(l: super::model::Model) -> Self {
        Self {
            id: l.id,
            link_token: l.link_token,
            resource_type: l.resource_type,
            resource_id: l.resource_id,
            expires_at: l.expires_at,
            max_access_count: l.max_access_count,
            current_access_count: l.current_access_count,
            is_active: l.is_active,
            created_by: l.created_by,
            created_at: l.created_at,
        }
    }
}

/// What an opened link shows.
#[derive(Debug, Serialize, ToSchema)]
pub struct Opened {
    /// The link, this access counted.
    pub link: LinkView,
    /// The resource itself for an `order` (as its creator saw it, without people's names and
    /// with passport numbers masked unless the creator sold or delivers it); `null` for the types
    /// another service owns, or when the order is gone.
    #[schema(value_type = Object)]
    pub resource_data: Option<serde_json::Value>,
}
