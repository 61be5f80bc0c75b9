//! Prices: CRUD with history on every change, periods that never overlap for one key (also
//! under concurrent writes), approval, and who sees and changes generic and vendor prices.

use crate::categories::insert_product;
use crate::helpers::*;
use crm_common::db_test;
use serde_json::{Value, json};
use uuid::Uuid;

fn body(product: Uuid, org: Option<Uuid>, from: &str, to: Option<&str>) -> Value {
    json!({
        "product_id": product, "organization_id": org, "price_type": "channel", "currency": "IDR",
        "amount": 1500000.50, "effective_from": from, "effective_to": to,
    })
}

const D1: &str = "2026-01-01T00:00:00Z";
const D10: &str = "2026-01-10T00:00:00Z";
const D15: &str = "2026-01-15T00:00:00Z";
const D20: &str = "2026-01-20T00:00:00Z";

async fn history(app: &TestApp, product: Uuid, token: Option<&str>) -> Vec<Value> {
    let r = app.get(&format!("/prices/history/{product}"), token).await;
    r.expect(200);
    r.data().as_array().unwrap().clone()
}

db_test!(
    async fn prices_are_created_listed_changed_and_deleted_with_history(backend) {
        let app = TestApp::spawn(backend).await;
        let p = insert_product(&app, "Work visa", None, true).await;
        let r = app.post("/prices", app.admin(), body(p, None, D1, Some(D10))).await;
        r.expect(200);
        let d = r.data();
        assert_eq!(d["amount"].to_string(), "1500000.5");
        assert_eq!(d["source"], "manual");
        assert_eq!(d["is_approved"], false);
        assert!(d["organization_id"].is_null());
        let id = uuid(&d["id"]);
        // Default start: now, open-ended.
        let mut list = body(p, None, D1, None);
        list["price_type"] = json!("list");
        list.as_object_mut().unwrap().remove("effective_from");
        app.post("/prices", app.admin(), list).await.expect(200);

        let r = app.get(&format!("/prices?product_id={p}&price_type=channel"), app.admin()).await;
        r.expect(200);
        assert_eq!(r.data()["total"], 1);
        assert_eq!(r.data()["current"], 1);
        assert_eq!(r.data()["records"][0]["id"], id.to_string());
        let r = app.get(&format!("/prices?product_id={p}&is_approved=false&size=1"), app.admin()).await;
        assert_eq!(r.data()["total"], 2);
        assert_eq!(r.data()["pages"], 2);
        app.get("/prices?currency=JPY", app.admin()).await.expect(400);

        let r = app.put(&format!("/prices/{id}"), app.admin(), json!({"amount": "1600000", "change_reason": "rise"})).await;
        r.expect(200);
        assert_eq!(r.data()["amount"].to_string(), "1600000");
        assert_eq!(r.data()["change_reason"], "rise");
        let r = app.put(&format!("/prices/{id}"), app.admin(), json!({"is_approved": true})).await;
        r.expect(200);
        assert_eq!(r.data()["is_approved"], true);
        assert_eq!(r.data()["approved_by"], app.admin_id.to_string());
        assert!(r.data()["approved_at"].is_string());
        // A new amount withdraws the approval.
        let r = app.put(&format!("/prices/{id}"), app.admin(), json!({"amount": 1700000})).await;
        assert_eq!(r.data()["is_approved"], false);

        app.delete(&format!("/prices/{id}"), app.admin()).await.expect(200);
        app.delete(&format!("/prices/{id}"), app.admin()).await.expect(404);
        let rows: Vec<Value> =
            history(&app, p, app.admin()).await.into_iter().filter(|h| h["price_type"] == "channel").collect();
        let pairs: Vec<(String, String)> =
            rows.iter().map(|h| (h["old_price"].to_string(), h["new_price"].to_string())).collect();
        assert_eq!(
            pairs,
            [
                ("1700000".into(), "null".into()),
                ("1600000".into(), "1700000".into()),
                ("1600000".into(), "1600000".into()),
                ("1500000.5".into(), "1600000".into()),
                ("null".into(), "1500000.5".into()),
            ]
        );

        app.put(&format!("/prices/{}", Uuid::now_v7()), app.admin(), json!({"amount": 1})).await.expect(404);
        app.put(&format!("/prices/{id}"), app.admin(), json!({"amount": "x"})).await.expect(400);
        app.post("/prices", app.admin(), body(Uuid::now_v7(), None, D1, None)).await.expect(404);
        let mut bad = body(p, None, D1, None);
        bad["currency"] = json!("JPY");
        app.post("/prices", app.admin(), bad).await.expect(400);
        let mut bad = body(p, None, D1, None);
        bad["amount"] = json!(-1);
        app.post("/prices", app.admin(), bad).await.expect(400);
        let mut bad = body(p, None, D1, None);
        bad["source"] = json!("rumour");
        app.post("/prices", app.admin(), bad).await.expect(400);
        app.post("/prices", app.admin(), body(p, None, D10, Some(D1))).await.expect(400);
        app.post("/prices", app.admin(), json!({"product_id": p})).await.expect(400);
        app.get("/prices/history/not-an-id", app.admin()).await.expect(400);
    }
);

