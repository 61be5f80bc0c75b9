//! Product dependencies, served by this service at the original's full path
//! `/api/order-workflow/product-dependencies` (the gateway routes that prefix here): CRUD, the
//! cycle and pair rules, who may change them, and the validate / calculate-order helpers.

use crate::categories::insert_product;
use crate::helpers::*;
use crm_common::db_test;
use serde_json::{Value, json};
use uuid::Uuid;

const DEPS: &str = "/api/order-workflow/product-dependencies";

async fn dep(app: &TestApp, token: Option<&str>, body: Value) -> crm_common::testing::TestResponse {
    app.client.post(DEPS, token, &body).await
}

async fn link(app: &TestApp, a: Uuid, b: Uuid, kind: &str) -> Uuid {
    let r = dep(app, app.admin(), json!({"product_id": a, "depends_on_product_id": b, "dependency_type": kind})).await;
    r.expect(201);
    uuid(&r.data()["id"])
}

db_test!(
    async fn dependencies_are_created_read_listed_updated_and_deleted_at_the_original_path(backend) {
        let app = TestApp::spawn(backend).await;
        let visa = insert_product(&app, "Work visa", None, true).await;
        let company = insert_product(&app, "Company registration", None, true).await;
        let tax = insert_product(&app, "Tax number", None, true).await;
        let r = dep(&app, app.admin(), json!({"product_id": visa, "depends_on_product_id": company, "description": "needs a PT"}))
            .await;
        r.expect(201);
        let d = r.data();
        assert_eq!(d["dependency_type"], "required");
        assert_eq!(d["product_name"], "Work visa");
        assert_eq!(d["depends_on_product_name"], "Company registration");
        assert!(d["depends_on_product_code"].as_str().unwrap().starts_with("P-"));
        let id = uuid(&d["id"]);
        link(&app, visa, tax, "recommended").await;

        // Not under service-management's own prefix.
        app.get("/product-dependencies", app.admin()).await.expect(404);

        let r = app.client.get(&format!("{DEPS}?product_id={visa}&size=1"), app.admin()).await;
        r.expect(200);
        assert_eq!(r.data()["total"], 2);
        assert_eq!(r.data()["pages"], 2);
        assert_eq!(r.data()["current"], 1);
        assert_eq!(r.data()["records"].as_array().unwrap().len(), 1);
        let r = app.client.get(&format!("{DEPS}?dependency_type=recommended"), app.admin()).await;
        assert_eq!(r.data()["records"][0]["depends_on_product_name"], "Tax number");
        app.client.get(&format!("{DEPS}?size=101"), app.admin()).await.expect(400);
        app.client.get(&format!("{DEPS}?dependency_type=maybe"), app.admin()).await.expect(400);

        let r = app.client.get(&format!("{DEPS}/{visa}"), app.admin()).await;
        r.expect(200);
        assert_eq!(r.data().as_array().unwrap().len(), 2);
        let r = app.client.get(&format!("{DEPS}/{visa}?dependency_type=required"), app.admin()).await;
        assert_eq!(r.data().as_array().unwrap().len(), 1);
        let r = app.client.get(&format!("{DEPS}/{company}/dependents"), app.admin()).await;
        r.expect(200);
        assert_eq!(r.data()[0]["product_id"], visa.to_string());

        let r = app.client.put(&format!("{DEPS}/{id}"), app.admin(), &json!({"dependency_type": "optional"})).await;
        r.expect(200);
        assert_eq!(r.data()["dependency_type"], "optional");
        assert_eq!(r.data()["description"], "needs a PT");
        app.client.put(&format!("{DEPS}/{id}"), app.admin(), &json!({"dependency_type": "x"})).await.expect(400);
        app.client.put(&format!("{DEPS}/{}", Uuid::now_v7()), app.admin(), &json!({})).await.expect(404);

        app.client.delete(&format!("{DEPS}/{id}"), app.admin()).await.expect(200);
        app.client.delete(&format!("{DEPS}/{id}"), app.admin()).await.expect(404);
        let r = app.client.get(&format!("{DEPS}/{company}/dependents"), app.admin()).await;
        assert!(r.data().as_array().unwrap().is_empty());
        app.client.get(&format!("{DEPS}/not-an-id"), app.admin()).await.expect(400);
    }
);

db_test!(
    async fn self_duplicate_unknown_and_cyclic_dependencies_are_refused(backend) {
        let app = TestApp::spawn(backend).await;
        let a = insert_product(&app, "A", None, true).await;
        let b = insert_product(&app, "B", None, true).await;
        let c = insert_product(&app, "C", None, true).await;
        link(&app, a, b, "required").await;
        link(&app, b, c, "optional").await;
        let r = dep(&app, app.admin(), json!({"product_id": c, "depends_on_product_id": a})).await;
        r.expect(400);
        assert!(r.text.contains("would create a cycle"), "{}", r.text);
        dep(&app, app.admin(), json!({"product_id": b, "depends_on_product_id": a})).await.expect(400);
        let r = dep(&app, app.admin(), json!({"product_id": a, "depends_on_product_id": b})).await;
        r.expect(400);
        assert!(r.text.contains("already exists"), "{}", r.text);
        dep(&app, app.admin(), json!({"product_id": a, "depends_on_product_id": a})).await.expect(400);
        dep(&app, app.admin(), json!({"product_id": a, "depends_on_product_id": Uuid::now_v7()})).await.expect(404);
        dep(&app, app.admin(), json!({"product_id": Uuid::now_v7(), "depends_on_product_id": a})).await.expect(404);
        dep(&app, app.admin(), json!({"product_id": a, "depends_on_product_id": c, "dependency_type": "must"}))
            .await
            .expect(400);
        dep(&app, app.admin(), json!({"product_id": "nope", "depends_on_product_id": c})).await.expect(400);
        dep(&app, app.admin(), json!({"depends_on_product_id": c})).await.expect(400);
        // A → C is no cycle (A → B → C already implies it, but that is allowed).
        link(&app, a, c, "required").await;
    }
);

