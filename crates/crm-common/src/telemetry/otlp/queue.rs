//! The bounded export queue around the SDK's batch span processor, and the counts behind
//! `otlp_spans_dropped_total` and [`super::Tracer::exported`]/[`super::Tracer::failed`].
//!
//! The batch processor already drops rather than blocks when its channel is full, but it keeps the
//! count to itself (one log line at shutdown). [`Bounded`] admits a finished span only while fewer
//! than `capacity` spans are waiting or being exported, and counts the ones it turns away;
//! [`Counted`] releases a batch's places once its export is over (accepted or given up on). The
//! processor's own channel is as large as the capacity, so it never drops a span itself.

use opentelemetry::Context;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{BatchSpanProcessor, Span, SpanData, SpanExporter, SpanProcessor};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

#[derive(Debug, Default)]
pub(super) struct Stats {
    /// Spans admitted and not yet through an export.
    pub pending: AtomicUsize,
    pub dropped: AtomicU64,
    /// How many drops some `/metrics` registry has been told of (see [`super::Tracer::report_drops`]).
    pub reported: AtomicU64,
    pub exported: AtomicU64,
    pub failed: AtomicU64,
    last_warning: Mutex<Option<Instant>>,
}

#[derive(Debug)]
pub(super) struct Bounded {
    pub inner: BatchSpanProcessor,
    pub stats: std::sync::Arc<Stats>,
    pub capacity: usize,
}

impl SpanProcessor for Bounded {
    fn on_start(&self, span: &mut Span, cx: &Context) {
        self.inner.on_start(span, cx);
    }

    /// Never waits: a span that finds the queue full is dropped and counted.
    fn on_end(&self, span: SpanData) {
        if !span.span_context.is_sampled() {
            return;
        }
        if self.stats.pending.fetch_add(1, Ordering::AcqRel) >= self.capacity {
            self.stats.pending.fetch_sub(1, Ordering::AcqRel);
            self.stats.dropped.fetch_add(1, Ordering::Relaxed);
            return;
        }
        self.inner.on_end(span);
    }

    fn force_flush(&self) -> OTelSdkResult {
        self.inner.force_flush()
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.inner.shutdown_with_timeout(timeout)
    }

    fn set_resource(&mut self, resource: &Resource) {
        self.inner.set_resource(resource);
    }
}

/// The OTLP exporter, counting what it sent and what it gave up on (after its retries).
#[derive(Debug)]
pub(super) struct Counted<E> {
    pub inner: E,
    pub stats: std::sync::Arc<Stats>,
    pub url: String,
}

impl<E: SpanExporter> SpanExporter for Counted<E> {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        let count = batch.len();
        let result = self.inner.export(batch).await;
        self.stats.pending.fetch_sub(count, Ordering::AcqRel);
        match &result {
            Ok(()) => {
                self.stats.exported.fetch_add(count as u64, Ordering::Relaxed);
            }
            Err(error) => {
                self.stats.failed.fetch_add(count as u64, Ordering::Relaxed);
                self.warn(count, &error.to_string());
            }
        }
        result
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.inner.shutdown_with_timeout(timeout)
    }

    fn force_flush(&self) -> OTelSdkResult {
        self.inner.force_flush()
    }

    fn set_resource(&mut self, resource: &Resource) {
        self.inner.set_resource(resource);
    }
}

impl<E> Counted<E> {
    /// At most one warning a minute, so a dead collector cannot flood the log.
    fn warn(&self, count: usize, problem: &str) {
        let Ok(mut last) = self.stats.last_warning.lock() else { return };
        if last.is_some_and(|at| at.elapsed() < Duration::from_secs(60)) {
            return;
        }
        *last = Some(Instant::now());
        tracing::warn!(
            url = %self.url,
            problem,
            spans = count,
            failed_total = self.stats.failed.load(Ordering::Relaxed),
            dropped_total = self.stats.dropped.load(Ordering::Relaxed),
            "OTLP trace export failed"
        );
    }
}
