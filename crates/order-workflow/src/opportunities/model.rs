//! `opportunities`, `opportunity_products`, `opportunity_payment_stages`,
//! `opportunity_follow_ups` and `opportunity_notes`.

pub mod opportunity {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "opportunities")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub organization_id: Uuid,
        pub customer_id: Option<Uuid>,
        pub lead_id: Option<Uuid>,
        pub name: String,
        pub amount: Option<Decimal>,
        pub probability: Option<i32>,
        pub stage: String,
        pub status: String,
        pub owner_user_id: Option<Uuid>,
        pub expected_close_date: Option<Date>,
        pub actual_close_date: Option<Date>,
        pub description: Option<String>,
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

pub mod product {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "opportunity_products")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub organization_id: Uuid,
        pub opportunity_id: Uuid,
        pub product_id: Uuid,
        /// Copied from service-management when the product was chosen.
        pub product_name: String,
        pub product_code: Option<String>,
        pub quantity: i32,
        pub unit_price: Decimal,
        pub total_amount: Decimal,
        pub execution_order: i32,
        pub status: String,
        pub start_date: Option<Date>,
        pub expected_completion_date: Option<Date>,
        pub actual_completion_date: Option<Date>,
        pub notes: Option<String>,
        pub created_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod payment_stage {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "opportunity_payment_stages")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub organization_id: Uuid,
        pub opportunity_id: Uuid,
        pub stage_number: i32,
        pub stage_name: String,
        pub amount: Decimal,
        pub due_date: Option<Date>,
        pub payment_trigger: String,
        pub status: String,
        pub created_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod follow_up {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "opportunity_follow_ups")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub organization_id: Uuid,
        pub opportunity_id: Uuid,
        pub follow_up_type: String,
        pub content: Option<String>,
        pub follow_up_date: Date,
        pub created_by: Option<Uuid>,
        pub created_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod note {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "opportunity_notes")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub organization_id: Uuid,
        pub opportunity_id: Uuid,
        pub note_type: String,
        pub content: String,
        pub is_important: bool,
        pub created_by: Option<Uuid>,
        pub created_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
