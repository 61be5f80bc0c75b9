//! Where the outbox sends its batches: foundation's ingest endpoint over HTTP for every other
//! service; foundation itself plugs in a deliverer that writes to its own database.

use crate::contracts::{AUDIT_TOKEN_HEADER, AuditEvent};
use serde::Serialize;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::time::Duration;

pub type DeliverFuture<'a> = Pin<Box<dyn Future<Output = Result<(), String>> + Send + 'a>>;

/// Stores a batch durably, all of it or none; must be idempotent by event id (batches are
/// redelivered after failures and restarts).
pub trait Deliver: Send + Sync {
    fn deliver<'a>(&'a self, events: &'a [AuditEvent]) -> DeliverFuture<'a>;
}

/// Where the sender gets the ingest secret.
#[derive(Debug, Clone)]
pub enum TokenSource {
    Fixed(String),
    /// Read at every attempt, so a file foundation writes later is picked up without a restart.
    File(PathBuf),
}

/// The trimmed contents of a token file, when it holds a plausible secret.
pub fn read_token(path: &Path) -> Option<String> {
    let token = std::fs::read_to_string(path).ok()?.trim().to_owned();
    (token.len() >= 16).then_some(token)
}

/// `POST <ingest_url>` with `{"events": [...]}` and the shared secret in `X-Audit-Token`.
pub struct HttpDeliver {
    client: reqwest::Client,
    url: String,
    token: TokenSource,
}

#[derive(Serialize)]
struct BatchRef<'a> {
    events: &'a [AuditEvent],
}

impl HttpDeliver {
    pub fn new(url: impl Into<String>, token: TokenSource) -> Result<Self, String> {
        let client = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(3))
            .timeout(Duration::from_secs(15))
            .build()
            .map_err(|e| e.to_string())?;
        Ok(Self { client, url: url.into(), token })
    }
}

impl Deliver for HttpDeliver {
    fn deliver<'a>(&'a self, events: &'a [AuditEvent]) -> DeliverFuture<'a> {
        Box::pin(async move {
            let mut req = self.client.post(&self.url).json(&BatchRef { events });
            let token = match &self.token {
                TokenSource::Fixed(t) => Some(t.clone()),
                TokenSource::File(path) => read_token(path),
            };
            if let Some(token) = token {
                req = req.header(AUDIT_TOKEN_HEADER, token);
            }
            let response = req.send().await.map_err(|e| format!("ingest unreachable: {e}"))?;
            let status = response.status();
            if status.is_success() { Ok(()) } else { Err(format!("ingest answered {status}")) }
        })
    }
}
