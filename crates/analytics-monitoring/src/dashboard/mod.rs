//! The monitoring dashboard: one page at `/dashboard` (outside the API prefix, so that the gateway
//! can route it by a path override and list it as public) that an operator opens in a browser. It
//! shows every service's health and latency from the fan-out, refreshed every few seconds; this
//! host's and the database's metrics as small hand-drawn SVG charts; the active alerts with an
//! acknowledge button; and a log search. It calls the public API with the operator's own token,
//! obtained from a login form on the page, so the page itself holds no data and needs no token.
//!
//! The assets are compiled into the binary (`include_str!`): the page works offline and in an
//! air-gapped deployment, with nothing fetched from a CDN and no npm build step. Every answer
//! carries a Content-Security-Policy allowing only this origin (no inline script or style, no
//! framing), which is also why the script writes all text through `textContent`.

mod handlers;

use axum::Router;
use axum::routing::get;

pub use handlers::{CONTENT_SECURITY_POLICY, INDEX};

/// Mounted at the root of the service's router, beside `/api/analytics-monitoring`.
pub fn routes<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new().route("/dashboard", get(handlers::page)).route("/dashboard/{asset}", get(handlers::asset))
}

#[derive(utoipa::OpenApi)]
#[openapi(
    paths(handlers::page, handlers::asset),
    tags((name = "dashboard", description = "The monitoring dashboard page and its assets (public; the page \
        calls the API with the operator's token)."))
)]
pub struct Api;
