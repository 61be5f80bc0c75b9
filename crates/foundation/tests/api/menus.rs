use crate::helpers::*;
use crm_common::db_test;
use serde_json::{Value, json};
use uuid::Uuid;

fn codes(items: &Value) -> Vec<String> {
    items.as_array().unwrap().iter().map(|m| m["code"].as_str().unwrap().to_owned()).collect()
}

/// `code` or `code[child,child]` per top-level entry.
fn shape(tree: &Value) -> Vec<String> {
    tree.as_array()
        .unwrap()
        .iter()
        .map(|m| {
            let code = m["code"].as_str().unwrap();
            let kids = codes(&m["children"]);
            if kids.is_empty() { code.to_owned() } else { format!("{code}[{}]", kids.join(",")) }
        })
        .collect()
}

async fn permission_id(app: &TestApp, code: &str) -> Uuid {
    let r = app.get("/permissions", app.admin()).await;
    uuid(&r.data().as_array().unwrap().iter().find(|p| p["code"] == code).unwrap()["id"])
}

db_test!(
    async fn seeded_tree_and_menu_lifecycle(backend) {
        let app = TestApp::spawn(backend).await;
        let tree = app.get("/menus/tree/list", app.admin()).await;
        tree.expect(200);
        let top = codes(tree.data());
        assert_eq!(
            top,
            [
                "dashboard", "user-management", "organization-management", "role-management", "lead-management",
                "opportunity-management", "order-management", "finance-management", "system-management"
            ]
        );
        let users = &tree.data()[1];
        assert_eq!(codes(&users["children"]), ["user-list", "user-create"]);
        assert_eq!(users["children"][0]["permissions"][0]["code"], "user.list");
        let role_permission = &tree.data()[3]["children"][1];
        assert_eq!(role_permission["code"], "role-permission");
        assert_eq!(role_permission["permissions"][0]["code"], "permission.manage");
        assert_eq!(tree.data()[8]["children"][0]["permissions"][0]["code"], "menu.manage");

        let r = app
            .post("/menus", app.admin(), json!({"code": "reports", "name_zh": "报表", "name_id": "Laporan", "path": "/reports", "display_order": 900}))
            .await;
        r.expect(200);
        let parent = uuid(&r.data()["id"]);
        assert_eq!(r.data()["permissions"], json!([]));
        assert_eq!(r.data()["is_visible"], true);
        app.post("/menus", app.admin(), json!({"code": "reports", "name_zh": "a", "name_id": "b"})).await.expect(409);
        let missing = app.post("/menus", app.admin(), json!({"code": "x", "name_zh": "", "name_id": "b"})).await;
        missing.expect(400);
        assert_eq!(missing.data()[0]["field"], "name_zh");
        let orphan = app.post("/menus", app.admin(), json!({"code": "x", "name_zh": "a", "name_id": "b", "parent_id": Uuid::now_v7()})).await;
        orphan.expect(400);
        assert_eq!(orphan.data()[0]["field"], "parent_id");
        let child = app.post("/menus", app.admin(), json!({"code": "reports-daily", "name_zh": "日报", "name_id": "Harian", "parent_id": parent})).await;
        child.expect(200);
        let child = uuid(&child.data()["id"]);

        // A menu cannot hang below itself or its own descendants.
        app.put(&format!("/menus/{parent}"), app.admin(), json!({"parent_id": child})).await.expect(400);
        app.put(&format!("/menus/{parent}"), app.admin(), json!({"parent_id": parent})).await.expect(400);
        let renamed = app.put(&format!("/menus/{parent}"), app.admin(), json!({"name_id": "Laporan Baru", "icon": "chart"})).await;
        renamed.expect(200);
        assert_eq!(renamed.data()["name_id"], "Laporan Baru");
        assert_eq!(renamed.data()["code"], "reports");

        let list = permission_id(&app, "user.list").await;
        let lead = permission_id(&app, "lead.list").await;
        app.post(&format!("/menus/{parent}/permissions/assign"), app.admin(), json!({"permission_ids": [list, lead]})).await.expect(200);
        app.post(&format!("/menus/{parent}/permissions/assign"), app.admin(), json!({"permission_ids": [lead]})).await.expect(200);
        let got = app.get(&format!("/menus/{parent}"), app.admin()).await;
        got.expect(200);
        assert_eq!(codes(&got.data()["permissions"]), ["lead.list"]);
        app.post(&format!("/menus/{parent}/permissions/assign"), app.admin(), json!({"permission_ids": [Uuid::now_v7()]})).await.expect(400);
        app.post(&format!("/menus/{}/permissions/assign", Uuid::now_v7()), app.admin(), json!({"permission_ids": []})).await.expect(404);

        // Menus are global: an organization's own admin cannot change them; SALES cannot read them.
        let (_, org_admin) = app.org_with_admin("Menu Agent").await;
        app.post("/menus", Some(&org_admin), json!({"code": "mine", "name_zh": "a", "name_id": "b"})).await.expect(403);
        app.delete(&format!("/menus/{parent}"), Some(&org_admin)).await.expect(403);
        let (_, sales) = app.user_with_token(BANTU, "sales-menu@bantu.test", &["SALES"]).await;
        app.get("/menus/tree/list", Some(&sales)).await.expect(403);
        app.get(&format!("/menus/{parent}"), Some(&sales)).await.expect(403);

        // Deleting a menu lifts its children to the top level.
        app.delete(&format!("/menus/{parent}"), app.admin()).await.expect(200);
        app.get(&format!("/menus/{parent}"), app.admin()).await.expect(404);
        let lifted = app.get(&format!("/menus/{child}"), app.admin()).await;
        lifted.expect(200);
        assert_eq!(lifted.data()["parent_id"], Value::Null);
        app.delete(&format!("/menus/{parent}"), app.admin()).await.expect(404);
        app.get("/menus/not-an-id", app.admin()).await.expect(400);
    }
);

