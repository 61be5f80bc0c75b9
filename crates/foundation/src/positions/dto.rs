//! Request and response shapes of the positions API.

use super::model as position;
use chrono::{DateTime, Utc};
use crm_common::api::Page;
use crm_common::api::validate::Validator;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

/// A position of the caller's organization.
#[derive(Debug, Deserialize, ToSchema)]
pub struct CreatePosition {
    pub name: String,
    pub code: Option<String>,
    pub description: Option<String>,
    /// Defaults to one below the parent (1 at the top).
    pub level: Option<i32>,
    pub parent_id: Option<Uuid>,
}

/// The parent changes only through `POST /positions/{id}/move`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct UpdatePosition {
    pub name: Option<String>,
    /// `null` clears it.
    #[serde(default, deserialize_with = "crate::patch::nullable")]
    #[schema(value_type = Option<String>)]
    pub code: Option<Option<String>>,
    pub description: Option<String>,
    pub level: Option<i32>,
    pub version: Option<i32>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct MovePosition {
    /// `null` makes the position a top-level one.
    pub new_parent_id: Option<Uuid>,
    /// Defaults to one below the new parent (1 at the top).
    pub new_level: Option<i32>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListPositions {
    /// From 1.
    pub page: Option<u64>,
    /// 1–500, default 50.
    pub size: Option<u64>,
    /// Alias of `size`.
    pub page_size: Option<u64>,
    /// The whole hierarchy as a tree instead of a page (the other filters do not apply).
    #[serde(default)]
    pub tree: bool,
    pub level: Option<i32>,
    pub parent_id: Option<Uuid>,
    /// Substring of the name or code, case-insensitive.
    pub search: Option<String>,
}

pub fn validate_fields(name: Option<&str>, code: Option<&str>, level: Option<i32>) -> crm_common::ApiResult<()> {
    let mut v = Validator::new();
    if let Some(n) = name {
        v.length("name", n, 1, 100);
    }
    if let Some(c) = code {
        v.length("code", c, 1, 50);
    }
    v.check(level.is_none_or(|l| (1..=100).contains(&l)), "level", "must be between 1 and 100").finish()
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ParentRef {
    pub id: Uuid,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub full_path: Option<String>,
}

/// A position in lists and trees.
#[derive(Debug, Serialize, ToSchema)]
pub struct PositionItem {
    pub id: Uuid,
    pub organization_id: Uuid,
    pub name: String,
    pub code: Option<String>,
    pub description: Option<String>,
    pub level: i32,
    pub parent_id: Option<Uuid>,
    pub parent: Option<ParentRef>,
    pub full_path: String,
    pub employee_count: u64,
    pub children_count: u64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i32,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PositionNode {
    #[serde(flatten)]
    pub position: PositionItem,
    #[schema(no_recursion)]
    pub children: Vec<PositionNode>,
}

/// A member holding a position.
#[derive(Debug, Serialize, ToSchema)]
pub struct Holder {
    pub member_id: Uuid,
    pub user_id: Uuid,
    pub username: Option<String>,
    pub display_name: Option<String>,
    pub email: Option<String>,
}

/// A position with the positions right below it and its holders.
#[derive(Debug, Serialize, ToSchema)]
pub struct PositionDetail {
    #[serde(flatten)]
    pub position: PositionItem,
    pub children: Vec<PositionItem>,
    pub employees: Vec<Holder>,
}

/// `GET /positions`: a page, or with `tree=true` the whole hierarchy.
#[derive(Debug, Serialize, ToSchema)]
#[serde(untagged)]
pub enum PositionList {
    Page(Page<PositionItem>),
    Tree(Vec<PositionNode>),
}

pub fn item(p: position::Model, parent: Option<ParentRef>, full_path: String, counts: (u64, u64)) -> PositionItem {
    PositionItem {
        id: p.id,
        organization_id: p.organization_id,
        name: p.name,
        code: p.code,
        description: p.description,
        level: p.level,
        parent_id: p.parent_id,
        parent,
        full_path,
        employee_count: counts.0,
        children_count: counts.1,
        created_at: p.created_at,
        updated_at: p.updated_at,
        version: p.version,
    }
}
