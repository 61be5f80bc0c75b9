//! `orders`, `order_items` and `order_assignments`.

pub mod order {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "orders")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub organization_id: Uuid,
        pub order_number: String,
        pub title: String,
        pub customer_id: Uuid,
        pub customer_name: Option<String>,
        pub service_record_id: Option<Uuid>,
        pub opportunity_id: Option<Uuid>,
        pub sales_user_id: Uuid,
        pub total_amount: Decimal,
        pub discount_amount: Decimal,
        pub final_amount: Decimal,
        pub currency_code: String,
        pub exchange_rate: Option<Decimal>,
        pub status_code: String,
        pub expected_start_date: Option<Date>,
        pub expected_completion_date: Option<Date>,
        pub actual_start_date: Option<Date>,
        pub actual_completion_date: Option<Date>,
        pub customer_notes: Option<String>,
        pub internal_notes: Option<String>,
        pub requirements: Option<String>,
        pub description: Option<String>,
        pub notes: Option<String>,
        pub entry_city: Option<String>,
        pub passport_id: Option<String>,
        pub processor: Option<String>,
        pub created_by: Option<Uuid>,
        pub updated_by: Option<Uuid>,
        pub created_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
        pub version: i32,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod item {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "order_items")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub organization_id: Uuid,
        pub order_id: Uuid,
        pub item_number: i32,
        pub product_id: Option<Uuid>,
        pub product_name_zh: Option<String>,
        pub product_name_id: Option<String>,
        pub product_code: Option<String>,
        pub service_type_id: Option<Uuid>,
        pub service_type_name_zh: Option<String>,
        pub service_type_name_id: Option<String>,
        pub quantity: i32,
        pub unit: Option<String>,
        pub unit_price: Option<Decimal>,
        pub discount_amount: Decimal,
        pub item_amount: Option<Decimal>,
        pub currency_code: String,
        pub description_zh: Option<String>,
        pub description_id: Option<String>,
        pub requirements: Option<String>,
        pub expected_start_date: Option<Date>,
        pub expected_completion_date: Option<Date>,
        pub status: String,
        pub created_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
        pub version: i32,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod assignment {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "order_assignments")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub organization_id: Uuid,
        pub order_id: Uuid,
        pub assigned_to_user_id: Uuid,
        pub assigned_by_user_id: Option<Uuid>,
        pub assignment_type: String,
        pub is_primary: bool,
        pub notes: Option<String>,
        pub assigned_at: DateTimeUtc,
        pub unassigned_at: Option<DateTimeUtc>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
