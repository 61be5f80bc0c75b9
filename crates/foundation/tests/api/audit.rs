use crate::helpers::*;
use chrono::{Duration, Utc};
use crm_common::contracts::AuditEvent;
use crm_common::db_test;
use reqwest::Method;
use serde_json::{Value, json};
use std::collections::HashMap;
use uuid::Uuid;

pub fn event(
    org: Option<Uuid>,
    user: Option<Uuid>,
    action: &str,
    resource: (&str, &str),
    minutes_ago: i64,
) -> AuditEvent {
    AuditEvent {
        id: Uuid::now_v7(),
        occurred_at: Utc::now() - Duration::minutes(minutes_ago),
        service: "order-workflow".into(),
        organization_id: org,
        user_id: user,
        user_name: Some("someone".into()),
        action: action.into(),
        category: "test_management".into(),
        resource_type: Some(resource.0.into()),
        resource_id: Some(resource.1.into()),
        method: "POST".into(),
        path: format!("/api/order-workflow/{}s/{}", resource.0, resource.1),
        status: if action == "DELETE" { "failed" } else { "success" }.into(),
        status_code: if action == "DELETE" { 404 } else { 200 },
        error_message: None,
        ip_address: Some("10.1.2.3".into()),
        user_agent: Some("Mozilla, \"quoted\"\nnext".into()),
        duration_ms: u64::try_from(minutes_ago).unwrap(),
        request_id: Some(format!("ev-{minutes_ago}")),
        request_params: Some(json!({"body": {"note": "=SUM(A1)"}})),
        old_values: None,
        new_values: None,
    }
}

async fn ingest(app: &TestApp, token: Option<&str>, events: &[AuditEvent]) -> crm_common::testing::TestResponse {
    let mut req =
        app.client.builder(Method::POST, "/api/foundation/audit-logs/ingest", None).json(&json!({ "events": events }));
    if let Some(t) = token {
        req = req.header("x-audit-token", t);
    }
    app.client.send(req).await
}

fn records(r: &crm_common::testing::TestResponse) -> Vec<Value> {
    r.data()["records"].as_array().unwrap().clone()
}

