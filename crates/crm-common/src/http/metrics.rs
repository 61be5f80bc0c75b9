//! Prometheus metrics through `prometheus-client`: counters, gauges and latency histograms,
//! rendered as OpenMetrics text at `/metrics`.
//!
//! The library holds the values (its `Counter`, `Gauge` and `Histogram`) and writes the
//! exposition. Call sites name their series as they go (`metrics.inc("gateway_upstream_errors_total",
//! help, &[("upstream", name), ("kind", kind)], 1)`) rather than declaring them up front, so this
//! module keeps two indexes of the library's series:
//!
//! - the families, by kind and name, each with its series sorted by labels, which a collector
//!   registered in the library's `Registry` walks on every scrape (sorted, so that the exposition
//!   is stable from one scrape to the next);
//! - per thread (see [`crate::shard`]), a map from a hash of name and labels to the series, so
//!   that the update path on every request allocates nothing and takes only its own thread's read
//!   lock. A series is created (under the families' lock) the first time it is seen; series are
//!   few (routes × statuses).

use crate::shard::PerThread;
use crate::telemetry::otlp::{RequestInstruments, Tracer};
use foldhash::fast::RandomState;
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::MetricType;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;
use std::collections::{BTreeMap, HashMap};
use std::hash::{BuildHasher, Hasher};
use std::sync::{Arc, Mutex, OnceLock, RwLock};
use std::time::Duration;

pub(crate) const BUCKETS: [f64; 12] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0];
const DURATION: &str = "http_request_duration_seconds";

/// The media type of [`Metrics::render`]: OpenMetrics text, which Prometheus asks for first. Said
/// explicitly because a counter family is named without its `_total` suffix there, which the
/// older Prometheus text format (`text/plain; version=0.0.4`) would read as an untyped series.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Declaration order is exposition order: counters, then gauges, then histograms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    Counter,
    Gauge,
    Histogram,
}

/// One series' value; a clone shares it.
#[derive(Debug, Clone)]
enum Handle {
    Counter(Counter),
    Gauge(Gauge),
    Histogram(Histogram),
}

impl Handle {
    fn new(kind: Kind) -> Self {
        match kind {
            Kind::Counter => Self::Counter(Counter::default()),
            Kind::Gauge => Self::Gauge(Gauge::default()),
            Kind::Histogram => Self::Histogram(Histogram::new(BUCKETS)),
        }
    }

    fn kind(&self) -> Kind {
        match self {
            Self::Counter(_) => Kind::Counter,
            Self::Gauge(_) => Kind::Gauge,
            Self::Histogram(_) => Kind::Histogram,
        }
    }
}

type Labels = Vec<(String, String)>;

#[derive(Debug)]
struct Family {
    help: String,
    series: BTreeMap<Labels, Handle>,
}

/// Every series, registered in the library's registry as a collector.
#[derive(Debug, Default)]
struct Families(Mutex<BTreeMap<(Kind, String), Family>>);

impl Families {
    /// The series `name{pairs}` of `kind`, created on first use; `help` is kept from the first use
    /// of the family.
    fn series(&self, kind: Kind, name: &str, help: &str, pairs: &[(&str, &str)]) -> Option<Handle> {
        let mut families = self.0.lock().ok()?;
        let family = families
            .entry((kind, name.to_owned()))
            .or_insert_with(|| Family { help: help.to_owned(), series: BTreeMap::new() });
        let labels = pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        Some(family.series.entry(labels).or_insert_with(|| Handle::new(kind)).clone())
    }
}

impl Collector for Families {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let Ok(families) = self.0.lock() else { return Ok(()) };
        for ((kind, name), family) in families.iter() {
            let (name, metric_type) = match kind {
                // OpenMetrics names the family without the suffix its samples carry; the library
                // adds `_total` to each sample.
                Kind::Counter => (name.strip_suffix("_total").unwrap_or(name), MetricType::Counter),
                Kind::Gauge => (name.as_str(), MetricType::Gauge),
                Kind::Histogram => (name.as_str(), MetricType::Histogram),
            };
            let mut metric = encoder.encode_descriptor(name, &family.help, None, metric_type)?;
            for (labels, handle) in &family.series {
                let series = metric.encode_family(labels)?;
                match handle {
                    Handle::Counter(counter) => counter.encode(series)?,
                    Handle::Gauge(gauge) => gauge.encode(series)?,
                    Handle::Histogram(histogram) => histogram.encode(series)?,
                }
            }
        }
        Ok(())
    }
}

