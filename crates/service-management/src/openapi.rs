//! service-management's OpenAPI 3.1 document, generated from the code like foundation's: each
//! resource's `Api` lists the handlers its `routes()` mounts. Served without authentication at
//! `GET /api/service-management/openapi.json`.

use crate::{
    categories, contacts, customers, dependencies, lookup, prices, products, reference, service_records, service_types,
    stats, sync, vendors,
};
use axum::response::Response;
use crm_common::api::openapi::{Served, render};
use utoipa::OpenApi;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "BANTU CRM service-management",
        description = "The service catalogue: categories, service types, products with prices in IDR and CNY, \
            vendor offers (suppliers), time-bounded prices with their history, and product dependencies. Every \
            JSON response is the envelope `{code, message, data, timestamp, request_id}`. Authenticate with \
            `Authorization: Bearer <access token>` from foundation's login. Amounts are JSON numbers with their \
            exact decimal digits."
    ),
    paths(serve),
    tags(
        (name = "categories", description = "Product categories, multi-level, and the category tree."),
        (name = "service-types", description = "Kinds of service (landing visa, business visa, …)."),
        (name = "products", description = "Sellable services with their four price levels in two currencies."),
        (name = "suppliers", description = "Vendor organizations' offers: which products each supplies, at what cost."),
        (name = "prices", description = "Time-bounded prices, generic or vendor-specific, and the price history."),
        (name = "product-dependencies", description = "Which products require or recommend others \
            (served at the original's path under /api/order-workflow)."),
        (name = "reference", description = "Industries, customer sources, customer levels and follow-up statuses, \
            in Chinese or Indonesian (`lang`)."),
        (name = "customers", description = "Customers, their follow-ups and notes: sellers see their own, \
            administrators their organization's; contact details masked without `customer.pii`; updates \
            conditional on `version`."),
        (name = "sync", description = "Offline sync of customers and follow-ups: a batch of offline writes \
            with conflicts reported per item, and the changes since a cursor in commit order."),
        (name = "contacts", description = "The people to talk to at a customer: seen through the customer, \
            contact details masked like the customer's, one primary per customer; updates conditional on `version`."),
        (name = "service-records", description = "What each customer needs: seen with the customer or by its \
            salesperson, urgent first, status following a fixed flow; updates conditional on `version`."),
        (name = "lookup", description = "Batched id → name lookups of customers and products for the other \
            services' answers: the records among `ids` the caller may see."),
        (name = "stats", description = "Aggregates computed here for analytics-monitoring: customers' summary \
            and daily creations, service records' statistics, scoped to the caller's organization."),
        (name = "docs", description = "This document."),
    )
)]
struct Root;

pub fn parts() -> Vec<utoipa::openapi::OpenApi> {
    vec![
        categories::Api::openapi(),
        service_types::Api::openapi(),
        products::Api::openapi(),
        vendors::Api::openapi(),
        prices::Api::openapi(),
        dependencies::Api::openapi(),
        reference::Api::openapi(),
        customers::Api::openapi(),
        sync::Api::openapi(),
        contacts::Api::openapi(),
        service_records::Api::openapi(),
        lookup::Api::openapi(),
        stats::Api::openapi(),
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
    path = "/api/service-management/openapi.json",
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
