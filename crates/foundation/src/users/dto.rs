//! Request and response shapes of the users API. Requests list only the fields a client may set,
//! so `id`, `password_hash`, `is_superuser` or `organization_id` in an update body are ignored.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

pub const GENDERS: &[&str] = &["male", "female", "other"];

#[derive(Debug, Serialize, Clone)]
pub struct RoleRef {
    pub id: Uuid,
    pub code: String,
    pub name: String,
}

/// The original's user object.
#[derive(Debug, Serialize)]
pub struct UserView {
    pub id: Uuid,
    pub username: String,
    pub email: String,
    pub phone: Option<String>,
    pub display_name: Option<String>,
    pub avatar_url: Option<String>,
    pub bio: Option<String>,
    pub gender: Option<String>,
    pub address: Option<String>,
    pub contact_phone: Option<String>,
    pub whatsapp: Option<String>,
    pub wechat: Option<String>,
    pub primary_organization_id: Option<Uuid>,
    pub primary_organization_name: Option<String>,
    pub is_active: bool,
    pub is_locked: bool,
    pub last_login_at: Option<DateTime<Utc>>,
    pub roles: Vec<RoleRef>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub version: i32,
}

#[derive(Debug, Deserialize)]
pub struct CreateUser {
    pub organization_id: Uuid,
    pub email: String,
    pub password: String,
    pub role_ids: Vec<Uuid>,
    pub username: Option<String>,
    pub display_name: Option<String>,
    pub phone: Option<String>,
    pub gender: Option<String>,
}

#[derive(Debug, Deserialize, Default)]
pub struct UpdateUser {
    pub email: Option<String>,
    pub phone: Option<String>,
    pub display_name: Option<String>,
    pub avatar_url: Option<String>,
    pub bio: Option<String>,
    pub gender: Option<String>,
    pub address: Option<String>,
    pub contact_phone: Option<String>,
    pub whatsapp: Option<String>,
    pub wechat: Option<String>,
    pub role_ids: Option<Vec<Uuid>>,
    pub is_active: Option<bool>,
    /// Optimistic locking: when given and stale, the update is refused with 409.
    pub version: Option<i32>,
}

impl UpdateUser {
    /// Fields only an administrator (`user.update`) may change, even on their own account.
    pub fn touches_admin_fields(&self) -> bool {
        self.role_ids.is_some() || self.is_active.is_some()
    }
}

#[derive(Debug, Deserialize)]
pub struct ListUsers {
    pub page: Option<u64>,
    pub size: Option<u64>,
    pub page_size: Option<u64>,
    pub email: Option<String>,
    pub organization_id: Option<Uuid>,
    /// Substring of username, e-mail or display name, case-insensitive.
    pub search: Option<String>,
    pub is_active: Option<bool>,
    pub is_locked: Option<bool>,
    pub role_id: Option<Uuid>,
    #[serde(default)]
    pub include_deleted: bool,
}

#[derive(Debug, Deserialize)]
pub struct ResetPassword {
    pub new_password: String,
}

#[derive(Debug, Deserialize)]
pub struct ChangePassword {
    pub old_password: String,
    pub new_password: String,
}

#[derive(Debug, Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum BatchAction {
    Activate,
    Deactivate,
    Delete,
}

#[derive(Debug, Deserialize)]
pub struct BatchRequest {
    pub action: BatchAction,
    #[serde(alias = "employee_ids")]
    pub user_ids: Vec<Uuid>,
}
