use crate::helpers::*;
use crm_common::db_test;
use serde_json::{Value, json};
use uuid::Uuid;

async fn position(app: &TestApp, token: Option<&str>, name: &str, code: &str) -> Uuid {
    let r = app.post("/positions", token, json!({"name": name, "code": code})).await;
    r.expect(200);
    uuid(&r.data()["id"])
}

fn emails(page: &Value) -> Vec<&str> {
    page["items"]
        .as_array()
        .unwrap_or_else(|| panic!("not a page: {page}"))
        .iter()
        .map(|e| e["email"].as_str().unwrap())
        .collect()
}

db_test!(
    async fn employees_are_users_in_seed_002_shape(backend) {
        let app = TestApp::spawn(backend).await;
        let dev = position(&app, app.admin(), "Senior developer", "SDEV").await;
        let lead = position(&app, app.admin(), "Team lead", "LEAD").await;
        let sales = app.role_id("SALES").await;
        let created = app
            .post(
                "/employees",
                app.admin(),
                json!({"username": "zhangsan", "email": "Zhang@Employees.test", "password": PASSWORD,
                       "full_name": "Zhang San", "position_id": dev, "role_id": sales, "status": "active"}),
            )
            .await;
        created.expect(200);
        let e = created.data();
        let zhang = uuid(&e["id"]);
        assert_eq!((e["username"].as_str(), e["email"].as_str()), (Some("zhangsan"), Some("zhang@employees.test")));
        assert_eq!(e["full_name"], "Zhang San");
        assert_eq!((e["position"]["id"].as_str(), e["position"]["name"].as_str()), (Some(&*dev.to_string()), Some("Senior developer")));
        assert_eq!((e["role"]["code"].as_str(), e["status"].as_str()), (Some("SALES"), Some("active")));
        assert!(e["last_login"].is_null());
        // The same account through /users, and it can log in.
        assert_eq!(app.get(&format!("/users/{zhang}"), app.admin()).await.data()["display_name"], "Zhang San");
        app.login("zhang@employees.test", PASSWORD).await.expect(200);

        let inactive = app
            .post(
                "/employees",
                app.admin(),
                json!({"email": "li@employees.test", "password": PASSWORD, "full_name": "Li Si",
                       "position_id": lead, "role_id": sales, "status": "inactive"}),
            )
            .await;
        inactive.expect(200);
        assert_eq!((inactive.data()["username"].as_str(), inactive.data()["status"].as_str()), (Some("li"), Some("inactive")));
        app.login("li@employees.test", PASSWORD).await.expect(403);

        // Listing: filters, sorting and seed 002's page shape.
        let all = app.get("/employees?search=employees.test&sort_by=username&sort_order=asc", app.admin()).await;
        all.expect(200);
        assert_eq!(emails(all.data()), ["li@employees.test", "zhang@employees.test"]);
        assert_eq!((all.data()["size"].as_u64(), all.data()["pages"].as_u64()), (Some(20), Some(1)));
        let by = |q: &str| format!("/employees?search=employees.test&{q}");
        assert_eq!(emails(app.get(&by(&format!("position_id={dev}")), app.admin()).await.data()), ["zhang@employees.test"]);
        assert_eq!(emails(app.get(&by("status=inactive"), app.admin()).await.data()), ["li@employees.test"]);
        assert_eq!(emails(app.get("/employees?search=zhang%20san", app.admin()).await.data()), ["zhang@employees.test"]);
        assert_eq!(emails(app.get(&by("sort_by=full_name&sort_order=desc"), app.admin()).await.data())[0], "zhang@employees.test");
        assert_eq!(app.get(&by(&format!("role_id={sales}")), app.admin()).await.data()["total"], 2);
        let admins = app.role_id("ADMIN").await;
        assert_eq!(app.get(&by(&format!("role_id={admins}")), app.admin()).await.data()["total"], 0);
        let paged = app.get(&by("page_size=1&page=2&sort_by=username&sort_order=asc"), app.admin()).await;
        assert_eq!((emails(paged.data()), paged.data()["pages"].as_u64()), (vec!["zhang@employees.test"], Some(2)));
        for bad in ["status=retired", "sort_by=password_hash", "sort_order=up", "page_size=101", "position_id=7"] {
            app.get(&format!("/employees?{bad}"), app.admin()).await.expect(400);
        }

        let detail = app.get(&format!("/employees/{zhang}"), app.admin()).await;
        detail.expect(200);
        assert_eq!((detail.data()["work_logs_count"].as_u64(), detail.data()["position"]["code"].as_str()), (Some(0), Some("SDEV")));
        assert!(detail.data()["last_login"].is_string(), "logged in above");

        // Update: every seed 002 field, position cleared with null.
        let operation = app.role_id("OPERATION").await;
        let upd = app
            .put(
                &format!("/employees/{zhang}"),
                app.admin(),
                json!({"email": "zhang.new@employees.test", "full_name": "Zhang Sanfeng", "position_id": null,
                       "role_id": operation, "status": "inactive"}),
            )
            .await;
        upd.expect(200);
        let u = upd.data();
        assert_eq!((u["email"].as_str(), u["full_name"].as_str()), (Some("zhang.new@employees.test"), Some("Zhang Sanfeng")));
        assert!(u["position"].is_null());
        assert_eq!((u["role"]["code"].as_str(), u["roles"].as_array().map(Vec::len)), (Some("OPERATION"), Some(1)));
        assert_eq!(u["status"], "inactive");
        app.login("zhang.new@employees.test", PASSWORD).await.expect(403);
        let moved = app.put(&format!("/employees/{zhang}"), app.admin(), json!({"position_id": lead, "status": "active"})).await;
        moved.expect(200);
        assert_eq!((moved.data()["position"]["name"].as_str(), moved.data()["full_name"].as_str()), (Some("Team lead"), Some("Zhang Sanfeng")));
        assert_eq!(app.get(&format!("/positions/{lead}"), app.admin()).await.data()["employee_count"], 2);

        // Bad input changes nothing.
        app.put(&format!("/employees/{zhang}"), app.admin(), json!({"email": "li@employees.test"})).await.expect(409);
        app.post("/employees", app.admin(), json!({"email": "li@employees.test", "password": PASSWORD, "role_id": sales})).await.expect(409);
        let invalid = app.put(&format!("/employees/{zhang}"), app.admin(), json!({"email": "nope", "status": "retired"})).await;
        invalid.expect(400);
        let unknown_position = app.put(&format!("/employees/{zhang}"), app.admin(), json!({"position_id": Uuid::now_v7()})).await;
        unknown_position.expect(400);
        assert_eq!(unknown_position.data()[0]["field"], "position_id");
        let unknown_role = app.put(&format!("/employees/{zhang}"), app.admin(), json!({"role_id": Uuid::now_v7()})).await;
        unknown_role.expect(400);
        assert_eq!(unknown_role.data()[0]["field"], "role_id");
        let weak = app.post("/employees", app.admin(), json!({"email": "weak@employees.test", "password": "short", "role_id": sales})).await;
        weak.expect(400);
        let bad_create = app.post("/employees", app.admin(), json!({"email": "x", "password": PASSWORD})).await;
        bad_create.expect(400);
        let still = app.get(&format!("/employees/{zhang}"), app.admin()).await;
        assert_eq!((still.data()["email"].as_str(), still.data()["position"]["name"].as_str()), (Some("zhang.new@employees.test"), Some("Team lead")));
        assert_eq!(app.get("/employees?search=weak%40", app.admin()).await.data()["total"], 0);
        app.put(&format!("/employees/{}", app.admin_id), app.admin(), json!({"status": "inactive"})).await.expect(400);

        // Password reset ends sessions and sets the new password.
        let session = app.login("zhang.new@employees.test", PASSWORD).await;
        session.expect(200);
        let refresh = session.data()["refresh_token"].as_str().unwrap().to_owned();
        app.post(&format!("/employees/{zhang}/reset-password"), app.admin(), json!({"new_password": "short"})).await.expect(400);
        app.post(&format!("/employees/{zhang}/reset-password"), app.admin(), json!({"new_password": "EmployeeReset77"})).await.expect(200);
        app.post("/auth/refresh", None, json!({"refresh_token": refresh})).await.expect(401);
        app.login("zhang.new@employees.test", PASSWORD).await.expect(401);
        app.login("zhang.new@employees.test", "EmployeeReset77").await.expect(200);

        // Delete is the users' soft delete.
        app.delete(&format!("/employees/{}", app.admin_id), app.admin()).await.expect(400);
        app.delete(&format!("/employees/{zhang}"), app.admin()).await.expect(200);
        app.get(&format!("/employees/{zhang}"), app.admin()).await.expect(404);
        assert_eq!(emails(app.get("/employees?search=employees.test", app.admin()).await.data()), ["li@employees.test"]);
        app.login("zhang.new@employees.test", "EmployeeReset77").await.expect(403);
        app.put(&format!("/users/{zhang}/restore"), app.admin(), json!({})).await.expect(200);
        app.get(&format!("/employees/{zhang}"), app.admin()).await.expect(200);

        let rows = app.audit_until("employee audit", |rows| rows.iter().any(|r| r.resource_type.as_deref() == Some("employee") && r.action == "DELETE")).await;
        let stored = serde_json::to_string(&rows).unwrap();
        assert!(!stored.contains("EmployeeReset77") && !stored.contains(PASSWORD), "a password reached the audit log");
        let renamed = rows.iter().any(|r| {
            r.resource_type.as_deref() == Some("employee")
                && r.old_values.as_ref().is_some_and(|v| v["full_name"] == "Zhang San")
                && r.new_values.as_ref().is_some_and(|v| v["full_name"] == "Zhang Sanfeng")
        });
        assert!(renamed, "the update is audited with the employee before and after");
    }
);

