//! Request and response shapes of the users API. Requests list only the fields a client may set,
//! so `id`, `password_hash`, `is_superuser` or `organization_id` in an update body are ignored.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

pub const GENDERS: &[&str] = &["male", "female", "other"];

#[derive(Debug, Serialize, Clone, ToSchema)]
pub struct RoleRef {
    pub id: Uuid,
    pub code: String,
    pub name: String,
}

/// The original's user object.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserView {
    #[serde(flatten)]
    pub profile: UserProfile,
    pub roles: Vec<RoleRef>,
}

/// The user object without its roles: shared with `GET /auth/me`, which lists roles as codes.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserProfile {
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
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub version: i32,
}

/// `role_ids` must be roles the caller holds every permission of.
#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateUser {
    pub organization_id: Uuid,
    pub email: String,
    pub password: String,
    pub role_ids: Vec<Uuid>,
    pub username: Option<String>,
    pub display_name: Option<String>,
    pub phone: Option<String>,
    /// `male`, `female` or `other`.
    pub gender: Option<String>,
}

/// Every field optional. A user may change their own profile; `role_ids` and `is_active` need
/// `user.update`.
#[derive(Debug, Deserialize, Default, ToSchema)]
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

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListUsers {
    /// From 1.
    pub page: Option<u64>,
    /// 1–1000, default 10 (the admin frontend fills its drop-downs with `size=1000`).
    pub size: Option<u64>,
    /// Alias of `size`.
    pub page_size: Option<u64>,
    /// Substring of the username, case-insensitive.
    pub username: Option<String>,
    /// Exact e-mail, case-insensitive.
    pub email: Option<String>,
    /// Members of this organization (your own by default; any for platform administrators).
    pub organization_id: Option<Uuid>,
    /// Substring of username, e-mail or display name, case-insensitive.
    pub search: Option<String>,
    pub is_active: Option<bool>,
    pub is_locked: Option<bool>,
    /// Holders of this role.
    pub role_id: Option<Uuid>,
    /// Soft-deleted accounts too.
    #[serde(default)]
    pub include_deleted: bool,
}

/// The largest page of users or organizations: the admin frontend asks for 1000 to fill its
/// option lists. Still one page of one query, so the database does the limiting.
pub const MAX_PAGE_SIZE: u64 = 1000;

#[derive(Debug, Deserialize, ToSchema)]
pub struct ResetPassword {
    pub new_password: String,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct ChangePassword {
    pub old_password: String,
    pub new_password: String,
}

#[derive(Debug, Deserialize, Clone, Copy, PartialEq, Eq, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum BatchAction {
    Activate,
    Deactivate,
    Delete,
}

/// All or none: every id must be visible to the caller.
#[derive(Debug, Deserialize, ToSchema)]
pub struct BatchRequest {
    pub action: BatchAction,
    /// 1–500 ids (`employee_ids` accepted too).
    #[serde(alias = "employee_ids")]
    pub user_ids: Vec<Uuid>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BatchResult {
    pub action: &'static str,
    pub affected: u64,
}

/// `GET /users/{id}`: the user with their work-log figures.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserDetail {
    #[serde(flatten)]
    pub user: UserView,
    #[serde(flatten)]
    pub work_logs: crate::worklogs::service::Stats,
}

/// A role the user holds, and since when.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserRole {
    pub id: Uuid,
    pub code: String,
    pub name: String,
    pub assigned_at: DateTime<Utc>,
}
