//! Products: create with derived profits, read with names, list with filters, partial updates,
//! delete; the rules on fields, categories and codes; who may write; a vendor's offers.

use crate::helpers::*;
use chrono::Utc;
use crm_common::db_test;
use crm_common::testing::TestResponse;
use crm_service_management::vendors::model as vendor_product;
use rust_decimal::Decimal;
use sea_orm::{ActiveModelTrait, ActiveValue::Set};
use serde_json::{Value, json};
use uuid::Uuid;

async fn category(app: &TestApp, code: &str) -> Uuid {
    let r = app.post("/categories", app.admin(), json!({"code": code, "name": format!("{code} name")})).await;
    r.expect(200);
    uuid(&r.data()["id"])
}

async fn service_type(app: &TestApp, code: &str) -> Uuid {
    let r = app.post("/service-types", app.admin(), json!({"code": code, "name": format!("{code} 类型")})).await;
    r.expect(200);
    uuid(&r.data()["id"])
}

async fn product(app: &TestApp, body: Value) -> Uuid {
    let r = app.post("/products", app.admin(), body).await;
    r.expect(200);
    uuid(&r.data()["id"])
}

/// The number of products `GET /products?{query}` finds.
async fn total(app: &TestApp, query: &str) -> u64 {
    let r = app.get(&format!("/products?{query}"), app.admin()).await;
    r.expect(200);
    r.data()["total"].as_u64().unwrap()
}

fn field(r: &TestResponse) -> String {
    r.data()[0]["field"].as_str().unwrap_or_default().to_owned()
}

