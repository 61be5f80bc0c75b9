//! Query and response shapes of the audit API.

use super::service::{Filters, parse_time};
use crm_common::auth::Principal;
use crm_common::{ApiError, ApiResult};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

/// The organization a read covers: the caller's by default; another only for platform admins,
/// who may also ask for every organization (`all_organizations=true`), which includes events no
/// organization could be attached to (failed logins of unknown accounts).
pub fn scope(caller: &Principal, requested: Option<Uuid>, all: bool) -> ApiResult<Option<Uuid>> {
    let refuse = || ApiError::forbidden("you may read only your own organization's audit log");
    match requested {
        Some(org) if caller.can_access_org(org) => Ok(Some(org)),
        Some(_) => Err(refuse()),
        None if all && caller.is_platform_admin => Ok(None),
        None if all => Err(refuse()),
        None => Ok(Some(caller.organization_id)),
    }
}

/// Declares a request type carrying the search filters plus its own fields.
macro_rules! with_filters {
    ($(#[$meta:meta])* pub struct $name:ident { $($field:ident : $ty:ty),* $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Default, Deserialize, ToSchema, IntoParams)]
        #[into_params(parameter_in = Query)]
        pub struct $name {
            /// Your own organization by default; another only for platform administrators.
            pub organization_id: Option<Uuid>,
            /// Every organization (platform administrators only).
            #[serde(default)]
            pub all_organizations: bool,
            pub user_id: Option<Uuid>,
            /// `CREATE`, `UPDATE`, `DELETE`, `VIEW`, `LOGIN`, `LOGOUT`, `EXPORT`, …
            pub action: Option<String>,
            pub resource_type: Option<String>,
            pub resource_id: Option<String>,
            pub category: Option<String>,
            /// `success` or `failed`.
            pub status: Option<String>,
            /// RFC 3339 time or a date (from its start).
            pub start_time: Option<String>,
            /// RFC 3339 time or a date (to its end).
            pub end_time: Option<String>,
            /// A column to sort by; `created_at` by default.
            pub order_by: Option<String>,
            /// Newest first unless false.
            pub order_desc: Option<bool>,
            $(pub $field: $ty,)*
        }

        impl $name {
            pub fn filters(&self, caller: &Principal) -> ApiResult<Filters> {
                Ok(Filters {
                    organization: scope(caller, self.organization_id, self.all_organizations)?,
                    user_id: self.user_id,
                    action: self.action.clone(),
                    resource_type: self.resource_type.clone(),
                    resource_id: self.resource_id.clone(),
                    category: self.category.clone(),
                    status: self.status.clone(),
                    start: parse_time("start_time", self.start_time.as_deref(), false)?,
                    end: parse_time("end_time", self.end_time.as_deref(), true)?,
                })
            }
        }
    };
}

with_filters! {
    /// `GET /audit-logs`.
    pub struct ListAudit { page: Option<u64>, size: Option<u64>, page_size: Option<u64> }
}

with_filters! {
    /// `POST /audit-logs/export`: the search filters and `format` (`json`, the default, or `csv`).
    pub struct ExportAudit { format: Option<String> }
}

/// `GET /audit-logs/users/{id}` and `/resources/{type}/{id}`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct HistoryQuery {
    /// From 1.
    pub page: Option<u64>,
    /// 1–100, default 10.
    pub size: Option<u64>,
    /// Alias of `size`.
    pub page_size: Option<u64>,
    /// RFC 3339 time or a date (from its start).
    pub start_time: Option<String>,
    /// RFC 3339 time or a date (to its end).
    pub end_time: Option<String>,
}

/// What an ingest call stored: events already stored before are received but not stored again.
#[derive(Debug, Serialize, ToSchema)]
pub struct IngestResult {
    pub received: usize,
    pub stored: u64,
}

/// A small export, inline: the file's content in the envelope (the original's shape).
#[derive(Debug, Serialize, ToSchema)]
pub struct InlineExport {
    /// A JSON array or CSV text.
    pub content: String,
    pub mime_type: &'static str,
    /// `json` or `csv`.
    pub format: &'static str,
}

/// The original's audit page shape: `{records, total, size, page, pages}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditPage<T> {
    pub records: Vec<T>,
    pub total: u64,
    pub size: u64,
    pub page: u64,
    pub pages: u64,
}

impl<T> AuditPage<T> {
    pub fn new(records: Vec<T>, total: u64, page: u64, size: u64) -> Self {
        Self { records, total, size, page, pages: total.div_ceil(size.max(1)) }
    }
}
