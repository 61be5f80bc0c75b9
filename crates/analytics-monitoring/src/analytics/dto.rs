use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

#[derive(Debug, Deserialize, IntoParams)]
pub struct Scope {
    /// Platform administrators: one organization's analytics; omitted, every organization's.
    /// Others always get their own organization's.
    pub organization_id: Option<Uuid>,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct TrendParams {
    /// `day` (the last 30 days, default), `week` (the last 12 ISO weeks) or `month` (the last 12
    /// months).
    pub period: Option<String>,
    pub organization_id: Option<Uuid>,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct RevenueParams {
    /// `day`, `week` or `month` (default); the same windows as the customer trend.
    pub period: Option<String>,
    pub organization_id: Option<Uuid>,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct OrdersParams {
    /// Orders created on or after this day (`YYYY-MM-DD`).
    pub start_date: Option<NaiveDate>,
    /// Orders created on or before this day (`YYYY-MM-DD`).
    pub end_date: Option<NaiveDate>,
    pub organization_id: Option<Uuid>,
}

/// New customers in one bucket and the running total at its end.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct TrendPoint {
    /// `YYYY-MM-DD`, `YYYY-WW` (ISO year and week) or `YYYY-MM`.
    pub date: String,
    pub count: u64,
    pub cumulative: u64,
}

/// Seed 001's customer growth trend.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct CustomerTrend {
    pub period: String,
    pub data_points: Vec<TrendPoint>,
}

/// Revenue in one bucket.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct RevenuePoint {
    pub date: String,
    #[schema(value_type = f64)]
    #[serde(with = "crm_common::api::money")]
    pub revenue: Decimal,
}

/// Seed 001's revenue statistics: the window's total and every bucket, in `currency_code`.
/// Revenue is what was paid — paid payment stages on the day they were paid, and completed orders
/// without payment stages on the day they completed — converted at each order's exchange rate;
/// amounts without a rate are listed in `unconverted`, not guessed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Revenue {
    pub period: String,
    #[schema(value_type = f64)]
    #[serde(with = "crm_common::api::money")]
    pub total_revenue: Decimal,
    pub currency_code: String,
    pub data_points: Vec<RevenuePoint>,
    #[schema(value_type = Object)]
    pub unconverted: std::collections::BTreeMap<String, crm_common::stats::Money>,
}
