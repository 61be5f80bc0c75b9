//! order-workflow's OpenAPI 3.1 document, generated from the code like the other services': each
//! resource's `Api` lists the handlers its `routes()` mounts. Served without authentication at
//! `GET /api/order-workflow/openapi.json`.

use crate::{
    collection, leads, live, notifications, opportunities, order_comments, order_files, order_stages, orders,
    payment_stages, stats, tasks, temporary_links, workflows,
};
use axum::response::Response;
use crm_common::api::openapi::{Served, render};
use utoipa::OpenApi;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "BANTU CRM order-workflow",
        description = "Leads: prospects with their follow-ups and notes, the organization's public pool, the lead \
            status machine and the duplicate check; opportunities with their products, payment stages, follow-ups and \
            notes; the conversion of a lead into a customer and an opportunity. Every JSON response is the envelope `{code, message, data, \
            timestamp, request_id}`. Authenticate with `Authorization: Bearer <access token>` from foundation's \
            login. Customer levels, product dependencies and follow-up statuses under this prefix are served by \
            service-management."
    ),
    paths(serve),
    tags(
        (name = "leads", description = "Leads: sellers see their own and the public pool, administrators their \
            organization's; phone and e-mail masked without `customer.pii`; updates conditional on `version`; \
            conversion into a customer (in service-management) and an opportunity."),
        (name = "opportunities", description = "Opportunities: sellers see their own, administrators their \
            organization's; stage and status kept consistent; products checked against service-management's \
            dependencies, their names and codes copied; amounts exact; updates conditional on `version`."),
        (name = "orders", description = "Orders and their items: numbers generated, totals always the items' sum, \
            the status machine with who may make each move; items at the original's flat paths and the nested ones."),
        (name = "order-stages", description = "An order's delivery stages: status forward only, progress 0–100; \
            the order completes only when its stages do."),
        (name = "payments", description = "An order's payment stages and the payments recorded against them: paid \
            and remaining amounts follow every payment; status forward only, overdue past the due date."),
        (name = "collection", description = "Collection tasks: manual ones, and the automatic job's one task per due \
            payment stage; the assignee is notified."),
        (name = "notifications", description = "The caller's in-app notifications, and the WebSocket that \
            pushes each new one live (`/ws/notifications`, authenticated by the subprotocols `bearer, <token>`)."),
        (name = "workflows", description = "Workflow definitions (stages, tasks, transitions with conditions), \
            validated on save; instances bound to an order or a service record; the seeded `order_approval`, which \
            drives new orders' status once switched on."),
        (name = "tasks", description = "The caller's tasks: a workflow's, for them or their role, and their own; \
            completing one moves its workflow."),
        (name = "stats", description = "Aggregates computed here for analytics-monitoring: orders' summary, \
            daily revenue, opportunities' summary and funnel, scoped to the caller's organization."),
        (name = "temporary-links", description = "Share links: a random token that opens one resource a limited \
            number of times, without signing in."),
        (name = "docs", description = "This document."),
    )
)]
struct Root;

pub fn parts() -> Vec<utoipa::openapi::OpenApi> {
    vec![
        leads::Api::openapi(),
        opportunities::Api::openapi(),
        orders::Api::openapi(),
        order_comments::Api::openapi(),
        order_files::Api::openapi(),
        order_stages::Api::openapi(),
        payment_stages::Api::openapi(),
        collection::Api::openapi(),
        notifications::Api::openapi(),
        workflows::Api::openapi(),
        tasks::Api::openapi(),
        stats::Api::openapi(),
        live::Api::openapi(),
        temporary_links::Api::openapi(),
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
    path = "/api/order-workflow/openapi.json",
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
