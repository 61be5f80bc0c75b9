//! foundation's integration tests: one binary, a real server per test on a fresh SQLite or
//! PostgreSQL database (every test runs on both), real HTTP.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod audit;
mod audit_processes;
mod auth;
mod bad_input;
mod cache;
mod commands;
mod domains;
mod employees;
mod helpers;
mod lists;
mod menus;
mod openapi;
mod organizations;
mod positions;
mod processes;
mod roles_permissions;
mod round_trips;
mod security;
mod sessions;
mod uploads;
mod users;
mod walkthrough;
mod worklogs;
