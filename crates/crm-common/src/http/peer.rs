//! Calls from one service to another. One client per peer: the caller's bearer token,
//! `X-Request-ID`, `traceparent` and `X-Organization-Id` travel with every call (when traces are
//! exported, each call is a client span of the request's trace and `traceparent` names it); connect and total
//! timeouts bound it; a peer that is down becomes a 503 and a slow one a 504, both naming the
//! peer, never a 500 and never a hang. A peer's own 4xx answers pass through with their message
//! (a 404 of a customer in order-workflow is the caller's 404 too).
//!
//! [`NameLookup`] is the batched id → name resolution DESIGN §12 asks for: one call per page and
//! peer for the ids not already cached, briefly cached in the service's [`Cache`].

use crate::api::ApiError;
use crate::cache::Cache;
use crate::http::REQUEST_ID_HEADER;
use crate::telemetry::otlp::{RequestSpan, TRACEPARENT};
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::collections::{BTreeSet, HashMap};
use std::time::Duration;
use uuid::Uuid;

/// What a call to a peer carries of the request being served.
#[derive(Debug, Clone, Default)]
pub struct Forward {
    pub authorization: Option<String>,
    pub request_id: Option<String>,
    pub traceparent: Option<String>,
    pub organization: Option<String>,
}

impl Forward {
    pub fn from_headers(headers: &HeaderMap) -> Self {
        let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
        Self {
            authorization: text("authorization"),
            request_id: text(REQUEST_ID_HEADER),
            traceparent: text(TRACEPARENT),
            organization: text("x-organization-id"),
        }
    }

    /// Only the bearer token (a call made on the service's own behalf for a caller).
    pub fn bearer(token: &str) -> Self {
        Self { authorization: Some(format!("Bearer {token}")), ..Self::default() }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Forward {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Self::from_headers(&parts.headers))
    }
}

/// Timeouts of calls to one peer.
#[derive(Debug, Clone, Copy)]
pub struct PeerTimeouts {
    pub connect: Duration,
    pub total: Duration,
}

impl Default for PeerTimeouts {
    fn default() -> Self {
        Self { connect: Duration::from_secs(2), total: Duration::from_secs(10) }
    }
}

/// A client of one peer service (`foundation`, `service-management`, …) at a base URL.
#[derive(Clone)]
pub struct PeerClient {
    name: &'static str,
    base: String,
    http: reqwest::Client,
}

#[derive(serde::Deserialize)]
struct PeerEnvelope<T> {
    #[serde(default)]
    message: String,
    data: Option<T>,
}

