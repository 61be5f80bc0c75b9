//! Contacts: CRUD through the customer's visibility, one primary per customer (also under
//! concurrent updates), conditional updates, masking of contact details, tenants and sellers
//! kept apart, malformed bodies.

use crate::helpers::*;
use crm_common::db_test;
use crm_service_management::contacts::model as contact;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};
use uuid::Uuid;

/// The first customer source (a customer needs one).
pub async fn source_id(app: &TestApp, token: Option<&str>) -> Uuid {
    let r = app.get("/customer-sources", token).await;
    r.expect(200);
    uuid(&r.data()[0]["id"])
}

/// A customer created by the holder of `token` (its owner unless `extra` names another).
pub async fn customer(app: &TestApp, token: Option<&str>, name: &str, extra: Value) -> Uuid {
    let mut body = json!({"name": name, "source_id": source_id(app, token).await});
    if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
        b.extend(e.clone());
    }
    let r = app.post("/customers", token, body).await;
    r.expect(200);
    uuid(&r.data()["id"])
}

pub async fn contact(app: &TestApp, token: Option<&str>, customer: Uuid, last: &str, primary: bool) -> Value {
    let r =
        app.post("/contacts", token, json!({"customer_id": customer, "last_name": last, "is_primary": primary})).await;
    r.expect(200);
    r.data().clone()
}

async fn primaries(app: &TestApp, customer: Uuid) -> u64 {
    contact::Entity::find()
        .filter(contact::Column::CustomerId.eq(customer))
        .filter(contact::Column::IsPrimary.eq(true))
        .count(&app.state.db)
        .await
        .unwrap()
}

async fn raw(app: &TestApp, method: reqwest::Method, path: &str, body: &'static str) -> u16 {
    let req = app
        .client
        .builder(method, &format!("{PREFIX}{path}"), app.admin())
        .header("content-type", "application/json")
        .body(body);
    let r = app.client.send(req).await;
    r.expect(r.status);
    r.status
}

