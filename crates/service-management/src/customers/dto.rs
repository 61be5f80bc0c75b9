//! Request and response shapes of the customers API (the original's fields and names).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct CreateCustomer {
    /// Chosen by an offline client (the record's id from then on); generated when absent.
    pub id: Option<Uuid>,
    /// 1–255 characters.
    pub name: String,
    /// Generated as `{I|O}{YYYYMMDD}{NNN}` when absent.
    pub code: Option<String>,
    /// `individual` (default) or `organization`.
    pub customer_type: Option<String>,
    /// `own` (default) or `agent`; deprecated in favour of `source_id`.
    pub customer_source_type: Option<String>,
    /// Required: a customer source id.
    pub source_id: Option<Uuid>,
    pub parent_customer_id: Option<Uuid>,
    /// Defaults to the caller.
    pub owner_user_id: Option<Uuid>,
    pub agent_user_id: Option<Uuid>,
    /// An agent organization (foundation), for channel customers.
    pub agent_id: Option<Uuid>,
    pub channel_id: Option<Uuid>,
    /// A customer-level code.
    pub level: Option<String>,
    pub industry_id: Option<Uuid>,
    pub description: Option<String>,
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default)]
    pub is_locked: bool,
    pub customer_requirements: Option<String>,
    pub id_external: Option<String>,
    pub phone: Option<String>,
    pub mobile: Option<String>,
    pub email: Option<String>,
    pub wechat_id: Option<String>,
    /// Passport or identity-card number.
    pub id_number: Option<String>,
}

/// Absent fields are kept; `null` clears a clearable one. `version` (or `If-Match`) makes the
/// update conditional: a stale one answers 409 with the record as it now is.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct UpdateCustomer {
    pub name: Option<String>,
    /// Echoed back by the original's frontend; a different value changes the code.
    pub code: Option<String>,
    pub customer_type: Option<String>,
    pub customer_source_type: Option<String>,
    #[serde(default, deserialize_with = "crm_common::api::patch::nullable")]
    #[schema(value_type = Option<Uuid>)]
    pub source_id: Option<Option<Uuid>>,
    #[serde(default, deserialize_with = "crm_common::api::patch::nullable")]
    #[schema(value_type = Option<Uuid>)]
    pub parent_customer_id: Option<Option<Uuid>>,
    #[serde(default, deserialize_with = "crm_common::api::patch::nullable")]
    #[schema(value_type = Option<Uuid>)]
    pub owner_user_id: Option<Option<Uuid>>,
    #[serde(default, deserialize_with = "crm_common::api::patch::nullable")]
    #[schema(value_type = Option<Uuid>)]
    pub agent_user_id: Option<Option<Uuid>>,
    #[serde(default, deserialize_with = "crm_common::api::patch::nullable")]
    #[schema(value_type = Option<Uuid>)]
    pub agent_id: Option<Option<Uuid>>,
    #[serde(default, deserialize_with = "crm_common::api::patch::nullable")]
    #[schema(value_type = Option<Uuid>)]
    pub channel_id: Option<Option<Uuid>>,
    #[serde(default, deserialize_with = "crm_common::api::patch::nullable")]
    #[schema(value_type = Option<String>)]
    pub level: Option<Option<String>>,
    #[serde(default, deserialize_with = "crm_common::api::patch::nullable")]
    #[schema(value_type = Option<Uuid>)]
    pub industry_id: Option<Option<Uuid>>,
    pub description: Option<String>,
    pub tags: Option<Vec<String>>,
    pub is_locked: Option<bool>,
    pub customer_requirements: Option<String>,
    pub phone: Option<String>,
    pub mobile: Option<String>,
    pub email: Option<String>,
    pub wechat_id: Option<String>,
    pub id_number: Option<String>,
    pub version: Option<i32>,
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListCustomers {
    pub page: Option<u64>,
    /// 1–1000, default 20.
    pub size: Option<u64>,
    pub page_size: Option<u64>,
    /// A keyset cursor (`next_cursor` of the previous page) for deep walks; replaces `page`.
    pub after: Option<String>,
    /// Substring, case-insensitive.
    pub name: Option<String>,
    /// Substring, case-insensitive.
    pub code: Option<String>,
    pub customer_type: Option<String>,
    pub customer_source_type: Option<String>,
    pub parent_customer_id: Option<Uuid>,
    /// Honoured for administrators; others may only name themselves.
    pub owner_user_id: Option<Uuid>,
    pub agent_id: Option<Uuid>,
    pub source_id: Option<Uuid>,
    pub channel_id: Option<Uuid>,
    pub industry_id: Option<Uuid>,
    pub level: Option<String>,
    pub is_locked: Option<bool>,
    /// `my` (the caller's customers) or `global` (the organization's, for administrators).
    pub view_type: Option<String>,
}

