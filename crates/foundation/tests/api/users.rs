use crate::helpers::*;
use crm_common::db_test;
use serde_json::json;

db_test!(
    async fn create_get_and_list_users(backend) {
        let app = TestApp::spawn(backend).await;
        let sales = app.role_id("SALES").await;
        let r = app
            .post(
                "/users",
                app.admin(),
                json!({"organization_id": BANTU, "email": "Ana@Bantu.test", "password": PASSWORD, "role_ids": [sales], "display_name": "Ana", "gender": "female"}),
            )
            .await;
        r.expect(200);
        let u = r.data();
        assert_eq!(u["email"], "ana@bantu.test");
        assert_eq!(u["username"], "ana");
        assert_eq!(u["roles"][0]["code"], "SALES");
        assert_eq!(u["primary_organization_name"], "BANTU");
        assert!(u.get("password_hash").is_none());
        let id = uuid(&u["id"]);
        assert_eq!(id.get_version_num(), 7);

        let g = app.get(&format!("/users/{id}"), app.admin()).await;
        g.expect(200);
        assert_eq!(g.data()["display_name"], "Ana");

        for i in 0..12 {
            app.create_user(BANTU, &format!("bulk{i:02}@bantu.test"), &["AGENT"]).await;
        }
        let page = app.get("/users?page=2&size=5", app.admin()).await;
        page.expect(200);
        let d = page.data();
        assert_eq!(d["total"], 14);
        assert_eq!(d["size"], 5);
        assert_eq!(d["current"], 2);
        assert_eq!(d["pages"], 3);
        assert_eq!(d["records"].as_array().unwrap().len(), 5);
        let found = app.get("/users?email=ANA@bantu.test", app.admin()).await;
        assert_eq!(found.data()["total"], 1);
        let search = app.get("/users?search=BULK0", app.admin()).await;
        assert_eq!(search.data()["total"], 10);
        let by_role = app.get(&format!("/users?role_id={sales}"), app.admin()).await;
        assert_eq!(by_role.data()["total"], 1);
        app.get("/users?size=1001", app.admin()).await.expect(400);
        app.get("/users?page=0", app.admin()).await.expect(400);
    }
);

db_test!(
    async fn create_user_errors(backend) {
        let app = TestApp::spawn(backend).await;
        let role = app.role_id("AGENT").await;
        let dup = app.post("/users", app.admin(), json!({"organization_id": BANTU, "email": ADMIN_EMAIL, "password": PASSWORD, "role_ids": [role]})).await;
        dup.expect(409);
        let weak = app.post("/users", app.admin(), json!({"organization_id": BANTU, "email": "w@x.io", "password": "password", "role_ids": [role]})).await;
        weak.expect(400);
        assert_eq!(weak.data()[0]["field"], "password");
        let no_role = app.post("/users", app.admin(), json!({"organization_id": BANTU, "email": "w@x.io", "password": PASSWORD, "role_ids": [uuid::Uuid::now_v7()]})).await;
        no_role.expect(400);
        assert_eq!(no_role.data()[0]["field"], "role_ids");
        let no_org = app.post("/users", app.admin(), json!({"organization_id": uuid::Uuid::now_v7(), "email": "w@x.io", "password": PASSWORD, "role_ids": [role]})).await;
        no_org.expect(404);
        let bad = app.post("/users", app.admin(), json!({"organization_id": BANTU, "email": "nope", "password": PASSWORD, "role_ids": [], "gender": "x"})).await;
        bad.expect(400);
        let fields: Vec<_> = bad.data().as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap().to_owned()).collect();
        assert_eq!(fields, ["email", "role_ids", "gender"]);
        let (org, _) = app.org_with_admin("Locked Co").await;
        app.post(&format!("/organizations/{org}/lock"), app.admin(), json!({})).await.expect(200);
        let locked = app.post("/users", app.admin(), json!({"organization_id": org, "email": "l@x.io", "password": PASSWORD, "role_ids": [role]})).await;
        locked.expect(400);
        assert_eq!(locked.body["message"], "organization locked");
    }
);

