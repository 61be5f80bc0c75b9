//! Converting leads: the customer appears in service-management with the fields derived from the
//! lead, the opportunity here, the lead becomes converted; retries and concurrent conversions make
//! one of each; service-management down changes nothing and a retry after it returns completes
//! once; refusals for lost leads, others' leads and other tenants.

use crate::helpers::*;
use crm_common::db_test;
use crm_order_workflow::leads::convert::customer_id_for;
use serde_json::{Value, json};
use uuid::Uuid;

const FROM_LEAD: &str = "/opportunities/convert-from-lead";

async fn lead_of(app: &TestApp, id: &str) -> Value {
    let r = app.get(&format!("/leads/{id}"), app.admin()).await;
    r.expect(200);
    r.data().clone()
}

async fn opportunity_total(app: &TestApp) -> u64 {
    app.get("/opportunities", app.admin()).await.data()["total"].as_u64().unwrap()
}

db_test!(
    async fn a_lead_becomes_a_customer_and_an_opportunity_once(backend) {
        let app = TestApp::spawn(backend).await;
        let (seller_id, seller) = app.user(BANTU, "sales@bantu.test", &["SALES"]).await;
        let company = app.product("Company registration").await;
        let l = app
            .lead(&seller, json!({"name": "Budi", "company_name": "PT Maju Jaya", "contact_name": "Pak Budi",
                "phone": "081234567890", "email": "budi@maju.id", "level": "5", "source": "situs web"}))
            .await;
        let id = id_of(&l);
        let body = json!({"name": "PT Maju Jaya", "stage": "initial_contact", "description": "From the expo",
            "products": [{"product_id": company, "quantity": 1, "execution_order": 1}]});
        let r = app.post(&format!("{FROM_LEAD}/{id}"), Some(&seller), body.clone()).await;
        r.expect(200);
        let o = r.data().clone();
        let customer = customer_id_for(Uuid::parse_str(&id).unwrap());
        assert_eq!(o["customer_id"], customer.to_string(), "the customer's id derives from the lead's");
        assert_eq!(o["customer_name"], "PT Maju Jaya");
        assert_eq!(o["lead_id"], id.as_str());
        assert_eq!(o["lead_name"], "Budi");
        assert_eq!(o["owner_user_id"], seller_id.to_string());
        assert_eq!((o["stage"].as_str(), o["status"].as_str()), (Some("initial_contact"), Some("active")));
        assert_eq!(o["products"][0]["product_name"], "Company registration");
        assert_eq!(o["warnings"], json!([]));

        // The customer, as service-management shows it to the seller: derived from the lead.
        let c = app.sm().client().get(&format!("/api/service-management/customers/{customer}"), Some(&seller)).await;
        c.expect(200);
        let c = c.data();
        assert_eq!(c["name"], "PT Maju Jaya");
        assert_eq!(c["customer_type"], "organization");
        assert_eq!(c["customer_source_type"], "own");
        assert_eq!(c["source_name"], "Website", "the lead's source, matched to the catalogue's");
        assert_eq!(c["owner_user_id"], seller_id.to_string());
        assert_eq!(c["level"], "5");
        assert_eq!(c["phone"], "081234567890");
        assert_eq!(c["email"], "budi@maju.id");
        assert!(c["description"].as_str().unwrap().contains("Pak Budi"), "{c}");

        let after = lead_of(&app, &id).await;
        assert_eq!(after["status"], "converted");
        assert_eq!(after["customer_id"], customer.to_string());
        assert_eq!(after["version"], 2);

        // Retried, by any path: the same opportunity and customer, nothing new.
        let again = app.post(&format!("{FROM_LEAD}/{id}"), Some(&seller), body).await;
        again.expect(200);
        assert_eq!(again.data()["id"], o["id"]);
        assert_eq!(again.data()["version"], 1);
        let r = app.post(&format!("/leads/{id}/convert-to-opportunity"), Some(&seller), json!({"opportunity_name": "Other"})).await;
        r.expect(200);
        assert_eq!(r.data()["opportunity_id"], o["id"]);
        assert_eq!(r.data()["opportunity"]["name"], "PT Maju Jaya");
        let r = app.post(&format!("/leads/{id}/convert-to-customer"), Some(&seller), json!({"customer_name": "Other"})).await;
        r.expect(200);
        assert_eq!(r.data()["customer_id"], customer.to_string());
        assert_eq!(r.data()["customer"]["name"], "PT Maju Jaya");
        assert_eq!(lead_of(&app, &id).await["version"], 2);
        assert_eq!(app.customer_count(&app.admin_token).await, 1);
        assert_eq!(opportunity_total(&app).await, 1);
        // A converted lead drops out of "my leads" by its status, as the frontend filters it.
        let r = app.get("/leads?status=converted", Some(&seller)).await;
        assert_eq!(r.data()["total"], 1);
    }
);

