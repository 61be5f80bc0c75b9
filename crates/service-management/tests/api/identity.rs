//! Who the caller is, as foundation says: locking in foundation reaches this service within the
//! principal cache time, and foundation being down is a 503 naming it, never a 500.

use crate::helpers::*;
use crm_common::db_test;
use crm_common::testing::{Backend, Process, TestClient, TestDatabase, free_port, sibling_binary};
use serde_json::json;
use std::time::Duration;

db_test!(
    async fn locking_in_foundation_is_refused_here_within_the_cache_time(backend) {
        let app = TestApp::spawn_with(backend, |c| c.peers.principal_cache = Duration::from_secs(1)).await;
        let (user_id, token) = app.user(BANTU, "sales@bantu.test", &["SALES"]).await;
        app.get("/categories", Some(&token)).await.expect(200);
        app.fpost(&format!("/users/{user_id}/lock"), app.admin(), json!({})).await.expect(200);
        let mut refused = None;
        for _ in 0..40 {
            let r = app.get("/categories", Some(&token)).await;
            if r.status != 200 {
                refused = Some(r);
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let r = refused.expect("the locked user was still served after 4 s");
        assert_eq!(r.status, 401, "{}", r.text);
        assert_eq!(r.body["code"], 401);

        // An ended session (logout in foundation) is refused here the same way.
        let (_, other) = app.user(BANTU, "sales2@bantu.test", &["SALES"]).await;
        app.get("/categories", Some(&other)).await.expect(200);
        app.fpost("/auth/logout", Some(&other), json!({})).await.expect(200);
        tokio::time::sleep(Duration::from_millis(1300)).await;
        let r = app.get("/categories", Some(&other)).await;
        assert_eq!(r.status, 401, "{}", r.text);

        // A locked organization cuts its members off the same way.
        let (org, org_admin) = app.org("PT Vendor Satu", "vendor").await;
        app.get("/categories", Some(&org_admin)).await.expect(200);
        app.fpost(&format!("/organizations/{org}/lock"), app.admin(), json!({})).await.expect(200);
        tokio::time::sleep(Duration::from_millis(1300)).await;
        app.get("/categories", Some(&org_admin)).await.expect(401);
    }
);

db_test!(
    async fn no_token_a_forged_token_and_a_missing_permission_are_refused(backend) {
        let app = TestApp::spawn(backend).await;
        let r = app.get("/categories", None).await;
        r.expect(401);
        assert_eq!(r.body["data"], serde_json::Value::Null);
        app.get("/categories", Some("not.a.token")).await.expect(401);
        let mut forged = app.admin_token.clone();
        forged.pop();
        forged.push(if app.admin_token.ends_with('A') { 'B' } else { 'A' });
        app.get("/categories", Some(&forged)).await.expect(401);
        let (_, sales) = app.user(BANTU, "sales@bantu.test", &["SALES"]).await;
        let r = app.post("/categories", Some(&sales), json!({"code": "X", "name": "X"})).await;
        r.expect(403);
        assert!(r.body["message"].as_str().unwrap().contains("catalog.manage"), "{}", r.text);
    }
);

/// foundation as a real process, killed mid-test: with its answer about the caller expired, the
/// service answers 503 naming foundation; it never hangs and never answers 500.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn foundation_down_is_a_503_naming_it() {
    let fdb = TestDatabase::create(Backend::Sqlite).await;
    let dir = fdb.data_dir();
    let foundation = Process::start(
        &sibling_binary("crm-foundation"),
        free_port(),
        &dir.join("foundation"),
        &[
            ("DATABASE_URL", fdb.url.clone()),
            ("CRM_DATA_DIR", dir.join("foundation").display().to_string()),
            ("CRM_ADMIN_EMAIL", ADMIN_EMAIL.into()),
            ("CRM_ADMIN_PASSWORD", ADMIN_PASSWORD.into()),
            ("CRM_AUDIT_INGEST_TOKEN", INGEST_TOKEN.into()),
        ],
    )
    .healthy()
    .await;
    let db = TestDatabase::create(Backend::Sqlite).await;
    let mut cfg = config(&db, &db.data_dir().join("sm"), &foundation.url());
    cfg.peers.principal_cache = Duration::from_millis(500);
    let app = crm_service_management::Application::build(cfg).await.unwrap();
    let sm = TestClient::new(format!("http://127.0.0.1:{}", app.port()));
    tokio::spawn(app.run_until_stopped());
    let login = TestClient::new(foundation.url())
        .post("/api/foundation/auth/login", None, &json!({"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}))
        .await;
    login.expect(200);
    let token = login.data()["token"].as_str().unwrap().to_owned();
    sm.get("/api/service-management/categories", Some(&token)).await.expect(200);
    foundation.kill();
    tokio::time::sleep(Duration::from_millis(700)).await;
    let started = std::time::Instant::now();
    let r = sm.get("/api/service-management/categories", Some(&token)).await;
    assert_eq!(r.status, 503, "{}", r.text);
    assert_eq!(r.body["code"], 503);
    assert!(r.body["message"].as_str().unwrap().contains("foundation"), "{}", r.text);
    assert!(started.elapsed() < Duration::from_secs(5));
}
