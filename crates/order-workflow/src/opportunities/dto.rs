//! Request and response shapes of the opportunities API: the original's fields and names, the
//! admin frontend's leniencies (`customer_id` may be null, `probability` a float, dates as
//! `YYYY-MM-DD`), amounts as JSON numbers with their exact digits.

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

/// Days as the admin frontend's date inputs send them (`2026-12-31`); a full ISO-8601 timestamp
/// counts as its own calendar day, and `""` as no date.
pub mod day {
    use chrono::{DateTime, NaiveDate};
    use serde::de::Error as _;
    use serde::{Deserialize, Deserializer};

    pub fn parse(text: &str) -> Result<Option<NaiveDate>, String> {
        let text = text.trim();
        if text.is_empty() {
            return Ok(None);
        }
        if let Ok(d) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
            return Ok(Some(d));
        }
        DateTime::parse_from_rfc3339(text)
            .map(|t| Some(t.date_naive()))
            .map_err(|_| format!("{text:?} is not a date (YYYY-MM-DD)"))
    }

    /// `Option<NaiveDate>`: absent, `null` or `""` is `None`.
    pub fn opt<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<NaiveDate>, D::Error> {
        match Option::<String>::deserialize(deserializer)? {
            None => Ok(None),
            Some(s) => parse(&s).map_err(D::Error::custom),
        }
    }

    /// A required day.
    pub fn required<'de, D: Deserializer<'de>>(deserializer: D) -> Result<NaiveDate, D::Error> {
        let s = String::deserialize(deserializer)?;
        parse(&s).map_err(D::Error::custom)?.ok_or_else(|| D::Error::custom("a date is required"))
    }

    /// `Option<Option<NaiveDate>>` for partial updates: absent keeps, `null` or `""` clears.
    pub fn patch<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Option<NaiveDate>>, D::Error> {
        opt(deserializer).map(Some)
    }
}

/// A product chosen for an opportunity.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct OpportunityProductLine {
    pub product_id: Uuid,
    /// 1 or more; default 1.
    pub quantity: Option<i32>,
    /// Default 0; at most two decimals.
    #[serde(default, with = "crm_common::api::money::opt")]
    #[schema(value_type = Option<f64>)]
    pub unit_price: Option<Decimal>,
    /// 1 or more. When absent and `auto_calculate_order` holds, taken from the dependency order.
    pub execution_order: Option<i32>,
    /// `pending` (default), `in_progress`, `completed` or `cancelled`.
    pub status: Option<String>,
    #[serde(default, deserialize_with = "day::opt")]
    pub start_date: Option<NaiveDate>,
    #[serde(default, deserialize_with = "day::opt")]
    pub expected_completion_date: Option<NaiveDate>,
    pub notes: Option<String>,
}

/// A payment agreed for an opportunity.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct PaymentStageLine {
    /// 1 or more, unique within the opportunity.
    pub stage_number: i32,
    /// 1–255 characters.
    pub stage_name: String,
    /// 0 or more; default 0.
    #[serde(default, with = "crm_common::api::money::opt")]
    #[schema(value_type = Option<f64>)]
    pub amount: Option<Decimal>,
    #[serde(default, deserialize_with = "day::opt")]
    pub due_date: Option<NaiveDate>,
    /// `manual` (default), `milestone`, `date` or `completion`.
    pub payment_trigger: Option<String>,
    /// `pending` (default), `paid`, `overdue` or `cancelled`.
    pub status: Option<String>,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct CreateOpportunity {
    /// 1–255 characters.
    pub name: String,
    /// A customer of service-management the caller may see; null until known.
    pub customer_id: Option<Uuid>,
    /// A lead of the caller's organization; a lead yields at most one opportunity.
    pub lead_id: Option<Uuid>,
    #[serde(default, with = "crm_common::api::money::opt")]
    #[schema(value_type = Option<f64>)]
    pub amount: Option<Decimal>,
    /// 0–100 (a fraction is rounded to a whole percentage).
    pub probability: Option<f64>,
    /// Default `initial_contact`; a closed stage sets the matching status.
    pub stage: Option<String>,
    /// Default `active`; `won`/`lost` set the matching closed stage.
    pub status: Option<String>,
    /// Defaults to the caller; only administrators may name someone else.
    pub owner_user_id: Option<Uuid>,
    #[serde(default, deserialize_with = "day::opt")]
    pub expected_close_date: Option<NaiveDate>,
    pub description: Option<String>,
    #[serde(default)]
    pub products: Vec<OpportunityProductLine>,
    #[serde(default)]
    pub payment_stages: Vec<PaymentStageLine>,
    /// Fill missing `execution_order`s from the products' dependency order (default true).
    #[serde(default = "yes")]
    pub auto_calculate_order: bool,
}

