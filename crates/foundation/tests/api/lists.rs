//! What the admin frontend asks of the users and organizations lists: pages of up to 1000 for its
//! drop-downs, and every filter it sends doing what it says.

use crate::helpers::*;
use chrono::{Duration, Utc};
use crm_common::db_test;
use crm_foundation::organizations::model::{employee, organization};
use crm_foundation::users::model::user;
use sea_orm::{ActiveValue::Set, EntityTrait};
use serde_json::{Value, json};
use std::collections::BTreeSet;
use uuid::Uuid;

/// `n` users of `org` written straight to the database: creating them through the API would
/// hash a password each.
async fn insert_members(app: &TestApp, org: Uuid, n: usize, prefix: &str) {
    let now = Utc::now();
    let mut users = Vec::new();
    let mut members = Vec::new();
    for i in 0..n {
        let id = Uuid::now_v7();
        let at = now - Duration::seconds(i as i64);
        users.push(user::ActiveModel {
            id: Set(id),
            username: Set(format!("{prefix}{i:04}")),
            email: Set(format!("{prefix}{i:04}@bulk.test")),
            phone: Set(None),
            contact_phone: Set(None),
            whatsapp: Set(None),
            wechat: Set(None),
            display_name: Set(None),
            avatar_url: Set(None),
            bio: Set(None),
            address: Set(None),
            gender: Set(None),
            password_hash: Set("x".into()),
            is_active: Set(true),
            is_locked: Set(false),
            last_login_at: Set(None),
            deleted_at: Set(None),
            created_by: Set(None),
            created_at: Set(at),
            updated_at: Set(at),
            version: Set(1),
        });
        members.push(employee::ActiveModel {
            id: Set(Uuid::now_v7()),
            user_id: Set(id),
            organization_id: Set(org),
            first_name: Set(None),
            last_name: Set(None),
            email: Set(None),
            phone: Set(None),
            position: Set(None),
            position_id: Set(None),
            department: Set(None),
            employee_number: Set(None),
            is_primary: Set(true),
            is_manager: Set(false),
            is_decision_maker: Set(false),
            is_active: Set(true),
            joined_at: Set(None),
            left_at: Set(None),
            notes: Set(None),
            created_by: Set(None),
            created_at: Set(at),
            updated_at: Set(at),
        });
    }
    // In chunks: SQLite bounds the number of bound parameters per statement.
    for chunk in users.chunks(200) {
        user::Entity::insert_many(chunk.to_vec()).exec_without_returning(&app.state.db).await.unwrap();
    }
    for chunk in members.chunks(200) {
        employee::Entity::insert_many(chunk.to_vec()).exec_without_returning(&app.state.db).await.unwrap();
    }
}

async fn insert_orgs(app: &TestApp, n: usize, org_type: &str) {
    let now = Utc::now();
    let rows: Vec<organization::ActiveModel> = (0..n)
        .map(|i| organization::ActiveModel {
            id: Set(Uuid::now_v7()),
            name: Set(format!("Bulk {org_type} {i:04}")),
            code: Set(Some(format!("BULK-{org_type}-{i:04}"))),
            organization_type: Set(org_type.into()),
            is_active: Set(true),
            is_locked: Set(false),
            is_verified: Set(false),
            created_at: Set(now - Duration::seconds(i as i64)),
            updated_at: Set(now),
            version: Set(1),
            ..Default::default()
        })
        .collect();
    for chunk in rows.chunks(100) {
        organization::Entity::insert_many(chunk.to_vec()).exec_without_returning(&app.state.db).await.unwrap();
    }
}

fn records(r: &crm_common::testing::TestResponse) -> &Vec<Value> {
    r.data()["records"].as_array().unwrap()
}

db_test!(
    async fn the_frontends_drop_downs_get_pages_of_a_thousand(backend) {
        let app = TestApp::spawn(backend).await;
        insert_members(&app, BANTU, 1100, "bulk").await;
        let r = app.get("/users?size=1000&is_active=true", app.admin()).await;
        r.expect(200);
        assert_eq!(records(&r).len(), 1000);
        assert_eq!(r.data()["total"], 1101);
        assert_eq!(r.data()["pages"], 2);
        let last = app.get("/users?size=1000&page=2&is_active=true", app.admin()).await;
        assert_eq!(records(&last).len(), 101);
        let ids: BTreeSet<&str> =
            records(&r).iter().chain(records(&last)).map(|u| u["id"].as_str().unwrap()).collect();
        assert_eq!(ids.len(), 1101, "the two pages do not overlap");
        assert_eq!(records(&r)[0]["primary_organization_name"], "BANTU");
        app.get("/users?size=1001", app.admin()).await.expect(400);

        insert_orgs(&app, 1050, "vendor").await;
        insert_orgs(&app, 5, "agent").await;
        let r = app.get("/organizations?size=1000&organization_type=vendor&is_active=true", app.admin()).await;
        r.expect(200);
        assert_eq!(records(&r).len(), 1000);
        assert_eq!(r.data()["total"], 1050);
        assert!(records(&r).iter().all(|o| o["organization_type"] == "vendor"));
        app.get("/organizations?size=1001", app.admin()).await.expect(400);
    }
);

