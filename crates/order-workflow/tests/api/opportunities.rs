//! Opportunities: CRUD on both databases with exact amounts and day-only dates, visibility,
//! stage and status kept consistent, assignment, products checked against service-management's
//! dependencies, payment stages, follow-ups and notes, stale versions, other tenants' ids, and
//! answers true to the OpenAPI document.

use crate::helpers::*;
use crm_common::db_test;
use crm_common::testing::TestResponse;
use serde_json::{Value, json};
use uuid::Uuid;

fn names(r: &TestResponse) -> Vec<String> {
    let mut v: Vec<String> =
        r.data()["records"].as_array().unwrap().iter().map(|o| o["name"].as_str().unwrap().to_owned()).collect();
    v.sort();
    v
}

db_test!(
    async fn a_seller_creates_reads_lists_updates_and_deletes_opportunities(backend) {
        let app = TestApp::spawn(backend).await;
        let (seller_id, seller) = app.user(BANTU, "sales@bantu.test", &["SALES"]).await;
        let customer = app.customer(&seller, "PT Maju Jaya").await;
        let o = app
            .opportunity(&seller, json!({"name": "Visas for PT Maju", "customer_id": customer, "amount": 12500000.50,
                "probability": 33.5, "stage": "needs_analysis", "status": "active", "owner_user_id": null,
                "expected_close_date": "2026-12-31", "description": "Ten work visas",
                "payment_stages": [{"stage_number": 2, "stage_name": "Balance", "amount": 7500000, "payment_trigger": "completion"},
                                   {"stage_number": 1, "stage_name": "Deposit", "amount": "5000000.50", "due_date": "2026-12-15"}]}))
            .await;
        assert_eq!(o["owner_user_id"], seller_id.to_string());
        assert_eq!(o["owner_username"], "sales");
        assert_eq!(o["customer_id"], customer.to_string());
        assert_eq!(o["customer_name"], "PT Maju Jaya");
        assert_eq!(o["amount"], json!(12500000.5), "a JSON number with its exact digits");
        assert_eq!(o["probability"], 34);
        assert_eq!(o["stage"], "needs_analysis");
        assert_eq!(o["status"], "active");
        assert_eq!(o["expected_close_date"], "2026-12-31", "a day, as the date input wants it");
        assert_eq!(o["actual_close_date"], Value::Null);
        assert_eq!(o["version"], 1);
        assert_eq!(o["products"], json!([]));
        assert_eq!(o["payment_stages"][0]["stage_name"], "Deposit", "by number");
        assert_eq!(o["payment_stages"][0]["amount"], json!(5000000.5));
        assert_eq!(o["payment_stages"][0]["due_date"], "2026-12-15");
        assert_eq!(o["payment_stages"][0]["payment_trigger"], "manual");
        assert_eq!(o["payment_stages"][1]["status"], "pending");
        assert!(o.get("warnings").is_none(), "no products, no warnings");
        let id = id_of(&o);
        // The admin frontend may create one before the customer is known.
        let bare = app.opportunity(&seller, json!({"name": "Company setup", "customer_id": null, "amount": 3000000})).await;
        assert_eq!(bare["customer_id"], Value::Null);
        assert_eq!(bare["customer_name"], Value::Null);
        assert_eq!(bare["stage"], "initial_contact");

        let r = app.get(&format!("/opportunities/{id}"), Some(&seller)).await;
        r.expect(200);
        assert_eq!(r.data()["payment_stages"].as_array().unwrap().len(), 2);

        let r = app.get("/opportunities", Some(&seller)).await;
        r.expect(200);
        let d = r.data();
        assert_eq!((d["total"].clone(), d["size"].clone(), d["current"].clone(), d["pages"].clone()), (json!(2), json!(20), json!(1), json!(1)));
        assert_eq!(d["records"][0]["name"], "Company setup", "newest first");
        assert!(d["records"][0].get("products").is_none(), "lists leave products out");
        assert_eq!(d["records"][1]["customer_name"], "PT Maju Jaya");
        for (query, expected) in [
            (format!("owner_user_id={seller_id}"), 2),
            (format!("customer_id={customer}"), 1),
            ("stage=needs_analysis".to_owned(), 1),
            ("status=active".to_owned(), 2),
            ("name=maju".to_owned(), 1),
            ("min_amount=3000000".to_owned(), 2),
            ("min_amount=3000000.01".to_owned(), 1),
            ("max_amount=12500000.49".to_owned(), 1),
            ("min_amount=1&max_amount=3000000".to_owned(), 1),
            ("size=1&page=2".to_owned(), 2),
            ("size=100".to_owned(), 2),
        ] {
            let r = app.get(&format!("/opportunities?{query}"), Some(&seller)).await;
            r.expect(200);
            assert_eq!(r.data()["total"], expected, "{query}: {}", r.text);
        }
        let r = app.get("/opportunities?size=1&page=2", Some(&seller)).await;
        assert_eq!(r.data()["records"][0]["name"], "Visas for PT Maju");
        assert_eq!(r.data()["pages"], 2);
        for bad in ["size=101", "stage=lead", "status=open", "min_amount=lots", "page=0"] {
            app.get(&format!("/opportunities?{bad}"), Some(&seller)).await.expect(400);
        }

        // The edit dialog's full body, cleared fields null.
        let r = app
            .put(&format!("/opportunities/{id}"), Some(&seller), json!({"name": "Visas for PT Maju Jaya", "customer_id": customer,
                "amount": 13000000, "probability": 50, "stage": "proposal", "status": "active", "owner_user_id": seller_id,
                "expected_close_date": null, "description": null, "version": 1}))
            .await;
        r.expect(200);
        assert_eq!(r.data()["name"], "Visas for PT Maju Jaya");
        assert_eq!(r.data()["amount"], json!(13000000));
        assert_eq!(r.data()["stage"], "proposal");
        assert_eq!(r.data()["expected_close_date"], Value::Null);
        assert_eq!(r.data()["description"], Value::Null);
        assert_eq!(r.data()["version"], 2);
        assert_eq!(r.data()["payment_stages"].as_array().unwrap().len(), 2, "kept when not sent");
        // The batch action sends one field only.
        let r = app.put(&format!("/opportunities/{id}"), Some(&seller), json!({"expected_close_date": "2027-01-15"})).await;
        r.expect(200);
        assert_eq!(r.data()["expected_close_date"], "2027-01-15");
        assert_eq!(r.data()["name"], "Visas for PT Maju Jaya");
        // Payment stages sent replace the stored ones.
        let r = app.put(&format!("/opportunities/{id}"), Some(&seller), json!({"payment_stages": [{"stage_number": 1, "stage_name": "Everything"}]})).await;
        r.expect(200);
        assert_eq!(r.data()["payment_stages"][0]["stage_name"], "Everything");
        assert_eq!(r.data()["payment_stages"][0]["amount"], json!(0));
        assert_eq!(r.data()["payment_stages"].as_array().unwrap().len(), 1);

        // A stale version is refused with the opportunity as it now is; so is a stale If-Match.
        let r = app.put(&format!("/opportunities/{id}"), Some(&seller), json!({"name": "Stale", "version": 1})).await;
        r.expect(409);
        assert_eq!(r.data()["version"], 4);
        assert_eq!(r.data()["name"], "Visas for PT Maju Jaya");
        let stale = app.client.builder(reqwest::Method::PUT, &format!("{PREFIX}/opportunities/{id}"), Some(&seller));
        app.client.send(stale.header("if-match", "\"3\"").json(&json!({"name": "Stale"}))).await.expect(409);
        let fresh = app.client.builder(reqwest::Method::PUT, &format!("{PREFIX}/opportunities/{id}"), Some(&seller));
        app.client.send(fresh.header("if-match", "\"4\"").json(&json!({"name": "Fresh"}))).await.expect(200);

        for body in [
            json!({"name": ""}),
            json!({"amount": -1}),
            json!({"amount": 1.005}),
            json!({"probability": 101}),
            json!({"stage": "won"}),
            json!({"expected_close_date": "31/12/2026"}),
            json!({"payment_stages": [{"stage_number": 0, "stage_name": "x"}]}),
            json!({"payment_stages": [{"stage_number": 1, "stage_name": "a"}, {"stage_number": 1, "stage_name": "b"}]}),
            json!({"payment_stages": [{"stage_number": 1, "stage_name": "a", "payment_trigger": "whim"}]}),
        ] {
            let r = app.put(&format!("/opportunities/{id}"), Some(&seller), body.clone()).await;
            assert_eq!(r.status, 400, "{body}: {}", r.text);
        }
        for body in [json!({}), json!({"name": "x", "customer_id": "nope"}), json!({"name": "x", "probability": "high"})] {
            let r = app.post("/opportunities", Some(&seller), body.clone()).await;
            assert_eq!(r.status, 400, "{body}: {}", r.text);
        }
        // An unknown or invisible customer is service-management's 404.
        let r = app.post("/opportunities", Some(&seller), json!({"name": "x", "customer_id": Uuid::now_v7()})).await;
        r.expect(404);
        let admins_customer = app.customer(&app.admin_token, "Admin's own").await;
        app.post("/opportunities", Some(&seller), json!({"name": "x", "customer_id": admins_customer})).await.expect(404);
        app.post("/opportunities", None, json!({"name": "x"})).await.expect(401);
        let (_, ops) = app.user(BANTU, "ops@bantu.test", &["OPERATION"]).await;
        app.post("/opportunities", Some(&ops), json!({"name": "x"})).await.expect(403);
        app.get("/opportunities", Some(&ops)).await.expect(403);

        app.delete(&format!("/opportunities/{id}"), Some(&seller)).await.expect(200);
        app.get(&format!("/opportunities/{id}"), Some(&seller)).await.expect(404);
        assert_eq!(app.get("/opportunities", Some(&seller)).await.data()["total"], 1);
    }
);

