//! A small Prometheus registry: counters, gauges and latency histograms rendered as text exposition.
//!
//! Every request updates a few series, so the update path allocates nothing and takes only a read
//! lock: a series is found by a hash of its name and labels and updated atomically. A series is
//! created (under the write lock) the first time it is seen; series are few (routes × statuses).

use foldhash::fast::RandomState;
use std::collections::HashMap;
use std::fmt::Write;
use std::hash::{BuildHasher, Hasher};
use std::sync::RwLock;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::Duration;

const BUCKETS: [f64; 12] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0];
const DURATION: &str = "http_request_duration_seconds";

#[derive(Default)]
struct Histogram {
    /// Cumulative: `counts[i]` counts observations at or below `BUCKETS[i]`.
    counts: [AtomicU64; BUCKETS.len()],
    sum_nanos: AtomicU64,
    count: AtomicU64,
}

impl Histogram {
    fn observe(&self, elapsed: Duration) {
        let secs = elapsed.as_secs_f64();
        for (count, bound) in self.counts.iter().zip(BUCKETS) {
            if secs <= bound {
                count.fetch_add(1, Ordering::Relaxed);
            }
        }
        let nanos = u64::try_from(elapsed.as_nanos()).unwrap_or(u64::MAX);
        self.sum_nanos.fetch_add(nanos, Ordering::Relaxed);
        self.count.fetch_add(1, Ordering::Relaxed);
    }
}

struct Series<V> {
    name: String,
    help: String,
    pairs: Vec<(String, String)>,
    value: V,
}

impl<V> Series<V> {
    fn is(&self, name: &str, pairs: &[(&str, &str)]) -> bool {
        self.name == name
            && self.pairs.len() == pairs.len()
            && self.pairs.iter().zip(pairs).all(|((k, v), (k2, v2))| k == k2 && v == v2)
    }

    fn labels(&self) -> String {
        let mut out = String::new();
        for (i, (k, v)) in self.pairs.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            let _ = write!(out, "{k}=\"{}\"", escape(v));
        }
        out
    }
}

/// All series of one kind (counters, gauges or histograms), keyed by a hash of name and labels.
struct Family<V> {
    hasher: RandomState,
    series: RwLock<HashMap<u64, Vec<Series<V>>>>,
}

impl<V> Default for Family<V> {
    fn default() -> Self {
        Self { hasher: RandomState::default(), series: RwLock::new(HashMap::new()) }
    }
}

impl<V: Default> Family<V> {
    fn key(&self, name: &str, pairs: &[(&str, &str)]) -> u64 {
        let mut h = self.hasher.build_hasher();
        h.write(name.as_bytes());
        for (k, v) in pairs {
            h.write_u8(0xff);
            h.write(k.as_bytes());
            h.write_u8(0xfe);
            h.write(v.as_bytes());
        }
        h.finish()
    }

    /// Applies `update` to the series `name{pairs}`, creating it on first use.
    fn update(&self, name: &str, help: &str, pairs: &[(&str, &str)], update: impl Fn(&V)) {
        let key = self.key(name, pairs);
        if let Ok(map) = self.series.read()
            && let Some(series) = map.get(&key).and_then(|b| b.iter().find(|s| s.is(name, pairs)))
        {
            update(&series.value);
            return;
        }
        let Ok(mut map) = self.series.write() else { return };
        let bucket = map.entry(key).or_default();
        if let Some(series) = bucket.iter().find(|s| s.is(name, pairs)) {
            update(&series.value);
            return;
        }
        let series = Series {
            name: name.to_owned(),
            help: help.to_owned(),
            pairs: pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect(),
            value: V::default(),
        };
        update(&series.value);
        bucket.push(series);
    }

    /// (name, help, rendered labels, value) of every series, sorted by name and labels so that a
    /// family's series are rendered together.
    fn snapshot<T>(&self, read: impl Fn(&V) -> T) -> Vec<(String, String, String, T)> {
        let mut rows: Vec<_> = match self.series.read() {
            Ok(map) => {
                map.values().flatten().map(|s| (s.name.clone(), s.help.clone(), s.labels(), read(&s.value))).collect()
            }
            Err(_) => Vec::new(),
        };
        rows.sort_by(|a, b| (&a.0, &a.2).cmp(&(&b.0, &b.2)));
        rows
    }
}

