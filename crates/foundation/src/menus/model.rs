//! The `menus` and `menu_permissions` tables.

pub mod menu {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "menus")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub code: String,
        pub name_zh: String,
        pub name_id: String,
        pub description_zh: Option<String>,
        pub description_id: Option<String>,
        pub parent_id: Option<Uuid>,
        pub path: Option<String>,
        pub component: Option<String>,
        pub icon: Option<String>,
        pub display_order: i32,
        pub is_active: bool,
        pub is_visible: bool,
        pub created_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod menu_permission {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "menu_permissions")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub menu_id: Uuid,
        #[sea_orm(primary_key, auto_increment = false)]
        pub permission_id: Uuid,
        pub created_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
