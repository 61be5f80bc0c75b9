//! Permission codes that guard this service's routes. They live in foundation's catalogue:
//! `analytics.view` goes to the managers (ADMIN, FINANCE); monitoring, logs and alerts are the
//! operators' (ADMIN, OPERATION; logs ADMIN only). Host metrics, service health, alerts and the
//! application logs belong to the deployment, not to one tenant, so those routes also require a
//! platform administrator (an ADMIN of the BANTU internal organization).

use crm_common::permissions;

permissions! {
    /// Read the business analytics of one's organization (a platform administrator: any or all).
    AnalyticsView => "analytics.view",
    /// Read service and database health, system and database metrics, and the active alerts.
    MonitoringView => "monitoring.view",
    /// Search the application logs and read their statistics.
    LogsView => "logs.view",
    /// Acknowledge alerts.
    AlertManage => "alert.manage",
}

/// Deployment-wide data (health, host metrics, alerts, every tenant's logs) is for platform
/// administrators only: an organization's own ADMIN holds the codes above but must not see it.
pub fn require_platform(caller: &crm_common::auth::Principal, what: &str) -> crm_common::ApiResult<()> {
    if caller.is_platform_admin {
        Ok(())
    } else {
        Err(crm_common::ApiError::forbidden(format!("{what} is for platform administrators")))
    }
}
