//! Server-side sessions: every access token names one, and a token whose session has ended is
//! refused, however long it has left to live.

use crate::helpers::*;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use chrono::{Duration, Utc};
use crm_common::auth::{Claims, Signer};
use crm_common::db_test;
use crm_foundation::auth::sessions::model as session;
use ed25519_dalek::SigningKey;
use ed25519_dalek::pkcs8::DecodePrivateKey;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::json;
use uuid::Uuid;

fn claims_of(token: &str) -> Claims {
    let payload = token.split('.').nth(1).unwrap();
    serde_json::from_slice(&B64.decode(payload).unwrap()).unwrap()
}

fn signer(app: &TestApp) -> Signer {
    let pem = std::fs::read_to_string(app.state.config.jwt_key_file.clone()).unwrap();
    Signer::new(SigningKey::from_pkcs8_pem(&pem).unwrap())
}

async fn session_row(app: &TestApp, sid: Uuid) -> session::Model {
    session::Entity::find_by_id(sid).one(&app.state.db).await.unwrap().expect("session stored")
}

/// A fresh user of BANTU with the SALES role, logged in: (user id, login data).
async fn user_session(app: &TestApp, email: &str) -> (Uuid, serde_json::Value) {
    let user = app.create_user(BANTU, email, &["SALES"]).await;
    let login = app.login(email, PASSWORD).await;
    login.expect(200);
    (uuid(&user["id"]), login.data().clone())
}

db_test!(
    async fn every_way_a_session_ends_refuses_its_token(backend) {
        let app = TestApp::spawn(backend).await;
        // Each case ends the session of a live token in its own way; the token must be refused at
        // once on this process, and stay refused once the account is usable again.
        let cases = [
            "logout",
            "logout with refresh token",
            "password change",
            "password reset",
            "lock",
            "deactivation",
            "delete",
            "refresh-token reuse",
            "administrator ends the user's sessions",
            "user ends the session from their list",
        ];
        for (i, case) in cases.iter().enumerate() {
            let email = format!("ends{i}@bantu.test");
            let (id, login) = user_session(&app, &email).await;
            let token = login["token"].as_str().unwrap().to_owned();
            let refresh = login["refresh_token"].as_str().unwrap().to_owned();
            let sid = claims_of(&token).sid.expect("the token names its session");
            app.get("/auth/me", Some(&token)).await.expect(200);
            let admin = app.admin();
            match *case {
                "logout" => {
                    app.post("/auth/logout", Some(&token), json!({})).await.expect(200);
                }
                "logout with refresh token" => {
                    app.post("/auth/logout", Some(&token), json!({"refresh_token": refresh})).await.expect(200);
                }
                "password change" => {
                    app.put(
                        &format!("/users/{id}/password"),
                        Some(&token),
                        json!({"old_password": PASSWORD, "new_password": "Changed123"}),
                    )
                    .await
                    .expect(200);
                }
                "password reset" => {
                    app.post(&format!("/users/{id}/reset-password"), admin, json!({"new_password": "Changed123"}))
                        .await
                        .expect(200);
                }
                "lock" => {
                    app.post(&format!("/users/{id}/lock"), admin, json!({})).await.expect(200);
                    app.post(&format!("/users/{id}/unlock"), admin, json!({})).await.expect(200);
                }
                "deactivation" => {
                    app.put(&format!("/users/{id}"), admin, json!({"is_active": false})).await.expect(200);
                    app.put(&format!("/users/{id}"), admin, json!({"is_active": true})).await.expect(200);
                }
                "delete" => {
                    app.delete(&format!("/users/{id}"), admin).await.expect(200);
                    app.put(&format!("/users/{id}/restore"), admin, json!({})).await.expect(200);
                }
                "refresh-token reuse" => {
                    app.post("/auth/refresh", None, json!({"refresh_token": refresh})).await.expect(200);
                    app.post("/auth/refresh", None, json!({"refresh_token": refresh})).await.expect(401);
                }
                "administrator ends the user's sessions" => {
                    let r = app.delete(&format!("/users/{id}/sessions"), admin).await;
                    r.expect(200);
                    assert_eq!(r.data()["ended"], 1, "{case}");
                }
                "user ends the session from their list" => {
                    // From a second session of the same user.
                    let other = app.token(&email, PASSWORD).await;
                    app.delete(&format!("/auth/sessions/{sid}"), Some(&other)).await.expect(200);
                    app.get("/auth/me", Some(&other)).await.expect(200);
                }
                _ => unreachable!(),
            }
            let r = app.get("/auth/me", Some(&token)).await;
            assert_eq!(r.status, 401, "{case}: {}", r.text);
            assert!(session_row(&app, sid).await.ended_at.is_some(), "{case}: the session is recorded as ended");
            // A new login of the same account works (the account itself is fine again).
            let password = if case.starts_with("password") { "Changed123" } else { PASSWORD };
            let fresh = app.token(&email, password).await;
            app.get("/auth/me", Some(&fresh)).await.expect(200);
        }
    }
);

