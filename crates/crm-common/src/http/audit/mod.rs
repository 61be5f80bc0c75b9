//! Audit capture for every service: one middleware records each mutating request, each login,
//! logout and refresh and each export (and, with `CRM_AUDIT_READS=true`, every read) as an
//! [`AuditEvent`](crate::contracts::AuditEvent), and hands it to an [`AuditSink`].
//!
//! Mount it around the finished router, so it sees the final status and envelope:
//!
//! ```ignore
//! let audit = AuditCapture::over_http("order-workflow", &settings, trusted)?;
//! let app = crm_common::http::audit::mount(crm_common::http::finish(app, metrics, limit, proxies), audit);
//! ```
//!
//! Who acted comes from the [`CurrentUser`](crate::auth::CurrentUser) extractor, which fills the
//! request's [`AuditSlot`]; a handler without a token yet (login) may instead put an
//! [`AuditActor`] into its response's extensions. A handler that changes or removes a resource
//! reports its earlier state with [`with_before`]; the state after is the successful response's
//! `data`. The default sink is the durable [`Outbox`](outbox::Outbox) delivering to foundation
//! over HTTP.

mod capture;
mod classify;
pub mod deliver;
pub mod outbox;
pub mod redact;

pub use capture::mount;
pub use classify::{Classified, classify, is_export, is_id};
pub use deliver::{Deliver, DeliverFuture, HttpDeliver, TokenSource};
pub use outbox::{Outbox, OutboxOptions};

use crate::config::{ConfigError, bool_env, env, parse_env};
use crate::contracts::{AuditActor, AuditBefore, AuditEvent};
use axum::response::Response;
use serde::Serialize;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub type SinkFuture<'a> = Pin<Box<dyn Future<Output = ()> + Send + 'a>>;

/// Takes captured events. Implementations must not lose an event they accepted.
pub trait AuditSink: Send + Sync {
    fn record(&self, event: AuditEvent) -> SinkFuture<'_>;
}

impl AuditSink for Outbox {
    fn record(&self, event: AuditEvent) -> SinkFuture<'_> {
        Box::pin(async move {
            self.append(&event).await;
        })
    }
}

/// `response`, carrying `before` (the resource before the change) to the audit capture.
pub fn with_before(mut response: Response, before: &impl Serialize) -> Response {
    if let Ok(value) = serde_json::to_value(before) {
        response.extensions_mut().insert(AuditBefore(value));
    }
    response
}

/// Where the authenticated caller is written during a request; the middleware inserts one into
/// every audited request and reads it back after the handler ran.
#[derive(Debug, Clone, Default)]
pub struct AuditSlot(Arc<Mutex<Option<AuditActor>>>);

impl AuditSlot {
    pub fn set(&self, actor: AuditActor) {
        if let Ok(mut slot) = self.0.lock() {
            *slot = Some(actor);
        }
    }

    pub fn get(&self) -> Option<AuditActor> {
        self.0.lock().ok().and_then(|s| s.clone())
    }
}

/// Audit settings every service reads.
#[derive(Debug, Clone)]
pub struct AuditSettings {
    /// Record reads (GET) too, not only mutations, logins and exports.
    pub record_reads: bool,
    /// foundation's ingest endpoint.
    pub ingest_url: String,
    /// Shared secret sent in `X-Audit-Token` (and, at foundation, the one expected).
    pub ingest_token: Option<String>,
    /// Where the secret is kept when `CRM_AUDIT_INGEST_TOKEN` is unset: foundation creates it on
    /// first start, and services sharing its data directory (a local run) read it from there.
    pub token_file: PathBuf,
    pub outbox_dir: PathBuf,
    /// Largest captured request body; larger JSON bodies are recorded as truncated.
    pub max_params_bytes: usize,
    pub retry_max: Duration,
}

impl AuditSettings {
    pub fn from_env(service: &str, data_dir: &Path) -> Result<Self, ConfigError> {
        let ingest_token = env("CRM_AUDIT_INGEST_TOKEN");
        if ingest_token.as_ref().is_some_and(|t| t.len() < 16) {
            return Err(ConfigError {
                name: "CRM_AUDIT_INGEST_TOKEN".into(),
                reason: "use at least 16 characters".into(),
            });
        }
        Ok(Self {
            record_reads: bool_env("CRM_AUDIT_READS", false)?,
            ingest_url: env("CRM_AUDIT_INGEST_URL")
                .unwrap_or_else(|| "http://127.0.0.1:8081/api/foundation/audit-logs/ingest".into()),
            ingest_token,
            token_file: env("CRM_AUDIT_INGEST_TOKEN_FILE")
                .map(PathBuf::from)
                .unwrap_or_else(|| data_dir.join("audit-ingest.token")),
            outbox_dir: env("CRM_AUDIT_OUTBOX_DIR")
                .map(PathBuf::from)
                .unwrap_or_else(|| data_dir.join("audit-outbox").join(service)),
            max_params_bytes: parse_env("CRM_AUDIT_MAX_PARAMS_BYTES", 16 * 1024)?,
            retry_max: Duration::from_millis(parse_env("CRM_AUDIT_RETRY_MAX_MS", 30_000)?),
        })
    }