db_test!(
    async fn update_profile_roles_and_versions(backend) {
        let app = TestApp::spawn(backend).await;
        let (id, token) = app.user_with_token(BANTU, "u@bantu.test", &["SALES"]).await;
        let me = Some(token.as_str());
        let r = app.put(&format!("/users/{id}"), me, json!({"display_name": "Udin", "phone": "+62 811", "gender": "male"})).await;
        r.expect(200);
        assert_eq!(r.data()["display_name"], "Udin");
        assert_eq!(r.data()["version"], 2);
        // Another user's profile needs user.update.
        let other = app.create_user(BANTU, "o@bantu.test", &["SALES"]).await;
        app.put(&format!("/users/{}", other["id"].as_str().unwrap()), me, json!({"display_name": "x"})).await.expect(403);
        // Stale version: 409 carrying the current record.
        let stale = app.put(&format!("/users/{id}"), app.admin(), json!({"display_name": "Old", "version": 1})).await;
        stale.expect(409);
        assert_eq!(stale.data()["display_name"], "Udin");
        assert_eq!(stale.data()["version"], 2);
        // Admin replaces the role set; the change applies to the live token at once.
        let finance = app.role_id("FINANCE").await;
        let agent = app.role_id("AGENT").await;
        let r = app.put(&format!("/users/{id}"), app.admin(), json!({"role_ids": [finance, agent], "version": 2})).await;
        r.expect(200);
        let codes: Vec<_> = r.data()["roles"].as_array().unwrap().iter().map(|r| r["code"].as_str().unwrap().to_owned()).collect();
        assert_eq!(codes, ["AGENT", "FINANCE"]);
        let me_now = app.get("/auth/me", me).await;
        assert_eq!(me_now.data()["roles"], json!(["AGENT", "FINANCE"]));
        // E-mail must stay unique.
        app.put(&format!("/users/{id}"), app.admin(), json!({"email": ADMIN_EMAIL})).await.expect(409);
        app.put(&format!("/users/{id}"), me, json!({"is_active": false})).await.expect(403);
        app.put(&format!("/users/{}", app.admin_id), app.admin(), json!({"is_active": false})).await.expect(400);
    }
);

db_test!(
    async fn passwords_reset_and_change(backend) {
        let app = TestApp::spawn(backend).await;
        let (id, token) = app.user_with_token(BANTU, "p@bantu.test", &["SALES"]).await;
        let me = Some(token.as_str());
        let wrong = app.put(&format!("/users/{id}/password"), me, json!({"old_password": "Nope12345", "new_password": "NewPass123"})).await;
        wrong.expect(400);
        assert_eq!(wrong.data()[0]["field"], "old_password");
        app.put(&format!("/users/{id}/password"), me, json!({"old_password": PASSWORD, "new_password": PASSWORD})).await.expect(400);
        app.put(&format!("/users/{}/password", app.admin_id), me, json!({"old_password": PASSWORD, "new_password": "NewPass123"})).await.expect(403);
        app.put(&format!("/users/{id}/password"), me, json!({"old_password": PASSWORD, "new_password": "NewPass123"})).await.expect(200);
        app.login("p@bantu.test", PASSWORD).await.expect(401);
        // The change ended every session, the one it was made from included.
        app.get("/auth/me", me).await.expect(401);
        let token = app.token("p@bantu.test", "NewPass123").await;
        let me = Some(token.as_str());

        app.post(&format!("/users/{id}/reset-password"), me, json!({"new_password": "Other1234"})).await.expect(403);
        app.post(&format!("/users/{id}/reset-password"), app.admin(), json!({"new_password": "short"})).await.expect(400);
        app.post(&format!("/users/{id}/reset-password"), app.admin(), json!({"new_password": "Reset1234"})).await.expect(200);
        app.login("p@bantu.test", "NewPass123").await.expect(401);
        app.login("p@bantu.test", "Reset1234").await.expect(200);
        app.post(&format!("/users/{}/reset-password", uuid::Uuid::now_v7()), app.admin(), json!({"new_password": "Reset1234"})).await.expect(404);
    }
);

