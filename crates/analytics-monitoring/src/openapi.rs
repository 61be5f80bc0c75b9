//! analytics-monitoring's OpenAPI 3.1 document, generated from the code like the other services':
//! each resource's `Api` lists the handlers its `routes()` mounts. Served without authentication at
//! `GET /api/analytics-monitoring/openapi.json`.

use crate::{alerts, analytics, dashboard, logs, monitoring, reports};
use axum::response::Response;
use crm_common::api::openapi::{Served, render};
use utoipa::OpenApi;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "BANTU CRM analytics-monitoring",
        description = "Business analytics of the caller's organization (customers, orders and revenue, service \
            records, users, organizations, opportunities), cached five minutes; the health of every service; this \
            host's and the database's metrics; alerts; search over the application logs. Every JSON response is the \
            envelope `{code, message, data, timestamp, request_id}`. Authenticate with `Authorization: Bearer \
            <access token>` from foundation's login."
    ),
    paths(serve),
    tags(
        (name = "analytics", description = "Business analytics of the caller's organization (a platform \
            administrator: all, or one by `organization_id`), composed from the aggregates each owning service computes \
            and cached five minutes per result and organization (`X-Cache: hit|miss|stale`). When an owner is down, \
            the last result answers, marked `X-Cache: stale`; without one, 503."),
        (name = "monitoring", description = "Every service's health, this service's database health and \
            metrics, this host's CPU, memory and disk, and their recent history. Platform administrators with \
            `monitoring.view`."),
        (name = "alerts", description = "Alerts over the host's metrics and each service's error rate, \
            `active → acknowledged → resolved`. Platform administrators (`monitoring.view`; acknowledging: \
            `alert.manage`)."),
        (name = "logs", description = "Search over the application logs every service ships, newest first, \
            paginated in the store with exact totals. Platform administrators with `logs.view`."),
        (name = "docs", description = "This document."),
    )
)]
struct Root;

pub fn parts() -> Vec<utoipa::openapi::OpenApi> {
    vec![
        analytics::Api::openapi(),
        monitoring::Api::openapi(),
        alerts::Api::openapi(),
        logs::Api::openapi(),
        reports::Api::openapi(),
        dashboard::Api::openapi(),
    ]
}

pub fn generated() -> utoipa::openapi::OpenApi {
    let mut doc = Root::openapi();
    for part in parts() {
        doc.merge(part);
    }
    doc
}

pub fn document() -> Result<serde_json::Value, serde_json::Error> {
    crm_common::api::openapi::finish(generated())
}

static DOCUMENT: Served = Served::new(|| render(generated()));

/// This OpenAPI document
#[utoipa::path(
    get,
    path = "/api/analytics-monitoring/openapi.json",
    tag = "docs",
    responses((status = 200, description = "OpenAPI 3.1, not in the envelope", body = Object))
)]
pub async fn serve() -> Response {
    DOCUMENT.response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema_names_do_not_clash() {
        crm_common::api::openapi::assert_schema_names_do_not_clash(parts());
    }

    #[test]
    fn the_document_is_built() {
        assert!(document().is_ok());
    }
}