impl PeerClient {
    /// `base` is the peer's root (`http://127.0.0.1:8081`); paths are absolute (`/api/…`).
    pub fn new(name: &'static str, base: &str, timeouts: PeerTimeouts) -> Result<Self, String> {
        let http = reqwest::Client::builder()
            .connect_timeout(timeouts.connect)
            .timeout(timeouts.total)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| e.to_string())?;
        Ok(Self { name, base: base.trim_end_matches('/').to_owned(), http })
    }

    pub fn name(&self) -> &'static str {
        self.name
    }

    pub async fn get<T: DeserializeOwned>(&self, path: &str, forward: &Forward) -> Result<T, ApiError> {
        self.call(Method::GET, path, forward, None::<&()>).await
    }

    pub async fn post<T: DeserializeOwned, B: Serialize>(
        &self,
        path: &str,
        forward: &Forward,
        body: &B,
    ) -> Result<T, ApiError> {
        self.call(Method::POST, path, forward, Some(body)).await
    }

    /// One call; the envelope's `data` comes back as `T` (a `null` data reads as `T`'s
    /// deserialization of `null`).
    pub async fn call<T: DeserializeOwned, B: Serialize>(
        &self,
        method: Method,
        path: &str,
        forward: &Forward,
        body: Option<&B>,
    ) -> Result<T, ApiError> {
        let span = crate::telemetry::otlp::client_span(method.as_str(), self.name);
        if let Some(span) = &span {
            span.set("http.request.method", method.as_str().to_owned());
            span.set("peer.service", self.name);
            span.set("url.path", path.split('?').next().unwrap_or_default().to_owned());
        }
        let result = self.send(method, path, forward, body, span.as_ref()).await;
        if let Some(span) = span {
            let failure = match &result {
                Err(ApiError::Unavailable(_)) => Some("unavailable"),
                Err(ApiError::GatewayTimeout(_)) => Some("timeout"),
                _ => None,
            };
            span.status(result.as_ref().map_or_else(|e| e.status().as_u16(), |(status, _)| *status), failure);
        }
        let (status, bytes) = result?;
        if (200..300).contains(&status) {
            let envelope: PeerEnvelope<T> = serde_json::from_slice(&bytes).map_err(|e| self.bad_answer(e))?;
            return match envelope.data {
                Some(data) => Ok(data),
                None => serde_json::from_value(Value::Null).map_err(|e| self.bad_answer(e)),
            };
        }
        let message = serde_json::from_slice::<PeerEnvelope<Value>>(&bytes).map(|e| e.message).unwrap_or_default();
        Err(self.status_error(status, message))
    }

    /// The HTTP exchange of [`Self::call`]: the peer's status and body, or the transport's failure.
    /// The `traceparent` sent names the call's client span when traces are exported, else it is
    /// the caller's as received.
    async fn send<B: Serialize>(
        &self,
        method: Method,
        path: &str,
        forward: &Forward,
        body: Option<&B>,
        span: Option<&RequestSpan>,
    ) -> Result<(u16, axum::body::Bytes), ApiError> {
        let mut req = self.http.request(method, format!("{}{path}", self.base));
        if let Some(v) = &forward.authorization {
            req = req.header("authorization", v);
        }
        let request_id = forward.request_id.clone().unwrap_or_else(crate::api::request_id);
        if !request_id.is_empty() {
            req = req.header(REQUEST_ID_HEADER, request_id);
        }
        if let Some(v) = span.and_then(RequestSpan::traceparent).or_else(|| forward.traceparent.clone()) {
            req = req.header(TRACEPARENT, v);
        }
        if let Some(v) = &forward.organization {
            req = req.header("x-organization-id", v);
        }
        if let Some(b) = body {
            req = req.json(b);
        }
        let response = req.send().await.map_err(|e| self.transport_error(&e))?;
        let status = response.status().as_u16();
        let bytes = response.bytes().await.map_err(|e| self.transport_error(&e))?;
        Ok((status, bytes))
    }

    fn transport_error(&self, err: &reqwest::Error) -> ApiError {
        if err.is_timeout() {
            tracing::warn!(peer = self.name, error = %err, "peer call timed out");
            ApiError::GatewayTimeout(format!("{} did not answer in time", self.name))
        } else {
            tracing::warn!(peer = self.name, error = %err, "peer call failed");
            ApiError::Unavailable(format!("{} is unavailable", self.name))
        }
    }

    fn bad_answer(&self, err: impl std::fmt::Display) -> ApiError {
        tracing::warn!(peer = self.name, error = %err, "peer answered with an unexpected body");
        ApiError::BadGateway(format!("{} gave an invalid answer", self.name))
    }

    /// A peer's error as this service's: the caller's mistakes keep their status and message;
    /// the peer's own failures are a 502/503/504 naming it.
    fn status_error(&self, status: u16, message: String) -> ApiError {
        let message = if message.is_empty() { format!("{} answered {status}", self.name) } else { message };
        match status {
            400 | 422 => ApiError::BadRequest(message),
            401 => ApiError::Unauthorized(message),
            403 => ApiError::Forbidden(message),
            404 => ApiError::NotFound(message),
            409 => ApiError::Conflict { message, current: None },
            410 => ApiError::Gone(message),
            413 => ApiError::PayloadTooLarge(message),
            429 => ApiError::TooManyRequests { message, retry_after_secs: 1 },
            503 => ApiError::Unavailable(format!("{} is unavailable", self.name)),
            504 => ApiError::GatewayTimeout(format!("{} did not answer in time", self.name)),
            _ => {
                tracing::warn!(peer = self.name, status, "peer failed");
                ApiError::BadGateway(format!("{} failed", self.name))
            }
        }
    }
}

