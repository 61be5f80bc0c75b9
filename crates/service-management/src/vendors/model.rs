//! The `vendor_products` table: which organization (a vendor, or BANTU itself) offers a product,
//! at what cost and on what terms. The organization lives in foundation: no foreign key.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "vendor_products")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub organization_id: Uuid,
    pub product_id: Uuid,
    pub is_primary: bool,
    pub priority: i32,
    pub cost_price_idr: Option<Decimal>,
    pub cost_price_cny: Option<Decimal>,
    pub exchange_rate: Decimal,
    pub min_quantity: i32,
    pub max_quantity: Option<i32>,
    pub lead_time_days: Option<i32>,
    pub processing_days: Option<i32>,
    pub is_available: bool,
    pub availability_notes: Option<String>,
    pub available_from: Option<DateTimeUtc>,
    pub available_to: Option<DateTimeUtc>,
    pub account_code: Option<String>,
    pub cost_center: Option<String>,
    pub expense_category: Option<String>,
    pub notes: Option<String>,
    pub created_by: Option<Uuid>,
    pub updated_by: Option<Uuid>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub version: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
