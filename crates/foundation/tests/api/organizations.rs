use crate::helpers::*;
use crm_common::db_test;
use serde_json::json;

db_test!(
    async fn create_organization_with_generated_code_and_admin(backend) {
        let app = TestApp::spawn(backend).await;
        let r = app
            .post("/organizations", app.admin(), json!({"name": "Visa Partner", "organization_type": "agent", "email": "hello@visa.id", "company_size": "small"}))
            .await;
        r.expect(200);
        let d = r.data();
        let today = chrono::Utc::now().format("%Y%m%d").to_string();
        assert_eq!(d["code"], format!("agent001{today}"));
        assert_eq!(d["employees_count"], 1);
        assert_eq!(d["domains"], json!([]));
        assert_eq!(d["admin_user"]["email"], "admin@visa.id");
        let initial = d["admin_user"]["initial_password"].as_str().unwrap().to_owned();
        let login = app.login("admin@visa.id", &initial).await;
        login.expect(200);
        assert_eq!(login.data()["user"]["roles"], json!(["ADMIN"]));
        // The next organization of the same type and mail domain gets the next code and address.
        let r2 = app.post("/organizations", app.admin(), json!({"name": "Visa Two", "organization_type": "agent", "email": "x@visa.id"})).await;
        r2.expect(200);
        assert_eq!(r2.data()["code"], format!("agent002{today}"));
        assert_eq!(r2.data()["admin_user"]["email"], format!("adminagent002{today}@visa.id"));
        app.post("/organizations", app.admin(), json!({"name": "Dup", "organization_type": "vendor", "code": "BANTU"})).await.expect(409);
        let bad = app.post("/organizations", app.admin(), json!({"name": "", "organization_type": "alien", "company_size": "huge"})).await;
        bad.expect(400);
        let fields: Vec<_> = bad.data().as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap().to_owned()).collect();
        assert_eq!(fields, ["organization_type", "name", "company_size"]);
        // Only BANTU's admins create organizations.
        let org_admin = login.data()["token"].as_str().unwrap().to_owned();
        app.post("/organizations", Some(&org_admin), json!({"name": "Mine", "organization_type": "agent"})).await.expect(403);
    }
);

db_test!(
    async fn list_get_update_and_scoping(backend) {
        let app = TestApp::spawn(backend).await;
        let (a, admin_a) = app.org_with_admin("Alpha Agent").await;
        app.create_org("Beta Vendor", "vendor").await;
        let all = app.get("/organizations?size=50", app.admin()).await;
        all.expect(200);
        assert_eq!(all.data()["total"], 3);
        assert_eq!(app.get("/organizations?organization_type=vendor", app.admin()).await.data()["total"], 1);
        assert_eq!(app.get("/organizations?name=ALPHA", app.admin()).await.data()["total"], 1);
        assert_eq!(app.get("/organizations?code=BANTU", app.admin()).await.data()["total"], 1);
        let mine = app.get("/organizations", Some(&admin_a)).await;
        assert_eq!(mine.data()["total"], 1);
        assert_eq!(mine.data()["records"][0]["id"], a.to_string());
        let g = app.get(&format!("/organizations/{a}"), Some(&admin_a)).await;
        g.expect(200);
        let u = app.put(&format!("/organizations/{a}"), Some(&admin_a), json!({"phone": "+62 21 555", "website": "https://alpha.id", "version": 1})).await;
        u.expect(200);
        assert_eq!(u.data()["phone"], "+62 21 555");
        assert_eq!(u.data()["version"], 2);
        app.put(&format!("/organizations/{a}"), Some(&admin_a), json!({"phone": "1", "version": 1})).await.expect(409);
        app.put(&format!("/organizations/{a}"), app.admin(), json!({"code": "BANTU"})).await.expect(409);
        app.get(&format!("/organizations/{}", uuid::Uuid::now_v7()), app.admin()).await.expect(404);
    }
);

