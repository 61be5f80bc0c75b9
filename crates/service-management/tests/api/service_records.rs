//! Service records: CRUD with references checked and names copied, the status flow, the priority
//! order, who sees which record, conditional updates, tenants kept apart, malformed bodies.

use crate::categories::insert_product;
use crate::contacts::{contact, customer};
use crate::helpers::*;
use crm_common::db_test;
use serde_json::{Value, json};
use uuid::Uuid;

async fn record(app: &TestApp, token: Option<&str>, body: Value) -> Value {
    let r = app.post("/service-records", token, body).await;
    r.expect(200);
    r.data().clone()
}

db_test!(
    async fn service_records_are_created_read_listed_updated_and_deleted(backend) {
        let app = TestApp::spawn(backend).await;
        let c = customer(&app, app.admin(), "PT Layanan", json!({})).await;
        let referrer = customer(&app, app.admin(), "PT Perujuk", json!({})).await;
        let elsewhere = customer(&app, app.admin(), "PT Lainnya", json!({})).await;
        let person = contact(&app, app.admin(), c, "Santoso", true).await;
        let stranger = contact(&app, app.admin(), elsewhere, "Asing", false).await;
        let product = insert_product(&app, "Business visa", None, true).await;
        let r = app.post("/service-types", app.admin(), json!({"code": "VISA", "name": "Visa"})).await;
        r.expect(200);
        let service_type = uuid(&r.data()["id"]);

        let d = record(
            &app,
            app.admin(),
            json!({"customer_id": c, "service_type_id": service_type, "product_id": product, "service_name": "B211A",
                "contact_id": person["id"], "sales_user_id": app.admin_id, "referral_customer_id": referrer,
                "expected_start_date": "2026-12-10", "deadline": "2027-01-31", "estimated_price": 1500000.5,
                "final_price": "1400000", "price_notes": "early bird", "unit": "person", "requirements": "passport",
                "attachments": [{"name": "passport.pdf"}], "tags": ["visa", " ", "vip"],
                "next_follow_up_at": "2026-12-20T03:00:00Z"}),
        )
        .await;
        let id = uuid(&d["id"]);
        assert_eq!(d["status"], "pending");
        assert_eq!(d["priority"], "normal");
        assert_eq!(d["currency_code"], "CNY");
        assert_eq!(d["quantity"], 1);
        assert_eq!(d["estimated_price"], 1500000.5);
        assert_eq!(d["final_price"], 1400000);
        assert_eq!(d["customer_name"], "PT Layanan");
        assert_eq!(d["service_type_name"], "Visa");
        assert_eq!(d["product_name"], "Business visa");
        assert!(d["product_code"].as_str().is_some_and(|c| c.starts_with("P-")));
        assert_eq!(d["contact_name"], "Santoso");
        assert_eq!(d["referral_customer_name"], "PT Perujuk");
        assert!(d["sales_username"].is_string());
        assert_eq!(d["tags"], json!(["visa", "vip"]));
        assert_eq!(d["attachments"], json!([{"name": "passport.pdf"}]));
        assert_eq!(d["expected_start_date"], "2026-12-10");

        let r = app.get(&format!("/service-records/{id}"), app.admin()).await;
        r.expect(200);
        assert_eq!(r.data()["contact_name"], "Santoso");
        let r = app.get(&format!("/service-records/customers/{c}/service-records"), app.admin()).await;
        r.expect(200);
        assert_eq!(r.data()["total"], 1);
        app.get(&format!("/service-records/customers/{}/service-records", Uuid::now_v7()), app.admin()).await.expect(404);
        let r = app.get(&format!("/service-records?product_id={product}&status=pending"), app.admin()).await;
        assert_eq!(r.data()["total"], 1);
        let r = app.get("/service-records?status=completed", app.admin()).await;
        assert_eq!(r.data()["total"], 0);
        app.get("/service-records?status=bogus", app.admin()).await.expect(400);
        app.get("/service-records?size=1001", app.admin()).await.expect(400);

        // Partial update: absent kept, null clears, names copied again.
        let r = app
            .put(&format!("/service-records/{id}"), app.admin(), json!({"status": "in_progress", "actual_start_date": "2026-12-11",
                "contact_id": null, "final_price": null, "priority": "urgent", "last_follow_up_at": "2026-12-11T01:00:00Z"}))
            .await;
        r.expect(200);
        assert_eq!(r.data()["status"], "in_progress");
        assert_eq!(r.data()["actual_start_date"], "2026-12-11");
        assert_eq!(r.data()["contact_id"], Value::Null);
        assert_eq!(r.data()["contact_name"], Value::Null);
        assert_eq!(r.data()["final_price"], Value::Null);
        assert_eq!(r.data()["estimated_price"], 1500000.5);
        assert_eq!(r.data()["service_name"], "B211A");
        assert_eq!(r.data()["version"], 2);

        // Errors.
        let base = json!({"customer_id": c});
        let with = |extra: Value| {
            let mut b = base.clone();
            b.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
            b
        };
        let r = app.post("/service-records", app.admin(), with(json!({"contact_id": stranger["id"]}))).await;
        r.expect(400);
        assert!(r.text.contains("contact_id"), "{}", r.text);
        app.post("/service-records", app.admin(), with(json!({"contact_id": Uuid::now_v7()}))).await.expect(404);
        app.post("/service-records", app.admin(), with(json!({"referral_customer_id": Uuid::now_v7()}))).await.expect(404);
        app.post("/service-records", app.admin(), with(json!({"product_id": Uuid::now_v7()}))).await.expect(400);
        app.post("/service-records", app.admin(), with(json!({"service_type_id": Uuid::now_v7()}))).await.expect(400);
        app.post("/service-records", app.admin(), with(json!({"quantity": -1}))).await.expect(400);
        app.post("/service-records", app.admin(), with(json!({"estimated_price": -0.01}))).await.expect(400);
        app.post("/service-records", app.admin(), with(json!({"quantity": "abc"}))).await.expect(400);
        app.post("/service-records", app.admin(), with(json!({"status": "done"}))).await.expect(400);
        app.post("/service-records", app.admin(), with(json!({"priority": "asap"}))).await.expect(400);
        app.post("/service-records", app.admin(), with(json!({"currency_code": "EUR"}))).await.expect(400);
        app.post("/service-records", app.admin(), with(json!({"tags": "vip"}))).await.expect(400);
        app.post("/service-records", app.admin(), with(json!({"deadline": "tomorrow"}))).await.expect(400);
        app.post("/service-records", app.admin(), json!({"customer_id": Uuid::now_v7()})).await.expect(404);
        app.post("/service-records", app.admin(), json!({})).await.expect(400);
        let req = app
            .client
            .builder(reqwest::Method::POST, &format!("{PREFIX}/service-records"), app.admin())
            .header("content-type", "application/json")
            .body("{\"customer_id\":");
        app.client.send(req).await.expect(400);
        app.put(&format!("/service-records/{id}"), app.admin(), json!({"quantity": -2})).await.expect(400);

        app.delete(&format!("/service-records/{id}"), app.admin()).await.expect(200);
        app.get(&format!("/service-records/{id}"), app.admin()).await.expect(404);
        app.delete(&format!("/service-records/{id}"), app.admin()).await.expect(404);
    }
);