/// Batched, cached id → record lookups against one peer endpoint that takes `?ids=a,b,c` and
/// answers an array of objects with an `id` field (e.g. foundation's `/lookup/users`).
#[derive(Clone)]
pub struct NameLookup {
    peer: PeerClient,
    path: &'static str,
    cache: Cache,
    ttl: Duration,
    /// The peer answers differently per caller (users: only the caller's organization's), so
    /// cached answers are kept per caller, never served to another.
    per_caller: bool,
}

/// Ids per call: keeps the query string well under any server's URL limit.
const LOOKUP_CHUNK: usize = 200;

impl NameLookup {
    /// A lookup whose answers are the same for every caller (organizations' names and kinds).
    pub fn new(peer: PeerClient, path: &'static str, cache: Cache, ttl: Duration) -> Self {
        Self { peer, path, cache, ttl, per_caller: false }
    }

    /// A lookup whose answers depend on who asks (users, seen within the caller's
    /// organization): what one caller was told is cached for that caller only.
    pub fn per_caller(peer: PeerClient, path: &'static str, cache: Cache, ttl: Duration) -> Self {
        Self { per_caller: true, ..Self::new(peer, path, cache, ttl) }
    }

    fn key(&self, id: Uuid, forward: &Forward) -> String {
        if self.per_caller {
            use sha2::{Digest, Sha256};
            let caller = forward.authorization.as_deref().unwrap_or_default();
            let org = forward.organization.as_deref().unwrap_or_default();
            let digest = Sha256::digest(format!("{caller}|{org}").as_bytes());
            let hex: String = digest.iter().take(12).map(|b| format!("{b:02x}")).collect();
            format!("lookup:{}:{}:{hex}:{id}", self.peer.name(), self.path)
        } else {
            format!("lookup:{}:{}:{id}", self.peer.name(), self.path)
        }
    }

    /// The records of `ids` the caller may see; unknown or hidden ids are simply absent. At most
    /// one call to the peer per [`LOOKUP_CHUNK`] ids not cached, none when all are.
    pub async fn get(
        &self,
        ids: impl IntoIterator<Item = Uuid>,
        forward: &Forward,
    ) -> Result<HashMap<Uuid, Value>, ApiError> {
        let wanted: BTreeSet<Uuid> = ids.into_iter().filter(|id| !id.is_nil()).collect();
        let mut found = HashMap::with_capacity(wanted.len());
        let mut missing = Vec::new();
        for id in wanted {
            match self.cache.get(&self.key(id, forward)).await.and_then(|s| serde_json::from_str::<Value>(&s).ok()) {
                Some(v) => {
                    found.insert(id, v);
                }
                None => missing.push(id),
            }
        }
        for chunk in missing.chunks(LOOKUP_CHUNK) {
            let ids: Vec<String> = chunk.iter().map(Uuid::to_string).collect();
            let path = format!("{}?ids={}", self.path, ids.join(","));
            let rows: Vec<Value> = self.peer.get(&path, forward).await?;
            for row in rows {
                let Some(id) = row.get("id").and_then(Value::as_str).and_then(|s| s.parse::<Uuid>().ok()) else {
                    continue;
                };
                if let Ok(json) = serde_json::to_string(&row) {
                    self.cache.set(&self.key(id, forward), &json, self.ttl).await;
                }
                found.insert(id, row);
            }
        }
        Ok(found)
    }

    /// Calls made to the peer so far are not counted here; see the peer's access log or metrics.
    pub fn peer(&self) -> &PeerClient {
        &self.peer
    }
}

/// `row[field]` as a string, for names out of a lookup.
pub fn text_of(rows: &HashMap<Uuid, Value>, id: Option<Uuid>, field: &str) -> Option<String> {
    rows.get(&id?)?.get(field)?.as_str().map(str::to_owned)
}
