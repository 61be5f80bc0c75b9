//! The newcomer's walk-through from the README, as a test.

use crate::helpers::*;
use crm_common::db_test;
use serde_json::json;

db_test!(
    async fn admin_builds_an_organization_role_and_user_who_is_refused_the_rest(backend) {
        let app = TestApp::spawn(backend).await;
        let org = app.create_org("PT Visa Jaya", "agent").await;
        let org_id = uuid(&org["id"]);
        let role = app.post("/roles", app.admin(), json!({"code": "VIEWER", "name": "Viewer"})).await;
        role.expect(200);
        let role_id = uuid(&role.data()["id"]);
        let perms = app.get("/permissions", app.admin()).await;
        let ids: Vec<_> = perms
            .data()
            .as_array()
            .unwrap()
            .iter()
            .filter(|p| ["user.view", "user.list", "organization.view"].contains(&p["code"].as_str().unwrap()))
            .map(|p| p["id"].clone())
            .collect();
        assert_eq!(ids.len(), 3);
        app.post(&format!("/permissions/roles/{role_id}/assign"), app.admin(), json!({"permission_ids": ids})).await.expect(200);
        app.post("/users", app.admin(), json!({"organization_id": org_id, "email": "viewer@visajaya.id", "password": PASSWORD, "role_ids": [role_id]}))
            .await
            .expect(200);
        let token = app.token("viewer@visajaya.id", PASSWORD).await;
        let t = Some(token.as_str());
        let list = app.get("/users", t).await;
        list.expect(200);
        assert_eq!(list.data()["total"], 2, "the viewer sees their organization's admin and themself");
        app.get(&format!("/organizations/{org_id}"), t).await.expect(200);
        app.get("/organizations", t).await.expect(403);
        app.post("/users", t, json!({"organization_id": org_id, "email": "x@visajaya.id", "password": PASSWORD, "role_ids": [role_id]})).await.expect(403);
        app.get("/roles", t).await.expect(403);
        app.get(&format!("/users/{}", app.admin_id), t).await.expect(404);

        // A file for the administrator's organization, which the viewer may not fetch.
        let csv: &[u8] = b"name,visa\nAmy,B211A\n";
        let uploaded = crate::uploads::upload(&app, app.admin().unwrap(), &[("file", Some("visas.csv"), csv)]).await;
        uploaded.expect(200);
        let url = uploaded.data()["url"].as_str().unwrap().to_owned();
        let back = app.client.get(&url, app.admin()).await;
        assert_eq!((back.status, back.text.as_bytes()), (200, csv));
        app.client.get(&url, t).await.expect(403);
    }
);
