//! Permission codes that guard this service's routes. They live in foundation's catalogue, which
//! grants them to the preset roles: everyone reads the catalogue, administrators manage it.

use crm_common::permissions;

permissions! {
    /// Read categories, service types, products and dependencies.
    CatalogView => "catalog.view",
    /// Change them (BANTU's administrators: the catalogue is the company's).
    CatalogManage => "catalog.manage",
    /// Read vendor offers (one's own organization's, or all for BANTU staff).
    VendorProductView => "vendor_product.view",
    /// Change one's own organization's offers (any vendor's for BANTU administrators).
    VendorProductManage => "vendor_product.manage",
    PriceView => "price.view",
    PriceManage => "price.manage",
    PriceApprove => "price.approve",
    CustomerView => "customer.view",
    CustomerCreate => "customer.create",
    CustomerUpdate => "customer.update",
    CustomerDelete => "customer.delete",
    ServiceRecordView => "service_record.view",
    ServiceRecordManage => "service_record.manage",
    /// Read the aggregates served to analytics-monitoring (`/stats/*`).
    AnalyticsView => "analytics.view",
}

/// Sees customers' and contacts' phones, e-mails, WeChat ids and passport numbers unmasked
/// (besides the record's owner).
pub const CUSTOMER_PII: &str = "customer.pii";