db_test!(
    async fn visibility_admin_owner_and_other_seller(backend) {
        let app = TestApp::spawn(backend).await;
        let (owner_id, owner) = app.user(BANTU, "owner@bantu.test", &["SALES"]).await;
        let (other_id, other) = app.user(BANTU, "other@bantu.test", &["SALES"]).await;
        let mine = id_of(&app.opportunity(&owner, json!({"name": "Owned"})).await);
        let admins = id_of(&app.opportunity(&app.admin_token, json!({"name": "Admin's"})).await);
        let given = id_of(&app.opportunity(&app.admin_token, json!({"name": "Given to other", "owner_user_id": other_id})).await);

        assert_eq!(names(&app.get("/opportunities", app.admin()).await), ["Admin's", "Given to other", "Owned"]);
        assert_eq!(names(&app.get("/opportunities", Some(&owner)).await), ["Owned"]);
        assert_eq!(names(&app.get("/opportunities", Some(&other)).await), ["Given to other"]);
        // Naming another owner does not widen a seller's view.
        assert_eq!(names(&app.get(&format!("/opportunities?owner_user_id={owner_id}"), Some(&other)).await), Vec::<String>::new());
        assert_eq!(names(&app.get(&format!("/opportunities?owner_user_id={owner_id}"), app.admin()).await), ["Owned"]);

        for (token, id, status) in [
            (app.admin_token.as_str(), &mine, 200),
            (app.admin_token.as_str(), &given, 200),
            (owner.as_str(), &mine, 200),
            (owner.as_str(), &admins, 404),
            (owner.as_str(), &given, 404),
            (other.as_str(), &mine, 404),
            (other.as_str(), &given, 200),
        ] {
            let r = app.get(&format!("/opportunities/{id}"), Some(token)).await;
            assert_eq!(r.status, status, "GET {id}: {}", r.text);
            let r = app.get(&format!("/opportunities/{id}/notes"), Some(token)).await;
            assert_eq!(r.status, status, "notes of {id}: {}", r.text);
        }
        app.put(&format!("/opportunities/{mine}"), Some(&other), json!({"name": "Mine now"})).await.expect(404);
        app.delete(&format!("/opportunities/{mine}"), Some(&other)).await.expect(404);
        app.put(&format!("/opportunities/{mine}"), app.admin(), json!({"name": "Edited by admin"})).await.expect(200);
        // Only administrators give an opportunity to someone else.
        app.post("/opportunities", Some(&owner), json!({"name": "For other", "owner_user_id": other_id})).await.expect(403);
        app.put(&format!("/opportunities/{mine}"), Some(&owner), json!({"owner_user_id": other_id})).await.expect(403);
        app.delete(&format!("/opportunities/{admins}"), app.admin()).await.expect(200);
    }
);

