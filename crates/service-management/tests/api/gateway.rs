//! Through the real gateway binary: `/api/service-management/*` reaches this service, and so do
//! the original's paths under order-workflow's prefix that the catalogue owns (the gateway's
//! default prefix overrides), with the caller's token checked on the way.

use crate::helpers::*;
use crm_common::testing::{Backend, Process, TestClient, free_port, sibling_binary};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_gateway_routes_the_catalogue_and_the_original_dependency_path_here() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let dir = app.db.data_dir().join("gateway");
    let port = free_port();
    let gateway = Process::start(
        &sibling_binary("crm-gateway"),
        port,
        &dir,
        &[
            ("CRM_DATA_DIR", dir.display().to_string()),
            ("CRM_TLS_ENABLED", "false".into()),
            ("CRM_HTTP_REDIRECT", "false".into()),
            ("CRM_RATELIMIT_ENABLED", "false".into()),
            (
                "CRM_SERVICE_URLS",
                format!("foundation={},service-management=http://127.0.0.1:{}", app.foundation.url(), app.port),
            ),
            ("CRM_JWKS_URL", format!("{}/api/foundation/auth/jwks.json", app.foundation.url())),
        ],
    )
    .healthy()
    .await;
    let gw = TestClient::new(gateway.url());
    let r = gw.post("/api/service-management/categories", app.admin(), &json!({"code": "VISA", "name": "Visas"})).await;
    r.expect(200);
    let r = gw.get("/api/service-management/categories?size=1000", app.admin()).await;
    r.expect(200);
    assert_eq!(r.data()["total"], 1);
    // The original's dependency path, under order-workflow's prefix, is answered by this service.
    let r = gw.get("/api/order-workflow/product-dependencies?size=20", app.admin()).await;
    r.expect(200);
    assert!(r.data()["records"].is_array(), "{}", r.text);
    // No token: the gateway refuses before the service is asked.
    gw.get("/api/service-management/categories", None).await.expect(401);
    let r = gw.get("/openapi.json", None).await;
    assert_eq!(r.status, 200);
    let paths = r.body["paths"].as_object().unwrap();
    assert!(paths.contains_key("/api/service-management/categories/tree"), "merged document lacks the catalogue");
}
