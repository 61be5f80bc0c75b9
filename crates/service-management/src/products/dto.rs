//! Request and response shapes of the products API. Amounts are `rust_decimal` values read and
//! written as JSON numbers with their exact digits (`crm_common::api::money`).

use super::model as product;
use crate::vendors::model as vendor_product;
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

/// A new product: every column but the derived profits, which are computed from the prices.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct CreateProduct {
    /// Required, 1–255 characters.
    pub name: String,
    /// Up to 100 characters, unique when given.
    pub code: Option<String>,
    pub enterprise_service_code: Option<String>,
    /// An existing, active category.
    pub category_id: Option<Uuid>,
    /// An existing service type.
    pub service_type_id: Option<Uuid>,
    /// Free text (`visa`).
    pub service_type: Option<String>,
    /// Free text (`B211`, `C211`).
    pub service_subtype: Option<String>,
    pub description: Option<String>,
    /// Days.
    pub validity_period: Option<i32>,
    pub processing_days: Option<i32>,
    pub processing_time_text: Option<String>,
    /// Default false.
    pub is_urgent_available: Option<bool>,
    pub urgent_processing_days: Option<i32>,
    #[serde(default, with = "crm_common::api::money::opt")]
    #[schema(value_type = Option<f64>)]
    pub urgent_price_surcharge: Option<Decimal>,
    pub required_documents: Option<String>,
    pub sla_description: Option<String>,
    /// `standard` | `premium` | `vip`.
    pub service_level: Option<String>,
    #[serde(default, with = "crm_common::api::money::opt")]
    #[schema(value_type = Option<f64>)]
    pub price_cost_idr: Option<Decimal>,
    #[serde(default, with = "crm_common::api::money::opt")]
    #[schema(value_type = Option<f64>)]
    pub price_cost_cny: Option<Decimal>,
    #[serde(default, with = "crm_common::api::money::opt")]
    #[schema(value_type = Option<f64>)]
    pub price_channel_idr: Option<Decimal>,
    #[serde(default, with = "crm_common::api::money::opt")]
    #[schema(value_type = Option<f64>)]
    pub price_channel_cny: Option<Decimal>,
    #[serde(default, with = "crm_common::api::money::opt")]
    #[schema(value_type = Option<f64>)]
    pub price_direct_idr: Option<Decimal>,
    #[serde(default, with = "crm_common::api::money::opt")]
    #[schema(value_type = Option<f64>)]
    pub price_direct_cny: Option<Decimal>,
    #[serde(default, with = "crm_common::api::money::opt")]
    #[schema(value_type = Option<f64>)]
    pub price_list_idr: Option<Decimal>,
    #[serde(default, with = "crm_common::api::money::opt")]
    #[schema(value_type = Option<f64>)]
    pub price_list_cny: Option<Decimal>,
    /// `IDR` (default) or `CNY`.
    pub default_currency: Option<String>,
    /// IDR per CNY, > 0, default 2000.
    #[serde(default, with = "crm_common::api::money::opt")]
    #[schema(value_type = Option<f64>)]
    pub exchange_rate: Option<Decimal>,
    /// 0–1.
    #[serde(default, with = "crm_common::api::money::opt")]
    #[schema(value_type = Option<f64>)]
    pub commission_rate: Option<Decimal>,
    #[serde(default, with = "crm_common::api::money::opt")]
    #[schema(value_type = Option<f64>)]
    pub commission_amount: Option<Decimal>,
    #[serde(default, with = "crm_common::api::money::opt")]
    #[schema(value_type = Option<f64>)]
    pub equivalent_cny: Option<Decimal>,
    pub monthly_orders: Option<i32>,
    #[serde(default, with = "crm_common::api::money::opt")]
    #[schema(value_type = Option<f64>)]
    pub total_amount: Option<Decimal>,
    /// `active` (default) | `suspended` | `discontinued`.
    pub status: Option<String>,
    pub suspended_reason: Option<String>,
    /// Set to now when the status is `discontinued` and this is not given.
    pub discontinued_at: Option<DateTime<Utc>>,
    /// Default true.
    pub is_active: Option<bool>,
    /// Default false.
    pub is_locked: Option<bool>,
    pub tags: Option<Vec<String>>,
    pub notes: Option<String>,
}

