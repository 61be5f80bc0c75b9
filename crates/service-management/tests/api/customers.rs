//! Customers: generated codes, visibility, parents, agents, masking, optimistic locking, follow-ups,
//! notes, cursors, and other organizations' ids.

use crate::helpers::*;
use crm_common::db_test;
use crm_common::testing::TestResponse;
use serde_json::{Value, json};
use std::collections::BTreeSet;
use uuid::Uuid;

pub async fn source_id(app: &TestApp) -> String {
    let r = app.get("/customer-sources", app.admin()).await;
    r.expect(200);
    r.data()[0]["id"].as_str().unwrap().to_owned()
}

pub async fn customer(app: &TestApp, token: &str, body: Value) -> TestResponse {
    let mut body = body;
    if body.get("source_id").is_none() {
        body["source_id"] = json!(source_id(app).await);
    }
    app.post("/customers", Some(token), body).await
}

fn today() -> String {
    chrono::Utc::now().format("%Y%m%d").to_string()
}

db_test!(
    async fn a_seller_creates_customers_with_generated_codes_and_follows_them_up(backend) {
        let app = TestApp::spawn(backend).await;
        let (seller_id, seller) = app.user(BANTU, "sales@bantu.test", &["SALES"]).await;
        let levels = app.get("/customer-levels?lang=id", Some(&seller)).await;
        levels.expect(200);
        assert_eq!(levels.data()[0]["code"], "2");
        assert_eq!(levels.data()[0]["name"], levels.data()[0]["name_id"]);
        let industries = app.get("/industries", Some(&seller)).await;
        let tech = industries.data().as_array().unwrap().iter().find(|i| i["code"] == "tech").unwrap()["id"].clone();
        // The original's path for levels answers the same, here.
        let legacy = app.client.get("/api/order-workflow/customer-levels", Some(&seller)).await;
        legacy.expect(200);
        assert_eq!(legacy.data().as_array().unwrap().len(), 5);

        let r = customer(&app, &seller, json!({"name": "Budi Santoso", "level": "5", "industry_id": tech, "tags": ["vip"], "phone": "+62 812-3456-7890"})).await;
        r.expect(200);
        let c = r.data().clone();
        assert_eq!(c["code"], format!("I{}001", today()));
        assert_eq!(c["owner_user_id"], seller_id.to_string());
        assert_eq!(c["owner_user_name"], "sales");
        assert_eq!(c["customer_type"], "individual");
        assert_eq!(c["customer_source_type"], "own");
        assert!(c["source_name"].is_string());
        assert_eq!(c["level_name_zh"], "中小企业");
        assert_eq!(c["industry_name_id"], "Teknologi");
        assert_eq!(c["tags"], json!(["vip"]));
        assert_eq!(c["phone"], "+62 812-3456-7890", "the owner sees the phone unmasked");
        assert_eq!(c["version"], 1);
        let r = customer(&app, &seller, json!({"name": "Budi's brother"})).await;
        assert_eq!(r.data()["code"], format!("I{}002", today()));
        let r = customer(&app, &seller, json!({"name": "PT Maju", "customer_type": "organization"})).await;
        assert_eq!(r.data()["code"], format!("O{}001", today()));
        // A code given by the client is kept; a duplicate is a conflict.
        customer(&app, &seller, json!({"name": "X", "code": "CUST-1"})).await.expect(200);
        customer(&app, &seller, json!({"name": "Y", "code": "CUST-1"})).await.expect(409);

        let id = c["id"].as_str().unwrap();
        let r = app
            .post(&format!("/customers/{id}/follow-ups"), Some(&seller), json!({"follow_up_type": "call", "content": "Called about KITAS",
                "follow_up_date": "2026-12-01T03:00:00Z", "next_follow_up_at": "2026-12-10T03:00:00Z"}))
            .await;
        r.expect(200);
        assert_eq!(r.data()["created_by_name"], "sales");
        let r = app.get(&format!("/customers/{id}/follow-ups"), Some(&seller)).await;
        assert_eq!(r.data().as_array().unwrap().len(), 1);
        assert_eq!(r.data()[0]["next_follow_up_at"], "2026-12-10T03:00:00Z");
        let r = app.get(&format!("/customers/{id}"), Some(&seller)).await;
        assert_eq!(r.data()["last_follow_up_at"], "2026-12-01T03:00:00Z");
        assert_eq!(r.data()["next_follow_up_at"], "2026-12-10T03:00:00Z");
        app.post(&format!("/customers/{id}/follow-ups"), Some(&seller), json!({"follow_up_type": "fax", "follow_up_date": "2026-12-01T03:00:00Z"}))
            .await
            .expect(400);
        let r = app.post(&format!("/customers/{id}/notes"), Some(&seller), json!({"note_type": "reminder", "content": "Passport expires soon", "is_important": true})).await;
        r.expect(200);
        let r = app.get(&format!("/customers/{id}/notes"), Some(&seller)).await;
        assert_eq!(r.data()[0]["content"], "Passport expires soon");
        assert_eq!(r.data()[0]["created_by_name"], "sales");

        // Deleting takes its follow-ups and notes with it (administrators only).
        app.delete(&format!("/customers/{id}"), Some(&seller)).await.expect(403);
        app.delete(&format!("/customers/{id}"), app.admin()).await.expect(200);
        app.get(&format!("/customers/{id}"), app.admin()).await.expect(404);
    }
);

