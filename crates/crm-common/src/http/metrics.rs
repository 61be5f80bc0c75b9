//! A small Prometheus registry: counters, gauges and latency histograms rendered as text exposition.
//!
//! Every request updates a few series, so the update path allocates nothing and takes only a read
//! lock: a series is found by a hash of its name and labels and updated atomically. A series is
//! created (under the write lock) the first time it is seen; series are few (routes × statuses).
//! Counters and histograms are kept per thread (see [`crate::shard`]) and added up when rendered,
//! so the threads of a server do not contend for the same lock and counters on every request.

use crate::shard::PerThread;
use foldhash::fast::RandomState;
use std::collections::{BTreeMap, HashMap};
use std::fmt::Write;
use std::hash::{BuildHasher, Hasher};
use std::sync::RwLock;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::Duration;

const BUCKETS: [f64; 12] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0];
const DURATION: &str = "http_request_duration_seconds";

#[derive(Default)]
struct Histogram {
    /// Not cumulative (one increment per observation): `counts[i]` counts observations above
    /// `BUCKETS[i - 1]` and at or below `BUCKETS[i]`. Rendering accumulates them.
    counts: [AtomicU64; BUCKETS.len()],
    sum_nanos: AtomicU64,
    count: AtomicU64,
}

impl Histogram {
    fn observe(&self, elapsed: Duration) {
        let secs = elapsed.as_secs_f64();
        if let Some(bucket) = BUCKETS.iter().position(|bound| secs <= *bound) {
            self.counts[bucket].fetch_add(1, Ordering::Relaxed);
        }
        let nanos = u64::try_from(elapsed.as_nanos()).unwrap_or(u64::MAX);
        self.sum_nanos.fetch_add(nanos, Ordering::Relaxed);
        self.count.fetch_add(1, Ordering::Relaxed);
    }

    /// Cumulative bucket counts, sum and count.
    fn read(&self) -> HistogramSnapshot {
        let mut running = 0;
        let counts = self.counts.each_ref().map(|c| {
            running += c.load(Ordering::Relaxed);
            running
        });
        HistogramSnapshot {
            counts,
            sum_nanos: self.sum_nanos.load(Ordering::Relaxed),
            count: self.count.load(Ordering::Relaxed),
        }
    }
}

struct HistogramSnapshot {
    counts: [u64; BUCKETS.len()],
    sum_nanos: u64,
    count: u64,
}

impl HistogramSnapshot {
    fn add(&mut self, other: Self) {
        for (mine, theirs) in self.counts.iter_mut().zip(other.counts) {
            *mine += theirs;
        }
        self.sum_nanos += other.sum_nanos;
        self.count += other.count;
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

type SeriesMap<V> = HashMap<u64, Vec<Series<V>>>;

/// All series of one kind (counters, gauges or histograms), keyed by a hash of name and labels:
/// one map per shard, or a single one for gauges, whose `set` could not be split.
struct Family<V> {
    hasher: RandomState,
    shards: PerThread<RwLock<SeriesMap<V>>>,
}

impl<V> Family<V> {
    fn sharded() -> Self {
        Self { hasher: RandomState::default(), shards: PerThread::new() }
    }

    fn single() -> Self {
        Self { hasher: RandomState::default(), shards: PerThread::with_count(1) }
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

    /// Applies `update` to the series `name{pairs}` of the calling thread's shard, creating it on
    /// first use.
    fn update(&self, name: &str, help: &str, pairs: &[(&str, &str)], update: impl Fn(&V)) {
        let key = self.key(name, pairs);
        let series = self.shards.local();
        if let Ok(map) = series.read()
            && let Some(series) = map.get(&key).and_then(|b| b.iter().find(|s| s.is(name, pairs)))
        {
            update(&series.value);
            return;
        }
        let Ok(mut map) = series.write() else { return };
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

    /// (name, help, rendered labels, value) of every series, the shards' values combined with
    /// `add`, sorted by name and labels so that a family's series are rendered together.
    fn snapshot<T>(&self, read: impl Fn(&V) -> T, add: impl Fn(&mut T, T)) -> Vec<(String, String, String, T)> {
        let mut rows: BTreeMap<(String, String), (String, T)> = BTreeMap::new();
        for shard in self.shards.iter() {
            let Ok(map) = shard.read() else { continue };
            for series in map.values().flatten() {
                let value = read(&series.value);
                match rows.entry((series.name.clone(), series.labels())) {
                    std::collections::btree_map::Entry::Occupied(mut row) => add(&mut row.get_mut().1, value),
                    std::collections::btree_map::Entry::Vacant(row) => {
                        row.insert((series.help.clone(), value));
                    }
                }
            }
        }
        rows.into_iter().map(|((name, labels), (help, value))| (name, help, labels, value)).collect()
    }
}

pub struct Metrics {
    counters: Family<AtomicU64>,
    gauges: Family<AtomicI64>,
    histograms: Family<Histogram>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self { counters: Family::sharded(), gauges: Family::single(), histograms: Family::sharded() }
    }
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
        let counters = self.counters.snapshot(|v| v.load(Ordering::Relaxed), |a, b| *a += b);
        let gauges = self.gauges.snapshot(|v| v.load(Ordering::Relaxed), |a, b| *a += b);
        for (kind, rows) in [
            ("counter", counters.into_iter().map(|(n, h, l, v)| (n, h, l, v.to_string())).collect::<Vec<_>>()),
            ("gauge", gauges.into_iter().map(|(n, h, l, v)| (n, h, l, v.to_string())).collect()),
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
        let rows = self.histograms.snapshot(Histogram::read, HistogramSnapshot::add);
        let _ = writeln!(out, "# HELP {DURATION} Request latency by route.\n# TYPE {DURATION} histogram");
        for (name, _, lbl, HistogramSnapshot { counts, sum_nanos, count }) in rows {
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
    fn threads_updates_are_added_up() {
        let m = std::sync::Arc::new(Metrics::new());
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let m = m.clone();
                std::thread::spawn(move || {
                    for i in 0..100u64 {
                        m.inc("hits", "Hits.", &[("route", "a")], 1);
                        m.observe_request("/x", "GET", 200, Duration::from_millis(if i % 2 == 0 { 1 } else { 20 }));
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        let text = m.render();
        assert!(text.contains(r#"hits{route="a"} 400"#), "{text}");
        assert_eq!(text.matches("# TYPE hits counter").count(), 1);
        assert!(text.contains(r#"http_request_duration_seconds_bucket{route="/x",le="0.001"} 200"#), "{text}");
        assert!(text.contains(r#"http_request_duration_seconds_bucket{route="/x",le="0.01"} 200"#), "{text}");
        assert!(text.contains(r#"http_request_duration_seconds_bucket{route="/x",le="0.025"} 400"#), "{text}");
        assert!(text.contains(r#"http_request_duration_seconds_bucket{route="/x",le="+Inf"} 400"#), "{text}");
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
