//! The `users` and `user_roles` tables.

pub mod user {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "users")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub username: String,
        /// Stored lower-cased; unique; the login identifier.
        pub email: String,
        pub phone: Option<String>,
        pub contact_phone: Option<String>,
        pub whatsapp: Option<String>,
        pub wechat: Option<String>,
        pub display_name: Option<String>,
        pub avatar_url: Option<String>,
        pub bio: Option<String>,
        pub address: Option<String>,
        pub gender: Option<String>,
        pub password_hash: String,
        pub is_active: bool,
        pub is_locked: bool,
        pub last_login_at: Option<DateTimeUtc>,
        pub deleted_at: Option<DateTimeUtc>,
        pub created_by: Option<Uuid>,
        pub created_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
        pub version: i32,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}

    impl Model {
        /// Whether the account may authenticate at all (organization checks come separately).
        pub fn can_log_in(&self) -> bool {
            self.is_active && !self.is_locked && self.deleted_at.is_none()
        }
    }
}

pub mod user_role {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "user_roles")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub user_id: Uuid,
        #[sea_orm(primary_key, auto_increment = false)]
        pub role_id: Uuid,
        pub created_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
