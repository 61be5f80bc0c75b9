//! Service types: create, read by id and by code, list with filters, update, and delete guarded
//! by the products that use the type.

use crate::helpers::*;
use crm_common::db_test;
use serde_json::{Value, json};
use uuid::Uuid;

async fn service_type(app: &TestApp, code: &str, name: &str, name_en: Option<&str>) -> Uuid {
    let r = app.post("/service-types", app.admin(), json!({"code": code, "name": name, "name_en": name_en})).await;
    r.expect(200);
    uuid(&r.data()["id"])
}

db_test!(
    async fn service_types_are_created_read_listed_updated_and_deleted(backend) {
        let app = TestApp::spawn(backend).await;
        let r = app
            .post(
                "/service-types",
                app.admin(),
                json!({"code": "LANDING_VISA", "name": "落地签", "name_en": "Landing visa",
                       "description": "Visa on arrival", "display_order": 2}),
            )
            .await;
        r.expect(200);
        let landing = uuid(&r.data()["id"]);
        for key in ["id", "code", "name", "name_en", "description", "display_order", "is_active", "created_at", "updated_at", "version"] {
            assert!(r.data().get(key).is_some(), "missing {key}");
        }
        assert_eq!(r.data()["is_active"], true);
        assert_eq!(r.data()["display_order"], 2);
        let business = service_type(&app, "BUSINESS_VISA", "商务签", Some("Business visa")).await;
        service_type(&app, "TAX", "税务", None).await;

        let r = app.get(&format!("/service-types/{landing}"), app.admin()).await;
        r.expect(200);
        assert_eq!(r.data()["name_en"], "Landing visa");
        let r = app.get("/service-types/code/BUSINESS_VISA", app.admin()).await;
        r.expect(200);
        assert_eq!(r.data()["id"], business.to_string());
        app.get("/service-types/code/NOPE", app.admin()).await.expect(404);

        // A duplicate code is a conflict; codes are 1–50 characters.
        app.post("/service-types", app.admin(), json!({"code": "TAX", "name": "again"})).await.expect(409);
        let r = app.post("/service-types", app.admin(), json!({"code": "C".repeat(51), "name": "long"})).await;
        r.expect(400);
        assert_eq!(r.data()[0]["field"], "code");
        app.post("/service-types", app.admin(), json!({"code": "C".repeat(50), "name": "fits"})).await.expect(200);
        let r = app.post("/service-types", app.admin(), json!({"code": "X", "name": " "})).await;
        r.expect(400);
        assert_eq!(r.data()[0]["field"], "name");

        // Filters: the name matches the Chinese or the English name; code is a substring.
        let r = app.get("/service-types?name=visa&size=1000", app.admin()).await;
        r.expect(200);
        assert_eq!(r.data()["total"], 2);
        assert_eq!(r.data()["size"], 1000);
        assert_eq!(r.data()["pages"], 1);
        let r = app.get(&format!("/service-types?name={}", "商务"), app.admin()).await;
        assert_eq!(r.data()["total"], 1);
        let r = app.get("/service-types?code=_visa", app.admin()).await;
        assert_eq!(r.data()["total"], 2);
        app.get("/service-types?size=1001", app.admin()).await.expect(400);

        // Update: absent fields kept, code fixed, blank English name cleared.
        let r = app.put(&format!("/service-types/{landing}"), app.admin(), json!({"name": "落地签证", "name_en": "", "is_active": false})).await;
        r.expect(200);
        assert_eq!(r.data()["name"], "落地签证");
        assert_eq!(r.data()["name_en"], Value::Null);
        assert_eq!(r.data()["code"], "LANDING_VISA");
        assert_eq!(r.data()["description"], "Visa on arrival");
        assert_eq!(r.data()["version"], 2);
        let r = app.get("/service-types?is_active=false", app.admin()).await;
        assert_eq!(r.data()["total"], 1);
        app.put(&format!("/service-types/{landing}"), app.admin(), json!({"display_order": -1})).await.expect(400);

        // Delete: refused while a product uses the type.
        let r = app.post("/products", app.admin(), json!({"name": "B211 visa", "service_type_id": business})).await;
        r.expect(200);
        let product = uuid(&r.data()["id"]);
        let r = app.delete(&format!("/service-types/{business}"), app.admin()).await;
        r.expect(409);
        assert!(r.text.contains("1 products"), "{}", r.text);
        app.delete(&format!("/products/{product}"), app.admin()).await.expect(200);
        app.delete(&format!("/service-types/{business}"), app.admin()).await.expect(200);
        app.get(&format!("/service-types/{business}"), app.admin()).await.expect(404);
        app.get(&format!("/service-types/{}", Uuid::now_v7()), app.admin()).await.expect(404);
        app.put(&format!("/service-types/{}", Uuid::now_v7()), app.admin(), json!({"name": "x"})).await.expect(404);
        app.delete(&format!("/service-types/{}", Uuid::now_v7()), app.admin()).await.expect(404);
        app.get("/service-types/not-an-id", app.admin()).await.expect(400);
    }
);

db_test!(
    async fn service_types_are_read_by_everyone_and_changed_by_bantu_administrators(backend) {
        let app = TestApp::spawn(backend).await;
        let id = service_type(&app, "LANDING_VISA", "落地签", None).await;
        let (_, sales) = app.user(BANTU, "sales@bantu.test", &["SALES"]).await;
        let (_, vendor_admin) = app.org("PT Vendor", "vendor").await;
        for token in [&sales, &vendor_admin] {
            app.get("/service-types", Some(token)).await.expect(200);
            app.get(&format!("/service-types/{id}"), Some(token)).await.expect(200);
            app.get("/service-types/code/LANDING_VISA", Some(token)).await.expect(200);
            app.post("/service-types", Some(token), json!({"code": "S", "name": "S"})).await.expect(403);
            app.put(&format!("/service-types/{id}"), Some(token), json!({"name": "mine"})).await.expect(403);
            app.delete(&format!("/service-types/{id}"), Some(token)).await.expect(403);
        }
        app.get("/service-types", None).await.expect(401);
        // Malformed bodies and wrong types.
        app.post("/service-types", app.admin(), json!({"code": 5, "name": "x"})).await.expect(400);
        app.post("/service-types", app.admin(), json!({"name": "no code"})).await.expect(400);
        let r = app
            .client
            .send(
                app.client
                    .builder(reqwest::Method::POST, "/api/service-management/service-types", app.admin())
                    .header("content-type", "application/json")
                    .body("{bad"),
            )
            .await;
        r.expect(400);
    }
);
