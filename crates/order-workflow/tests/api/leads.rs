//! Leads: CRUD on both databases, levels from service-management, visibility, the status machine
//! over HTTP, follow-ups and notes, duplicates, masking, optimistic locking, other tenants' ids.

use crate::helpers::*;
use crm_common::db_test;
use serde_json::json;
use uuid::Uuid;

db_test!(
    async fn a_seller_creates_reads_lists_updates_and_deletes_leads(backend) {
        let app = TestApp::spawn(backend).await;
        let (seller_id, seller) = app.user(BANTU, "sales@bantu.test", &["SALES"]).await;
        let l = app
            .lead(&seller, json!({"name": "Budi", "company_name": "PT Maju Jaya", "contact_name": "Budi", "phone": "081234567890",
                "email": "budi@maju.id", "address": "Jakarta", "level": "5", "source": "expo", "next_follow_up_at": "2026-12-10T03:00:00Z"}))
            .await;
        assert_eq!(l["owner_user_id"], seller_id.to_string());
        assert_eq!(l["owner_username"], "sales");
        assert_eq!(l["status"], "new");
        assert_eq!(l["level"], "5");
        assert_eq!(l["level_name_zh"], "中小企业");
        assert!(l["level_name_id"].is_string());
        assert_eq!(l["is_in_public_pool"], false);
        assert_eq!(l["customer_id"], serde_json::Value::Null);
        assert_eq!(l["phone"], "081234567890", "the owner sees the phone unmasked");
        assert_eq!(l["version"], 1);
        assert_eq!(l["next_follow_up_at"], "2026-12-10T03:00:00Z");
        let id = id_of(&l);
        app.lead(&seller, json!({"name": "Sari", "company_name": "CV Sentosa", "status": "contacted"})).await;

        let r = app.get(&format!("/leads/{id}"), Some(&seller)).await;
        r.expect(200);
        assert_eq!(r.data()["company_name"], "PT Maju Jaya");

        let r = app.get("/leads", Some(&seller)).await;
        r.expect(200);
        assert_eq!(r.data()["total"], 2);
        assert_eq!(r.data()["page"], 1);
        assert_eq!(r.data()["size"], 20);
        assert_eq!(r.data()["pages"], 1);
        assert_eq!(r.data()["items"][0]["name"], "Sari", "newest first");
        for (query, expected) in [
            ("company_name=maju", 1),
            ("phone=081234567890", 1),
            ("email=budi@maju.id", 1),
            ("status=contacted", 1),
            (&format!("owner_user_id={seller_id}&is_in_public_pool=false") as &str, 2),
            ("is_in_public_pool=true", 0),
            (&format!("customer_id={}", Uuid::now_v7()), 0),
            ("size=1&page=2", 2),
        ] {
            let r = app.get(&format!("/leads?{query}"), Some(&seller)).await;
            r.expect(200);
            assert_eq!(r.data()["total"], expected, "{query}: {}", r.text);
        }
        // A keyset walk: one lead per page, then nothing more.
        let r = app.get("/leads?size=1", Some(&seller)).await;
        assert_eq!(r.data()["items"][0]["name"], "Sari");
        let cursor = r.data()["next_cursor"].as_str().unwrap().to_owned();
        let r = app.get(&format!("/leads?size=1&after={cursor}"), Some(&seller)).await;
        r.expect(200);
        assert_eq!(r.data()["items"][0]["name"], "Budi");
        assert_eq!(r.data()["next_cursor"], serde_json::Value::Null);
        app.get("/leads?after=garbage", Some(&seller)).await.expect(400);
        app.get("/leads?size=1001", Some(&seller)).await.expect(400);
        app.get("/leads?status=won", Some(&seller)).await.expect(400);

        let r = app.put(&format!("/leads/{id}"), Some(&seller), json!({"name": "Budi S.", "version": 1, "level": "4"})).await;
        r.expect(200);
        assert_eq!(r.data()["name"], "Budi S.");
        assert_eq!(r.data()["version"], 2);
        assert_eq!(r.data()["level"], "4");
        app.put(&format!("/leads/{id}"), Some(&seller), json!({"customer_id": Uuid::now_v7()})).await.expect(400);
        app.put(&format!("/leads/{id}"), Some(&seller), json!({"email": "not-an-email"})).await.expect(400);

        app.delete(&format!("/leads/{id}"), Some(&seller)).await.expect(200);
        app.get(&format!("/leads/{id}"), Some(&seller)).await.expect(404);
    }
);

