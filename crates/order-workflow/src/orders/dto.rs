//! Request and response shapes of the orders API: the original's fields and names, plus the
//! real client's (`description`, `notes`, `product_name`), with bilingual text collapsed by `lang`.

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

/// An item as the order create body, `POST /order-items` and `POST /orders/{id}/items` take it.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct CreateItem {
    /// Only `POST /order-items` (the original's flat path) names its order here.
    pub order_id: Option<Uuid>,
    /// Ignored on order creation (items are numbered by position); on a later add, a free number
    /// ≥ 1, else the next one.
    pub item_number: Option<i32>,
    /// A service-management product: its name and code are copied onto the item.
    pub product_id: Option<Uuid>,
    /// The name in the caller's language, when no product is named.
    pub product_name: Option<String>,
    pub product_name_zh: Option<String>,
    pub product_name_id: Option<String>,
    pub product_code: Option<String>,
    pub service_type_id: Option<Uuid>,
    pub service_type_name_zh: Option<String>,
    pub service_type_name_id: Option<String>,
    /// ≥ 1, default 1.
    pub quantity: Option<i32>,
    pub unit: Option<String>,
    /// ≥ 0. Defaults to the product's direct price in the item's currency when a product is named.
    #[serde(default, with = "crm_common::api::money::opt")]
    #[schema(value_type = Option<f64>)]
    pub unit_price: Option<Decimal>,
    /// ≥ 0, at most the line's amount.
    #[serde(default, with = "crm_common::api::money::opt")]
    #[schema(value_type = Option<f64>)]
    pub discount_amount: Option<Decimal>,
    /// Default: the order's currency.
    pub currency_code: Option<String>,
    /// The description in the caller's language.
    pub description: Option<String>,
    pub description_zh: Option<String>,
    pub description_id: Option<String>,
    pub requirements: Option<String>,
    pub expected_start_date: Option<NaiveDate>,
    pub expected_completion_date: Option<NaiveDate>,
    /// `pending` (default), `in_progress`, `completed` or `cancelled`.
    pub status: Option<String>,
}

/// Absent fields are kept. The amount is recomputed, and the order's totals with it.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct UpdateItem {
    pub product_id: Option<Uuid>,
    pub product_name: Option<String>,
    pub product_name_zh: Option<String>,
    pub product_name_id: Option<String>,
    pub product_code: Option<String>,
    pub quantity: Option<i32>,
    pub unit: Option<String>,
    #[serde(default, with = "crm_common::api::money::opt")]
    #[schema(value_type = Option<f64>)]
    pub unit_price: Option<Decimal>,
    #[serde(default, with = "crm_common::api::money::opt")]
    #[schema(value_type = Option<f64>)]
    pub discount_amount: Option<Decimal>,
    pub currency_code: Option<String>,
    pub description: Option<String>,
    pub description_zh: Option<String>,
    pub description_id: Option<String>,
    pub requirements: Option<String>,
    pub expected_start_date: Option<NaiveDate>,
    pub expected_completion_date: Option<NaiveDate>,
    pub status: Option<String>,
    /// Makes the update conditional (or `If-Match`): a stale one answers 409.
    pub version: Option<i32>,
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct CreateOrder {
    /// 1–255 characters.
    pub title: String,
    pub customer_id: Uuid,
    /// Defaults to the caller.
    pub sales_user_id: Option<Uuid>,
    pub service_record_id: Option<Uuid>,
    pub entry_city: Option<String>,
    pub passport_id: Option<String>,
    pub processor: Option<String>,
    /// Numbered 1..n in the order given.
    #[serde(default)]
    pub order_items: Vec<CreateItem>,
    /// Default `CNY`.
    pub currency_code: Option<String>,
    /// The order-level discount, ≥ 0 (default 0).
    #[serde(default, with = "crm_common::api::money::opt")]
    #[schema(value_type = Option<f64>)]
    pub discount_amount: Option<Decimal>,
    /// > 0.
    #[serde(default, with = "crm_common::api::money::opt")]
    #[schema(value_type = Option<f64>)]
    pub exchange_rate: Option<Decimal>,
    pub expected_start_date: Option<NaiveDate>,
    pub expected_completion_date: Option<NaiveDate>,
    pub customer_notes: Option<String>,
    pub internal_notes: Option<String>,
    pub requirements: Option<String>,
    pub description: Option<String>,
    pub notes: Option<String>,
}

