//! Request and response shapes of the menus API.

use super::model::menu;
use crate::permissions::service::PermissionRef;
use chrono::{DateTime, Utc};
use crm_common::api::validate::Validator;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateMenu {
    pub code: String,
    pub name_zh: String,
    pub name_id: String,
    pub description_zh: Option<String>,
    pub description_id: Option<String>,
    pub parent_id: Option<Uuid>,
    pub path: Option<String>,
    pub component: Option<String>,
    pub icon: Option<String>,
    #[serde(default)]
    pub display_order: i32,
    pub is_active: Option<bool>,
    pub is_visible: Option<bool>,
}

/// Every field optional; `parent_id: null` makes the menu a top-level entry. The code is fixed.
#[derive(Debug, Deserialize, ToSchema)]
pub struct UpdateMenu {
    pub name_zh: Option<String>,
    pub name_id: Option<String>,
    pub description_zh: Option<String>,
    pub description_id: Option<String>,
    #[serde(default, deserialize_with = "crate::patch::nullable")]
    #[schema(value_type = Option<Uuid>)]
    pub parent_id: Option<Option<Uuid>>,
    pub path: Option<String>,
    pub component: Option<String>,
    pub icon: Option<String>,
    pub display_order: Option<i32>,
    pub is_active: Option<bool>,
    pub is_visible: Option<bool>,
}

impl CreateMenu {
    pub fn validate(&self) -> crm_common::ApiResult<()> {
        let mut v = Validator::new();
        v.length("code", &self.code, 1, 100)
            .length("name_zh", &self.name_zh, 1, 255)
            .length("name_id", &self.name_id, 1, 255)
            .optional_length("path", self.path.as_deref(), 255)
            .optional_length("component", self.component.as_deref(), 255)
            .optional_length("icon", self.icon.as_deref(), 100)
            .finish()
    }
}

impl UpdateMenu {
    pub fn validate(&self) -> crm_common::ApiResult<()> {
        let mut v = Validator::new();
        for (field, value) in [("name_zh", &self.name_zh), ("name_id", &self.name_id)] {
            if let Some(value) = value {
                v.length(field, value, 1, 255);
            }
        }
        v.optional_length("path", self.path.as_deref(), 255)
            .optional_length("component", self.component.as_deref(), 255)
            .optional_length("icon", self.icon.as_deref(), 100)
            .finish()
    }
}

/// The permissions that open the menu, replacing the previous set.
#[derive(Debug, Deserialize, ToSchema)]
pub struct AssignPermissions {
    pub permission_ids: Vec<Uuid>,
}

/// A menu with the permissions that open it.
#[derive(Debug, Serialize, ToSchema)]
pub struct MenuView {
    pub id: Uuid,
    pub code: String,
    pub name_zh: String,
    pub name_id: String,
    pub description_zh: Option<String>,
    pub description_id: Option<String>,
    pub parent_id: Option<Uuid>,
    pub path: Option<String>,
    pub component: Option<String>,
    pub icon: Option<String>,
    pub display_order: i32,
    pub is_active: bool,
    pub is_visible: bool,
    pub permissions: Vec<PermissionRef>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl MenuView {
    pub fn new(m: menu::Model, permissions: Vec<PermissionRef>) -> Self {
        Self {
            id: m.id,
            code: m.code,
            name_zh: m.name_zh,
            name_id: m.name_id,
            description_zh: m.description_zh,
            description_id: m.description_id,
            parent_id: m.parent_id,
            path: m.path,
            component: m.component,
            icon: m.icon,
            display_order: m.display_order,
            is_active: m.is_active,
            is_visible: m.is_visible,
            permissions,
            created_at: m.created_at,
            updated_at: m.updated_at,
        }
    }
}

/// `GET /menus/tree/list`: a menu with its children.
#[derive(Debug, Serialize, ToSchema)]
pub struct MenuNode {
    #[serde(flatten)]
    pub menu: MenuView,
    #[schema(no_recursion)]
    pub children: Vec<MenuNode>,
}

/// An entry of a user's navigation (the original's accessible-menu item).
#[derive(Debug, Serialize, ToSchema)]
pub struct AccessibleMenu {
    pub id: Uuid,
    pub code: String,
    pub name_zh: String,
    pub name_id: String,
    pub path: Option<String>,
    pub component: Option<String>,
    pub icon: Option<String>,
    pub display_order: i32,
    #[schema(no_recursion)]
    pub children: Vec<AccessibleMenu>,
}
