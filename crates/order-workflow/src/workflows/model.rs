//! `workflow_definitions`, `workflow_instances` and `workflow_transitions`.

pub mod definition {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "workflow_definitions")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub organization_id: Uuid,
        pub code: String,
        pub name_zh: String,
        pub name_id: String,
        pub description_zh: Option<String>,
        pub description_id: Option<String>,
        pub workflow_type: String,
        pub business_type: String,
        pub definition_json: Json,
        pub version: i32,
        pub is_active: bool,
        /// Starts an instance for every new record of `business_type` (orders): the
        /// organization's switch for workflow-driven orders.
        pub auto_start: bool,
        pub created_by: Option<Uuid>,
        pub updated_by: Option<Uuid>,
        pub created_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod instance {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "workflow_instances")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub organization_id: Uuid,
        pub workflow_definition_id: Option<Uuid>,
        pub definition_code: String,
        /// The definition as it was when the instance started.
        pub definition_snapshot: Json,
        pub business_type: String,
        pub business_id: Uuid,
        pub current_stage: String,
        pub status: String,
        pub started_by: Option<Uuid>,
        pub started_at: DateTimeUtc,
        pub completed_at: Option<DateTimeUtc>,
        pub variables: Json,
        pub updated_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod transition {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "workflow_transitions")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub organization_id: Uuid,
        pub workflow_instance_id: Uuid,
        /// The task whose completion made this transition (unique); none for the start.
        pub task_id: Option<Uuid>,
        pub from_stage: Option<String>,
        pub to_stage: String,
        pub transition_condition: Option<String>,
        pub triggered_by: Option<Uuid>,
        pub triggered_at: DateTimeUtc,
        pub notes: Option<String>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
