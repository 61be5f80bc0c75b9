//! `payment_stages` and `payments`.

pub mod stage {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "payment_stages")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub organization_id: Uuid,
        pub order_id: Uuid,
        pub order_number: String,
        pub stage_number: i32,
        pub stage_name: String,
        pub stage_description: Option<String>,
        pub amount: Decimal,
        pub paid_amount: Decimal,
        pub currency_code: String,
        pub payment_trigger: String,
        pub trigger_date: Option<Date>,
        pub due_date: Option<Date>,
        pub actual_payment_date: Option<Date>,
        pub status: String,
        pub notes: Option<String>,
        pub created_by: Option<Uuid>,
        pub created_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod payment {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "payments")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub organization_id: Uuid,
        pub order_id: Uuid,
        pub payment_stage_id: Uuid,
        pub payment_type: String,
        pub amount: Decimal,
        pub currency_code: String,
        pub payment_method: Option<String>,
        pub payment_date: Date,
        pub transaction_id: Option<String>,
        pub payer_name: Option<String>,
        pub status: String,
        pub notes: Option<String>,
        pub created_by: Option<Uuid>,
        pub created_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
