//! The `audit_logs` table. Rows are written by the capture middleware of every service (through
//! the outbox and ingest) and never updated or deleted by the API.

use sea_orm::entity::prelude::*;

/// One audited request.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel, serde::Serialize, utoipa::ToSchema)]
#[sea_orm(table_name = "audit_logs")]
#[schema(as = AuditLog)]
pub struct Model {
    /// The event id chosen at capture; redelivery of the same event is a no-op.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub organization_id: Option<Uuid>,
    pub user_id: Option<Uuid>,
    pub user_name: Option<String>,
    pub action: String,
    pub resource_type: Option<String>,
    pub resource_id: Option<String>,
    pub resource_name: Option<String>,
    pub category: String,
    pub ip_address: Option<String>,
    pub user_agent: Option<String>,
    pub request_method: String,
    pub request_path: String,
    /// Query and body with secrets replaced by `[REDACTED]`.
    #[schema(value_type = Option<Object>)]
    pub request_params: Option<Json>,
    #[schema(value_type = Option<Object>)]
    pub old_values: Option<Json>,
    #[schema(value_type = Option<Object>)]
    pub new_values: Option<Json>,
    pub status: String,
    pub status_code: i32,
    pub error_message: Option<String>,
    pub duration_ms: Option<i64>,
    pub request_id: Option<String>,
    pub service: String,
    #[schema(value_type = chrono::DateTime<chrono::Utc>)]
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
