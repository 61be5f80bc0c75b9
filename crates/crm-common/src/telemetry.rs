//! Logs are JSON lines on stdout: message plus structured fields, never secrets or bodies.
//! Traces and request metrics go over OTLP when an endpoint is configured (see [`otlp`]).

pub mod otlp;

use tracing_subscriber::EnvFilter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

/// Installs the global subscriber from the process environment. Safe to call twice (tests): the
/// second call is a no-op. With the `logstore` feature, events are also shipped to the log store
/// (see [`crate::logstore`]).
pub fn init(service: &str) {
    init_with(service, crate::config::env);
}

/// As [`init`], reading the `OTEL_*` variables through `lookup`. Returns the OTLP exporter when
/// one was started and installed; with no endpoint configured nothing is started and the
/// subscriber carries no OpenTelemetry layer.
pub fn init_with(service: &str, lookup: impl Fn(&str) -> Option<String>) -> Option<otlp::Tracer> {
    let (export, refused) = match otlp::prepare(service, lookup) {
        Ok(export) => (export, None),
        Err(error) => (None, Some(error)),
    };
    let mut filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    if export.as_ref().is_some_and(otlp::Tracer::traces)
        && let Ok(directive) = format!("{}=info", otlp::SPAN_TARGET).parse()
    {
        filter = filter.add_directive(directive);
    }
    // While spans exist, the log lines inside a request do not list them: the trace has them.
    let stdout = tracing_subscriber::fmt::layer()
        .json()
        .flatten_event(true)
        .with_current_span(false)
        .with_span_list(export.is_none())
        .with_target(true);
    let otel = export.as_ref().and_then(otlp::Tracer::layer);
    let subscriber = tracing_subscriber::registry().with(otel).with(filter).with(stdout);
    #[cfg(feature = "logstore")]
    let (ship, shipper) = crate::logstore::shipping_from_env(service).unzip();
    #[cfg(feature = "logstore")]
    let subscriber = subscriber.with(ship);
    let installed = subscriber.try_init().is_ok();
    #[cfg(feature = "logstore")]
    if installed && let Some(shipper) = shipper {
        shipper.spawn_from_env();
    }
    if installed && let Some(error) = refused {
        tracing::warn!(%error, "traces and metrics are not exported");
    }
    let tracer = export.filter(|_| installed)?;
    let tracer = otlp::set_global(tracer);
    tracing::info!(url = tracer.url(), traces = tracer.traces(), "exporting over OTLP/HTTP (protobuf)");
    Some(tracer)
}

/// Sends what telemetry still holds — queued spans, metrics, log records not yet shipped — before
/// the process exits; waits at most `timeout` for each.
pub async fn flush(timeout: std::time::Duration) {
    if let Some(tracer) = otlp::global() {
        tracer.flush(timeout).await;
    }
    #[cfg(feature = "logstore")]
    {
        let _ = tokio::task::spawn_blocking(move || crate::logstore::flush(timeout)).await;
    }
}
