//! The `products` table: a sellable service, with delivery terms, four price levels in IDR and
//! CNY, the profit figures derived from them, and its sales state.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "products")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub name: String,
    pub code: Option<String>,
    pub enterprise_service_code: Option<String>,
    pub category_id: Option<Uuid>,
    pub service_type_id: Option<Uuid>,
    pub service_type: Option<String>,
    pub service_subtype: Option<String>,
    pub description: Option<String>,
    pub validity_period: Option<i32>,
    pub processing_days: Option<i32>,
    pub processing_time_text: Option<String>,
    pub is_urgent_available: bool,
    pub urgent_processing_days: Option<i32>,
    pub urgent_price_surcharge: Option<Decimal>,
    pub required_documents: Option<String>,
    pub sla_description: Option<String>,
    pub service_level: Option<String>,
    pub price_cost_idr: Option<Decimal>,
    pub price_cost_cny: Option<Decimal>,
    pub price_channel_idr: Option<Decimal>,
    pub price_channel_cny: Option<Decimal>,
    pub price_direct_idr: Option<Decimal>,
    pub price_direct_cny: Option<Decimal>,
    pub price_list_idr: Option<Decimal>,
    pub price_list_cny: Option<Decimal>,
    pub default_currency: String,
    pub exchange_rate: Decimal,
    pub channel_profit: Option<Decimal>,
    pub channel_profit_rate: Option<Decimal>,
    pub channel_customer_profit: Option<Decimal>,
    pub channel_customer_profit_rate: Option<Decimal>,
    pub direct_profit: Option<Decimal>,
    pub direct_profit_rate: Option<Decimal>,
    pub commission_rate: Option<Decimal>,
    pub commission_amount: Option<Decimal>,
    pub equivalent_cny: Option<Decimal>,
    pub monthly_orders: Option<i32>,
    pub total_amount: Option<Decimal>,
    pub status: String,
    pub suspended_reason: Option<String>,
    pub discontinued_at: Option<DateTimeUtc>,
    pub is_active: bool,
    pub is_locked: bool,
    pub tags: Option<Json>,
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
