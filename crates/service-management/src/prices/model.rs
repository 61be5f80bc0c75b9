//! `product_prices` (time-bounded prices, generic when `organization_id` is null, else one
//! vendor's) and `product_price_history` (every change, written in the same transaction).

pub mod price {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "product_prices")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub product_id: Uuid,
        pub organization_id: Option<Uuid>,
        pub price_type: String,
        pub currency: String,
        pub amount: Decimal,
        pub exchange_rate: Option<Decimal>,
        pub effective_from: DateTimeUtc,
        pub effective_to: Option<DateTimeUtc>,
        pub source: String,
        pub is_approved: bool,
        pub approved_by: Option<Uuid>,
        pub approved_at: Option<DateTimeUtc>,
        pub change_reason: Option<String>,
        pub changed_by: Option<Uuid>,
        pub created_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
        pub version: i32,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod history {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "product_price_history")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub product_id: Uuid,
        pub organization_id: Option<Uuid>,
        pub price_type: String,
        pub currency: String,
        pub old_price: Option<Decimal>,
        pub new_price: Option<Decimal>,
        pub change_reason: Option<String>,
        pub effective_from: DateTimeUtc,
        pub effective_to: Option<DateTimeUtc>,
        pub changed_by: Option<Uuid>,
        pub created_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
