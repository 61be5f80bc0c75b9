//! Suppliers: vendor organizations from foundation with their offer counts, offers added and
//! changed in batches, cost prices with history, the one-primary-supplier rule, and who may
//! read or change which vendor's offers.

use crate::categories::insert_product;
use crate::helpers::*;
use crm_common::db_test;
use serde_json::{Value, json};
use uuid::Uuid;

async fn offer(app: &TestApp, vendor: Uuid, token: Option<&str>, body: Value) -> Value {
    let r = app.post(&format!("/suppliers/{vendor}/products/batch"), token, body).await;
    r.expect(200);
    r.data().clone()
}

fn items(v: &Value) -> Vec<Value> {
    v["items"].as_array().unwrap().clone()
}

db_test!(
    async fn suppliers_are_listed_from_foundation_with_their_offer_counts(backend) {
        let app = TestApp::spawn(backend).await;
        let (a, _) = app.org("Alpha Visa Agency", "vendor").await;
        let (b, _) = app.org("Beta Legal", "vendor").await;
        let (agent, _) = app.org("Gamma Agent", "agent").await;
        let p1 = insert_product(&app, "Work visa", None, true).await;
        let p2 = insert_product(&app, "KITAS", None, true).await;
        offer(&app, a, app.admin(), json!({"product_ids": [p1, p2]})).await;
        offer(&app, b, app.admin(), json!({"product_ids": [p1]})).await;

        let r = app.get("/suppliers?size=1000", app.admin()).await;
        r.expect(200);
        let list = items(r.data());
        assert_eq!(r.data()["total"], 2);
        assert!(list.iter().all(|s| s["organization_type"] == "vendor"));
        let alpha = list.iter().find(|s| s["id"] == a.to_string()).unwrap();
        assert_eq!(alpha["service_count"], 2);
        assert_eq!(alpha["name"], "Alpha Visa Agency");
        assert_eq!(alpha["is_active"], true);
        assert_eq!(alpha["is_locked"], false);
        let r = app.get("/suppliers?name=beta", app.admin()).await;
        assert_eq!(items(r.data()).len(), 1);
        assert_eq!(r.data()["items"][0]["service_count"], 1);
        let r = app.get("/suppliers?page=2&size=1", app.admin()).await;
        assert_eq!(items(r.data()).len(), 1);
        assert_eq!(r.data()["page"], 2);
        app.get("/suppliers?size=1001", app.admin()).await.expect(400);

        let r = app.get(&format!("/suppliers/{a}"), app.admin()).await;
        r.expect(200);
        assert_eq!(r.data()["service_count"], 2);
        app.get(&format!("/suppliers/{agent}"), app.admin()).await.expect(404);
        app.get(&format!("/suppliers/{}", Uuid::now_v7()), app.admin()).await.expect(404);
        app.get("/suppliers/not-an-id", app.admin()).await.expect(400);
        app.get("/suppliers", None).await.expect(401);
    }
);

