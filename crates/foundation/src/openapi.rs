//! foundation's OpenAPI 3.1 document, generated from the code: each resource's `Api` lists the
//! handlers its `routes()` mounts, the handlers carry their `#[utoipa::path]`, and the request and
//! response types derive `ToSchema`. Served without authentication at
//! `GET /api/foundation/openapi.json`: it describes the API and holds no data.
//!
//! No `servers` are set: every path is absolute (`/api/foundation/…`), so the document is valid
//! wherever it is served from, the service itself or the gateway.

use crate::{
    audit, auth, directory, domains, employees, menus, organizations, permissions, positions, roles, stats, tasks,
    uploads, users, worklogs,
};
use axum::response::Response;
use crm_common::api::openapi::{Served, render};
use crm_common::contracts::AUDIT_TOKEN_HEADER;
use utoipa::OpenApi;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, SecurityScheme};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "BANTU CRM foundation",
        description = "Identity and administration. Every JSON response is the envelope \
            `{code, message, data, timestamp, request_id}` with `code` equal to the HTTP status; errors carry \
            `data: null`, except 400 (the failing fields) and 409 after a stale `version` (the record as it now is). \
            Authenticate with `Authorization: Bearer <access token>` from `POST /api/foundation/auth/login`; \
            `X-Organization-Id` picks another organization the caller belongs to."
    ),
    paths(serve),
    tags(
        (name = "auth", description = "Login, token refresh and logout, the caller's profile, the token \
            verification keys and self-registration."),
        (name = "users", description = "Login accounts: profile, roles, lock state and passwords."),
        (name = "employees", description = "The organization's members in seed 002's shape: one position and \
            one role each, over the same accounts as users."),
        (name = "organizations", description = "Organizations (BANTU internal units, agents, vendors) and \
            their members."),
        (name = "roles", description = "Global role codes that carry permissions; the five preset roles \
            always exist."),
        (name = "permissions", description = "Permission points (`resource.action`) and their grants to roles."),
        (name = "menus", description = "The admin frontend's navigation tree, each entry opened by permissions."),
        (name = "organization-domains", description = "The catalogue of business domains, and which of them \
            each organization works in."),
        (name = "positions", description = "An organization's job hierarchy."),
        (name = "worklogs", description = "Members' daily work logs, with self and supervisor ratings."),
        (name = "uploads", description = "Files members upload for their organization: avatars, documents \
            and exports."),
        (name = "audit-logs", description = "The audit log every service writes to: search, histories, export \
            and ingest."),
        (name = "stats", description = "Aggregates computed here for analytics-monitoring: users' activity and \
            organizations' summary, scoped to the caller's organization."),
        (name = "docs", description = "This document."),
    )
)]
struct Root;

/// The name of the ingest secret's security scheme (`X-Audit-Token`).
const AUDIT_TOKEN: &str = "audit_token";

/// Each resource's operations, in the order the router mounts them.
pub fn parts() -> Vec<utoipa::openapi::OpenApi> {
    vec![
        auth::Api::openapi(),
        directory::Api::openapi(),
        users::Api::openapi(),
        employees::Api::openapi(),
        organizations::Api::openapi(),
        roles::Api::openapi(),
        permissions::Api::openapi(),
        menus::Api::openapi(),
        domains::Api::openapi(),
        positions::Api::openapi(),
        worklogs::Api::openapi(),
        tasks::Api::openapi(),
        uploads::Api::openapi(),
        audit::Api::openapi(),
        stats::Api::openapi(),
    ]
}

/// The generated document, before the shared finishing in [`crm_common::api::openapi::finish`].
pub fn generated() -> utoipa::openapi::OpenApi {
    let mut doc = Root::openapi();
    for part in parts() {
        doc.merge(part);
    }
    let audit_token = ApiKey::Header(ApiKeyValue::with_description(
        AUDIT_TOKEN_HEADER,
        "The services' shared ingest secret (`CRM_AUDIT_INGEST_TOKEN`).",
    ));
    doc.components
        .get_or_insert_with(Default::default)
        .add_security_scheme(AUDIT_TOKEN, SecurityScheme::ApiKey(audit_token));
    doc
}

/// The document as served.
pub fn document() -> Result<serde_json::Value, serde_json::Error> {
    crm_common::api::openapi::finish(generated())
}

static DOCUMENT: Served = Served::new(|| render(generated()));

/// This OpenAPI document
#[utoipa::path(
    get,
    path = "/api/foundation/openapi.json",
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
    fn the_document_is_openapi_3_1() {
        let doc = document().unwrap_or_default();
        assert!(doc["openapi"].as_str().is_some_and(|v| v.starts_with("3.1")), "{}", doc["openapi"]);
        assert_eq!(doc["info"]["version"], crate::VERSION);
        assert!(doc.get("servers").is_none(), "servers are not hard-coded");
    }
}