db_test!(
    async fn bad_input_is_refused(backend) {
        let app = TestApp::spawn(backend).await;
        let admin = app.admin();
        for body in [
            json!({"name": ""}),
            json!({"name": "X", "email": "nope"}),
            json!({"name": "X", "phone": "1".repeat(51)}),
            json!({"name": "X", "status": "won"}),
            json!({"name": "X", "status": "converted"}),
            json!({"name": "X", "customer_id": Uuid::now_v7()}),
            json!({"name": "X", "level": "no-such-level"}),
        ] {
            let r = app.post("/leads", admin, body.clone()).await;
            assert_eq!(r.status, 400, "{body}: {}", r.text);
        }
        let r = app.post("/leads", admin, json!({"name": "X", "level": "no-such-level"})).await;
        assert!(r.text.contains("level"), "{}", r.text);
        app.post("/leads", None, json!({"name": "X"})).await.expect(401);
        let (_, ops) = app.user(BANTU, "ops@bantu.test", &["OPERATION"]).await;
        app.post("/leads", Some(&ops), json!({"name": "X"})).await.expect(403);
        app.get("/leads", Some(&ops)).await.expect(403);
    }
);

db_test!(
    async fn visibility_admin_owner_other_seller_and_pool(backend) {
        let app = TestApp::spawn(backend).await;
        let (_, owner) = app.user(BANTU, "owner@bantu.test", &["SALES"]).await;
        let (_, other) = app.user(BANTU, "other@bantu.test", &["SALES"]).await;
        let mine = id_of(&app.lead(&owner, json!({"name": "Owned"})).await);
        let pool = id_of(&app.lead(&app.admin_token, json!({"name": "Pooled", "is_in_public_pool": true})).await);
        let admins = id_of(&app.lead(&app.admin_token, json!({"name": "Admin's"})).await);

        let names = |r: &crm_common::testing::TestResponse| {
            let mut v: Vec<String> =
                r.data()["items"].as_array().unwrap().iter().map(|l| l["name"].as_str().unwrap().to_owned()).collect();
            v.sort();
            v
        };
        let r = app.get("/leads", app.admin()).await;
        assert_eq!(names(&r), ["Admin's", "Owned", "Pooled"]);
        let r = app.get("/leads", Some(&owner)).await;
        assert_eq!(names(&r), ["Owned", "Pooled"]);
        let r = app.get("/leads", Some(&other)).await;
        assert_eq!(names(&r), ["Pooled"]);
        let r = app.get("/leads?is_in_public_pool=true", Some(&owner)).await;
        assert_eq!(names(&r), ["Pooled"]);
        assert_eq!(r.data()["items"][0]["owner_user_id"], serde_json::Value::Null);

        for (token, id, status) in [
            (app.admin_token.as_str(), &mine, 200),
            (app.admin_token.as_str(), &pool, 200),
            (owner.as_str(), &mine, 200),
            (owner.as_str(), &pool, 200),
            (owner.as_str(), &admins, 404),
            (other.as_str(), &mine, 404),
            (other.as_str(), &pool, 200),
            (other.as_str(), &admins, 404),
        ] {
            let r = app.get(&format!("/leads/{id}"), Some(token)).await;
            assert_eq!(r.status, status, "{id}: {}", r.text);
        }
        // Seeing a pool lead is not owning it: changes are the owner's or an administrator's.
        app.put(&format!("/leads/{pool}"), Some(&other), json!({"name": "Mine now"})).await.expect(403);
        app.post(&format!("/leads/{pool}/notes"), Some(&other), json!({"note_type": "comment", "content": "x"})).await.expect(403);
        app.delete(&format!("/leads/{pool}"), Some(&other)).await.expect(403);
        app.delete(&format!("/leads/{mine}"), Some(&other)).await.expect(404);
        app.put(&format!("/leads/{mine}"), app.admin(), json!({"name": "Edited by admin"})).await.expect(200);
        // Only administrators give a lead to someone else at creation.
        let other_id = uuid(&app.fget("/auth/me", Some(&other)).await.data()["id"]);
        app.post("/leads", Some(&owner), json!({"name": "For other", "owner_user_id": other_id})).await.expect(403);
        let r = app.post("/leads", app.admin(), json!({"name": "For other", "owner_user_id": other_id})).await;
        r.expect(200);
        assert_eq!(r.data()["owner_username"], "other");
    }
);

