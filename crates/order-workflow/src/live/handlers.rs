use super::hub::TooMany;
use super::push::Lang;
use super::socket;
use crate::AppState;
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{State, ws::rejection::WebSocketUpgradeRejection};
use axum::http::HeaderMap;
use axum::http::header::{AUTHORIZATION, SEC_WEBSOCKET_PROTOCOL};
use axum::response::{IntoResponse, Response};
use crm_common::api::Query;
use crm_common::api::openapi::{BadRequest, TooManyRequests, Unauthorized};
use crm_common::auth::JwtError;
use crm_common::{ApiError, ApiResult};
use serde::Deserialize;
use std::time::Duration;
use utoipa::IntoParams;

/// The subprotocol a browser names beside its token: `new WebSocket(url, ["bearer", token])`.
pub const BEARER_PROTOCOL: &str = "bearer";

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Connect {
    /// `zh` (default) or `id`: the language of the titles and messages pushed.
    pub lang: Option<String>,
}

/// The caller's token: from `Sec-WebSocket-Protocol: bearer, <token>` (what a browser can send)
/// or `Authorization: Bearer <token>` (any other client). Neither is ever logged, unlike a URL.
fn token(headers: &HeaderMap) -> Result<&str, ApiError> {
    let offered = headers
        .get_all(SEC_WEBSOCKET_PROTOCOL)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim);
    let mut after_bearer = false;
    for p in offered {
        if after_bearer && !p.is_empty() {
            return Ok(p);
        }
        after_bearer = p.eq_ignore_ascii_case(BEARER_PROTOCOL);
    }
    if headers.contains_key(AUTHORIZATION) {
        return crm_common::auth::bearer_token(headers);
    }
    Err(ApiError::unauthorized("authentication required: Sec-WebSocket-Protocol: bearer, <token>"))
}

/// The caller's notifications, live
///
/// A WebSocket (`GET` with `Upgrade: websocket`; 101 on success). Each notification written for
/// the caller from now on arrives as a text message
/// `{"type":"notification","data":{id,title,message,category,timestamp,read}}` on every socket
/// they hold. Authentication: the subprotocols `bearer, <access token>` (a browser:
/// `new WebSocket(url, ["bearer", token])`; the answer selects `bearer`), or an `Authorization`
/// header. The server pings every `CRM_WS_PING_SECS` and closes a socket silent for
/// `CRM_WS_IDLE_SECS` (1001), one that does not read its messages (1008), and one whose token
/// has expired (4401: reconnect with a fresh token).
#[utoipa::path(get, path = "/api/order-workflow/ws/notifications", tag = "notifications", params(Connect),
    responses((status = 101, description = "Switched to WebSocket"),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 429, response = TooManyRequests)))]
pub async fn connect(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<Connect>,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> ApiResult<Response> {
    let token = token(&headers)?;
    let auth = &state.auth;
    let claims = auth.verifier.verify(token).await.map_err(|err| match err {
        JwtError::Expired => ApiError::unauthorized("token expired"),
        _ => ApiError::unauthorized("invalid token"),
    })?;
    let caller = auth.resolver.resolve(&claims, token, None).await?;
    let lang = Lang::parse(q.lang.as_deref()).ok_or_else(|| ApiError::field("lang", "must be zh or id"))?;
    let upgrade = upgrade.map_err(|_| ApiError::bad_request("a WebSocket handshake is required here"))?;
    let limits = state.config.live.clone();
    let reg = state.live.hub.register(caller.user_id, lang, limits.queue, limits.max_per_user).map_err(|TooMany| {
        ApiError::TooManyRequests { message: "too many open notification sockets".into(), retry_after_secs: 60 }
    })?;
    let left = u64::try_from(claims.exp - chrono::Utc::now().timestamp()).unwrap_or(0);
    let expires = tokio::time::Instant::now() + Duration::from_secs(left);
    Ok(upgrade
        .protocols([BEARER_PROTOCOL])
        // Small buffers: a socket mostly idles, and the defaults (128 KiB each way) would be most
        // of its memory. Clients send nothing but pongs and closes.
        .read_buffer_size(4096)
        .write_buffer_size(0)
        .max_write_buffer_size(64 * 1024)
        .max_message_size(4096)
        .on_upgrade(move |ws| socket::run(ws, reg, limits, expires))
        .into_response())
}
