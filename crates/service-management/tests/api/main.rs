//! service-management's integration tests: one binary; every test runs on SQLite and on
//! PostgreSQL, against a real foundation (in process, over real HTTP) for identity and names.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod categories;
mod contacts;
mod customers;
mod dependencies;
mod gateway;
mod helpers;
mod identity;
mod lookup;
mod openapi;
mod prices;
mod products;
mod service_records;
mod service_types;
mod sync;
mod vendors;
mod walkthrough;
