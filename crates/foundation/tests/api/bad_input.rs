use crate::helpers::*;
use crm_common::db_test;
use serde_json::json;

const ID: &str = "01930000-0000-7000-8000-000000000000";

db_test!(
    async fn every_route_requires_a_token(backend) {
        let app = TestApp::spawn(backend).await;
        let routes = [
            ("GET", "/auth/me".to_owned()),
            ("POST", "/auth/logout".to_owned()),
            ("GET", "/users".to_owned()),
            ("POST", "/users".to_owned()),
            ("POST", "/users/batch".to_owned()),
            ("POST", "/employees/batch".to_owned()),
            ("GET", format!("/users/{ID}")),
            ("PUT", format!("/users/{ID}")),
            ("DELETE", format!("/users/{ID}")),
            ("PUT", format!("/users/{ID}/restore")),
            ("POST", format!("/users/{ID}/lock")),
            ("POST", format!("/users/{ID}/unlock")),
            ("POST", format!("/users/{ID}/reset-password")),
            ("PUT", format!("/users/{ID}/password")),
            ("GET", format!("/users/{ID}/roles")),
            ("POST", format!("/users/{ID}/roles/{ID}")),
            ("DELETE", format!("/users/{ID}/roles/{ID}")),
            ("GET", "/organizations".to_owned()),
            ("POST", "/organizations".to_owned()),
            ("GET", format!("/organizations/{ID}")),
            ("PUT", format!("/organizations/{ID}")),
            ("POST", format!("/organizations/{ID}/lock")),
            ("POST", format!("/organizations/{ID}/unlock")),
            ("GET", format!("/organizations/{ID}/employees")),
            ("POST", format!("/organizations/{ID}/employees")),
            ("PUT", format!("/organizations/{ID}/employees/{ID}")),
            ("DELETE", format!("/organizations/{ID}/employees/{ID}")),
            ("GET", format!("/organizations/{ID}/members")),
            ("POST", format!("/organizations/{ID}/members")),
            ("DELETE", format!("/organizations/{ID}/members/{ID}")),
            ("GET", "/roles".to_owned()),
            ("POST", "/roles".to_owned()),
            ("GET", format!("/roles/{ID}")),
            ("PUT", format!("/roles/{ID}")),
            ("DELETE", format!("/roles/{ID}")),
            ("GET", "/permissions".to_owned()),
            ("POST", "/permissions".to_owned()),
            ("GET", format!("/permissions/{ID}")),
            ("PUT", format!("/permissions/{ID}")),
            ("POST", format!("/permissions/roles/{ID}/assign")),
            ("GET", format!("/permissions/roles/{ID}")),
            ("GET", format!("/permissions/users/{ID}/info")),
            ("POST", "/menus".to_owned()),
            ("GET", format!("/menus/{ID}")),
            ("PUT", format!("/menus/{ID}")),
            ("DELETE", format!("/menus/{ID}")),
            ("GET", "/menus/tree/list".to_owned()),
            ("POST", format!("/menus/{ID}/permissions/assign")),
            ("GET", format!("/menus/users/{ID}/accessible")),
            ("GET", "/menus/user".to_owned()),
            ("GET", "/organization-domains".to_owned()),
            ("POST", "/organization-domains".to_owned()),
            ("GET", format!("/organization-domains/{ID}")),
            ("PUT", format!("/organization-domains/{ID}")),
            ("DELETE", format!("/organization-domains/{ID}")),
            ("GET", format!("/organization-domains/organizations/{ID}/domains")),
            ("POST", format!("/organization-domains/organizations/{ID}/domains")),
            ("GET", "/positions".to_owned()),
            ("POST", "/positions".to_owned()),
            ("GET", format!("/positions/{ID}")),
            ("PUT", format!("/positions/{ID}")),
            ("DELETE", format!("/positions/{ID}")),
            ("POST", format!("/positions/{ID}/move")),
            ("GET", "/worklogs".to_owned()),
            ("POST", "/worklogs".to_owned()),
            ("GET", format!("/worklogs/{ID}")),
            ("PUT", format!("/worklogs/{ID}")),
            ("POST", format!("/worklogs/{ID}/rate")),
            ("GET", "/audit-logs".to_owned()),
            ("GET", format!("/audit-logs/{ID}")),
            ("GET", format!("/audit-logs/users/{ID}")),
            ("GET", "/audit-logs/resources/order/o-1".to_owned()),
            ("POST", "/audit-logs/export".to_owned()),
            ("POST", "/audit-logs/ingest".to_owned()),
        ];
        for (method, path) in routes {
            let req = app
                .client
                .builder(method.parse().unwrap(), &format!("/api/foundation{path}"), None)
                .json(&json!({}));
            let r = app.client.send(req).await;
            assert_eq!(r.status, 401, "{method} {path} answered {}", r.text);
            assert_eq!(r.body["code"], 401);
        }
    }
);

