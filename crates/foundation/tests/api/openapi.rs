//! The OpenAPI document: served without a token, OpenAPI 3.1, complete, in step with the router,
//! and true to what the handlers answer.
//!
//! Two checks keep the document and the router from drifting apart, one per direction:
//!
//! - **Every mounted route is documented** ([`every_mounted_route_is_documented`]). axum cannot
//!   list a router's routes, so the test reads them from the code that declares them: every
//!   `.route("/path", get(..).post(..))` in the library's `src/**/*.rs`, under `/api/foundation` plus the
//!   module's `.nest("/prefix", module::routes())` in `lib.rs`. A route added to any `routes()`
//!   without an annotated handler in that resource's `Api` makes the two sets differ. The reader
//!   refuses what it does not understand (a `.route(` it cannot parse, a `.nest(` inside a
//!   resource), so a new way of declaring routes fails the test rather than slipping past it.
//! - **Every documented operation is mounted** ([`served_without_a_token_and_every_operation_is_mounted`]).
//!   Each one is called on a running server without a token; the router's own answers to an
//!   unknown path (404 `not found`) or method (405) must not come back, so a documented path with a
//!   typo or a wrong method fails even if the source reading above were fooled.
//!
//! [`responses_match_the_documented_schemas`] then checks real responses of a populated server
//! against the schemas the document gives for them, field by field.

use crate::helpers::*;
use crm_common::db_test;
use crm_common::testing::openapi::{assert_documented, documented, literal};
use serde_json::json;
use std::collections::BTreeSet;
use std::path::Path;

