//! Request and response shapes of the service types API.

use super::model as service_type;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateServiceType {
    /// 1–50 characters, unique (`LANDING_VISA`).
    pub code: String,
    /// The Chinese name, required.
    pub name: String,
    pub name_en: Option<String>,
    pub description: Option<String>,
    /// ≥ 0, default 0.
    pub display_order: Option<i32>,
    /// Default true.
    pub is_active: Option<bool>,
}

/// Absent fields are kept; a blank `name_en` or `description` clears it; the code is fixed.
#[derive(Debug, Deserialize, ToSchema)]
pub struct UpdateServiceType {
    pub name: Option<String>,
    pub name_en: Option<String>,
    pub description: Option<String>,
    pub display_order: Option<i32>,
    pub is_active: Option<bool>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListServiceTypes {
    pub page: Option<u64>,
    /// 1–1000, default 10.
    pub size: Option<u64>,
    pub page_size: Option<u64>,
    /// Substring, case-insensitive.
    pub code: Option<String>,
    /// Substring of the Chinese or the English name, case-insensitive.
    pub name: Option<String>,
    pub is_active: Option<bool>,
}

/// A service type: every column.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ServiceTypeItem {
    pub id: Uuid,
    pub code: String,
    pub name: String,
    pub name_en: Option<String>,
    pub description: Option<String>,
    pub display_order: i32,
    pub is_active: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i32,
}

impl From<service_type::Model> for ServiceTypeItem {
    fn from(s: service_type::Model) -> Self {
        Self {
            id: s.id,
            code: s.code,
            name: s.name,
            name_en: s.name_en,
            description: s.description,
            display_order: s.display_order,
            is_active: s.is_active,
            created_at: s.created_at,
            updated_at: s.updated_at,
            version: s.version,
        }
    }
}