/// Absent fields are kept; `null` clears a clearable one (the admin frontend's edit dialog sends
/// the full body with cleared fields null; its batch actions only `owner_user_id` or only
/// `expected_close_date`). `version` (or `If-Match`) makes the update conditional: a stale one
/// answers 409 with the opportunity as it now is.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct UpdateOpportunity {
    pub name: Option<String>,
    #[serde(default, deserialize_with = "crm_common::api::patch::nullable")]
    #[schema(value_type = Option<Uuid>)]
    pub customer_id: Option<Option<Uuid>>,
    #[serde(default, with = "crm_common::api::money::patch")]
    #[schema(value_type = Option<f64>)]
    pub amount: Option<Option<Decimal>>,
    #[serde(default, deserialize_with = "crm_common::api::patch::nullable")]
    #[schema(value_type = Option<f64>)]
    pub probability: Option<Option<f64>>,
    pub stage: Option<String>,
    pub status: Option<String>,
    /// A change follows the rules of `POST /opportunities/{id}/assign`; null is ignored.
    #[serde(default, deserialize_with = "crm_common::api::patch::nullable")]
    #[schema(value_type = Option<Uuid>)]
    pub owner_user_id: Option<Option<Uuid>>,
    #[serde(default, deserialize_with = "day::patch")]
    #[schema(value_type = Option<NaiveDate>)]
    pub expected_close_date: Option<Option<NaiveDate>>,
    #[serde(default, deserialize_with = "day::patch")]
    #[schema(value_type = Option<NaiveDate>)]
    pub actual_close_date: Option<Option<NaiveDate>>,
    #[serde(default, deserialize_with = "crm_common::api::patch::nullable")]
    #[schema(value_type = Option<String>)]
    pub description: Option<Option<String>>,
    /// Replaces the products (dependencies checked as on create).
    pub products: Option<Vec<OpportunityProductLine>>,
    /// Replaces the payment stages.
    pub payment_stages: Option<Vec<PaymentStageLine>>,
    pub auto_calculate_order: Option<bool>,
    pub version: Option<i32>,
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListOpportunities {
    pub page: Option<u64>,
    /// 1–100, default 20.
    pub size: Option<u64>,
    pub page_size: Option<u64>,
    pub owner_user_id: Option<Uuid>,
    pub customer_id: Option<Uuid>,
    pub stage: Option<String>,
    pub status: Option<String>,
    /// Substring of the name, case-insensitive.
    pub name: Option<String>,
    /// Amount at least this.
    #[param(value_type = Option<f64>)]
    pub min_amount: Option<String>,
    /// Amount at most this.
    #[param(value_type = Option<f64>)]
    pub max_amount: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OpportunityProductItem {
    pub id: Uuid,
    pub product_id: Uuid,
    /// As the catalogue named it when the product was chosen.
    pub product_name: String,
    pub product_code: Option<String>,
    pub quantity: i32,
    #[serde(with = "crm_common::api::money")]
    #[schema(value_type = f64)]
    pub unit_price: Decimal,
    /// `unit_price × quantity`.
    #[serde(with = "crm_common::api::money")]
    #[schema(value_type = f64)]
    pub total_amount: Decimal,
    pub execution_order: i32,
    pub status: String,
    pub start_date: Option<NaiveDate>,
    pub expected_completion_date: Option<NaiveDate>,
    pub actual_completion_date: Option<NaiveDate>,
    pub notes: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OpportunityPaymentStageItem {
    pub id: Uuid,
    pub stage_number: i32,
    pub stage_name: String,
    #[serde(with = "crm_common::api::money")]
    #[schema(value_type = f64)]
    pub amount: Decimal,
    pub due_date: Option<NaiveDate>,
    pub payment_trigger: String,
    pub status: String,
}

/// An opportunity as lists and details show it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OpportunityItem {
    pub id: Uuid,
    pub organization_id: Uuid,
    pub name: String,
    pub customer_id: Option<Uuid>,
    /// Absent when service-management does not answer or the caller may not see the customer.
    pub customer_name: Option<String>,
    pub lead_id: Option<Uuid>,
    pub lead_name: Option<String>,
    #[serde(with = "crm_common::api::money::opt")]
    #[schema(value_type = Option<f64>)]
    pub amount: Option<Decimal>,
    /// 0–100.
    pub probability: Option<i32>,
    /// `initial_contact`, `needs_analysis`, `proposal`, `negotiation`, `closed_won` or `closed_lost`.
    pub stage: String,
    /// `active`, `won`, `lost` or `cancelled`, kept consistent with `stage`.
    pub status: String,
    pub owner_user_id: Option<Uuid>,
    pub owner_username: Option<String>,
    pub expected_close_date: Option<NaiveDate>,
    /// Set when the deal is won or lost.
    pub actual_close_date: Option<NaiveDate>,
    pub description: Option<String>,
    pub created_by: Option<Uuid>,
    pub updated_by: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i32,
    /// In execution order (one opportunity's answers; not in lists).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub products: Option<Vec<OpportunityProductItem>>,
    /// By number (one opportunity's answers; not in lists).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payment_stages: Option<Vec<OpportunityPaymentStageItem>>,
    /// `recommended` dependencies the products leave out (answers to writes that set products).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub warnings: Option<Vec<String>>,
}

/// The admin frontend's board may also send `position`; it is ignored.
#[derive(Debug, Deserialize, ToSchema)]
pub struct OpportunityStageChange {
    pub stage: String,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct OpportunityStatusChange {
    pub status: String,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct AssignOpportunity {
    pub owner_user_id: Uuid,
}

/// A dependency the chosen products leave unsatisfied.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DependencyGap {
    pub product_id: Uuid,
    pub product_name: Option<String>,
    pub depends_on_product_id: Uuid,
    pub depends_on_product_name: Option<String>,
    /// "product A requires product B" (or "recommends").
    pub message: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DependencyCheck {
    /// No `required` dependency is missing.
    pub is_valid: bool,
    pub missing_dependencies: Vec<DependencyGap>,
    /// Missing `recommended` dependencies.
    pub warnings: Vec<DependencyGap>,
    /// The product ids in the order to carry them out.
    pub suggested_order: Vec<Uuid>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OpportunityOrderStep {
    pub product_id: Uuid,
    /// From 1: a product comes after everything it requires.
    pub execution_order: u32,
    /// The chosen products it requires.
    pub dependencies: Vec<Uuid>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateOpportunityFollowUp {
    /// `call`, `meeting`, `email` or `note`.
    pub follow_up_type: String,
    pub content: Option<String>,
    /// A day (`YYYY-MM-DD`); a timestamp counts as its day.
    #[serde(deserialize_with = "day::required")]
    #[schema(value_type = NaiveDate)]
    pub follow_up_date: NaiveDate,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OpportunityFollowUpItem {
    pub id: Uuid,
    pub opportunity_id: Uuid,
    pub follow_up_type: String,
    pub content: Option<String>,
    pub follow_up_date: NaiveDate,
    pub created_by: Option<Uuid>,
    pub created_by_name: Option<String>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateOpportunityNote {
    /// `comment`, `reminder` or `task`.
    pub note_type: String,
    pub content: String,
    #[serde(default)]
    pub is_important: bool,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OpportunityNoteItem {
    pub id: Uuid,
    pub opportunity_id: Uuid,
    pub note_type: String,
    pub content: String,
    pub is_important: bool,
    pub created_by: Option<Uuid>,
    pub created_by_name: Option<String>,
    pub created_at: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_are_read_leniently() {
        let d = NaiveDate::from_ymd_opt(2026, 12, 31);
        assert_eq!(day::parse("2026-12-31"), Ok(d));
        assert_eq!(day::parse("2026-12-31T23:00:00+07:00"), Ok(d), "the day as written");
        assert_eq!(day::parse(" "), Ok(None));
        assert!(day::parse("31/12/2026").is_err());
        let body: UpdateOpportunity =
            serde_json::from_str(r#"{"expected_close_date": null, "amount": 12.5}"#).unwrap_or_default();
        assert_eq!(body.expected_close_date, Some(None));
        assert_eq!(body.amount, Some(Some(Decimal::new(125, 1))));
        assert_eq!(body.actual_close_date, None);
        let body: UpdateOpportunity = serde_json::from_str(r#"{"description": null}"#).unwrap_or_default();
        assert_eq!(body.description, Some(None));
    }
}
