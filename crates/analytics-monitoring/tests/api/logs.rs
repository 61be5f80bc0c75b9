//! Log search on the SQLite log store and on a MongoDB-wire server (SecantusDB): filters, newest
//! first, deep pages and exact totals, statistics.

use crate::helpers::*;
use chrono::{DateTime, Duration, TimeZone, Utc};
use crm_common::db_test;
use crm_common::logstore::{LogRecord, LogStoreConfig};
use crm_common::testing::{Backend, MongoServer};
use serde_json::json;

const SERVICES: [&str; 3] = ["foundation-service", "order-workflow-service", "service-management-service"];
const N: usize = 1_234;

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 1, 1, 0, 0, 0).single().unwrap()
}

/// Record `i`: one a second, services in turn, every tenth an ERROR, every seventh a WARNING.
fn record(i: usize) -> LogRecord {
    let level = if i.is_multiple_of(10) {
        "ERROR"
    } else if i.is_multiple_of(7) {
        "WARNING"
    } else {
        "INFO"
    };
    LogRecord {
        id: None,
        timestamp: t0() + Duration::seconds(i as i64),
        level: level.into(),
        message: format!("record {i:05} login {}", if i.is_multiple_of(10) { "failed" } else { "ok" }),
        service: SERVICES[i % 3].into(),
        name: "crm::auth".into(),
        function: Some(if i.is_multiple_of(2) { "login" } else { "refresh" }.into()),
        line: Some(45),
        file: Some("src/auth/login.rs".into()),
        module: Some("crm::auth".into()),
        thread: Some(1),
        process: 1,
        exception: None,
        extra: None,
    }
}

async fn fill(app: &TestApp) {
    let store = app.state.logs.as_ref().expect("log store open");
    let records: Vec<LogRecord> = (0..N).map(record).collect();
    for chunk in records.chunks(500) {
        store.insert(chunk).await.unwrap();
    }
}

async fn check_search(app: &TestApp) {
    fill(app).await;
    let admin = app.admin();
    // Everything, newest first, exact total.
    let r = app.post("/logs/query", admin, json!({"page": 1, "page_size": 50})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.data()["total"], N);
    assert_eq!(r.data()["total_pages"], N.div_ceil(50));
    assert_eq!(r.data()["logs"][0]["message"], format!("record {:05} login ok", N - 1));
    // A deep page: records N-1-(24*50) … in order.
    let r = app.post("/logs/query", admin, json!({"page": 25, "page_size": 50})).await;
    let logs = r.data()["logs"].as_array().unwrap();
    assert_eq!(logs.len(), 34, "the last page holds the rest");
    assert!(logs[0]["message"].as_str().unwrap().starts_with(&format!("record {:05}", N - 1 - 24 * 50)));
    assert_eq!(logs.last().unwrap()["message"].as_str().unwrap(), "record 00000 login failed");
    // Filters: ERROR of order-workflow (i % 10 == 0 and i % 3 == 1).
    let expected = (0..N).filter(|i| i % 10 == 0 && i % 3 == 1).count();
    let r = app
        .post(
            "/logs/query",
            admin,
            json!({"services": ["order-workflow-service"], "levels": ["error"], "keyword": "FAILED", "page_size": 500}),
        )
        .await;
    assert_eq!(r.data()["total"], expected);
    assert!(
        r.data()["logs"]
            .as_array()
            .unwrap()
            .iter()
            .all(|l| l["level"] == "ERROR" && l["service"] == "order-workflow-service")
    );
    // The same through GET, lists comma-separated, with a time range and function.
    let start = (t0() + Duration::seconds(100)).format("%Y-%m-%dT%H:%M:%S");
    let end = (t0() + Duration::seconds(199)).format("%Y-%m-%dT%H:%M:%S");
    let r = app
        .get(&format!("/logs/query?services=foundation-service,order-workflow-service&levels=INFO,WARNING,ERROR&start_time={start}&end_time={end}&function=LOG&page_size=10&page=2"), admin)
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let expected = (100..200).filter(|i| i % 3 != 2 && i % 2 == 0).count();
    assert_eq!(r.data()["total"], expected);
    assert_eq!(r.data()["page"], 2);
    assert_eq!(r.data()["logs"].as_array().unwrap().len(), 10);
    // Statistics.
    let r = app.get("/logs/statistics?services=foundation-service", admin).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let foundation = (0..N).filter(|i| i % 3 == 0).count();
    let errors = (0..N).filter(|i| i % 3 == 0 && i % 10 == 0).count();
    let warnings = (0..N).filter(|i| i % 3 == 0 && i % 10 != 0 && i % 7 == 0).count();
    assert_eq!(r.data()["total_logs"], foundation);
    assert_eq!(r.data()["by_service"], json!({"foundation-service": foundation}));
    assert_eq!(r.data()["error_count"], errors);
    assert_eq!(r.data()["warning_count"], warnings);
    assert_eq!(r.data()["by_level"]["INFO"], foundation - errors - warnings);
    assert!(r.data()["time_range"]["start"].is_null());
    // Bad input.
    for body in
        [json!({"page": 0}), json!({"page_size": 501}), json!({"levels": ["LOUD"]}), json!({"start_time": "yesterday"})]
    {
        let r = app.post("/logs/query", admin, body.clone()).await;
        assert_eq!(r.status, 400, "{body}: {}", r.text);
    }
    let r = app.get("/logs/query", None).await;
    assert_eq!(r.status, 401);
}

db_test!(
    async fn search_on_the_sqlite_store(backend) {
        let app = TestApp::spawn(backend).await;
        check_search(&app).await;
    }
);

#[tokio::test]
async fn search_on_a_mongodb_wire_server() {
    let mongo = MongoServer::start();
    let url = mongo.url();
    let app = TestApp::spawn_with(Backend::Sqlite, |c| c.logs = LogStoreConfig::Mongo { url }).await;
    assert_eq!(app.state.logs.as_ref().unwrap().backend(), "mongodb");
    check_search(&app).await;
}
