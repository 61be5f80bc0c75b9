use crate::helpers::*;
use crm_common::db_test;
use serde_json::{Value, json};
use uuid::Uuid;

async fn position(app: &TestApp, token: Option<&str>, name: &str, code: &str, parent: Option<Uuid>) -> Value {
    let r = app.post("/positions", token, json!({"name": name, "code": code, "parent_id": parent})).await;
    r.expect(200);
    r.data().clone()
}

/// The member id of `user` in `org`.
async fn member_of(app: &TestApp, org: Uuid, user: Uuid) -> Uuid {
    let r = app.get(&format!("/organizations/{org}/employees?size=100"), app.admin()).await;
    uuid(&r.data()["items"].as_array().unwrap().iter().find(|m| m["user_id"] == user.to_string()).unwrap()["id"])
}

db_test!(
    async fn hierarchy_paths_counts_and_lists(backend) {
        let app = TestApp::spawn(backend).await;
        let ceo = position(&app, app.admin(), "CEO", "CEO", None).await;
        assert_eq!(ceo["level"], 1);
        assert_eq!(ceo["full_path"], "CEO");
        let ceo_id = uuid(&ceo["id"]);
        let cto = position(&app, app.admin(), "CTO", "CTO", Some(ceo_id)).await;
        let cto_id = uuid(&cto["id"]);
        assert_eq!(cto["level"], 2);
        assert_eq!(cto["parent"]["name"], "CEO");
        let dev = position(&app, app.admin(), "Senior developer", "SDEV", Some(cto_id)).await;
        let dev_id = uuid(&dev["id"]);
        position(&app, app.admin(), "CFO", "CFO", Some(ceo_id)).await;
        assert_eq!(dev["full_path"], "CEO > CTO > Senior developer");
        assert_eq!(dev["level"], 3);

        let detail = app.get(&format!("/positions/{dev_id}"), app.admin()).await;
        detail.expect(200);
        assert_eq!(detail.data()["parent"]["full_path"], "CEO > CTO");
        assert_eq!(detail.data()["children"], json!([]));
        let top = app.get(&format!("/positions/{ceo_id}"), app.admin()).await;
        assert_eq!(top.data()["children_count"], 2);
        assert_eq!(top.data()["children"].as_array().unwrap().len(), 2);

        let flat = app.get("/positions", app.admin()).await;
        flat.expect(200);
        assert_eq!(flat.data()["total"], 4);
        assert_eq!(flat.data()["items"][0]["name"], "CEO");
        assert_eq!(app.get("/positions?level=2", app.admin()).await.data()["total"], 2);
        assert_eq!(app.get(&format!("/positions?parent_id={ceo_id}"), app.admin()).await.data()["total"], 2);
        let search = app.get("/positions?search=sdev", app.admin()).await;
        assert_eq!(search.data()["total"], 1);
        assert_eq!(search.data()["items"][0]["name"], "Senior developer");
        let paged = app.get("/positions?page_size=3&page=2", app.admin()).await;
        assert_eq!((paged.data()["items"].as_array().unwrap().len(), paged.data()["pages"].clone()), (1, json!(2)));
        let tree = app.get("/positions?tree=true", app.admin()).await;
        tree.expect(200);
        let roots = tree.data().as_array().unwrap();
        assert_eq!(roots.len(), 1);
        let kids: Vec<_> = roots[0]["children"].as_array().unwrap().iter().map(|c| c["name"].clone()).collect();
        assert_eq!(kids, [json!("CFO"), json!("CTO")]);
        assert_eq!(roots[0]["children"][1]["children"][0]["name"], "Senior developer");

        app.post("/positions", app.admin(), json!({"name": "Dup", "code": "CTO"})).await.expect(409);
        let bad = app.post("/positions", app.admin(), json!({"name": "", "level": 0})).await;
        bad.expect(400);
        assert_eq!(bad.data().as_array().unwrap().len(), 2);
        let orphan = app.post("/positions", app.admin(), json!({"name": "X", "parent_id": Uuid::now_v7()})).await;
        orphan.expect(400);
        assert_eq!(orphan.data()[0]["field"], "parent_id");

        let upd = app.put(&format!("/positions/{cto_id}"), app.admin(), json!({"name": "Chief technology officer", "version": 1})).await;
        upd.expect(200);
        assert_eq!(upd.data()["version"], 2);
        let stale = app.put(&format!("/positions/{cto_id}"), app.admin(), json!({"name": "Late", "version": 1})).await;
        stale.expect(409);
        assert_eq!(stale.data()["name"], "Chief technology officer");
        assert_eq!(app.get(&format!("/positions/{dev_id}"), app.admin()).await.data()["full_path"], "CEO > Chief technology officer > Senior developer");
        app.put(&format!("/positions/{cto_id}"), app.admin(), json!({"code": "CFO"})).await.expect(409);
        app.put(&format!("/positions/{cto_id}"), app.admin(), json!({"code": null})).await.expect(200);

        // Organization scoping and permissions.
        let (_, other_admin) = app.org_with_admin("Position Agent").await;
        app.get(&format!("/positions/{ceo_id}"), Some(&other_admin)).await.expect(404);
        assert_eq!(app.get("/positions", Some(&other_admin)).await.data()["total"], 0);
        app.put(&format!("/positions/{ceo_id}"), Some(&other_admin), json!({"name": "Mine"})).await.expect(404);
        app.delete(&format!("/positions/{ceo_id}"), Some(&other_admin)).await.expect(404);
        // The same code is fine in another organization.
        position(&app, Some(&other_admin), "CEO", "CEO", None).await;
        let (_, sales) = app.user_with_token(BANTU, "sales@positions.test", &["SALES"]).await;
        app.get(&format!("/positions/{ceo_id}"), Some(&sales)).await.expect(200);
        app.post("/positions", Some(&sales), json!({"name": "Mine"})).await.expect(403);
        app.post(&format!("/positions/{cto_id}/move"), Some(&sales), json!({"new_parent_id": null})).await.expect(403);
        app.delete(&format!("/positions/{cto_id}"), Some(&sales)).await.expect(403);
    }
);