db_test!(
    async fn assignment_follows_the_administrator_rule(backend) {
        let app = TestApp::spawn(backend).await;
        let (owner_id, owner) = app.user(BANTU, "owner@bantu.test", &["SALES"]).await;
        let (other_id, other) = app.user(BANTU, "other@bantu.test", &["SALES"]).await;
        let id = id_of(&app.opportunity(&owner, json!({"name": "Deal"})).await);
        app.post(&format!("/opportunities/{id}/assign"), Some(&owner), json!({"owner_user_id": other_id})).await.expect(403);
        let r = app.post(&format!("/opportunities/{id}/assign"), Some(&owner), json!({"owner_user_id": owner_id})).await;
        r.expect(200);
        assert_eq!(r.data()["version"], 2, "a harmless retry");
        let r = app.post(&format!("/opportunities/{id}/assign"), app.admin(), json!({"owner_user_id": other_id})).await;
        r.expect(200);
        assert_eq!(r.data()["owner_username"], "other");
        app.get(&format!("/opportunities/{id}"), Some(&owner)).await.expect(404);
        app.get(&format!("/opportunities/{id}"), Some(&other)).await.expect(200);
        // The frontend sends "" when nothing was picked.
        app.post(&format!("/opportunities/{id}/assign"), app.admin(), json!({"owner_user_id": ""})).await.expect(400);
        // Another organization's administrator may not hand theirs to a BANTU seller.
        let (_, _, org_admin) = app.org("PT Lain", "internal").await;
        let theirs = id_of(&app.opportunity(&org_admin, json!({"name": "Theirs"})).await);
        let r = app.post(&format!("/opportunities/{theirs}/assign"), Some(&org_admin), json!({"owner_user_id": owner_id})).await;
        r.expect(400);
        assert!(r.text.contains("owner_user_id"), "{}", r.text);
    }
);

