//! The `organizations` and `organization_employees` tables.

pub mod organization {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "organizations")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub name: String,
        pub code: Option<String>,
        pub organization_type: String,
        pub email: Option<String>,
        pub phone: Option<String>,
        pub website: Option<String>,
        pub logo_url: Option<String>,
        pub description: Option<String>,
        pub street: Option<String>,
        pub city: Option<String>,
        pub state_province: Option<String>,
        pub postal_code: Option<String>,
        pub country_region: Option<String>,
        pub country: Option<String>,
        pub country_code: Option<String>,
        pub company_size: Option<String>,
        pub company_nature: Option<String>,
        pub company_type: Option<String>,
        pub company_status: Option<String>,
        pub industry: Option<String>,
        pub registration_number: Option<String>,
        pub tax_id: Option<String>,
        pub legal_representative: Option<String>,
        pub established_date: Option<Date>,
        pub employee_count: Option<i32>,
        pub certifications: Option<Json>,
        pub is_active: bool,
        pub is_locked: bool,
        pub is_verified: bool,
        pub verified_at: Option<DateTimeUtc>,
        pub created_by: Option<Uuid>,
        pub created_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
        pub version: i32,
        /// The id an imported organization had in the system it came from.
        pub external_id: Option<String>,
        /// The original's organization hierarchy, deprecated there: kept and shown, never used.
        pub parent_id: Option<Uuid>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod employee {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "organization_employees")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub user_id: Uuid,
        pub organization_id: Uuid,
        pub first_name: Option<String>,
        pub last_name: Option<String>,
        pub email: Option<String>,
        pub phone: Option<String>,
        /// Free-text job title, kept from the original.
        pub position: Option<String>,
        /// The position in the organization's hierarchy (`/positions`).
        pub position_id: Option<Uuid>,
        pub department: Option<String>,
        pub employee_number: Option<String>,
        pub is_primary: bool,
        pub is_manager: bool,
        pub is_decision_maker: bool,
        pub is_active: bool,
        pub joined_at: Option<Date>,
        pub left_at: Option<Date>,
        pub notes: Option<String>,
        pub created_by: Option<Uuid>,
        pub created_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
