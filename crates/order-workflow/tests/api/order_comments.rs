//! Order comments at the original's flat paths and the real client's nested ones: bilingual
//! content collapsed by `lang`, pinned first then newest, replies in the same order and never
//! pinned, who may edit, other tenants' ids.

use crate::helpers::*;
use crm_common::db_test;
use crm_common::testing::TestResponse;
use serde_json::{Value, json};
use uuid::Uuid;

/// An order sold by the holder of `token`; its id.
pub async fn sold_order(app: &TestApp, token: &str) -> String {
    let customer = app.customer(token, "PT Maju Jaya").await;
    let r = app
        .post(
            "/orders",
            Some(token),
            json!({"title": "KITAS", "customer_id": customer, "order_items": [{"product_name": "KITAS", "unit_price": 100}]}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    id_of(r.data())
}

async fn comment(app: &TestApp, token: &str, path: &str, body: Value) -> Value {
    let r = app.post(path, Some(token), body).await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.data().clone()
}

fn contents(rows: &Value) -> Vec<String> {
    rows.as_array().unwrap().iter().map(|c| c["content"].as_str().unwrap_or_default().to_owned()).collect()
}

db_test!(
    async fn comments_at_both_addresses_pinned_first_with_replies_and_languages(backend) {
        let app = TestApp::spawn(backend).await;
        let (seller_id, seller) = app.user(BANTU, "sales@bantu.test", &["SALES"]).await;
        let id = sold_order(&app, &seller).await;
        let nested = format!("/orders/{id}/comments");

        // The real client sends `content`: stored in the `lang` language (zh by default).
        let first = comment(&app, &seller, &nested, json!({"content": "护照已收到", "is_internal": true})).await;
        assert_eq!(first["content_zh"], "护照已收到");
        assert_eq!(first["content_id"], Value::Null);
        assert_eq!(first["content"], "护照已收到");
        assert_eq!(first["is_internal"], true);
        assert_eq!(first["comment_type"], "general");
        assert_eq!(first["is_pinned"], false);
        assert_eq!(first["created_by"], seller_id.to_string());
        assert_eq!(first["created_by_name"], "sales");
        let c1 = id_of(&first);
        // A stage must be one of this order's; a real one is kept.
        let r = app.post(&nested, Some(&seller), json!({"content": "x", "order_stage_id": Uuid::now_v7()})).await;
        assert_eq!(r.status, 400, "{}", r.text);
        assert!(r.text.contains("order_stage_id"), "{}", r.text);
        let r = app.post(&format!("/orders/{id}/stages"), app.admin(), json!({"stage_name": "Documents"})).await;
        let stage = id_of(r.data());
        let staged = comment(&app, &seller, &nested, json!({"content": "阶段", "order_stage_id": stage})).await;
        assert_eq!(staged["order_stage_id"], stage.as_str());
        app.delete(&format!("{nested}/{}", id_of(&staged)), Some(&seller)).await.expect(200);
        let second = comment(&app, &seller, &format!("{nested}?lang=id"), json!({"content": "Paspor diterima"})).await;
        assert_eq!((second["content_id"].as_str(), second["content_zh"].as_str()), (Some("Paspor diterima"), None));
        assert_eq!(second["is_internal"], false);
        // The original's flat path names the order in the body; both languages at once.
        let pinned = comment(
            &app,
            &seller,
            "/order-comments",
            json!({"order_id": id, "content_zh": "请注意", "content_id": "Perhatian", "is_pinned": true,
                "comment_type": "internal"}),
        )
        .await;
        assert_eq!(pinned["is_pinned"], true);
        assert_eq!(pinned["is_internal"], true, "an internal comment is internal by default");
        let c3 = id_of(&pinned);

        // Pinned first, then newest; `content` by `lang`, falling back to the other language.
        let r = app.get(&nested, Some(&seller)).await;
        r.expect(200);
        assert_eq!((r.data()["total"].as_u64(), r.data()["page"].as_u64(), r.data()["size"].as_u64()), (Some(3), Some(1), Some(20)));
        assert_eq!(contents(&r.data()["items"]), ["请注意", "Paspor diterima", "护照已收到"]);
        let r = app.get(&format!("{nested}?lang=id"), Some(&seller)).await;
        assert_eq!(contents(&r.data()["items"]), ["Perhatian", "Paspor diterima", "护照已收到"]);
        let r = app.get(&format!("/order-comments/order/{id}/comments?lang=id&size=2"), Some(&seller)).await;
        r.expect(200);
        assert_eq!(r.data()["total"], 3);
        assert_eq!(contents(&r.data()["comments"]), ["Perhatian", "Paspor diterima"]);
        let r = app.get(&format!("/order-comments/order/{id}/comments?is_internal=true"), Some(&seller)).await;
        assert_eq!(contents(&r.data()["comments"]), ["请注意", "护照已收到"]);
        app.get(&format!("{nested}?lang=fr"), Some(&seller)).await.expect(400);
        app.get(&format!("{nested}?size=101"), Some(&seller)).await.expect(400);

        // One comment at both addresses.
        let r = app.get(&format!("/order-comments/{c3}?lang=id"), Some(&seller)).await;
        r.expect(200);
        assert_eq!(r.data()["content"], "Perhatian");
        let r = app.get(&format!("{nested}/{c3}"), Some(&seller)).await;
        r.expect(200);
        assert_eq!(r.data()["content"], "请注意");

        // Replies: in the parent's order, never pinned; the parent must exist in that order.
        let reply =
            comment(&app, &seller, &format!("{nested}/{c1}/reply"), json!({"content": "好的", "is_pinned": true})).await;
        assert_eq!(reply["replied_to_comment_id"], c1.as_str());
        assert_eq!(reply["order_id"], id.as_str());
        assert_eq!(reply["is_pinned"], false, "a reply is never pinned");
        let flat_reply = comment(&app, &seller, &format!("/order-comments/{c1}/reply"), json!({"content_id": "Oke"})).await;
        assert_eq!(flat_reply["replied_to_comment_id"], c1.as_str());
        assert_eq!(flat_reply["order_id"], id.as_str());
        let reply_id = id_of(&reply);
        let missing = Uuid::now_v7();
        app.post(&format!("/order-comments/{missing}/reply"), Some(&seller), json!({"content": "x"})).await.expect(404);
        app.post(&format!("{nested}/{missing}/reply"), Some(&seller), json!({"content": "x"})).await.expect(404);
        let r = app
            .post("/order-comments", Some(&seller), json!({"order_id": id, "content": "x", "replied_to_comment_id": missing}))
            .await;
        r.expect(404);
        let other = sold_order(&app, &seller).await;
        let r = app.post(&format!("/orders/{other}/comments/{c1}/reply"), Some(&seller), json!({"content": "x"})).await;
        assert_eq!(r.status, 404, "a parent of another order: {}", r.text);
        let r = app.post(&format!("{nested}/{reply_id}/pin"), Some(&seller), json!({"is_pinned": true})).await;
        assert_eq!(r.status, 400, "{}", r.text);
        let r = app.put(&format!("/order-comments/{reply_id}"), Some(&seller), json!({"is_pinned": true})).await;
        r.expect(400);

        // Pin at the client's path: now two pinned, newest pinned first.
        let r = app.post(&format!("{nested}/{c1}/pin"), Some(&seller), json!({"is_pinned": true})).await;
        r.expect(200);
        assert_eq!(r.data()["is_pinned"], true);
        let r = app.get(&nested, Some(&seller)).await;
        assert_eq!(contents(&r.data()["items"])[..2], ["请注意", "护照已收到"]);
        assert_eq!(r.data()["total"], 5);

        // Updates at both addresses: `content` writes the `lang` language, the other is kept.
        let r = app.put(&format!("{nested}/{c3}?lang=id"), Some(&seller), json!({"content": "Perhatian!"})).await;
        r.expect(200);
        assert_eq!((r.data()["content_zh"].as_str(), r.data()["content_id"].as_str()), (Some("请注意"), Some("Perhatian!")));
        assert_eq!(r.data()["content"], "Perhatian!");
        let r = app.put(&format!("/order-comments/{c3}"), Some(&seller), json!({"content_zh": "", "is_pinned": false})).await;
        r.expect(200);
        assert_eq!(r.data()["content_zh"], Value::Null, "an empty text clears its language");
        assert_eq!(r.data()["content"], "Perhatian!");
        assert_eq!(r.data()["is_pinned"], false);
        let r = app.put(&format!("/order-comments/{c3}"), Some(&seller), json!({"content_id": ""})).await;
        assert_eq!(r.status, 400, "a comment keeps some content: {}", r.text);

        // Bad input.
        for body in [json!({"content": "  "}), json!({"content": "x", "comment_type": "memo"}), json!({"content": "x".repeat(10_001)})] {
            let r = app.post(&nested, Some(&seller), body.clone()).await;
            assert_eq!(r.status, 400, "{body}: {}", r.text);
        }
        app.post("/order-comments", Some(&seller), json!({"content": "x"})).await.expect(400);

        // Deletes at both addresses; a deleted parent's replies stay.
        app.delete(&format!("{nested}/{c1}"), Some(&seller)).await.expect(200);
        app.get(&format!("/order-comments/{c1}"), Some(&seller)).await.expect(404);
        let r = app.get(&format!("/order-comments/{reply_id}"), Some(&seller)).await;
        r.expect(200);
        assert_eq!(r.data()["replied_to_comment_id"], Value::Null);
        let r = app.delete(&format!("/order-comments/{c3}"), Some(&seller)).await;
        r.expect(200);
        assert_eq!(r.data(), &json!(true));
        app.get(&format!("{nested}/{c3}"), Some(&seller)).await.expect(404);
    }
);

db_test!(
    async fn only_authors_and_managers_change_comments_and_other_tenants_see_none(backend) {
        let app = TestApp::spawn(backend).await;
        let (_, seller) = app.user(BANTU, "sales@bantu.test", &["SALES"]).await;
        let (_, other_seller) = app.user(BANTU, "sales2@bantu.test", &["SALES"]).await;
        let (_, operator) = app.user(BANTU, "ops@bantu.test", &["OPERATION"]).await;
        let (_, finance) = app.user(BANTU, "finance@bantu.test", &["FINANCE"]).await;
        let id = sold_order(&app, &seller).await;
        let nested = format!("/orders/{id}/comments");
        let c = id_of(&comment(&app, &seller, &nested, json!({"content": "mine"})).await);

        // Operations see the order and comment on it, but not change the seller's comment.
        let ops = id_of(&comment(&app, &operator, &nested, json!({"content": "received"})).await);
        app.put(&format!("{nested}/{c}"), Some(&operator), json!({"content": "x"})).await.expect(403);
        app.delete(&format!("/order-comments/{c}"), Some(&operator)).await.expect(403);
        app.post(&format!("{nested}/{c}/pin"), Some(&operator), json!({"is_pinned": true})).await.expect(403);
        app.put(&format!("{nested}/{ops}"), Some(&operator), json!({"content": "received, thanks"})).await.expect(200);
        // A manager changes anyone's.
        app.put(&format!("/order-comments/{ops}"), app.admin(), json!({"is_internal": true})).await.expect(200);
        // Finance reads but may not write (no order.update).
        app.get(&nested, Some(&finance)).await.expect(200);
        app.post(&nested, Some(&finance), json!({"content": "x"})).await.expect(403);
        // Another seller does not see the order: 404 everywhere.
        app.get(&nested, Some(&other_seller)).await.expect(404);
        app.get(&format!("/order-comments/{c}"), Some(&other_seller)).await.expect(404);
        app.post(&nested, Some(&other_seller), json!({"content": "x"})).await.expect(404);

        // Another organization's administrator: every id route is a 404.
        let (_, _, stranger) = app.org("PT Lain", "internal").await;
        let s = Some(stranger.as_str());
        let checks: Vec<(&str, String, Option<Value>)> = vec![
            ("get", nested.clone(), None),
            ("post", nested.clone(), Some(json!({"content": "x"}))),
            ("get", format!("{nested}/{c}"), None),
            ("put", format!("{nested}/{c}"), Some(json!({"content": "x"}))),
            ("delete", format!("{nested}/{c}"), None),
            ("post", format!("{nested}/{c}/reply"), Some(json!({"content": "x"}))),
            ("post", format!("{nested}/{c}/pin"), Some(json!({"is_pinned": true}))),
            ("post", "/order-comments".to_owned(), Some(json!({"order_id": id, "content": "x"}))),
            ("get", format!("/order-comments/{c}"), None),
            ("put", format!("/order-comments/{c}"), Some(json!({"content": "x"}))),
            ("delete", format!("/order-comments/{c}"), None),
            ("post", format!("/order-comments/{c}/reply"), Some(json!({"content": "x"}))),
            ("get", format!("/order-comments/order/{id}/comments"), None),
        ];
        for (method, path, body) in checks {
            let r: TestResponse = match method {
                "get" => app.get(&path, s).await,
                "put" => app.put(&path, s, body.unwrap()).await,
                "post" => app.post(&path, s, body.unwrap()).await,
                _ => app.delete(&path, s).await,
            };
            assert_eq!(r.status, 404, "{method} {path}: {}", r.text);
        }
        let r = app.get(&nested, Some(&seller)).await;
        assert_eq!(r.data()["total"], 2, "nothing added");
        let r = app.get(&format!("{nested}/{c}"), Some(&seller)).await;
        assert_eq!(r.data()["content"], "mine", "nothing changed");

        // Deleting the order takes its comments with it.
        app.delete(&format!("/orders/{id}"), app.admin()).await.expect(200);
        app.get(&format!("/order-comments/{c}"), app.admin()).await.expect(404);
    }
);