db_test!(
    async fn contacts_are_created_read_listed_updated_and_deleted(backend) {
        let app = TestApp::spawn(backend).await;
        let c = customer(&app, app.admin(), "PT Maju", json!({})).await;
        let r = app
            .post(
                "/contacts",
                app.admin(),
                json!({"customer_id": c, "first_name": " Budi ", "last_name": "Santoso", "email": "budi@maju.co.id",
                    "phone": "", "mobile": "+62 812-3456-7890", "wechat_id": "budi_2024", "position": "Director",
                    "department": "Board", "contact_role": "decision maker", "is_primary": true, "is_decision_maker": true,
                    "address": "Jl. Sudirman 1", "city": "Jakarta", "province": "DKI", "country": "Indonesia",
                    "postal_code": "10220", "preferred_contact_method": "mobile", "notes": "Prefers WhatsApp"}),
            )
            .await;
        r.expect(200);
        let d = r.data();
        let id = uuid(&d["id"]);
        assert_eq!(d["full_name"], "Budi Santoso");
        assert_eq!(d["first_name"], "Budi");
        assert_eq!(d["customer_name"], "PT Maju");
        assert_eq!(d["phone"], Value::Null, "an empty string is stored as nothing");
        assert_eq!(d["email"], "budi@maju.co.id");
        assert_eq!(d["is_active"], true);
        assert_eq!(d["is_primary"], true);
        assert_eq!(d["pii_masked"], false);
        assert_eq!(d["version"], 1);
        let seq = contact::Entity::find_by_id(id).one(&app.state.db).await.unwrap().unwrap().sync_seq;
        assert!(seq > 0, "a change number is taken");

        let r = app.get(&format!("/contacts/{id}"), app.admin()).await;
        r.expect(200);
        for key in ["id", "customer_id", "customer_name", "first_name", "last_name", "full_name", "email", "phone",
            "mobile", "wechat_id", "position", "department", "contact_role", "is_primary", "is_decision_maker",
            "address", "city", "province", "country", "postal_code", "preferred_contact_method", "is_active", "notes",
            "created_at", "updated_at", "version"] {
            assert!(r.data().get(key).is_some(), "missing {key}");
        }

        contact(&app, app.admin(), c, "Second", false).await;
        let other = contact(&app, app.admin(), c, "Third", false).await;
        let r = app.get(&format!("/contacts/customers/{c}/contacts"), app.admin()).await;
        r.expect(200);
        assert_eq!(r.data()["total"], 3);
        assert_eq!(r.data()["pages"], 1);
        assert_eq!(r.data()["size"], 20);
        let names: Vec<&str> = r.data()["items"].as_array().unwrap().iter().map(|x| x["last_name"].as_str().unwrap()).collect();
        assert_eq!(names, ["Santoso", "Third", "Second"], "primary first, then newest");
        let r = app.get(&format!("/contacts/customers/{c}/contacts?is_primary=false&size=1&page=2"), app.admin()).await;
        r.expect(200);
        assert_eq!(r.data()["total"], 2);
        assert_eq!(r.data()["pages"], 2);
        assert_eq!(r.data()["items"][0]["last_name"], "Second");
        app.get(&format!("/contacts/customers/{c}/contacts?size=1001"), app.admin()).await.expect(400);
        app.get(&format!("/contacts/customers/{c}/contacts?size=1000"), app.admin()).await.expect(200);
        app.get(&format!("/contacts/customers/{}/contacts", Uuid::now_v7()), app.admin()).await.expect(404);

        // Partial update: absent kept, null clears, the customer cannot change.
        let r = app
            .put(&format!("/contacts/{id}"), app.admin(), json!({"position": "CEO", "notes": null, "first_name": null,
                "is_active": false, "customer_id": Uuid::now_v7()}))
            .await;
        r.expect(200);
        assert_eq!(r.data()["position"], "CEO");
        assert_eq!(r.data()["notes"], Value::Null);
        assert_eq!(r.data()["full_name"], "Santoso");
        assert_eq!(r.data()["department"], "Board");
        assert_eq!(r.data()["is_active"], false);
        assert_eq!(r.data()["customer_id"], c.to_string());
        assert_eq!(r.data()["version"], 2);
        let r = app.get(&format!("/contacts/customers/{c}/contacts?is_active=false"), app.admin()).await;
        assert_eq!(r.data()["total"], 1);
        app.put(&format!("/contacts/{id}"), app.admin(), json!({"last_name": "  "})).await.expect(400);
        app.put(&format!("/contacts/{id}"), app.admin(), json!({"email": "not-an-email"})).await.expect(400);
        app.put(&format!("/contacts/{}", Uuid::now_v7()), app.admin(), json!({"position": "x"})).await.expect(404);

        // Errors on create.
        app.post("/contacts", app.admin(), json!({"customer_id": c})).await.expect(400);
        app.post("/contacts", app.admin(), json!({"customer_id": c, "last_name": ""})).await.expect(400);
        app.post("/contacts", app.admin(), json!({"customer_id": c, "last_name": "x".repeat(256)})).await.expect(400);
        app.post("/contacts", app.admin(), json!({"customer_id": c, "last_name": "X", "email": "nope"})).await.expect(400);
        app.post("/contacts", app.admin(), json!({"last_name": "X"})).await.expect(400);
        app.post("/contacts", app.admin(), json!({"customer_id": Uuid::now_v7(), "last_name": "X"})).await.expect(404);
        app.post("/contacts", app.admin(), json!({"customer_id": c, "last_name": "X", "is_primary": "yes"})).await.expect(400);
        app.post("/contacts", app.admin(), json!({"customer_id": "not-a-uuid", "last_name": "X"})).await.expect(400);
        app.post("/contacts", app.admin(), json!({"id": other["id"], "customer_id": c, "last_name": "X"})).await.expect(409);
        assert_eq!(raw(&app, reqwest::Method::POST, "/contacts", "{\"customer_id\": ").await, 400);
        assert_eq!(raw(&app, reqwest::Method::PUT, &format!("/contacts/{id}"), "[1,").await, 400);
        app.put(&format!("/contacts/{id}"), app.admin(), json!({"is_primary": 3})).await.expect(400);

        // Delete leaves a tombstone.
        app.delete(&format!("/contacts/{id}"), app.admin()).await.expect(200);
        app.get(&format!("/contacts/{id}"), app.admin()).await.expect(404);
        app.delete(&format!("/contacts/{id}"), app.admin()).await.expect(404);
        use crm_service_management::sync::model::tombstone;
        let t = tombstone::Entity::find().filter(tombstone::Column::EntityId.eq(id)).one(&app.state.db).await.unwrap();
        assert_eq!(t.map(|t| t.entity), Some("contact".to_owned()));
    }
);

