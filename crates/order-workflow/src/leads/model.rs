//! `leads`, `lead_follow_ups` and `lead_notes`.

pub mod lead {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "leads")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub organization_id: Uuid,
        pub name: String,
        pub company_name: Option<String>,
        pub contact_name: Option<String>,
        pub phone: Option<String>,
        pub email: Option<String>,
        pub address: Option<String>,
        pub customer_id: Option<Uuid>,
        pub owner_user_id: Option<Uuid>,
        pub status: String,
        pub level: Option<String>,
        pub source: Option<String>,
        pub is_in_public_pool: bool,
        pub pool_id: Option<Uuid>,
        pub moved_to_pool_at: Option<DateTimeUtc>,
        pub last_follow_up_at: Option<DateTimeUtc>,
        pub next_follow_up_at: Option<DateTimeUtc>,
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

pub mod follow_up {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "lead_follow_ups")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub organization_id: Uuid,
        pub lead_id: Uuid,
        pub follow_up_type: String,
        pub content: Option<String>,
        pub follow_up_date: DateTimeUtc,
        pub status_before: Option<String>,
        pub status_after: Option<String>,
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
    #[sea_orm(table_name = "lead_notes")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub organization_id: Uuid,
        pub lead_id: Uuid,
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
