//! Categories: create, read, list with filters, update with the parent rules, the tree, delete.

use crate::helpers::*;
use chrono::Utc;
use crm_common::db_test;
use crm_service_management::products::model as product;
use rust_decimal::Decimal;
use sea_orm::{ActiveModelTrait, ActiveValue::Set};
use serde_json::{Value, json};
use uuid::Uuid;

async fn category(app: &TestApp, code: &str, parent: Option<Uuid>) -> Uuid {
    let r = app
        .post("/categories", app.admin(), json!({"code": code, "name": format!("{code} name"), "parent_id": parent}))
        .await;
    r.expect(200);
    uuid(&r.data()["id"])
}

/// A product straight into the database: the products API is tested on its own.
pub async fn insert_product(app: &TestApp, name: &str, category: Option<Uuid>, active: bool) -> Uuid {
    let now = Utc::now();
    let id = Uuid::now_v7();
    product::ActiveModel {
        id: Set(id),
        name: Set(name.into()),
        code: Set(Some(format!("P-{}", id.simple()))),
        enterprise_service_code: Set(None),
        category_id: Set(category),
        service_type_id: Set(None),
        service_type: Set(None),
        service_subtype: Set(None),
        description: Set(None),
        validity_period: Set(None),
        processing_days: Set(None),
        processing_time_text: Set(None),
        is_urgent_available: Set(false),
        urgent_processing_days: Set(None),
        urgent_price_surcharge: Set(None),
        required_documents: Set(None),
        sla_description: Set(None),
        service_level: Set(None),
        price_cost_idr: Set(None),
        price_cost_cny: Set(None),
        price_channel_idr: Set(None),
        price_channel_cny: Set(None),
        price_direct_idr: Set(None),
        price_direct_cny: Set(None),
        price_list_idr: Set(None),
        price_list_cny: Set(None),
        default_currency: Set("IDR".into()),
        exchange_rate: Set(Decimal::new(2000, 0)),
        channel_profit: Set(None),
        channel_profit_rate: Set(None),
        channel_customer_profit: Set(None),
        channel_customer_profit_rate: Set(None),
        direct_profit: Set(None),
        direct_profit_rate: Set(None),
        commission_rate: Set(None),
        commission_amount: Set(None),
        equivalent_cny: Set(None),
        monthly_orders: Set(None),
        total_amount: Set(None),
        status: Set("active".into()),
        suspended_reason: Set(None),
        discontinued_at: Set(None),
        is_active: Set(active),
        is_locked: Set(false),
        tags: Set(None),
        notes: Set(None),
        created_by: Set(None),
        updated_by: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
        version: Set(1),
    }
    .insert(&app.state.db)
    .await
    .unwrap();
    id
}

db_test!(
    async fn categories_are_created_read_listed_updated_and_deleted(backend) {
        let app = TestApp::spawn(backend).await;
        let r = app
            .post(
                "/categories",
                app.admin(),
                json!({"code": "VISA", "name": "Visa services", "description": "All visas", "display_order": 2}),
            )
            .await;
        r.expect(200);
        assert_eq!(r.body["code"], 200);
        let visa = uuid(&r.data()["id"]);
        assert_eq!(r.data()["is_active"], true);
        assert_eq!(r.data()["parent_name"], Value::Null);
        let work = category(&app, "VISA-WORK", Some(visa)).await;
        let r = app.get(&format!("/categories/{work}"), app.admin()).await;
        r.expect(200);
        assert_eq!(r.data()["parent_id"], visa.to_string());
        assert_eq!(r.data()["parent_name"], "Visa services");
        for key in ["id", "code", "name", "description", "parent_id", "display_order", "is_active", "created_at", "updated_at"] {
            assert!(r.data().get(key).is_some(), "missing {key}");
        }
        category(&app, "TAX", None).await;

        // Duplicate codes are a conflict.
        app.post("/categories", app.admin(), json!({"code": "VISA", "name": "again"})).await.expect(409);

        // Filters: top level only (empty parent_id), by parent, by code and name, and large pages.
        let r = app.get("/categories?parent_id=&size=1000", app.admin()).await;
        r.expect(200);
        assert_eq!(r.data()["total"], 2);
        assert_eq!(r.data()["size"], 1000);
        let r = app.get(&format!("/categories?parent_id={visa}"), app.admin()).await;
        assert_eq!(r.data()["items"].as_array().unwrap().len(), 1);
        let r = app.get("/categories?code=visa", app.admin()).await;
        assert_eq!(r.data()["total"], 2);
        let r = app.get("/categories?name=TAX%20NA", app.admin()).await;
        assert_eq!(r.data()["total"], 1);
        app.get("/categories?size=1001", app.admin()).await.expect(400);
        app.get("/categories?parent_id=nope", app.admin()).await.expect(400);

        // Update: absent fields are kept, the version moves on.
        let r = app.put(&format!("/categories/{work}"), app.admin(), json!({"name": "Work visas"})).await;
        r.expect(200);
        assert_eq!(r.data()["name"], "Work visas");
        assert_eq!(r.data()["code"], "VISA-WORK");
        assert_eq!(r.data()["parent_id"], visa.to_string());
        assert_eq!(r.data()["version"], 2);
        let r = app.get("/categories?is_active=false", app.admin()).await;
        assert_eq!(r.data()["total"], 0);

        // Delete: refused while subcategories or products use it.
        let r = app.delete(&format!("/categories/{visa}"), app.admin()).await;
        r.expect(409);
        insert_product(&app, "Work visa", Some(work), true).await;
        app.delete(&format!("/categories/{work}"), app.admin()).await.expect(409);
        let tax = uuid(&app.get("/categories?code=TAX", app.admin()).await.data()["items"][0]["id"]);
        let r = app.delete(&format!("/categories/{tax}"), app.admin()).await;
        r.expect(200);
        assert_eq!(r.body["code"], 200);
        app.get(&format!("/categories/{tax}"), app.admin()).await.expect(404);
        app.get(&format!("/categories/{}", Uuid::now_v7()), app.admin()).await.expect(404);
        app.get("/categories/not-an-id", app.admin()).await.expect(400);
    }
);

