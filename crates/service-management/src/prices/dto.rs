//! Request and response shapes of the prices API.

use super::model::{history, price};
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

#[derive(Debug, Deserialize, ToSchema)]
pub struct CreatePrice {
    pub product_id: Uuid,
    /// Null or absent: the generic price, for all vendors.
    pub organization_id: Option<Uuid>,
    /// `cost`, `channel`, `direct` or `list`.
    pub price_type: String,
    /// `IDR`, `CNY`, `USD` or `EUR`.
    pub currency: String,
    /// ≥ 0.
    #[serde(with = "crm_common::api::money")]
    #[schema(value_type = f64)]
    pub amount: Decimal,
    #[serde(with = "crm_common::api::money::opt", default)]
    #[schema(value_type = Option<f64>)]
    pub exchange_rate: Option<Decimal>,
    /// Default: now.
    pub effective_from: Option<DateTime<Utc>>,
    /// Null or absent: open-ended. Exclusive.
    pub effective_to: Option<DateTime<Utc>>,
    /// `manual` (default), `import` or `contract`.
    pub source: Option<String>,
    pub change_reason: Option<String>,
}

/// Absent fields are kept.
#[derive(Debug, Deserialize, ToSchema)]
pub struct UpdatePrice {
    #[serde(with = "crm_common::api::money::opt", default)]
    #[schema(value_type = Option<f64>)]
    pub amount: Option<Decimal>,
    /// `null` clears it.
    #[serde(deserialize_with = "crm_common::api::money::patch::deserialize", default)]
    #[schema(value_type = Option<f64>)]
    pub exchange_rate: Option<Option<Decimal>>,
    pub effective_from: Option<DateTime<Utc>>,
    /// `null` makes the period open-ended.
    #[serde(default, deserialize_with = "crm_common::api::patch::nullable")]
    #[schema(value_type = Option<DateTime<Utc>>)]
    pub effective_to: Option<Option<DateTime<Utc>>>,
    pub change_reason: Option<String>,
    /// Needs `price.approve` from a BANTU administrator.
    pub is_approved: Option<bool>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListPrices {
    pub page: Option<u64>,
    /// 1–1000, default 10.
    pub size: Option<u64>,
    pub page_size: Option<u64>,
    pub product_id: Option<Uuid>,
    pub organization_id: Option<Uuid>,
    pub price_type: Option<String>,
    pub currency: Option<String>,
    pub is_approved: Option<bool>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PriceItem {
    pub id: Uuid,
    pub product_id: Uuid,
    pub organization_id: Option<Uuid>,
    pub price_type: String,
    pub currency: String,
    #[serde(with = "crm_common::api::money")]
    #[schema(value_type = f64)]
    pub amount: Decimal,
    #[serde(with = "crm_common::api::money::opt")]
    #[schema(value_type = Option<f64>)]
    pub exchange_rate: Option<Decimal>,
    pub effective_from: DateTime<Utc>,
    pub effective_to: Option<DateTime<Utc>>,
    pub source: String,
    pub is_approved: bool,
    pub approved_by: Option<Uuid>,
    pub approved_at: Option<DateTime<Utc>>,
    pub change_reason: Option<String>,
    pub changed_by: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i32,
}

impl From<price::Model> for PriceItem {
    fn from(p: price::Model) -> Self {
        Self {
            id: p.id,
            product_id: p.product_id,
            organization_id: p.organization_id,
            price_type: p.price_type,
            currency: p.currency,
            amount: p.amount,
            exchange_rate: p.exchange_rate,
            effective_from: p.effective_from,
            effective_to: p.effective_to,
            source: p.source,
            is_approved: p.is_approved,
            approved_by: p.approved_by,
            approved_at: p.approved_at,
            change_reason: p.change_reason,
            changed_by: p.changed_by,
            created_at: p.created_at,
            updated_at: p.updated_at,
            version: p.version,
        }
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct HistoryItem {
    pub id: Uuid,
    pub product_id: Uuid,
    pub organization_id: Option<Uuid>,
    pub price_type: String,
    pub currency: String,
    /// Null when the price was created.
    #[serde(with = "crm_common::api::money::opt")]
    #[schema(value_type = Option<f64>)]
    pub old_price: Option<Decimal>,
    /// Null when the price was deleted.
    #[serde(with = "crm_common::api::money::opt")]
    #[schema(value_type = Option<f64>)]
    pub new_price: Option<Decimal>,
    pub change_reason: Option<String>,
    pub effective_from: DateTime<Utc>,
    pub effective_to: Option<DateTime<Utc>>,
    pub changed_by: Option<Uuid>,
    pub created_at: DateTime<Utc>,
}

impl From<history::Model> for HistoryItem {
    fn from(h: history::Model) -> Self {
        Self {
            id: h.id,
            product_id: h.product_id,
            organization_id: h.organization_id,
            price_type: h.price_type,
            currency: h.currency,
            old_price: h.old_price,
            new_price: h.new_price,
            change_reason: h.change_reason,
            effective_from: h.effective_from,
            effective_to: h.effective_to,
            changed_by: h.changed_by,
            created_at: h.created_at,
        }
    }
}