db_test!(
    async fn malformed_wrong_types_and_missing_fields_are_400_with_fields(backend) {
        let app = TestApp::spawn(backend).await;
        let raw = |body: &'static str| {
            app.client.send(
                app.client
                    .builder(reqwest::Method::POST, "/api/foundation/users", app.admin())
                    .header("content-type", "application/json")
                    .body(body),
            )
        };
        let r = raw("{\"email\": ").await;
        r.expect(400);
        assert_eq!(r.body["message"], "request parameter error");
        assert_eq!(r.data()[0]["field"], "body");
        let r = raw("").await;
        r.expect(400);
        let r = raw("{\"organization_id\": \"01930000-0000-7000-8000-000000000000\", \"email\": 5, \"password\": \"x\", \"role_ids\": []}").await;
        r.expect(400);
        assert_eq!(r.data()[0]["field"], "email");
        let r = raw("{\"organization_id\": \"not-a-uuid\", \"email\": \"a@b.co\", \"password\": \"x\", \"role_ids\": []}").await;
        r.expect(400);
        assert_eq!(r.data()[0]["field"], "organization_id");
        let r = raw("{\"organization_id\": \"01930000-0000-7000-8000-000000000000\", \"email\": \"a@b.co\", \"password\": \"x\", \"role_ids\": [\"x\"]}").await;
        r.expect(400);
        assert_eq!(r.data()[0]["field"], "role_ids[0]");
        let r = raw("{\"email\": \"a@b.co\"}").await;
        r.expect(400);
        assert_eq!(r.data()[0]["field"], "organization_id");
        let r = raw("[1,2]").await;
        r.expect(400);
        let r = app.post("/auth/login", None, json!({"email": "a@b.co"})).await;
        r.expect(400);
        assert_eq!(r.data()[0]["field"], "password");
        let r = app.get("/users?page=abc", app.admin()).await;
        r.expect(400);
        assert_eq!(r.data()[0]["field"], "page");
        // A page past any result whose row offset would overflow: 400 on every list, never a 500.
        for list in ["/users", "/organizations", "/employees", "/worklogs", "/positions", "/uploads", "/audit-logs"] {
            let r = app.get(&format!("{list}?page=9223372036854775808"), app.admin()).await;
            r.expect(400);
            assert_eq!(r.data()[0]["field"], "page", "{list}");
            app.get(&format!("{list}?page=1000000000"), app.admin()).await.expect(200);
        }
        let r = app.get("/users/not-a-uuid", app.admin()).await;
        r.expect(400);
        let wrong_type = app
            .client
            .send(app.client.builder(reqwest::Method::POST, "/api/foundation/auth/login", None).header("content-type", "text/plain").body("{}"))
            .await;
        wrong_type.expect(415);
    }
);

db_test!(
    async fn oversized_bodies_unknown_routes_and_methods_get_envelopes(backend) {
        let app = TestApp::spawn(backend).await;
        let big = format!("{{\"email\": \"{}\", \"password\": \"x\"}}", "a".repeat(2 * 1024 * 1024));
        let r = app
            .client
            .send(app.client.builder(reqwest::Method::POST, "/api/foundation/auth/login", None).header("content-type", "application/json").body(big))
            .await;
        r.expect(413);
        let r = app.get("/no/such/route", app.admin()).await;
        r.expect(404);
        let r = app.client.get("/totally/elsewhere", None).await;
        r.expect(404);
        let r = app.delete("/auth/login", None).await;
        r.expect(405);
        assert!(r.header("x-request-id").is_some());
    }
);

db_test!(
    async fn request_ids_are_kept_or_made(backend) {
        let app = TestApp::spawn(backend).await;
        let req = app.client.builder(reqwest::Method::GET, "/api/foundation/auth/me", app.admin()).header("x-request-id", "trace-123");
        let r = app.client.send(req).await;
        assert_eq!(r.header("x-request-id"), Some("trace-123"));
        assert_eq!(r.body["request_id"], "trace-123");
        let req = app.client.builder(reqwest::Method::GET, "/api/foundation/auth/me", app.admin()).header("x-request-id", "bad id with spaces");
        let r = app.client.send(req).await;
        assert_ne!(r.header("x-request-id"), Some("bad id with spaces"));
        assert_eq!(r.body["request_id"], r.header("x-request-id").unwrap());
    }
);

db_test!(
    async fn health_ready_and_metrics(backend) {
        let app = TestApp::spawn(backend).await;
        let h = app.client.get("/health", None).await;
        assert_eq!(h.status, 200);
        assert_eq!(h.body["status"], "healthy");
        assert_eq!(h.body["service"], "foundation-service");
        assert_eq!(h.body["version"], crm_foundation::VERSION);
        let i = app.client.get("/info", None).await;
        assert_eq!(i.status, 200, "{}", i.text);
        assert_eq!((i.body["service"].as_str(), i.body["version"].as_str()), (Some("foundation-service"), Some(crm_foundation::VERSION)));
        let r = app.client.get("/ready", None).await;
        r.expect(200);
        assert_eq!(r.data()["checks"]["database"], "ok");
        assert_eq!(r.data()["checks"]["cache"], "ok");
        app.get("/users", app.admin()).await.expect(200);
        let m = app.client.http.get(format!("{}/metrics", app.client.base)).send().await.unwrap().text().await.unwrap();
        assert!(m.contains(r#"http_requests_total{route="/api/foundation/users",method="GET",status="200"}"#), "{m}");
        assert!(m.contains("http_request_duration_seconds_bucket"));
    }
);