db_test!(
    async fn lock_rules(backend) {
        let app = TestApp::spawn(backend).await;
        let r = app.post(&format!("/organizations/{BANTU}/lock"), app.admin(), json!({})).await;
        r.expect(400);
        assert_eq!(r.body["message"], "cannot lock or delete the BANTU internal organization");
        app.put(&format!("/organizations/{BANTU}"), app.admin(), json!({"is_locked": true})).await.expect(400);
        let (org, org_admin) = app.org_with_admin("Cut Off").await;
        // An organization's own admin cannot unlock it.
        app.post(&format!("/organizations/{org}/lock"), Some(&org_admin), json!({})).await.expect(403);
        let locked = app.post(&format!("/organizations/{org}/lock"), app.admin(), json!({})).await;
        locked.expect(200);
        assert_eq!(locked.data()["is_locked"], true);
        let unlocked = app.post(&format!("/organizations/{org}/unlock"), app.admin(), json!({})).await;
        assert_eq!(unlocked.data()["is_locked"], false);
    }
);

db_test!(
    async fn members_add_list_update_remove(backend) {
        let app = TestApp::spawn(backend).await;
        let (org, _) = app.org_with_admin("Members Co").await;
        let person = app.create_user(BANTU, "multi@bantu.test", &["SALES"]).await;
        let pid = uuid(&person["id"]);
        let added = app
            .post(&format!("/organizations/{org}/employees"), app.admin(), json!({"user_id": pid, "first_name": "Multi", "last_name": "Org", "position": "liaison", "is_manager": true}))
            .await;
        added.expect(200);
        assert_eq!(added.data()["full_name"], "Multi Org");
        assert_eq!(added.data()["is_primary"], false);
        let member_id = uuid(&added.data()["id"]);
        app.post(&format!("/organizations/{org}/employees"), app.admin(), json!({"user_id": pid})).await.expect(409);
        let list = app.get(&format!("/organizations/{org}/employees"), app.admin()).await;
        list.expect(200);
        assert_eq!(list.data()["total"], 2);
        assert_eq!(list.data()["page"], 1);
        assert_eq!(app.get(&format!("/organizations/{org}/members"), app.admin()).await.data()["total"], 2);
        // The membership shows up in the user's login.
        let login = app.login("multi@bantu.test", PASSWORD).await;
        assert_eq!(login.data()["user"]["organization_ids"].as_array().unwrap().len(), 2);
        let token = login.data()["token"].as_str().unwrap().to_owned();
        // Acting in the second organization through X-Organization-Id.
        let req = app.client.builder(reqwest::Method::GET, "/api/foundation/auth/me", Some(&token)).header("x-organization-id", org.to_string());
        let me = app.client.send(req).await;
        me.expect(200);
        assert_eq!(me.data()["current_organization_id"], org.to_string());
        assert_eq!(me.data()["position"], "liaison");
        let stranger = app.create_org("Stranger", "vendor").await;
        let req = app.client.builder(reqwest::Method::GET, "/api/foundation/auth/me", Some(&token)).header("x-organization-id", stranger["id"].as_str().unwrap());
        app.client.send(req).await.expect(403);

        let upd = app.put(&format!("/organizations/{org}/employees/{member_id}"), app.admin(), json!({"department": "Ops", "is_primary": true})).await;
        upd.expect(200);
        assert_eq!(upd.data()["department"], "Ops");
        assert_eq!(upd.data()["is_primary"], true);
        let login = app.login("multi@bantu.test", PASSWORD).await;
        assert_eq!(login.data()["user"]["primary_organization_id"], org.to_string());

        app.delete(&format!("/organizations/{org}/members/{pid}"), app.admin()).await.expect(200);
        assert_eq!(app.get(&format!("/organizations/{org}/employees"), app.admin()).await.data()["total"], 1);
        let all = app.get(&format!("/organizations/{org}/employees?include_inactive=true"), app.admin()).await;
        assert_eq!(all.data()["total"], 2);
        app.delete(&format!("/organizations/{org}/employees/{member_id}"), app.admin()).await.expect(200);
        app.delete(&format!("/organizations/{org}/employees/{}", uuid::Uuid::now_v7()), app.admin()).await.expect(404);
    }
);

