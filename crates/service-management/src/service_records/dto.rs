//! Request and response shapes of the service-records API (the original's fields and names).

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct CreateServiceRecord {
    /// Generated when absent.
    pub id: Option<Uuid>,
    /// A customer the caller can see.
    pub customer_id: Uuid,
    pub service_type_id: Option<Uuid>,
    pub product_id: Option<Uuid>,
    pub service_name: Option<String>,
    pub service_description: Option<String>,
    pub service_code: Option<String>,
    /// One of the customer's contacts (the "order taker").
    pub contact_id: Option<Uuid>,
    pub sales_user_id: Option<Uuid>,
    /// Another customer of the organization who referred this one.
    pub referral_customer_id: Option<Uuid>,
    /// `pending` (default), `in_progress`, `completed`, `cancelled` or `on_hold`.
    pub status: Option<String>,
    pub status_description: Option<String>,
    /// `low`, `normal` (default), `high` or `urgent`.
    pub priority: Option<String>,
    pub expected_start_date: Option<NaiveDate>,
    pub expected_completion_date: Option<NaiveDate>,
    pub actual_start_date: Option<NaiveDate>,
    pub actual_completion_date: Option<NaiveDate>,
    pub deadline: Option<NaiveDate>,
    /// ≥ 0.
    #[serde(default, with = "crm_common::api::money::opt")]
    #[schema(value_type = Option<f64>)]
    pub estimated_price: Option<Decimal>,
    /// ≥ 0.
    #[serde(default, with = "crm_common::api::money::opt")]
    #[schema(value_type = Option<f64>)]
    pub final_price: Option<Decimal>,
    /// `CNY` (default) or `IDR`.
    pub currency_code: Option<String>,
    pub price_notes: Option<String>,
    /// ≥ 0, default 1.
    #[serde(default, with = "crm_common::api::money::opt")]
    #[schema(value_type = Option<f64>)]
    pub quantity: Option<Decimal>,
    pub unit: Option<String>,
    pub requirements: Option<String>,
    pub customer_requirements: Option<String>,
    pub internal_notes: Option<String>,
    pub customer_notes: Option<String>,
    pub required_documents: Option<String>,
    #[serde(default)]
    pub attachments: Vec<serde_json::Value>,
    pub last_follow_up_at: Option<DateTime<Utc>>,
    pub next_follow_up_at: Option<DateTime<Utc>>,
    pub follow_up_notes: Option<String>,
    #[serde(default)]
    pub tags: Vec<String>,
}

