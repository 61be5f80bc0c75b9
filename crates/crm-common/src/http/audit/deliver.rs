//! Where the outbox sends its batches: foundation's ingest endpoint over HTTP for every other
//! service; foundation itself plugs in a deliverer that writes to its own database.

use crate::contracts::{AUDIT_TOKEN_HEADER, AuditEvent};
use serde::Serialize;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

pub type DeliverFuture<'a> = Pin<Box<dyn Future<Output = Result<(), String>> + Send + 'a>>;

/// Stores a batch durably, all of it or none; must be idempotent by event id (batches are
/// redelivered after failures and restarts).
pub trait Deliver: Send + Sync {
    fn deliver<'a>(&'a self, events: &'a [AuditEvent]) -> DeliverFuture<'a>;
}

/// `POST <ingest_url>` with `{"events": [...]}` and the shared secret in `X-Audit-Token`.
pub struct HttpDeliver {
    client: reqwest::Client,
    url: String,
    token: Option<String>,
}

#[derive(Serialize)]
struct BatchRef<'a> {
    events: &'a [AuditEvent],
}

impl HttpDeliver {
    pub fn new(url: impl Into<String>, token: Option<String>) -> Result<Self, String> {
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
            if let Some(token) = &self.token {
                req = req.header(AUDIT_TOKEN_HEADER, token);
            }
            let response = req.send().await.map_err(|e| format!("ingest unreachable: {e}"))?;
            let status = response.status();
            if status.is_success() { Ok(()) } else { Err(format!("ingest answered {status}")) }
        })
    }
}