db_test!(
    async fn making_a_contact_primary_clears_the_others(backend) {
        let app = TestApp::spawn(backend).await;
        let c = customer(&app, app.admin(), "PT Satu", json!({})).await;
        let d = customer(&app, app.admin(), "PT Dua", json!({})).await;
        let a = uuid(&contact(&app, app.admin(), c, "A", true).await["id"]);
        let elsewhere = uuid(&contact(&app, app.admin(), d, "D", true).await["id"]);
        let b = uuid(&contact(&app, app.admin(), c, "B", true).await["id"]);
        let r = app.get(&format!("/contacts/{a}"), app.admin()).await;
        assert_eq!(r.data()["is_primary"], false, "the second primary cleared the first");
        assert_eq!(r.data()["version"], 2, "clearing is a change of its own");
        assert_eq!(primaries(&app, c).await, 1);
        let before = contact::Entity::find_by_id(b).one(&app.state.db).await.unwrap().unwrap().sync_seq;

        let r = app.put(&format!("/contacts/{a}"), app.admin(), json!({"is_primary": true})).await;
        r.expect(200);
        assert_eq!(r.data()["is_primary"], true);
        let cleared = contact::Entity::find_by_id(b).one(&app.state.db).await.unwrap().unwrap();
        assert!(!cleared.is_primary);
        assert!(cleared.sync_seq > before, "the cleared contact took a new change number");
        assert_eq!(primaries(&app, c).await, 1);
        let r = app.get(&format!("/contacts/{elsewhere}"), app.admin()).await;
        assert_eq!(r.data()["is_primary"], true, "another customer's primary is untouched");
        let r = app.get(&format!("/contacts/customers/{c}/contacts?is_primary=true"), app.admin()).await;
        assert_eq!(r.data()["total"], 1);
        assert_eq!(r.data()["items"][0]["id"], a.to_string());
        // A keyset walk one at a time: the primary first, then newest, each once.
        for name in ["C", "E"] {
            contact(&app, app.admin(), c, name, false).await;
        }
        let page = app.get(&format!("/contacts/customers/{c}/contacts?size=10"), app.admin()).await;
        let expected: Vec<String> = page.data()["items"].as_array().unwrap().iter().map(|x| x["id"].as_str().unwrap().to_owned()).collect();
        assert_eq!(expected.len(), 4);
        assert_eq!(expected[0], a.to_string());
        let mut walked = Vec::new();
        let mut path = format!("/contacts/customers/{c}/contacts?size=1");
        loop {
            let r = app.get(&path, app.admin()).await;
            r.expect(200);
            walked.extend(r.data()["items"].as_array().unwrap().iter().map(|x| x["id"].as_str().unwrap().to_owned()));
            match r.data()["next_cursor"].as_str() {
                Some(cursor) => path = format!("/contacts/customers/{c}/contacts?size=1&after={cursor}"),
                None => break,
            }
        }
        assert_eq!(walked, expected);
        app.get(&format!("/contacts/customers/{c}/contacts?after=2_x_y"), app.admin()).await.expect(400);

        // Unsetting leaves the customer without a primary, which is allowed.
        app.put(&format!("/contacts/{a}"), app.admin(), json!({"is_primary": false})).await.expect(200);
        assert_eq!(primaries(&app, c).await, 0);
    }
);

