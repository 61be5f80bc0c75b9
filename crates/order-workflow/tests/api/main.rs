//! order-workflow's integration tests: one binary; every test runs on SQLite and on PostgreSQL,
//! against a real foundation (identity, names) and a real service-management (customer levels),
//! both in process over real HTTP.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod gateway;
mod helpers;
mod leads;
mod openapi;
mod order_comments;
mod order_files;
mod orders;
mod pool;
