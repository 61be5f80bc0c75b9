//! Order stages: the forward-only status machine with progress, who may change them, an order
//! that cannot complete before its stages do, other tenants' ids.

use crate::helpers::*;
use crm_common::db_test;
use crm_common::testing::TestResponse;
use serde_json::{Value, json};
use uuid::Uuid;

/// A BANTU order sold by a seller, approved, assigned to an operator and being processed, with
/// a finance user beside them.
pub struct Setup {
    pub seller_id: Uuid,
    pub seller: String,
    pub operator_id: Uuid,
    pub operator: String,
    pub finance: String,
    pub order: String,
}

pub async fn processing_order(app: &TestApp) -> Setup {
    let (seller_id, seller) = app.user(BANTU, "sales@bantu.test", &["SALES"]).await;
    let (operator_id, operator) = app.user(BANTU, "ops@bantu.test", &["OPERATION"]).await;
    let (_, finance) = app.user(BANTU, "finance@bantu.test", &["FINANCE"]).await;
    let customer = app.customer(&seller, "PT Maju Jaya").await;
    let r = app
        .post(
            "/orders",
            Some(&seller),
            json!({"title": "KITAS", "customer_id": customer, "order_items": [{"product_name": "KITAS", "unit_price": 100}]}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let order = id_of(r.data());
    app.put(&format!("/orders/{order}"), app.admin(), json!({"status_code": "approved"})).await.expect(200);
    app.post(&format!("/orders/{order}/assign"), app.admin(), json!({"assigned_to_user_id": operator_id}))
        .await
        .expect(200);
    app.put(&format!("/orders/{order}"), Some(&operator), json!({"status_code": "processing"})).await.expect(200);
    Setup { seller_id, seller, operator_id, operator, finance, order }
}

/// Every id route answers 404 to another organization's administrator.
pub async fn all_404(app: &TestApp, token: &str, checks: Vec<(&str, String, Option<Value>)>) {
    for (method, path, body) in checks {
        let r: TestResponse = match method {
            "get" => app.get(&path, Some(token)).await,
            "put" => app.put(&path, Some(token), body.unwrap_or(json!({}))).await,
            "post" => app.post(&path, Some(token), body.unwrap_or(json!({}))).await,
            _ => app.delete(&path, Some(token)).await,
        };
        assert_eq!(r.status, 404, "{method} {path}: {}", r.text);
    }
}

db_test!(
    async fn stages_move_forward_and_an_order_completes_only_when_they_do(backend) {
        let app = TestApp::spawn(backend).await;
        let s = processing_order(&app).await;
        let id = &s.order;
        let path = format!("/orders/{id}/stages");

        // Sellers and finance read stages; the operator and managers change them.
        let r = app.post(&path, Some(&s.seller), json!({"stage_name": "Documents"})).await;
        r.expect(403);
        app.post(&path, Some(&s.operator), json!({"stage_name": ""})).await.expect(400);
        app.post(&path, Some(&s.operator), json!({"stage_name": "x", "status": "completed"})).await.expect(400);
        app.post(&path, Some(&s.operator), json!({"stage_name": "x", "progress_percent": 101})).await.expect(400);
        app.post(&path, Some(&s.operator), json!({"stage_name": "x", "assigned_to_user_id": Uuid::now_v7()})).await.expect(400);
        let r = app.post(&path, Some(&s.operator), json!({"stage_name": "Documents", "stage_code": "DOCS"})).await;
        assert_eq!(r.status, 200, "{}", r.text);
        let docs = id_of(r.data());
        assert_eq!(r.data()["stage_order"], 1);
        assert_eq!(r.data()["status"], "pending");
        assert_eq!(r.data()["progress_percent"], 0);
        let r = app
            .post(&path, app.admin(), json!({"stage_name": "Visa", "assigned_to_user_id": s.seller_id}))
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        let visa = id_of(r.data());
        assert_eq!(r.data()["stage_order"], 2);
        let r = app.post(&path, app.admin(), json!({"stage_name": "Courier"})).await;
        let courier = id_of(r.data());
        let r = app.get(&path, Some(&s.finance)).await;
        r.expect(200);
        let names: Vec<&str> = r.data().as_array().unwrap().iter().map(|x| x["stage_name"].as_str().unwrap()).collect();
        assert_eq!(names, ["Documents", "Visa", "Courier"]);

        // Progress on a pending stage starts it; the machine only goes forward; completing is 100 %.
        let r = app.put(&format!("{path}/{docs}"), Some(&s.operator), json!({"progress_percent": 40})).await;
        r.expect(200);
        assert_eq!((r.data()["status"].as_str(), r.data()["progress_percent"].as_i64()), (Some("in_progress"), Some(40)));
        assert!(r.data()["started_at"].is_string());
        let r = app.put(&format!("{path}/{docs}"), Some(&s.operator), json!({"status": "pending"})).await;
        r.expect(409);
        assert!(r.text.contains("completed, cancelled"), "names the allowed moves: {}", r.text);
        app.put(&format!("{path}/{docs}"), Some(&s.operator), json!({"progress_percent": -5})).await.expect(400);
        app.put(&format!("{path}/{docs}"), Some(&s.operator), json!({"status": "done"})).await.expect(400);
        app.put(&format!("{path}/{docs}"), Some(&s.finance), json!({"progress_percent": 50})).await.expect(403);
        let r = app.put(&format!("{path}/{docs}"), Some(&s.operator), json!({"status": "completed"})).await;
        r.expect(200);
        assert_eq!(r.data()["progress_percent"], 100);
        assert!(r.data()["completed_at"].is_string());
        app.put(&format!("{path}/{docs}"), Some(&s.operator), json!({"status": "cancelled"})).await.expect(409);
        app.put(&format!("{path}/{docs}"), Some(&s.operator), json!({"progress_percent": 10})).await.expect(409);
        // The stage's assignee (the seller here) changes that stage, and only that one.
        let r = app.put(&format!("{path}/{visa}"), Some(&s.seller), json!({"progress_percent": 70, "notes": "applied"})).await;
        r.expect(200);
        assert_eq!(r.data()["notes"], "applied");
        app.put(&format!("{path}/{courier}"), Some(&s.seller), json!({"progress_percent": 10})).await.expect(403);

        // The order cannot complete while a stage is open; the 409 names the stages.
        let r = app.put(&format!("/orders/{id}"), Some(&s.operator), json!({"status_code": "completed"})).await;
        r.expect(409);
        assert!(r.text.contains("Visa") && r.text.contains("Courier") && !r.text.contains("Documents"), "{}", r.text);
        app.put(&format!("{path}/{visa}"), Some(&s.operator), json!({"status": "completed"})).await.expect(200);
        let r = app.put(&format!("/orders/{id}"), Some(&s.operator), json!({"status_code": "completed"})).await;
        r.expect(409);
        assert!(r.text.contains("Courier") && !r.text.contains("Visa"), "{}", r.text);
        // A cancelled stage does not hold the order back; only managers delete stages.
        app.delete(&format!("{path}/{courier}"), Some(&s.operator)).await.expect(200);
        let r = app.post(&path, Some(&s.operator), json!({"stage_name": "Extra"})).await;
        let extra = id_of(r.data());
        app.delete(&format!("{path}/{extra}"), Some(&s.seller)).await.expect(403);
        app.put(&format!("{path}/{extra}"), Some(&s.operator), json!({"status": "cancelled"})).await.expect(200);
        let r = app.put(&format!("/orders/{id}"), Some(&s.operator), json!({"status_code": "completed"})).await;
        r.expect(200);
        assert_eq!(r.data()["status_code"], "completed");
        // A completed order's stages no longer change.
        app.post(&path, app.admin(), json!({"stage_name": "Late"})).await.expect(409);
        app.put(&format!("{path}/{visa}"), app.admin(), json!({"notes": "late"})).await.expect(409);
        app.delete(&format!("{path}/{visa}"), app.admin()).await.expect(409);
        app.get(&format!("{path}/{visa}"), Some(&s.seller)).await.expect(200);

        // Another organization sees none of it; a stage under another order's path is a 404 too.
        let (_, _, stranger) = app.org("PT Lain", "internal").await;
        all_404(
            &app,
            &stranger,
            vec![
                ("get", path.clone(), None),
                ("post", path.clone(), Some(json!({"stage_name": "mine"}))),
                ("get", format!("{path}/{visa}"), None),
                ("put", format!("{path}/{visa}"), Some(json!({"notes": "mine"}))),
                ("delete", format!("{path}/{visa}"), None),
            ],
        )
        .await;
        app.get(&format!("/orders/{}/stages/{visa}", Uuid::now_v7()), app.admin()).await.expect(404);
    }
);
