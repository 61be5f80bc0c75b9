//! The public pool: moving a lead there clears its owner; administrators assign any lead, others
//! only claim pool leads for themselves.

use crate::helpers::*;
use crm_common::db_test;
use serde_json::json;

db_test!(
    async fn leads_go_to_the_pool_and_are_claimed_or_assigned(backend) {
        let app = TestApp::spawn(backend).await;
        let (owner_id, owner) = app.user(BANTU, "owner@bantu.test", &["SALES"]).await;
        let (other_id, other) = app.user(BANTU, "other@bantu.test", &["SALES"]).await;
        let id = id_of(&app.lead(&owner, json!({"name": "Budi"})).await);

        // Only the owner (or an administrator) moves a lead to the pool.
        app.post(&format!("/leads/{id}/move-to-pool"), Some(&other), json!({"pool_id": null})).await.expect(404);
        let r = app.post(&format!("/leads/{id}/move-to-pool"), Some(&owner), json!({"pool_id": null})).await;
        r.expect(200);
        assert_eq!(r.data()["is_in_public_pool"], true);
        assert_eq!(r.data()["owner_user_id"], serde_json::Value::Null);
        assert!(r.data()["moved_to_pool_at"].is_string());
        assert_eq!(r.data()["version"], 2);

        // A non-admin may not hand a pool lead to someone else, only claim it.
        app.post(&format!("/leads/{id}/assign"), Some(&other), json!({"owner_user_id": owner_id})).await.expect(403);
        let r = app.post(&format!("/leads/{id}/assign"), Some(&other), json!({"owner_user_id": other_id})).await;
        r.expect(200);
        assert_eq!(r.data()["owner_user_id"], other_id.to_string());
        assert_eq!(r.data()["owner_username"], "other");
        assert_eq!(r.data()["is_in_public_pool"], false);
        assert_eq!(r.data()["moved_to_pool_at"], serde_json::Value::Null);
        // Claimed, it is no longer the first owner's to see.
        app.get(&format!("/leads/{id}"), Some(&owner)).await.expect(404);
        // Nor to claim back; the new owner's retried claim is harmless.
        app.post(&format!("/leads/{id}/assign"), Some(&owner), json!({"owner_user_id": owner_id})).await.expect(404);
        app.post(&format!("/leads/{id}/assign"), Some(&other), json!({"owner_user_id": other_id})).await.expect(200);

        // An administrator assigns any lead to a member of the organization, not to a stranger.
        let r = app.post(&format!("/leads/{id}/assign"), app.admin(), json!({"owner_user_id": owner_id})).await;
        r.expect(200);
        assert_eq!(r.data()["owner_username"], "owner");
        let (_, _, org_admin) = app.org("PT Lain", "internal").await;
        let theirs = id_of(&app.lead(&org_admin, json!({"name": "Theirs"})).await);
        let r = app.post(&format!("/leads/{theirs}/assign"), Some(&org_admin), json!({"owner_user_id": owner_id})).await;
        r.expect(400);
        assert!(r.text.contains("owner_user_id"), "{}", r.text);
        app.post(&format!("/leads/{id}/move-to-pool"), app.admin(), json!({})).await.expect(200);
    }
);

db_test!(
    async fn a_non_admin_cannot_assign_their_own_lead_away_and_converted_leads_stay_out_of_the_pool(backend) {
        let app = TestApp::spawn(backend).await;
        let (_, owner) = app.user(BANTU, "owner@bantu.test", &["SALES"]).await;
        let (other_id, _) = app.user(BANTU, "other@bantu.test", &["SALES"]).await;
        let id = id_of(&app.lead(&owner, json!({"name": "Budi", "status": "qualified"})).await);
        app.post(&format!("/leads/{id}/assign"), Some(&owner), json!({"owner_user_id": other_id})).await.expect(403);
        app.put(&format!("/leads/{id}"), Some(&owner), json!({"owner_user_id": other_id})).await.expect(403);
        app.put(&format!("/leads/{id}"), Some(&owner), json!({"status": "converted"})).await.expect(200);
        app.post(&format!("/leads/{id}/move-to-pool"), Some(&owner), json!({"pool_id": null})).await.expect(409);
        let r = app.put(&format!("/leads/{id}"), app.admin(), json!({"owner_user_id": other_id})).await;
        r.expect(200);
        assert_eq!(r.data()["owner_user_id"], other_id.to_string());
    }
);
