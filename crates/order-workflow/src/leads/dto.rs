//! Request and response shapes of the leads API (the original's fields and names).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct CreateLead {
    /// 1–255 characters.
    pub name: String,
    pub company_name: Option<String>,
    pub contact_name: Option<String>,
    /// At most 50 characters.
    pub phone: Option<String>,
    /// A valid e-mail address.
    pub email: Option<String>,
    pub address: Option<String>,
    /// Defaults to the caller (none for a lead created in the public pool); only administrators
    /// may name someone else.
    pub owner_user_id: Option<Uuid>,
    /// `new` (default), `contacted`, `qualified` or `lost`; `converted` comes only from conversion.
    pub status: Option<String>,
    /// A customer-level code (service-management's customer levels).
    pub level: Option<String>,
    /// Where the lead came from (free text).
    pub source: Option<String>,
    pub next_follow_up_at: Option<DateTime<Utc>>,
    /// Created straight into the organization's public pool, without an owner.
    #[serde(default)]
    pub is_in_public_pool: bool,
    /// Refused: a lead gets its customer only by conversion.
    pub customer_id: Option<Uuid>,
}

/// Absent fields are kept; `null` clears a clearable one. `version` (or `If-Match`) makes the
/// update conditional: a stale one answers 409 with the lead as it now is.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct UpdateLead {
    pub name: Option<String>,
    pub company_name: Option<String>,
    pub contact_name: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub address: Option<String>,
    /// Echoed back by the original's edit form; a change goes through the same rules as
    /// `POST /leads/{id}/assign`.
    #[serde(default, deserialize_with = "crm_common::api::patch::nullable")]
    #[schema(value_type = Option<Uuid>)]
    pub owner_user_id: Option<Option<Uuid>>,
    /// Moves along the status machine only (409 naming the allowed moves otherwise).
    pub status: Option<String>,
    #[serde(default, deserialize_with = "crm_common::api::patch::nullable")]
    #[schema(value_type = Option<String>)]
    pub level: Option<Option<String>>,
    pub source: Option<String>,
    #[serde(default, deserialize_with = "crm_common::api::patch::nullable")]
    #[schema(value_type = Option<DateTime<Utc>>)]
    pub next_follow_up_at: Option<Option<DateTime<Utc>>>,
    #[serde(default, deserialize_with = "crm_common::api::patch::nullable")]
    #[schema(value_type = Option<DateTime<Utc>>)]
    pub last_follow_up_at: Option<Option<DateTime<Utc>>>,
    /// Refused: a lead gets its customer only by conversion.
    pub customer_id: Option<Uuid>,
    pub version: Option<i32>,
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListLeads {
    pub page: Option<u64>,
    /// 1–1000, default 20.
    pub size: Option<u64>,
    pub page_size: Option<u64>,
    /// A keyset cursor (`next_cursor` of the previous page) for deep walks; replaces `page`.
    pub after: Option<String>,
    pub owner_user_id: Option<Uuid>,
    pub status: Option<String>,
    pub is_in_public_pool: Option<bool>,
    pub customer_id: Option<Uuid>,
    /// Substring, case-insensitive.
    pub company_name: Option<String>,
    /// Exact.
    pub phone: Option<String>,
    /// Exact.
    pub email: Option<String>,
}

/// A lead as lists and details show it. Phone and e-mail are masked for callers without
/// `customer.pii` who do not own the lead.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct LeadItem {
    pub id: Uuid,
    pub organization_id: Uuid,
    pub name: String,
    pub company_name: Option<String>,
    pub contact_name: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub address: Option<String>,
    /// Set only by conversion.
    pub customer_id: Option<Uuid>,
    pub owner_user_id: Option<Uuid>,
    pub owner_username: Option<String>,
    /// `new`, `contacted`, `qualified`, `converted` or `lost`.
    pub status: String,
    pub level: Option<String>,
    pub level_name_zh: Option<String>,
    pub level_name_id: Option<String>,
    pub source: Option<String>,
    pub is_in_public_pool: bool,
    pub pool_id: Option<Uuid>,
    pub moved_to_pool_at: Option<DateTime<Utc>>,
    pub last_follow_up_at: Option<DateTime<Utc>>,
    pub next_follow_up_at: Option<DateTime<Utc>>,
    /// Whether phone and e-mail above are masked for this caller.
    pub pii_masked: bool,
    pub created_by: Option<Uuid>,
    pub updated_by: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i32,
}

/// A page of leads: the original's `{items, total, page, size}` plus `pages` and, for keyset
/// walks, `next_cursor` (absent on the last page).
#[derive(Debug, Serialize, ToSchema)]
pub struct LeadPage {
    pub items: Vec<LeadItem>,
    pub total: u64,
    pub page: u64,
    pub size: u64,
    pub pages: u64,
    pub next_cursor: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct MoveToPool {
    /// Accepted and stored; pools have no endpoints, and the original's frontend always sends null.
    pub pool_id: Option<Uuid>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct AssignLead {
    pub owner_user_id: Uuid,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateFollowUp {
    /// `call`, `meeting`, `email` or `note`.
    pub follow_up_type: String,
    pub content: Option<String>,
    /// Becomes the lead's `last_follow_up_at`.
    pub follow_up_date: DateTime<Utc>,
    /// Moves the lead along the status machine (409 naming the allowed moves otherwise).
    pub status_after: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FollowUpItem {
    pub id: Uuid,
    pub lead_id: Uuid,
    pub follow_up_type: String,
    pub content: Option<String>,
    pub follow_up_date: DateTime<Utc>,
    pub status_before: Option<String>,
    pub status_after: Option<String>,
    pub created_by: Option<Uuid>,
    pub created_by_name: Option<String>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateNote {
    /// `comment`, `reminder` or `task`.
    pub note_type: String,
    pub content: String,
    #[serde(default)]
    pub is_important: bool,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct NoteItem {
    pub id: Uuid,
    pub lead_id: Uuid,
    pub note_type: String,
    pub content: String,
    pub is_important: bool,
    pub created_by: Option<Uuid>,
    pub created_by_name: Option<String>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct CheckDuplicate {
    pub company_name: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
    /// The lead being edited, left out of the answer.
    pub exclude_lead_id: Option<Uuid>,
    /// Company names equal (ignoring case) rather than containing the query.
    #[serde(default)]
    pub exact_match: bool,
}

/// A lead that looks like the one being entered, and how much (0–1).
#[derive(Debug, Serialize, ToSchema)]
pub struct DuplicateItem {
    #[serde(flatten)]
    pub lead: LeadItem,
    pub similarity_score: f64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DuplicateResult {
    pub has_duplicate: bool,
    /// Most alike first.
    pub duplicates: Vec<DuplicateItem>,
    /// The highest of the duplicates' scores; null without duplicates.
    pub similarity_score: Option<f64>,
}

pub const FOLLOW_UP_TYPES: &[&str] = &["call", "meeting", "email", "note"];
pub const NOTE_TYPES: &[&str] = &["comment", "reminder", "task"];