/// A customer as lists and details show it, with the names of what it refers to. Contact
/// fields are masked for callers without `customer.pii` who do not own the record.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CustomerItem {
    pub id: Uuid,
    pub organization_id: Uuid,
    pub name: String,
    pub code: String,
    pub customer_type: String,
    pub customer_source_type: String,
    pub parent_customer_id: Option<Uuid>,
    pub parent_customer_name: Option<String>,
    pub owner_user_id: Option<Uuid>,
    pub owner_user_name: Option<String>,
    pub agent_user_id: Option<Uuid>,
    pub agent_id: Option<Uuid>,
    pub agent_name: Option<String>,
    pub source_id: Option<Uuid>,
    pub source_name: Option<String>,
    pub channel_id: Option<Uuid>,
    pub channel_name: Option<String>,
    pub level: Option<String>,
    pub level_name_zh: Option<String>,
    pub level_name_id: Option<String>,
    pub industry_id: Option<Uuid>,
    pub industry_name_zh: Option<String>,
    pub industry_name_id: Option<String>,
    pub description: Option<String>,
    pub tags: Vec<String>,
    pub is_locked: bool,
    pub customer_requirements: Option<String>,
    pub id_external: Option<String>,
    pub phone: Option<String>,
    pub mobile: Option<String>,
    pub email: Option<String>,
    pub wechat_id: Option<String>,
    pub id_number: Option<String>,
    /// Whether the contact fields above are masked for this caller.
    pub pii_masked: bool,
    pub last_follow_up_at: Option<DateTime<Utc>>,
    pub next_follow_up_at: Option<DateTime<Utc>>,
    pub created_by: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i32,
}

/// A page of customers: the original's `{items, total, page, size}` plus `pages` and, for
/// keyset walks, `next_cursor` (absent on the last page).
#[derive(Debug, Serialize, ToSchema)]
pub struct CustomerPage {
    pub items: Vec<CustomerItem>,
    pub total: u64,
    pub page: u64,
    pub size: u64,
    pub pages: u64,
    pub next_cursor: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateFollowUp {
    /// Chosen by an offline client; generated when absent.
    pub id: Option<Uuid>,
    /// `call`, `meeting`, `email`, `note`, `visit`, `wechat` or `whatsapp`.
    pub follow_up_type: String,
    pub content: Option<String>,
    pub follow_up_date: DateTime<Utc>,
    pub status_before: Option<String>,
    pub status_after: Option<String>,
    /// Also becomes the customer's `next_follow_up_at`.
    pub next_follow_up_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FollowUpItem {
    pub id: Uuid,
    pub customer_id: Uuid,
    pub follow_up_type: String,
    pub content: Option<String>,
    pub follow_up_date: DateTime<Utc>,
    pub status_before: Option<String>,
    pub status_after: Option<String>,
    pub next_follow_up_at: Option<DateTime<Utc>>,
    pub created_by: Option<Uuid>,
    pub created_by_name: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i32,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateNote {
    /// `comment`, `reminder`, `task`, `internal` or `customer_feedback`.
    pub note_type: String,
    pub content: String,
    #[serde(default)]
    pub is_important: bool,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct NoteItem {
    pub id: Uuid,
    pub customer_id: Uuid,
    pub note_type: String,
    pub content: String,
    pub is_important: bool,
    pub created_by: Option<Uuid>,
    pub created_by_name: Option<String>,
    pub created_at: DateTime<Utc>,
}

pub const CUSTOMER_TYPES: &[&str] = &["individual", "organization"];
pub const SOURCE_TYPES: &[&str] = &["own", "agent"];
pub const FOLLOW_UP_TYPES: &[&str] = &["call", "meeting", "email", "note", "visit", "wechat", "whatsapp"];
pub const NOTE_TYPES: &[&str] = &["comment", "reminder", "task", "internal", "customer_feedback"];