db_test!(
    async fn follow_ups_drive_the_status_machine_and_notes_are_kept(backend) {
        let app = TestApp::spawn(backend).await;
        let (_, seller) = app.user(BANTU, "sales@bantu.test", &["SALES"]).await;
        let id = id_of(&app.lead(&seller, json!({"name": "Budi"})).await);
        let fu = |date: &str, after: Option<&str>| {
            json!({"follow_up_type": "call", "content": "Called", "follow_up_date": date, "status_after": after})
        };
        let r = app.post(&format!("/leads/{id}/follow-ups"), Some(&seller), fu("2026-12-01T03:00:00Z", Some("contacted"))).await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(r.data()["status_before"], "new");
        assert_eq!(r.data()["status_after"], "contacted");
        assert_eq!(r.data()["created_by_name"], "sales");
        let r = app.get(&format!("/leads/{id}"), Some(&seller)).await;
        assert_eq!(r.data()["status"], "contacted");
        assert_eq!(r.data()["last_follow_up_at"], "2026-12-01T03:00:00Z");
        assert_eq!(r.data()["version"], 2);

        // Backwards is refused, naming what is allowed.
        let r = app.post(&format!("/leads/{id}/follow-ups"), Some(&seller), fu("2026-12-02T03:00:00Z", Some("new"))).await;
        r.expect(409);
        assert!(r.body["message"].as_str().unwrap().contains("qualified, lost"), "{}", r.text);
        let r = app.put(&format!("/leads/{id}"), Some(&seller), json!({"status": "new"})).await;
        r.expect(409);
        app.post(&format!("/leads/{id}/follow-ups"), Some(&seller), fu("2026-12-02T03:00:00Z", Some("won"))).await.expect(400);
        app.post(&format!("/leads/{id}/follow-ups"), Some(&seller), json!({"follow_up_type": "fax", "follow_up_date": "2026-12-02T03:00:00Z"}))
            .await
            .expect(400);
        // Without a status the lead stays where it is.
        app.post(&format!("/leads/{id}/follow-ups"), Some(&seller), fu("2026-12-03T03:00:00Z", None)).await.expect(200);
        app.put(&format!("/leads/{id}"), Some(&seller), json!({"status": "qualified"})).await.expect(200);
        app.post(&format!("/leads/{id}/follow-ups"), Some(&seller), fu("2026-12-04T03:00:00Z", Some("lost"))).await.expect(200);
        let r = app.post(&format!("/leads/{id}/follow-ups"), Some(&seller), fu("2026-12-05T03:00:00Z", Some("contacted"))).await;
        r.expect(409);
        assert!(r.body["message"].as_str().unwrap().contains("lost is final"), "{}", r.text);

        let r = app.get(&format!("/leads/{id}/follow-ups"), Some(&seller)).await;
        r.expect(200);
        let rows = r.data().as_array().unwrap();
        assert_eq!(rows.len(), 3);
        assert_eq!(rows[0]["follow_up_date"], "2026-12-04T03:00:00Z", "newest first");
        assert_eq!(rows[0]["status_before"], "qualified");
        assert_eq!(rows[0]["status_after"], "lost");
        assert_eq!(rows[2]["created_by_name"], "sales");

        let r = app.post(&format!("/leads/{id}/notes"), Some(&seller), json!({"note_type": "reminder", "content": "Send the quote", "is_important": true})).await;
        assert_eq!(r.status, 200, "{}", r.text);
        app.post(&format!("/leads/{id}/notes"), Some(&seller), json!({"note_type": "comment", "content": "Second"})).await.expect(200);
        app.post(&format!("/leads/{id}/notes"), Some(&seller), json!({"note_type": "memo", "content": "x"})).await.expect(400);
        app.post(&format!("/leads/{id}/notes"), Some(&seller), json!({"note_type": "task", "content": " "})).await.expect(400);
        let r = app.get(&format!("/leads/{id}/notes"), Some(&seller)).await;
        r.expect(200);
        let rows = r.data().as_array().unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0]["content"], "Second");
        assert_eq!(rows[1]["is_important"], true);
        assert_eq!(rows[1]["created_by_name"], "sales");
    }
);

