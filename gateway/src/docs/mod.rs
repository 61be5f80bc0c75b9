//! The API documentation the gateway serves itself, without a token:
//!
//! - `GET /openapi.json`: every service's `/api/<service>/openapi.json`, fetched concurrently
//!   within the services' health deadline and merged ([`merge`]); a service that does not answer in
//!   time is left out and named in `x-unavailable-services`. The result is kept for a short while,
//!   so reloading the docs page does not ask every service again.
//! - `GET /docs` (with `/docs/app.js` and `/docs/app.css`): a page that renders that document.
//!   Its files are compiled into the binary, so it works offline, and it is served with a
//!   Content-Security-Policy that allows nothing but this origin.

pub mod merge;

use crate::phases::route::RouteTable;
use crate::upstream::Upstream;
use axum::body::{Body, Bytes};
use crm_common::ApiError;
use http::{HeaderValue, Response, StatusCode, header};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Mutex;

/// How long a merged document is reused when every service answered.
const FRESH_FOR: Duration = Duration::from_secs(30);
/// How long it is reused when a service was missing, so that one coming up shows soon.
const FRESH_FOR_INCOMPLETE: Duration = Duration::from_secs(5);
/// Largest document read from one service.
const DOCUMENT_LIMIT: usize = 16 * 1024 * 1024;

/// Scripts, styles and data from this origin only; no inline code, no framing.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
    connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const PAGE: &str = include_str!("index.html");
const SCRIPT: &str = include_str!("app.js");
const STYLE: &str = include_str!("app.css");

/// The files of the docs page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Asset {
    Page,
    Script,
    Style,
}

impl Asset {
    /// The asset a `/docs…` path names.
    pub fn at(path: &str) -> Option<Self> {
        match path {
            "/docs" | "/docs/" | "/docs/index.html" => Some(Self::Page),
            "/docs/app.js" => Some(Self::Script),
            "/docs/app.css" => Some(Self::Style),
            _ => None,
        }
    }

    /// The file, with its headers.
    pub fn response(self) -> Response<Body> {
        let (content_type, body) = match self {
            Self::Page => ("text/html; charset=utf-8", PAGE),
            Self::Script => ("text/javascript; charset=utf-8", SCRIPT),
            Self::Style => ("text/css; charset=utf-8", STYLE),
        };
        let mut response = Response::new(Body::from(body));
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
        headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CONTENT_SECURITY_POLICY));
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
        response
    }
}

struct Cached {
    at: Instant,
    fresh_for: Duration,
    body: Bytes,
}

/// The merged document and when it was made.
pub struct Docs {
    deadline: Duration,
    cache: Mutex<Option<Cached>>,
}

impl Docs {
    /// Each service gets `deadline` to hand over its document.
    pub fn new(deadline: Duration) -> Self {
        Self { deadline, cache: Mutex::new(None) }
    }

    /// `GET /openapi.json`. Concurrent requests for a stale document wait for one fan-out.
    pub async fn openapi(&self, routes: &RouteTable) -> Response<Body> {
        let mut cache = self.cache.lock().await;
        let body = match cache.as_ref().filter(|c| c.at.elapsed() < c.fresh_for) {
            Some(cached) => cached.body.clone(),
            None => match self.assemble(routes).await {
                Ok((body, complete)) => {
                    let fresh_for = if complete { FRESH_FOR } else { FRESH_FOR_INCOMPLETE };
                    *cache = Some(Cached { at: Instant::now(), fresh_for, body: body.clone() });
                    body
                }
                Err(error) => return axum::response::IntoResponse::into_response(error),
            },
        };
        drop(cache);
        let mut response = Response::new(Body::from(body));
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
        response
    }

    /// Fetches every service's document at once and merges them; also says whether all answered.
    async fn assemble(&self, routes: &RouteTable) -> Result<(Bytes, bool), ApiError> {
        let mut upstreams: Vec<Arc<Upstream>> = routes.upstreams().cloned().collect();
        upstreams.sort_by(|a, b| a.name.cmp(b.name));
        let fetches = upstreams.iter().map(|u| async move {
            let result = match tokio::time::timeout(self.deadline, fetch(u)).await {
                Ok(result) => result,
                Err(_) => Err("no answer in time".to_owned()),
            };
            (u.name, result)
        });
        // Each fetch has the deadline itself; the outer bound is a backstop against anything slower.
        let results =
            tokio::time::timeout(self.deadline + Duration::from_millis(100), futures_util::future::join_all(fetches))
                .await
                .unwrap_or_default();
        let mut sources = Vec::new();
        let mut unavailable = Vec::new();
        for upstream in &upstreams {
            match results.iter().find(|(name, _)| *name == upstream.name).map(|(_, r)| r) {
                Some(Ok(doc)) => sources.push(merge::Source { service: upstream.name.to_string(), doc: doc.clone() }),
                Some(Err(reason)) => {
                    tracing::warn!(upstream = %upstream.name, %reason, "OpenAPI document unavailable");
                    unavailable.push(upstream.name.to_string());
                }
                None => unavailable.push(upstream.name.to_string()),
            }
        }
        let complete = unavailable.is_empty();
        let merged = merge::merge(sources, &unavailable, crate::VERSION);
        Ok((Bytes::from(serde_json::to_vec(&merged)?), complete))
    }
}

/// `GET /api/<service>/openapi.json` on the service's pooled client; only a JSON object with
/// `paths` counts as a document.
async fn fetch(upstream: &Upstream) -> Result<serde_json::Value, String> {
    if upstream.circuit_tripped() {
        return Err("circuit open".into());
    }
    let (status, bytes) = upstream.get(&format!("/api/{}/openapi.json", upstream.name), DOCUMENT_LIMIT).await?;
    if status != StatusCode::OK {
        return Err(format!("status {status}"));
    }
    let doc: serde_json::Value = serde_json::from_slice(&bytes).map_err(|e| e.to_string())?;
    if !doc["paths"].is_object() {
        return Err("not an OpenAPI document".into());
    }
    Ok(doc)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn assets_are_self_contained() {
        for asset in [PAGE, SCRIPT, STYLE] {
            assert!(!asset.contains("http://") && !asset.contains("https://"), "no external URL in the docs page");
        }
        assert!(PAGE.contains(r#"src="/docs/app.js""#) && PAGE.contains(r#"href="/docs/app.css""#));
        assert!(!PAGE.contains("<script>") && !PAGE.contains("style="), "no inline code for the CSP to refuse");
        assert_eq!(Asset::at("/docs/"), Some(Asset::Page));
        assert_eq!(Asset::at("/docs/other.js"), None);
    }
}
