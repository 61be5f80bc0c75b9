//! An order's payment stages (deposit, interim, final…) and the payments recorded against them.
//! Paid and remaining amounts follow every payment in the same transaction; a stage's status
//! moves forward only (`pending → partial → paid`, `overdue` past its due date while money
//! remains, `cancelled` by hand). Finance and managers record payments; whoever sees the order
//! reads them. Stages are also copied from an opportunity when it becomes an order
//! ([`service::copy_from_opportunity`]).

mod dto;
mod handlers;
pub mod model;
pub mod rules;
pub mod service;

pub use dto::{CreatePaymentStage, PaymentStageView, PaymentView, RecordPayment, UpdatePaymentStage};

use crate::AppState;
use axum::Router;
use axum::routing::get;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/orders/{id}/payment-stages", get(handlers::list).post(handlers::create))
        .route(
            "/orders/{id}/payment-stages/{stage_id}",
            get(handlers::get).put(handlers::update).delete(handlers::delete),
        )
        .route("/orders/{id}/payment-stages/{stage_id}/payments", get(handlers::payments).post(handlers::record))
}

#[derive(utoipa::OpenApi)]
#[openapi(paths(
    handlers::list,
    handlers::create,
    handlers::get,
    handlers::update,
    handlers::delete,
    handlers::payments,
    handlers::record
))]
pub struct Api;
