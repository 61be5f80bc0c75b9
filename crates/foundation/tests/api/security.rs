use crate::helpers::*;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use crm_common::auth::{Claims, Signer};
use crm_common::db_test;
use ed25519_dalek::SigningKey;
use ed25519_dalek::pkcs8::DecodePrivateKey;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::time::{Duration, Instant};

fn claims_of(token: &str) -> Claims {
    let payload = token.split('.').nth(1).unwrap();
    serde_json::from_slice(&B64.decode(payload).unwrap()).unwrap()
}

fn app_signer(app: &TestApp) -> Signer {
    let pem = std::fs::read_to_string(app.state.config.jwt_key_file.clone()).unwrap();
    Signer::new(SigningKey::from_pkcs8_pem(&pem).unwrap())
}

fn hmac_sha256(key: &[u8], msg: &[u8]) -> Vec<u8> {
    let mut k = [0u8; 64];
    if key.len() > 64 {
        k[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        k[..key.len()].copy_from_slice(key);
    }
    let inner: Vec<u8> = k.iter().map(|b| b ^ 0x36).chain(msg.iter().copied()).collect();
    let outer: Vec<u8> = k.iter().map(|b| b ^ 0x5c).chain(Sha256::digest(&inner)).collect();
    Sha256::digest(&outer).to_vec()
}

fn unsigned(header: Value, claims: &Claims) -> String {
    format!("{}.{}", B64.encode(header.to_string()), B64.encode(serde_json::to_vec(claims).unwrap()))
}

db_test!(
    async fn forged_and_invalid_tokens_are_refused(backend) {
        let app = TestApp::spawn(backend).await;
        let good = claims_of(&app.admin_token);
        let signer = app_signer(&app);
        let now = chrono::Utc::now().timestamp();
        let mut forged: Vec<(&str, String)> = Vec::new();

        let mut expired = good.clone();
        expired.exp = now - 3600;
        expired.iat = now - 7200;
        expired.nbf = now - 7200;
        forged.push(("expired", signer.sign(&expired).unwrap()));
        let mut early = good.clone();
        early.nbf = now + 3600;
        forged.push(("not yet valid", signer.sign(&early).unwrap()));
        let mut iss = good.clone();
        iss.iss = "someone-else".into();
        forged.push(("wrong iss", signer.sign(&iss).unwrap()));
        let mut aud = good.clone();
        aud.aud = "other-app".into();
        forged.push(("wrong aud", signer.sign(&aud).unwrap()));
        let other = Signer::new(SigningKey::generate(&mut rand::rngs::OsRng));
        forged.push(("other key", other.sign(&good).unwrap()));

        let none = unsigned(json!({"alg": "none", "typ": "JWT"}), &good);
        forged.push(("alg none", format!("{none}.")));
        forged.push(("alg none with sig", format!("{none}.AAAA")));
        let jwks = app.get("/auth/jwks.json", None).await.body;
        let kid = jwks["keys"][0]["kid"].as_str().unwrap().to_owned();
        let public = jwks["keys"][0]["x"].as_str().unwrap().to_owned();
        let hs = unsigned(json!({"alg": "HS256", "typ": "JWT", "kid": kid}), &good);
        let sig = B64.encode(hmac_sha256(public.as_bytes(), hs.as_bytes()));
        forged.push(("HS256 with public key", format!("{hs}.{sig}")));
        let raw_pk = B64.decode(&public).unwrap();
        let sig = B64.encode(hmac_sha256(&raw_pk, hs.as_bytes()));
        forged.push(("HS256 with raw public key", format!("{hs}.{sig}")));

        let parts: Vec<&str> = app.admin_token.split('.').collect();
        let mut tampered = good.clone();
        tampered.roles = vec!["ADMIN".into(), "SUPER".into()];
        tampered.sub = uuid::Uuid::now_v7();
        let tampered_token = format!("{}.{}.{}", parts[0], B64.encode(serde_json::to_vec(&tampered).unwrap()), parts[2]);
        forged.push(("tampered payload", tampered_token));
        forged.push(("truncated", app.admin_token[..app.admin_token.len() - 10].to_owned()));
        forged.push(("two parts", format!("{}.{}", parts[0], parts[1])));
        forged.push(("garbage", "not-a-token".into()));
        let refresh = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await.data()["refresh_token"].as_str().unwrap().to_owned();
        forged.push(("refresh token as access token", refresh));

        for (what, token) in forged {
            let r = app.get("/auth/me", Some(&token)).await;
            assert_eq!(r.status, 401, "{what} was accepted: {}", r.text);
            assert_eq!(r.body["code"], 401, "{what}");
            assert!(r.body["data"].is_null(), "{what}");
        }
        let r = app
            .client
            .send(app.client.builder(reqwest::Method::GET, "/api/foundation/auth/me", None).header("authorization", "Basic YTpi"))
            .await;
        r.expect(401);
        app.get("/auth/me", app.admin()).await.expect(200);
    }
);

db_test!(
    async fn unknown_email_and_wrong_password_look_the_same(backend) {
        let app = TestApp::spawn_with(backend, |c| c.login_max_failures = 1000).await;
        let mut unknown = Vec::new();
        let mut wrong = Vec::new();
        for i in 0..6 {
            let t = Instant::now();
            let a = app.login(&format!("nobody{i}@bantu.test"), "WrongPass1").await;
            unknown.push(t.elapsed());
            let t = Instant::now();
            let b = app.login(ADMIN_EMAIL, "WrongPass1").await;
            wrong.push(t.elapsed());
            a.expect(401);
            b.expect(401);
            assert_eq!(a.body["message"], b.body["message"]);
            assert_eq!(a.body["data"], b.body["data"]);
        }
        unknown.sort();
        wrong.sort();
        let (u, w) = (unknown[3].as_secs_f64(), wrong[3].as_secs_f64());
        let ratio = u.max(w) / u.min(w);
        assert!(ratio < 2.0, "median unknown {u:.4}s vs wrong password {w:.4}s");
        assert!(u > 0.002, "unknown accounts must cost a hash verification, took {u:.4}s");
    }
);

db_test!(
    async fn exactly_one_of_many_concurrent_refreshes_wins(backend) {
        let app = TestApp::spawn(backend).await;
        let refresh = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await.data()["refresh_token"].as_str().unwrap().to_owned();
        let attempts = (0..100).map(|_| {
            let client = app.client.clone();
            let body = json!({"refresh_token": refresh});
            async move { client.post("/api/foundation/auth/refresh", None, &body).await.status }
        });
        let statuses = futures_util::future::join_all(attempts).await;
        let won = statuses.iter().filter(|s| **s == 200).count();
        assert_eq!(won, 1, "statuses: {statuses:?}");
        assert!(statuses.iter().all(|s| *s == 200 || *s == 401), "statuses: {statuses:?}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
);

db_test!(
    async fn missing_permission_is_forbidden(backend) {
        let app = TestApp::spawn(backend).await;
        let (_, sales) = app.user_with_token(BANTU, "sales@bantu.test", &["SALES"]).await;
        let r = app.post("/users", Some(&sales), json!({"organization_id": BANTU, "email": "x@y.io", "password": PASSWORD, "role_ids": []})).await;
        r.expect(403);
        assert!(r.body["message"].as_str().unwrap().contains("user.create"));
        app.get("/roles", Some(&sales)).await.expect(403);
        app.post("/organizations", Some(&sales), json!({"name": "X", "organization_type": "agent"})).await.expect(403);
        app.get("/users", Some(&sales)).await.expect(200);
        let (_, agent) = app.user_with_token(BANTU, "agent@bantu.test", &["AGENT"]).await;
        app.get("/users", Some(&agent)).await.expect(403);
    }
);

db_test!(
    async fn other_organizations_ids_are_not_found(backend) {
        let app = TestApp::spawn(backend).await;
        let (org_a, admin_a) = app.org_with_admin("Agent A").await;
        let (org_b, admin_b) = app.org_with_admin("Agent B").await;
        let user_b = app.create_user(org_b, "b1@agent.io", &["AGENT"]).await;
        let b1 = uuid(&user_b["id"]);
        let a = Some(admin_a.as_str());
        app.get(&format!("/users/{b1}"), a).await.expect(404);
        app.put(&format!("/users/{b1}"), a, json!({"display_name": "pwned"})).await.expect(404);
        app.post(&format!("/users/{b1}/lock"), a, json!({})).await.expect(404);
        app.post(&format!("/users/{b1}/reset-password"), a, json!({"new_password": "Hijack123"})).await.expect(404);
        app.delete(&format!("/users/{b1}"), a).await.expect(404);
        app.get(&format!("/organizations/{org_b}"), a).await.expect(404);
        app.put(&format!("/organizations/{org_b}"), a, json!({"name": "mine"})).await.expect(404);
        app.get(&format!("/organizations/{org_b}/employees"), a).await.expect(404);
        app.get(&format!("/users?organization_id={org_b}"), a).await.expect(404);
        let role = app.role_id("AGENT").await;
        let r = app.post("/users", a, json!({"organization_id": org_b, "email": "sneak@x.io", "password": PASSWORD, "role_ids": [role]})).await;
        r.expect(404);
        let batch = app.post("/users/batch", a, json!({"action": "deactivate", "user_ids": [b1]})).await;
        batch.expect(404);
        // A's listing holds only A's people; B's user is untouched.
        let list = app.get("/users?size=100", a).await;
        list.expect(200);
        assert!(list.data()["records"].as_array().unwrap().iter().all(|u| u["primary_organization_id"] == org_a.to_string()));
        let mine = app.get(&format!("/users/{b1}"), Some(&admin_b)).await;
        mine.expect(200);
        assert_eq!(mine.data()["is_active"], true);
        assert_eq!(mine.data()["display_name"], serde_json::Value::Null);
    }
);

db_test!(
    async fn mass_assignment_never_takes_effect(backend) {
        let app = TestApp::spawn(backend).await;
        let (org, org_admin) = app.org_with_admin("Agent M").await;
        let (uid, token) = app.user_with_token(org, "m@agent.io", &["AGENT"]).await;
        let forged_id = uuid::Uuid::now_v7();
        let r = app
            .put(
                &format!("/users/{uid}"),
                Some(&token),
                json!({"display_name": "Me", "is_superuser": true, "organization_id": BANTU, "password_hash": "x", "id": forged_id, "is_locked": true, "version": 1}),
            )
            .await;
        r.expect(200);
        assert_eq!(r.data()["id"], uid.to_string());
        assert_eq!(r.data()["display_name"], "Me");
        assert_eq!(r.data()["is_locked"], false);
        assert_eq!(r.data()["primary_organization_id"], org.to_string());
        // Still the same password, still no new powers.
        let token = app.token("m@agent.io", PASSWORD).await;
        app.get("/roles", Some(&token)).await.expect(403);
        app.get(&format!("/users/{forged_id}"), app.admin()).await.expect(404);
        // A user cannot grant themself roles or reactivate themself via update.
        let admin_role = app.role_id("ADMIN").await;
        app.put(&format!("/users/{uid}"), Some(&token), json!({"role_ids": [admin_role]})).await.expect(403);
        // An org admin cannot move an organization into another type or lock it.
        let r = app.put(&format!("/organizations/{org}"), Some(&org_admin), json!({"organization_type": "internal", "description": "d"})).await;
        r.expect(200);
        assert_eq!(r.data()["organization_type"], "agent");
        app.put(&format!("/organizations/{org}"), Some(&org_admin), json!({"is_locked": false})).await.expect(403);
    }
);