db_test!(
    async fn a_token_keeps_working_across_the_old_fifteen_minute_expiry(backend) {
        let app = TestApp::spawn(backend).await;
        let (id, login) = user_session(&app, "workday@bantu.test").await;
        assert!(login["expires_in"].as_i64().unwrap() >= 8 * 3600, "a working day: {}", login["expires_in"]);
        let token = login["token"].as_str().unwrap();
        let claims = claims_of(token);
        assert_eq!(claims.exp - claims.iat, crm_foundation::config::ACCESS_TTL_SECS);
        // The same session, 16 minutes on: the token was issued then, and last used then.
        let sid = claims.sid.unwrap();
        let then = Utc::now() - Duration::minutes(16);
        let mut old = claims.clone();
        old.iat = then.timestamp();
        old.nbf = then.timestamp();
        old.exp = old.iat + crm_foundation::config::ACCESS_TTL_SECS;
        let old = signer(&app).sign(&old).unwrap();
        session::Entity::update_many()
            .col_expr(session::Column::LastSeenAt, Expr::value(then))
            .filter(session::Column::Id.eq(sid))
            .exec(&app.state.db)
            .await
            .unwrap();
        crm_foundation::authz::invalidate_user(&app.state.cache, id).await;
        app.get("/auth/me", Some(&old)).await.expect(200);
        app.get("/users?size=5", Some(&old)).await.expect(200);
        // Using it counted as using the session.
        let seen = session_row(&app, sid).await.last_seen_at;
        assert!(seen > then + Duration::minutes(15), "last seen moved on: {seen}");
        // Within the minute nothing more is written.
        app.get("/auth/me", Some(&old)).await.expect(200);
        assert_eq!(session_row(&app, sid).await.last_seen_at, seen);
    }
);

db_test!(
    async fn sessions_nobody_uses_end_after_the_idle_timeout(backend) {
        let app = TestApp::spawn_with(backend, |c| c.session_idle_secs = 2).await;
        let (_, idle) = user_session(&app, "idle@bantu.test").await;
        let (_, busy) = user_session(&app, "busy@bantu.test").await;
        let idle_token = idle["token"].as_str().unwrap();
        let busy_token = busy["token"].as_str().unwrap();
        app.get("/auth/me", Some(idle_token)).await.expect(200);
        // One session is used every 0.6 s for 3 s, the other not at all.
        for _ in 0..5 {
            tokio::time::sleep(std::time::Duration::from_millis(600)).await;
            app.get("/auth/me", Some(busy_token)).await.expect(200);
        }
        let r = app.get("/auth/me", Some(idle_token)).await;
        assert_eq!(r.status, 401, "{}", r.text);
        let sid = claims_of(idle_token).sid.unwrap();
        assert_eq!(session_row(&app, sid).await.end_reason.as_deref(), Some("idle"));
        // Its refresh token cannot bring it back.
        app.post("/auth/refresh", None, json!({"refresh_token": idle["refresh_token"]})).await.expect(401);
        app.get("/auth/me", Some(busy_token)).await.expect(200);
    }
);

db_test!(
    async fn the_caller_lists_their_sessions_and_ends_one(backend) {
        let app = TestApp::spawn(backend).await;
        let (_, first) = user_session(&app, "lists@bantu.test").await;
        let first = first["token"].as_str().unwrap().to_owned();
        let second = app
            .client
            .send(
                app.client
                    .builder(reqwest::Method::POST, "/api/foundation/auth/login", None)
                    .header("user-agent", "Mozilla/5.0 (test)")
                    .json(&json!({"email": "lists@bantu.test", "password": PASSWORD})),
            )
            .await;
        second.expect(200);
        let second = second.data()["token"].as_str().unwrap().to_owned();
        let r = app.get("/auth/sessions", Some(&first)).await;
        r.expect(200);
        let list = r.data().as_array().unwrap().clone();
        assert_eq!(list.len(), 2, "{list:?}");
        let current: Vec<_> = list.iter().filter(|s| s["current"] == true).collect();
        assert_eq!(current.len(), 1);
        assert_eq!(uuid(&current[0]["id"]), claims_of(&first).sid.unwrap());
        let other = list.iter().find(|s| s["current"] == false).unwrap();
        assert_eq!(other["user_agent"], "Mozilla/5.0 (test)");
        assert_eq!(other["client_ip"], "127.0.0.1");
        assert!(other["created_at"].is_string() && other["last_seen_at"].is_string());
        // Someone else cannot end it, nor see it.
        let (_, stranger) = user_session(&app, "stranger@bantu.test").await;
        let stranger = stranger["token"].as_str().unwrap();
        app.delete(&format!("/auth/sessions/{}", other["id"].as_str().unwrap()), Some(stranger)).await.expect(404);
        assert_eq!(app.get("/auth/sessions", Some(stranger)).await.data().as_array().unwrap().len(), 1);
        app.get("/auth/me", Some(&second)).await.expect(200);
        // Its owner can.
        app.delete(&format!("/auth/sessions/{}", other["id"].as_str().unwrap()), Some(&first)).await.expect(200);
        app.get("/auth/me", Some(&second)).await.expect(401);
        app.get("/auth/me", Some(&first)).await.expect(200);
        assert_eq!(app.get("/auth/sessions", Some(&first)).await.data().as_array().unwrap().len(), 1);
        app.delete(&format!("/auth/sessions/{}", other["id"].as_str().unwrap()), Some(&first)).await.expect(404);
        app.delete("/auth/sessions/not-a-uuid", Some(&first)).await.expect(400);
    }
);