db_test!(
    async fn scripted_requests_are_audited_once_with_secrets_redacted(backend) {
        let app = TestApp::spawn(backend).await;
        let mut n = 0;
        let mut expected: Vec<String> = Vec::new();
        let mut next = |mutating: bool| {
            n += 1;
            let id = format!("script-{n}");
            if mutating {
                expected.push(id.clone());
            }
            id
        };
        let admin = app.admin_token.clone();
        let r = app.send_traced(Method::POST, "/auth/login", None, Some(json!({"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD})), &next(true)).await;
        r.expect(200);
        let fresh_admin_token = r.data()["token"].as_str().unwrap().to_owned();
        app.send_traced(Method::POST, "/auth/login", None, Some(json!({"email": ADMIN_EMAIL, "password": "WrongPass999"})), &next(true)).await.expect(401);
        app.send_traced(Method::POST, "/auth/login", None, Some(json!({"email": "ghost@nowhere.test", "password": "GhostPass111"})), &next(true)).await.expect(401);
        let org = app
            .send_traced(Method::POST, "/organizations", Some(&admin), Some(json!({"name": "Audited Agent", "organization_type": "agent", "admin_password": "OrgAdminPw123"})), &next(true))
            .await;
        org.expect(200);
        let sales = app.role_id("SALES").await;
        let created = app
            .send_traced(Method::POST, "/users", Some(&admin), Some(json!({"organization_id": BANTU, "email": "audited@bantu.test", "password": "UserSecret123", "role_ids": [sales]})), &next(true))
            .await;
        created.expect(200);
        let uid = uuid(&created.data()["id"]);
        app.send_traced(Method::POST, &format!("/users/{uid}/reset-password"), Some(&admin), Some(json!({"new_password": "ResetSecret456"})), &next(true)).await.expect(200);
        let login = app.send_traced(Method::POST, "/auth/login", None, Some(json!({"email": "audited@bantu.test", "password": "ResetSecret456"})), &next(true)).await;
        login.expect(200);
        let user_token = login.data()["token"].as_str().unwrap().to_owned();
        app.send_traced(Method::PUT, &format!("/users/{uid}/password"), Some(&user_token), Some(json!({"old_password": "ResetSecret456", "new_password": "ChangedSecret789"})), &next(true))
            .await
            .expect(200);
        let login = app.send_traced(Method::POST, "/auth/login", None, Some(json!({"username": "audited", "password": "ChangedSecret789"})), &next(true)).await;
        login.expect(200);
        let (user_token, refresh) = (login.data()["token"].as_str().unwrap().to_owned(), login.data()["refresh_token"].as_str().unwrap().to_owned());
        let refreshed = app.send_traced(Method::POST, "/auth/refresh", None, Some(json!({"refresh_token": refresh})), &next(true)).await;
        refreshed.expect(200);
        let refresh2 = refreshed.data()["refresh_token"].as_str().unwrap().to_owned();
        app.send_traced(Method::POST, "/auth/logout", Some(&user_token), Some(json!({"refresh_token": refresh2})), &next(true)).await.expect(200);
        app.send_traced(Method::POST, "/roles", Some(&admin), Some(json!({"code": "bad code!", "name": "x"})), &next(true)).await.expect(400);
        app.send_traced(Method::PUT, &format!("/users/{uid}"), Some(&admin), Some(json!({"display_name": "Audited Person"})), &next(true)).await.expect(200);
        let missing = Uuid::now_v7();
        app.send_traced(Method::DELETE, &format!("/roles/{missing}"), Some(&admin), None, &next(true)).await.expect(404);
        app.send_traced(Method::GET, "/users", Some(&admin), None, &next(false)).await.expect(200);
        let menu = app.send_traced(Method::POST, "/menus", Some(&admin), Some(json!({"code": "audited", "name_zh": "审计", "name_id": "Audit"})), &next(true)).await;
        menu.expect(200);
        let menu_id = uuid(&menu.data()["id"]);
        app.send_traced(Method::POST, "/audit-logs/export", Some(&admin), Some(json!({"format": "csv"})), &next(true)).await.expect(200);
        app.send_traced(Method::DELETE, &format!("/menus/{menu_id}"), Some(&admin), None, &next(true)).await.expect(200);
        let unread = next(false);
        app.send_traced(Method::GET, "/audit-logs", Some(&admin), None, &unread).await.expect(200);

        let rows = app
            .audit_until("every scripted mutation", |rows| {
                expected.iter().all(|id| rows.iter().any(|r| r.request_id.as_deref() == Some(id.as_str())))
            })
            .await;
        let mut per_request: HashMap<String, usize> = HashMap::new();
        for r in &rows {
            *per_request.entry(r.request_id.clone().unwrap_or_default()).or_default() += 1;
        }
        for id in &expected {
            assert_eq!(per_request.get(id), Some(&1), "{id} should have exactly one entry");
        }
        assert_eq!(per_request.get("script-15"), None, "reads are not recorded");
        assert_eq!(per_request.get(&unread), None);
        assert_eq!(rows.iter().filter(|r| r.request_id.as_deref().is_some_and(|i| i.starts_with("script-"))).count(), expected.len());

        let by = |id: &str| rows.iter().find(|r| r.request_id.as_deref() == Some(id)).unwrap().clone();
        let ok_login = by("script-1");
        assert_eq!((ok_login.action.as_str(), ok_login.status.as_str(), ok_login.category.as_str()), ("LOGIN", "success", "authentication"));
        assert_eq!(ok_login.user_id, Some(app.admin_id));
        assert_eq!(ok_login.organization_id, Some(BANTU));
        assert_eq!(ok_login.ip_address.as_deref(), Some("127.0.0.1"));
        assert_eq!(ok_login.service, "foundation");
        let wrong = by("script-2");
        assert_eq!((wrong.status.as_str(), wrong.status_code), ("failed", 401));
        assert_eq!(wrong.error_message.as_deref(), Some("invalid email or password"));
        assert_eq!((wrong.user_id, wrong.organization_id), (Some(app.admin_id), Some(BANTU)));
        let ghost = by("script-3");
        assert_eq!((ghost.user_id, ghost.organization_id, ghost.user_name.as_deref()), (None, None, Some("ghost@nowhere.test")));
        let user_create = by("script-5");
        assert_eq!((user_create.action.as_str(), user_create.category.as_str()), ("CREATE", "user_management"));
        assert_eq!((user_create.resource_type.as_deref(), user_create.resource_id.clone()), (Some("user"), Some(uid.to_string())));
        assert_eq!(by("script-6").action, "RESET_PASSWORD");
        assert_eq!(by("script-8").action, "CHANGE_PASSWORD");
        assert_eq!(by("script-8").user_id, Some(uid));
        assert_eq!(by("script-10").action, "REFRESH");
        assert_eq!(by("script-10").user_id, Some(uid));
        assert_eq!((by("script-11").action.as_str(), by("script-11").user_id), ("LOGOUT", Some(uid)));
        assert_eq!(by("script-12").status_code, 400);
        assert_eq!(by("script-13").action, "UPDATE");
        let delete = by("script-14");
        assert_eq!((delete.action.as_str(), delete.status.as_str(), delete.resource_id.clone()), ("DELETE", "failed", Some(missing.to_string())));
        assert_eq!(by("script-16").category, "menu_management");
        assert_eq!((by("script-17").action.as_str(), by("script-17").category.as_str()), ("EXPORT", "audit_management"));
        // The state before and after a change: a creation has only the new values, an update
        // both, a deletion only the old, a refused request and a login neither.
        let user_new = user_create.new_values.clone().expect("new values of a creation");
        assert_eq!((user_new["id"].as_str(), user_new["email"].as_str()), (Some(uid.to_string().as_str()), Some("audited@bantu.test")));
        assert_eq!(user_create.old_values, None);
        let update = by("script-13");
        let (old, new) = (update.old_values.clone().expect("old values"), update.new_values.clone().expect("new values"));
        assert!(old["display_name"].is_null(), "{old}");
        assert_eq!(new["display_name"], "Audited Person");
        assert_eq!((old["email"].as_str(), new["email"].as_str()), (Some("audited@bantu.test"), Some("audited@bantu.test")));
        assert_eq!(old["version"].as_i64().map(|v| v + 1), new["version"].as_i64());
        assert_eq!((delete.old_values.clone(), delete.new_values.clone()), (None, None));
        assert_eq!((ok_login.old_values.clone(), ok_login.new_values.clone()), (None, None));
        assert_eq!(by("script-17").new_values, None, "an export's content is not a new state");
        let menu_delete = by("script-18");
        assert_eq!(menu_delete.old_values.as_ref().and_then(|v| v["code"].as_str()), Some("audited"));
        assert_eq!(menu_delete.new_values, None);
        let params = by("script-5").request_params.unwrap();
        assert_eq!(params["body"]["email"], "audited@bantu.test");
        assert_eq!(params["body"]["password"], "[REDACTED]");

        let stored = serde_json::to_string(&rows).unwrap();
        for secret in [
            ADMIN_PASSWORD, "WrongPass999", "GhostPass111", "OrgAdminPw123", "UserSecret123", "ResetSecret456",
            "ChangedSecret789", refresh.as_str(), refresh2.as_str(), user_token.as_str(), admin.as_str(),
            fresh_admin_token.as_str(),
        ] {
            assert!(!stored.contains(secret), "a secret reached the audit log: {secret}");
        }
    }
);

db_test!(
    async fn ingest_is_authenticated_and_idempotent(backend) {
        let app = TestApp::spawn(backend).await;
        let events: Vec<AuditEvent> = (1..=3).map(|i| event(Some(BANTU), None, "CREATE", ("order", "o-1"), i)).collect();
        ingest(&app, None, &events).await.expect(401);
        ingest(&app, Some("wrong-token-wrong-token"), &events).await.expect(401);
        let first = ingest(&app, Some(INGEST_TOKEN), &events).await;
        first.expect(200);
        assert_eq!(first.data(), &json!({"received": 3, "stored": 3}));
        let again = ingest(&app, Some(INGEST_TOKEN), &events).await;
        again.expect(200);
        assert_eq!(again.data()["stored"], 0);
        let count = |rows: &[crm_foundation::audit::model::Model]| rows.iter().filter(|r| r.category == "test_management").count();
        assert_eq!(count(&app.audit_rows().await), 3);
        let too_many: Vec<AuditEvent> = (0..1001).map(|i| event(Some(BANTU), None, "CREATE", ("order", "o"), i)).collect();
        ingest(&app, Some(INGEST_TOKEN), &too_many).await.expect(400);
        let malformed = app.client.send(app.client.builder(Method::POST, "/api/foundation/audit-logs/ingest", None).header("x-audit-token", INGEST_TOKEN).json(&json!({"events": [{"id": "x"}]}))).await;
        malformed.expect(400);
        // Ingest calls are not themselves audited.
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        assert!(app.audit_rows().await.iter().all(|r| !r.request_path.ends_with("/ingest")));
        // Without a configured secret, foundation makes one and keeps it in its data directory,
        // where services sharing that directory find it.
        let local = TestApp::spawn_with(backend, |c| c.audit.ingest_token = None).await;
        ingest(&local, Some(INGEST_TOKEN), &events).await.expect(401);
        let file = local.state.config.audit.token_file.clone();
        let generated = std::fs::read_to_string(&file).unwrap();
        assert!(generated.len() >= 40);
        ingest(&local, Some(&generated), &events).await.expect(200);
    }
);

db_test!(
    async fn search_history_scoping_and_permissions(backend) {
        let app = TestApp::spawn(backend).await;
        let (org, org_admin) = app.org_with_admin("Audit Agent").await;
        let alice = Uuid::now_v7();
        let mut events = vec![
            event(Some(BANTU), Some(alice), "CREATE", ("order", "o-1"), 50),
            event(Some(BANTU), Some(alice), "UPDATE", ("order", "o-1"), 40),
            event(Some(BANTU), None, "DELETE", ("order", "o-2"), 30),
            event(Some(org), None, "CREATE", ("lead", "l-1"), 20),
            event(None, None, "LOGIN", ("user", "u-1"), 10),
        ];
        events[4].category = "test_management".into();
        ingest(&app, Some(INGEST_TOKEN), &events).await.expect(200);
        let q = |s: &str| format!("/audit-logs?category=test_management{s}");

        let mine = app.get(&q(""), app.admin()).await;
        mine.expect(200);
        assert_eq!(mine.data()["total"], 3);
        assert_eq!((mine.data()["page"].clone(), mine.data()["size"].clone(), mine.data()["pages"].clone()), (json!(1), json!(10), json!(1)));
        let first = &records(&mine)[0];
        assert_eq!(first["action"], "DELETE", "newest first by default");
        for f in [
            "id", "organization_id", "user_id", "user_name", "action", "resource_type", "resource_id", "resource_name",
            "category", "ip_address", "user_agent", "request_method", "request_path", "request_params", "old_values",
            "new_values", "status", "error_message", "duration_ms", "created_at",
        ] {
            assert!(first.get(f).is_some(), "entry lacks {f}");
        }
        assert_eq!(app.get(&q("&action=UPDATE"), app.admin()).await.data()["total"], 1);
        assert_eq!(app.get(&q("&status=failed"), app.admin()).await.data()["total"], 1);
        assert_eq!(app.get(&q(&format!("&user_id={alice}")), app.admin()).await.data()["total"], 2);
        assert_eq!(app.get(&q("&resource_type=order&resource_id=o-1"), app.admin()).await.data()["total"], 2);
        let since = (Utc::now() - Duration::minutes(45)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        let until = (Utc::now() - Duration::minutes(35)).format("%Y-%m-%dT%H:%M:%S").to_string();
        let window = app.get(&q(&format!("&start_time={since}&end_time={until}")), app.admin()).await;
        window.expect(200);
        assert_eq!(window.data()["total"], 1);
        let asc = app.get(&q("&order_by=duration_ms&order_desc=false&size=2&page=2"), app.admin()).await;
        assert_eq!((asc.data()["pages"].clone(), records(&asc)[0]["duration_ms"].clone()), (json!(2), json!(50)));
        app.get(&q("&order_by=password"), app.admin()).await.expect(400);
        app.get(&q("&size=101"), app.admin()).await.expect(400);
        app.get(&q("&start_time=last-week"), app.admin()).await.expect(400);

        // Other organizations: only for platform admins.
        assert_eq!(app.get(&q(&format!("&organization_id={org}")), app.admin()).await.data()["total"], 1);
        assert_eq!(app.get(&q("&all_organizations=true"), app.admin()).await.data()["total"], 5);
        let theirs = app.get(&q(""), Some(&org_admin)).await;
        theirs.expect(200);
        assert_eq!(theirs.data()["total"], 1);
        assert_eq!(records(&theirs)[0]["resource_type"], "lead");
        app.get(&q(&format!("&organization_id={BANTU}")), Some(&org_admin)).await.expect(403);
        app.get(&q("&all_organizations=true"), Some(&org_admin)).await.expect(403);

        let bantu_entry = records(&mine)[0]["id"].as_str().unwrap().to_owned();
        let one = app.get(&format!("/audit-logs/{bantu_entry}"), app.admin()).await;
        one.expect(200);
        assert_eq!(one.data()["resource_id"], "o-2");
        app.get(&format!("/audit-logs/{bantu_entry}"), Some(&org_admin)).await.expect(404);
        app.get(&format!("/audit-logs/{}", Uuid::now_v7()), app.admin()).await.expect(404);

        let history = app.get(&format!("/audit-logs/users/{alice}?size=1"), app.admin()).await;
        history.expect(200);
        assert_eq!((history.data()["total"].clone(), records(&history)[0]["action"].clone()), (json!(2), json!("UPDATE")));
        assert_eq!(app.get(&format!("/audit-logs/users/{alice}"), Some(&org_admin)).await.data()["total"], 0);
        let resource = app.get("/audit-logs/resources/order/o-1", app.admin()).await;
        assert_eq!(resource.data()["total"], 2);
        let since = (Utc::now() - Duration::minutes(45)).to_rfc3339();
        let resource = app.get(&format!("/audit-logs/resources/order/o-1?start_time={}", urlencode(&since)), app.admin()).await;
        assert_eq!(resource.data()["total"], 1);
        assert_eq!(app.get("/audit-logs/resources/lead/l-1", Some(&org_admin)).await.data()["total"], 1);

        // Audit is for holders of audit.view / audit.export only, and never writable.
        let (_, sales) = app.user_with_token(BANTU, "sales@audit.test", &["SALES"]).await;
        app.get("/audit-logs", Some(&sales)).await.expect(403);
        app.get(&format!("/audit-logs/users/{alice}"), Some(&sales)).await.expect(403);
        app.post("/audit-logs/export", Some(&sales), json!({})).await.expect(403);
        app.get("/audit-logs", None).await.expect(401);
        app.put(&format!("/audit-logs/{bantu_entry}"), app.admin(), json!({})).await.expect(405);
        app.delete(&format!("/audit-logs/{bantu_entry}"), app.admin()).await.expect(405);
    }
);

fn urlencode(s: &str) -> String {
    s.replace('+', "%2B").replace(':', "%3A")
}

db_test!(
    async fn exports_inline_and_streamed(backend) {
        let app = TestApp::spawn(backend).await;
        let events: Vec<AuditEvent> = (1..=3).map(|i| event(Some(BANTU), None, "CREATE", ("order", "o-1"), i)).collect();
        ingest(&app, Some(INGEST_TOKEN), &events).await.expect(200);
        let json_export = app.post("/audit-logs/export", app.admin(), json!({"category": "test_management"})).await;
        json_export.expect(200);
        assert_eq!((json_export.data()["format"].clone(), json_export.data()["mime_type"].clone()), (json!("json"), json!("application/json")));
        let parsed: Vec<Value> = serde_json::from_str(json_export.data()["content"].as_str().unwrap()).unwrap();
        assert_eq!(parsed.len(), 3);
        assert_eq!(parsed[0]["duration_ms"], 1);
        let csv = app.post("/audit-logs/export", app.admin(), json!({"category": "test_management", "format": "csv", "order_desc": false})).await;
        csv.expect(200);
        assert_eq!(csv.data()["mime_type"], "text/csv");
        let content = csv.data()["content"].as_str().unwrap();
        assert!(content.starts_with("id,created_at,organization_id,user_id,"));
        assert!(content.contains("\"Mozilla, \"\"quoted\"\"\nnext\""), "{content}");
        assert!(content.contains("\"{\"\"body\"\":{\"\"note\"\":\"\"=SUM(A1)\"\"}}\""), "{content}");
        assert_eq!(content.matches("\r\n").count(), 4);
        app.post("/audit-logs/export", app.admin(), json!({"format": "xml"})).await.expect(400);

        // Beyond the inline limit the export is a streamed download.
        for round in 0..2 {
            let batch: Vec<AuditEvent> = (0..600).map(|i| event(Some(BANTU), None, "CREATE", ("order", &format!("{round}-{i}")), 0)).collect();
            ingest(&app, Some(INGEST_TOKEN), &batch).await.expect(200);
        }
        let download = |format: &'static str| {
            app.client.http.post(format!("{}/api/foundation/audit-logs/export", app.client.base)).bearer_auth(&app.admin_token).json(&json!({"category": "test_management", "format": format})).send()
        };
        let file = download("csv").await.unwrap();
        assert_eq!(file.status(), 200);
        assert!(file.headers()["content-disposition"].to_str().unwrap().starts_with("attachment; filename=\"audit-logs-"));
        assert!(file.headers()["content-type"].to_str().unwrap().starts_with("text/csv"));
        let text = file.text().await.unwrap();
        assert_eq!(text.lines().filter(|l| l.starts_with(|c: char| c.is_ascii_hexdigit())).count(), 1203);
        let ids: std::collections::HashSet<&str> = text.lines().skip(1).filter_map(|l| l.split(',').next()).filter(|s| s.len() == 36).collect();
        assert_eq!(ids.len(), 1203, "every row exactly once across chunks");
        let json_file = download("json").await.unwrap();
        assert!(json_file.headers()["content-type"].to_str().unwrap().starts_with("application/json"));
        let rows: Vec<Value> = json_file.json().await.unwrap();
        assert_eq!(rows.len(), 1203);
        let at = |i: usize| rows[i]["created_at"].as_str().unwrap().parse::<chrono::DateTime<Utc>>().unwrap();
        assert!((1..rows.len()).all(|i| at(i - 1) >= at(i)), "newest first");
    }
);

db_test!(
    async fn changes_carry_the_state_before_and_after(backend) {
        let app = TestApp::spawn(backend).await;
        let admin = app.admin_token.clone();
        let send = |method: Method, path: String, body: Option<Value>, id: &'static str| {
            let (app, admin) = (&app, admin.clone());
            async move {
                let r = app.send_traced(method, &path, Some(&admin), body, id).await;
                r.expect(200);
                r
            }
        };
        let role = send(Method::POST, "/roles".into(), Some(json!({"code": "AUDITED_ROLE", "name": "Before"})), "c-1").await;
        let role_id = uuid(&role.data()["id"]);
        send(Method::PUT, format!("/roles/{role_id}"), Some(json!({"name": "After"})), "c-2").await;
        send(Method::DELETE, format!("/roles/{role_id}"), None, "c-3").await;
        let org = send(Method::POST, "/organizations".into(), Some(json!({"name": "Lockable", "organization_type": "agent", "admin_password": "OrgAdminPw123"})), "c-4").await;
        let org_id = uuid(&org.data()["id"]);
        send(Method::POST, format!("/organizations/{org_id}/lock"), None, "c-5").await;
        let sales = app.role_id("SALES").await;
        let user = send(Method::POST, "/users".into(), Some(json!({"organization_id": BANTU, "email": "restored@bantu.test", "password": "UserSecret123", "role_ids": [sales]})), "c-6").await;
        let user_id = uuid(&user.data()["id"]);
        send(Method::DELETE, format!("/users/{user_id}"), None, "c-7").await;
        send(Method::PUT, format!("/users/{user_id}/restore"), None, "c-8").await;

        let ids = ["c-2", "c-3", "c-5", "c-7", "c-8"];
        let rows = app
            .audit_until("the changes", |rows| ids.iter().all(|id| rows.iter().any(|r| r.request_id.as_deref() == Some(*id))))
            .await;
        let by = |id: &str| rows.iter().find(|r| r.request_id.as_deref() == Some(id)).unwrap().clone();
        let field = |v: &Option<Value>, key: &str| v.as_ref().map(|v| v[key].clone()).unwrap_or(Value::Null);
        let renamed = by("c-2");
        assert_eq!((field(&renamed.old_values, "name"), field(&renamed.new_values, "name")), (json!("Before"), json!("After")));
        let deleted = by("c-3");
        assert_eq!((field(&deleted.old_values, "code"), deleted.new_values), (json!("AUDITED_ROLE"), None));
        let locked = by("c-5");
        assert_eq!((field(&locked.old_values, "is_locked"), field(&locked.new_values, "is_locked")), (json!(false), json!(true)));
        assert_eq!(field(&by("c-7").old_values, "email"), json!("restored@bantu.test"));
        let restored = by("c-8");
        assert!(field(&restored.old_values, "deleted_at").is_string(), "{:?}", restored.old_values);
        assert!(field(&restored.new_values, "deleted_at").is_null(), "{:?}", restored.new_values);
    }
);
