//! Request and response shapes of the suppliers API.

use crate::access::Organization;
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use sea_orm::FromQueryResult;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

/// Rows one batch may carry.
pub const MAX_BATCH: usize = 1000;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListSuppliers {
    pub page: Option<u64>,
    /// 1–1000, default 10.
    pub size: Option<u64>,
    pub page_size: Option<u64>,
    /// Substring, case-insensitive.
    pub name: Option<String>,
    /// Exact.
    pub code: Option<String>,
    pub is_active: Option<bool>,
    pub is_locked: Option<bool>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SupplierItem {
    pub id: Uuid,
    pub name: String,
    pub code: Option<String>,
    pub phone: Option<String>,
    pub organization_type: String,
    pub is_active: bool,
    pub is_locked: bool,
    /// Products it offers.
    pub service_count: u64,
}

impl SupplierItem {
    pub fn new(o: Organization, service_count: u64) -> Self {
        Self {
            id: o.id,
            name: o.name,
            code: o.code,
            phone: o.phone,
            organization_type: o.organization_type,
            is_active: o.is_active,
            is_locked: o.is_locked,
            service_count,
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListServices {
    pub page: Option<u64>,
    /// 1–1000, default 20.
    pub size: Option<u64>,
    pub page_size: Option<u64>,
    pub is_available: Option<bool>,
}

/// One offer with its product and category, read in one joined query.
#[derive(Debug, Clone, Serialize, ToSchema, FromQueryResult)]
pub struct SupplierService {
    /// The offer's id.
    pub id: Uuid,
    pub product_id: Uuid,
    pub product_name: String,
    pub product_code: Option<String>,
    pub enterprise_service_code: Option<String>,
    pub category_id: Option<Uuid>,
    pub category_name: Option<String>,
    /// The product's sales state.
    pub status: String,
    /// The product's on/off flag.
    pub is_active: bool,
    /// The offer's.
    pub is_available: bool,
    #[serde(with = "crm_common::api::money::opt")]
    #[schema(value_type = Option<f64>)]
    pub cost_price_cny: Option<Decimal>,
    #[serde(with = "crm_common::api::money::opt")]
    #[schema(value_type = Option<f64>)]
    pub cost_price_idr: Option<Decimal>,
    pub processing_days: Option<i32>,
    pub is_primary: bool,
    pub priority: i32,
}

/// New cost prices of one offer.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ServicePrice {
    #[serde(with = "crm_common::api::money::opt", default)]
    #[schema(value_type = Option<f64>)]
    pub cost_price_cny: Option<Decimal>,
    #[serde(with = "crm_common::api::money::opt", default)]
    #[schema(value_type = Option<f64>)]
    pub cost_price_idr: Option<Decimal>,
    /// When the new cost applies from (recorded in the history); default now.
    pub effective_from: Option<DateTime<Utc>>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct BatchAdd {
    /// At most 1000.
    pub product_ids: Vec<Uuid>,
    /// Default true.
    pub is_available: Option<bool>,
    /// Make this supplier the primary one of every product added (default false).
    pub is_primary: Option<bool>,
    #[serde(with = "crm_common::api::money::opt", default)]
    #[schema(value_type = Option<f64>)]
    pub default_cost_price_cny: Option<Decimal>,
    #[serde(with = "crm_common::api::money::opt", default)]
    #[schema(value_type = Option<f64>)]
    pub default_cost_price_idr: Option<Decimal>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BatchAddResult {
    pub success_count: usize,
    pub failed_count: usize,
    pub success_product_ids: Vec<Uuid>,
    /// Unknown products, and products the supplier already offers.
    pub failed_product_ids: Vec<Uuid>,
}

/// One offer's change: either `cost_price` with its `currency`, or the two prices directly.
#[derive(Debug, Deserialize, ToSchema)]
pub struct PriceUpdate {
    pub product_id: Uuid,
    #[serde(with = "crm_common::api::money::opt", default)]
    #[schema(value_type = Option<f64>)]
    pub cost_price: Option<Decimal>,
    /// `IDR` or `CNY`, with `cost_price`.
    pub currency: Option<String>,
    #[serde(with = "crm_common::api::money::opt", default)]
    #[schema(value_type = Option<f64>)]
    pub cost_price_cny: Option<Decimal>,
    #[serde(with = "crm_common::api::money::opt", default)]
    #[schema(value_type = Option<f64>)]
    pub cost_price_idr: Option<Decimal>,
    pub processing_days: Option<i32>,
    pub is_available: Option<bool>,
    pub is_primary: Option<bool>,
    pub priority: Option<i32>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct BatchPrices {
    /// At most 1000.
    pub updates: Vec<PriceUpdate>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BatchPricesResult {
    pub success_count: usize,
    pub failed_count: usize,
    /// Products the supplier does not offer.
    pub failed_product_ids: Vec<Uuid>,
}
