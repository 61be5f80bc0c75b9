//! Orders: creation checked against service-management (customer, products) with generated
//! numbers and totals, the list's filters, items at both addresses with totals following every
//! change, the status machine with its roles, visibility and masking, other tenants' ids.

use crate::helpers::*;
use crm_common::db_test;
use crm_common::testing::TestResponse;
use rust_decimal::Decimal;
use serde_json::{Value, json};
use std::str::FromStr;
use uuid::Uuid;

/// A product of the catalogue with a direct price in CNY.
pub async fn sm_product(app: &TestApp, name: &str, code: &str, price_cny: &str) -> Uuid {
    let r = app
        .sm()
        .client()
        .post(
            "/api/service-management/products",
            app.admin(),
            &json!({"name": name, "code": code, "price_direct_cny": price_cny, "price_direct_idr": 1000000}),
        )
        .await;
    assert!(r.status == 200 || r.status == 201, "{}", r.text);
    uuid(&r.data()["id"])
}

fn dec(v: &Value) -> Decimal {
    match v {
        Value::Number(n) => Decimal::from_str(&n.to_string()).unwrap(),
        Value::String(s) => Decimal::from_str(s).unwrap(),
        other => panic!("not an amount: {other}"),
    }
}

/// The order's total is the sum of its items' amounts, and its final amount the total less the
/// order's discount (never below zero).
async fn assert_totals(app: &TestApp, token: &str, id: &str) -> Value {
    let r = app.get(&format!("/orders/{id}"), Some(token)).await;
    r.expect(200);
    let o = r.data().clone();
    let sum: Decimal = o["order_items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| !i["item_amount"].is_null())
        .map(|i| dec(&i["item_amount"]))
        .sum();
    assert_eq!(dec(&o["total_amount"]), sum, "total = Σ items: {o}");
    assert_eq!(dec(&o["final_amount"]), (sum - dec(&o["discount_amount"])).max(Decimal::ZERO));
    o
}

async fn order(app: &TestApp, token: &str, body: Value) -> Value {
    let r = app.post("/orders", Some(token), body).await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.data().clone()
}

fn today() -> String {
    chrono::Utc::now().format("%Y%m%d").to_string()
}

db_test!(
    async fn a_seller_creates_an_order_whose_totals_follow_its_items_at_both_addresses(backend) {
        let app = TestApp::spawn(backend).await;
        let (seller_id, seller) = app.user(BANTU, "sales@bantu.test", &["SALES"]).await;
        let customer = app.customer(&seller, "PT Maju Jaya").await;
        let kitas = sm_product(&app, "KITAS", "KITAS", "5000").await;
        let o = order(
            &app,
            &seller,
            json!({"title": "KITAS for two", "customer_id": customer, "currency_code": "CNY", "discount_amount": 100,
                "status_code": "completed", "total_amount": 1, "passport_id": "E1234567", "description": "two directors",
                "order_items": [
                    {"product_id": kitas, "quantity": 2},
                    {"product_name": "Translation", "quantity": 3, "unit_price": "100.50", "discount_amount": 1.5,
                     "description": "sworn"}
                ]}),
        )
        .await;
        let id = id_of(&o);
        let number = o["order_number"].as_str().unwrap();
        assert!(number.starts_with(&format!("ORD-{}-", today())) && number.len() == 19, "{number}");
        assert_eq!(o["status_code"], "submitted", "a client-sent status is ignored");
        assert_eq!(o["status_name"], "已提交");
        assert_eq!(o["customer_name"], "PT Maju Jaya");
        assert_eq!(o["sales_user_id"], seller_id.to_string());
        assert_eq!(o["sales_username"], "sales");
        assert_eq!(o["passport_id"], "E1234567", "the seller sees the passport number");
        let items = o["order_items"].as_array().unwrap();
        assert_eq!(items.len(), 2);
        assert_eq!((items[0]["item_number"].as_i64(), items[1]["item_number"].as_i64()), (Some(1), Some(2)));
        assert_eq!(items[0]["product_name"], "KITAS", "copied from the product");
        assert_eq!(items[0]["product_code"], "KITAS");
        assert_eq!(dec(&items[0]["unit_price"]), Decimal::from(5000), "the product's direct price");
        assert_eq!(dec(&items[0]["item_amount"]), Decimal::from(10000));
        assert_eq!(items[1]["product_name"], "Translation");
        assert_eq!(items[1]["description"], "sworn");
        assert_eq!(dec(&items[1]["item_amount"]), Decimal::from_str("300").unwrap());
        assert_eq!(dec(&o["total_amount"]), Decimal::from(10300));
        assert_eq!(dec(&o["final_amount"]), Decimal::from(10200));
        assert_totals(&app, &seller, &id).await;

        // The list, with every filter the original and the real client send.
        order(&app, &seller, json!({"title": "Company set-up", "customer_id": customer})).await;
        let r = app.get("/orders", Some(&seller)).await;
        r.expect(200);
        assert_eq!(r.data()["total"], 2);
        assert_eq!(r.data()["page"], 1);
        assert_eq!(r.data()["page_size"], 20);
        assert_eq!(r.data()["orders"][0]["title"], "Company set-up", "newest first");
        assert_eq!(r.data()["orders"][0]["order_items"], Value::Null, "lists leave items out");
        let day = chrono::Utc::now().format("%Y-%m-%d").to_string();
        for (query, expected) in [
            ("customer_name=maju".to_owned(), 2),
            ("customer_name=nobody".to_owned(), 0),
            (format!("customer_id={customer}"), 2),
            (format!("sales_user_id={seller_id}"), 2),
            ("status_code=submitted".to_owned(), 2),
            ("status_code=approved".to_owned(), 0),
            (format!("order_number={}", &number[13..]), 1),
            ("title=kitas".to_owned(), 1),
            (format!("created_at_from={day}&created_at_to={day}"), 2),
            ("created_at_to=2020-01-01".to_owned(), 0),
            ("size=1&page=2".to_owned(), 2),
        ] {
            let r = app.get(&format!("/orders?{query}"), Some(&seller)).await;
            r.expect(200);
            assert_eq!(r.data()["total"], expected, "{query}: {}", r.text);
        }
        app.get("/orders?size=1001", Some(&seller)).await.expect(400);
        app.get("/orders?status_code=won", Some(&seller)).await.expect(400);
        app.get("/orders?created_at_from=yesterday", Some(&seller)).await.expect(400);
        app.get("/orders?lang=fr", Some(&seller)).await.expect(400);

        // Items: the nested paths and the flat ones reach the same items; totals follow.
        let r = app.get(&format!("/orders/{id}/items"), Some(&seller)).await;
        r.expect(200);
        assert_eq!(r.data().as_array().unwrap().len(), 2, "a plain array");
        let r = app.get(&format!("/order-items/order/{id}/items?size=1"), Some(&seller)).await;
        r.expect(200);
        assert_eq!(r.data()["total"], 2);
        assert_eq!(r.data()["items"].as_array().unwrap().len(), 1);
        let first = id_of(&items[0]);
        app.get(&format!("/orders/{id}/items/{first}"), Some(&seller)).await.expect(200);
        app.get(&format!("/order-items/{first}"), Some(&seller)).await.expect(200);
        let r = app.post(&format!("/orders/{id}/items"), Some(&seller), json!({"product_name": "Courier", "unit_price": 50})).await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(r.data()["item_number"], 3);
        let courier = id_of(r.data());
        let r = app.post("/order-items", Some(&seller), json!({"order_id": id, "item_number": 3, "product_name": "Dup"})).await;
        r.expect(409);
        app.post("/order-items", Some(&seller), json!({"product_name": "No order"})).await.expect(400);
        app.post("/order-items", Some(&seller), json!({"order_id": Uuid::now_v7(), "product_name": "x"})).await.expect(404);
        let r = app.post("/order-items", Some(&seller), json!({"order_id": id, "item_number": 7, "product_name": "Stamp", "unit_price": 10})).await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(r.data()["item_number"], 7);
        let o = assert_totals(&app, &seller, &id).await;
        assert_eq!(dec(&o["total_amount"]), Decimal::from(10360));

        let r = app.put(&format!("/order-items/{courier}"), Some(&seller), json!({"quantity": 4, "version": 1})).await;
        r.expect(200);
        assert_eq!(dec(&r.data()["item_amount"]), Decimal::from(200));
        app.put(&format!("/order-items/{courier}"), Some(&seller), json!({"quantity": 5, "version": 1})).await.expect(409);
        app.put(&format!("/orders/{id}/items/{courier}"), Some(&seller), json!({"quantity": 0})).await.expect(400);
        app.put(&format!("/orders/{id}/items/{courier}"), Some(&seller), json!({"discount_amount": 1000})).await.expect(400);
        app.put(&format!("/orders/{id}/items/{courier}"), Some(&seller), json!({"status": "done"})).await.expect(400);
        let o = assert_totals(&app, &seller, &id).await;
        assert_eq!(dec(&o["total_amount"]), Decimal::from(10510));
        app.delete(&format!("/orders/{id}/items/{courier}"), Some(&seller)).await.expect(200);
        app.get(&format!("/order-items/{courier}"), Some(&seller)).await.expect(404);
        let o = assert_totals(&app, &seller, &id).await;
        assert_eq!(dec(&o["total_amount"]), Decimal::from(10310));

        // The order itself: a discount recomputes the final amount; a stale version is refused.
        let version = o["version"].as_i64().unwrap();
        let r = app.put(&format!("/orders/{id}"), Some(&seller), json!({"discount_amount": 310, "version": version})).await;
        r.expect(200);
        assert_eq!(dec(&r.data()["final_amount"]), Decimal::from(10000));
        let r = app.put(&format!("/orders/{id}"), Some(&seller), json!({"title": "late", "version": version})).await;
        r.expect(409);
        assert_eq!(r.body["data"]["title"], "KITAS for two", "the conflict carries the current order");
        app.put(&format!("/orders/{id}"), Some(&seller), json!({"exchange_rate": 0})).await.expect(400);
        app.put(&format!("/orders/{id}"), Some(&seller), json!({"customer_id": Uuid::now_v7()})).await.expect(400);
    }
);

db_test!(
    async fn creation_is_checked_against_service_management(backend) {
        let app = TestApp::spawn(backend).await;
        let (_, seller) = app.user(BANTU, "sales@bantu.test", &["SALES"]).await;
        let customer = app.customer(&seller, "PT Maju Jaya").await;
        let r = app.post("/orders", Some(&seller), json!({"title": "x", "customer_id": Uuid::now_v7()})).await;
        r.expect(400);
        assert!(r.text.contains("customer_id"), "{}", r.text);
        let r = app
            .post("/orders", Some(&seller), json!({"title": "x", "customer_id": customer, "order_items": [{"product_id": Uuid::now_v7()}]}))
            .await;
        r.expect(400);
        assert!(r.text.contains("order_items[0].product_id"), "{}", r.text);
        let r = app.post("/orders", Some(&seller), json!({"title": "", "customer_id": customer, "order_items": [{"quantity": 0}]})).await;
        r.expect(400);
        assert!(r.text.contains("title") && r.text.contains("order_items[0].quantity"), "{}", r.text);
        app.post("/orders", Some(&seller), json!({"title": "x"})).await.expect(400);
        app.post("/orders", Some(&seller), json!({"title": "x", "customer_id": customer, "sales_user_id": Uuid::now_v7()}))
            .await
            .expect(400);
        // Nothing was written by the refused requests.
        let r = app.get("/orders", Some(&seller)).await;
        assert_eq!(r.data()["total"], 0);
        // Without the permission (FINANCE reads orders but does not create them).
        let (_, finance) = app.user(BANTU, "finance@bantu.test", &["FINANCE"]).await;
        app.post("/orders", Some(&finance), json!({"title": "x", "customer_id": customer})).await.expect(403);
        app.post("/orders", None, json!({"title": "x", "customer_id": customer})).await.expect(401);
    }
);

db_test!(
    async fn the_status_machine_and_who_may_move_an_order(backend) {
        let app = TestApp::spawn(backend).await;
        let (_, seller) = app.user(BANTU, "sales@bantu.test", &["SALES"]).await;
        let (operator_id, operator) = app.user(BANTU, "ops@bantu.test", &["OPERATION"]).await;
        let (_, other_op) = app.user(BANTU, "ops2@bantu.test", &["OPERATION"]).await;
        let customer = app.customer(&seller, "PT Maju Jaya").await;
        let o = order(&app, &seller, json!({"title": "KITAS", "customer_id": customer,
            "order_items": [{"product_name": "KITAS", "unit_price": 100}]}))
        .await;
        let id = id_of(&o);
        let status = |s: &str| json!({ "status_code": s });

        let r = app.put(&format!("/orders/{id}"), Some(&seller), status("completed")).await;
        r.expect(409);
        assert!(r.text.contains("approved, cancelled"), "names the allowed moves: {}", r.text);
        app.put(&format!("/orders/{id}"), Some(&seller), status("approved")).await.expect(403);
        app.post(&format!("/orders/{id}/assign"), app.admin(), json!({"assigned_to_user_id": operator_id})).await.expect(409);
        let r = app.put(&format!("/orders/{id}"), app.admin(), status("approved")).await;
        r.expect(200);
        assert_eq!(r.data()["status_code"], "approved");
        app.put(&format!("/orders/{id}"), Some(&seller), status("cancelled")).await.expect(403);
        app.put(&format!("/orders/{id}"), app.admin(), status("assigned")).await.expect(409);
        app.post(&format!("/orders/{id}/assign"), Some(&seller), json!({"assigned_to_user_id": operator_id})).await.expect(403);
        app.post(&format!("/orders/{id}/assign"), app.admin(), json!({"assigned_to_user_id": Uuid::now_v7()})).await.expect(400);
        let r = app.post(&format!("/orders/{id}/assign"), app.admin(), json!({"assigned_to_user_id": operator_id})).await;
        r.expect(200);
        assert_eq!(r.data()["status_code"], "assigned");
        assert_eq!(r.data()["assigned_to_user_id"], operator_id.to_string());
        assert_eq!(r.data()["assigned_to_username"], "ops");
        app.put(&format!("/orders/{id}"), Some(&other_op), status("processing")).await.expect(403);
        let r = app.put(&format!("/orders/{id}"), Some(&operator), status("processing")).await;
        r.expect(200);
        assert!(r.data()["actual_start_date"].is_string());
        let item = id_of(&r.data()["order_items"][0]);
        let r = app.put(&format!("/orders/{id}/items/{item}"), Some(&operator), json!({"status": "completed"})).await;
        r.expect(200);
        let r = app.put(&format!("/orders/{id}"), Some(&operator), status("completed")).await;
        r.expect(200);
        assert!(r.data()["actual_completion_date"].is_string());
        // Completed is final: no status, field or item change.
        app.put(&format!("/orders/{id}"), app.admin(), status("cancelled")).await.expect(409);
        app.put(&format!("/orders/{id}"), app.admin(), json!({"title": "changed"})).await.expect(409);
        app.post(&format!("/orders/{id}/items"), app.admin(), json!({"product_name": "late"})).await.expect(409);
        app.delete(&format!("/orders/{id}/items/{item}"), app.admin()).await.expect(409);
        // The seller cannot delete it; a manager can.
        app.delete(&format!("/orders/{id}"), Some(&seller)).await.expect(403);
        app.delete(&format!("/orders/{id}"), app.admin()).await.expect(200);
        app.get(&format!("/orders/{id}"), app.admin()).await.expect(404);
        app.get(&format!("/order-items/{item}"), app.admin()).await.expect(404);

        // A seller cancels, and deletes, an order nobody approved yet.
        let o = order(&app, &seller, json!({"title": "Visa", "customer_id": customer})).await;
        let id = id_of(&o);
        app.put(&format!("/orders/{id}"), Some(&seller), status("cancelled")).await.expect(200);
        app.delete(&format!("/orders/{id}"), Some(&seller)).await.expect(200);
    }
);

db_test!(
    async fn sellers_see_their_orders_finance_sees_passports_masked_and_other_tenants_see_nothing(backend) {
        let app = TestApp::spawn(backend).await;
        let (_, seller) = app.user(BANTU, "sales@bantu.test", &["SALES"]).await;
        let (_, other_seller) = app.user(BANTU, "sales2@bantu.test", &["SALES"]).await;
        let (_, finance) = app.user(BANTU, "finance@bantu.test", &["FINANCE"]).await;
        let customer = app.customer(&seller, "PT Maju Jaya").await;
        let o = order(&app, &seller, json!({"title": "KITAS", "customer_id": customer, "passport_id": "E1234567",
            "order_items": [{"product_name": "KITAS", "unit_price": 100}]}))
        .await;
        let id = id_of(&o);
        let item = id_of(&o["order_items"][0]);

        app.get(&format!("/orders/{id}"), Some(&other_seller)).await.expect(404);
        let r = app.get("/orders", Some(&other_seller)).await;
        assert_eq!(r.data()["total"], 0);
        let r = app.get(&format!("/orders/{id}"), Some(&finance)).await;
        r.expect(200);
        assert_ne!(r.data()["passport_id"], "E1234567");
        assert_eq!(r.data()["pii_masked"], true);
        let masked = r.data()["passport_id"].as_str().unwrap().to_owned();
        let r = app.get("/orders", Some(&finance)).await;
        assert_eq!(r.data()["total"], 1);
        assert_eq!(r.data()["orders"][0]["passport_id"], masked.as_str());
        app.put(&format!("/orders/{id}"), Some(&finance), json!({"title": "x"})).await.expect(403);
        let r = app.get(&format!("/orders/{id}"), app.admin()).await;
        assert_eq!(r.data()["passport_id"], "E1234567", "ADMIN holds customer.pii");
        // The masked value sent back (an edit form echoing what it was shown) keeps the number.
        let r = app.put(&format!("/orders/{id}"), app.admin(), json!({"passport_id": masked})).await;
        r.expect(200);
        assert_eq!(r.data()["passport_id"], "E1234567");

        // Another organization's administrator: every id route is a 404.
        let (_, _, stranger) = app.org("PT Lain", "internal").await;
        let s = Some(stranger.as_str());
        let checks: Vec<(&str, String, Option<Value>)> = vec![
            ("get", format!("/orders/{id}"), None),
            ("put", format!("/orders/{id}"), Some(json!({"title": "mine"}))),
            ("delete", format!("/orders/{id}"), None),
            ("post", format!("/orders/{id}/assign"), Some(json!({"assigned_to_user_id": Uuid::now_v7()}))),
            ("get", format!("/orders/{id}/items"), None),
            ("post", format!("/orders/{id}/items"), Some(json!({"product_name": "x"}))),
            ("get", format!("/orders/{id}/items/{item}"), None),
            ("put", format!("/orders/{id}/items/{item}"), Some(json!({"quantity": 2}))),
            ("delete", format!("/orders/{id}/items/{item}"), None),
            ("get", format!("/order-items/{item}"), None),
            ("put", format!("/order-items/{item}"), Some(json!({"quantity": 2}))),
            ("delete", format!("/order-items/{item}"), None),
            ("get", format!("/order-items/order/{id}/items"), None),
            ("post", "/order-items".to_owned(), Some(json!({"order_id": id, "product_name": "x"}))),
        ];
        for (method, path, body) in checks {
            let r: TestResponse = match method {
                "get" => app.get(&path, s).await,
                "put" => app.put(&path, s, body.unwrap()).await,
                "post" => app.post(&path, s, body.unwrap()).await,
                _ => app.delete(&path, s).await,
            };
            assert!(r.status == 404 || (r.status == 403 && path.ends_with("/assign")), "{method} {path}: {} {}", r.status, r.text);
        }
        let r = app.get(&format!("/orders/{id}"), Some(&seller)).await;
        r.expect(200);
        assert_eq!(r.data()["title"], "KITAS", "nothing changed");
        assert_eq!(r.data()["order_items"].as_array().unwrap().len(), 1);
    }
);

db_test!(
    async fn concurrent_creates_get_unique_numbers_and_random_item_edits_keep_totals_exact(backend) {
        let app = TestApp::spawn(backend).await;
        let (_, seller) = app.user(BANTU, "sales@bantu.test", &["SALES"]).await;
        let customer = app.customer(&seller, "PT Maju Jaya").await;
        let creates = (0..50).map(|n| {
            let body = json!({"title": format!("order {n}"), "customer_id": customer,
                "order_items": [{"product_name": "x", "unit_price": n}]});
            let (app, seller) = (&app, &seller);
            async move { app.post("/orders", Some(seller), body).await }
        });
        let answers = futures_util::future::join_all(creates).await;
        let mut numbers = std::collections::HashSet::new();
        for r in &answers {
            assert_eq!(r.status, 200, "{}", r.text);
            numbers.insert(r.data()["order_number"].as_str().unwrap().to_owned());
        }
        assert_eq!(numbers.len(), 50, "every number is unique");

        // A seeded walk of item additions, changes and deletions, some concurrent.
        let id = id_of(answers[0].data());
        let mut seed: u64 = 0x5eed;
        let mut next = |m: u64| {
            seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (seed >> 33) % m
        };
        for _ in 0..12 {
            let r = app.get(&format!("/orders/{id}/items"), Some(&seller)).await;
            let ids: Vec<String> = r.data().as_array().unwrap().iter().map(id_of).collect();
            let mut ops = Vec::new();
            for _ in 0..3 {
                let price = next(10_000) as f64 / 100.0;
                let qty = next(5) + 1;
                let body = json!({"product_name": "p", "unit_price": price, "quantity": qty, "discount_amount": 0});
                let op = match (next(3), ids.is_empty()) {
                    (0, _) | (_, true) => ("post", format!("/orders/{id}/items"), Some(body)),
                    (1, false) => ("put", format!("/order-items/{}", ids[next(ids.len() as u64) as usize]), Some(body)),
                    _ => ("delete", format!("/orders/{id}/items/{}", ids[next(ids.len() as u64) as usize]), None),
                };
                ops.push(op);
            }
            let runs = ops.into_iter().map(|(m, path, body)| {
                let (app, seller) = (&app, &seller);
                async move {
                    match m {
                        "post" => app.post(&path, Some(seller), body.unwrap()).await,
                        "put" => app.put(&path, Some(seller), body.unwrap()).await,
                        _ => app.delete(&path, Some(seller)).await,
                    }
                }
            });
            for r in futures_util::future::join_all(runs).await {
                assert!(matches!(r.status, 200 | 404 | 409), "{} {}", r.status, r.text);
            }
            assert_totals(&app, &seller, &id).await;
        }
    }
);

db_test!(
    async fn an_opportunity_with_products_becomes_one_order_and_is_won(backend) {
        let app = TestApp::spawn(backend).await;
        let (seller_id, seller) = app.user(BANTU, "sales@bantu.test", &["SALES"]).await;
        let (_, other) = app.user(BANTU, "sales2@bantu.test", &["SALES"]).await;
        let customer = app.customer(&seller, "PT Maju Jaya").await;
        let kitas = sm_product(&app, "KITAS", "KITAS", "5000").await;
        let passport = sm_product(&app, "Passport renewal", "PASS", "300").await;
        let bare = app.opportunity(&seller, json!({"name": "Nothing yet", "customer_id": customer})).await;
        let r = app.post(&format!("/opportunities/{}/convert-to-order", id_of(&bare)), Some(&seller), json!({})).await;
        r.expect(400);
        assert!(r.text.contains("products"), "{}", r.text);
        let nobody = app
            .opportunity(&seller, json!({"name": "No customer", "customer_id": null,
                "products": [{"product_id": kitas, "quantity": 1, "unit_price": 5000}]}))
            .await;
        let r = app.post(&format!("/opportunities/{}/convert", id_of(&nobody)), Some(&seller), json!({})).await;
        r.expect(400);
        assert!(r.text.contains("customer_id"), "{}", r.text);

        let opp = app
            .opportunity(&seller, json!({"name": "Visas for two", "customer_id": customer, "stage": "negotiation",
                "products": [{"product_id": passport, "quantity": 2, "unit_price": 300, "execution_order": 2},
                             {"product_id": kitas, "quantity": 2, "unit_price": 4800, "execution_order": 1}],
                "payment_stages": [{"stage_number": 1, "stage_name": "Deposit", "amount": 5000, "due_date": "2026-12-20"},
                                   {"stage_number": 2, "stage_name": "Balance", "amount": 5200, "payment_trigger": "completion"}]}))
            .await;
        let id = id_of(&opp);
        app.post(&format!("/opportunities/{id}/convert-to-order"), Some(&other), json!({})).await.expect(404);
        // Concurrent conversions (the original's path and the client's) make one order.
        let runs = (0..8).map(|n| {
            let (app, seller, id) = (&app, &seller, &id);
            async move {
                if n % 2 == 0 {
                    app.post(&format!("/opportunities/{id}/convert-to-order"), Some(seller), json!({"title": "Visas", "order_number": "X"})).await
                } else {
                    app.post(&format!("/opportunities/{id}/convert"), Some(seller), json!({"order_title": "Visas", "order_items": null})).await
                }
            }
        });
        let answers = futures_util::future::join_all(runs).await;
        let mut orders = std::collections::HashSet::new();
        for r in &answers {
            assert_eq!(r.status, 200, "{}", r.text);
            orders.insert(id_of(r.data()));
        }
        assert_eq!(orders.len(), 1, "one order, whoever asked first");
        let o = answers[0].data();
        assert_eq!(o["title"], "Visas");
        assert_eq!(o["opportunity_id"], id.as_str());
        assert_eq!(o["customer_id"], customer.to_string());
        assert_eq!(o["customer_name"], "PT Maju Jaya");
        assert_eq!(o["sales_user_id"], seller_id.to_string());
        assert_eq!(o["status_code"], "submitted");
        assert_eq!(o["currency_code"], "CNY");
        assert_ne!(o["order_number"], "X", "numbers are generated");
        let items = o["order_items"].as_array().unwrap();
        assert_eq!(items.len(), 2);
        assert_eq!(items[0]["product_name"], "KITAS", "in execution order");
        assert_eq!(items[0]["product_code"], "KITAS");
        assert_eq!(dec(&items[0]["unit_price"]), Decimal::from(4800), "the opportunity's price, not the catalogue's");
        assert_eq!(items[1]["product_name"], "Passport renewal");
        assert_eq!(dec(&o["total_amount"]), Decimal::from(10200));
        let r = app.get(&format!("/opportunities/{id}"), Some(&seller)).await;
        assert_eq!((r.data()["status"].as_str(), r.data()["stage"].as_str()), (Some("won"), Some("closed_won")));
        assert_eq!(r.data()["actual_close_date"], chrono::Utc::now().format("%Y-%m-%d").to_string());
        let r = app.get(&format!("/orders?opportunity_id={id}"), Some(&seller)).await;
        assert_eq!(r.data()["total"], 1);
        // The agreed payment stages came with it.
        let r = app.get(&format!("/orders/{}/payment-stages", id_of(o)), Some(&seller)).await;
        r.expect(200);
        let stages = r.data().as_array().or_else(|| r.data()["items"].as_array()).expect("payment stages").clone();
        assert_eq!(stages.len(), 2, "{}", r.text);
        assert_eq!(stages[0]["stage_name"], "Deposit");
        assert_eq!(dec(&stages[0]["amount"]), Decimal::from(5000));
        assert_eq!(stages[0]["due_date"], "2026-12-20");
        assert_eq!(stages[1]["payment_trigger"], "completion");
        // A lost opportunity does not become an order.
        let lost = app
            .opportunity(&seller, json!({"name": "Lost", "customer_id": customer, "status": "lost",
                "products": [{"product_id": kitas, "quantity": 1}]}))
            .await;
        app.post(&format!("/opportunities/{}/convert", id_of(&lost)), Some(&seller), json!({})).await.expect(409);
    }
);
