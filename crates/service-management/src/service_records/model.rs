//! The `service_records` table: a customer's service need, with the names of what it refers to
//! copied at write time. `priority_rank` (urgent 0 … low 3) lets the list sort in SQL.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "service_records")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
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
    pub priority_rank: i32,
    pub expected_start_date: Option<Date>,
    pub expected_completion_date: Option<Date>,
    pub actual_start_date: Option<Date>,
    pub actual_completion_date: Option<Date>,
    pub deadline: Option<Date>,
    pub estimated_price: Option<Decimal>,
    pub final_price: Option<Decimal>,
    pub currency_code: String,
    pub price_notes: Option<String>,
    pub quantity: Decimal,
    pub unit: Option<String>,
    pub requirements: Option<String>,
    pub customer_requirements: Option<String>,
    pub internal_notes: Option<String>,
    pub customer_notes: Option<String>,
    pub required_documents: Option<String>,
    pub attachments: Option<Json>,
    pub last_follow_up_at: Option<DateTimeUtc>,
    pub next_follow_up_at: Option<DateTimeUtc>,
    pub follow_up_notes: Option<String>,
    pub tags: Option<Json>,
    pub created_by: Option<Uuid>,
    pub updated_by: Option<Uuid>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub version: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
