//! Request and response shapes of the product dependencies API.

use super::model as dependency;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

/// The kinds of dependency: `required` must be satisfied, `recommended` only warns, `optional`
/// is informational.
pub const TYPES: [&str; 3] = ["required", "recommended", "optional"];

#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateDependency {
    pub product_id: Uuid,
    pub depends_on_product_id: Uuid,
    /// `required` (default), `recommended` or `optional`.
    pub dependency_type: Option<String>,
    pub description: Option<String>,
}

/// Absent fields are kept; the two products are fixed once created.
#[derive(Debug, Deserialize, ToSchema)]
pub struct UpdateDependency {
    pub dependency_type: Option<String>,
    pub description: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListDependencies {
    pub page: Option<u64>,
    /// 1–100, default 20.
    pub size: Option<u64>,
    pub page_size: Option<u64>,
    pub product_id: Option<Uuid>,
    pub depends_on_product_id: Option<Uuid>,
    pub dependency_type: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TypeFilter {
    pub dependency_type: Option<String>,
}

/// A set of products about to be combined (an opportunity's or an order's).
#[derive(Debug, Deserialize, ToSchema)]
pub struct ProductSelection {
    /// At most 1000.
    pub product_ids: Vec<Uuid>,
}

/// `dependency_type` is one of [`TYPES`].
pub fn check_type(value: &str) -> crm_common::ApiResult<()> {
    if TYPES.contains(&value) {
        Ok(())
    } else {
        Err(crm_common::ApiError::field("dependency_type", "must be required, recommended or optional"))
    }
}

/// A dependency with both products' names and codes.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DependencyItem {
    pub id: Uuid,
    pub product_id: Uuid,
    pub product_name: Option<String>,
    pub product_code: Option<String>,
    pub depends_on_product_id: Uuid,
    pub depends_on_product_name: Option<String>,
    pub depends_on_product_code: Option<String>,
    pub dependency_type: String,
    pub description: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl DependencyItem {
    pub fn new(d: dependency::Model, names: &super::service::Names) -> Self {
        let name = |id: &Uuid| names.get(id).map(|(n, _)| n.clone());
        let code = |id: &Uuid| names.get(id).and_then(|(_, c)| c.clone());
        Self {
            id: d.id,
            product_name: name(&d.product_id),
            product_code: code(&d.product_id),
            product_id: d.product_id,
            depends_on_product_name: name(&d.depends_on_product_id),
            depends_on_product_code: code(&d.depends_on_product_id),
            depends_on_product_id: d.depends_on_product_id,
            dependency_type: d.dependency_type,
            description: d.description,
            created_at: d.created_at,
            updated_at: d.updated_at,
        }
    }
}

/// A dependency the selection does not satisfy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct MissingDependency {
    pub product_id: Uuid,
    pub depends_on_product_id: Uuid,
    pub depends_on_product_name: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ValidationResult {
    /// No `required` dependency is missing.
    pub valid: bool,
    pub missing_required: Vec<MissingDependency>,
    /// Missing `recommended` dependencies: worth a warning, not a refusal.
    pub warnings: Vec<MissingDependency>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct OrderStep {
    pub product_id: Uuid,
    /// From 1: a product comes after everything it requires.
    pub execution_order: u32,
    /// The selected products it requires (those it must come after).
    pub dependencies: Vec<Uuid>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ExecutionOrder {
    pub order: Vec<OrderStep>,
}
