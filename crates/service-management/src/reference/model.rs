//! Reference data of the customer side. Levels, follow-up statuses and industries share one
//! bilingual shape; sources and channels have a name (and optional translations).

macro_rules! bilingual {
    ($module:ident, $table:literal) => {
        pub mod $module {
            use sea_orm::entity::prelude::*;

            #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
            #[sea_orm(table_name = $table)]
            pub struct Model {
                #[sea_orm(primary_key, auto_increment = false)]
                pub id: Uuid,
                pub code: String,
                pub name_zh: String,
                pub name_id: String,
                pub sort_order: i32,
                pub is_active: bool,
                pub description_zh: Option<String>,
                pub description_id: Option<String>,
            }

            #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
            pub enum Relation {}

            impl ActiveModelBehavior for ActiveModel {}
        }
    };
}

macro_rules! named {
    ($module:ident, $table:literal) => {
        pub mod $module {
            use sea_orm::entity::prelude::*;

            #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
            #[sea_orm(table_name = $table)]
            pub struct Model {
                #[sea_orm(primary_key, auto_increment = false)]
                pub id: Uuid,
                pub code: String,
                pub name: String,
                pub name_zh: Option<String>,
                pub name_id: Option<String>,
                pub description: Option<String>,
                pub display_order: i32,
                pub is_active: bool,
            }

            #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
            pub enum Relation {}

            impl ActiveModelBehavior for ActiveModel {}
        }
    };
}

bilingual!(level, "customer_levels");
bilingual!(follow_up_status, "follow_up_statuses");
bilingual!(industry, "industries");
named!(source, "customer_sources");
named!(channel, "customer_channels");
