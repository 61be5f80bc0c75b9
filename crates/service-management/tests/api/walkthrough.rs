//! The catalogue as a new user meets it: an administrator builds a category tree, service types,
//! products with prices, a vendor offering two products at its own cost and a dependency "work
//! visa requires company registration", then reads them the way the admin frontend does (its
//! paths and page sizes); a SALES user reads the catalogue but cannot change it.

use crate::helpers::*;
use crm_common::db_test;
use serde_json::json;

db_test!(
    async fn the_catalogue_walkthrough(backend) {
        let app = TestApp::spawn(backend).await;
        let admin = app.admin();
        let id = |r: &crm_common::testing::TestResponse| r.data()["id"].as_str().unwrap().to_owned();

        let visa = id(&app.post("/categories", admin, json!({"code": "VISA", "name": "Visa services"})).await);
        let work = id(&app.post("/categories", admin, json!({"code": "VISA-WORK", "name": "Work visas", "parent_id": visa})).await);
        let company = id(&app.post("/categories", admin, json!({"code": "COMPANY", "name": "Company set-up"})).await);
        let r = app.post("/service-types", admin, json!({"code": "WORK_VISA", "name": "工作签证", "name_en": "Work visa"})).await;
        r.expect(200);
        let work_type = id(&r);
        app.get("/service-types/code/WORK_VISA", admin).await.expect(200);
        let kitas = app
            .post("/products", admin, json!({"name": "KITAS work visa", "code": "KITAS", "category_id": work, "service_type_id": work_type,
                "price_cost_idr": 1000000, "price_channel_idr": 1500000, "price_direct_idr": 2000000, "price_list_idr": 2500000,
                "price_direct_cny": 1000}))
            .await;
        kitas.expect(200);
        assert_eq!(kitas.data()["channel_profit"], 500000);
        assert_eq!(kitas.data()["direct_profit_rate"], 1);
        let kitas = id(&kitas);
        let pt = id(&app.post("/products", admin, json!({"name": "PT PMA registration", "code": "PTPMA", "category_id": company, "price_direct_idr": 15000000})).await);

        // A vendor organization (foundation) offering both products at its own cost.
        let (vendor, vendor_admin) = app.org("PT Imigrasi Cepat", "vendor").await;
        let r = app.post(&format!("/suppliers/{vendor}/products/batch"), admin, json!({"product_ids": [kitas, pt], "default_cost_price_idr": 900000})).await;
        r.expect(200);
        assert_eq!(r.data()["success_count"], 2);
        let r = app.put(&format!("/suppliers/{vendor}/services/{pt}/price"), Some(&vendor_admin), json!({"cost_price_idr": 12000000, "effective_from": "2026-12-01T00:00:00Z"})).await;
        r.expect(200);

        // The dependency, at the original's path under order-workflow's prefix.
        let r = app.client.post("/api/order-workflow/product-dependencies", admin, &json!({"product_id": kitas, "depends_on_product_id": pt, "description": "A work visa requires company registration"})).await;
        assert_eq!(r.status, 201, "{}", r.text);

        // Read back as the frontend does.
        let (_, sales) = app.user(BANTU, "sales@bantu.test", &["SALES"]).await;
        let tree = app.get("/categories/tree?include_products=true&is_active=true", Some(&sales)).await;
        tree.expect(200);
        let roots = tree.data()["categories"].as_array().unwrap();
        let v = roots.iter().find(|n| n["code"] == "VISA").unwrap();
        assert_eq!(v["product_count"], 1);
        assert_eq!(v["children"][0]["products"][0]["code"], "KITAS");
        let r = app.get("/categories?size=1000", Some(&sales)).await;
        assert_eq!(r.data()["total"], 3);
        let r = app.get("/products?size=1000&is_active=true", Some(&sales)).await;
        assert_eq!(r.data()["total"], 2);
        let r = app.get(&format!("/suppliers/{vendor}/services?size=1000"), admin).await;
        r.expect(200);
        let costs: Vec<_> = r.data()["items"].as_array().unwrap().iter().map(|i| i["cost_price_idr"].clone()).collect();
        assert!(costs.contains(&json!(12000000)) && costs.contains(&json!(900000)), "{costs:?}");
        let r = app.get(&format!("/products/vendors/{vendor}?size=1000"), Some(&vendor_admin)).await;
        assert_eq!(r.data()["total"], 2);
        let r = app.client.get("/api/order-workflow/product-dependencies?size=20", admin).await;
        assert_eq!(r.data()["total"], 1);
        let r = app.client.get(&format!("/api/order-workflow/product-dependencies/{kitas}"), Some(&sales)).await;
        r.expect(200);
        assert_eq!(r.data()[0]["depends_on_product_name"], "PT PMA registration");

        // SALES reads but cannot change the catalogue.
        app.post("/categories", Some(&sales), json!({"code": "S", "name": "S"})).await.expect(403);
        app.put(&format!("/products/{kitas}"), Some(&sales), json!({"name": "cheaper"})).await.expect(403);
        app.delete(&format!("/products/{kitas}"), Some(&sales)).await.expect(403);
        let r = app.client.post("/api/order-workflow/product-dependencies", Some(&sales), &json!({"product_id": pt, "depends_on_product_id": kitas})).await;
        assert_eq!(r.status, 403);
    }
);