db_test!(
    async fn accessible_menus_follow_each_preset_role(backend) {
        let app = TestApp::spawn(backend).await;
        let expected: [(&str, Vec<&str>); 5] = [
            (
                "ADMIN",
                vec![
                    "dashboard", "user-management[user-list,user-create]",
                    "organization-management[organization-list,organization-create]",
                    "role-management[role-list,role-permission]", "lead-management[lead-list,lead-create]",
                    "opportunity-management[opportunity-list,opportunity-create]",
                    "order-management[order-list,order-receive,order-track]",
                    "finance-management[finance-receivable,finance-payable,finance-report]",
                    "system-management[system-menu,system-permission]",
                ],
            ),
            (
                "SALES",
                vec![
                    "dashboard", "user-management[user-list]", "organization-management[organization-list]",
                    "lead-management[lead-list,lead-create]", "opportunity-management[opportunity-list,opportunity-create]",
                    "order-management[order-list]",
                ],
            ),
            (
                "AGENT",
                vec![
                    "dashboard", "lead-management[lead-list,lead-create]", "opportunity-management[opportunity-list,opportunity-create]",
                    "order-management[order-list]",
                ],
            ),
            (
                "OPERATION",
                vec![
                    "dashboard", "user-management[user-list]", "organization-management[organization-list]",
                    "order-management[order-list,order-receive,order-track]",
                ],
            ),
            (
                "FINANCE",
                vec![
                    "dashboard", "user-management[user-list]", "organization-management[organization-list]",
                    "order-management[order-list]", "finance-management[finance-receivable,finance-payable,finance-report]",
                ],
            ),
        ];
        let mut ids = Vec::new();
        for (role, want) in &expected {
            let email = format!("{}@menus.test", role.to_lowercase());
            let (id, token) = app.user_with_token(BANTU, &email, &[role]).await;
            let mine = app.get("/menus/user", Some(&token)).await;
            mine.expect(200);
            assert_eq!(shape(mine.data()), *want, "menus of {role}");
            let item = &mine.data()[0];
            for field in ["id", "code", "name_zh", "name_id", "path", "component", "icon", "display_order", "children"] {
                assert!(item.get(field).is_some(), "accessible item lacks {field}");
            }
            // The same through the per-user endpoint, for the user and for an administrator.
            let own = app.get(&format!("/menus/users/{id}/accessible"), Some(&token)).await;
            own.expect(200);
            assert_eq!(shape(own.data()), *want);
            let by_admin = app.get(&format!("/menus/users/{id}/accessible"), app.admin()).await;
            assert_eq!(shape(by_admin.data()), *want);
            let info = app.get(&format!("/permissions/users/{id}/info"), app.admin()).await;
            info.expect(200);
            assert_eq!(shape(&info.data()["menus"]), *want);
            ids.push((id, token));
        }
        // Without menu.view one cannot look at somebody else's menus.
        let (sales_id, sales) = &ids[1];
        app.get(&format!("/menus/users/{}/accessible", ids[2].0), Some(sales)).await.expect(403);
        app.get(&format!("/menus/users/{sales_id}/accessible"), None).await.expect(401);

        // Hidden and inactive entries disappear; an entry without permissions is for everyone.
        let tree = app.get("/menus/tree/list", app.admin()).await;
        let dashboard = uuid(&tree.data()[0]["id"]);
        let leads = uuid(&tree.data()[4]["id"]);
        app.put(&format!("/menus/{dashboard}"), app.admin(), json!({"is_visible": false})).await.expect(200);
        app.put(&format!("/menus/{leads}"), app.admin(), json!({"is_active": false})).await.expect(200);
        app.post("/menus", app.admin(), json!({"code": "help", "name_zh": "帮助", "name_id": "Bantuan", "display_order": 5})).await.expect(200);
        let agent = app.get("/menus/user", Some(&ids[2].1)).await;
        assert_eq!(
            shape(agent.data()),
            ["help", "opportunity-management[opportunity-list,opportunity-create]", "order-management[order-list]"]
        );
    }
);
