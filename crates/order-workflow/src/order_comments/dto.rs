//! Request and response shapes of order comments: the original's bilingual fields, plus the real
//! client's `content` (written in the `lang` language), collapsed to `content` by `lang`.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

/// A new comment or reply. At least one of `content`, `content_zh`, `content_id` is required.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct CreateComment {
    /// Only `POST /order-comments` (the original's flat path) names its order here; a reply
    /// takes its parent's order.
    pub order_id: Option<Uuid>,
    pub order_stage_id: Option<Uuid>,
    /// `general` (default), `internal`, `customer` or `system`.
    pub comment_type: Option<String>,
    /// The text in the `lang` language (the real client sends only this).
    pub content: Option<String>,
    pub content_zh: Option<String>,
    pub content_id: Option<String>,
    /// Hidden from the customer. Default: whether `comment_type` is `internal`.
    pub is_internal: Option<bool>,
    /// Listed first. Ignored on replies: a reply is never pinned.
    pub is_pinned: Option<bool>,
    /// The comment this answers; it must be a comment of the same order.
    pub replied_to_comment_id: Option<Uuid>,
}

/// Absent fields are kept.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct UpdateComment {
    pub comment_type: Option<String>,
    /// The text in the `lang` language.
    pub content: Option<String>,
    pub content_zh: Option<String>,
    pub content_id: Option<String>,
    pub is_internal: Option<bool>,
    /// A reply cannot be pinned (400).
    pub is_pinned: Option<bool>,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct PinComment {
    pub is_pinned: bool,
}

#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CommentLang {
    /// `zh` (default) or `id`: the language `content` is collapsed to (and written in).
    pub lang: Option<String>,
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListComments {
    pub page: Option<u64>,
    /// 1–100, default 20.
    pub size: Option<u64>,
    pub page_size: Option<u64>,
    pub order_stage_id: Option<Uuid>,
    pub is_internal: Option<bool>,
    pub lang: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CommentView {
    pub id: Uuid,
    pub order_id: Uuid,
    pub order_stage_id: Option<Uuid>,
    pub comment_type: String,
    /// `content_zh` or `content_id` by `lang`, falling back to the other.
    pub content: Option<String>,
    pub content_zh: Option<String>,
    pub content_id: Option<String>,
    pub is_internal: bool,
    pub is_pinned: bool,
    pub replied_to_comment_id: Option<Uuid>,
    pub created_by: Option<Uuid>,
    /// The author's name as foundation shows it.
    pub created_by_name: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// The original's list shape (`GET /order-comments/order/{id}/comments`).
#[derive(Debug, Serialize, ToSchema)]
pub struct CommentList {
    pub comments: Vec<CommentView>,
    pub total: u64,
}