db_test!(
    async fn sellers_see_their_own_customers_and_administrators_and_finance_the_organizations(backend) {
        let app = TestApp::spawn(backend).await;
        let (a_id, a) = app.user(BANTU, "a@bantu.test", &["SALES"]).await;
        let (_, b) = app.user(BANTU, "b@bantu.test", &["SALES"]).await;
        let (_, finance) = app.user(BANTU, "fin@bantu.test", &["FINANCE"]).await;
        let (_, agent_admin) = app.org("PT Agen", "agent").await;
        let mine = customer(&app, &a, json!({"name": "A's customer", "phone": "+62 812-3456-7890", "email": "budi@example.co.id"})).await;
        mine.expect(200);
        let id = mine.data()["id"].as_str().unwrap().to_owned();
        customer(&app, &b, json!({"name": "B's customer"})).await.expect(200);
        customer(&app, &agent_admin, json!({"name": "Agent's own customer"})).await.expect(200);

        let total = |r: &TestResponse| r.data()["total"].as_u64().unwrap();
        assert_eq!(total(&app.get("/customers?view_type=my", Some(&a)).await), 1);
        assert_eq!(total(&app.get("/customers?view_type=global", Some(&a)).await), 1);
        assert_eq!(total(&app.get("/customers", Some(&b)).await), 1);
        assert_eq!(total(&app.get("/customers?view_type=global", app.admin()).await), 2);
        assert_eq!(total(&app.get("/customers?view_type=my", app.admin()).await), 0);
        assert_eq!(total(&app.get(&format!("/customers?owner_user_id={a_id}"), app.admin()).await), 1);
        app.get(&format!("/customers?owner_user_id={a_id}"), Some(&b)).await.expect(403);
        assert_eq!(total(&app.get("/customers", Some(&agent_admin)).await), 1, "another organization sees only its own");
        assert_eq!(total(&app.get("/customers", Some(&finance)).await), 2);

        // By id: the other seller and the other organization get 404, as if it did not exist.
        app.get(&format!("/customers/{id}"), Some(&a)).await.expect(200);
        for token in [&b, &agent_admin] {
            app.get(&format!("/customers/{id}"), Some(token)).await.expect(404);
            app.put(&format!("/customers/{id}"), Some(token), json!({"name": "mine now"})).await.expect(404);
            app.get(&format!("/customers/{id}/follow-ups"), Some(token)).await.expect(404);
            app.get(&format!("/customers/{id}/notes"), Some(token)).await.expect(404);
            app.post(&format!("/customers/{id}/notes"), Some(token), json!({"note_type": "comment", "content": "x"})).await.expect(404);
        }
        app.delete(&format!("/customers/{id}"), Some(&agent_admin)).await.expect(404);

        // Finance sees the customer with its contact details masked; the owner and ADMIN unmasked.
        let r = app.get(&format!("/customers/{id}"), Some(&finance)).await;
        r.expect(200);
        assert_eq!(r.data()["phone"], "+62 812-****-7890");
        assert_eq!(r.data()["email"], "b***@example.co.id");
        assert_eq!(r.data()["pii_masked"], true);
        let r = app.get(&format!("/customers/{id}"), app.admin()).await;
        assert_eq!(r.data()["phone"], "+62 812-3456-7890");
        assert_eq!(r.data()["pii_masked"], false);
        // An ADMIN echoing a masked value back does not destroy the stored one.
        let r = app.put(&format!("/customers/{id}"), app.admin(), json!({"phone": "+62 812-****-7890", "description": "seen"})).await;
        r.expect(200);
        assert_eq!(r.data()["phone"], "+62 812-3456-7890");
        assert_eq!(r.data()["description"], "seen");
    }
);

