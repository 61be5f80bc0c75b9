//! The OpenAPI document: in step with the router both ways, complete, served without a token.

use crate::helpers::*;
use crm_common::db_test;
use crm_common::testing::openapi::{documented, mounted_routes};
use serde_json::json;
use std::path::Path;

/// Every resource under the API prefix; the dashboard page at the root (`/dashboard`).
fn prefix(module: &str) -> String {
    if module == "dashboard" { String::new() } else { PREFIX.into() }
}

#[test]
fn every_mounted_route_is_documented() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let lib = std::fs::read_to_string(src.join("lib.rs")).unwrap();
    assert!(lib.contains(r#".nest("/api/analytics-monitoring", api)"#));
    let mounted = mounted_routes(&src, prefix);
    assert!(mounted.contains(&("GET".into(), "/api/analytics-monitoring/openapi.json".into())));
    let doc = crm_analytics_monitoring::openapi::document().unwrap();
    let documented = documented(&doc);
    let undocumented: Vec<_> = mounted.difference(&documented).collect();
    let unmounted: Vec<_> = documented.difference(&mounted).collect();
    assert!(undocumented.is_empty(), "mounted but not in the OpenAPI document: {undocumented:#?}");
    assert!(unmounted.is_empty(), "documented but not mounted: {unmounted:#?}");
}

#[test]
fn the_document_is_complete() {
    let doc = crm_analytics_monitoring::openapi::document().unwrap();
    crm_common::testing::openapi::assert_complete(
        &doc,
        &["/api/analytics-monitoring/openapi.json", "/dashboard", "/dashboard/{asset}"],
    );
}

db_test!(
    async fn served_without_a_token_and_every_operation_is_mounted(backend) {
        let app = TestApp::spawn(backend).await;
        let r = app.get("/openapi.json", None).await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(r.body, crm_analytics_monitoring::openapi::document().unwrap(), "served as generated");
        for (method, path) in documented(&r.body) {
            let target = path
                .split('/')
                .map(|s| if s.starts_with('{') { uuid::Uuid::now_v7().to_string() } else { s.to_owned() })
                .collect::<Vec<_>>()
                .join("/");
            let mut request = app.client.builder(method.parse().unwrap(), &target, None);
            if method == "POST" || method == "PUT" {
                request = request.json(&json!({}));
            }
            let r = app.client.send(request).await;
            let unrouted = (r.status == 404 && r.body["message"] == "not found") || r.status == 405;
            assert!(!unrouted, "{method} {path} is documented but not routed: {} {}", r.status, r.text);
        }
        for probe in ["/health", "/ready", "/metrics"] {
            let r = app.client.get(probe, None).await;
            assert_eq!(r.status, 200, "{probe}: {}", r.text);
        }
    }
);
