//! Alert rules firing, not repeating, escalating, being acknowledged and resolved; one evaluator
//! when two replicas share a database.

use crate::helpers::*;
use chrono::{Duration, Utc};
use crm_analytics_monitoring::alerts::rules::Reading;
use crm_analytics_monitoring::alerts::{job, lease, service};
use crm_common::db_test;
use serde_json::json;

fn cpu(v: f64) -> Vec<Reading> {
    vec![Reading { alert_type: "cpu_high", subject: "host".into(), value: v }]
}

db_test!(
    async fn rules_fire_do_not_repeat_and_are_acknowledged(backend) {
        let app = TestApp::spawn(backend).await;
        let db = &app.state.db;
        let settings = &app.state.config.alerts;
        let now = Utc::now();
        let out = service::apply(db, settings, &cpu(75.0), now).await.unwrap();
        assert_eq!(out.raised, 1);
        let again = service::apply(db, settings, &cpu(80.0), now + Duration::seconds(60)).await.unwrap();
        assert_eq!((again.raised, again.repeated), (0, 1));

        let r = app.get("/monitoring/alerts/active", app.admin()).await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(r.data()["total"], 1);
        let alert = &r.data()["alerts"][0];
        assert_eq!(alert["type"], "cpu_high");
        assert_eq!(alert["severity"], "warning");
        assert_eq!(alert["acknowledged"], false);
        assert_eq!(alert["occurrences"], 2);
        assert!(alert["message"].as_str().unwrap().contains("70"), "{alert}");
        let id = alert["id"].as_str().unwrap().to_owned();

        let ack = app.post(&format!("/monitoring/alerts/{id}/acknowledge"), app.admin(), json!({})).await;
        assert_eq!(ack.status, 200, "{}", ack.text);
        assert_eq!(ack.body["data"], true);
        let r = app.get("/monitoring/alerts/active", app.admin()).await;
        assert_eq!(r.data()["alerts"][0]["acknowledged"], true);
        assert_eq!(r.data()["alerts"][0]["status"], "acknowledged");

        // Worse: the open alert escalates, still one.
        service::apply(db, settings, &cpu(90.0), now + Duration::seconds(120)).await.unwrap();
        let r = app.get("/monitoring/alerts/active", app.admin()).await;
        assert_eq!(r.data()["total"], 1);
        assert_eq!(r.data()["alerts"][0]["severity"], "critical");

        // Back to normal: resolved, no longer listed.
        let out = service::apply(db, settings, &cpu(10.0), now + Duration::seconds(180)).await.unwrap();
        assert_eq!(out.resolved, 1);
        let r = app.get("/monitoring/alerts/active", app.admin()).await;
        assert_eq!(r.data()["total"], 0);
        let resolved = app.post(&format!("/monitoring/alerts/{id}/acknowledge"), app.admin(), json!({})).await;
        assert_eq!(resolved.status, 409, "{}", resolved.text);

        // Firing again within the repeat window raises nothing new; after it, a new alert.
        let out = service::apply(db, settings, &cpu(75.0), now + Duration::seconds(240)).await.unwrap();
        assert_eq!((out.raised, out.suppressed), (0, 1));
        let later = now + Duration::from_std(settings.repeat_window).unwrap() + Duration::seconds(1);
        let out = service::apply(db, settings, &cpu(75.0), later).await.unwrap();
        assert_eq!(out.raised, 1);

        let unknown = app.post(&format!("/monitoring/alerts/{}/acknowledge", uuid::Uuid::now_v7()), app.admin(), json!({})).await;
        assert_eq!(unknown.status, 404, "{}", unknown.text);
        let bad = app.post("/monitoring/alerts/not-an-id/acknowledge", app.admin(), json!({})).await;
        assert_eq!(bad.status, 400, "{}", bad.text);
        // An organization's own administrator does not see the deployment's alerts.
        let (_, _, org_admin) = app.org("PT Vendor", "vendor").await;
        let r = app.get("/monitoring/alerts/active", Some(&org_admin)).await;
        assert_eq!(r.status, 403, "{}", r.text);
    }
);

db_test!(
    async fn one_evaluator_among_two_replicas(backend) {
        let app = TestApp::spawn(backend).await;
        // A second replica on the same database.
        let mut cfg = app.state.config.clone();
        cfg.common.cache_prefix = format!("second-{}:", uuid::Uuid::now_v7().simple());
        let second = crm_analytics_monitoring::prepare(cfg).await.unwrap();
        let (a, b) = (app.state.clone(), second.clone());
        let (ran_a, ran_b) = tokio::join!(job::run_once(&a, "replica-a"), job::run_once(&b, "replica-b"));
        assert!(ran_a ^ ran_b, "exactly one evaluated: {ran_a} {ran_b}");
        let (holder, other) = if ran_a { ("replica-a", "replica-b") } else { ("replica-b", "replica-a") };
        // The holder keeps it; the other waits until it expires.
        let now = Utc::now();
        let ttl = Duration::seconds(180);
        assert!(lease::acquire(&a.db, lease::EVALUATOR, holder, ttl, now).await.unwrap());
        assert!(!lease::acquire(&a.db, lease::EVALUATOR, other, ttl, now).await.unwrap());
        assert!(lease::acquire(&a.db, lease::EVALUATOR, other, ttl, now + Duration::seconds(181)).await.unwrap());
        // Many racing for it at once: one wins.
        let expired = now + Duration::seconds(400);
        let mut tasks = Vec::new();
        for i in 0..8 {
            let db = if i % 2 == 0 { a.db.clone() } else { b.db.clone() };
            tasks.push(tokio::spawn(async move {
                lease::acquire(&db, lease::EVALUATOR, &format!("racer-{i}"), ttl, expired).await.unwrap()
            }));
        }
        let mut winners = 0;
        for t in tasks {
            winners += usize::from(t.await.unwrap());
        }
        assert_eq!(winners, 1);
    }
);