db_test!(
    async fn lock_delete_restore_and_batch(backend) {
        let app = TestApp::spawn(backend).await;
        let a = uuid(&app.create_user(BANTU, "a@bantu.test", &["SALES"]).await["id"]);
        let b = uuid(&app.create_user(BANTU, "b@bantu.test", &["SALES"]).await["id"]);
        let r = app.post(&format!("/users/{a}/lock"), app.admin(), json!({})).await;
        r.expect(200);
        assert_eq!(r.data()["is_locked"], true);
        app.post(&format!("/users/{}/lock", app.admin_id), app.admin(), json!({})).await.expect(400);
        app.post(&format!("/users/{a}/unlock"), app.admin(), json!({})).await.expect(200);

        app.delete(&format!("/users/{a}"), app.admin()).await.expect(200);
        app.get(&format!("/users/{a}"), app.admin()).await.expect(404);
        app.login("a@bantu.test", PASSWORD).await.expect(403);
        let listed = app.get("/users?include_deleted=true&email=a@bantu.test", app.admin()).await;
        assert_eq!(listed.data()["total"], 1);
        assert_eq!(app.get("/users?email=a@bantu.test", app.admin()).await.data()["total"], 0);
        let restored = app.put(&format!("/users/{a}/restore"), app.admin(), json!({})).await;
        restored.expect(200);
        assert_eq!(restored.data()["is_active"], true);
        app.login("a@bantu.test", PASSWORD).await.expect(200);

        let r = app.post("/users/batch", app.admin(), json!({"action": "deactivate", "user_ids": [a, b]})).await;
        r.expect(200);
        assert_eq!(r.data()["affected"], 2);
        app.login("b@bantu.test", PASSWORD).await.expect(403);
        app.post("/employees/batch", app.admin(), json!({"action": "activate", "employee_ids": [a, b]})).await.expect(200);
        app.login("b@bantu.test", PASSWORD).await.expect(200);
        app.post("/users/batch", app.admin(), json!({"action": "delete", "user_ids": [a, app.admin_id]})).await.expect(400);
        app.post("/users/batch", app.admin(), json!({"action": "explode", "user_ids": [a]})).await.expect(400);
        // All or nothing: one unknown id leaves everyone untouched.
        app.post("/users/batch", app.admin(), json!({"action": "delete", "user_ids": [a, uuid::Uuid::now_v7()]})).await.expect(404);
        app.get(&format!("/users/{a}"), app.admin()).await.expect(200);
    }
);

db_test!(
    async fn grants_are_bounded_by_the_granters_permissions(backend) {
        let app = TestApp::spawn(backend).await;
        // A custom role that may create users but holds nothing else.
        let role = app.post("/roles", app.admin(), json!({"code": "HR", "name": "HR"})).await;
        role.expect(200);
        let hr = uuid(&role.data()["id"]);
        let perms = app.get("/permissions", app.admin()).await;
        let code_id = |code: &str| perms.data().as_array().unwrap().iter().find(|p| p["code"] == code).unwrap()["id"].clone();
        app.post(&format!("/permissions/roles/{hr}/assign"), app.admin(), json!({"permission_ids": [code_id("user.create"), code_id("user.view")]}))
            .await
            .expect(200);
        let (_, token) = app.user_with_token(BANTU, "hr@bantu.test", &["HR"]).await;
        let admin_role = app.role_id("ADMIN").await;
        let r = app.post("/users", Some(&token), json!({"organization_id": BANTU, "email": "boss@x.io", "password": PASSWORD, "role_ids": [admin_role]})).await;
        r.expect(403);
        app.post("/users", Some(&token), json!({"organization_id": BANTU, "email": "peer@x.io", "password": PASSWORD, "role_ids": [hr]})).await.expect(200);
        let roles = app.get(&format!("/users/{}/roles", app.admin_id), app.admin()).await;
        roles.expect(200);
        assert_eq!(roles.data()[0]["code"], "ADMIN");
        assert!(roles.data()[0]["assigned_at"].is_string());
    }
);
