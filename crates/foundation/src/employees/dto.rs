//! Request and response shapes of the employees API, in seed 002's field names.

use crate::users::dto::RoleRef;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

/// Seed 002's account state: `active` or `inactive`.
#[derive(Debug, Deserialize, Serialize, Clone, Copy, PartialEq, Eq, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Active,
    Inactive,
}

impl Status {
    pub fn of(is_active: bool) -> Self {
        if is_active { Self::Active } else { Self::Inactive }
    }

    pub fn is_active(self) -> bool {
        self == Self::Active
    }
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateEmployee {
    pub email: String,
    pub password: String,
    pub role_id: Uuid,
    /// Defaults to the e-mail's local part.
    pub username: Option<String>,
    pub full_name: Option<String>,
    /// A position of the caller's organization.
    pub position_id: Option<Uuid>,
    /// `active` by default.
    pub status: Option<Status>,
}

/// Every field optional. `role_id` replaces all of the employee's roles with that one.
#[derive(Debug, Deserialize, Default, ToSchema)]
pub struct UpdateEmployee {
    pub email: Option<String>,
    pub full_name: Option<String>,
    /// `null` takes the employee off any position.
    #[serde(default, deserialize_with = "crate::patch::nullable")]
    #[schema(value_type = Option<Uuid>)]
    pub position_id: Option<Option<Uuid>>,
    pub role_id: Option<Uuid>,
    pub status: Option<Status>,
}

#[derive(Debug, Deserialize, Clone, Copy, PartialEq, Eq, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SortBy {
    CreatedAt,
    FullName,
    Username,
}

#[derive(Debug, Deserialize, Clone, Copy, PartialEq, Eq, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum SortOrder {
    Asc,
    Desc,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListEmployees {
    /// From 1.
    pub page: Option<u64>,
    /// 1–100, default 20.
    pub page_size: Option<u64>,
    /// Alias of `page_size`.
    pub size: Option<u64>,
    /// Substring of username, full name or e-mail, case-insensitive.
    pub search: Option<String>,
    pub position_id: Option<Uuid>,
    pub role_id: Option<Uuid>,
    #[param(inline)]
    pub status: Option<Status>,
    /// `created_at` (default), `full_name` or `username`.
    #[param(inline)]
    pub sort_by: Option<SortBy>,
    /// `desc` by default.
    #[param(inline)]
    pub sort_order: Option<SortOrder>,
}

#[derive(Debug, Serialize, Clone, ToSchema)]
pub struct PositionRef {
    pub id: Uuid,
    pub name: String,
    pub code: Option<String>,
    pub level: i32,
}

/// One employee, as seed 002 shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct EmployeeView {
    pub id: Uuid,
    pub username: String,
    pub email: String,
    pub full_name: Option<String>,
    pub position: Option<PositionRef>,
    /// The first of `roles` by code (seed 002 has one role per employee).
    pub role: Option<RoleRef>,
    pub roles: Vec<RoleRef>,
    pub status: Status,
    /// The membership's department.
    pub department: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub last_login: Option<DateTime<Utc>>,
}

/// `GET /employees/{id}`: the employee with their work-log figures.
#[derive(Debug, Serialize, ToSchema)]
pub struct EmployeeDetail {
    #[serde(flatten)]
    pub employee: EmployeeView,
    #[serde(flatten)]
    pub work_logs: crate::worklogs::service::Stats,
}
