//! Temporary links: made for what the creator can see, opened without a token, each open counted
//! — exactly `max_access_count` of 20 concurrent opens succeed —, 404 unknown or disabled, 410
//! expired or used up; listed and disabled by their creator only; another tenant's ids are 404.

use crate::helpers::*;
use crate::stages::processing_order;
use chrono::{Duration, Utc};
use crm_common::db_test;
use crm_order_workflow::temporary_links::model as link;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, EntityTrait};
use serde_json::json;
use uuid::Uuid;

db_test!(
    async fn twenty_concurrent_opens_of_a_five_use_link_succeed_exactly_five_times(backend) {
        let app = TestApp::spawn(backend).await;
        let s = processing_order(&app).await;
        let r = app
            .post("/temporary-links", Some(&s.seller), json!({"resource_type": "order", "resource_id": s.order, "max_access_count": 5}))
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        let token = r.data()["link_token"].as_str().unwrap().to_owned();
        assert_eq!(token.len(), 43);
        assert_eq!((r.data()["current_access_count"].as_i64(), r.data()["is_active"].as_bool()), (Some(0), Some(true)));

        let path = format!("/temporary-links/{token}");
        let opens = (0..20).map(|_| {
            let client = app.client.clone();
            let path = format!("{PREFIX}{path}");
            tokio::spawn(async move { client.get(&path, None).await })
        });
        let mut statuses = Vec::new();
        for open in opens.collect::<Vec<_>>() {
            statuses.push(open.await.unwrap().status);
        }
        assert_eq!(statuses.iter().filter(|s| **s == 200).count(), 5, "{statuses:?}");
        assert_eq!(statuses.iter().filter(|s| **s == 410).count(), 15, "{statuses:?}");
        let r = app.get("/temporary-links", Some(&s.seller)).await;
        r.expect(200);
        assert_eq!(r.data()["items"][0]["current_access_count"], 5);
    }
);

db_test!(
    async fn a_link_opens_without_a_token_until_used_up_expired_or_disabled(backend) {
        let app = TestApp::spawn(backend).await;
        let s = processing_order(&app).await;
        let (_, other_seller) = app.user(BANTU, "other@bantu.test", &["SALES"]).await;

        // Bad input, and what the caller cannot see.
        for body in [
            json!({}),
            json!({"resource_type": "invoice", "resource_id": s.order}),
            json!({"resource_type": "order"}),
            json!({"resource_type": "order", "resource_id": s.order, "max_access_count": 0}),
            json!({"resource_type": "order", "resource_id": s.order, "expires_at": "2001-01-01T00:00:00Z"}),
            json!({"resource_type": "order", "resource_id": "not-a-uuid"}),
        ] {
            let r = app.post("/temporary-links", Some(&s.seller), body.clone()).await;
            assert_eq!(r.status, 400, "{body}: {}", r.text);
        }
        app.post("/temporary-links", None, json!({"resource_type": "order", "resource_id": s.order})).await.expect(401);
        app.post("/temporary-links", Some(&other_seller), json!({"resource_type": "order", "resource_id": s.order}))
            .await
            .expect(404);
        app.post("/temporary-links", Some(&s.seller), json!({"resource_type": "customer", "resource_id": Uuid::now_v7()}))
            .await
            .expect(404);

        // Once (the default): the order itself, then 410.
        let r = app.post("/temporary-links", Some(&s.seller), json!({"resource_type": "order", "resource_id": s.order})).await;
        assert_eq!(r.status, 200, "{}", r.text);
        let (id, token) = (id_of(r.data()), r.data()["link_token"].as_str().unwrap().to_owned());
        assert_eq!(r.data()["max_access_count"], 1);
        let r = app.get(&format!("/temporary-links/{token}"), None).await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(r.data()["link"]["current_access_count"], 1);
        let order = &r.data()["resource_data"];
        assert_eq!(order["id"], s.order.as_str());
        assert_eq!(order["status_code"], "processing");
        assert_eq!(order["order_items"].as_array().map(Vec::len), Some(1));
        let r = app.get(&format!("/temporary-links/{token}"), None).await;
        r.expect(410);
        assert!(r.text.contains("access limit"), "{}", r.text);
        app.get("/temporary-links/unknown-token", None).await.expect(404);

        // Expired: 410 without spending an access.
        let r = app
            .post("/temporary-links", Some(&s.seller), json!({"resource_type": "order", "resource_id": s.order,
                "max_access_count": 3, "expires_at": Utc::now() + Duration::hours(1)}))
            .await;
        let (later, later_token) = (uuid(&r.data()["id"]), r.data()["link_token"].as_str().unwrap().to_owned());
        app.get(&format!("/temporary-links/{later_token}"), None).await.expect(200);
        link::ActiveModel { id: Set(later), expires_at: Set(Some(Utc::now() - Duration::seconds(1))), ..Default::default() }
            .update(&app.state.db)
            .await
            .unwrap();
        let r = app.get(&format!("/temporary-links/{later_token}"), None).await;
        r.expect(410);
        assert!(r.text.contains("expired"), "{}", r.text);
        let row = link::Entity::find_by_id(later).one(&app.state.db).await.unwrap().unwrap();
        assert_eq!(row.current_access_count, 1);

        // Listed and disabled by the creator only; a disabled link is unknown.
        let r = app.get("/temporary-links", Some(&s.seller)).await;
        r.expect(200);
        assert_eq!(r.data()["total"], 2);
        assert_eq!(app.get("/temporary-links", Some(&other_seller)).await.data()["total"], 0);
        app.put(&format!("/temporary-links/{later}/disable"), Some(&other_seller), json!({})).await.expect(403);
        app.put(&format!("/temporary-links/{}/disable", Uuid::now_v7()), Some(&s.seller), json!({})).await.expect(404);
        app.put("/temporary-links/not-a-uuid/disable", Some(&s.seller), json!({})).await.expect(400);
        let r = app.put(&format!("/temporary-links/{id}/disable"), Some(&s.seller), json!({})).await;
        r.expect(200);
        assert_eq!(r.data()["is_active"], false);
        app.get(&format!("/temporary-links/{token}"), None).await.expect(404);

        // Another organization's administrator: 404.
        let (_, _, other_admin) = app.org("PT Lain", "vendor").await;
        app.put(&format!("/temporary-links/{later}/disable"), Some(&other_admin), json!({})).await.expect(404);
        app.post("/temporary-links", Some(&other_admin), json!({"resource_type": "order", "resource_id": s.order}))
            .await
            .expect(404);
    }
);