db_test!(
    async fn a_stale_version_is_refused_with_the_current_lead(backend) {
        let app = TestApp::spawn(backend).await;
        let id = id_of(&app.lead(&app.admin_token, json!({"name": "Original"})).await);
        let r = app.put(&format!("/leads/{id}"), app.admin(), json!({"name": "First edit", "version": 1})).await;
        r.expect(200);
        let r = app.put(&format!("/leads/{id}"), app.admin(), json!({"name": "Stale edit", "version": 1})).await;
        r.expect(409);
        assert_eq!(r.data()["name"], "First edit");
        assert_eq!(r.data()["version"], 2);
        let stale = app
            .client
            .send(app.client.builder(reqwest::Method::PUT, &format!("{PREFIX}/leads/{id}"), app.admin()).header("if-match", "\"1\"").json(&json!({"name": "Stale again"})))
            .await;
        stale.expect(409);
        app.client
            .send(app.client.builder(reqwest::Method::PUT, &format!("{PREFIX}/leads/{id}"), app.admin()).header("if-match", "nope").json(&json!({"name": "x"})))
            .await
            .expect(400);
        let ok = app
            .client
            .send(app.client.builder(reqwest::Method::PUT, &format!("{PREFIX}/leads/{id}"), app.admin()).header("if-match", "\"2\"").json(&json!({"name": "Second edit"})))
            .await;
        ok.expect(200);
        assert_eq!(app.get(&format!("/leads/{id}"), app.admin()).await.data()["name"], "Second edit");
    }
);

db_test!(
    async fn contact_details_are_masked_without_customer_pii_unless_owned(backend) {
        let app = TestApp::spawn(backend).await;
        let (_, owner) = app.user(BANTU, "owner@bantu.test", &["SALES"]).await;
        // FINANCE alone has no lead permissions; with SALES it reads leads but not contact details.
        let (_, finance_only) = app.user(BANTU, "fin@bantu.test", &["FINANCE"]).await;
        app.get("/leads", Some(&finance_only)).await.expect(403);
        let (_, finance) = app.user(BANTU, "finsales@bantu.test", &["FINANCE", "SALES"]).await;
        let id = id_of(&app.lead(&owner, json!({"name": "Budi", "phone": "081234567890", "email": "budi@maju.id"})).await);
        app.post(&format!("/leads/{id}/move-to-pool"), Some(&owner), json!({"pool_id": null})).await.expect(200);

        let r = app.get(&format!("/leads/{id}"), Some(&finance)).await;
        r.expect(200);
        assert_ne!(r.data()["phone"], "081234567890");
        assert_ne!(r.data()["email"], "budi@maju.id");
        assert!(r.data()["phone"].as_str().unwrap().contains('*'), "{}", r.text);
        assert_eq!(r.data()["pii_masked"], true);
        let r = app.get("/leads?is_in_public_pool=true", Some(&finance)).await;
        assert_eq!(r.data()["items"][0]["pii_masked"], true);
        let r = app.get(&format!("/leads/{id}"), app.admin()).await;
        assert_eq!(r.data()["phone"], "081234567890");
        assert_eq!(r.data()["pii_masked"], false);
        // Claimed, it is theirs: unmasked; a masked value sent back keeps the stored one.
        let me = uuid(&app.fget("/auth/me", Some(&finance)).await.data()["id"]);
        app.post(&format!("/leads/{id}/assign"), Some(&finance), json!({"owner_user_id": me})).await.expect(200);
        let r = app.get(&format!("/leads/{id}"), Some(&finance)).await;
        assert_eq!(r.data()["phone"], "081234567890");
        let masked = crm_common::pii::phone("081234567890");
        app.put(&format!("/leads/{id}"), app.admin(), json!({"phone": masked})).await.expect(200);
        assert_eq!(app.get(&format!("/leads/{id}"), app.admin()).await.data()["phone"], "081234567890");
    }
);

