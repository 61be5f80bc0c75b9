//! Types that cross service boundaries. Every service produces [`AuditEvent`]s; foundation stores
//! them. The JSON shape is the wire contract of `POST /api/foundation/audit-logs/ingest`.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Header carrying the shared secret (`CRM_AUDIT_INGEST_TOKEN`) on audit ingest calls.
pub const AUDIT_TOKEN_HEADER: &str = "x-audit-token";

/// One audited request. `id` is a UUID v7 chosen at capture: redelivering the same event is a
/// no-op at foundation, so delivery can be at-least-once.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuditEvent {
    pub id: Uuid,
    /// When the request arrived.
    pub occurred_at: DateTime<Utc>,
    /// The service that served the request (`foundation`, `order-workflow`, …).
    pub service: String,
    pub organization_id: Option<Uuid>,
    pub user_id: Option<Uuid>,
    pub user_name: Option<String>,
    /// `CREATE`, `UPDATE`, `DELETE`, `VIEW`, `LOGIN`, `LOGOUT`, `EXPORT`, …
    pub action: String,
    /// `user_management`, `authentication`, … (from the path).
    pub category: String,
    pub resource_type: Option<String>,
    pub resource_id: Option<String>,
    pub method: String,
    pub path: String,
    /// `success` (HTTP status below 400) or `failed`.
    pub status: String,
    pub status_code: u16,
    /// The envelope's message when the request failed.
    pub error_message: Option<String>,
    pub ip_address: Option<String>,
    pub user_agent: Option<String>,
    pub duration_ms: u64,
    pub request_id: Option<String>,
    /// Query and body with secrets replaced by `[REDACTED]`, bounded in size.
    pub request_params: Option<serde_json::Value>,
    /// The resource before the change, as its handler reported it ([`AuditBefore`]); secrets
    /// redacted. Absent from events of services that do not report it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub old_values: Option<serde_json::Value>,
    /// The resource as the successful response returned it (`data`); secrets redacted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub new_values: Option<serde_json::Value>,
}

/// The body of an ingest call.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuditBatch {
    pub events: Vec<AuditEvent>,
}

/// The resource as it was before a change, put into the response's extensions by the handler
/// that changed it (the capture cannot know it): it becomes the audit event's `old_values`.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditBefore(pub serde_json::Value);

/// Who acted, as far as the request tells: filled from the authenticated principal, or set by a
/// handler as a response extension when the caller had no token yet (login).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AuditActor {
    pub user_id: Option<Uuid>,
    pub organization_id: Option<Uuid>,
    pub user_name: Option<String>,
}