db_test!(
    async fn employees_stay_in_their_organization_and_need_permissions(backend) {
        let app = TestApp::spawn(backend).await;
        let sales = app.role_id("SALES").await;
        let (_, other_admin) = app.org_with_admin("Employee Agent").await;
        let ours = app.post("/employees", app.admin(), json!({"email": "ours@employees.test", "password": PASSWORD, "role_id": sales})).await;
        ours.expect(200);
        let ours = uuid(&ours.data()["id"]);
        let theirs = app.post("/employees", Some(&other_admin), json!({"email": "theirs@employees.test", "password": PASSWORD, "role_id": sales})).await;
        theirs.expect(200);

        // Another organization's admin sees only its own employees, and ours are "not found".
        let listed = app.get("/employees?page_size=100", Some(&other_admin)).await;
        listed.expect(200);
        assert!(emails(listed.data()).contains(&"theirs@employees.test"));
        assert!(!emails(listed.data()).contains(&"ours@employees.test"));
        app.get(&format!("/employees/{ours}"), Some(&other_admin)).await.expect(404);
        app.put(&format!("/employees/{ours}"), Some(&other_admin), json!({"full_name": "Taken"})).await.expect(404);
        app.post(&format!("/employees/{ours}/reset-password"), Some(&other_admin), json!({"new_password": "Hijacked123"})).await.expect(404);
        app.delete(&format!("/employees/{ours}"), Some(&other_admin)).await.expect(404);
        // A position of another organization cannot be given.
        let foreign = position(&app, Some(&other_admin), "Boss", "BOSS").await;
        app.put(&format!("/employees/{ours}"), app.admin(), json!({"position_id": foreign})).await.expect(400);
        let unchanged = app.get(&format!("/employees/{ours}"), app.admin()).await;
        assert!(unchanged.data()["position"].is_null());
        assert!(unchanged.data()["full_name"].is_null());
        app.login("ours@employees.test", PASSWORD).await.expect(200);

        // A salesperson may look, not change.
        let (_, seller) = app.user_with_token(BANTU, "seller@employees.test", &["SALES"]).await;
        app.get(&format!("/employees/{ours}"), Some(&seller)).await.expect(200);
        app.post("/employees", Some(&seller), json!({"email": "x@employees.test", "password": PASSWORD, "role_id": sales})).await.expect(403);
        app.put(&format!("/employees/{ours}"), Some(&seller), json!({"full_name": "Renamed"})).await.expect(403);
        app.post(&format!("/employees/{ours}/reset-password"), Some(&seller), json!({"new_password": "Hijacked123"})).await.expect(403);
        app.delete(&format!("/employees/{ours}"), Some(&seller)).await.expect(403);
        app.get("/employees", None).await.expect(401);
        app.get(&format!("/employees/{}", Uuid::now_v7()), app.admin()).await.expect(404);
        app.get("/employees/not-a-uuid", app.admin()).await.expect(400);
    }
);