db_test!(
    async fn moves_refuse_cycles_and_delete_is_guarded(backend) {
        let app = TestApp::spawn(backend).await;
        let ceo = uuid(&position(&app, app.admin(), "CEO", "CEO", None).await["id"]);
        let cto = uuid(&position(&app, app.admin(), "CTO", "CTO", Some(ceo)).await["id"]);
        let dev = uuid(&position(&app, app.admin(), "Senior developer", "SDEV", Some(cto)).await["id"]);
        let cfo = uuid(&position(&app, app.admin(), "CFO", "CFO", Some(ceo)).await["id"]);

        for (target, parent) in [(ceo, dev), (ceo, cto), (cto, cto), (cto, dev)] {
            let r = app.post(&format!("/positions/{target}/move"), app.admin(), json!({"new_parent_id": parent})).await;
            r.expect(400);
            assert_eq!(r.data()[0]["field"], "new_parent_id");
        }
        app.post(&format!("/positions/{cto}/move"), app.admin(), json!({"new_parent_id": Uuid::now_v7()})).await.expect(400);
        app.post(&format!("/positions/{cto}/move"), app.admin(), json!({"new_parent_id": ceo, "new_level": 0})).await.expect(400);
        // CTO (with the developer below) moves under the CFO: levels below follow.
        let moved = app.post(&format!("/positions/{cto}/move"), app.admin(), json!({"new_parent_id": cfo})).await;
        moved.expect(200);
        assert_eq!(moved.data()["level"], 3);
        assert_eq!(moved.data()["full_path"], "CEO > CFO > CTO");
        let below = app.get(&format!("/positions/{dev}"), app.admin()).await;
        assert_eq!(below.data()["level"], 4);
        assert_eq!(below.data()["full_path"], "CEO > CFO > CTO > Senior developer");
        // To the top, at an explicit level.
        let root = app.post(&format!("/positions/{dev}/move"), app.admin(), json!({"new_parent_id": null, "new_level": 1})).await;
        root.expect(200);
        assert_eq!((root.data()["full_path"].clone(), root.data()["parent"].clone()), (json!("Senior developer"), Value::Null));

        // A member holds the developer position.
        let (uid, _) = app.user_with_token(BANTU, "dev@positions.test", &["SALES"]).await;
        let member = member_of(&app, BANTU, uid).await;
        let held = app.put(&format!("/organizations/{BANTU}/employees/{member}"), app.admin(), json!({"position_id": dev, "position": "Tech lead"})).await;
        held.expect(200);
        assert_eq!(held.data()["position_id"], dev.to_string());
        assert_eq!(held.data()["position_name"], "Senior developer");
        assert_eq!(held.data()["position"], "Tech lead");
        let detail = app.get(&format!("/positions/{dev}"), app.admin()).await;
        assert_eq!(detail.data()["employee_count"], 1);
        assert_eq!(detail.data()["employees"][0]["user_id"], uid.to_string());
        // A position of another organization cannot be given.
        let (other_org, other_admin) = app.org_with_admin("Other Positions").await;
        let foreign = uuid(&position(&app, Some(&other_admin), "Boss", "B", None).await["id"]);
        let refused = app.put(&format!("/organizations/{BANTU}/employees/{member}"), app.admin(), json!({"position_id": foreign})).await;
        refused.expect(400);
        assert_eq!(refused.data()[0]["field"], "position_id");
        let other_member = member_of(&app, other_org, uuid(&app.get("/auth/me", Some(&other_admin)).await.data()["id"])).await;
        app.put(&format!("/organizations/{other_org}/employees/{other_member}"), app.admin(), json!({"position_id": foreign})).await.expect(200);

        let held_delete = app.delete(&format!("/positions/{dev}"), app.admin()).await;
        held_delete.expect(409);
        assert!(held_delete.body["message"].as_str().unwrap().contains("held by 1"));
        let parent_delete = app.delete(&format!("/positions/{ceo}"), app.admin()).await;
        parent_delete.expect(409);
        assert!(parent_delete.body["message"].as_str().unwrap().contains("below it"));
        // Clearing the member's position frees it for deletion.
        let cleared = app.put(&format!("/organizations/{BANTU}/employees/{member}"), app.admin(), json!({"position_id": null})).await;
        assert_eq!(cleared.data()["position_id"], Value::Null);
        assert_eq!(cleared.data()["position"], "Tech lead");
        app.delete(&format!("/positions/{dev}"), app.admin()).await.expect(200);
        app.get(&format!("/positions/{dev}"), app.admin()).await.expect(404);
        app.delete(&format!("/positions/{dev}"), app.admin()).await.expect(404);
        // A new member can be added with a position straight away.
        let newcomer = uuid(&app.create_user(other_org, "new@other.test", &["SALES"]).await["id"]);
        let added = app.post(&format!("/organizations/{BANTU}/employees"), app.admin(), json!({"user_id": newcomer, "position_id": cfo})).await;
        added.expect(200);
        assert_eq!(added.data()["position_name"], "CFO");
    }
);