db_test!(
    async fn codes_stay_unique_and_sequential_under_concurrent_creates(backend) {
        let app = TestApp::spawn(backend).await;
        let source = source_id(&app).await;
        let creates = (0..50).map(|i| {
            let body = json!({"name": format!("Concurrent {i}"), "source_id": source});
            app.post("/customers", app.admin(), body)
        });
        let results = futures_util::future::join_all(creates).await;
        let mut codes = BTreeSet::new();
        for r in &results {
            r.expect(200);
            codes.insert(r.data()["code"].as_str().unwrap().to_owned());
        }
        let expected: BTreeSet<String> = (1..=50).map(|n| format!("I{}{n:03}", today())).collect();
        assert_eq!(codes, expected);
    }
);

db_test!(
    async fn a_stale_version_is_refused_with_the_current_record_and_nothing_is_written(backend) {
        let app = TestApp::spawn(backend).await;
        let r = customer(&app, &app.admin_token, json!({"name": "Original"})).await;
        let id = r.data()["id"].as_str().unwrap().to_owned();
        let r = app.put(&format!("/customers/{id}"), app.admin(), json!({"name": "First edit", "version": 1})).await;
        r.expect(200);
        assert_eq!(r.data()["version"], 2);
        let r = app.put(&format!("/customers/{id}"), app.admin(), json!({"name": "Stale edit", "version": 1})).await;
        r.expect(409);
        assert_eq!(r.data()["name"], "First edit");
        assert_eq!(r.data()["version"], 2);
        let stale = app
            .client
            .send(app.client.builder(reqwest::Method::PUT, &format!("{PREFIX}/customers/{id}"), app.admin()).header("if-match", "\"1\"").json(&json!({"name": "Stale again"})))
            .await;
        stale.expect(409);
        app.client
            .send(app.client.builder(reqwest::Method::PUT, &format!("{PREFIX}/customers/{id}"), app.admin()).header("if-match", "nope").json(&json!({"name": "x"})))
            .await
            .expect(400);
        let r = app.get(&format!("/customers/{id}"), app.admin()).await;
        assert_eq!(r.data()["name"], "First edit");
        // Without a version, the last write wins, as in the original.
        let r = app.put(&format!("/customers/{id}"), app.admin(), json!({"name": "Unconditional"})).await;
        r.expect(200);
        assert_eq!(r.data()["version"], 3);
    }
);