    pub fn outbox_options(&self) -> OutboxOptions {
        OutboxOptions { retry_max: self.retry_max, ..OutboxOptions::default() }
    }

    /// The receiving side (foundation): without a configured secret, use the token file's,
    /// generating it (mode 0600) on first start.
    pub fn ensure_token(&mut self) -> std::io::Result<()> {
        if self.ingest_token.is_some() {
            return Ok(());
        }
        if let Some(token) = deliver::read_token(&self.token_file) {
            self.ingest_token = Some(token);
            return Ok(());
        }
        use base64::Engine;
        use rand::RngCore;
        let mut bytes = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        let token = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
        if let Some(dir) = self.token_file.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        write_private(&self.token_file, token.as_bytes())?;
        tracing::info!(path = %self.token_file.display(), "generated the audit ingest token");
        self.ingest_token = Some(token);
        Ok(())
    }
}

#[cfg(unix)]
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path)?.write_all(bytes)
}

#[cfg(not(unix))]
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    std::fs::write(path, bytes)
}

/// The audit variables, for `--help`.
pub const AUDIT_ENV_HELP: &str = "  CRM_AUDIT_READS          record reads (GET) in the audit log too (default false)
  CRM_AUDIT_INGEST_URL     foundation's audit ingest endpoint (default http://127.0.0.1:8081/api/foundation/audit-logs/ingest)
  CRM_AUDIT_INGEST_TOKEN   shared secret for audit ingest, at least 16 characters (same value in every service)
  CRM_AUDIT_INGEST_TOKEN_FILE  where the secret is read from when the variable is unset; foundation creates it
                           (default $CRM_DATA_DIR/audit-ingest.token)
  CRM_AUDIT_OUTBOX_DIR     durable audit outbox (default $CRM_DATA_DIR/audit-outbox/<service>)
  CRM_AUDIT_MAX_PARAMS_BYTES  largest request body kept in an audit entry (default 16384)
  CRM_AUDIT_RETRY_MAX_MS   longest pause between delivery retries (default 30000)
";

/// The middleware's configuration; cheap to clone.
#[derive(Clone)]
pub struct AuditCapture(Arc<CaptureConfig>);

pub struct CaptureConfig {
    pub service: String,
    pub record_reads: bool,
    pub max_params_bytes: usize,
    /// Peers whose `X-Forwarded-For` is believed.
    pub trusted_proxies: crate::net::Proxies,
    pub sink: Arc<dyn AuditSink>,
}

impl AuditCapture {
    pub fn new(config: CaptureConfig) -> Self {
        Self(Arc::new(config))
    }

    /// The usual setup: a durable outbox in `settings.outbox_dir` delivering to foundation over
    /// HTTP. Must run inside a Tokio runtime.
    pub fn over_http(
        service: &str,
        settings: &AuditSettings,
        trusted_proxies: crate::net::Proxies,
    ) -> std::io::Result<Self> {
        let token = match &settings.ingest_token {
            Some(t) => TokenSource::Fixed(t.clone()),
            None => {
                if !settings.token_file.exists() {
                    tracing::warn!(
                        file = %settings.token_file.display(),
                        "neither CRM_AUDIT_INGEST_TOKEN nor the token file is there yet; audit events wait in the outbox"
                    );
                }
                TokenSource::File(settings.token_file.clone())
            }
        };
        let deliver = HttpDeliver::new(settings.ingest_url.clone(), token).map_err(std::io::Error::other)?;
        let outbox = Outbox::open(&settings.outbox_dir, Arc::new(deliver), settings.outbox_options())?;
        Ok(Self::with_sink(service, settings, trusted_proxies, outbox))
    }

    pub fn with_sink(
        service: &str,
        settings: &AuditSettings,
        trusted_proxies: crate::net::Proxies,
        sink: Arc<dyn AuditSink>,
    ) -> Self {
        Self::new(CaptureConfig {
            service: service.to_owned(),
            record_reads: settings.record_reads,
            max_params_bytes: settings.max_params_bytes,
            trusted_proxies,
            sink,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn foundation_generates_the_token_file_once_and_senders_read_it() {
        let dir = std::env::temp_dir().join(format!("crm-token-{}", uuid::Uuid::now_v7().simple()));
        let mut settings = AuditSettings::from_env("foundation", &dir).unwrap();
        settings.ingest_token = None;
        settings.ensure_token().unwrap();
        let token = settings.ingest_token.clone().unwrap();
        assert!(token.len() >= 40);
        assert_eq!(deliver::read_token(&settings.token_file).as_deref(), Some(token.as_str()));
        let mut again = AuditSettings::from_env("foundation", &dir).unwrap();
        again.ingest_token = None;
        again.ensure_token().unwrap();
        assert_eq!(again.ingest_token, Some(token));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&settings.token_file).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        std::fs::write(dir.join("short"), "abc").unwrap();
        assert!(deliver::read_token(&dir.join("short")).is_none());
        let _ = std::fs::remove_dir_all(dir);
    }
}