/// Absent fields are kept; `null` clears a clearable one. A status change must follow the flow.
/// `version` (or `If-Match`) makes the update conditional: a stale one answers 409.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct UpdateServiceRecord {
    #[serde(default, deserialize_with = "crm_common::api::patch::nullable")]
    #[schema(value_type = Option<Uuid>)]
    pub service_type_id: Option<Option<Uuid>>,
    #[serde(default, deserialize_with = "crm_common::api::patch::nullable")]
    #[schema(value_type = Option<Uuid>)]
    pub product_id: Option<Option<Uuid>>,
    pub service_name: Option<String>,
    pub service_description: Option<String>,
    pub service_code: Option<String>,
    #[serde(default, deserialize_with = "crm_common::api::patch::nullable")]
    #[schema(value_type = Option<Uuid>)]
    pub contact_id: Option<Option<Uuid>>,
    #[serde(default, deserialize_with = "crm_common::api::patch::nullable")]
    #[schema(value_type = Option<Uuid>)]
    pub sales_user_id: Option<Option<Uuid>>,
    #[serde(default, deserialize_with = "crm_common::api::patch::nullable")]
    #[schema(value_type = Option<Uuid>)]
    pub referral_customer_id: Option<Option<Uuid>>,
    pub status: Option<String>,
    pub status_description: Option<String>,
    pub priority: Option<String>,
    #[serde(default, deserialize_with = "crm_common::api::patch::nullable")]
    #[schema(value_type = Option<NaiveDate>)]
    pub expected_start_date: Option<Option<NaiveDate>>,
    #[serde(default, deserialize_with = "crm_common::api::patch::nullable")]
    #[schema(value_type = Option<NaiveDate>)]
    pub expected_completion_date: Option<Option<NaiveDate>>,
    #[serde(default, deserialize_with = "crm_common::api::patch::nullable")]
    #[schema(value_type = Option<NaiveDate>)]
    pub actual_start_date: Option<Option<NaiveDate>>,
    #[serde(default, deserialize_with = "crm_common::api::patch::nullable")]
    #[schema(value_type = Option<NaiveDate>)]
    pub actual_completion_date: Option<Option<NaiveDate>>,
    #[serde(default, deserialize_with = "crm_common::api::patch::nullable")]
    #[schema(value_type = Option<NaiveDate>)]
    pub deadline: Option<Option<NaiveDate>>,
    #[serde(default, deserialize_with = "crm_common::api::money::patch::deserialize")]
    #[schema(value_type = Option<f64>)]
    pub estimated_price: Option<Option<Decimal>>,
    #[serde(default, deserialize_with = "crm_common::api::money::patch::deserialize")]
    #[schema(value_type = Option<f64>)]
    pub final_price: Option<Option<Decimal>>,
    pub currency_code: Option<String>,
    pub price_notes: Option<String>,
    #[serde(default, with = "crm_common::api::money::opt")]
    #[schema(value_type = Option<f64>)]
    pub quantity: Option<Decimal>,
    pub unit: Option<String>,
    pub requirements: Option<String>,
    pub customer_requirements: Option<String>,
    pub internal_notes: Option<String>,
    pub customer_notes: Option<String>,
    pub required_documents: Option<String>,
    pub attachments: Option<Vec<serde_json::Value>>,
    #[serde(default, deserialize_with = "crm_common::api::patch::nullable")]
    #[schema(value_type = Option<DateTime<Utc>>)]
    pub last_follow_up_at: Option<Option<DateTime<Utc>>>,
    #[serde(default, deserialize_with = "crm_common::api::patch::nullable")]
    #[schema(value_type = Option<DateTime<Utc>>)]
    pub next_follow_up_at: Option<Option<DateTime<Utc>>>,
    pub follow_up_notes: Option<String>,
    pub tags: Option<Vec<String>>,
    pub version: Option<i32>,
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListServiceRecords {
    pub page: Option<u64>,
    /// A keyset cursor (`next_cursor` of the previous page) for deep walks; replaces `page`.
    pub after: Option<String>,
    /// 1–1000, default 20.
    pub size: Option<u64>,
    pub page_size: Option<u64>,
    pub customer_id: Option<Uuid>,
    pub service_type_id: Option<Uuid>,
    pub product_id: Option<Uuid>,
    pub contact_id: Option<Uuid>,
    pub sales_user_id: Option<Uuid>,
    pub status: Option<String>,
    pub priority: Option<String>,
    pub referral_customer_id: Option<Uuid>,
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListCustomerServiceRecords {
    pub page: Option<u64>,
    /// A keyset cursor (`next_cursor` of the previous page) for deep walks; replaces `page`.
    pub after: Option<String>,
    /// 1–1000, default 20.
    pub size: Option<u64>,
    pub page_size: Option<u64>,
    pub status: Option<String>,
    pub priority: Option<String>,
}

/// A service record with the names of what it refers to.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ServiceRecordItem {
    pub id: Uuid,
    pub organization_id: Uuid,
    pub customer_id: Uuid,
    pub customer_name: Option<String>,
    pub service_type_id: Option<Uuid>,
    pub service_type_name: Option<String>,
    pub product_id: Option<Uuid>,
    pub product_name: Option<String>,
    pub product_code: Option<String>,
    pub service_name: Option<String>,
    pub service_description: Option<String>,
    pub service_code: Option<String>,
    pub contact_id: Option<Uuid>,
    pub contact_name: Option<String>,
    pub sales_user_id: Option<Uuid>,
    pub sales_username: Option<String>,
    pub referral_customer_id: Option<Uuid>,
    pub referral_customer_name: Option<String>,
    pub status: String,
    pub status_description: Option<String>,
    pub priority: String,
    pub expected_start_date: Option<NaiveDate>,
    pub expected_completion_date: Option<NaiveDate>,
    pub actual_start_date: Option<NaiveDate>,
    pub actual_completion_date: Option<NaiveDate>,
    pub deadline: Option<NaiveDate>,
    #[serde(with = "crm_common::api::money::opt")]
    #[schema(value_type = Option<f64>)]
    pub estimated_price: Option<Decimal>,
    #[serde(with = "crm_common::api::money::opt")]
    #[schema(value_type = Option<f64>)]
    pub final_price: Option<Decimal>,
    pub currency_code: String,
    pub price_notes: Option<String>,
    #[serde(with = "crm_common::api::money")]
    #[schema(value_type = f64)]
    pub quantity: Decimal,
    pub unit: Option<String>,
    pub requirements: Option<String>,
    pub customer_requirements: Option<String>,
    pub internal_notes: Option<String>,
    pub customer_notes: Option<String>,
    pub required_documents: Option<String>,
    pub attachments: Vec<serde_json::Value>,
    pub last_follow_up_at: Option<DateTime<Utc>>,
    pub next_follow_up_at: Option<DateTime<Utc>>,
    pub follow_up_notes: Option<String>,
    pub tags: Vec<String>,
    pub created_by: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i32,
}

/// A page of service records: `{items, total, page, size, pages}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ServiceRecordPage {
    pub items: Vec<ServiceRecordItem>,
    pub total: u64,
    pub page: u64,
    pub size: u64,
    pub pages: u64,
    /// For keyset walks: pass as `after` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

pub const STATUSES: &[&str] = &["pending", "in_progress", "completed", "cancelled", "on_hold"];
pub const PRIORITIES: &[&str] = &["urgent", "high", "normal", "low"];
pub const CURRENCIES: &[&str] = &["CNY", "IDR"];