/// An offer straight into the database: the vendor offers API is tested on its own.
async fn offer(app: &TestApp, vendor: Uuid, product: Uuid, primary: bool, priority: i32, available: bool) {
    let now = Utc::now();
    vendor_product::ActiveModel {
        id: Set(Uuid::now_v7()),
        organization_id: Set(vendor),
        product_id: Set(product),
        is_primary: Set(primary),
        priority: Set(priority),
        cost_price_idr: Set(Some(Decimal::new(75_000_050, 2))),
        cost_price_cny: Set(None),
        exchange_rate: Set(Decimal::new(2000, 0)),
        min_quantity: Set(1),
        max_quantity: Set(None),
        lead_time_days: Set(None),
        processing_days: Set(Some(priority + 3)),
        is_available: Set(available),
        availability_notes: Set(None),
        available_from: Set(None),
        available_to: Set(None),
        account_code: Set(None),
        cost_center: Set(None),
        expense_category: Set(None),
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
}

db_test!(
    async fn products_are_created_with_derived_profits_read_updated_and_deleted(backend) {
        let app = TestApp::spawn(backend).await;
        let visa = category(&app, "VISA").await;
        let business = service_type(&app, "BUSINESS_VISA").await;
        let r = app
            .post(
                "/products",
                app.admin(),
                json!({
                    "name": " KITAS work permit ", "code": "KITAS-1", "category_id": visa,
                    "service_type_id": business, "service_type": "visa", "service_subtype": "C312",
                    "processing_days": 30, "processing_time_text": "about a month",
                    "price_cost_idr": 1000000, "price_channel_idr": 1500000, "price_direct_idr": 2000000,
                    "price_list_idr": 0, "price_direct_cny": "1000.50", "commission_rate": 0.1,
                    "service_level": "premium", "tags": ["visa", "work"], "status": "active", "is_active": true
                }),
            )
            .await;
        r.expect(200);
        let id = uuid(&r.data()["id"]);
        let d = r.data();
        assert_eq!(d["name"], "KITAS work permit");
        assert_eq!(d["category_name"], "VISA name");
        assert_eq!(d["service_type_name"], "BUSINESS_VISA 类型");
        // Hand-computed: 2,000,000 − 1,500,000 = 500,000 over 1,500,000 = 0.3333;
        // 1,500,000 − 1,000,000 = 500,000 over 1,000,000 = 0.5; 2,000,000 − 1,000,000 over 1,000,000 = 1.
        assert_eq!(d["channel_profit"], json!(500000));
        assert_eq!(d["channel_profit_rate"], json!(0.3333));
        assert_eq!(d["channel_customer_profit"], json!(500000));
        assert_eq!(d["channel_customer_profit_rate"], json!(0.5));
        assert_eq!(d["direct_profit"], json!(1000000));
        assert_eq!(d["direct_profit_rate"], json!(1));
        assert_eq!(d["price_list_idr"], json!(0), "a price of 0 is a price");
        assert_eq!(d["price_direct_cny"], json!(1000.5));
        assert_eq!(d["price_cost_cny"], Value::Null);
        assert_eq!(d["exchange_rate"], json!(2000));
        assert_eq!(d["default_currency"], "IDR");
        assert_eq!(d["tags"], json!(["visa", "work"]));
        assert_eq!(d["status"], "active");
        assert_eq!(d["discontinued_at"], Value::Null);
        assert_eq!(d["version"], 1);

        let r = app.get(&format!("/products/{id}"), app.admin()).await;
        r.expect(200);
        for key in [
            "id", "name", "code", "enterprise_service_code", "category_id", "category_name", "service_type_id",
            "service_type_name", "service_type", "service_subtype", "processing_days", "processing_time_text",
            "price_cost_idr", "price_cost_cny", "price_channel_idr", "price_channel_cny", "price_direct_idr",
            "price_direct_cny", "price_list_idr", "price_list_cny", "status", "is_active", "required_documents",
            "notes", "validity_period", "is_urgent_available", "urgent_processing_days", "urgent_price_surcharge",
            "default_currency", "exchange_rate", "commission_rate", "commission_amount", "equivalent_cny",
            "monthly_orders", "total_amount", "sla_description", "service_level", "suspended_reason",
            "discontinued_at", "tags", "created_at", "updated_at",
        ] {
            assert!(r.data().get(key).is_some(), "missing {key}");
        }
        assert_eq!(r.data()["direct_profit_rate"], json!(1));

        // An update that omits fields keeps them (the admin page omits what the user cleared).
        let r = app.put(&format!("/products/{id}"), app.admin(), json!({"name": "KITAS", "processing_days": 20})).await;
        r.expect(200);
        let d = r.data();
        assert_eq!(d["name"], "KITAS");
        assert_eq!(d["processing_days"], 20);
        assert_eq!(d["code"], "KITAS-1");
        assert_eq!(d["category_id"], visa.to_string());
        assert_eq!(d["price_cost_idr"], json!(1000000));
        assert_eq!(d["direct_profit"], json!(1000000));
        assert_eq!(d["tags"], json!(["visa", "work"]));
        assert_eq!(d["version"], 2);

        // Changing a price recomputes the profits: direct 1,200,000 → direct − cost 200,000 (0.2),
        // direct − channel −300,000 over 1,500,000 = −0.2.
        let r = app.put(&format!("/products/{id}"), app.admin(), json!({"price_direct_idr": 1200000})).await;
        r.expect(200);
        assert_eq!(r.data()["direct_profit"], json!(200000));
        assert_eq!(r.data()["direct_profit_rate"], json!(0.2));
        assert_eq!(r.data()["channel_profit"], json!(-300000));
        assert_eq!(r.data()["channel_profit_rate"], json!(-0.2));
        // Clearing the cost clears what depends on it; a zero channel price leaves its rate empty.
        let r = app.put(&format!("/products/{id}"), app.admin(), json!({"price_cost_idr": null, "price_channel_idr": 0})).await;
        r.expect(200);
        assert_eq!(r.data()["direct_profit"], Value::Null);
        assert_eq!(r.data()["channel_customer_profit_rate"], Value::Null);
        assert_eq!(r.data()["channel_profit"], json!(1200000));
        assert_eq!(r.data()["channel_profit_rate"], Value::Null);

        // Status bookkeeping: a suspension keeps its reason; discontinuing records when.
        let r = app.put(&format!("/products/{id}"), app.admin(), json!({"status": "suspended", "suspended_reason": "quota"})).await;
        r.expect(200);
        assert_eq!(r.data()["suspended_reason"], "quota");
        let r = app.put(&format!("/products/{id}"), app.admin(), json!({"status": "discontinued"})).await;
        r.expect(200);
        assert!(r.data()["discontinued_at"].is_string(), "{}", r.text);
        assert_eq!(r.data()["suspended_reason"], Value::Null);
        let r = app
            .put(&format!("/products/{id}"), app.admin(), json!({"discontinued_at": "2026-01-31T00:00:00Z"}))
            .await;
        r.expect(200);
        assert!(r.data()["discontinued_at"].as_str().unwrap().starts_with("2026-01-31T00:00:00"), "{}", r.text);
        let r = app.put(&format!("/products/{id}"), app.admin(), json!({"status": "active"})).await;
        assert_eq!(r.data()["discontinued_at"], Value::Null);

        let r = app.delete(&format!("/products/{id}"), app.admin()).await;
        r.expect(200);
        app.get(&format!("/products/{id}"), app.admin()).await.expect(404);
        app.delete(&format!("/products/{id}"), app.admin()).await.expect(404);
        app.put(&format!("/products/{id}"), app.admin(), json!({"name": "x"})).await.expect(404);
        app.get("/products/not-an-id", app.admin()).await.expect(400);
    }
);

db_test!(
    async fn money_keeps_its_exact_digits(backend) {
        let app = TestApp::spawn(backend).await;
        let r = app
            .post(
                "/products",
                app.admin(),
                json!({"name": "Company set-up", "price_list_idr": 12345678901.25_f64,
                       "price_direct_idr": "98765432.10", "exchange_rate": 2150.1234}),
            )
            .await;
        r.expect(200);
        let id = uuid(&r.data()["id"]);
        let r = app.get(&format!("/products/{id}"), app.admin()).await;
        r.expect(200);
        assert!(r.text.contains(r#""price_list_idr":12345678901.25"#), "{}", r.text);
        assert!(r.text.contains(r#""price_direct_idr":98765432.1"#), "{}", r.text);
        assert!(r.text.contains(r#""exchange_rate":2150.1234"#), "{}", r.text);
        let r = app.get("/products?size=1000", app.admin()).await;
        assert!(r.text.contains("12345678901.25"), "{}", r.text);
        // More digits than the column keeps is refused rather than silently rounded.
        let r = app.post("/products", app.admin(), json!({"name": "x", "price_list_idr": 1.005})).await;
        r.expect(400);
        assert_eq!(field(&r), "price_list_idr");
    }
);

db_test!(
    async fn product_rules_answer_in_the_envelope(backend) {
        let app = TestApp::spawn(backend).await;
        let visa = category(&app, "VISA").await;
        let old = category(&app, "OLD").await;
        app.put(&format!("/categories/{old}"), app.admin(), json!({"is_active": false})).await.expect(200);

        let r = app.post("/products", app.admin(), json!({"name": "  "})).await;
        r.expect(400);
        assert_eq!(field(&r), "name");
        let r = app.post("/products", app.admin(), json!({"name": "x", "category_id": Uuid::now_v7()})).await;
        r.expect(400);
        assert_eq!(field(&r), "category_id");
        let r = app.post("/products", app.admin(), json!({"name": "x", "category_id": old})).await;
        r.expect(400);
        assert_eq!(field(&r), "category_id");
        assert!(r.text.contains("inactive"), "{}", r.text);
        let r = app.post("/products", app.admin(), json!({"name": "x", "service_type_id": Uuid::now_v7()})).await;
        r.expect(400);
        assert_eq!(field(&r), "service_type_id");
        for (body, name) in [
            (json!({"name": "x", "commission_rate": 1.5}), "commission_rate"),
            (json!({"name": "x", "commission_rate": -0.1}), "commission_rate"),
            (json!({"name": "x", "price_cost_idr": -1}), "price_cost_idr"),
            (json!({"name": "x", "price_channel_cny": -0.01}), "price_channel_cny"),
            (json!({"name": "x", "exchange_rate": 0}), "exchange_rate"),
            (json!({"name": "x", "status": "paused"}), "status"),
            (json!({"name": "x", "service_level": "gold"}), "service_level"),
            (json!({"name": "x", "processing_days": -1}), "processing_days"),
        ] {
            let r = app.post("/products", app.admin(), body.clone()).await;
            r.expect(400);
            assert_eq!(field(&r), name, "{body}");
        }
        // Wrong types and malformed JSON.
        app.post("/products", app.admin(), json!({"name": "x", "tags": [1, 2]})).await.expect(400);
        app.post("/products", app.admin(), json!({"name": "x", "tags": "visa"})).await.expect(400);
        app.post("/products", app.admin(), json!({"name": "x", "price_cost_idr": "lots"})).await.expect(400);
        app.post("/products", app.admin(), json!({"name": "x", "processing_days": "ten"})).await.expect(400);
        app.post("/products", app.admin(), json!({"code": "no-name"})).await.expect(400);
        let r = app
            .client
            .send(
                app.client
                    .builder(reqwest::Method::POST, "/api/service-management/products", app.admin())
                    .header("content-type", "application/json")
                    .body("{\"name\": "),
            )
            .await;
        r.expect(400);

        // Codes are unique → 409, on create and on update.
        let a = product(&app, json!({"name": "A", "code": "A-1", "category_id": visa})).await;
        let b = product(&app, json!({"name": "B", "code": "B-1"})).await;
        app.post("/products", app.admin(), json!({"name": "A again", "code": "A-1"})).await.expect(409);
        app.put(&format!("/products/{b}"), app.admin(), json!({"code": "A-1"})).await.expect(409);
        // Keeping one's own code is fine; products without a code do not collide.
        app.put(&format!("/products/{a}"), app.admin(), json!({"code": "A-1", "name": "A"})).await.expect(200);
        product(&app, json!({"name": "no code 1"})).await;
        product(&app, json!({"name": "no code 2"})).await;

        // The category is checked when it changes, not when an unrelated field does.
        app.put(&format!("/categories/{visa}"), app.admin(), json!({"is_active": false})).await.expect(200);
        app.put(&format!("/products/{a}"), app.admin(), json!({"notes": "still filed under visa"})).await.expect(200);
        let r = app.put(&format!("/products/{b}"), app.admin(), json!({"category_id": old})).await;
        r.expect(400);
        assert_eq!(field(&r), "category_id");
        let r = app.put(&format!("/products/{b}"), app.admin(), json!({"exchange_rate": -5, "price_list_idr": -1})).await;
        r.expect(400);
        assert_eq!(r.data().as_array().unwrap().len(), 2, "every bad field at once: {}", r.text);
        app.put(&format!("/products/{b}"), app.admin(), json!({"is_active": "yes"})).await.expect(400);
    }
);

db_test!(
    async fn products_are_listed_newest_first_with_filters(backend) {
        let app = TestApp::spawn(backend).await;
        let visa = category(&app, "VISA").await;
        let tax = category(&app, "TAX").await;
        let business = service_type(&app, "BUSINESS_VISA").await;
        let first = product(&app, json!({"name": "Business visa B211", "code": "VISA-B211", "category_id": visa,
            "service_type_id": business, "service_type": "visa", "service_subtype": "B211"})).await;
        let second = product(&app, json!({"name": "Tax report", "code": "TAX-01", "category_id": tax,
            "status": "suspended", "is_active": false})).await;
        let third = product(&app, json!({"name": "Work visa", "code": "visa-c312", "category_id": visa,
            "service_type": "visa", "service_subtype": "C312"})).await;

        let r = app.get("/products", app.admin()).await;
        r.expect(200);
        let ids: Vec<String> = r.data()["items"].as_array().unwrap().iter().map(|p| p["id"].as_str().unwrap().to_owned()).collect();
        assert_eq!(ids, [third.to_string(), second.to_string(), first.to_string()]);
        assert_eq!(r.data()["total"], 3);
        assert_eq!(r.data()["page"], 1);
        assert_eq!(r.data()["size"], 10);
        assert_eq!(r.data()["pages"], 1);
        assert_eq!(r.data()["items"][2]["category_name"], "VISA name");
        assert_eq!(r.data()["items"][2]["service_type_name"], "BUSINESS_VISA 类型");

        assert_eq!(total(&app, "name=VISA").await, 2);
        assert_eq!(total(&app, "code=visa-").await, 2);
        assert_eq!(total(&app, &format!("category_id={visa}")).await, 2);
        assert_eq!(total(&app, &format!("service_type_id={business}")).await, 1);
        assert_eq!(total(&app, "service_type=visa").await, 2);
        assert_eq!(total(&app, "service_subtype=C312").await, 1);
        assert_eq!(total(&app, "status=suspended").await, 1);
        assert_eq!(total(&app, "is_active=true").await, 2);
        assert_eq!(total(&app, "size=1000&is_active=true&page=1").await, 2);

        let r = app.get("/products?size=2&page=2", app.admin()).await;
        assert_eq!(r.data()["items"].as_array().unwrap().len(), 1);
        assert_eq!(r.data()["items"][0]["id"], first.to_string());
        assert_eq!(r.data()["pages"], 2);
        app.get("/products?size=1001", app.admin()).await.expect(400);
        app.get("/products?size=0", app.admin()).await.expect(400);
        app.get("/products?status=paused", app.admin()).await.expect(400);
        app.get("/products?category_id=nope", app.admin()).await.expect(400);
    }
);

db_test!(
    async fn everyone_reads_products_and_only_bantu_administrators_change_them(backend) {
        let app = TestApp::spawn(backend).await;
        let id = product(&app, json!({"name": "KITAS"})).await;
        let (_, sales) = app.user(BANTU, "sales@bantu.test", &["SALES"]).await;
        let (_, vendor_admin) = app.org("PT Vendor", "vendor").await;
        for token in [&sales, &vendor_admin] {
            app.get("/products", Some(token)).await.expect(200);
            app.get(&format!("/products/{id}"), Some(token)).await.expect(200);
            app.post("/products", Some(token), json!({"name": "mine"})).await.expect(403);
            app.put(&format!("/products/{id}"), Some(token), json!({"name": "mine"})).await.expect(403);
            app.delete(&format!("/products/{id}"), Some(token)).await.expect(403);
        }
        app.get("/products", None).await.expect(401);
        let r = app.get(&format!("/products/{id}"), app.admin()).await;
        assert_eq!(r.data()["name"], "KITAS");
    }
);

db_test!(
    async fn a_vendor_sees_its_own_offers_and_not_another_vendors(backend) {
        let app = TestApp::spawn(backend).await;
        let (vendor, vendor_admin) = app.org("PT Visa Partner", "vendor").await;
        let (other, other_admin) = app.org("PT Other", "vendor").await;
        let (_, sales) = app.user(BANTU, "sales@bantu.test", &["SALES"]).await;
        let a = product(&app, json!({"name": "A", "processing_days": 30, "price_direct_idr": 100})).await;
        let b = product(&app, json!({"name": "B"})).await;
        let c = product(&app, json!({"name": "C"})).await;
        let d = product(&app, json!({"name": "D"})).await;
        offer(&app, vendor, a, false, 2, true).await;
        offer(&app, vendor, b, false, 1, true).await;
        offer(&app, vendor, c, true, 5, true).await;
        offer(&app, vendor, d, false, 1, false).await;
        offer(&app, other, a, false, 0, true).await;

        let r = app.get(&format!("/products/vendors/{vendor}"), Some(&vendor_admin)).await;
        r.expect(200);
        let names: Vec<&str> = r.data()["items"].as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap()).collect();
        // Primary first, then priority ascending, then newest (D after B at the same priority).
        assert_eq!(names, ["C", "D", "B", "A"]);
        assert_eq!(r.data()["total"], 4);
        let first = &r.data()["items"][0];
        assert_eq!(first["is_primary"], true);
        assert_eq!(first["priority"], 5);
        assert_eq!(first["is_available"], true);
        assert_eq!(first["processing_days"], 8, "the offer's processing days");
        assert!(r.text.contains(r#""cost_price_idr":750000.5"#), "{}", r.text);
        assert_eq!(first["cost_price_cny"], Value::Null);
        let last = &r.data()["items"][3];
        assert_eq!(last["id"], a.to_string());
        assert_eq!(last["price_direct_idr"], json!(100));
        assert!(last.get("category_name").is_some());

        let r = app.get(&format!("/products/vendors/{vendor}?is_available=false"), Some(&vendor_admin)).await;
        assert_eq!(r.data()["total"], 1);
        assert_eq!(r.data()["items"][0]["name"], "D");
        let r = app.get(&format!("/products/vendors/{vendor}?is_primary=true"), Some(&vendor_admin)).await;
        assert_eq!(r.data()["total"], 1);
        let r = app.get(&format!("/products/vendors/{vendor}?size=2&page=2"), Some(&vendor_admin)).await;
        assert_eq!(r.data()["items"].as_array().unwrap().len(), 2);
        assert_eq!(r.data()["pages"], 2);
        app.get(&format!("/products/vendors/{vendor}?size=1001"), Some(&vendor_admin)).await.expect(400);

        // Another vendor's offers look absent; BANTU's staff and administrators read all.
        app.get(&format!("/products/vendors/{vendor}"), Some(&other_admin)).await.expect(404);
        let r = app.get(&format!("/products/vendors/{other}"), Some(&other_admin)).await;
        r.expect(200);
        assert_eq!(r.data()["total"], 1);
        for token in [Some(sales.as_str()), app.admin()] {
            let r = app.get(&format!("/products/vendors/{vendor}"), token).await;
            r.expect(200);
            assert_eq!(r.data()["total"], 4);
        }
        // An organization without offers has an empty page.
        let r = app.get(&format!("/products/vendors/{}", Uuid::now_v7()), app.admin()).await;
        r.expect(200);
        assert_eq!(r.data()["items"], json!([]));
        app.get("/products/vendors/not-an-id", app.admin()).await.expect(400);
    }
);