/// A change: an absent field is kept (the admin page omits what the user cleared). Where a
/// column may be empty, `null` clears it (a blank text too).
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct UpdateProduct {
    pub name: Option<String>,
    pub code: Option<String>,
    pub enterprise_service_code: Option<String>,
    #[serde(default, deserialize_with = "crm_common::api::patch::nullable")]
    #[schema(value_type = Option<Uuid>)]
    pub category_id: Option<Option<Uuid>>,
    #[serde(default, deserialize_with = "crm_common::api::patch::nullable")]
    #[schema(value_type = Option<Uuid>)]
    pub service_type_id: Option<Option<Uuid>>,
    pub service_type: Option<String>,
    pub service_subtype: Option<String>,
    pub description: Option<String>,
    #[serde(default, deserialize_with = "crm_common::api::patch::nullable")]
    #[schema(value_type = Option<i32>)]
    pub validity_period: Option<Option<i32>>,
    #[serde(default, deserialize_with = "crm_common::api::patch::nullable")]
    #[schema(value_type = Option<i32>)]
    pub processing_days: Option<Option<i32>>,
    pub processing_time_text: Option<String>,
    pub is_urgent_available: Option<bool>,
    #[serde(default, deserialize_with = "crm_common::api::patch::nullable")]
    #[schema(value_type = Option<i32>)]
    pub urgent_processing_days: Option<Option<i32>>,
    #[serde(default, deserialize_with = "crm_common::api::money::patch::deserialize")]
    #[schema(value_type = Option<f64>)]
    pub urgent_price_surcharge: Option<Option<Decimal>>,
    pub required_documents: Option<String>,
    pub sla_description: Option<String>,
    pub service_level: Option<String>,
    #[serde(default, deserialize_with = "crm_common::api::money::patch::deserialize")]
    #[schema(value_type = Option<f64>)]
    pub price_cost_idr: Option<Option<Decimal>>,
    #[serde(default, deserialize_with = "crm_common::api::money::patch::deserialize")]
    #[schema(value_type = Option<f64>)]
    pub price_cost_cny: Option<Option<Decimal>>,
    #[serde(default, deserialize_with = "crm_common::api::money::patch::deserialize")]
    #[schema(value_type = Option<f64>)]
    pub price_channel_idr: Option<Option<Decimal>>,
    #[serde(default, deserialize_with = "crm_common::api::money::patch::deserialize")]
    #[schema(value_type = Option<f64>)]
    pub price_channel_cny: Option<Option<Decimal>>,
    #[serde(default, deserialize_with = "crm_common::api::money::patch::deserialize")]
    #[schema(value_type = Option<f64>)]
    pub price_direct_idr: Option<Option<Decimal>>,
    #[serde(default, deserialize_with = "crm_common::api::money::patch::deserialize")]
    #[schema(value_type = Option<f64>)]
    pub price_direct_cny: Option<Option<Decimal>>,
    #[serde(default, deserialize_with = "crm_common::api::money::patch::deserialize")]
    #[schema(value_type = Option<f64>)]
    pub price_list_idr: Option<Option<Decimal>>,
    #[serde(default, deserialize_with = "crm_common::api::money::patch::deserialize")]
    #[schema(value_type = Option<f64>)]
    pub price_list_cny: Option<Option<Decimal>>,
    pub default_currency: Option<String>,
    #[serde(default, with = "crm_common::api::money::opt")]
    #[schema(value_type = Option<f64>)]
    pub exchange_rate: Option<Decimal>,
    #[serde(default, deserialize_with = "crm_common::api::money::patch::deserialize")]
    #[schema(value_type = Option<f64>)]
    pub commission_rate: Option<Option<Decimal>>,
    #[serde(default, deserialize_with = "crm_common::api::money::patch::deserialize")]
    #[schema(value_type = Option<f64>)]
    pub commission_amount: Option<Option<Decimal>>,
    #[serde(default, deserialize_with = "crm_common::api::money::patch::deserialize")]
    #[schema(value_type = Option<f64>)]
    pub equivalent_cny: Option<Option<Decimal>>,
    #[serde(default, deserialize_with = "crm_common::api::patch::nullable")]
    #[schema(value_type = Option<i32>)]
    pub monthly_orders: Option<Option<i32>>,
    #[serde(default, deserialize_with = "crm_common::api::money::patch::deserialize")]
    #[schema(value_type = Option<f64>)]
    pub total_amount: Option<Option<Decimal>>,
    pub status: Option<String>,
    pub suspended_reason: Option<String>,
    #[serde(default, deserialize_with = "crm_common::api::patch::nullable")]
    #[schema(value_type = Option<DateTime<Utc>>)]
    pub discontinued_at: Option<Option<DateTime<Utc>>>,
    pub is_active: Option<bool>,
    pub is_locked: Option<bool>,
    #[serde(default, deserialize_with = "crm_common::api::patch::nullable")]
    #[schema(value_type = Option<Vec<String>>)]
    pub tags: Option<Option<Vec<String>>>,
    pub notes: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListProducts {
    pub page: Option<u64>,
    /// 1–1000, default 10 (the admin pickers ask for 1000).
    pub size: Option<u64>,
    pub page_size: Option<u64>,
    /// Substring, case-insensitive.
    pub name: Option<String>,
    /// Substring, case-insensitive.
    pub code: Option<String>,
    pub category_id: Option<Uuid>,
    pub service_type_id: Option<Uuid>,
    /// Exact.
    pub service_type: Option<String>,
    /// Exact.
    pub service_subtype: Option<String>,
    /// `active` | `suspended` | `discontinued`.
    pub status: Option<String>,
    pub is_active: Option<bool>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListVendorProducts {
    pub page: Option<u64>,
    /// 1–1000, default 10.
    pub size: Option<u64>,
    pub page_size: Option<u64>,
    pub is_available: Option<bool>,
    pub is_primary: Option<bool>,
}

/// A product in lists and details: every column, the names of its category and service type,
/// and the profits derived from its IDR prices.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ProductItem {
    pub id: Uuid,
    pub name: String,
    pub code: Option<String>,
    pub enterprise_service_code: Option<String>,
    pub category_id: Option<Uuid>,
    pub category_name: Option<String>,
    pub service_type_id: Option<Uuid>,
    pub service_type_name: Option<String>,
    pub service_type: Option<String>,
    pub service_subtype: Option<String>,
    pub description: Option<String>,
    pub validity_period: Option<i32>,
    pub processing_days: Option<i32>,
    pub processing_time_text: Option<String>,
    pub is_urgent_available: bool,
    pub urgent_processing_days: Option<i32>,
    #[serde(with = "crm_common::api::money::opt")]
    #[schema(value_type = Option<f64>)]
    pub urgent_price_surcharge: Option<Decimal>,
    pub required_documents: Option<String>,
    pub sla_description: Option<String>,
    pub service_level: Option<String>,
    #[serde(with = "crm_common::api::money::opt")]
    #[schema(value_type = Option<f64>)]
    pub price_cost_idr: Option<Decimal>,
    #[serde(with = "crm_common::api::money::opt")]
    #[schema(value_type = Option<f64>)]
    pub price_cost_cny: Option<Decimal>,
    #[serde(with = "crm_common::api::money::opt")]
    #[schema(value_type = Option<f64>)]
    pub price_channel_idr: Option<Decimal>,
    #[serde(with = "crm_common::api::money::opt")]
    #[schema(value_type = Option<f64>)]
    pub price_channel_cny: Option<Decimal>,
    #[serde(with = "crm_common::api::money::opt")]
    #[schema(value_type = Option<f64>)]
    pub price_direct_idr: Option<Decimal>,
    #[serde(with = "crm_common::api::money::opt")]
    #[schema(value_type = Option<f64>)]
    pub price_direct_cny: Option<Decimal>,
    #[serde(with = "crm_common::api::money::opt")]
    #[schema(value_type = Option<f64>)]
    pub price_list_idr: Option<Decimal>,
    #[serde(with = "crm_common::api::money::opt")]
    #[schema(value_type = Option<f64>)]
    pub price_list_cny: Option<Decimal>,
    pub default_currency: String,
    #[serde(with = "crm_common::api::money")]
    #[schema(value_type = f64)]
    pub exchange_rate: Decimal,
    #[serde(with = "crm_common::api::money::opt")]
    #[schema(value_type = Option<f64>)]
    pub channel_profit: Option<Decimal>,
    #[serde(with = "crm_common::api::money::opt")]
    #[schema(value_type = Option<f64>)]
    pub channel_profit_rate: Option<Decimal>,
    #[serde(with = "crm_common::api::money::opt")]
    #[schema(value_type = Option<f64>)]
    pub channel_customer_profit: Option<Decimal>,
    #[serde(with = "crm_common::api::money::opt")]
    #[schema(value_type = Option<f64>)]
    pub channel_customer_profit_rate: Option<Decimal>,
    #[serde(with = "crm_common::api::money::opt")]
    #[schema(value_type = Option<f64>)]
    pub direct_profit: Option<Decimal>,
    #[serde(with = "crm_common::api::money::opt")]
    #[schema(value_type = Option<f64>)]
    pub direct_profit_rate: Option<Decimal>,
    #[serde(with = "crm_common::api::money::opt")]
    #[schema(value_type = Option<f64>)]
    pub commission_rate: Option<Decimal>,
    #[serde(with = "crm_common::api::money::opt")]
    #[schema(value_type = Option<f64>)]
    pub commission_amount: Option<Decimal>,
    #[serde(with = "crm_common::api::money::opt")]
    #[schema(value_type = Option<f64>)]
    pub equivalent_cny: Option<Decimal>,
    pub monthly_orders: Option<i32>,
    #[serde(with = "crm_common::api::money::opt")]
    #[schema(value_type = Option<f64>)]
    pub total_amount: Option<Decimal>,
    pub status: String,
    pub suspended_reason: Option<String>,
    pub discontinued_at: Option<DateTime<Utc>>,
    pub is_active: bool,
    pub is_locked: bool,
    pub tags: Option<Vec<String>>,
    pub notes: Option<String>,
    pub created_by: Option<Uuid>,
    pub updated_by: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i32,
}

impl ProductItem {
    pub fn new(p: product::Model, category_name: Option<String>, service_type_name: Option<String>) -> Self {
        // Tags are written by this API as a string array; anything else reads as none.
        let tags = p.tags.and_then(|t| serde_json::from_value::<Vec<String>>(t).ok());
        Self {
            id: p.id,
            name: p.name,
            code: p.code,
            enterprise_service_code: p.enterprise_service_code,
            category_id: p.category_id,
            category_name,
            service_type_id: p.service_type_id,
            service_type_name,
            service_type: p.service_type,
            service_subtype: p.service_subtype,
            description: p.description,
            validity_period: p.validity_period,
            processing_days: p.processing_days,
            processing_time_text: p.processing_time_text,
            is_urgent_available: p.is_urgent_available,
            urgent_processing_days: p.urgent_processing_days,
            urgent_price_surcharge: p.urgent_price_surcharge,
            required_documents: p.required_documents,
            sla_description: p.sla_description,
            service_level: p.service_level,
            price_cost_idr: p.price_cost_idr,
            price_cost_cny: p.price_cost_cny,
            price_channel_idr: p.price_channel_idr,
            price_channel_cny: p.price_channel_cny,
            price_direct_idr: p.price_direct_idr,
            price_direct_cny: p.price_direct_cny,
            price_list_idr: p.price_list_idr,
            price_list_cny: p.price_list_cny,
            default_currency: p.default_currency,
            exchange_rate: p.exchange_rate,
            channel_profit: p.channel_profit,
            channel_profit_rate: p.channel_profit_rate,
            channel_customer_profit: p.channel_customer_profit,
            channel_customer_profit_rate: p.channel_customer_profit_rate,
            direct_profit: p.direct_profit,
            direct_profit_rate: p.direct_profit_rate,
            commission_rate: p.commission_rate,
            commission_amount: p.commission_amount,
            equivalent_cny: p.equivalent_cny,
            monthly_orders: p.monthly_orders,
            total_amount: p.total_amount,
            status: p.status,
            suspended_reason: p.suspended_reason,
            discontinued_at: p.discontinued_at,
            is_active: p.is_active,
            is_locked: p.is_locked,
            tags,
            notes: p.notes,
            created_by: p.created_by,
            updated_by: p.updated_by,
            created_at: p.created_at,
            updated_at: p.updated_at,
            version: p.version,
        }
    }
}

/// A product as a vendor offers it: the product, with `processing_days` the offer's (the
/// product's when the offer has none), and the offer's terms.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct VendorProductItem {
    #[serde(flatten)]
    pub product: ProductItem,
    /// The `vendor_products` row.
    pub vendor_product_id: Uuid,
    pub is_primary: bool,
    /// Smaller is preferred.
    pub priority: i32,
    #[serde(with = "crm_common::api::money::opt")]
    #[schema(value_type = Option<f64>)]
    pub cost_price_idr: Option<Decimal>,
    #[serde(with = "crm_common::api::money::opt")]
    #[schema(value_type = Option<f64>)]
    pub cost_price_cny: Option<Decimal>,
    pub is_available: bool,
}

impl VendorProductItem {
    pub fn new(mut product: ProductItem, offer: vendor_product::Model) -> Self {
        product.processing_days = offer.processing_days.or(product.processing_days);
        Self {
            product,
            vendor_product_id: offer.id,
            is_primary: offer.is_primary,
            priority: offer.priority,
            cost_price_idr: offer.cost_price_idr,
            cost_price_cny: offer.cost_price_cny,
            is_available: offer.is_available,
        }
    }
}
