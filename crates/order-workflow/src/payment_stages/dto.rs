//! Request and response shapes of payment stages and payments. Amounts are JSON numbers with
//! their exact digits (`crm_common::api::money`).

use super::model::{payment, stage};
use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct CreatePaymentStage {
    /// > 0, unique in the order (409 if taken); default after the last.
    pub stage_number: Option<i32>,
    /// e.g. deposit, interim, final; 1–100 characters.
    pub stage_name: String,
    pub stage_description: Option<String>,
    /// ≥ 0.
    #[serde(with = "crm_common::api::money")]
    #[schema(value_type = f64)]
    pub amount: Decimal,
    /// Default: the order's currency.
    pub currency_code: Option<String>,
    /// `manual` (default), `milestone`, `date` or `completion`.
    pub payment_trigger: Option<String>,
    /// For the `date` trigger: when collection starts.
    pub trigger_date: Option<NaiveDate>,
    pub due_date: Option<NaiveDate>,
    pub notes: Option<String>,
}

/// Absent fields are kept. `status` may only be set to `cancelled` by hand; the others follow
/// the payments. The amount cannot go below what was paid, nor change once paid.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct UpdatePaymentStage {
    pub stage_number: Option<i32>,
    pub stage_name: Option<String>,
    pub stage_description: Option<String>,
    #[serde(default, with = "crm_common::api::money::opt")]
    #[schema(value_type = Option<f64>)]
    pub amount: Option<Decimal>,
    pub currency_code: Option<String>,
    pub payment_trigger: Option<String>,
    pub trigger_date: Option<NaiveDate>,
    pub due_date: Option<NaiveDate>,
    pub status: Option<String>,
    pub notes: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PaymentStageView {
    pub id: Uuid,
    pub order_id: Uuid,
    pub order_number: String,
    pub stage_number: i32,
    pub stage_name: String,
    pub stage_description: Option<String>,
    #[serde(with = "crm_common::api::money")]
    #[schema(value_type = f64)]
    pub amount: Decimal,
    #[serde(with = "crm_common::api::money")]
    #[schema(value_type = f64)]
    pub paid_amount: Decimal,
    /// `amount − paid_amount`.
    #[serde(with = "crm_common::api::money")]
    #[schema(value_type = f64)]
    pub remaining_amount: Decimal,
    pub currency_code: String,
    pub payment_trigger: String,
    pub trigger_date: Option<NaiveDate>,
    pub due_date: Option<NaiveDate>,
    /// The day the stage became fully paid.
    pub actual_payment_date: Option<NaiveDate>,
    /// `pending`, `partial`, `paid`, `overdue` or `cancelled`.
    pub status: String,
    pub notes: Option<String>,
    pub created_by: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<stage::Model> for PaymentStageView {
    fn from(s: stage::Model) -> Self {
        Self {
            remaining_amount: s.amount - s.paid_amount,
            id: s.id,
            order_id: s.order_id,
            order_number: s.order_number,
            stage_number: s.stage_number,
            stage_name: s.stage_name,
            stage_description: s.stage_description,
            amount: s.amount,
            paid_amount: s.paid_amount,
            currency_code: s.currency_code,
            payment_trigger: s.payment_trigger,
            trigger_date: s.trigger_date,
            due_date: s.due_date,
            actual_payment_date: s.actual_payment_date,
            status: s.status,
            notes: s.notes,
            created_by: s.created_by,
            created_at: s.created_at,
            updated_at: s.updated_at,
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct RecordPayment {
    /// > 0 and at most what remains of the stage (400 otherwise).
    #[serde(with = "crm_common::api::money")]
    #[schema(value_type = f64)]
    pub amount: Decimal,
    /// e.g. deposit, balance, transfer; default `payment`.
    pub payment_type: Option<String>,
    /// e.g. bank_transfer, cash, alipay.
    pub payment_method: Option<String>,
    /// Default today.
    pub payment_date: Option<NaiveDate>,
    pub transaction_id: Option<String>,
    pub payer_name: Option<String>,
    pub notes: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PaymentView {
    pub id: Uuid,
    pub order_id: Uuid,
    pub payment_stage_id: Uuid,
    pub payment_type: String,
    #[serde(with = "crm_common::api::money")]
    #[schema(value_type = f64)]
    pub amount: Decimal,
    pub currency_code: String,
    pub payment_method: Option<String>,
    pub payment_date: NaiveDate,
    pub transaction_id: Option<String>,
    pub payer_name: Option<String>,
    pub status: String,
    pub notes: Option<String>,
    pub created_by: Option<Uuid>,
    pub created_at: DateTime<Utc>,
}

impl From<payment::Model> for PaymentView {
    fn from(p: payment::Model) -> Self {
        Self {
            id: p.id,
            order_id: p.order_id,
            payment_stage_id: p.payment_stage_id,
            payment_type: p.payment_type,
            amount: p.amount,
            currency_code: p.currency_code,
            payment_method: p.payment_method,
            payment_date: p.payment_date,
            transaction_id: p.transaction_id,
            payer_name: p.payer_name,
            status: p.status,
            notes: p.notes,
            created_by: p.created_by,
            created_at: p.created_at,
        }
    }
}

/// A payment as recorded, with its stage as it now stands.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RecordedPayment {
    pub payment: PaymentView,
    pub payment_stage: PaymentStageView,
}