#[derive(Default)]
pub struct Metrics {
    counters: Family<AtomicU64>,
    gauges: Family<AtomicI64>,
    histograms: Family<Histogram>,
}

fn escape(v: &str) -> String {
    v.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

impl Metrics {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `by` to counter `name{labels}`; `help` is used the first time the family is seen.
    pub fn inc(&self, name: &str, help: &str, pairs: &[(&str, &str)], by: u64) {
        self.counters.update(name, help, pairs, |v| {
            v.fetch_add(by, Ordering::Relaxed);
        });
    }

    /// Adds `delta` (may be negative) to gauge `name{labels}`, e.g. requests in flight.
    pub fn gauge_add(&self, name: &str, help: &str, pairs: &[(&str, &str)], delta: i64) {
        self.gauges.update(name, help, pairs, |v| {
            v.fetch_add(delta, Ordering::Relaxed);
        });
    }

    /// Sets gauge `name{labels}` to `value`.
    pub fn gauge_set(&self, name: &str, help: &str, pairs: &[(&str, &str)], value: i64) {
        self.gauges.update(name, help, pairs, |v| v.store(value, Ordering::Relaxed));
    }

    pub fn observe_request(&self, route: &str, method: &str, status: u16, elapsed: Duration) {
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
        self.histograms.update(DURATION, "Request latency by route.", &[("route", route)], |h| h.observe(elapsed));
    }

    pub fn render(&self) -> String {
        let mut out = String::new();
        for (kind, rows) in [
            ("counter", self.counters.snapshot(|v| v.load(Ordering::Relaxed).to_string())),
            ("gauge", self.gauges.snapshot(|v| v.load(Ordering::Relaxed).to_string())),
        ] {
            let mut last = String::new();
            for (name, help, lbl, value) in rows {
                if name != last {
                    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
                    last = name.clone();
                }
                let _ = writeln!(out, "{name}{{{lbl}}} {value}");
            }
        }
        let rows = self.histograms.snapshot(|h| {
            let counts = h.counts.each_ref().map(|c| c.load(Ordering::Relaxed));
            (counts, h.sum_nanos.load(Ordering::Relaxed), h.count.load(Ordering::Relaxed))
        });
        let _ = writeln!(out, "# HELP {DURATION} Request latency by route.\n# TYPE {DURATION} histogram");
        for (name, _, lbl, (counts, sum_nanos, count)) in rows {
            for (n, bound) in counts.iter().zip(BUCKETS) {
                let _ = writeln!(out, "{name}_bucket{{{lbl},le=\"{bound}\"}} {n}");
            }
            let _ = writeln!(out, "{name}_bucket{{{lbl},le=\"+Inf\"}} {count}");
            let _ = writeln!(out, "{name}_sum{{{lbl}}} {}", sum_nanos as f64 / 1e9);
            let _ = writeln!(out, "{name}_count{{{lbl}}} {count}");
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
        assert!(text.contains(r#"http_request_duration_seconds_bucket{route="/users",le="0.005"} 1"#));
        assert!(text.contains(r#"http_request_duration_seconds_count{route="/users"} 2"#));
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
        m.inc("hits", "Hits.", &[("route", "a")], 1);
        m.inc("hits", "Hits.", &[("route", "b")], 2);
        m.inc("hits", "Hits.", &[("route", "a")], 3);
        m.inc("hits", "Hits.", &[("route", "q\"x")], 1);
        let text = m.render();
        assert_eq!(text.matches("# TYPE hits counter").count(), 1);
        assert!(text.contains(r#"hits{route="a"} 4"#));
        assert!(text.contains(r#"hits{route="b"} 2"#));
        assert!(text.contains(r#"hits{route="q\"x"} 1"#));
        let a = text.find(r#"hits{route="a"}"#).unwrap();
        let b = text.find(r#"hits{route="b"}"#).unwrap();
        assert!(a < b, "series render in label order");
    }
}
