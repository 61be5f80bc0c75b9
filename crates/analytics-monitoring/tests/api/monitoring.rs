//! Services health (the fan-out), database health and metrics, system metrics.

use crate::helpers::*;
use crm_common::db_test;

db_test!(
    async fn health_turns_unhealthy_when_a_service_stops(backend) {
        let mut app = TestApp::spawn(backend).await;
        let r = app.get("/monitoring/health/services", app.admin()).await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(r.data()["overall_status"], "healthy");
        let services = r.data()["services"].as_array().unwrap();
        assert_eq!(services.len(), 3);
        for s in services {
            assert_eq!(s["status"], "healthy", "{s}");
            assert!(s["uptime"].is_u64(), "{s}");
            assert!(s["version"].is_string(), "{s}");
        }
        app.ow.stop().await;
        let r = app.get("/monitoring/health/services", app.admin()).await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(r.data()["overall_status"], "degraded");
        let ow = r.data()["services"].as_array().unwrap().iter().find(|s| s["name"] == "order-workflow-service").cloned();
        let ow = ow.expect("order-workflow listed");
        assert_eq!(ow["status"], "unhealthy");
        assert!(ow["error_message"].is_string());
    }
);

db_test!(
    async fn database_and_system_metrics(backend) {
        let app = TestApp::spawn(backend).await;
        let db = app.get("/monitoring/health/database", app.admin()).await;
        assert_eq!(db.status, 200, "{}", db.text);
        assert_eq!(db.data()["status"], "healthy");
        assert!(db.data()["version"].is_string(), "{}", db.text);
        assert!(db.data()["connection_pool_size"].as_u64().unwrap() >= 1);
        assert!(db.data()["response_time_ms"].is_number());
        let m = app.get("/monitoring/metrics/database", app.admin()).await;
        assert_eq!(m.status, 200, "{}", m.text);
        assert!(m.data()["connection_count"].as_u64().unwrap() >= 1, "{}", m.text);
        assert!(m.data()["timestamp"].is_string());
        let s = app.get("/monitoring/metrics/system", app.admin()).await;
        assert_eq!(s.status, 200, "{}", s.text);
        for k in ["cpu_percent", "memory_percent", "disk_percent"] {
            let v = s.data()[k].as_f64().unwrap();
            assert!((0.0..=100.0).contains(&v), "{k} = {v}");
        }
        // The evaluator's run records what the charts draw.
        assert!(crm_analytics_monitoring::alerts::job::run_once(&app.state, "test").await);
        let h = app.get("/monitoring/metrics/history?metric=memory_percent&minutes=5", app.admin()).await;
        assert_eq!(h.status, 200, "{}", h.text);
        assert_eq!(h.data()["points"].as_array().unwrap().len(), 1);
        let bad = app.get("/monitoring/metrics/history?metric=cpu_percent&minutes=0", app.admin()).await;
        assert_eq!(bad.status, 400, "{}", bad.text);
        let none = app.get("/monitoring/metrics/system", None).await;
        assert_eq!(none.status, 401, "{}", none.text);
    }
);