db_test!(
    async fn duplicates_are_found_and_scored(backend) {
        let app = TestApp::spawn(backend).await;
        let admin = app.admin_token.clone();
        let a = id_of(&app.lead(&admin, json!({"name": "A", "company_name": "PT Maju Jaya", "phone": "0812", "email": "a@maju.id"})).await);
        let b = id_of(&app.lead(&admin, json!({"name": "B", "company_name": "PT Maju", "phone": "0999"})).await);
        app.lead(&admin, json!({"name": "C", "company_name": "CV Lain", "email": "c@lain.id"})).await;
        let (_, _, other_org) = app.org("PT Lain", "internal").await;
        app.lead(&other_org, json!({"name": "Elsewhere", "company_name": "PT Maju Jaya"})).await;

        // Fuzzy: "pt maju" is in both names; phone equal on A only.
        let r = app.post("/leads/check-duplicate", Some(&admin), json!({"company_name": "PT Maju", "phone": "0812", "email": null, "exclude_lead_id": null, "exact_match": false})).await;
        r.expect(200);
        let d = r.data();
        assert_eq!(d["has_duplicate"], true);
        let dups = d["duplicates"].as_array().unwrap();
        assert_eq!(dups.len(), 2, "the other organization's lead is not a duplicate: {}", r.text);
        // B: company equal (1) and phone different (0) → 0.5; A: (2·7/19 + 1) / 2 ≈ 0.868.
        assert_eq!(dups[0]["id"], a.as_str());
        let expected_a = (14.0 / 19.0 + 1.0) / 2.0;
        assert!((dups[0]["similarity_score"].as_f64().unwrap() - expected_a).abs() < 1e-9, "{}", r.text);
        assert_eq!(dups[1]["id"], b.as_str());
        assert!((dups[1]["similarity_score"].as_f64().unwrap() - 0.5).abs() < 1e-9);
        assert!((d["similarity_score"].as_f64().unwrap() - expected_a).abs() < 1e-9);
        assert_eq!(dups[0]["name"], "A", "duplicates are lead rows");

        // Exact company name, ignoring case, and excluding the lead being edited.
        let r = app.post("/leads/check-duplicate", Some(&admin), json!({"company_name": "pt maju", "phone": null, "email": null, "exclude_lead_id": null, "exact_match": true})).await;
        let dups = r.data()["duplicates"].as_array().unwrap().clone();
        assert_eq!(dups.len(), 1);
        assert_eq!(dups[0]["id"], b.as_str());
        let r = app.post("/leads/check-duplicate", Some(&admin), json!({"company_name": "PT Maju", "exclude_lead_id": b, "exact_match": true})).await;
        assert_eq!(r.data()["has_duplicate"], false);
        assert_eq!(r.data()["similarity_score"], serde_json::Value::Null);
        // E-mail alone, ignoring case.
        let r = app.post("/leads/check-duplicate", Some(&admin), json!({"email": "C@LAIN.ID"})).await;
        assert_eq!(r.data()["duplicates"].as_array().unwrap().len(), 1);
        assert_eq!(r.data()["duplicates"][0]["similarity_score"], 1.0);
        // Nothing to compare: nothing found.
        let r = app.post("/leads/check-duplicate", Some(&admin), json!({"company_name": " ", "exact_match": false})).await;
        assert_eq!(r.data()["has_duplicate"], false);
    }
);

db_test!(
    async fn another_organizations_leads_are_not_found_on_any_id_route(backend) {
        let app = TestApp::spawn(backend).await;
        let id = id_of(&app.lead(&app.admin_token, json!({"name": "BANTU's lead", "is_in_public_pool": true})).await);
        let (_, other_admin_id, other) = app.org("PT Vendor", "vendor").await;
        let other = Some(other.as_str());
        app.get(&format!("/leads/{id}"), other).await.expect(404);
        app.put(&format!("/leads/{id}"), other, json!({"name": "x"})).await.expect(404);
        app.delete(&format!("/leads/{id}"), other).await.expect(404);
        app.post(&format!("/leads/{id}/move-to-pool"), other, json!({"pool_id": null})).await.expect(404);
        app.post(&format!("/leads/{id}/assign"), other, json!({"owner_user_id": other_admin_id})).await.expect(404);
        app.get(&format!("/leads/{id}/follow-ups"), other).await.expect(404);
        app.post(&format!("/leads/{id}/follow-ups"), other, json!({"follow_up_type": "call", "follow_up_date": "2026-12-01T00:00:00Z"})).await.expect(404);
        app.get(&format!("/leads/{id}/notes"), other).await.expect(404);
        app.post(&format!("/leads/{id}/notes"), other, json!({"note_type": "comment", "content": "x"})).await.expect(404);
        let r = app.get("/leads?is_in_public_pool=true", other).await;
        assert_eq!(r.data()["total"], 0, "another organization's pool is not theirs");
        app.get(&format!("/leads/{id}"), app.admin()).await.expect(200);
    }
);

db_test!(
    async fn service_management_down_is_a_503_naming_it(backend) {
        let app = TestApp::spawn_with(backend, false).await;
        let r = app.post("/leads", app.admin(), json!({"name": "X", "level": "5"})).await;
        assert_eq!(r.status, 503, "{}", r.text);
        assert!(r.body["message"].as_str().unwrap().contains("service-management"), "{}", r.text);
        // Without a level nothing needs service-management.
        let r = app.post("/leads", app.admin(), json!({"name": "X"})).await;
        assert_eq!(r.status, 200, "{}", r.text);
    }
);
