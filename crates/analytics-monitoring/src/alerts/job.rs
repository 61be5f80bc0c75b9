//! The evaluator: on its schedule, the replica holding the lease reads this host's metrics and
//! each service's error rate from the log store, records them and applies the alert rules.

use super::rules::Reading;
use super::{lease, service};
use crate::AppState;
use chrono::Utc;
use crm_common::logstore::LogQuery;
use std::time::Duration;

/// This replica's name in the lease.
pub fn holder_id() -> String {
    let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "local".into());
    format!("{host}-{}-{}", std::process::id(), uuid::Uuid::now_v7().simple())
}

/// The readings of one run: CPU, memory and disk of this host, and the share of `ERROR` records
/// per service in the last window (services with fewer records than the minimum are skipped).
pub async fn readings(state: &AppState) -> Vec<Reading> {
    let probe = state.system.clone();
    let mut out = Vec::new();
    if let Ok(s) = tokio::task::spawn_blocking(move || probe.sample()).await {
        out.push(Reading { alert_type: "cpu_high", subject: "host".into(), value: s.cpu_percent });
        out.push(Reading { alert_type: "memory_high", subject: "host".into(), value: s.memory_percent });
        if s.disk_total_gb > 0.0 {
            out.push(Reading { alert_type: "disk_high", subject: "host".into(), value: s.disk_percent });
        }
    }
    let settings = &state.config.alerts;
    if let Some(logs) = &state.logs {
        let window =
            chrono::Duration::from_std(settings.error_rate_window).unwrap_or_else(|_| chrono::Duration::minutes(5));
        let query = LogQuery { start_time: Some(Utc::now() - window), ..LogQuery::default() };
        match logs.statistics(&query).await {
            Ok(stats) => {
                let errors =
                    logs.statistics(&LogQuery { levels: vec!["ERROR".into(), "CRITICAL".into()], ..query }).await;
                let errors = errors.map(|e| e.by_service).unwrap_or_default();
                for (service, total) in stats.by_service {
                    if total < settings.error_rate_min_records {
                        continue;
                    }
                    let e = errors.get(&service).copied().unwrap_or(0);
                    let rate = ((e as f64 / total as f64) * 1000.0).round() / 10.0;
                    out.push(Reading { alert_type: "error_rate_high", subject: service, value: rate });
                }
            }
            Err(err) => tracing::warn!(error = %err, "log statistics for the error-rate rule failed"),
        }
    }
    out
}

/// One run, when this replica holds (or takes) the lease; whether it evaluated.
pub async fn run_once(state: &AppState, holder: &str) -> bool {
    let ttl = chrono::Duration::from_std(state.config.alerts.interval * 3)
        .unwrap_or_else(|_| chrono::Duration::minutes(3))
        .max(chrono::Duration::seconds(30));
    match lease::acquire(&state.db, lease::EVALUATOR, holder, ttl, Utc::now()).await {
        Ok(true) => {}
        Ok(false) => return false,
        Err(err) => {
            tracing::warn!(error = %err, "alert evaluator could not take its lease");
            return false;
        }
    }
    let readings = readings(state).await;
    let now = Utc::now();
    let samples: Vec<(String, f64)> = readings
        .iter()
        .map(|r| {
            let metric = match r.alert_type {
                "cpu_high" => "cpu_percent".to_owned(),
                "memory_high" => "memory_percent".to_owned(),
                "disk_high" => "disk_percent".to_owned(),
                _ => format!("error_rate:{}", r.subject),
            };
            (metric, r.value)
        })
        .collect();
    if let Err(err) = service::record(&state.db, &samples, now).await {
        tracing::warn!(error = %err, "metric samples not recorded");
    }
    match service::apply(&state.db, &state.config.alerts, &readings, now).await {
        Ok(outcome) => tracing::debug!(?outcome, "alert rules evaluated"),
        Err(err) => tracing::warn!(error = %err, "alert rules not evaluated"),
    }
    true
}

/// Runs the evaluator every `interval` until the task is aborted.
pub fn spawn(state: AppState, interval: Duration) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let holder = holder_id();
        let mut tick = tokio::time::interval(interval);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            run_once(&state, &holder).await;
        }
    })
}