db_test!(
    async fn parents_agents_and_bad_input_are_checked(backend) {
        let app = TestApp::spawn(backend).await;
        let admin = app.admin_token.clone();
        let field = |r: &TestResponse| r.data()[0]["field"].as_str().unwrap_or_default().to_owned();
        let top = customer(&app, &admin, json!({"name": "Group", "customer_type": "organization"})).await.data()["id"].clone();
        let child = customer(&app, &admin, json!({"name": "Member", "parent_customer_id": top})).await;
        child.expect(200);
        assert_eq!(child.data()["parent_customer_name"], "Group");
        let child_id = child.data()["id"].as_str().unwrap().to_owned();
        let r = app.put(&format!("/customers/{}", top.as_str().unwrap()), Some(&admin), json!({"parent_customer_id": child_id})).await;
        r.expect(400);
        assert!(r.text.contains("cycle"), "{}", r.text);
        app.put(&format!("/customers/{child_id}"), Some(&admin), json!({"parent_customer_id": child_id})).await.expect(400);
        let (_, other_admin) = app.org("PT Lain", "agent").await;
        let foreign = customer(&app, &other_admin, json!({"name": "Theirs"})).await.data()["id"].clone();
        let r = customer(&app, &admin, json!({"name": "X", "parent_customer_id": foreign})).await;
        r.expect(400);
        assert_eq!(field(&r), "parent_customer_id");

        let (agent_org, _) = app.org("PT Agen", "agent").await;
        let (vendor_org, _) = app.org("PT Vendor", "vendor").await;
        let r = customer(&app, &admin, json!({"name": "Channel", "customer_source_type": "agent", "agent_id": agent_org})).await;
        r.expect(200);
        assert_eq!(r.data()["agent_name"], "PT Agen");
        let r = customer(&app, &admin, json!({"name": "Bad channel", "agent_id": vendor_org})).await;
        r.expect(400);
        assert_eq!(field(&r), "agent_id");

        let r = app.post("/customers", Some(&admin), json!({"name": "No source"})).await;
        r.expect(400);
        assert_eq!(field(&r), "source_id");
        customer(&app, &admin, json!({"name": "T", "customer_type": "B"})).await.expect(400);
        customer(&app, &admin, json!({"name": "L", "level": "99"})).await.expect(400);
        customer(&app, &admin, json!({"name": ""})).await.expect(400);
        customer(&app, &admin, json!({"name": 5})).await.expect(400);
        app.get("/customers?size=1001", Some(&admin)).await.expect(400);
        app.get("/customers?after=garbage", Some(&admin)).await.expect(400);
        app.get("/customers?view_type=all", Some(&admin)).await.expect(400);
        app.get(&format!("/customers/{}", Uuid::now_v7()), Some(&admin)).await.expect(404);
        let (_, fin) = app.user(BANTU, "fin@bantu.test", &["FINANCE"]).await;
        customer(&app, &fin, json!({"name": "Not allowed"})).await.expect(403);
    }
);

db_test!(
    async fn a_keyset_cursor_walks_the_whole_list_once(backend) {
        let app = TestApp::spawn(backend).await;
        let admin = app.admin_token.clone();
        for i in 0..25 {
            customer(&app, &admin, json!({"name": format!("C{i}")})).await.expect(200);
        }
        let mut seen = BTreeSet::new();
        let mut after: Option<String> = None;
        let mut pages = 0;
        loop {
            let path = match &after {
                Some(c) => format!("/customers?size=10&after={c}"),
                None => "/customers?size=10".to_owned(),
            };
            let r = app.get(&path, Some(&admin)).await;
            r.expect(200);
            assert_eq!(r.data()["total"], 25);
            for item in r.data()["items"].as_array().unwrap() {
                assert!(seen.insert(item["id"].as_str().unwrap().to_owned()), "seen twice");
            }
            pages += 1;
            match r.data()["next_cursor"].as_str() {
                Some(c) => after = Some(c.to_owned()),
                None => break,
            }
        }
        assert_eq!((seen.len(), pages), (25, 3));
        // Page 2 by number is the same as page 2 by cursor.
        let by_page = app.get("/customers?size=10&page=2", Some(&admin)).await;
        let first = app.get("/customers?size=10", Some(&admin)).await;
        let cursor = first.data()["next_cursor"].as_str().unwrap().to_owned();
        let by_cursor = app.get(&format!("/customers?size=10&after={cursor}"), Some(&admin)).await;
        assert_eq!(by_page.data()["items"], by_cursor.data()["items"]);
    }
);
