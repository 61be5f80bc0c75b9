//! foundation's integration tests: one binary, a real server per test on a fresh SQLite or
//! PostgreSQL database (every test runs on both), real HTTP.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod auth;
mod bad_input;
mod cache;
mod helpers;
mod organizations;
mod roles_permissions;
mod security;
mod users;
mod walkthrough;