db_test!(
    async fn stage_and_status_move_together(backend) {
        let app = TestApp::spawn(backend).await;
        let admin = app.admin();
        let id = id_of(&app.opportunity(&app.admin_token, json!({"name": "Deal"})).await);
        let at = |r: &TestResponse| {
            (r.data()["stage"].as_str().unwrap().to_owned(), r.data()["status"].as_str().unwrap().to_owned())
        };
        let today = chrono::Utc::now().date_naive().to_string();
        let pair = |s: &str, t: &str| (s.to_owned(), t.to_owned());

        let r = app.put(&format!("/opportunities/{id}/stage"), admin, json!({"stage": "proposal"})).await;
        r.expect(200);
        assert_eq!(at(&r), pair("proposal", "active"));
        let r = app.post(&format!("/opportunities/{id}/update-stage"), admin, json!({"stage": "closed_won", "position": null})).await;
        r.expect(200);
        assert_eq!(at(&r), pair("closed_won", "won"));
        assert_eq!(r.data()["actual_close_date"], today.as_str(), "closing dates it");
        let r = app.post(&format!("/opportunities/{id}/update-stage"), admin, json!({"stage": "negotiation"})).await;
        assert_eq!(at(&r), pair("negotiation", "active"), "back on the board: active again");
        assert_eq!(r.data()["actual_close_date"], Value::Null);
        let r = app.patch(&format!("/opportunities/{id}/status"), admin, json!({"status": "lost"})).await;
        r.expect(200);
        assert_eq!(at(&r), pair("closed_lost", "lost"));
        assert_eq!(r.data()["actual_close_date"], today.as_str());
        let r = app.patch(&format!("/opportunities/{id}/status"), admin, json!({"status": "cancelled"})).await;
        r.expect(409);
        assert!(r.body["message"].as_str().unwrap().contains("open stage"), "{}", r.text);
        let r = app.patch(&format!("/opportunities/{id}/status"), admin, json!({"status": "active"})).await;
        assert_eq!(at(&r), pair("negotiation", "active"), "reopened where deals stand before closing");
        let r = app.patch(&format!("/opportunities/{id}/status"), admin, json!({"status": "cancelled"})).await;
        assert_eq!(at(&r), pair("negotiation", "cancelled"));
        let r = app.put(&format!("/opportunities/{id}"), admin, json!({"stage": "closed_won", "status": "lost"})).await;
        r.expect(400);
        assert!(r.text.contains("closed_won goes with won"), "{}", r.text);
        let r = app.put(&format!("/opportunities/{id}"), admin, json!({"stage": "closed_won", "status": "won", "actual_close_date": "2026-11-30"})).await;
        assert_eq!(at(&r), pair("closed_won", "won"));
        assert_eq!(r.data()["actual_close_date"], "2026-11-30");
        app.put(&format!("/opportunities/{id}/stage"), admin, json!({"stage": "won"})).await.expect(400);
        app.patch(&format!("/opportunities/{id}/status"), admin, json!({"status": "closed_won"})).await.expect(400);
        let r = app.post("/opportunities", admin, json!({"name": "Born won", "status": "won"})).await;
        assert_eq!(at(&r), pair("closed_won", "won"));
        assert_eq!(r.data()["actual_close_date"], today.as_str());
        app.post("/opportunities", admin, json!({"name": "Muddled", "stage": "proposal", "status": "lost"})).await.expect(400);
        let r = app.get("/opportunities?status=won", admin).await;
        assert_eq!(r.data()["total"], 2);
    }
);