db_test!(
    async fn only_bantu_administrators_change_dependencies_and_everyone_reads_them(backend) {
        let app = TestApp::spawn(backend).await;
        let a = insert_product(&app, "A", None, true).await;
        let b = insert_product(&app, "B", None, true).await;
        let id = link(&app, a, b, "required").await;
        let (_, sales) = app.user(BANTU, "sales@bantu.test", &["SALES"]).await;
        let (_, vendor) = app.org("Vendor One", "vendor").await;
        for token in [Some(sales.as_str()), Some(vendor.as_str())] {
            dep(&app, token, json!({"product_id": b, "depends_on_product_id": a})).await.expect(403);
            app.client.put(&format!("{DEPS}/{id}"), token, &json!({"description": "x"})).await.expect(403);
            app.client.delete(&format!("{DEPS}/{id}"), token).await.expect(403);
            app.client.get(&format!("{DEPS}/{a}"), token).await.expect(200);
            let r = app.client.post(&format!("{DEPS}/validate"), token, &json!({"product_ids": [a]})).await;
            r.expect(200);
        }
        // The administrators' list needs catalog.manage: SALES has only catalog.view.
        app.client.get(DEPS, Some(&sales)).await.expect(403);
        app.client.get(DEPS, None).await.expect(401);
        app.client.get(&format!("{DEPS}/{a}"), None).await.expect(401);
    }
);

db_test!(
    async fn a_selection_is_validated_and_ordered_by_its_required_dependencies(backend) {
        let app = TestApp::spawn(backend).await;
        let visa = insert_product(&app, "Work visa", None, true).await;
        let company = insert_product(&app, "Company registration", None, true).await;
        let tax = insert_product(&app, "Tax number", None, true).await;
        let translation = insert_product(&app, "Translation", None, true).await;
        link(&app, visa, company, "required").await;
        link(&app, visa, tax, "recommended").await;
        link(&app, visa, translation, "optional").await;
        link(&app, company, tax, "required").await;

        let r = app.client.post(&format!("{DEPS}/validate"), app.admin(), &json!({"product_ids": [visa]})).await;
        r.expect(200);
        let d = r.data();
        assert_eq!(d["valid"], false);
        assert_eq!(d["missing_required"].as_array().unwrap().len(), 1);
        assert_eq!(d["missing_required"][0]["depends_on_product_id"], company.to_string());
        assert_eq!(d["missing_required"][0]["depends_on_product_name"], "Company registration");
        assert_eq!(d["warnings"][0]["depends_on_product_id"], tax.to_string());

        let all = json!({"product_ids": [visa, company, tax]});
        let r = app.client.post(&format!("{DEPS}/validate"), app.admin(), &all).await;
        assert_eq!(r.data()["valid"], true);
        assert!(r.data()["warnings"].as_array().unwrap().is_empty());

        let r = app.client.post(&format!("{DEPS}/calculate-order"), app.admin(), &all).await;
        r.expect(200);
        let order: Vec<(String, u64)> = r.data()["order"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| (s["product_id"].as_str().unwrap().to_owned(), s["execution_order"].as_u64().unwrap()))
            .collect();
        assert_eq!(order, [(tax.to_string(), 1), (company.to_string(), 2), (visa.to_string(), 3)]);

        app.client.post(&format!("{DEPS}/validate"), app.admin(), &json!({"product_ids": "x"})).await.expect(400);
        app.client.post(&format!("{DEPS}/calculate-order"), app.admin(), &json!({})).await.expect(400);
        let r = app.client.post(&format!("{DEPS}/calculate-order"), app.admin(), &json!({"product_ids": []})).await;
        assert!(r.data()["order"].as_array().unwrap().is_empty());
    }
);

db_test!(
    async fn two_edges_that_together_close_a_cycle_cannot_both_be_added_at_once(backend) {
        let app = TestApp::spawn(backend).await;
        let a = insert_product(&app, "A", None, true).await;
        let b = insert_product(&app, "B", None, true).await;
        for _ in 0..3 {
            let one = dep(&app, app.admin(), json!({"product_id": a, "depends_on_product_id": b}));
            let two = dep(&app, app.admin(), json!({"product_id": b, "depends_on_product_id": a}));
            let (one, two) = futures_util::future::join(one, two).await;
            let mut statuses = [one.status, two.status];
            statuses.sort_unstable();
            assert_eq!(statuses, [201, 400]);
            let winner = if one.status == 201 { &one } else { &two };
            app.client.delete(&format!("{DEPS}/{}", uuid(&winner.data()["id"])), app.admin()).await.expect(200);
        }
    }
);
