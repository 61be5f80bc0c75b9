//! Notifications at every trigger: a lead assigned, an order's status moved, the order assigned,
//! its items added, changed and removed, a file uploaded and verified, a comment written, a
//! collection task created — each to the right people (never the one who acted), in Chinese and
//! Indonesian, with its category; and a notification is never written for a change that rolled
//! back.

use crate::helpers::*;
use crate::order_files::{PNG, upload};
use crate::stages::processing_order;
use crm_common::db_test;
use serde_json::{Value, json};

/// The newest notification of the user with `token` (it must have one), and how many unread.
async fn newest(app: &TestApp, token: &str) -> (Value, u64) {
    let r = app.get("/notifications?size=1", Some(token)).await;
    r.expect(200);
    let unread = app.get("/notifications/unread-count", Some(token)).await.data()["unread_count"].as_u64().unwrap();
    (r.data()["items"][0].clone(), unread)
}

async fn total(app: &TestApp, token: &str) -> u64 {
    app.get("/notifications", Some(token)).await.data()["total"].as_u64().unwrap()
}

db_test!(
    async fn every_trigger_tells_the_right_people_in_both_languages(backend) {
        let app = TestApp::spawn(backend).await;
        let s = processing_order(&app).await;
        let id = &s.order;
        let (seller, operator) = (s.seller.as_str(), s.operator.as_str());

        // Setting up the order already told the seller (approved, assigned, processing) and the
        // operator (assigned to them), never the one who acted.
        let (n, _) = newest(&app, seller).await;
        assert_eq!(n["notification_type"], "order_updated");
        assert_eq!(n["category"], "order_status");
        assert_eq!(n["resource_type"], "order");
        assert_eq!(n["resource_id"], id.as_str());
        assert!(n["title"].as_str().unwrap().contains("处理中"), "{n}");
        assert!(n["title_id"].as_str().unwrap().contains("Diproses"), "{n}");
        let r = app.get("/notifications?size=100", Some(operator)).await;
        let items = r.data()["items"].as_array().unwrap();
        let assigned: Vec<&Value> = items.iter().filter(|n| n["category"] == "order_assigned").collect();
        assert_eq!(assigned.len(), 1, "{items:?}");
        assert!(assigned[0]["title"].as_str().unwrap().contains("已分配给您"), "{}", assigned[0]);
        assert!(assigned[0]["title_id"].as_str().unwrap().contains("kepada Anda"), "{}", assigned[0]);
        assert!(!items.iter().any(|n| n["category"] == "order_status" && n["title"].as_str().unwrap().contains("处理中")),
            "the operator moved it to processing and is not told so");

        // Items: the seller adds one, the operator is told (and the seller is not).
        let before_seller = total(&app, seller).await;
        let r = app.post(&format!("/orders/{id}/items"), Some(seller), json!({"product_name": "Visa", "unit_price": 5})).await;
        assert_eq!(r.status, 200, "{}", r.text);
        let item = id_of(r.data());
        assert_eq!(total(&app, seller).await, before_seller);
        let (n, _) = newest(&app, operator).await;
        assert_eq!((n["category"].as_str(), n["resource_id"].as_str()), (Some("order_item"), Some(id.as_str())));
        assert!(n["title_id"].as_str().unwrap().contains("ditambahkan"), "{n}");
        app.put(&format!("/orders/{id}/items/{item}"), Some(operator), json!({"quantity": 2})).await.expect(200);
        let (n, _) = newest(&app, seller).await;
        assert_eq!(n["category"], "order_item");
        assert!(n["title"].as_str().unwrap().contains("已更新"), "{n}");
        app.delete(&format!("/orders/{id}/items/{item}"), Some(operator)).await.expect(200);
        let (n, _) = newest(&app, seller).await;
        assert!(n["title"].as_str().unwrap().contains("删除"), "{n}");

        // A file uploaded by the operator tells the seller; verified by the admin, both.
        let r = upload(&app, Some(operator), &format!("/orders/{id}/files"), &[("file", Some("passport.png"), PNG)]).await;
        assert_eq!(r.status, 200, "{}", r.text);
        let file = id_of(r.data());
        let (n, _) = newest(&app, seller).await;
        assert_eq!(n["category"], "order_file");
        assert_eq!(n["content"], "passport.png");
        app.post(&format!("/orders/{id}/files/{file}/verify"), app.admin(), json!({"is_verified": true})).await.expect(200);
        for who in [seller, operator] {
            let (n, _) = newest(&app, who).await;
            assert_eq!(n["category"], "order_file");
            assert!(n["title_id"].as_str().unwrap().contains("diverifikasi"), "{n}");
        }

        // A comment by the seller tells the operator, with its text.
        let r = app.post(&format!("/orders/{id}/comments"), Some(seller), json!({"content": "passport is ready"})).await;
        assert_eq!(r.status, 200, "{}", r.text);
        let (n, _) = newest(&app, operator).await;
        assert_eq!((n["category"].as_str(), n["content"].as_str()), (Some("order_comment"), Some("passport is ready")));

        // A collection task tells its assignee, in both languages.
        let r = app.post(&format!("/collection-tasks/orders/{id}"), Some(&s.finance), json!({"assigned_to_user_id": s.operator_id})).await;
        assert_eq!(r.status, 200, "{}", r.text);
        let (n, _) = newest(&app, operator).await;
        assert_eq!((n["notification_type"].as_str(), n["category"].as_str()), (Some("collection_task"), Some("collection_task")));
        assert!(n["title"].as_str().unwrap().contains("待收款"), "{n}");
        assert!(n["title_id"].as_str().unwrap().contains("Tagih"), "{n}");

        // A lead assigned by an administrator tells its new owner; one claimed does not.
        let lead = app.lead(app.admin().unwrap(), json!({"name": "Budi"})).await;
        let lead_id = id_of(&lead);
        app.post(&format!("/leads/{lead_id}/assign"), app.admin(), json!({"owner_user_id": s.seller_id})).await.expect(200);
        let (n, _) = newest(&app, seller).await;
        assert_eq!((n["notification_type"].as_str(), n["category"].as_str()), (Some("lead_assigned"), Some("lead_assigned")));
        assert_eq!(n["resource_id"], lead_id.as_str());
        assert!(n["title"].as_str().unwrap().contains("Budi"), "{n}");
        assert!(n["title_id"].as_str().unwrap().contains("Prospek Budi"), "{n}");
    }
);

db_test!(
    async fn a_change_that_is_refused_writes_no_notification(backend) {
        let app = TestApp::spawn(backend).await;
        let s = processing_order(&app).await;
        let before = total(&app, &s.seller).await;
        // Completing with an unfinished stage is refused after the checks inside the transaction.
        let r = app.post(&format!("/orders/{}/stages", s.order), Some(&s.operator), json!({"stage_name": "visa"})).await;
        assert_eq!(r.status, 200, "{}", r.text);
        app.put(&format!("/orders/{}", s.order), Some(&s.operator), json!({"status_code": "completed"})).await.expect(409);
        assert_eq!(total(&app, &s.seller).await, before);
    }
);