db_test!(
    async fn concurrent_updates_leave_exactly_one_primary(backend) {
        let app = TestApp::spawn(backend).await;
        let c = customer(&app, app.admin(), "PT Ramai", json!({})).await;
        let mut ids = Vec::new();
        for i in 0..10 {
            ids.push(uuid(&contact(&app, app.admin(), c, &format!("C{i}"), i == 0).await["id"]));
        }
        let answers = futures_util::future::join_all(
            ids.iter().map(|id| {
                let path = format!("/contacts/{id}");
                let app = &app;
                async move { app.put(&path, app.admin(), json!({"is_primary": true})).await }
            }),
        )
        .await;
        for r in &answers {
            assert!(r.status == 200 || r.status == 409, "unexpected {}: {}", r.status, r.text);
        }
        assert!(answers.iter().any(|r| r.status == 200));
        assert_eq!(primaries(&app, c).await, 1, "exactly one primary");
    }
);

db_test!(
    async fn a_stale_version_is_refused_and_nothing_is_written(backend) {
        let app = TestApp::spawn(backend).await;
        let c = customer(&app, app.admin(), "PT Versi", json!({})).await;
        let id = uuid(&contact(&app, app.admin(), c, "V", false).await["id"]);
        let other = uuid(&contact(&app, app.admin(), c, "W", true).await["id"]);
        app.put(&format!("/contacts/{id}"), app.admin(), json!({"position": "One", "version": 1})).await.expect(200);
        let r = app
            .put(&format!("/contacts/{id}"), app.admin(), json!({"position": "Two", "is_primary": true, "version": 1}))
            .await;
        r.expect(409);
        assert_eq!(r.data()["version"], 2, "the answer carries the current contact");
        assert_eq!(r.data()["position"], "One");
        let req = app
            .client
            .builder(reqwest::Method::PUT, &format!("{PREFIX}/contacts/{id}"), app.admin())
            .header("If-Match", "\"1\"")
            .json(&json!({"position": "Three"}));
        app.client.send(req).await.expect(409);
        let r = app.get(&format!("/contacts/{id}"), app.admin()).await;
        assert_eq!(r.data()["position"], "One");
        assert_eq!(r.data()["is_primary"], false);
        assert_eq!(r.data()["version"], 2);
        let r = app.get(&format!("/contacts/{other}"), app.admin()).await;
        assert_eq!(r.data()["is_primary"], true, "the refused update cleared nobody");
        let req = app
            .client
            .builder(reqwest::Method::PUT, &format!("{PREFIX}/contacts/{id}"), app.admin())
            .header("If-Match", "W/\"2\"")
            .json(&json!({"position": "Three"}));
        app.client.send(req).await.expect(200);
    }
);