db_test!(
    async fn products_are_checked_against_service_managements_dependencies(backend) {
        let app = TestApp::spawn(backend).await;
        let (_, seller) = app.user(BANTU, "sales@bantu.test", &["SALES"]).await;
        let visa = app.product("Work visa").await;
        let company = app.product("Company registration").await;
        let tax = app.product("Tax number").await;
        app.depends(visa, company, "required").await;
        app.depends(visa, tax, "recommended").await;

        // A required dependency left out: refused, naming both products.
        let r = app.post("/opportunities", Some(&seller), json!({"name": "Visa only", "products": [{"product_id": visa}]})).await;
        r.expect(400);
        assert!(r.text.contains("Work visa requires Company registration"), "{}", r.text);
        assert_eq!(app.get("/opportunities", Some(&seller)).await.data()["total"], 0, "nothing written");

        // Both: accepted, ordered by dependency, priced, named as the catalogue names them.
        let o = app
            .opportunity(&seller, json!({"name": "Visa and company", "products": [
                {"product_id": visa, "quantity": 3, "unit_price": 1250500.50},
                {"product_id": company}]}))
            .await;
        assert_eq!(o["warnings"], json!(["Work visa recommends Tax number"]));
        let products = o["products"].as_array().unwrap();
        assert_eq!(products[0]["product_id"], company.to_string(), "what is required comes first");
        assert_eq!(products[0]["execution_order"], 1);
        assert_eq!(products[0]["unit_price"], json!(0));
        assert_eq!(products[0]["quantity"], 1);
        assert_eq!(products[0]["product_name"], "Company registration");
        assert_eq!(products[0]["product_code"], "P-Company-registration");
        assert_eq!(products[0]["status"], "pending");
        assert_eq!(products[1]["product_name"], "Work visa");
        assert_eq!(products[1]["execution_order"], 2);
        assert_eq!(products[1]["total_amount"], json!(3751501.5), "unit price × quantity, exact");
        let id = id_of(&o);

        // Names are copied: renaming the product in the catalogue leaves the opportunity's.
        let sm = app.sm().client();
        sm.put(&format!("/api/service-management/products/{visa}"), app.admin(), &json!({"name": "Work visa (new)"})).await.expect(200);
        let r = app.get(&format!("/opportunities/{id}"), Some(&seller)).await;
        assert_eq!(r.data()["products"][1]["product_name"], "Work visa");
        assert!(r.data().get("warnings").is_none());

        // Explicit orders are kept; without auto-calculation missing ones are 1.
        let r = app
            .put(&format!("/opportunities/{id}"), Some(&seller), json!({"auto_calculate_order": false, "products": [
                {"product_id": company, "execution_order": 5}, {"product_id": visa}, {"product_id": tax, "notes": " soon "}]}))
            .await;
        r.expect(200);
        assert_eq!(r.data()["warnings"], json!([]));
        let orders: Vec<(String, i64)> = r.data()["products"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| (p["product_name"].as_str().unwrap().to_owned(), p["execution_order"].as_i64().unwrap()))
            .collect();
        assert_eq!(orders[2], ("Company registration".to_owned(), 5));
        assert_eq!(orders.len(), 3);
        assert!(r.data()["products"].as_array().unwrap().iter().any(|p| p["notes"] == "soon"));
        let r = app.put(&format!("/opportunities/{id}"), Some(&seller), json!({"products": [{"product_id": visa}]})).await;
        r.expect(400);
        assert_eq!(app.get(&format!("/opportunities/{id}"), Some(&seller)).await.data()["products"].as_array().unwrap().len(), 3);

        for body in [
            json!({"name": "x", "products": [{"product_id": company}, {"product_id": company}]}),
            json!({"name": "x", "products": [{"product_id": company, "quantity": 0}]}),
            json!({"name": "x", "products": [{"product_id": company, "execution_order": 0}]}),
            json!({"name": "x", "products": [{"product_id": company, "unit_price": -5}]}),
            json!({"name": "x", "products": [{"product_id": company, "status": "done"}]}),
            json!({"name": "x", "products": [{"product_id": company, "quantity": 2_000_000_000, "unit_price": 9_999_999_999_999.99}]}),
        ] {
            let r = app.post("/opportunities", Some(&seller), body.clone()).await;
            assert_eq!(r.status, 400, "{body}: {}", r.text);
        }
        let r = app.post("/opportunities", Some(&seller), json!({"name": "x", "products": [{"product_id": Uuid::now_v7()}]})).await;
        r.expect(404);
        assert!(r.text.contains("product"), "{}", r.text);

        // The helpers the product picker calls.
        let r = app.post(&format!("/opportunities/{id}/products/validate-dependencies"), Some(&seller), json!([visa])).await;
        r.expect(200);
        assert_eq!(r.data()["is_valid"], false);
        // The product's name as last looked up (names are cached briefly).
        let message = r.data()["missing_dependencies"][0]["message"].as_str().unwrap().to_owned();
        assert!(message.starts_with("Work visa") && message.ends_with(" requires Company registration"), "{message}");
        assert_eq!(r.data()["missing_dependencies"][0]["depends_on_product_id"], company.to_string());
        assert_eq!(r.data()["warnings"][0]["depends_on_product_name"], "Tax number");
        let r = app.post(&format!("/opportunities/{id}/products/validate-dependencies"), Some(&seller), json!([visa, company, tax])).await;
        assert_eq!(r.data()["is_valid"], true);
        assert_eq!(r.data()["suggested_order"], json!([company, tax, visa]));
        app.post(&format!("/opportunities/{id}/products/validate-dependencies"), Some(&seller), json!({"ids": []})).await.expect(400);
        let r = app.post("/opportunities/products/calculate-order", Some(&seller), json!([visa, company])).await;
        r.expect(200);
        assert_eq!(r.data(), &json!([
            {"product_id": company, "execution_order": 1, "dependencies": []},
            {"product_id": visa, "execution_order": 2, "dependencies": [company]},
        ]));
        let r = app.post("/opportunities/products/calculate-order", Some(&seller), json!([])).await;
        assert_eq!(r.data(), &json!([]));
    }
);