/// A series as the per-thread index knows it.
struct Indexed {
    name: Box<str>,
    pairs: Box<[(Box<str>, Box<str>)]>,
    handle: Handle,
}

impl Indexed {
    fn is(&self, kind: Kind, name: &str, pairs: &[(&str, &str)]) -> bool {
        self.handle.kind() == kind
            && &*self.name == name
            && self.pairs.len() == pairs.len()
            && self.pairs.iter().zip(pairs).all(|((k, v), (k2, v2))| &**k == *k2 && &**v == *v2)
    }
}

type Index = HashMap<u64, Vec<Indexed>>;

pub struct Metrics {
    hasher: RandomState,
    index: PerThread<RwLock<Index>>,
    families: Arc<Families>,
    registry: Registry,
    /// The OTLP request histogram, when metrics are also exported (see [`Self::export_requests`]).
    otlp: OnceLock<RequestInstruments>,
}

impl Default for Metrics {
    fn default() -> Self {
        let families = Arc::new(Families::default());
        let mut registry = Registry::default();
        registry.register_collector(Box::new(families.clone()));
        Self { hasher: RandomState::default(), index: PerThread::new(), families, registry, otlp: OnceLock::new() }
    }
}

impl Metrics {
    pub fn new() -> Self {
        Self::default()
    }

    /// From now on, [`Self::observe_request`] also feeds `tracer`'s OTLP request histogram (when
    /// it exports metrics). The first exporter given stays.
    pub fn export_requests(&self, tracer: &Tracer) {
        if let Some(requests) = tracer.requests() {
            let _ = self.otlp.set(requests.clone());
        }
    }

    fn key(&self, kind: Kind, name: &str, pairs: &[(&str, &str)]) -> u64 {
        let mut h = self.hasher.build_hasher();
        h.write_u8(kind as u8);
        h.write(name.as_bytes());
        for (k, v) in pairs {
            h.write_u8(0xff);
            h.write(k.as_bytes());
            h.write_u8(0xfe);
            h.write(v.as_bytes());
        }
        h.finish()
    }

    /// Applies `update` to the series `name{pairs}`, creating it on first use. The handle is
    /// borrowed from the index rather than cloned: a clone would touch the reference count that
    /// every thread shares.
    fn update(&self, kind: Kind, name: &str, help: &str, pairs: &[(&str, &str)], update: impl Fn(&Handle)) {
        let key = self.key(kind, name, pairs);
        let shard = self.index.local();
        if let Ok(map) = shard.read()
            && let Some(found) = map.get(&key).and_then(|b| b.iter().find(|s| s.is(kind, name, pairs)))
        {
            update(&found.handle);
            return;
        }
        let Some(handle) = self.families.series(kind, name, help, pairs) else { return };
        update(&handle);
        let Ok(mut map) = shard.write() else { return };
        let bucket = map.entry(key).or_default();
        if !bucket.iter().any(|s| s.is(kind, name, pairs)) {
            bucket.push(Indexed {
                name: name.into(),
                pairs: pairs.iter().map(|(k, v)| ((*k).into(), (*v).into())).collect(),
                handle,
            });
        }
    }

    /// Adds `by` to counter `name{labels}`; `help` is used the first time the family is seen.
    /// `name` ends in `_total`, as every sample of an OpenMetrics counter does.
    pub fn inc(&self, name: &str, help: &str, pairs: &[(&str, &str)], by: u64) {
        self.update(Kind::Counter, name, help, pairs, |h| {
            if let Handle::Counter(c) = h {
                c.inc_by(by);
            }
        });
    }

    /// Adds `delta` (may be negative) to gauge `name{labels}`, e.g. requests in flight.
    pub fn gauge_add(&self, name: &str, help: &str, pairs: &[(&str, &str)], delta: i64) {
        self.update(Kind::Gauge, name, help, pairs, |h| {
            if let Handle::Gauge(g) = h {
                g.inc_by(delta);
            }
        });
    }

    /// Sets gauge `name{labels}` to `value`.
    pub fn gauge_set(&self, name: &str, help: &str, pairs: &[(&str, &str)], value: i64) {
        self.update(Kind::Gauge, name, help, pairs, |h| {
            if let Handle::Gauge(g) = h {
                g.set(value);
            }
        });
    }

