//! The OpenAPI document: in step with the router both ways, complete, served without a token, and
//! true to what the handlers answer (crm-common's shared checks, as foundation's tests use them).

use crate::helpers::*;
use crm_common::db_test;
use crm_common::testing::openapi::{documented, mounted_routes};
use serde_json::json;
use std::path::Path;

/// The prefix of each resource module's routes (see `router` in lib.rs).
fn prefix(module: &str) -> String {
    match module {
        "dependencies" => "/api/order-workflow".into(),
        "legacy.rs" => "/api/order-workflow".into(),
        _ => PREFIX.into(),
    }
}

#[test]
fn every_mounted_route_is_documented() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let lib = std::fs::read_to_string(src.join("lib.rs")).unwrap();
    assert!(lib.contains(r#".nest("/api/service-management", api)"#));
    assert!(lib.contains(r#".nest("/api/order-workflow", legacy)"#));
    let mounted = mounted_routes(&src, prefix);
    assert!(mounted.contains(&("GET".into(), "/api/service-management/categories/tree".into())));
    assert!(mounted.contains(&("GET".into(), "/api/service-management/openapi.json".into())));
    let doc = crm_service_management::openapi::document().unwrap();
    let documented = documented(&doc);
    let undocumented: Vec<_> = mounted.difference(&documented).collect();
    let unmounted: Vec<_> = documented.difference(&mounted).collect();
    assert!(undocumented.is_empty(), "mounted but not in the OpenAPI document: {undocumented:#?}");
    assert!(unmounted.is_empty(), "documented but not mounted: {unmounted:#?}");
}

#[test]
fn the_document_is_complete() {
    let doc = crm_service_management::openapi::document().unwrap();
    crm_common::testing::openapi::assert_complete(&doc, &["/api/service-management/openapi.json"]);
}

db_test!(
    async fn served_without_a_token_and_every_operation_is_mounted(backend) {
        let app = TestApp::spawn(backend).await;
        let r = app.get("/openapi.json", None).await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(r.body, crm_service_management::openapi::document().unwrap(), "served as generated");
        for (method, path) in documented(&r.body) {
            let target = path
                .split('/')
                .map(|s| if s.starts_with('{') { uuid::Uuid::now_v7().to_string() } else { s.to_owned() })
                .collect::<Vec<_>>()
                .join("/");
            let mut request = app.client.builder(method.parse().unwrap(), &target, None);
            if method == "POST" || method == "PUT" {
                request = request.json(&json!({}));
            }
            let r = app.client.send(request).await;
            let unrouted = (r.status == 404 && r.body["message"] == "not found") || r.status == 405;
            assert!(!unrouted, "{method} {path} is documented but not routed: {} {}", r.status, r.text);
        }
    }
);

db_test!(
    async fn responses_match_the_documented_schemas(backend) {
        use crm_common::testing::openapi::assert_documented;
        let app = TestApp::spawn(backend).await;
        let doc = crm_service_management::openapi::document().unwrap();
        let admin = app.admin();
        let p = |path: &str| format!("{PREFIX}{path}");
        let id = |r: &crm_common::testing::TestResponse| r.data()["id"].as_str().unwrap().to_owned();

        let cat = app.post("/categories", admin, json!({"code": "VISA", "name": "Visas"})).await;
        assert_documented(&doc, "post", &p("/categories"), &cat);
        let cat_id = id(&cat);
        let st = app.post("/service-types", admin, json!({"code": "WV", "name": "Work visa"})).await;
        assert_documented(&doc, "post", &p("/service-types"), &st);
        let product = app
            .post("/products", admin, json!({"name": "KITAS", "code": "KITAS", "category_id": cat_id, "price_cost_idr": 1000000,
                "price_channel_idr": 1500000, "price_direct_idr": 2000000, "tags": ["visa"]}))
            .await;
        assert_documented(&doc, "post", &p("/products"), &product);
        let product_id = id(&product);
        let other = id(&app.post("/products", admin, json!({"name": "PT PMA", "code": "PTPMA"})).await);
        let (vendor, _) = app.org("PT Vendor", "vendor").await;
        let batch = app.post(&format!("/suppliers/{vendor}/products/batch"), admin, json!({"product_ids": [product_id], "default_cost_price_idr": 900000})).await;
        assert_documented(&doc, "post", &p("/suppliers/{id}/products/batch"), &batch);
        let price = app.post("/prices", admin, json!({"product_id": product_id, "price_type": "list", "currency": "IDR", "amount": 2500000})).await;
        assert_documented(&doc, "post", &p("/prices"), &price);
        let dep = app.client.post("/api/order-workflow/product-dependencies", admin, &json!({"product_id": product_id, "depends_on_product_id": other})).await;
        assert_documented(&doc, "post", "/api/order-workflow/product-dependencies", &dep);
        let sources = app.get("/customer-sources", admin).await;
        let source = sources.data()[0]["id"].as_str().unwrap().to_owned();
        let customer = app.post("/customers", admin, json!({"name": "Budi", "source_id": source, "phone": "+62 812 3456 7890"})).await;
        assert_documented(&doc, "post", &p("/customers"), &customer);
        let customer_id = id(&customer);
        let fu = app.post(&format!("/customers/{customer_id}/follow-ups"), admin, json!({"follow_up_type": "call", "follow_up_date": "2026-12-01T00:00:00Z"})).await;
        assert_documented(&doc, "post", &p("/customers/{id}/follow-ups"), &fu);
        let stale = app.put(&format!("/customers/{customer_id}"), admin, json!({"name": "x", "version": 99})).await;
        assert_documented(&doc, "put", &p("/customers/{id}"), &stale);
        let invalid = app.post("/products", admin, json!({"name": ""})).await;
        assert_documented(&doc, "post", &p("/products"), &invalid);

        let reads = [
            ("/categories", "/categories".to_owned()),
            ("/categories/tree", "/categories/tree?include_products=true".to_owned()),
            ("/categories/{id}", format!("/categories/{cat_id}")),
            ("/service-types", "/service-types".to_owned()),
            ("/service-types/code/{code}", "/service-types/code/WV".to_owned()),
            ("/products", "/products".to_owned()),
            ("/products/{id}", format!("/products/{product_id}")),
            ("/products/vendors/{vendor_id}", format!("/products/vendors/{vendor}")),
            ("/suppliers/{id}/services", format!("/suppliers/{vendor}/services")),
            ("/suppliers/{id}/products/existing", format!("/suppliers/{vendor}/products/existing")),
            ("/prices", "/prices".to_owned()),
            ("/prices/history/{product_id}", format!("/prices/history/{product_id}")),
            ("/industries", "/industries".to_owned()),
            ("/customer-sources", "/customer-sources".to_owned()),
            ("/customers", "/customers".to_owned()),
            ("/customers/{id}", format!("/customers/{customer_id}")),
            ("/customers/{id}/follow-ups", format!("/customers/{customer_id}/follow-ups")),
            ("/customers/{id}/notes", format!("/customers/{customer_id}/notes")),
        ];
        for (template, path) in reads {
            let r = app.get(&path, admin).await;
            assert_eq!(r.status, 200, "GET {path}: {}", r.text);
            assert_documented(&doc, "get", &p(template), &r);
        }
        for (template, path) in [
            ("/api/order-workflow/product-dependencies", "/api/order-workflow/product-dependencies".to_owned()),
            ("/api/order-workflow/product-dependencies/{id}", format!("/api/order-workflow/product-dependencies/{product_id}")),
            ("/api/order-workflow/customer-levels", "/api/order-workflow/customer-levels".to_owned()),
        ] {
            let r = app.client.get(&path, admin).await;
            assert_eq!(r.status, 200, "GET {path}: {}", r.text);
            assert_documented(&doc, "get", template, &r);
        }
        let missing = app.get(&format!("/products/{}", uuid::Uuid::now_v7()), admin).await;
        assert_documented(&doc, "get", &p("/products/{id}"), &missing);
        let denied = app.get("/products", None).await;
        assert_documented(&doc, "get", &p("/products"), &denied);
    }
);