db_test!(
    async fn a_link_shows_only_what_still_exists_in_its_creators_organization(backend) {
        let app = TestApp::spawn(backend).await;
        let s = processing_order(&app).await;
        let make = || async {
            let body = json!({"resource_type": "order", "resource_id": s.order, "max_access_count": 3});
            let r = app.post("/temporary-links", Some(&s.seller), body).await;
            assert_eq!(r.status, 200, "{}", r.text);
            (uuid(&r.data()["id"]), r.data()["link_token"].as_str().unwrap().to_owned())
        };

        // A link whose organization is not the order's shows nothing of it (and spends nothing).
        let (moved, moved_token) = make().await;
        link::ActiveModel { id: Set(moved), organization_id: Set(Uuid::now_v7()), ..Default::default() }
            .update(&app.state.db)
            .await
            .unwrap();
        let r = app.get(&format!("/temporary-links/{moved_token}"), None).await;
        assert_eq!(r.status, 410, "{}", r.text);
        assert!(!r.text.contains(&s.order), "{}", r.text);

        // The order deleted after the link was made: 410, no access spent.
        let (id, token) = make().await;
        app.get(&format!("/temporary-links/{token}"), None).await.expect(200);
        let r = app.delete(&format!("/orders/{}", s.order), app.admin()).await;
        assert_eq!(r.status, 200, "{}", r.text);
        let r = app.get(&format!("/temporary-links/{token}"), None).await;
        assert_eq!(r.status, 410, "{}", r.text);
        assert!(r.text.contains("no longer exists"), "{}", r.text);
        let row = link::Entity::find_by_id(id).one(&app.state.db).await.unwrap().unwrap();
        assert_eq!(row.current_access_count, 1);
    }
);

db_test!(
    async fn every_permission_this_service_checks_is_in_foundations_catalogue(backend) {
        let app = TestApp::spawn(backend).await;
        let r = app.fget("/permissions", app.admin()).await;
        r.expect(200);
        let codes: Vec<&str> = r.data().as_array().unwrap().iter().filter_map(|p| p["code"].as_str()).collect();
        for code in crm_order_workflow::perm::CODES {
            assert!(codes.contains(code), "{code} is not in foundation's catalogue: an administrator cannot grant it");
        }
        // Granted as seeded: an operator shares an order and a worker lists their tasks.
        let (_, ops) = app.user(BANTU, "ops@bantu.test", &["OPERATION"]).await;
        app.get("/temporary-links", Some(&ops)).await.expect(200);
        app.get("/tasks", Some(&ops)).await.expect(200);
    }
);
