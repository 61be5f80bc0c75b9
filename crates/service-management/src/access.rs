//! Who may touch what beyond the permission codes: the catalogue belongs to the BANTU company,
//! so only its administrators change it; a vendor organization's users see and manage only their
//! own offers and vendor-specific prices, and another vendor's look like they do not exist (404).

use crate::AppState;
use crm_common::auth::Principal;
use crm_common::http::peer::Forward;
use crm_common::{ApiError, ApiResult};
use serde_json::Value;
use uuid::Uuid;

/// Catalogue changes need `catalog.manage` (checked by the extractor) from a BANTU administrator.
pub fn require_catalog_owner(caller: &Principal) -> ApiResult<()> {
    if caller.is_platform_admin {
        Ok(())
    } else {
        Err(ApiError::forbidden("the catalogue is managed by BANTU administrators"))
    }
}

/// An organization as foundation describes it (`/lookup/organizations`).
#[derive(Debug, Clone)]
pub struct Organization {
    pub id: Uuid,
    pub name: String,
    pub code: Option<String>,
    pub organization_type: String,
    pub phone: Option<String>,
    pub is_active: bool,
    pub is_locked: bool,
}

impl Organization {
    pub fn from_value(v: &Value) -> Option<Self> {
        let text = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_owned);
        Some(Self {
            id: text("id")?.parse().ok()?,
            name: text("name").unwrap_or_default(),
            code: text("code"),
            organization_type: text("organization_type").unwrap_or_default(),
            phone: text("phone"),
            is_active: v.get("is_active").and_then(Value::as_bool).unwrap_or(false),
            is_locked: v.get("is_locked").and_then(Value::as_bool).unwrap_or(false),
        })
    }

    /// May offer products: an active, unlocked vendor or internal organization.
    pub fn can_supply(&self) -> bool {
        matches!(self.organization_type.as_str(), "vendor" | "internal") && self.is_active && !self.is_locked
    }
}

/// One organization from foundation, `None` when unknown.
pub async fn organization(state: &AppState, forward: &Forward, id: Uuid) -> ApiResult<Option<Organization>> {
    let rows = state.organizations.get([id], forward).await?;
    Ok(rows.get(&id).and_then(Organization::from_value))
}

/// What the caller may do with a vendor's offers and prices.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VendorAccess {
    /// Read and change (a BANTU administrator, or the vendor's own staff).
    Manage,
    /// Read only (BANTU's internal staff).
    Read,
}

/// The caller's access to `vendor_id`'s offers; another vendor's are a 404, as if absent.
pub async fn vendor_access(
    state: &AppState,
    forward: &Forward,
    caller: &Principal,
    vendor_id: Uuid,
) -> ApiResult<VendorAccess> {
    if caller.is_platform_admin || caller.organization_id == vendor_id {
        return Ok(VendorAccess::Manage);
    }
    let own = organization(state, forward, caller.organization_id).await?;
    if own.is_some_and(|o| o.organization_type == "internal") {
        return Ok(VendorAccess::Read);
    }
    Err(ApiError::not_found("vendor"))
}

/// Like [`vendor_access`], for a change: read-only access is a 403.
pub async fn require_vendor_manage(
    state: &AppState,
    forward: &Forward,
    caller: &Principal,
    vendor_id: Uuid,
) -> ApiResult<()> {
    match vendor_access(state, forward, caller, vendor_id).await? {
        VendorAccess::Manage => Ok(()),
        VendorAccess::Read => {
            Err(ApiError::forbidden("only the vendor's own staff or BANTU administrators may change its offers"))
        }
    }
}

/// The vendors whose offers the caller may read: `None` = all (BANTU staff), else only these.
pub async fn visible_vendors(state: &AppState, forward: &Forward, caller: &Principal) -> ApiResult<Option<Vec<Uuid>>> {
    if caller.is_platform_admin {
        return Ok(None);
    }
    let own = organization(state, forward, caller.organization_id).await?;
    if own.is_some_and(|o| o.organization_type == "internal") {
        return Ok(None);
    }
    Ok(Some(vec![caller.organization_id]))
}
