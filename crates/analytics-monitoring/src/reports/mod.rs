//! Report exports (seed 004): `POST /reports/export` starts a background job that makes an XLSX
//! workbook of the caller's organization's orders, leads or customers created in a date range;
//! `GET /reports/jobs` lists the caller's jobs with their progress; `GET /reports/jobs/{id}/download`
//! returns the finished file.
//!
//! The rows come from their owners over HTTP (order-workflow's orders and leads,
//! service-management's customers), a page at a time with the caller's token, so each owner applies
//! its own visibility and tenancy rules; this service never reads their tables. The jobs and their
//! files are kept in this service's database, so any replica can list and serve them. Exports are
//! limited per user per window (`CRM_RATELIMIT_EXPORT`, the gateway's export limit, default
//! 5/hour): the gateway counts requests, this service counts jobs, so a caller that reaches a
//! replica directly is held to the same limit.

mod dto;
mod handlers;
pub mod model;
pub mod rules;
pub mod service;
pub mod xlsx;

pub use dto::ExportRequest;
pub use rules::ReportSettings;

use crate::AppState;
use axum::Router;
use axum::routing::{get, post};

crm_common::permissions! {
    /// Export the organization's orders, leads or customers as XLSX reports.
    ReportExport => "report.export",
}

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/reports/export", post(handlers::export))
        .route("/reports/jobs", get(handlers::list))
        .route("/reports/jobs/{id}/download", get(handlers::download))
}

#[derive(utoipa::OpenApi)]
#[openapi(
    paths(handlers::export, handlers::list, handlers::download),
    tags((name = "reports", description = "Report exports: background XLSX jobs with progress, limited per user."))
)]
pub struct Api;
