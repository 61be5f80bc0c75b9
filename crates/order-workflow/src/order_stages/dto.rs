//! Request and response shapes of an order's delivery stages.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct CreateStage {
    /// 1–255 characters.
    pub stage_name: String,
    pub stage_code: Option<String>,
    /// Position among the order's stages; default after the last.
    pub stage_order: Option<i32>,
    /// `pending` (default) or `in_progress`.
    pub status: Option<String>,
    /// 0–100, default 0.
    pub progress_percent: Option<i32>,
    pub notes: Option<String>,
    /// A user of the organization who carries the stage out.
    pub assigned_to_user_id: Option<Uuid>,
}

/// Absent fields are kept. `status` moves forward only (`pending → in_progress →
/// completed|cancelled`; 409 naming the allowed moves); completing sets progress to 100;
/// progress on a pending stage starts it.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct UpdateStage {
    pub stage_name: Option<String>,
    pub stage_code: Option<String>,
    pub stage_order: Option<i32>,
    pub status: Option<String>,
    pub progress_percent: Option<i32>,
    pub notes: Option<String>,
    pub assigned_to_user_id: Option<Uuid>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct StageView {
    pub id: Uuid,
    pub order_id: Uuid,
    pub stage_name: String,
    pub stage_code: Option<String>,
    pub stage_order: i32,
    /// `pending`, `in_progress`, `completed` or `cancelled`.
    pub status: String,
    pub started_at: Option<DateTime<Utc>>,
    pub completed_at: Option<DateTime<Utc>>,
    pub progress_percent: i32,
    pub notes: Option<String>,
    pub assigned_to_user_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<super::model::Model> for StageView {
    fn from(s: super::model::Model) -> Self {
        Self {
            id: s.id,
            order_id: s.order_id,
            stage_name: s.stage_name,
            stage_code: s.stage_code,
            stage_order: s.stage_order,
            status: s.status,
            started_at: s.started_at,
            completed_at: s.completed_at,
            progress_percent: s.progress_percent,
            notes: s.notes,
            assigned_to_user_id: s.assigned_to_user_id,
            created_at: s.created_at,
            updated_at: s.updated_at,
        }
    }
}