db_test!(
    async fn follow_ups_and_notes_make_the_timeline(backend) {
        let app = TestApp::spawn(backend).await;
        let (_, seller) = app.user(BANTU, "sales@bantu.test", &["SALES"]).await;
        let id = id_of(&app.opportunity(&seller, json!({"name": "Deal"})).await);
        let r = app
            .post(&format!("/opportunities/{id}/follow-ups"), Some(&seller), json!({"follow_up_type": "meeting", "content": "", "follow_up_date": "2026-12-01"}))
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(r.body["code"], 200, "the frontend reads any other code as a failure");
        assert_eq!(r.data()["follow_up_date"], "2026-12-01");
        assert_eq!(r.data()["content"], Value::Null);
        assert_eq!(r.data()["created_by_name"], "sales");
        app.post(&format!("/opportunities/{id}/follow-ups"), Some(&seller), json!({"follow_up_type": "call", "content": "Called", "follow_up_date": "2026-12-03T02:00:00Z"}))
            .await
            .expect(200);
        app.post(&format!("/opportunities/{id}/follow-ups"), Some(&seller), json!({"follow_up_type": "fax", "follow_up_date": "2026-12-03"})).await.expect(400);
        app.post(&format!("/opportunities/{id}/follow-ups"), Some(&seller), json!({"follow_up_type": "call", "follow_up_date": ""})).await.expect(400);
        let r = app.get(&format!("/opportunities/{id}/follow-ups"), Some(&seller)).await;
        r.expect(200);
        let rows = r.data().as_array().unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0]["content"], "Called", "newest first");
        assert_eq!(rows[0]["follow_up_date"], "2026-12-03");
        assert_eq!(rows[1]["created_by_name"], "sales");

        let r = app.post(&format!("/opportunities/{id}/notes"), Some(&seller), json!({"note_type": "task", "content": "Send the quote", "is_important": true})).await;
        r.expect(200);
        app.post(&format!("/opportunities/{id}/notes"), Some(&seller), json!({"note_type": "comment", "content": "Second", "is_important": false})).await.expect(200);
        app.post(&format!("/opportunities/{id}/notes"), Some(&seller), json!({"note_type": "memo", "content": "x"})).await.expect(400);
        app.post(&format!("/opportunities/{id}/notes"), Some(&seller), json!({"note_type": "comment", "content": " "})).await.expect(400);
        let r = app.get(&format!("/opportunities/{id}/notes"), Some(&seller)).await;
        let rows = r.data().as_array().unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0]["content"], "Second");
        assert_eq!(rows[1]["is_important"], true);
        assert_eq!(rows[1]["created_by_name"], "sales");
        // Deleting the opportunity takes its timeline along.
        app.delete(&format!("/opportunities/{id}"), Some(&seller)).await.expect(200);
        app.get(&format!("/opportunities/{id}/notes"), Some(&seller)).await.expect(404);
    }
);