    pub fn observe_request(&self, route: &str, method: &str, status: u16, elapsed: Duration) {
        let number = status;
        let code = http::StatusCode::from_u16(status).ok();
        let owned;
        let status = match &code {
            Some(code) => code.as_str(),
            None => {
                owned = status.to_string();
                &owned
            }
        };
        self.inc(
            "http_requests_total",
            "HTTP requests by route, method and status.",
            &[("route", route), ("method", method), ("status", status)],
            1,
        );
        self.update(Kind::Histogram, DURATION, "Request latency by route.", &[("route", route)], |h| {
            if let Handle::Histogram(histogram) = h {
                histogram.observe(elapsed.as_secs_f64());
            }
        });
        if let Some(otlp) = self.otlp.get() {
            otlp.record(route, method, number, elapsed);
        }
    }

    /// The exposition, of media type [`CONTENT_TYPE`].
    pub fn render(&self) -> String {
        let mut out = String::new();
        if let Err(err) = prometheus_client::encoding::text::encode(&mut out, &self.registry) {
            tracing::warn!(error = %err, "rendering metrics failed");
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters_and_histograms() {
        let m = Metrics::new();
        m.observe_request("/users", "GET", 200, Duration::from_millis(3));
        m.observe_request("/users", "GET", 200, Duration::from_millis(30));
        let text = m.render();
        assert!(text.contains(r#"http_requests_total{route="/users",method="GET",status="200"} 2"#));
        assert!(text.contains(r#"http_request_duration_seconds_bucket{le="0.005",route="/users"} 1"#));
        assert!(text.contains(r#"http_request_duration_seconds_count{route="/users"} 2"#));
    }

    #[test]
    fn threads_updates_are_added_up() {
        let m = std::sync::Arc::new(Metrics::new());
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let m = m.clone();
                std::thread::spawn(move || {
                    for i in 0..100u64 {
                        m.inc("hits_total", "Hits.", &[("route", "a")], 1);
                        m.observe_request("/x", "GET", 200, Duration::from_millis(if i % 2 == 0 { 1 } else { 20 }));
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        let text = m.render();
        assert!(text.contains(r#"hits_total{route="a"} 400"#), "{text}");
        assert_eq!(text.matches("# TYPE hits counter").count(), 1);
        assert!(text.contains(r#"http_request_duration_seconds_bucket{le="0.001",route="/x"} 200"#), "{text}");
        assert!(text.contains(r#"http_request_duration_seconds_bucket{le="0.01",route="/x"} 200"#), "{text}");
        assert!(text.contains(r#"http_request_duration_seconds_bucket{le="0.025",route="/x"} 400"#), "{text}");
        assert!(text.contains(r#"http_request_duration_seconds_bucket{le="+Inf",route="/x"} 400"#), "{text}");
        assert!(text.contains(r#"http_request_duration_seconds_count{route="/x"} 400"#), "{text}");
        assert_eq!(text.matches(r#"http_requests_total{route="/x",method="GET",status="200"} 400"#).count(), 1);
    }

    #[test]
    fn renders_gauges() {
        let m = Metrics::new();
        m.gauge_add("in_flight", "Requests in flight.", &[("upstream", "a")], 2);
        m.gauge_add("in_flight", "Requests in flight.", &[("upstream", "a")], -1);
        m.gauge_set("open", "Circuit open.", &[("upstream", "b")], 1);
        let text = m.render();
        assert!(text.contains("# TYPE in_flight gauge"));
        assert!(text.contains(r#"in_flight{upstream="a"} 1"#));
        assert!(text.contains(r#"open{upstream="b"} 1"#));
    }

    #[test]
    fn series_are_separate_and_escaped() {
        let m = Metrics::new();
        m.inc("hits_total", "Hits.", &[("route", "a")], 1);
        m.inc("hits_total", "Hits.", &[("route", "b")], 2);
        m.inc("hits_total", "Hits.", &[("route", "a")], 3);
        m.inc("hits_total", "Hits.", &[("route", "q\"x")], 1);
        let text = m.render();
        assert_eq!(text.matches("# TYPE hits counter").count(), 1);
        assert!(text.contains(r#"hits_total{route="a"} 4"#));
        assert!(text.contains(r#"hits_total{route="b"} 2"#));
        assert!(text.contains(r#"hits_total{route="q\"x"} 1"#));
        let a = text.find(r#"hits_total{route="a"}"#).unwrap();
        let b = text.find(r#"hits_total{route="b"}"#).unwrap();
        assert!(a < b, "series render in label order");
    }

    /// The traffic `tests/fixtures/metrics_before.prom` was rendered from, by the hand-written
    /// registry this module replaced.
    fn traffic(m: &Metrics) {
        for (route, method, status, ms) in [
            ("/api/foundation/users", "GET", 200u16, 0u64),
            ("/api/foundation/users", "GET", 200, 1),
            ("/api/foundation/users", "POST", 201, 3),
            ("/api/foundation/users/{id}", "DELETE", 404, 7),
            ("foundation", "GET", 502, 40),
            ("slow", "GET", 504, 600),
            ("odd", "GET", 599, 9000),
        ] {
            m.observe_request(route, method, status, Duration::from_millis(ms) + Duration::from_micros(250));
        }
        let connections = "Client connections by the path they started on.";
        m.inc("gateway_connections_total", connections, &[("path", "direct")], 3);
        m.inc("gateway_connections_total", connections, &[("path", "general")], 1);
        m.inc("gateway_direct_handovers_total", "Connections handed from the direct path to hyper.", &[], 2);
        let errors = "Upstream failures by kind.";
        m.inc("gateway_upstream_errors_total", errors, &[("upstream", "dead"), ("kind", "connect")], 2);
        m.inc("otlp_spans_dropped_total", "Spans dropped because the export queue was full.", &[], 1);
        m.gauge_add("gateway_upstream_in_flight", "Requests in flight.", &[("upstream", "foundation")], 3);
        m.gauge_add("gateway_upstream_in_flight", "Requests in flight.", &[("upstream", "foundation")], -1);
        m.gauge_set("gateway_circuit_open", "Circuit open.", &[("upstream", "q\"x\\y\nz")], 1);
    }

    /// Every sample of an exposition: (name, labels with `le` read as a number, value).
    fn samples(text: &str) -> BTreeMap<(String, Vec<(String, String)>), f64> {
        let mut out = BTreeMap::new();
        for line in text.lines().filter(|l| !l.starts_with('#') && !l.is_empty()) {
            let (series, value) = line.rsplit_once(' ').unwrap();
            let (name, labels) = match series.split_once('{') {
                Some((name, rest)) => (name, rest.strip_suffix('}').unwrap()),
                None => (series, ""),
            };
            // Label values here contain no `",`; split on it, the escapes stay as written.
            let mut pairs: Vec<(String, String)> = Vec::new();
            for pair in labels.split("\",").filter(|p| !p.is_empty()) {
                let (k, v) = pair.split_once("=\"").unwrap();
                let v = v.strip_suffix('"').unwrap_or(v);
                let v = if k == "le" && v != "+Inf" { v.parse::<f64>().unwrap().to_string() } else { v.to_owned() };
                pairs.push((k.to_owned(), v));
            }
            // The library writes `le` before the series' own labels; order carries no meaning.
            pairs.sort();
            out.insert((name.to_owned(), pairs), value.parse::<f64>().unwrap());
        }
        out
    }

    #[test]
    fn exposition_keeps_every_series_of_the_hand_written_registry() {
        let before = include_str!("../../tests/fixtures/metrics_before.prom");
        let m = Metrics::new();
        traffic(&m);
        let after = m.render();
        let (old, new) = (samples(before), samples(&after));
        assert_eq!(old.keys().collect::<Vec<_>>(), new.keys().collect::<Vec<_>>(), "{after}");
        for (series, value) in &old {
            assert!((new[series] - value).abs() < 1e-9, "{series:?}: {} != {value}\n{after}", new[series]);
        }
        // Every family keeps its type and help; counters are named without `_total` in OpenMetrics.
        for line in before.lines().filter(|l| l.starts_with("# ")) {
            let line = if line.contains(" counter") || line.starts_with("# HELP") {
                line.replacen("_total ", " ", 1)
            } else {
                line.to_owned()
            };
            assert!(after.lines().any(|l| l == line), "missing {line:?}\n{after}");
        }
        assert!(after.ends_with("# EOF\n"));
    }
}
