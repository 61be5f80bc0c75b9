//! Request and response shapes of workflow definitions and instances.

use super::model::{definition, instance, transition};
use crate::orders::service::pick;
use crate::tasks::TaskView;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct WorkflowLang {
    /// `zh` (default) or `id`: the language bilingual fields are collapsed to.
    pub lang: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListDefinitions {
    pub lang: Option<String>,
    /// `order_approval`, `delivery_review` or `payment_approval`.
    pub workflow_type: Option<String>,
    pub is_active: Option<bool>,
}

/// A new definition, validated before it is saved (400 naming each place that is wrong).
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct CreateDefinition {
    /// Unique in the organization: lower-case letters, digits and `_`.
    pub code: String,
    pub name_zh: String,
    pub name_id: String,
    pub description_zh: Option<String>,
    pub description_id: Option<String>,
    /// `order_approval`, `delivery_review` or `payment_approval`.
    pub workflow_type: String,
    /// `order` (default) or `service_record`: what its instances are bound to.
    pub business_type: Option<String>,
    /// `{stages: [...], transitions: [...]}`; see the service README.
    #[schema(value_type = Object)]
    pub definition_json: Value,
    /// Default true.
    pub is_active: Option<bool>,
    /// Start an instance for every new order (definitions of orders only; one per
    /// organization). Default false.
    pub auto_start: Option<bool>,
}

/// Absent fields are kept. A new `definition_json` is validated and raises `version`; running
/// instances keep the definition they started with.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct UpdateDefinition {
    pub name_zh: Option<String>,
    pub name_id: Option<String>,
    pub description_zh: Option<String>,
    pub description_id: Option<String>,
    #[schema(value_type = Option<Object>)]
    pub definition_json: Option<Value>,
    pub is_active: Option<bool>,
    pub auto_start: Option<bool>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DefinitionView {
    pub id: Uuid,
    pub code: String,
    /// `name_zh` or `name_id` by `lang`.
    pub name: String,
    pub name_zh: String,
    pub name_id: String,
    pub description: Option<String>,
    pub description_zh: Option<String>,
    pub description_id: Option<String>,
    pub workflow_type: String,
    pub business_type: String,
    #[schema(value_type = Object)]
    pub definition_json: Value,
    pub version: i32,
    pub is_active: bool,
    pub auto_start: bool,
    pub created_by: Option<Uuid>,
    pub updated_by: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl DefinitionView {
    pub fn of(d: definition::Model, indonesian: bool) -> Self {
        Self {
            name: if indonesian { d.name_id.clone() } else { d.name_zh.clone() },
            description: pick(indonesian, &d.description_zh, &d.description_id),
            id: d.id,
            code: d.code,
            name_zh: d.name_zh,
            name_id: d.name_id,
            description_zh: d.description_zh,
            description_id: d.description_id,
            workflow_type: d.workflow_type,
            business_type: d.business_type,
            definition_json: d.definition_json,
            version: d.version,
            is_active: d.is_active,
            auto_start: d.auto_start,
            created_by: d.created_by,
            updated_by: d.updated_by,
            created_at: d.created_at,
            updated_at: d.updated_at,
        }
    }
}

/// Starts an instance of a definition (by id or by code) for an order or a service record.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct StartInstance {
    pub workflow_definition_id: Option<Uuid>,
    /// The definition's code, when no id is given (`order_approval`).
    pub code: Option<String>,
    /// The record it is bound to: an order, or a service record, as the definition says.
    pub business_id: Uuid,
    /// Initial variables the transitions' conditions may read.
    #[schema(value_type = Option<Object>)]
    pub variables: Option<Value>,
}

#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListInstances {
    pub page: Option<u64>,
    /// 1–100, default 20.
    pub size: Option<u64>,
    pub page_size: Option<u64>,
    /// `order` or `service_record`.
    pub business_type: Option<String>,
    pub business_id: Option<Uuid>,
    /// `running`, `completed`, `cancelled` or `suspended`.
    pub status: Option<String>,
    pub lang: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TransitionView {
    pub id: Uuid,
    pub task_id: Option<Uuid>,
    pub from_stage: Option<String>,
    pub to_stage: String,
    pub transition_condition: Option<String>,
    pub triggered_by: Option<Uuid>,
    pub triggered_at: DateTime<Utc>,
    pub notes: Option<String>,
}

impl From<transition::Model> for TransitionView {
    fn from(t: transition::Model) -> Self {
        Self {
            id: t.id,
            task_id: t.task_id,
            from_stage: t.from_stage,
            to_stage: t.to_stage,
            transition_condition: t.transition_condition,
            triggered_by: t.triggered_by,
            triggered_at: t.triggered_at,
            notes: t.notes,
        }
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct InstanceView {
    pub id: Uuid,
    pub workflow_definition_id: Option<Uuid>,
    pub definition_code: String,
    pub business_type: String,
    pub business_id: Uuid,
    pub current_stage: String,
    /// The current stage's name by `lang`.
    pub current_stage_name: Option<String>,
    /// `running`, `completed`, `cancelled` or `suspended`.
    pub status: String,
    pub started_by: Option<Uuid>,
    pub started_at: DateTime<Utc>,
    pub completed_at: Option<DateTime<Utc>>,
    #[schema(value_type = Object)]
    pub variables: Value,
    pub updated_at: DateTime<Utc>,
    /// In a single instance's answer: its tasks, oldest first.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tasks: Option<Vec<TaskView>>,
    /// In a single instance's answer: its transitions, oldest first.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transitions: Option<Vec<TransitionView>>,
}

impl InstanceView {
    pub fn of(i: instance::Model, indonesian: bool) -> Self {
        let stage_name = super::rules::read(&i.definition_snapshot).ok().and_then(|d| {
            d.stage(&i.current_stage)
                .map(|s| if indonesian { s.stage_name_id.clone() } else { s.stage_name_zh.clone() })
        });
        Self {
            id: i.id,
            workflow_definition_id: i.workflow_definition_id,
            definition_code: i.definition_code,
            business_type: i.business_type,
            business_id: i.business_id,
            current_stage: i.current_stage,
            current_stage_name: stage_name,
            status: i.status,
            started_by: i.started_by,
            started_at: i.started_at,
            completed_at: i.completed_at,
            variables: i.variables,
            updated_at: i.updated_at,
            tasks: None,
            transitions: None,
        }
    }
}
