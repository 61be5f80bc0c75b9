use crate::helpers::*;
use crm_common::db_test;
use serde_json::{Value, json};
use uuid::Uuid;

async fn domain(app: &TestApp, code: &str, order: i32, active: bool) -> Uuid {
    let r = app
        .post(
            "/organization-domains",
            app.admin(),
            json!({"code": code, "name_zh": format!("{code}-zh"), "name_id": format!("{code}-id"), "display_order": order, "is_active": active}),
        )
        .await;
    r.expect(200);
    uuid(&r.data()["id"])
}

fn field(items: &Value, name: &str) -> Vec<Value> {
    items.as_array().unwrap().iter().map(|i| i[name].clone()).collect()
}

db_test!(
    async fn catalogue_crud_and_permissions(backend) {
        let app = TestApp::spawn(backend).await;
        let legal = domain(&app, "legal", 20, true).await;
        domain(&app, "accounting", 10, true).await;
        domain(&app, "tax", 30, false).await;
        app.post("/organization-domains", app.admin(), json!({"code": "legal", "name_zh": "a", "name_id": "b"})).await.expect(409);
        let bad = app.post("/organization-domains", app.admin(), json!({"code": "visa", "name_zh": "签证"})).await;
        bad.expect(400);
        assert_eq!(bad.data()[0]["field"], "name_id");
        let all = app.get("/organization-domains", app.admin()).await;
        all.expect(200);
        assert_eq!(field(all.data(), "code"), [json!("accounting"), json!("legal"), json!("tax")]);
        assert_eq!(app.get("/organization-domains?is_active=true", app.admin()).await.data().as_array().unwrap().len(), 2);
        let one = app.get(&format!("/organization-domains/{legal}"), app.admin()).await;
        one.expect(200);
        assert_eq!(one.data()["name_zh"], "legal-zh");
        app.get(&format!("/organization-domains/{}", Uuid::now_v7()), app.admin()).await.expect(404);
        let upd = app
            .put(&format!("/organization-domains/{legal}"), app.admin(), json!({"name_zh": "法律", "code": "ignored", "display_order": 1}))
            .await;
        upd.expect(200);
        assert_eq!(upd.data()["name_zh"], "法律");
        assert_eq!(upd.data()["code"], "legal");
        app.put(&format!("/organization-domains/{}", Uuid::now_v7()), app.admin(), json!({"name_zh": "x"})).await.expect(404);

        // The catalogue is global: an organization's own admin reads it but cannot change it.
        let (_, org_admin) = app.org_with_admin("Domain Reader").await;
        app.get("/organization-domains", Some(&org_admin)).await.expect(200);
        app.post("/organization-domains", Some(&org_admin), json!({"code": "x", "name_zh": "a", "name_id": "b"})).await.expect(403);
        app.put(&format!("/organization-domains/{legal}"), Some(&org_admin), json!({"name_zh": "x"})).await.expect(403);
        app.delete(&format!("/organization-domains/{legal}"), Some(&org_admin)).await.expect(403);
        app.get("/organization-domains", None).await.expect(401);
    }
);

db_test!(
    async fn organization_domains_are_replaced_with_one_primary(backend) {
        let app = TestApp::spawn(backend).await;
        let legal = domain(&app, "legal", 20, true).await;
        let accounting = domain(&app, "accounting", 10, true).await;
        let tax = domain(&app, "tax", 30, false).await;
        let (org, org_admin) = app.org_with_admin("Domain Agent").await;
        let path = format!("/organization-domains/organizations/{org}/domains");

        let set = app.post(&path, Some(&org_admin), json!({"domain_ids": [legal, accounting, legal], "primary_domain_id": legal})).await;
        set.expect(200);
        let items = set.data().as_array().unwrap();
        assert_eq!(items.len(), 2);
        assert_eq!(items[0]["domain_code"], "legal");
        assert_eq!(items[0]["is_primary"], true);
        assert_eq!(items[1]["is_primary"], false);
        for f in ["id", "organization_id", "domain_id", "domain_code", "domain_name_zh", "domain_name_id", "is_primary", "created_at"] {
            assert!(items[0].get(f).is_some(), "relation lacks {f}");
        }
        let shown = app.get(&format!("/organizations/{org}"), Some(&org_admin)).await;
        shown.expect(200);
        assert_eq!(
            shown.data()["domains"],
            json!([
                {"id": legal, "code": "legal", "name_zh": "legal-zh", "name_id": "legal-id", "is_primary": true},
                {"id": accounting, "code": "accounting", "name_zh": "accounting-zh", "name_id": "accounting-id", "is_primary": false}
            ])
        );
        // Setting again replaces the whole set; without a primary, none is primary.
        let again = app.post(&path, Some(&org_admin), json!({"domain_ids": [accounting]})).await;
        again.expect(200);
        assert_eq!(field(again.data(), "domain_code"), [json!("accounting")]);
        assert_eq!(again.data()[0]["is_primary"], false);
        let read = app.get(&path, Some(&org_admin)).await;
        read.expect(200);
        assert_eq!(read.data().as_array().unwrap().len(), 1);
        let listed = app.get("/organizations?size=50", app.admin()).await;
        let row = listed.data()["records"].as_array().unwrap().iter().find(|o| o["id"] == org.to_string()).unwrap().clone();
        assert_eq!(row["domains"].as_array().unwrap().len(), 1);

        // Unknown or inactive domains and a primary outside the list are refused; nothing changes.
        let unknown = app.post(&path, Some(&org_admin), json!({"domain_ids": [legal, Uuid::now_v7()]})).await;
        unknown.expect(400);
        assert_eq!(unknown.data()[0]["field"], "domain_ids");
        app.post(&path, Some(&org_admin), json!({"domain_ids": [tax]})).await.expect(400);
        let outside = app.post(&path, Some(&org_admin), json!({"domain_ids": [legal], "primary_domain_id": accounting})).await;
        outside.expect(400);
        assert_eq!(outside.data()[0]["field"], "primary_domain_id");
        app.post(&path, Some(&org_admin), json!({"primary_domain_id": legal})).await.expect(400);
        assert_eq!(field(app.get(&path, Some(&org_admin)).await.data(), "domain_code"), [json!("accounting")]);

        // Another organization's admin neither reads nor sets them; members without the
        // permission read but cannot set.
        let (_, stranger) = app.org_with_admin("Other Agent").await;
        app.get(&path, Some(&stranger)).await.expect(404);
        app.post(&path, Some(&stranger), json!({"domain_ids": []})).await.expect(404);
        let (_, sales) = app.user_with_token(org, "sales@domainagent.test", &["SALES"]).await;
        app.get(&path, Some(&sales)).await.expect(200);
        app.post(&path, Some(&sales), json!({"domain_ids": []})).await.expect(403);
        app.get(&format!("/organization-domains/organizations/{}/domains", Uuid::now_v7()), app.admin()).await.expect(404);

        // Deleting a domain removes it from every organization; an empty list clears the set.
        app.delete(&format!("/organization-domains/{accounting}"), app.admin()).await.expect(200);
        app.get(&format!("/organization-domains/{accounting}"), app.admin()).await.expect(404);
        assert_eq!(app.get(&path, Some(&org_admin)).await.data(), &json!([]));
        app.post(&path, Some(&org_admin), json!({"domain_ids": [legal], "primary_domain_id": legal})).await.expect(200);
        app.post(&path, app.admin(), json!({"domain_ids": []})).await.expect(200);
        assert_eq!(app.get(&format!("/organizations/{org}"), app.admin()).await.data()["domains"], json!([]));
    }
);