db_test!(
    async fn the_status_flow_is_enforced(backend) {
        let app = TestApp::spawn(backend).await;
        let c = customer(&app, app.admin(), "PT Alur", json!({})).await;
        let statuses = ["pending", "in_progress", "completed", "cancelled", "on_hold"];
        let allowed: &[(&str, &[&str])] = &[
            ("pending", &["in_progress", "cancelled", "on_hold"]),
            ("in_progress", &["completed", "on_hold", "cancelled"]),
            ("on_hold", &["in_progress", "cancelled"]),
            ("completed", &[]),
            ("cancelled", &[]),
        ];
        for (from, moves) in allowed {
            for to in statuses.iter().filter(|s| *s != from) {
                let id = record(&app, app.admin(), json!({"customer_id": c, "status": from})).await["id"].clone();
                let r = app.put(&format!("/service-records/{}", id.as_str().unwrap()), app.admin(), json!({"status": to})).await;
                if moves.contains(to) {
                    r.expect(200);
                    assert_eq!(r.data()["status"], *to);
                } else {
                    r.expect(409);
                    let message = r.body["message"].as_str().unwrap();
                    if moves.is_empty() {
                        assert!(message.contains("final"), "{from} → {to}: {message}");
                    } else {
                        assert!(message.contains(&moves.join(", ")), "{from} → {to}: {message}");
                    }
                    let r = app.get(&format!("/service-records/{}", id.as_str().unwrap()), app.admin()).await;
                    assert_eq!(r.data()["status"], *from, "nothing written");
                }
            }
        }
    }
);

