//! Request and response shapes of the categories API.

use super::model as category;
use chrono::{DateTime, Utc};
use crm_common::api::validate::Validator;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateCategory {
    /// 1–100 characters, unique.
    pub code: String,
    pub name: String,
    pub description: Option<String>,
    pub parent_id: Option<Uuid>,
    /// ≥ 0, default 0.
    pub display_order: Option<i32>,
    /// Default true.
    pub is_active: Option<bool>,
}

/// Absent fields are kept; the code is fixed once created.
#[derive(Debug, Deserialize, ToSchema)]
pub struct UpdateCategory {
    pub name: Option<String>,
    pub description: Option<String>,
    /// `null` makes it a top-level category.
    #[serde(default, deserialize_with = "crm_common::api::patch::nullable")]
    #[schema(value_type = Option<Uuid>)]
    pub parent_id: Option<Option<Uuid>>,
    pub display_order: Option<i32>,
    pub is_active: Option<bool>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListCategories {
    pub page: Option<u64>,
    /// 1–1000, default 10.
    pub size: Option<u64>,
    pub page_size: Option<u64>,
    /// Substring, case-insensitive.
    pub code: Option<String>,
    /// Substring, case-insensitive.
    pub name: Option<String>,
    /// An id, or an empty value for top-level categories only.
    pub parent_id: Option<String>,
    pub is_active: Option<bool>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TreeQuery {
    /// List each category's own products (default false).
    #[serde(default)]
    pub include_products: bool,
    /// Only active categories and products when true; all when false or absent.
    pub is_active: Option<bool>,
}

pub fn validate(code: Option<&str>, name: Option<&str>, display_order: Option<i32>) -> crm_common::ApiResult<()> {
    let mut v = Validator::new();
    if let Some(c) = code {
        v.length("code", c.trim(), 1, 100);
    }
    if let Some(n) = name {
        v.length("name", n.trim(), 1, 255);
    }
    v.check(display_order.is_none_or(|d| d >= 0), "display_order", "must be 0 or more").finish()
}

/// A category in lists and details.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CategoryItem {
    pub id: Uuid,
    pub code: String,
    pub name: String,
    pub description: Option<String>,
    pub parent_id: Option<Uuid>,
    pub parent_name: Option<String>,
    pub display_order: i32,
    pub is_active: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i32,
}

impl CategoryItem {
    pub fn new(c: category::Model, parent_name: Option<String>) -> Self {
        Self {
            id: c.id,
            code: c.code,
            name: c.name,
            description: c.description,
            parent_id: c.parent_id,
            parent_name,
            display_order: c.display_order,
            is_active: c.is_active,
            created_at: c.created_at,
            updated_at: c.updated_at,
            version: c.version,
        }
    }
}

/// A product as the tree shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TreeProduct {
    pub id: Uuid,
    pub name: String,
    pub code: Option<String>,
    pub enterprise_service_code: Option<String>,
}

/// A category with its children (always an array, `[]` for leaves) and, when asked, its own
/// products; `product_count` counts the products of the whole subtree.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TreeNode {
    pub id: Uuid,
    pub code: String,
    pub name: String,
    pub parent_id: Option<Uuid>,
    pub display_order: i32,
    pub is_active: bool,
    pub product_count: u64,
    #[schema(no_recursion)]
    pub children: Vec<TreeNode>,
    pub products: Vec<TreeProduct>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CategoryTree {
    pub categories: Vec<TreeNode>,
}