db_test!(
    async fn a_parent_must_exist_be_active_and_not_make_a_cycle(backend) {
        let app = TestApp::spawn(backend).await;
        let a = category(&app, "A", None).await;
        let b = category(&app, "B", Some(a)).await;
        let c = category(&app, "C", Some(b)).await;
        let field = |r: &crm_common::testing::TestResponse| r.data()[0]["field"].as_str().unwrap_or_default().to_owned();

        let r = app.post("/categories", app.admin(), json!({"code": "X", "name": "X", "parent_id": Uuid::now_v7()})).await;
        r.expect(400);
        assert_eq!(field(&r), "parent_id");
        // A cycle: A under its grandchild C.
        let r = app.put(&format!("/categories/{a}"), app.admin(), json!({"parent_id": c})).await;
        r.expect(400);
        assert!(r.text.contains("cycle"), "{}", r.text);
        // Itself.
        let r = app.put(&format!("/categories/{b}"), app.admin(), json!({"parent_id": b})).await;
        r.expect(400);
        // An inactive parent.
        app.put(&format!("/categories/{c}"), app.admin(), json!({"is_active": false})).await.expect(200);
        let r = app.post("/categories", app.admin(), json!({"code": "D", "name": "D", "parent_id": c})).await;
        r.expect(400);
        assert!(r.text.contains("inactive"), "{}", r.text);
        // Moving to the top level is allowed.
        let r = app.put(&format!("/categories/{c}"), app.admin(), json!({"parent_id": null})).await;
        r.expect(200);
        assert_eq!(r.data()["parent_id"], Value::Null);
        // Bad input.
        app.post("/categories", app.admin(), json!({"code": "", "name": "X"})).await.expect(400);
        app.post("/categories", app.admin(), json!({"code": "Y", "name": "Y", "display_order": -1})).await.expect(400);
        app.post("/categories", app.admin(), json!({"code": 5, "name": "Y"})).await.expect(400);
        let r = app.client.send(app.client.builder(reqwest::Method::POST, "/api/service-management/categories", app.admin()).header("content-type", "application/json").body("{bad")).await;
        r.expect(400);
    }
);

db_test!(
    async fn the_tree_counts_subtree_products_as_the_real_client_reads_it(backend) {
        let app = TestApp::spawn(backend).await;
        let visa = category(&app, "VISA", None).await;
        let work = category(&app, "WORK", Some(visa)).await;
        let tax = category(&app, "TAX", None).await;
        insert_product(&app, "Visa consultation", Some(visa), true).await;
        insert_product(&app, "KITAS", Some(work), true).await;
        insert_product(&app, "Old KITAS", Some(work), false).await;
        let r = app.get("/categories/tree?include_products=true&is_active=true", app.admin()).await;
        r.expect(200);
        let roots = r.data()["categories"].as_array().unwrap().clone();
        assert_eq!(roots.len(), 2);
        let node = |id: Uuid| roots.iter().find(|n| n["id"] == id.to_string()).unwrap().clone();
        let v = node(visa);
        assert_eq!(v["product_count"], 2);
        assert_eq!(v["products"].as_array().unwrap().len(), 1);
        assert_eq!(v["children"][0]["id"], work.to_string());
        assert_eq!(v["children"][0]["products"][0]["name"], "KITAS");
        assert!(v["children"][0]["products"][0].get("enterprise_service_code").is_some());
        assert_eq!(v["children"][0]["children"], json!([]));
        assert_eq!(node(tax)["product_count"], 0);
        // Without the active filter the inactive product counts too; without products none are listed.
        let r = app.get("/categories/tree", app.admin()).await;
        let roots = r.data()["categories"].as_array().unwrap();
        let v = roots.iter().find(|n| n["id"] == visa.to_string()).unwrap();
        assert_eq!(v["product_count"], 3);
        assert_eq!(v["products"], json!([]));
    }
);

db_test!(
    async fn everyone_reads_the_catalogue_and_only_bantu_administrators_change_it(backend) {
        let app = TestApp::spawn(backend).await;
        let a = category(&app, "A", None).await;
        let (_, sales) = app.user(BANTU, "sales@bantu.test", &["SALES"]).await;
        let (_, vendor_admin) = app.org("PT Vendor", "vendor").await;
        for token in [&sales, &vendor_admin] {
            app.get("/categories", Some(token)).await.expect(200);
            app.get(&format!("/categories/{a}"), Some(token)).await.expect(200);
            app.get("/categories/tree", Some(token)).await.expect(200);
        }
        app.post("/categories", Some(&sales), json!({"code": "S", "name": "S"})).await.expect(403);
        // A vendor's administrator holds catalog.manage for its own organization, not BANTU's catalogue.
        let r = app.post("/categories", Some(&vendor_admin), json!({"code": "V", "name": "V"})).await;
        r.expect(403);
        assert!(r.text.contains("BANTU"), "{}", r.text);
        app.put(&format!("/categories/{a}"), Some(&vendor_admin), json!({"name": "mine"})).await.expect(403);
        app.delete(&format!("/categories/{a}"), Some(&sales)).await.expect(403);
    }
);