db_test!(
    async fn another_organizations_opportunities_are_not_found_on_any_id_route(backend) {
        let app = TestApp::spawn(backend).await;
        let id = id_of(&app.opportunity(&app.admin_token, json!({"name": "BANTU's deal"})).await);
        let (_, other_admin_id, other) = app.org("PT Vendor", "vendor").await;
        let other = Some(other.as_str());
        app.get(&format!("/opportunities/{id}"), other).await.expect(404);
        app.put(&format!("/opportunities/{id}"), other, json!({"name": "x"})).await.expect(404);
        app.delete(&format!("/opportunities/{id}"), other).await.expect(404);
        app.put(&format!("/opportunities/{id}/stage"), other, json!({"stage": "proposal"})).await.expect(404);
        app.post(&format!("/opportunities/{id}/update-stage"), other, json!({"stage": "proposal"})).await.expect(404);
        app.patch(&format!("/opportunities/{id}/status"), other, json!({"status": "won"})).await.expect(404);
        app.post(&format!("/opportunities/{id}/assign"), other, json!({"owner_user_id": other_admin_id})).await.expect(404);
        app.post(&format!("/opportunities/{id}/products/validate-dependencies"), other, json!([])).await.expect(404);
        app.get(&format!("/opportunities/{id}/follow-ups"), other).await.expect(404);
        app.post(&format!("/opportunities/{id}/follow-ups"), other, json!({"follow_up_type": "call", "follow_up_date": "2026-12-01"})).await.expect(404);
        app.get(&format!("/opportunities/{id}/notes"), other).await.expect(404);
        app.post(&format!("/opportunities/{id}/notes"), other, json!({"note_type": "comment", "content": "x"})).await.expect(404);
        assert_eq!(app.get("/opportunities", other).await.data()["total"], 0);
        let r = app.get(&format!("/opportunities/{id}"), app.admin()).await;
        r.expect(200);
        assert_eq!(r.data()["version"], 1, "nothing was changed");
    }
);