db_test!(
    async fn offers_are_added_listed_priced_and_removed(backend) {
        let app = TestApp::spawn(backend).await;
        let (v, token) = app.org("Alpha Visa Agency", "vendor").await;
        let token = Some(token.as_str());
        let cat = app.post("/categories", app.admin(), json!({"code": "VISA", "name": "Visas"})).await;
        let cat = uuid(&cat.data()["id"]);
        let p1 = insert_product(&app, "A work visa", Some(cat), true).await;
        let p2 = insert_product(&app, "B KITAS", None, true).await;
        let unknown = Uuid::now_v7();
        let d = offer(
            &app,
            v,
            token,
            json!({"product_ids": [p1, p2, unknown], "default_cost_price_idr": 1000000, "default_cost_price_cny": 500.5}),
        )
        .await;
        assert_eq!(d["success_count"], 2);
        assert_eq!(d["failed_count"], 1);
        assert_eq!(d["failed_product_ids"], json!([unknown]));
        // Already offered: failed.
        let d = offer(&app, v, token, json!({"product_ids": [p1]})).await;
        assert_eq!((d["success_count"].as_u64(), d["failed_count"].as_u64()), (Some(0), Some(1)));

        let r = app.get(&format!("/suppliers/{v}/products/existing"), token).await;
        r.expect(200);
        let mut ids: Vec<String> = r.data().as_array().unwrap().iter().map(|x| x.as_str().unwrap().to_owned()).collect();
        ids.sort();
        let mut want = vec![p1.to_string(), p2.to_string()];
        want.sort();
        assert_eq!(ids, want);

        let r = app.get(&format!("/suppliers/{v}/services"), token).await;
        r.expect(200);
        assert_eq!(r.data()["total"], 2);
        let s = &r.data()["items"][0];
        assert_eq!(s["product_id"], p1.to_string());
        assert_eq!(s["product_name"], "A work visa");
        assert_eq!(s["category_name"], "Visas");
        assert_eq!(s["category_id"], cat.to_string());
        assert_eq!(s["status"], "active");
        assert_eq!(s["is_available"], true);
        assert_eq!(s["cost_price_idr"].to_string(), "1000000");
        assert_eq!(s["cost_price_cny"].to_string(), "500.5");
        assert!(r.data()["items"][1]["category_name"].is_null());

        let r = app
            .put(
                &format!("/suppliers/{v}/services/{p1}/price"),
                token,
                json!({"cost_price_idr": 1200000, "effective_from": "2026-12-01T00:00:00Z"}),
            )
            .await;
        r.expect(200);
        assert_eq!(r.data()["cost_price_idr"].to_string(), "1200000");
        assert_eq!(r.data()["cost_price_cny"].to_string(), "500.5");
        let h = app.get(&format!("/prices/history/{p1}"), token).await;
        let h = h.data().as_array().unwrap().clone();
        assert_eq!(h.len(), 1);
        assert_eq!(h[0]["organization_id"], v.to_string());
        assert_eq!(h[0]["currency"], "IDR");
        assert_eq!(h[0]["old_price"].to_string(), "1000000");
        assert_eq!(h[0]["new_price"].to_string(), "1200000");
        app.put(&format!("/suppliers/{v}/services/{}/price", Uuid::now_v7()), token, json!({"cost_price_idr": 1}))
            .await
            .expect(404);
        app.put(&format!("/suppliers/{v}/services/{p1}/price"), token, json!({"cost_price_idr": -1})).await.expect(400);

        let price = json!({"product_id": p1, "organization_id": v, "price_type": "cost", "currency": "IDR", "amount": 1});
        app.post("/prices", token, price).await.expect(200);
        let r = app.get(&format!("/suppliers/{v}/services/{p1}/prices"), token).await;
        r.expect(200);
        assert_eq!(r.data().as_array().unwrap().len(), 1);

        let r = app
            .put(
                &format!("/suppliers/{v}/products/batch-prices"),
                token,
                json!({"updates": [
                    {"product_id": p1, "cost_price": 600, "currency": "CNY", "processing_days": 5, "is_available": false},
                    {"product_id": p2, "cost_price_idr": 90000, "priority": 2},
                    {"product_id": unknown, "cost_price": 1},
                ]}),
            )
            .await;
        r.expect(200);
        assert_eq!(r.data()["success_count"], 2);
        assert_eq!(r.data()["failed_product_ids"], json!([unknown]));
        let r = app.get(&format!("/suppliers/{v}/services?is_available=false"), token).await;
        assert_eq!(r.data()["total"], 1);
        let s = &r.data()["items"][0];
        assert_eq!(s["cost_price_cny"].to_string(), "600");
        assert_eq!(s["cost_price_idr"].to_string(), "1200000");
        assert_eq!(s["processing_days"], 5);
        app.put(
            &format!("/suppliers/{v}/products/batch-prices"),
            token,
            json!({"updates": [{"product_id": p1, "cost_price": 1, "currency": "USD"}]}),
        )
        .await
        .expect(400);
        app.put(&format!("/suppliers/{v}/products/batch-prices"), token, json!({"updates": "no"})).await.expect(400);
        app.post(&format!("/suppliers/{v}/products/batch"), token, json!({"product_ids": ["x"]})).await.expect(400);

        app.delete(&format!("/suppliers/{v}/products/{p2}"), token).await.expect(200);
        app.delete(&format!("/suppliers/{v}/products/{p2}"), token).await.expect(404);
        let r = app.get(&format!("/suppliers/{v}/services"), token).await;
        assert_eq!(r.data()["total"], 1);
    }
);