db_test!(
    async fn periods_of_one_key_never_overlap(backend) {
        let app = TestApp::spawn(backend).await;
        let p = insert_product(&app, "Work visa", None, true).await;
        let first = uuid(&app.post("/prices", app.admin(), body(p, None, D1, Some(D10))).await.data()["id"]);
        // Adjacent: fine.
        let second = app.post("/prices", app.admin(), body(p, None, D10, Some(D20))).await;
        second.expect(200);
        let r = app.post("/prices", app.admin(), body(p, None, "2026-01-05T00:00:00Z", Some(D15))).await;
        r.expect(409);
        assert!(r.text.contains(&first.to_string()), "{}", r.text);
        app.post("/prices", app.admin(), body(p, None, D20, None)).await.expect(200);
        app.post("/prices", app.admin(), body(p, None, "2026-03-01T00:00:00Z", None)).await.expect(409);
        // Another currency or another organization is another key.
        let mut cny = body(p, None, D1, Some(D10));
        cny["currency"] = json!("CNY");
        app.post("/prices", app.admin(), cny).await.expect(200);
        let (vendor, _) = app.org("Vendor One", "vendor").await;
        app.post("/prices", app.admin(), body(p, Some(vendor), D1, Some(D10))).await.expect(200);
        // Stretching a period over its neighbour is refused too; shrinking is fine.
        let r = app.put(&format!("/prices/{first}"), app.admin(), json!({"effective_to": D15})).await;
        r.expect(409);
        app.put(&format!("/prices/{first}"), app.admin(), json!({"effective_to": "2026-01-05T00:00:00Z"})).await.expect(200);
        app.put(&format!("/prices/{first}"), app.admin(), json!({"effective_to": null})).await.expect(409);
    }
);

db_test!(
    async fn concurrent_overlapping_prices_let_exactly_one_through(backend) {
        let app = TestApp::spawn(backend).await;
        let p = insert_product(&app, "Work visa", None, true).await;
        let calls = (0..10).map(|i| {
            let from = format!("2026-02-{:02}T00:00:00Z", i + 1);
            app.post("/prices", app.admin(), body(p, None, &from, Some("2026-03-01T00:00:00Z")))
        });
        let answers = futures_util::future::join_all(calls).await;
        let mut statuses: Vec<u16> = answers.iter().map(|r| r.status).collect();
        statuses.sort_unstable();
        assert_eq!(statuses, [200, 409, 409, 409, 409, 409, 409, 409, 409, 409]);
        // Adjacent periods written at the same time both succeed.
        let a = app.post("/prices", app.admin(), body(p, None, "2026-03-01T00:00:00Z", Some("2026-04-01T00:00:00Z")));
        let b = app.post("/prices", app.admin(), body(p, None, "2026-04-01T00:00:00Z", None));
        let (a, b) = futures_util::future::join(a, b).await;
        a.expect(200);
        b.expect(200);
        let r = app.get(&format!("/prices?product_id={p}"), app.admin()).await;
        assert_eq!(r.data()["total"], 3);
        assert_eq!(history(&app, p, app.admin()).await.len(), 3);
    }
);

db_test!(
    async fn vendors_see_and_change_only_generic_and_their_own_prices(backend) {
        let app = TestApp::spawn(backend).await;
        let p = insert_product(&app, "Work visa", None, true).await;
        let (a, a_token) = app.org("Vendor A", "vendor").await;
        let (b, b_token) = app.org("Vendor B", "vendor").await;
        let (_, sales) = app.user(BANTU, "sales@bantu.test", &["SALES"]).await;
        app.post("/prices", app.admin(), body(p, None, D1, None)).await.expect(200);
        let r = app.post("/prices", Some(&a_token), body(p, Some(a), D1, None)).await;
        r.expect(200);
        let a_price = uuid(&r.data()["id"]);
        // Not the generic prices, not another vendor's.
        app.post("/prices", Some(&a_token), body(p, None, D10, None)).await.expect(403);
        app.post("/prices", Some(&a_token), body(p, Some(b), D1, None)).await.expect(404);
        app.post("/prices", app.admin(), body(p, Some(Uuid::now_v7()), D1, None)).await.expect(404);

        let r = app.get(&format!("/prices?product_id={p}"), Some(&b_token)).await;
        r.expect(200);
        assert_eq!(r.data()["total"], 1);
        assert!(r.data()["records"][0]["organization_id"].is_null());
        let r = app.get(&format!("/prices?organization_id={a}"), Some(&b_token)).await;
        assert_eq!(r.data()["total"], 0);
        app.put(&format!("/prices/{a_price}"), Some(&b_token), json!({"amount": 1})).await.expect(404);
        app.delete(&format!("/prices/{a_price}"), Some(&b_token)).await.expect(404);
        assert!(history(&app, p, Some(&b_token)).await.iter().all(|h| h["organization_id"].is_null()));
        assert_eq!(history(&app, p, Some(&a_token)).await.len(), 2);

        // BANTU sales read everything and change nothing.
        let r = app.get(&format!("/prices?product_id={p}"), Some(&sales)).await;
        assert_eq!(r.data()["total"], 2);
        app.post("/prices", Some(&sales), body(p, None, D10, None)).await.expect(403);
        app.put(&format!("/prices/{a_price}"), Some(&sales), json!({"amount": 1})).await.expect(403);

        // The vendor changes its own price but cannot approve it.
        app.put(&format!("/prices/{a_price}"), Some(&a_token), json!({"amount": 2})).await.expect(200);
        app.put(&format!("/prices/{a_price}"), Some(&a_token), json!({"is_approved": true})).await.expect(403);
        app.put(&format!("/prices/{a_price}"), app.admin(), json!({"is_approved": true})).await.expect(200);
        app.delete(&format!("/prices/{a_price}"), Some(&a_token)).await.expect(200);
        app.get("/prices", None).await.expect(401);
    }
);
