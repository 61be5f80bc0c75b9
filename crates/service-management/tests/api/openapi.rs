//! The OpenAPI document: in step with the router both ways, complete, served without a token, and
//! true to what the handlers answer (crm-common's shared checks, as foundation's tests use them).

use crate::helpers::*;
use crm_common::db_test;
use crm_common::testing::openapi::{documented, mounted_routes, resolve};
use serde_json::json;
use std::collections::BTreeSet;
use std::path::Path;

/// The prefix of each resource module's routes (see `router` in lib.rs).
fn prefix(module: &str) -> String {
    match module {
        "dependencies" => "/api/order-workflow".into(),
        "legacy.rs" => "/api/order-workflow".into(),
        _ => PREFIX.into(),
    }
}

#[test]
fn every_mounted_route_is_documented() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let lib = std::fs::read_to_string(src.join("lib.rs")).unwrap();
    assert!(lib.contains(r#".nest("/api/service-management", api)"#));
    assert!(lib.contains(r#".nest("/api/order-workflow", legacy)"#));
    let mounted = mounted_routes(&src, prefix);
    assert!(mounted.contains(&("GET".into(), "/api/service-management/categories/tree".into())));
    assert!(mounted.contains(&("GET".into(), "/api/service-management/openapi.json".into())));
    let doc = crm_service_management::openapi::document().unwrap();
    let documented = documented(&doc);
    let undocumented: Vec<_> = mounted.difference(&documented).collect();
    let unmounted: Vec<_> = documented.difference(&mounted).collect();
    assert!(undocumented.is_empty(), "mounted but not in the OpenAPI document: {undocumented:#?}");
    assert!(unmounted.is_empty(), "documented but not mounted: {unmounted:#?}");
}

#[test]
fn the_document_is_complete() {
    let doc = crm_service_management::openapi::document().unwrap();
    let public = ["/api/service-management/openapi.json"];
    let tags: BTreeSet<&str> = doc["tags"].as_array().unwrap().iter().filter_map(|t| t["name"].as_str()).collect();
    let mut ids = BTreeSet::new();
    for (method, path) in documented(&doc) {
        let op = &doc["paths"][&path][method.to_lowercase()];
        let name = format!("{method} {path}");
        assert!(op["summary"].as_str().is_some_and(|s| !s.is_empty()), "{name}: no summary");
        let tag = op["tags"][0].as_str().unwrap_or_else(|| panic!("{name}: no tag"));
        assert!(tags.contains(tag), "{name}: tag {tag} is not described");
        assert!(ids.insert(op["operationId"].as_str().unwrap().to_owned()), "{name}: operationId not unique");
        assert!(op["responses"].as_object().unwrap().keys().any(|s| s.starts_with('2')), "{name}: no success response");
        let secured = op["security"].as_array().is_some_and(|s| !s.is_empty());
        assert_eq!(secured, !public.contains(&path.as_str()), "{name}: security");
        for segment in path.split('/').filter(|s| s.starts_with('{')) {
            let param = segment.trim_matches(['{', '}']);
            let declared = op["parameters"]
                .as_array()
                .is_some_and(|ps| ps.iter().any(|p| p["name"] == param && p["in"] == "path"));
            assert!(declared, "{name}: path parameter {param} not declared");
        }
        for (_, response) in op["responses"].as_object().unwrap() {
            resolve(&doc, response);
        }
    }
}

db_test!(
    async fn served_without_a_token_and_every_operation_is_mounted(backend) {
        let app = TestApp::spawn(backend).await;
        let r = app.get("/openapi.json", None).await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(r.body, crm_service_management::openapi::document().unwrap(), "served as generated");
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
    }
);