db_test!(
    async fn a_product_has_at_most_one_primary_supplier(backend) {
        let app = TestApp::spawn(backend).await;
        let (a, _) = app.org("Vendor A", "vendor").await;
        let (b, _) = app.org("Vendor B", "vendor").await;
        let p = insert_product(&app, "Work visa", None, true).await;
        offer(&app, a, app.admin(), json!({"product_ids": [p], "is_primary": true})).await;
        offer(&app, b, app.admin(), json!({"product_ids": [p], "is_primary": true})).await;
        let primary = |v: Uuid| {
            let app = &app;
            async move { app.get(&format!("/suppliers/{v}/services"), app.admin()).await.data()["items"][0]["is_primary"].clone() }
        };
        assert_eq!(primary(a).await, false);
        assert_eq!(primary(b).await, true);
        let r = app
            .put(
                &format!("/suppliers/{a}/products/batch-prices"),
                app.admin(),
                json!({"updates": [{"product_id": p, "is_primary": true}]}),
            )
            .await;
        r.expect(200);
        assert_eq!(primary(a).await, true);
        assert_eq!(primary(b).await, false);
    }
);

db_test!(
    async fn vendors_reach_only_their_own_offers_and_bantu_sales_only_read(backend) {
        let app = TestApp::spawn(backend).await;
        let (a, a_token) = app.org("Vendor A", "vendor").await;
        let (_, b_token) = app.org("Vendor B", "vendor").await;
        let (_, sales) = app.user(BANTU, "sales@bantu.test", &["SALES"]).await;
        let p = insert_product(&app, "Work visa", None, true).await;
        offer(&app, a, Some(&a_token), json!({"product_ids": [p]})).await;

        let b = Some(b_token.as_str());
        app.get(&format!("/suppliers/{a}"), b).await.expect(404);
        app.get(&format!("/suppliers/{a}/services"), b).await.expect(404);
        app.get(&format!("/suppliers/{a}/products/existing"), b).await.expect(404);
        app.get(&format!("/suppliers/{a}/services/{p}/prices"), b).await.expect(404);
        app.post(&format!("/suppliers/{a}/products/batch"), b, json!({"product_ids": [p]})).await.expect(404);
        app.put(&format!("/suppliers/{a}/services/{p}/price"), b, json!({"cost_price_idr": 1})).await.expect(404);
        app.put(&format!("/suppliers/{a}/products/batch-prices"), b, json!({"updates": []})).await.expect(404);
        app.delete(&format!("/suppliers/{a}/products/{p}"), b).await.expect(404);
        let r = app.get("/suppliers", b).await;
        r.expect(200);
        assert!(items(r.data()).iter().all(|s| s["id"] != a.to_string()));

        let s = Some(sales.as_str());
        app.get(&format!("/suppliers/{a}"), s).await.expect(200);
        let r = app.get(&format!("/suppliers/{a}/services"), s).await;
        r.expect(200);
        assert_eq!(r.data()["total"], 1);
        app.get(&format!("/suppliers/{a}/products/existing"), s).await.expect(200);
        app.post(&format!("/suppliers/{a}/products/batch"), s, json!({"product_ids": [p]})).await.expect(403);
        app.put(&format!("/suppliers/{a}/services/{p}/price"), s, json!({"cost_price_idr": 1})).await.expect(403);
        app.delete(&format!("/suppliers/{a}/products/{p}"), s).await.expect(403);
    }
);

db_test!(
    async fn only_active_vendor_or_internal_organizations_offer_products(backend) {
        let app = TestApp::spawn(backend).await;
        let p = insert_product(&app, "Work visa", None, true).await;
        let (agent, _) = app.org("Agent", "agent").await;
        let (sleeping, _) = app.org("Sleeping Vendor", "vendor").await;
        app.fput(&format!("/organizations/{sleeping}"), app.admin(), json!({"is_active": false})).await.expect(200);
        for org in [agent, sleeping] {
            let r = app.post(&format!("/suppliers/{org}/products/batch"), app.admin(), json!({"product_ids": [p]})).await;
            r.expect(400);
        }
        app.post(&format!("/suppliers/{}/products/batch", Uuid::now_v7()), app.admin(), json!({"product_ids": [p]}))
            .await
            .expect(404);
        // BANTU itself is an internal organization and may supply.
        let d = offer(&app, BANTU, app.admin(), json!({"product_ids": [p]})).await;
        assert_eq!(d["success_count"], 1);
    }
);
