//! Permission codes that guard this service's routes. They live in foundation's catalogue, which
//! grants them to the sellers (ADMIN, SALES, AGENT); which lead or opportunity a holder may touch
//! is decided per record (organization, owner, public pool) in `leads::service` and
//! `opportunities::service`.

use crm_common::permissions;

permissions! {
    /// Create leads.
    LeadCreate => "lead.create",
    /// Read one lead, its follow-ups and notes.
    LeadView => "lead.view",
    /// Change, delete, move to the pool, assign, follow up and annotate leads.
    LeadUpdate => "lead.update",
    /// List leads and check for duplicates.
    LeadList => "lead.list",
    /// Create orders (sellers and operations).
    OrderCreate => "order.create",
    /// Read one order and its items.
    OrderView => "order.view",
    /// List orders.
    OrderList => "order.list",
    /// Change orders and their items, move them along the status machine, delete them (which
    /// order, and which move, is decided per record and role in `orders::rules`).
    OrderUpdate => "order.update",
    /// Assign orders to operators.
    OrderAssign => "order.assign",
    /// Convert a lead into a customer (in service-management) and an opportunity.
    LeadConvert => "lead.convert",
    /// Create opportunities.
    OpportunityCreate => "opportunity.create",
    /// Read one opportunity, its products, payment stages, follow-ups and notes; check product
    /// dependencies.
    OpportunityView => "opportunity.view",
    /// Change, delete, move, assign, follow up and annotate opportunities.
    OpportunityUpdate => "opportunity.update",
    /// List opportunities.
    OpportunityList => "opportunity.list",
    /// Manage payment stages, record payments and manage collection tasks (finance and
    /// managers); everyone who sees an order reads its money.
    PaymentManage => "payment.manage",
    /// Read workflow definitions and instances; list, take and complete one's tasks (whether a
    /// completion may move an order is decided by `orders::rules`, as by hand).
    WorkflowView => "workflow.view",
    /// Write workflow definitions (switch workflow-driven orders on), start, suspend, resume and
    /// end instances, see and take every task of the organization, assign tasks to others.
    WorkflowManage => "workflow.manage",
    /// Read the aggregates served to analytics-monitoring (`/stats/*`).
    AnalyticsView => "analytics.view",
    /// Share a resource one sees by a temporary link, list and disable one's own links (opening
    /// a link is public: its token is the credential).
    TemporaryLinkManage => "temporary_link.manage",
}

/// Every code this service checks, so a test can hold them against foundation's catalogue (an
/// administrator can grant only what is in it).
pub const CODES: &[&str] = &[
    <LeadCreate as crm_common::auth::Permission>::CODE,
    <LeadView as crm_common::auth::Permission>::CODE,
    <LeadUpdate as crm_common::auth::Permission>::CODE,
    <LeadList as crm_common::auth::Permission>::CODE,
    <OrderCreate as crm_common::auth::Permission>::CODE,
    <OrderView as crm_common::auth::Permission>::CODE,
    <OrderList as crm_common::auth::Permission>::CODE,
    <OrderUpdate as crm_common::auth::Permission>::CODE,
    <OrderAssign as crm_common::auth::Permission>::CODE,
    <LeadConvert as crm_common::auth::Permission>::CODE,
    <OpportunityCreate as crm_common::auth::Permission>::CODE,
    <OpportunityView as crm_common::auth::Permission>::CODE,
    <OpportunityUpdate as crm_common::auth::Permission>::CODE,
    <OpportunityList as crm_common::auth::Permission>::CODE,
    <PaymentManage as crm_common::auth::Permission>::CODE,
    <WorkflowView as crm_common::auth::Permission>::CODE,
    <WorkflowManage as crm_common::auth::Permission>::CODE,
    <AnalyticsView as crm_common::auth::Permission>::CODE,
    <TemporaryLinkManage as crm_common::auth::Permission>::CODE,
    ORDER_APPROVE,
    CUSTOMER_PII,
];

/// Approves orders, cancels them after approval, deletes any: the managers' part of the status
/// machine.
pub const ORDER_APPROVE: &str = "order.approve";

/// Sees leads' phones and e-mails unmasked (besides the lead's owner). The same code as
/// customers': a lead's contact details are a future customer's.
pub const CUSTOMER_PII: &str = "customer.pii";