db_test!(
    async fn the_frontends_dialogs_convert_to_a_customer_then_to_an_opportunity(backend) {
        let app = TestApp::spawn(backend).await;
        let (seller_id, seller) = app.user(BANTU, "sales@bantu.test", &["SALES"]).await;
        let id = id_of(&app.lead(&seller, json!({"name": "Sari", "contact_name": "Sari"})).await);
        let r = app.post(&format!("/leads/{id}/convert-to-customer"), Some(&seller), json!({"customer_name": "Sari Dewi", "contact_name": "Sari"})).await;
        r.expect(200);
        let customer = r.data()["customer_id"].as_str().unwrap().to_owned();
        assert_eq!(r.data()["customer"]["id"], customer.as_str());
        assert_eq!(r.data()["customer"]["name"], "Sari Dewi");
        assert_eq!(r.data()["customer"]["customer_type"], "individual", "no company name");
        assert_eq!(r.data()["customer"]["source_name"], "Other", "no source on the lead");
        let l = lead_of(&app, &id).await;
        assert_eq!((l["status"].as_str(), l["customer_id"].as_str()), (Some("converted"), Some(customer.as_str())));
        let r = app.post(&format!("/leads/{id}/convert-to-customer"), Some(&seller), json!({})).await;
        assert_eq!(r.data()["customer_id"], customer.as_str());

        let r = app.post(&format!("/leads/{id}/convert-to-opportunity"), Some(&seller), json!({"opportunity_name": "Sari's visa", "amount": 1500000})).await;
        r.expect(200);
        let o = &r.data()["opportunity"];
        assert_eq!(r.data()["opportunity_id"], o["id"]);
        assert_eq!(o["name"], "Sari's visa");
        assert_eq!(o["amount"], json!(1500000));
        assert_eq!(o["customer_id"], customer.as_str(), "the lead's customer, not a new one");
        assert_eq!(o["owner_user_id"], seller_id.to_string());
        assert!(o.get("warnings").is_none());
        assert_eq!(app.customer_count(&app.admin_token).await, 1);
        let r = app.post(&format!("/leads/{id}/convert-to-opportunity"), Some(&seller), json!({})).await;
        assert_eq!(r.data()["opportunity_id"], o["id"]);
        assert_eq!(opportunity_total(&app).await, 1);
    }
);

db_test!(
    async fn twenty_concurrent_conversions_make_one_customer_and_one_opportunity(backend) {
        let app = TestApp::spawn(backend).await;
        let (_, seller) = app.user(BANTU, "sales@bantu.test", &["SALES"]).await;
        let id = id_of(&app.lead(&seller, json!({"name": "Budi", "company_name": "PT Maju Jaya"})).await);
        let mut tasks = tokio::task::JoinSet::new();
        for i in 0..20 {
            let client = app.client.clone();
            let token = seller.clone();
            let (path, body) = match i % 4 {
                0 => (format!("{PREFIX}/leads/{id}/convert-to-opportunity"), json!({"opportunity_name": "Deal"})),
                1 => (format!("{PREFIX}/leads/{id}/convert-to-customer"), json!({})),
                _ => (format!("{PREFIX}{FROM_LEAD}/{id}"), json!({"name": "Deal"})),
            };
            tasks.spawn(async move { (i % 4, client.post(&path, Some(&token), &body).await) });
        }
        let mut opportunities = std::collections::BTreeSet::new();
        let mut customers = std::collections::BTreeSet::new();
        while let Some(done) = tasks.join_next().await {
            let (kind, r) = done.unwrap();
            assert_eq!(r.status, 200, "{}", r.text);
            match kind {
                0 => opportunities.insert(r.data()["opportunity_id"].as_str().unwrap().to_owned()),
                1 => customers.insert(r.data()["customer_id"].as_str().unwrap().to_owned()),
                _ => opportunities.insert(r.data()["id"].as_str().unwrap().to_owned()),
            };
        }
        assert_eq!(opportunities.len(), 1, "{opportunities:?}");
        assert_eq!(customers.len(), 1, "{customers:?}");
        assert_eq!(app.customer_count(&app.admin_token).await, 1, "exactly one customer in service-management");
        assert_eq!(opportunity_total(&app).await, 1);
        let l = lead_of(&app, &id).await;
        assert_eq!(l["status"], "converted");
        assert_eq!(Some(l["customer_id"].as_str().unwrap()), customers.iter().next().map(String::as_str));
        let o = app.get(&format!("/opportunities/{}", opportunities.iter().next().unwrap()), app.admin()).await;
        assert_eq!(o.data()["customer_id"], l["customer_id"]);
    }
);