db_test!(
    async fn refreshing_keeps_the_session_and_reuse_ends_it(backend) {
        let app = TestApp::spawn(backend).await;
        let (_, login) = user_session(&app, "refresher@bantu.test").await;
        let token = login["token"].as_str().unwrap().to_owned();
        let refresh = login["refresh_token"].as_str().unwrap().to_owned();
        let r = app.post("/auth/refresh", None, json!({"refresh_token": refresh})).await;
        r.expect(200);
        let renewed = r.data()["token"].as_str().unwrap().to_owned();
        assert_eq!(claims_of(&renewed).sid, claims_of(&token).sid, "a refresh continues the session");
        app.get("/auth/me", Some(&token)).await.expect(200);
        app.get("/auth/me", Some(&renewed)).await.expect(200);
        let next = r.data()["refresh_token"].as_str().unwrap().to_owned();
        app.post("/auth/refresh", None, json!({"refresh_token": next})).await.expect(200);
        // Presenting a used refresh token again ends the session: every token of it stops.
        app.post("/auth/refresh", None, json!({"refresh_token": refresh})).await.expect(401);
        app.get("/auth/me", Some(&token)).await.expect(401);
        app.get("/auth/me", Some(&renewed)).await.expect(401);
    }
);

db_test!(
    async fn tokens_without_a_session_are_accepted_only_as_short_lived_as_they_used_to_be(backend) {
        let app = TestApp::spawn(backend).await;
        let (_, login) = user_session(&app, "legacy@bantu.test").await;
        let mut claims = claims_of(login["token"].as_str().unwrap());
        claims.sid = None;
        claims.exp = claims.iat + 900;
        let short = signer(&app).sign(&claims).unwrap();
        app.get("/auth/me", Some(&short)).await.expect(200);
        claims.exp = claims.iat + 901;
        claims.jti = Uuid::now_v7();
        let long = signer(&app).sign(&claims).unwrap();
        app.get("/auth/me", Some(&long)).await.expect(401);
        // A session that does not exist, or is someone else's, is refused too.
        claims.exp = claims.iat + 3600;
        claims.sid = Some(Uuid::now_v7());
        app.get("/auth/me", Some(&signer(&app).sign(&claims).unwrap())).await.expect(401);
        claims.sid = claims_of(&app.admin_token).sid;
        app.get("/auth/me", Some(&signer(&app).sign(&claims).unwrap())).await.expect(401);
    }
);

db_test!(
    async fn an_administrator_ending_a_users_sessions_needs_the_lock_permission_and_visibility(backend) {
        let app = TestApp::spawn(backend).await;
        let (target, login) = user_session(&app, "target@bantu.test").await;
        let token = login["token"].as_str().unwrap().to_owned();
        // A SALES user may not; another organization's admin does not even see the user.
        let (_, sales) = user_session(&app, "sales@bantu.test").await;
        app.delete(&format!("/users/{target}/sessions"), sales["token"].as_str()).await.expect(403);
        let (_, other_admin) = app.org_with_admin("Other Org").await;
        app.delete(&format!("/users/{target}/sessions"), Some(&other_admin)).await.expect(404);
        app.get("/auth/me", Some(&token)).await.expect(200);
        let r = app.delete(&format!("/users/{target}/sessions"), app.admin()).await;
        r.expect(200);
        assert_eq!(r.data()["ended"], 1);
        let refused = app.get("/users?size=5", Some(&token)).await;
        refused.expect(401);
        assert_eq!(refused.body["message"], "session ended");
        app.post("/auth/refresh", None, json!({"refresh_token": login["refresh_token"]})).await.expect(401);
    }
);