db_test!(
    async fn deleting_and_restoring_organizations_and_memberships(backend) {
        let app = TestApp::spawn(backend).await;
        let r = app.delete(&format!("/organizations/{BANTU}"), app.admin()).await;
        r.expect(400);
        assert_eq!(r.body["message"], "cannot lock or delete the BANTU internal organization");
        let (org, org_admin) = app.org_with_admin("Closing Co").await;
        let (_, staff) = app.user_with_token(org, "staff@closing.test", &["SALES"]).await;
        // The organization's own admin holds organization.delete through ADMIN, but is not BANTU's.
        app.delete(&format!("/organizations/{org}"), Some(&org_admin)).await.expect(403);
        app.delete(&format!("/organizations/{}", uuid::Uuid::now_v7()), app.admin()).await.expect(404);
        app.put(&format!("/organizations/{org}/restore"), app.admin(), json!({})).await.expect(409);

        let deleted = app.delete(&format!("/organizations/{org}"), app.admin()).await;
        deleted.expect(200);
        assert_eq!(deleted.data(), &serde_json::Value::Null);
        let shown = app.get(&format!("/organizations/{org}"), app.admin()).await;
        assert_eq!((shown.data()["is_active"].clone(), shown.data()["is_locked"].clone()), (json!(false), json!(true)));
        // Every member is cut off: live tokens and new logins.
        assert_eq!(app.get("/auth/me", Some(&staff)).await.status / 100, 4);
        app.login("staff@closing.test", PASSWORD).await.expect(403);
        app.delete(&format!("/organizations/{org}"), app.admin()).await.expect(409);

        assert_ne!(app.put(&format!("/organizations/{org}/restore"), Some(&org_admin), json!({})).await.status, 200);
        let restored = app.put(&format!("/organizations/{org}/restore"), app.admin(), json!({})).await;
        restored.expect(200);
        assert_eq!((restored.data()["is_active"].clone(), restored.data()["is_locked"].clone()), (json!(true), json!(false)));
        app.login("staff@closing.test", PASSWORD).await.expect(200);
        app.put(&format!("/organizations/{org}/restore"), app.admin(), json!({})).await.expect(409);

        let rows = app
            .audit_until("organization delete", |rows| {
                rows.iter().any(|r| r.action == "DELETE" && r.resource_type.as_deref() == Some("organization") && r.status_code == 200)
            })
            .await;
        let row = rows.iter().find(|r| r.action == "DELETE" && r.status_code == 200).unwrap();
        assert_eq!(row.resource_id.as_deref(), Some(org.to_string().as_str()));
        assert_eq!(row.old_values.as_ref().unwrap()["is_active"], true);

        // A membership ended, then restored; not while the account is deleted.
        let person = app.create_user(BANTU, "roving@bantu.test", &["SALES"]).await;
        let pid = uuid(&person["id"]);
        let added = app.post(&format!("/organizations/{org}/employees"), app.admin(), json!({"user_id": pid})).await;
        let member = uuid(&added.data()["id"]);
        let path = format!("/organizations/{org}/employees/{member}/restore");
        app.put(&path, app.admin(), json!({})).await.expect(409);
        app.delete(&format!("/organizations/{org}/employees/{member}"), app.admin()).await.expect(200);
        let back = app.put(&path, app.admin(), json!({})).await;
        back.expect(200);
        assert_eq!((back.data()["is_active"].clone(), back.data()["left_at"].clone()), (json!(true), serde_json::Value::Null));
        let login = app.login("roving@bantu.test", PASSWORD).await;
        assert_eq!(login.data()["user"]["organization_ids"].as_array().unwrap().len(), 2);
        app.delete(&format!("/organizations/{org}/employees/{member}"), app.admin()).await.expect(200);
        app.delete(&format!("/users/{pid}"), app.admin()).await.expect(200);
        let refused = app.put(&path, app.admin(), json!({})).await;
        refused.expect(409);
        assert!(refused.body["message"].as_str().unwrap().contains("account is deleted"), "{}", refused.text);
        // Not in a locked organization, nor by someone who cannot see it.
        app.put(&format!("/users/{pid}/restore"), app.admin(), json!({})).await.expect(200);
        app.post(&format!("/organizations/{org}/lock"), app.admin(), json!({})).await.expect(200);
        app.put(&path, app.admin(), json!({})).await.expect(400);
        let (_, stranger) = app.org_with_admin("Stranger Co").await;
        app.put(&path, Some(&stranger), json!({})).await.expect(404);
    }
);