/// The e-mails a users query answers, with the platform administrator's token.
async fn user_emails(app: &TestApp, query: &str) -> BTreeSet<String> {
    let r = app.get(&format!("/users?size=1000&{query}"), app.admin()).await;
    assert_eq!(r.status, 200, "{query}: {}", r.text);
    records(&r).iter().map(|u| u["email"].as_str().unwrap().to_owned()).collect()
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

db_test!(
    async fn every_users_filter_filters(backend) {
        let app = TestApp::spawn(backend).await;
        let org = app.create_org("Filter Partner", "agent").await;
        let org_id = uuid(&org["id"]);
        let org_admin = org["admin_user"]["email"].as_str().unwrap().to_owned();
        let r = app
            .post(
                "/users",
                app.admin(),
                json!({"organization_id": BANTU, "email": "maria@bantu.test", "username": "Maria.Sales",
                       "display_name": "Kasir Utama", "password": PASSWORD, "role_ids": [app.role_id("SALES").await]}),
            )
            .await;
        r.expect(200);
        let inactive = app.create_user(BANTU, "idle@bantu.test", &["FINANCE"]).await;
        app.put(&format!("/users/{}", inactive["id"].as_str().unwrap()), app.admin(), json!({"is_active": false}))
            .await
            .expect(200);
        let locked = app.create_user(BANTU, "locked@bantu.test", &["OPERATION"]).await;
        app.post(&format!("/users/{}/lock", locked["id"].as_str().unwrap()), app.admin(), json!({})).await.expect(200);
        let gone = app.create_user(BANTU, "gone@bantu.test", &["OPERATION"]).await;
        app.delete(&format!("/users/{}", gone["id"].as_str().unwrap()), app.admin()).await.expect(200);
        let sales = app.role_id("SALES").await;
        let admin_role = app.role_id("ADMIN").await;

        let everyone = set(&[ADMIN_EMAIL, "maria@bantu.test", "idle@bantu.test", "locked@bantu.test", &org_admin]);
        assert_eq!(user_emails(&app, "").await, everyone);
        // (query, the users it should leave), each a strict part of everyone.
        let cases: Vec<(String, BTreeSet<String>)> = vec![
            ("username=maria.s".into(), set(&["maria@bantu.test"])),
            ("username=ADMIN".into(), set(&["admin@bantu.test", &org_admin])),
            ("email=MARIA@bantu.test".into(), set(&["maria@bantu.test"])),
            (format!("organization_id={org_id}"), set(&[&org_admin])),
            (format!("organization_id={BANTU}"), set(&[ADMIN_EMAIL, "maria@bantu.test", "idle@bantu.test", "locked@bantu.test"])),
            (format!("role_id={sales}"), set(&["maria@bantu.test"])),
            (format!("role_id={admin_role}"), set(&[ADMIN_EMAIL, &org_admin])),
            ("is_active=false".into(), set(&["idle@bantu.test"])),
            ("is_active=true".into(), set(&[ADMIN_EMAIL, "maria@bantu.test", "locked@bantu.test", &org_admin])),
            ("is_locked=true".into(), set(&["locked@bantu.test"])),
            ("search=kasir".into(), set(&["maria@bantu.test"])),
            ("search=LOCKED@".into(), set(&["locked@bantu.test"])),
            ("username=maria&is_active=true".into(), set(&["maria@bantu.test"])),
            ("username=maria&is_active=false".into(), set(&[])),
        ];
        for (query, expected) in cases {
            let got = user_emails(&app, &query).await;
            assert_eq!(got, expected, "{query}");
            assert_ne!(got, everyone, "{query} must narrow the list");
        }
        let with_deleted = user_emails(&app, "include_deleted=true").await;
        assert!(with_deleted.contains("gone@bantu.test") && with_deleted.len() == everyone.len() + 1);
        // Empty values mean "no filter", as the frontend sends them for cleared inputs.
        assert_eq!(user_emails(&app, "username=&email=").await, everyone);
        // Values that cannot be filters are refused rather than ignored.
        for bad in ["is_active=maybe", "role_id=7", "organization_id=x", "is_locked=1x"] {
            app.get(&format!("/users?{bad}"), app.admin()).await.expect(400);
        }
        // Parameters the API does not define are ignored, by design (docs/API-DESIGN.md).
        assert_eq!(user_emails(&app, "_t=1733550000&frobnicate=yes").await, everyone);
    }
);

async fn org_names(app: &TestApp, query: &str) -> BTreeSet<String> {
    let r = app.get(&format!("/organizations?size=1000&{query}"), app.admin()).await;
    assert_eq!(r.status, 200, "{query}: {}", r.text);
    records(&r).iter().map(|o| o["name"].as_str().unwrap().to_owned()).collect()
}

db_test!(
    async fn every_organizations_filter_filters(backend) {
        let app = TestApp::spawn(backend).await;
        let vendor = app
            .post("/organizations", app.admin(), json!({"name": "PT Jasa Visa", "code": "JV-01", "organization_type": "vendor", "admin_password": PASSWORD}))
            .await;
        vendor.expect(200);
        app.create_org("Agen Nusantara", "agent").await;
        let closed = app.create_org("Agen Tutup", "agent").await;
        app.delete(&format!("/organizations/{}", closed["id"].as_str().unwrap()), app.admin()).await.expect(200);
        let locked = app.create_org("Agen Terkunci", "agent").await;
        app.post(&format!("/organizations/{}/lock", locked["id"].as_str().unwrap()), app.admin(), json!({}))
            .await
            .expect(200);

        let everyone = set(&["BANTU", "PT Jasa Visa", "Agen Nusantara", "Agen Tutup", "Agen Terkunci"]);
        assert_eq!(org_names(&app, "").await, everyone);
        let cases = [
            ("name=agen", set(&["Agen Nusantara", "Agen Tutup", "Agen Terkunci"])),
            ("name=JASA", set(&["PT Jasa Visa"])),
            ("code=JV-01", set(&["PT Jasa Visa"])),
            ("code=BANTU", set(&["BANTU"])),
            ("organization_type=vendor", set(&["PT Jasa Visa"])),
            ("organization_type=internal", set(&["BANTU"])),
            ("is_active=false", set(&["Agen Tutup"])),
            ("is_active=true", set(&["BANTU", "PT Jasa Visa", "Agen Nusantara", "Agen Terkunci"])),
            ("is_locked=true", set(&["Agen Tutup", "Agen Terkunci"])),
            ("organization_type=agent&is_active=true&is_locked=false", set(&["Agen Nusantara"])),
        ];
        for (query, expected) in cases {
            let got = org_names(&app, query).await;
            assert_eq!(got, expected, "{query}");
            assert_ne!(got, everyone, "{query} must narrow the list");
        }
        assert_eq!(org_names(&app, "name=&code=&organization_type=").await, everyone);
        for bad in ["organization_type=alien", "is_active=maybe", "is_locked=2"] {
            app.get(&format!("/organizations?{bad}"), app.admin()).await.expect(400);
        }
        assert_eq!(org_names(&app, "_t=1&unknown=1").await, everyone);
    }
);

db_test!(
    async fn organization_detail_and_role_permissions_carry_the_spec_fields(backend) {
        let app = TestApp::spawn(backend).await;
        let org = app.create_org("Imported Partner", "vendor").await;
        let id = uuid(&org["id"]);
        use sea_orm::{ColumnTrait, QueryFilter, sea_query::Expr};
        organization::Entity::update_many()
            .col_expr(organization::Column::ExternalId, Expr::value("legacy-42"))
            .col_expr(organization::Column::ParentId, Expr::value(BANTU))
            .filter(organization::Column::Id.eq(id))
            .exec(&app.state.db)
            .await
            .unwrap();
        let d = app.get(&format!("/organizations/{id}"), app.admin()).await;
        d.expect(200);
        assert_eq!(d.data()["external_id"], "legacy-42");
        assert_eq!(d.data()["parent_id"], BANTU.to_string());
        // Present (null) when not set, on the list too.
        let list = app.get("/organizations?organization_type=internal", app.admin()).await;
        let bantu = &records(&list)[0];
        assert!(bantu.get("external_id").is_some_and(Value::is_null));
        assert!(bantu.get("parent_id").is_some_and(Value::is_null));

        let sales = app.role_id("SALES").await;
        let r = app.get(&format!("/permissions/roles/{sales}"), app.admin()).await;
        r.expect(200);
        let perms = r.data().as_array().unwrap();
        assert!(!perms.is_empty());
        for field in ["id", "code", "name_zh", "name_id", "resource_type", "action", "description_zh", "description_id",
            "display_order", "is_active", "created_at", "updated_at"]
        {
            assert!(perms.iter().all(|p| p.get(field).is_some()), "{field}");
        }
        let codes: Vec<&str> = perms.iter().map(|p| p["code"].as_str().unwrap()).collect();
        let mut sorted = codes.clone();
        sorted.sort_unstable();
        assert_eq!(codes, sorted);
        app.get(&format!("/permissions/roles/{}", Uuid::now_v7()), app.admin()).await.expect(404);
    }
);