db_test!(
    async fn contact_details_are_masked_without_customer_pii(backend) {
        let app = TestApp::spawn(backend).await;
        let (fin, fin_token) = app.user(BANTU, "fin@bantu.test", &["FINANCE"]).await;
        let (agent, agent_token) = app.user(BANTU, "agent@bantu.test", &["SALES"]).await;
        // Owned by someone else, handled by the finance user or the seller: each sees it, masked.
        let details = json!({"last_name": "Rahasia", "email": "budi.santoso@example.co.id",
            "phone": "+62 812-3456-7890", "mobile": "+62 813-1111-2222", "wechat_id": "budi_2024", "position": "Boss"});
        let mut ids = Vec::new();
        for (name, handler) in [("PT Rahasia", fin), ("PT Rahasia Dua", agent)] {
            let c = customer(&app, app.admin(), name, json!({"owner_user_id": Uuid::now_v7(), "agent_user_id": handler})).await;
            let mut body = details.clone();
            body["customer_id"] = json!(c);
            let r = app.post("/contacts", app.admin(), body).await;
            r.expect(200);
            assert_eq!(r.data()["pii_masked"], false, "ADMIN holds customer.pii");
            assert_eq!(r.data()["email"], "budi.santoso@example.co.id");
            ids.push((c, uuid(&r.data()["id"])));
        }
        let (c, id) = ids[0];
        let r = app.get(&format!("/contacts/{id}"), Some(&fin_token)).await;
        r.expect(200);
        assert_eq!(r.data()["pii_masked"], true);
        assert_eq!(r.data()["email"], "b***@example.co.id");
        assert_eq!(r.data()["phone"], "+62 812-****-7890");
        assert_ne!(r.data()["mobile"], "+62 813-1111-2222");
        assert_eq!(r.data()["wechat_id"], "bu**_****");
        assert_eq!(r.data()["position"], "Boss", "other fields are not masked");
        let r = app.get(&format!("/contacts/customers/{c}/contacts"), Some(&fin_token)).await;
        r.expect(200);
        assert_eq!(r.data()["items"][0]["email"], "b***@example.co.id");
        app.put(&format!("/contacts/{id}"), Some(&fin_token), json!({"position": "x"})).await.expect(403);

        // The seller edits the form as shown: the echoed masks leave the real values alone.
        let id = ids[1].1;
        let shown = app.get(&format!("/contacts/{id}"), Some(&agent_token)).await;
        shown.expect(200);
        assert_eq!(shown.data()["pii_masked"], true);
        let mut body = shown.data().clone();
        body["position"] = json!("Chairman");
        let r = app.put(&format!("/contacts/{id}"), Some(&agent_token), body).await;
        r.expect(200);
        let r = app.get(&format!("/contacts/{id}"), app.admin()).await;
        assert_eq!(r.data()["email"], "budi.santoso@example.co.id");
        assert_eq!(r.data()["phone"], "+62 812-3456-7890");
        assert_eq!(r.data()["mobile"], "+62 813-1111-2222");
        assert_eq!(r.data()["wechat_id"], "budi_2024");
        assert_eq!(r.data()["position"], "Chairman");
        // A new value does replace it.
        app.put(&format!("/contacts/{id}"), Some(&agent_token), json!({"email": "new@example.co.id"})).await.expect(200);
        let r = app.get(&format!("/contacts/{id}"), app.admin()).await;
        assert_eq!(r.data()["email"], "new@example.co.id");
    }
);

db_test!(
    async fn other_tenants_and_other_sellers_get_404(backend) {
        let app = TestApp::spawn(backend).await;
        let (_, s1) = app.user(BANTU, "s1@bantu.test", &["SALES"]).await;
        let (_, s2) = app.user(BANTU, "s2@bantu.test", &["SALES"]).await;
        let (_, lain) = app.org("PT Lain", "agent").await;
        let c = customer(&app, Some(&s1), "PT Milik S1", json!({})).await;
        let r = app.post("/contacts", Some(&s1), json!({"customer_id": c, "last_name": "Satu", "email": "satu@x.id"})).await;
        r.expect(200);
        assert_eq!(r.data()["pii_masked"], false, "the customer's owner sees the details");
        let id = uuid(&r.data()["id"]);
        for token in [Some(lain.as_str()), Some(s2.as_str())] {
            app.get(&format!("/contacts/{id}"), token).await.expect(404);
            app.put(&format!("/contacts/{id}"), token, json!({"position": "x"})).await.expect(404);
            app.delete(&format!("/contacts/{id}"), token).await.expect(404);
            app.get(&format!("/contacts/customers/{c}/contacts"), token).await.expect(404);
            app.post("/contacts", token, json!({"customer_id": c, "last_name": "Intruder"})).await.expect(404);
        }
        app.get(&format!("/contacts/{id}"), None).await.expect(401);
        let r = app.get(&format!("/contacts/{id}"), Some(&s1)).await;
        r.expect(200);
        assert_eq!(r.data()["position"], Value::Null, "nothing was written by the others");
        app.get(&format!("/contacts/customers/{c}/contacts"), app.admin()).await.expect(200);
    }
);