db_test!(
    async fn answers_match_the_documented_schemas(backend) {
        use crm_common::testing::openapi::assert_documented;
        let app = TestApp::spawn(backend).await;
        let doc = crm_order_workflow::openapi::document().unwrap();
        let admin = app.admin();
        let p = |path: &str| format!("{PREFIX}{path}");
        let company = app.product("Company registration").await;
        let visa = app.product("Work visa").await;
        app.depends(visa, company, "required").await;
        let created = app.post("/opportunities", admin, json!({"name": "Deal", "amount": 10.5, "products": [{"product_id": company}],
            "payment_stages": [{"stage_number": 1, "stage_name": "All"}]})).await;
        assert_documented(&doc, "post", &p("/opportunities"), &created);
        let id = id_of(created.data());
        let refused = app.post("/opportunities", admin, json!({"name": "Deal", "products": [{"product_id": visa}]})).await;
        assert_documented(&doc, "post", &p("/opportunities"), &refused);
        let invalid = app.post("/opportunities", admin, json!({"name": ""})).await;
        assert_documented(&doc, "post", &p("/opportunities"), &invalid);
        let updated = app.put(&format!("/opportunities/{id}"), admin, json!({"products": [{"product_id": company}]})).await;
        assert_documented(&doc, "put", &p("/opportunities/{id}"), &updated);
        let stale = app.put(&format!("/opportunities/{id}"), admin, json!({"name": "x", "version": 99})).await;
        assert_documented(&doc, "put", &p("/opportunities/{id}"), &stale);
        for (method, template, r) in [
            ("put", "/opportunities/{id}/stage", app.put(&format!("/opportunities/{id}/stage"), admin, json!({"stage": "proposal"})).await),
            ("post", "/opportunities/{id}/update-stage", app.post(&format!("/opportunities/{id}/update-stage"), admin, json!({"stage": "closed_won"})).await),
            ("patch", "/opportunities/{id}/status", app.patch(&format!("/opportunities/{id}/status"), admin, json!({"status": "cancelled"})).await),
            ("post", "/opportunities/{id}/assign", app.post(&format!("/opportunities/{id}/assign"), admin, json!({"owner_user_id": app.admin_id})).await),
            ("post", "/opportunities/{id}/products/validate-dependencies", app.post(&format!("/opportunities/{id}/products/validate-dependencies"), admin, json!([visa])).await),
            ("post", "/opportunities/products/calculate-order", app.post("/opportunities/products/calculate-order", admin, json!([visa, company])).await),
            ("post", "/opportunities/{id}/follow-ups", app.post(&format!("/opportunities/{id}/follow-ups"), admin, json!({"follow_up_type": "call", "follow_up_date": "2026-12-01"})).await),
            ("post", "/opportunities/{id}/notes", app.post(&format!("/opportunities/{id}/notes"), admin, json!({"note_type": "comment", "content": "x"})).await),
        ] {
            assert!(r.status < 500, "{method} {template}: {}", r.text);
            assert_documented(&doc, method, &p(template), &r);
        }
        for (template, path) in [
            ("/opportunities", "/opportunities".to_owned()),
            ("/opportunities/{id}", format!("/opportunities/{id}")),
            ("/opportunities/{id}/follow-ups", format!("/opportunities/{id}/follow-ups")),
            ("/opportunities/{id}/notes", format!("/opportunities/{id}/notes")),
        ] {
            let r = app.get(&path, admin).await;
            assert_eq!(r.status, 200, "GET {path}: {}", r.text);
            assert_documented(&doc, "get", &p(template), &r);
        }
        let missing = app.get(&format!("/opportunities/{}", Uuid::now_v7()), admin).await;
        assert_documented(&doc, "get", &p("/opportunities/{id}"), &missing);
        let deleted = app.delete(&format!("/opportunities/{id}"), admin).await;
        assert_documented(&doc, "delete", &p("/opportunities/{id}"), &deleted);
    }
);
