//! A small Prometheus registry: counters, gauges and latency histograms rendered as text exposition.
//! Series are few (routes × statuses), so one mutex per family is cheap.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::time::Duration;

const BUCKETS: [f64; 12] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0];

#[derive(Default)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    sum: f64,
    count: u64,
}

#[derive(Default)]
pub struct Metrics {
    counters: Mutex<BTreeMap<(String, String), (String, u64)>>,
    gauges: Mutex<BTreeMap<(String, String), (String, i64)>>,
    histograms: Mutex<BTreeMap<String, Histogram>>,
}

fn escape(v: &str) -> String {
    v.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

fn labels(pairs: &[(&str, &str)]) -> String {
    let inner: Vec<String> = pairs.iter().map(|(k, v)| format!("{k}=\"{}\"", escape(v))).collect();
    inner.join(",")
}

impl Metrics {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `by` to counter `name{labels}`; `help` is used the first time the family is seen.
    pub fn inc(&self, name: &str, help: &str, pairs: &[(&str, &str)], by: u64) {
        if let Ok(mut map) = self.counters.lock() {
            let entry = map.entry((name.to_owned(), labels(pairs))).or_insert_with(|| (help.to_owned(), 0));
            entry.1 += by;
        }
    }

    /// Adds `delta` (may be negative) to gauge `name{labels}`, e.g. requests in flight.
    pub fn gauge_add(&self, name: &str, help: &str, pairs: &[(&str, &str)], delta: i64) {
        if let Ok(mut map) = self.gauges.lock() {
            let entry = map.entry((name.to_owned(), labels(pairs))).or_insert_with(|| (help.to_owned(), 0));
            entry.1 = entry.1.saturating_add(delta);
        }
    }

    /// Sets gauge `name{labels}` to `value`.
    pub fn gauge_set(&self, name: &str, help: &str, pairs: &[(&str, &str)], value: i64) {
        if let Ok(mut map) = self.gauges.lock() {
            let entry = map.entry((name.to_owned(), labels(pairs))).or_insert_with(|| (help.to_owned(), 0));
            entry.1 = value;
        }
    }

    pub fn observe_request(&self, route: &str, method: &str, status: u16, elapsed: Duration) {
        let status = status.to_string();
        self.inc(
            "http_requests_total",
            "HTTP requests by route, method and status.",
            &[("route", route), ("method", method), ("status", &status)],
            1,
        );
        let secs = elapsed.as_secs_f64();
        if let Ok(mut map) = self.histograms.lock() {
            let h = map.entry(labels(&[("route", route)])).or_default();
            for (i, bound) in BUCKETS.iter().enumerate() {
                if secs <= *bound {
                    h.counts[i] += 1;
                }
            }
            h.sum += secs;
            h.count += 1;
        }
    }

    pub fn render(&self) -> String {
        let mut out = String::new();
        if let Ok(map) = self.counters.lock() {
            let mut last = "";
            for ((name, lbl), (help, value)) in map.iter() {
                if name != last {
                    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} counter");
                    last = name;
                }
                let _ = writeln!(out, "{name}{{{lbl}}} {value}");
            }
        }
        if let Ok(map) = self.gauges.lock() {
            let mut last = "";
            for ((name, lbl), (help, value)) in map.iter() {
                if name != last {
                    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} gauge");
                    last = name;
                }
                let _ = writeln!(out, "{name}{{{lbl}}} {value}");
            }
        }
        if let Ok(map) = self.histograms.lock() {
            let name = "http_request_duration_seconds";
            let _ = writeln!(out, "# HELP {name} Request latency by route.\n# TYPE {name} histogram");
            for (lbl, h) in map.iter() {
                for (i, bound) in BUCKETS.iter().enumerate() {
                    let _ = writeln!(out, "{name}_bucket{{{lbl},le=\"{bound}\"}} {}", h.counts[i]);
                }
                let _ = writeln!(out, "{name}_bucket{{{lbl},le=\"+Inf\"}} {}", h.count);
                let _ = writeln!(out, "{name}_sum{{{lbl}}} {}", h.sum);
                let _ = writeln!(out, "{name}_count{{{lbl}}} {}", h.count);
            }
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
}
