//! Request and response shapes of the contacts API (the original's fields and names).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct CreateContact {
    /// Chosen by an offline client (the record's id from then on); generated when absent.
    pub id: Option<Uuid>,
    /// A customer the caller can see.
    pub customer_id: Uuid,
    pub first_name: Option<String>,
    /// 1–255 characters.
    pub last_name: String,
    /// Empty strings are stored as nothing (the original's dialog sends `""` for empty fields).
    pub email: Option<String>,
    pub phone: Option<String>,
    pub mobile: Option<String>,
    pub wechat_id: Option<String>,
    pub position: Option<String>,
    pub department: Option<String>,
    /// e.g. decision maker, influencer, user.
    pub contact_role: Option<String>,
    /// Making this contact primary clears the flag on the customer's other contacts.
    #[serde(default)]
    pub is_primary: bool,
    #[serde(default)]
    pub is_decision_maker: bool,
    pub address: Option<String>,
    pub city: Option<String>,
    pub province: Option<String>,
    pub country: Option<String>,
    pub postal_code: Option<String>,
    /// e.g. `mobile`.
    pub preferred_contact_method: Option<String>,
    /// Defaults to true.
    pub is_active: Option<bool>,
    pub notes: Option<String>,
}

/// Absent fields are kept; `null` (or a blank string) clears a clearable one. The customer cannot
/// change. `version` (or `If-Match`) makes the update conditional: a stale one answers 409 with
/// the contact as it now is.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct UpdateContact {
    #[serde(default, deserialize_with = "crm_common::api::patch::nullable")]
    #[schema(value_type = Option<String>)]
    pub first_name: Option<Option<String>>,
    /// 1–255 characters; `null` keeps it (a contact always has a last name).
    pub last_name: Option<String>,
    /// A masked value sent back as it was shown leaves the stored one alone.
    #[serde(default, deserialize_with = "crm_common::api::patch::nullable")]
    #[schema(value_type = Option<String>)]
    pub email: Option<Option<String>>,
    #[serde(default, deserialize_with = "crm_common::api::patch::nullable")]
    #[schema(value_type = Option<String>)]
    pub phone: Option<Option<String>>,
    #[serde(default, deserialize_with = "crm_common::api::patch::nullable")]
    #[schema(value_type = Option<String>)]
    pub mobile: Option<Option<String>>,
    #[serde(default, deserialize_with = "crm_common::api::patch::nullable")]
    #[schema(value_type = Option<String>)]
    pub wechat_id: Option<Option<String>>,
    #[serde(default, deserialize_with = "crm_common::api::patch::nullable")]
    #[schema(value_type = Option<String>)]
    pub position: Option<Option<String>>,
    #[serde(default, deserialize_with = "crm_common::api::patch::nullable")]
    #[schema(value_type = Option<String>)]
    pub department: Option<Option<String>>,
    #[serde(default, deserialize_with = "crm_common::api::patch::nullable")]
    #[schema(value_type = Option<String>)]
    pub contact_role: Option<Option<String>>,
    pub is_primary: Option<bool>,
    pub is_decision_maker: Option<bool>,
    #[serde(default, deserialize_with = "crm_common::api::patch::nullable")]
    #[schema(value_type = Option<String>)]
    pub address: Option<Option<String>>,
    #[serde(default, deserialize_with = "crm_common::api::patch::nullable")]
    #[schema(value_type = Option<String>)]
    pub city: Option<Option<String>>,
    #[serde(default, deserialize_with = "crm_common::api::patch::nullable")]
    #[schema(value_type = Option<String>)]
    pub province: Option<Option<String>>,
    #[serde(default, deserialize_with = "crm_common::api::patch::nullable")]
    #[schema(value_type = Option<String>)]
    pub country: Option<Option<String>>,
    #[serde(default, deserialize_with = "crm_common::api::patch::nullable")]
    #[schema(value_type = Option<String>)]
    pub postal_code: Option<Option<String>>,
    #[serde(default, deserialize_with = "crm_common::api::patch::nullable")]
    #[schema(value_type = Option<String>)]
    pub preferred_contact_method: Option<Option<String>>,
    pub is_active: Option<bool>,
    #[serde(default, deserialize_with = "crm_common::api::patch::nullable")]
    #[schema(value_type = Option<String>)]
    pub notes: Option<Option<String>>,
    pub version: Option<i32>,
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListContacts {
    pub page: Option<u64>,
    /// A keyset cursor (`next_cursor` of the previous page); replaces `page`.
    pub after: Option<String>,
    /// 1–1000, default 20.
    pub size: Option<u64>,
    pub page_size: Option<u64>,
    pub is_primary: Option<bool>,
    pub is_active: Option<bool>,
}

/// A contact with its customer's name. Phone, mobile, e-mail and WeChat id are masked for
/// callers without `customer.pii` who do not own the customer.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ContactItem {
    pub id: Uuid,
    pub organization_id: Uuid,
    pub customer_id: Uuid,
    pub customer_name: Option<String>,
    pub first_name: Option<String>,
    pub last_name: String,
    /// First and last name joined by a space.
    pub full_name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub mobile: Option<String>,
    pub wechat_id: Option<String>,
    /// Whether the contact fields above are masked for this caller.
    pub pii_masked: bool,
    pub position: Option<String>,
    pub department: Option<String>,
    pub contact_role: Option<String>,
    pub is_primary: bool,
    pub is_decision_maker: bool,
    pub address: Option<String>,
    pub city: Option<String>,
    pub province: Option<String>,
    pub country: Option<String>,
    pub postal_code: Option<String>,
    pub preferred_contact_method: Option<String>,
    pub is_active: bool,
    pub notes: Option<String>,
    pub created_by: Option<Uuid>,
    pub updated_by: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i32,
}

/// A page of a customer's contacts: `{items, total, page, size, pages}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ContactPage {
    pub items: Vec<ContactItem>,
    pub total: u64,
    pub page: u64,
    pub size: u64,
    pub pages: u64,
    /// For keyset walks: pass as `after` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}
