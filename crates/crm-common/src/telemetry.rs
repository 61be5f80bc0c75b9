//! Logs are JSON lines on stdout: message plus structured fields, never secrets or bodies.
//! Traces go over OTLP when `OTEL_EXPORTER_OTLP_ENDPOINT` is set (see [`otlp`]).

pub mod otlp;

use tracing_subscriber::EnvFilter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

/// Installs the global subscriber. Safe to call twice (tests): the second call is a no-op. With the
/// `logstore` feature, events are also shipped to the log store (see [`crate::logstore`]).
pub fn init(service: &str) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let stdout = tracing_subscriber::fmt::layer().json().flatten_event(true).with_current_span(false).with_target(true);
    let subscriber = tracing_subscriber::registry().with(filter).with(stdout);
    #[cfg(feature = "logstore")]
    let (ship, shipper) = crate::logstore::shipping_from_env(service).unzip();
    #[cfg(feature = "logstore")]
    let subscriber = subscriber.with(ship);
    let installed = subscriber.try_init().is_ok();
    #[cfg(feature = "logstore")]
    if installed && let Some(shipper) = shipper {
        shipper.spawn_from_env();
    }
    if installed {
        otlp::install_from_env(service);
    }
}

/// Sends what telemetry still holds — queued spans, log records not yet shipped — before the
/// process exits; waits at most `timeout` for each.
pub async fn flush(timeout: std::time::Duration) {
    if let Some(tracer) = otlp::global() {
        tracer.flush(timeout).await;
    }
    #[cfg(feature = "logstore")]
    {
        let _ = tokio::task::spawn_blocking(move || crate::logstore::flush(timeout)).await;
    }
}