db_test!(
    async fn lists_sort_by_priority_and_show_only_what_the_caller_sees(backend) {
        let app = TestApp::spawn(backend).await;
        let (_, s1) = app.user(BANTU, "s1@bantu.test", &["SALES"]).await;
        let (s2_id, s2) = app.user(BANTU, "s2@bantu.test", &["SALES"]).await;
        let (_, fin) = app.user(BANTU, "fin@bantu.test", &["FINANCE"]).await;
        let c = customer(&app, Some(&s1), "PT Urut", json!({})).await;
        for (name, priority) in [("low", "low"), ("urgent", "urgent"), ("normal", "normal"), ("high", "high"), ("urgent2", "urgent")] {
            record(&app, Some(&s1), json!({"customer_id": c, "service_name": name, "priority": priority})).await;
        }
        let r = app.get("/service-records", Some(&s1)).await;
        r.expect(200);
        let names: Vec<&str> = r.data()["items"].as_array().unwrap().iter().map(|x| x["service_name"].as_str().unwrap()).collect();
        assert_eq!(names, ["urgent2", "urgent", "high", "normal", "low"]);
        let r = app.get(&format!("/service-records/customers/{c}/service-records?priority=urgent&size=1&page=2"), Some(&s1)).await;
        r.expect(200);
        assert_eq!(r.data()["total"], 2);
        assert_eq!(r.data()["pages"], 2);
        assert_eq!(r.data()["items"][0]["service_name"], "urgent");
        let r = app.get("/service-records", app.admin()).await;
        assert_eq!(r.data()["total"], 5, "administrators see the organization's");
        // A keyset walk, two at a time, gives the same order as the page, each record once.
        let mut walked = Vec::new();
        let mut path = "/service-records?size=2".to_owned();
        loop {
            let r = app.get(&path, Some(&s1)).await;
            r.expect(200);
            walked.extend(r.data()["items"].as_array().unwrap().iter().map(|x| x["service_name"].as_str().unwrap().to_owned()));
            match r.data()["next_cursor"].as_str() {
                Some(c) => path = format!("/service-records?size=2&after={c}"),
                None => break,
            }
        }
        assert_eq!(walked, ["urgent2", "urgent", "high", "normal", "low"]);
        let r = app.get(&format!("/service-records/customers/{c}/service-records?size=1"), Some(&s1)).await;
        let cursor = r.data()["next_cursor"].as_str().unwrap().to_owned();
        let r = app.get(&format!("/service-records/customers/{c}/service-records?size=1&after={cursor}"), Some(&s1)).await;
        assert_eq!(r.data()["items"][0]["service_name"], "urgent");
        app.get("/service-records?after=nonsense", Some(&s1)).await.expect(400);

        // Another seller sees none, unless named salesperson; finance serves every customer.
        let r = app.get("/service-records", Some(&s2)).await;
        r.expect(200);
        assert_eq!(r.data()["total"], 0);
        let r = app.get("/service-records", Some(&fin)).await;
        assert_eq!(r.data()["total"], 5, "non-sellers see the organization's, like its customers");
        let id = uuid(&r_first(&app, &s1).await["id"]);
        app.get(&format!("/service-records/{id}"), Some(&s2)).await.expect(404);
        app.put(&format!("/service-records/{id}"), Some(&s2), json!({"unit": "x"})).await.expect(404);
        app.delete(&format!("/service-records/{id}"), Some(&s2)).await.expect(404);
        app.get(&format!("/service-records/customers/{c}/service-records"), Some(&s2)).await.expect(404);
        app.post("/service-records", Some(&s2), json!({"customer_id": c})).await.expect(404);
        app.post("/service-records", Some(&fin), json!({"customer_id": c})).await.expect(403);
        app.put(&format!("/service-records/{id}"), Some(&s1), json!({"sales_user_id": s2_id})).await.expect(200);
        let r = app.get("/service-records", Some(&s2)).await;
        assert_eq!(r.data()["total"], 1, "the named salesperson sees it");
        app.get(&format!("/service-records/{id}"), Some(&s2)).await.expect(200);
        let r = app.get(&format!("/service-records?sales_user_id={s2_id}"), app.admin()).await;
        assert_eq!(r.data()["total"], 1);
    }
);

async fn r_first(app: &TestApp, token: &str) -> Value {
    let r = app.get("/service-records?size=1", Some(token)).await;
    r.expect(200);
    r.data()["items"][0].clone()
}

db_test!(
    async fn stale_versions_and_other_tenants_are_refused(backend) {
        let app = TestApp::spawn(backend).await;
        let (_, lain) = app.org("PT Lain", "agent").await;
        let c = customer(&app, app.admin(), "PT Versi", json!({})).await;
        let id = uuid(&record(&app, app.admin(), json!({"customer_id": c, "unit": "one"})).await["id"]);
        app.put(&format!("/service-records/{id}"), app.admin(), json!({"unit": "two", "version": 1})).await.expect(200);
        let r = app.put(&format!("/service-records/{id}"), app.admin(), json!({"unit": "three", "status": "cancelled", "version": 1})).await;
        r.expect(409);
        assert_eq!(r.data()["version"], 2);
        assert_eq!(r.data()["unit"], "two");
        let r = app.get(&format!("/service-records/{id}"), app.admin()).await;
        assert_eq!(r.data()["unit"], "two");
        assert_eq!(r.data()["status"], "pending");

        let other = Some(lain.as_str());
        app.get(&format!("/service-records/{id}"), other).await.expect(404);
        app.put(&format!("/service-records/{id}"), other, json!({"unit": "x"})).await.expect(404);
        app.delete(&format!("/service-records/{id}"), other).await.expect(404);
        app.get(&format!("/service-records/customers/{c}/service-records"), other).await.expect(404);
        app.post("/service-records", other, json!({"customer_id": c})).await.expect(404);
        let r = app.get("/service-records", other).await;
        r.expect(200);
        assert_eq!(r.data()["total"], 0);
        app.get(&format!("/service-records/{id}"), app.admin()).await.expect(200);
    }
);