/// Every `(METHOD, path)` the source mounts under `/api/foundation`: a resource's routes sit
/// under the prefix lib.rs nests its `routes()` at (`.nest("/auth", auth::routes())`), if any.
fn mounted_routes() -> BTreeSet<(String, String)> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let lib = std::fs::read_to_string(src.join("lib.rs")).unwrap();
    assert!(lib.contains(r#".nest("/api/foundation", api)"#), "lib.rs mounts the API under /api/foundation");
    crm_common::testing::openapi::mounted_routes(&src, |module| {
        let nested = format!(", {module}::routes())");
        let prefix = lib
            .match_indices(".nest(")
            .filter_map(|(i, _)| literal(&lib[i + ".nest(".len()..]))
            .find(|(_, rest)| rest.starts_with(&nested))
            .map(|(p, _)| p.to_owned())
            .unwrap_or_default();
        format!("/api/foundation{prefix}")
    })
}

#[test]
fn every_mounted_route_is_documented() {
    let mounted = mounted_routes();
    // The reader works: it finds routes declared both ways, including under a nested prefix.
    assert!(mounted.len() > 60, "only {} routes read from the source", mounted.len());
    for known in [
        ("POST", "/api/foundation/auth/login"),
        ("DELETE", "/api/foundation/organizations/{organization_id}/members/{user_id}"),
        ("PUT", "/api/foundation/users/{user_id}/restore"),
        ("GET", "/api/foundation/openapi.json"),
    ] {
        assert!(mounted.contains(&(known.0.into(), known.1.into())), "{known:?} not read from the source");
    }
    let doc = crm_foundation::openapi::document().unwrap();
    let documented = documented(&doc);
    let undocumented: Vec<_> = mounted.difference(&documented).collect();
    let unmounted: Vec<_> = documented.difference(&mounted).collect();
    assert!(undocumented.is_empty(), "mounted but not in the OpenAPI document: {undocumented:#?}");
    assert!(unmounted.is_empty(), "documented but not mounted: {unmounted:#?}");
}

#[test]
fn the_document_is_complete() {
    let doc = crm_foundation::openapi::document().unwrap();
    let public = [
        "/api/foundation/auth/login",
        "/api/foundation/auth/refresh",
        "/api/foundation/auth/register",
        "/api/foundation/auth/jwks.json",
        "/api/foundation/openapi.json",
    ];
    crm_common::testing::openapi::assert_complete(&doc, &public);
}

db_test!(
    async fn served_without_a_token_and_every_operation_is_mounted(backend) {
        let app = TestApp::spawn(backend).await;
        let r = app.get("/openapi.json", None).await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert!(r.header("content-type").is_some_and(|c| c.starts_with("application/json")));
        let doc = &r.body;
        assert!(doc["openapi"].as_str().is_some_and(|v| v.starts_with("3.1")), "openapi: {}", doc["openapi"]);
        assert_eq!(doc, &crm_foundation::openapi::document().unwrap(), "served as generated");

        for (method, path) in documented(doc) {
            let target = path
                .split('/')
                .map(|s| match s {
                    "{resource_type}" => "user".to_owned(),
                    s if s.starts_with('{') => uuid::Uuid::now_v7().to_string(),
                    s => s.to_owned(),
                })
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

db_test!(
    async fn responses_match_the_documented_schemas(backend) {
        let app = TestApp::spawn(backend).await;
        let doc = crm_foundation::openapi::document().unwrap();
        let admin = app.admin();
        let me = app.admin_id;

        let created = app.post("/organizations", admin, json!({"name": "Docs Org", "organization_type": "agent"})).await;
        assert_documented(&doc, "post", "/api/foundation/organizations", &created);
        let org = uuid(&created.data()["id"]);
        let user = app.create_user(org, "docs@bantu.test", &["SALES"]).await;
        let user_id = uuid(&user["id"]);
        let top = app.post("/positions", admin, json!({"name": "CEO", "code": "ceo"})).await;
        assert_documented(&doc, "post", "/api/foundation/positions", &top);
        let top_id = uuid(&top.data()["id"]);
        app.post("/positions", admin, json!({"name": "CTO", "parent_id": top_id})).await.expect(200);
        let log = app.post("/worklogs", admin, json!({"work_date": "2026-01-05", "content": "docs"})).await;
        assert_documented(&doc, "post", "/api/foundation/worklogs", &log);
        let log_id = uuid(&log.data()["id"]);
        let file = crate::uploads::upload(&app, admin.unwrap(), &[("file", Some("docs.txt"), b"docs")]).await;
        assert_documented(&doc, "post", "/api/foundation/upload", &file);
        let file_id = uuid(&file.data()["file_id"]);
        let role_id = app.role_id("SALES").await;
        let member = app.post(&format!("/organizations/{org}/members"), admin, json!({"user_id": me})).await;
        assert_documented(&doc, "post", "/api/foundation/organizations/{organization_id}/members", &member);
        let invalid = app.post("/users", admin, json!({"email": "nope"})).await;
        assert_documented(&doc, "post", "/api/foundation/users", &invalid);
        let denied = app.get("/users", None).await;
        assert_documented(&doc, "get", "/api/foundation/users", &denied);

        let reads = [
            ("/auth/me", "/auth/me".to_owned()),
            ("/users", "/users".to_owned()),
            ("/users/{user_id}", format!("/users/{user_id}")),
            ("/users/{user_id}/roles", format!("/users/{user_id}/roles")),
            ("/organizations", "/organizations".to_owned()),
            ("/organizations/{organization_id}", format!("/organizations/{org}")),
            ("/organizations/{organization_id}/employees", format!("/organizations/{org}/employees")),
            ("/roles", "/roles".to_owned()),
            ("/roles/{role_id}", format!("/roles/{role_id}")),
            ("/permissions", "/permissions".to_owned()),
            ("/permissions/roles/{role_id}", format!("/permissions/roles/{role_id}")),
            ("/permissions/role/{role_id}", format!("/permissions/role/{role_id}")),
            ("/permissions/users/{user_id}/info", format!("/permissions/users/{me}/info")),
            ("/menus/tree/list", "/menus/tree/list".to_owned()),
            ("/menus/user", "/menus/user".to_owned()),
            ("/organization-domains", "/organization-domains".to_owned()),
            ("/organization-domains/organizations/{organization_id}/domains", format!("/organization-domains/organizations/{org}/domains")),
            ("/positions", "/positions".to_owned()),
            ("/positions", "/positions?tree=true".to_owned()),
            ("/positions/{position_id}", format!("/positions/{top_id}")),
            ("/worklogs", "/worklogs".to_owned()),
            ("/worklogs/{worklog_id}", format!("/worklogs/{log_id}")),
            ("/uploads", "/uploads".to_owned()),
            ("/uploads/{file_id}", format!("/uploads/{file_id}")),
            ("/audit-logs", "/audit-logs".to_owned()),
            ("/auth/jwks.json", "/auth/jwks.json".to_owned()),
        ];
        for (template, path) in reads {
            let r = app.get(&path, admin).await;
            assert_eq!(r.status, 200, "GET {path}: {}", r.text);
            assert_documented(&doc, "get", &format!("/api/foundation{template}"), &r);
        }
        let missing = app.get(&format!("/users/{}", uuid::Uuid::now_v7()), admin).await;
        assert_documented(&doc, "get", "/api/foundation/users/{user_id}", &missing);
    }
);
