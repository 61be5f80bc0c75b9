//! Live push of notifications over WebSocket (`/ws/notifications`): the sockets this replica
//! holds ([`hub`]), each one's life ([`socket`]), the fan-out between replicas over Redis
//! ([`bus`]) and the rule that only committed notifications are pushed ([`outbox`]).

pub mod bus;
mod handlers;
pub mod hub;
pub mod outbox;
pub mod push;
pub mod socket;

pub use handlers::BEARER_PROTOCOL;

use crate::AppState;
use axum::Router;
use axum::routing::get;
use crm_common::cache::Cache;
use std::sync::Arc;

/// This replica's sockets and the way to every replica's.
#[derive(Clone)]
pub struct Live {
    pub hub: Arc<hub::Hub>,
    cache: Cache,
}

impl Live {
    pub fn new(cache: Cache) -> Self {
        Self { hub: Arc::default(), cache }
    }

    /// Sends a committed notification to its recipient's sockets on every replica.
    pub async fn publish(&self, p: &push::Push) {
        bus::publish(&self.hub, &self.cache, p).await;
    }

    /// Starts delivering what other replicas publish (with Redis only).
    pub fn spawn_subscriber(&self) -> Option<tokio::task::JoinHandle<()>> {
        bus::spawn_subscriber(self.hub.clone(), self.cache.clone())
    }
}

pub fn routes() -> Router<AppState> {
    Router::new().route("/ws/notifications", get(handlers::connect))
}

#[derive(utoipa::OpenApi)]
#[openapi(paths(handlers::connect))]
pub struct Api;
