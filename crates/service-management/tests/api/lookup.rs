//! Batched lookups for the other services: customers as the caller may see them, products for
//! anyone, bad id lists refused, other organizations' customers left out.

use crate::categories::insert_product;
use crate::customers::customer;
use crate::helpers::*;
use crm_common::db_test;
use serde_json::json;
use std::collections::BTreeSet;
use uuid::Uuid;

fn ids_of(r: &crm_common::testing::TestResponse) -> BTreeSet<String> {
    r.data().as_array().unwrap().iter().map(|c| c["id"].as_str().unwrap().to_owned()).collect()
}

db_test!(
    async fn customers_are_looked_up_as_the_caller_may_see_them(backend) {
        let app = TestApp::spawn(backend).await;
        let (_, seller) = app.user(BANTU, "sales@bantu.test", &["SALES"]).await;
        let (_, other) = app.user(BANTU, "other@bantu.test", &["SALES"]).await;
        let mine = customer(&app, &seller, json!({"name": "PT Maju", "customer_type": "organization"})).await;
        mine.expect(200);
        let mine = mine.data()["id"].as_str().unwrap().to_owned();
        let theirs = customer(&app, &other, json!({"name": "Sari"})).await.data()["id"].as_str().unwrap().to_owned();
        let (_, vendor) = app.org("PT Vendor", "internal").await;
        let foreign = customer(&app, &vendor, json!({"name": "Elsewhere"})).await.data()["id"].as_str().unwrap().to_owned();
        let unknown = Uuid::now_v7();
        let query = format!("/lookup/customers?ids={mine},{theirs},{foreign},{unknown},{mine}");

        let r = app.get(&query, Some(&seller)).await;
        r.expect(200);
        assert_eq!(ids_of(&r), BTreeSet::from([mine.clone()]), "a seller sees only their own");
        let row = &r.data()[0];
        assert_eq!(row["name"], "PT Maju");
        assert_eq!(row["customer_type"], "organization");
        assert!(row["code"].as_str().unwrap().starts_with('O'));
        let r = app.get(&query, app.admin()).await;
        assert_eq!(ids_of(&r), BTreeSet::from([mine.clone(), theirs.clone()]), "the administrator sees the organization's");
        let r = app.get(&query, Some(&vendor)).await;
        assert_eq!(ids_of(&r), BTreeSet::from([foreign]));

        let r = app.get("/lookup/customers?ids=", Some(&seller)).await;
        r.expect(200);
        assert_eq!(r.data(), &json!([]));
        app.get("/lookup/customers?ids=nope", Some(&seller)).await.expect(400);
        app.get("/lookup/customers", Some(&seller)).await.expect(400);
        app.get(&format!("/lookup/customers?ids={mine}"), None).await.expect(401);
    }
);

db_test!(
    async fn products_are_looked_up_by_anyone_signed_in(backend) {
        let app = TestApp::spawn(backend).await;
        let visa = insert_product(&app, "Work visa", None, true).await;
        let old = insert_product(&app, "Old service", None, false).await;
        let (_, vendor) = app.org("PT Vendor", "vendor").await;
        let r = app.get(&format!("/lookup/products?ids={visa},{old},{}", Uuid::now_v7()), Some(&vendor)).await;
        r.expect(200);
        assert_eq!(ids_of(&r), BTreeSet::from([visa.to_string(), old.to_string()]));
        let row = r.data().as_array().unwrap().iter().find(|p| p["id"] == visa.to_string()).unwrap().clone();
        assert_eq!(row["name"], "Work visa");
        assert_eq!(row["code"], format!("P-{}", visa.simple()));
        assert_eq!(row["is_active"], true);
        let many = (0..501).map(|_| Uuid::now_v7().to_string()).collect::<Vec<_>>().join(",");
        app.get(&format!("/lookup/products?ids={many}"), app.admin()).await.expect(400);
    }
);
