//! analytics-monitoring's integration tests: one binary; every test runs on SQLite and on
//! PostgreSQL, against a real foundation, service-management and order-workflow, each in process
//! over real HTTP on its own database.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod alerts;
mod analytics;
mod dashboard;
mod helpers;
mod logs;
mod monitoring;
mod openapi;
mod reports;
mod seed;
mod webdriver;