db_test!(
    async fn service_management_down_leaves_the_lead_unchanged_and_a_retry_completes_once(backend) {
        let mut app = TestApp::spawn(backend).await;
        let (_, seller) = app.user(BANTU, "sales@bantu.test", &["SALES"]).await;
        let id = id_of(&app.lead(&seller, json!({"name": "Budi", "company_name": "PT Maju Jaya"})).await);
        let known = app.customer(&seller, "Known customer").await;
        app.opportunity(&seller, json!({"name": "Earlier deal", "customer_id": known})).await;
        let before = lead_of(&app, &id).await;

        app.sm_mut().stop().await;
        for (path, body) in [
            (format!("{FROM_LEAD}/{id}"), json!({"name": "Deal"})),
            (format!("/leads/{id}/convert-to-opportunity"), json!({})),
            (format!("/leads/{id}/convert-to-customer"), json!({})),
        ] {
            let r = app.post(&path, Some(&seller), body).await;
            assert_eq!(r.status, 503, "{path}: {}", r.text);
            assert!(r.body["message"].as_str().unwrap().contains("service-management"), "{}", r.text);
        }
        assert_eq!(lead_of(&app, &id).await, before, "the lead is unchanged");
        // Opportunities stay readable: names looked up before come from the cache, the others
        // are left out.
        let r = app.get("/opportunities", Some(&seller)).await;
        r.expect(200);
        assert_eq!(r.data()["records"][0]["customer_name"], "Known customer");
        let r = app.get("/opportunities", app.admin()).await;
        r.expect(200);
        assert_eq!(r.data()["records"][0]["customer_id"], known.to_string());
        assert_eq!(r.data()["records"][0]["customer_name"], Value::Null);
        assert_eq!(r.data()["total"], 1, "no opportunity was made");

        app.sm_mut().start().await;
        let r = app.post(&format!("{FROM_LEAD}/{id}"), Some(&seller), json!({"name": "Deal"})).await;
        r.expect(200);
        let opportunity = r.data()["id"].clone();
        let r = app.post(&format!("{FROM_LEAD}/{id}"), Some(&seller), json!({"name": "Deal"})).await;
        assert_eq!(r.data()["id"], opportunity);
        assert_eq!(app.customer_count(&app.admin_token).await, 2, "the known customer and the lead's");
        assert_eq!(opportunity_total(&app).await, 2);
        assert_eq!(lead_of(&app, &id).await["status"], "converted");
    }
);

