//! `customers` and what hangs off them: `customer_follow_ups`, `customer_notes`, and the
//! per-organization, per-day counters that number generated customer codes.

pub mod customer {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "customers")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub organization_id: Uuid,
        pub name: String,
        pub code: String,
        pub customer_type: String,
        pub customer_source_type: String,
        pub parent_customer_id: Option<Uuid>,
        pub owner_user_id: Option<Uuid>,
        pub agent_user_id: Option<Uuid>,
        pub agent_id: Option<Uuid>,
        pub source_id: Option<Uuid>,
        pub channel_id: Option<Uuid>,
        pub level: Option<String>,
        pub industry_id: Option<Uuid>,
        pub description: Option<String>,
        pub tags: Option<Json>,
        pub is_locked: bool,
        pub customer_requirements: Option<String>,
        pub id_external: Option<String>,
        pub phone: Option<String>,
        pub mobile: Option<String>,
        pub email: Option<String>,
        pub wechat_id: Option<String>,
        pub id_number: Option<String>,
        pub last_follow_up_at: Option<DateTimeUtc>,
        pub next_follow_up_at: Option<DateTimeUtc>,
        pub created_by: Option<Uuid>,
        pub updated_by: Option<Uuid>,
        pub created_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
        pub version: i32,
        pub sync_seq: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod follow_up {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "customer_follow_ups")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub organization_id: Uuid,
        pub customer_id: Uuid,
        pub follow_up_type: String,
        pub content: Option<String>,
        pub follow_up_date: DateTimeUtc,
        pub status_before: Option<String>,
        pub status_after: Option<String>,
        pub next_follow_up_at: Option<DateTimeUtc>,
        pub created_by: Option<Uuid>,
        pub created_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
        pub version: i32,
        pub sync_seq: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod note {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "customer_notes")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub organization_id: Uuid,
        pub customer_id: Uuid,
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

pub mod code_counter {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "customer_code_counters")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub organization_id: Uuid,
        #[sea_orm(primary_key, auto_increment = false)]
        pub day: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub prefix: String,
        pub seq: i32,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
