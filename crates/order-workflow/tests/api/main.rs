//! order-workflow's integration tests: one binary; every test runs on SQLite and on PostgreSQL,
//! against a real foundation (identity, names) and a real service-management (customer levels,
//! customers, products and their dependencies), both in process over real HTTP.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod collection;
mod conversions;
mod gateway;
mod helpers;
mod leads;
mod notifications;
mod openapi;
mod opportunities;
mod order_comments;
mod order_files;
mod orders;
mod payments;
mod pool;
mod stages;
mod temporary_links;
mod workflows;