db_test!(
    async fn a_customer_made_before_a_failure_is_found_again_by_the_retry(backend) {
        let app = TestApp::spawn(backend).await;
        let (seller_id, seller) = app.user(BANTU, "sales@bantu.test", &["SALES"]).await;
        let id = id_of(&app.lead(&seller, json!({"name": "Budi", "company_name": "PT Maju Jaya"})).await);
        // What a first attempt leaves behind when service-management created the customer and
        // order-workflow then failed: the customer under the lead's derived id, the lead as it was.
        let customer = customer_id_for(Uuid::parse_str(&id).unwrap());
        let sm = app.sm().client();
        let sources = sm.get("/api/service-management/customer-sources", Some(&seller)).await;
        let item = json!({"entity": "customer", "op": "upsert", "id": customer, "base_version": 1,
            "data": {"name": "PT Maju Jaya", "customer_type": "organization", "customer_source_type": "own",
                     "source_id": sources.data()[0]["id"], "owner_user_id": seller_id}});
        let r = sm.post("/api/service-management/sync/batch", Some(&seller), &json!({"items": [item]})).await;
        assert_eq!(r.data()["results"][0]["status"], "created", "{}", r.text);
        assert_eq!(lead_of(&app, &id).await["status"], "new");

        let r = app.post(&format!("{FROM_LEAD}/{id}"), Some(&seller), json!({"name": "Deal"})).await;
        r.expect(200);
        assert_eq!(r.data()["customer_id"], customer.to_string());
        assert_eq!(app.customer_count(&app.admin_token).await, 1);
        assert_eq!(lead_of(&app, &id).await["customer_id"], customer.to_string());
    }
);

db_test!(
    async fn lost_foreign_and_invisible_leads_are_refused_and_pool_leads_are_taken(backend) {
        let app = TestApp::spawn(backend).await;
        let (seller_id, seller) = app.user(BANTU, "sales@bantu.test", &["SALES"]).await;
        let (_, other) = app.user(BANTU, "other@bantu.test", &["SALES"]).await;
        let routes = |id: &str| {
            [
                (format!("{FROM_LEAD}/{id}"), json!({"name": "Deal"})),
                (format!("/leads/{id}/convert-to-opportunity"), json!({})),
                (format!("/leads/{id}/convert-to-customer"), json!({})),
            ]
        };
        let lost = id_of(&app.lead(&seller, json!({"name": "Gone", "status": "lost"})).await);
        for (path, body) in routes(&lost) {
            let r = app.post(&path, Some(&seller), body).await;
            assert_eq!(r.status, 409, "{path}: {}", r.text);
        }
        let mine = id_of(&app.lead(&seller, json!({"name": "Mine"})).await);
        for (path, body) in routes(&mine) {
            app.post(&path, Some(&other), body).await.expect(404);
        }
        let (_, _, foreign) = app.org("PT Vendor", "vendor").await;
        for (path, body) in routes(&mine) {
            app.post(&path, Some(&foreign), body).await.expect(404);
        }
        for (path, body) in routes(&Uuid::now_v7().to_string()) {
            app.post(&path, Some(&seller), body).await.expect(404);
        }
        let (_, ops) = app.user(BANTU, "ops@bantu.test", &["OPERATION"]).await;
        app.post(&format!("/leads/{mine}/convert-to-customer"), Some(&ops), json!({})).await.expect(403);
        // A named customer must be one the caller sees; products must bring what they require.
        let admins_customer = app.customer(&app.admin_token, "Admin's own").await;
        app.post(&format!("{FROM_LEAD}/{mine}"), Some(&seller), json!({"name": "x", "customer_id": admins_customer})).await.expect(404);
        let visa = app.product("Work visa").await;
        let company = app.product("Company registration").await;
        app.depends(visa, company, "required").await;
        let r = app.post(&format!("{FROM_LEAD}/{mine}"), Some(&seller), json!({"name": "x", "products": [{"product_id": visa}]})).await;
        r.expect(400);
        assert!(r.text.contains("Work visa requires Company registration"), "{}", r.text);
        assert_eq!(lead_of(&app, &mine).await["version"], 1, "refusals change nothing");
        assert_eq!(app.customer_count(&app.admin_token).await, 1, "only the administrator's own");

        // A pool lead converted by a seller becomes theirs and leaves the pool.
        let pooled = id_of(&app.lead(&app.admin_token, json!({"name": "Pooled", "is_in_public_pool": true})).await);
        let r = app.post(&format!("{FROM_LEAD}/{pooled}"), Some(&other), json!({"name": "Claimed deal"})).await;
        r.expect(200);
        let other_id = r.data()["owner_user_id"].clone();
        assert_ne!(other_id, json!(seller_id));
        let l = lead_of(&app, &pooled).await;
        assert_eq!(l["is_in_public_pool"], false);
        assert_eq!(l["owner_user_id"], other_id);
        assert_eq!(l["status"], "converted");
    }
);
