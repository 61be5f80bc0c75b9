//! The `organization_domains` (business domains such as "legal") and
//! `organization_domain_relations` tables.

pub mod domain {
    use sea_orm::entity::prelude::*;

    /// A business domain of the catalogue.
    #[derive(Clone, Debug, PartialEq, DeriveEntityModel, serde::Serialize, utoipa::ToSchema)]
    #[sea_orm(table_name = "organization_domains")]
    #[schema(as = OrganizationDomain)]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub code: String,
        pub name_zh: String,
        pub name_id: String,
        pub description_zh: Option<String>,
        pub description_id: Option<String>,
        pub display_order: i32,
        pub is_active: bool,
        #[schema(value_type = chrono::DateTime<chrono::Utc>)]
        pub created_at: DateTimeUtc,
        #[schema(value_type = chrono::DateTime<chrono::Utc>)]
        pub updated_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod relation {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "organization_domain_relations")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub organization_id: Uuid,
        pub domain_id: Uuid,
        pub is_primary: bool,
        pub created_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
