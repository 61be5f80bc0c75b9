//! Logs are JSON lines on stdout: message plus structured fields, never secrets or bodies.
//! Traces go over OTLP when `OTEL_EXPORTER_OTLP_ENDPOINT` is set (see [`otlp`]).

pub mod otlp;

use tracing_subscriber::EnvFilter;

/// Installs the global subscriber. Safe to call twice (tests): the second call is a no-op.
pub fn init(service: &str) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let installed = tracing_subscriber::fmt()
        .json()
        .flatten_event(true)
        .with_current_span(false)
        .with_env_filter(filter)
        .with_target(true)
        .try_init()
        .is_ok();
    if installed {
        otlp::install_from_env(service);
    }
}