/// Absent fields are kept. `status_code` moves along the status machine (409 naming the allowed
/// moves otherwise).
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct UpdateOrder {
    pub title: Option<String>,
    pub customer_id: Option<Uuid>,
    pub service_record_id: Option<Uuid>,
    pub entry_city: Option<String>,
    pub passport_id: Option<String>,
    pub processor: Option<String>,
    pub currency_code: Option<String>,
    #[serde(default, with = "crm_common::api::money::opt")]
    #[schema(value_type = Option<f64>)]
    pub discount_amount: Option<Decimal>,
    #[serde(default, with = "crm_common::api::money::opt")]
    #[schema(value_type = Option<f64>)]
    pub exchange_rate: Option<Decimal>,
    pub expected_start_date: Option<NaiveDate>,
    pub expected_completion_date: Option<NaiveDate>,
    pub actual_start_date: Option<NaiveDate>,
    pub actual_completion_date: Option<NaiveDate>,
    pub customer_notes: Option<String>,
    pub internal_notes: Option<String>,
    pub requirements: Option<String>,
    pub description: Option<String>,
    pub notes: Option<String>,
    pub status_code: Option<String>,
    pub version: Option<i32>,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct AssignOrder {
    /// The operator who will deliver the order.
    pub assigned_to_user_id: Uuid,
    /// `operation` (default) or `sales`.
    pub assignment_type: Option<String>,
    pub notes: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Lang {
    /// `zh` (default) or `id`: the language bilingual fields are collapsed to.
    pub lang: Option<String>,
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListOrders {
    pub page: Option<u64>,
    /// 1–1000, default 20.
    pub size: Option<u64>,
    pub page_size: Option<u64>,
    pub customer_id: Option<Uuid>,
    pub sales_user_id: Option<Uuid>,
    pub service_record_id: Option<Uuid>,
    pub opportunity_id: Option<Uuid>,
    pub status_code: Option<String>,
    /// Substring, case-insensitive.
    pub order_number: Option<String>,
    /// Substring, case-insensitive.
    pub title: Option<String>,
    /// Substring of the customer's name, case-insensitive.
    pub customer_name: Option<String>,
    /// Created on or after this day (or instant).
    pub created_at_from: Option<String>,
    /// Created on or before this day (or before this instant).
    pub created_at_to: Option<String>,
    pub lang: Option<String>,
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListItems {
    pub page: Option<u64>,
    /// 1–1000, default 100.
    pub size: Option<u64>,
    pub page_size: Option<u64>,
    pub lang: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ItemView {
    pub id: Uuid,
    pub order_id: Uuid,
    pub item_number: i32,
    pub product_id: Option<Uuid>,
    /// `product_name_zh` or `product_name_id` by `lang`, falling back to the other.
    pub product_name: Option<String>,
    pub product_name_zh: Option<String>,
    pub product_name_id: Option<String>,
    pub product_code: Option<String>,
    pub service_type_id: Option<Uuid>,
    pub service_type_name: Option<String>,
    pub service_type_name_zh: Option<String>,
    pub service_type_name_id: Option<String>,
    pub quantity: i32,
    pub unit: Option<String>,
    #[serde(with = "crm_common::api::money::opt")]
    #[schema(value_type = Option<f64>)]
    pub unit_price: Option<Decimal>,
    #[serde(with = "crm_common::api::money")]
    #[schema(value_type = f64)]
    pub discount_amount: Decimal,
    /// `quantity × unit_price − discount_amount`; null without a unit price.
    #[serde(with = "crm_common::api::money::opt")]
    #[schema(value_type = Option<f64>)]
    pub item_amount: Option<Decimal>,
    pub currency_code: String,
    pub description: Option<String>,
    pub description_zh: Option<String>,
    pub description_id: Option<String>,
    pub requirements: Option<String>,
    pub expected_start_date: Option<NaiveDate>,
    pub expected_completion_date: Option<NaiveDate>,
    pub status: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i32,
}

/// An order as lists and details show it. `passport_id` is masked for callers without
/// `customer.pii` who neither sold nor deliver the order.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OrderView {
    pub id: Uuid,
    pub organization_id: Uuid,
    pub order_number: String,
    pub title: String,
    pub customer_id: Uuid,
    pub customer_name: Option<String>,
    pub service_record_id: Option<Uuid>,
    pub opportunity_id: Option<Uuid>,
    pub sales_user_id: Uuid,
    pub sales_username: Option<String>,
    /// The operator currently assigned, if any.
    pub assigned_to_user_id: Option<Uuid>,
    pub assigned_to_username: Option<String>,
    #[serde(with = "crm_common::api::money")]
    #[schema(value_type = f64)]
    pub total_amount: Decimal,
    #[serde(with = "crm_common::api::money")]
    #[schema(value_type = f64)]
    pub discount_amount: Decimal,
    #[serde(with = "crm_common::api::money")]
    #[schema(value_type = f64)]
    pub final_amount: Decimal,
    pub currency_code: String,
    #[serde(with = "crm_common::api::money::opt")]
    #[schema(value_type = Option<f64>)]
    pub exchange_rate: Option<Decimal>,
    /// `submitted`, `approved`, `assigned`, `processing`, `completed` or `cancelled`.
    pub status_code: String,
    /// The status's label in `lang`.
    pub status_name: String,
    pub expected_start_date: Option<NaiveDate>,
    pub expected_completion_date: Option<NaiveDate>,
    pub actual_start_date: Option<NaiveDate>,
    pub actual_completion_date: Option<NaiveDate>,
    pub customer_notes: Option<String>,
    pub internal_notes: Option<String>,
    pub requirements: Option<String>,
    pub description: Option<String>,
    pub notes: Option<String>,
    pub entry_city: Option<String>,
    pub passport_id: Option<String>,
    pub processor: Option<String>,
    /// Whether `passport_id` above is masked for this caller.
    pub pii_masked: bool,
    pub created_by: Option<Uuid>,
    pub updated_by: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i32,
    /// In item-number order. Lists leave them out (`null`); details always carry them.
    pub order_items: Option<Vec<ItemView>>,
}

/// The original's order list shape.
#[derive(Debug, Serialize, ToSchema)]
pub struct OrderPage {
    pub orders: Vec<OrderView>,
    pub total: u64,
    pub page: u64,
    pub page_size: u64,
}

/// The original's item list shape (`GET /order-items/order/{id}/items`).
#[derive(Debug, Serialize, ToSchema)]
pub struct ItemPage {
    pub items: Vec<ItemView>,
    pub total: u64,
}
