use crate::helpers::*;
use crm_common::db_test;
use crm_foundation::users::model::user;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::json;

db_test!(
    async fn login_returns_tokens_and_the_original_user_shape(backend) {
        let app = TestApp::spawn(backend).await;
        let r = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
        r.expect(200);
        let d = r.data();
        assert_eq!(d["token"], d["access_token"]);
        assert!(d["refresh_token"].as_str().unwrap().starts_with("rt_"));
        assert_eq!(d["expires_in"], crm_foundation::config::ACCESS_TTL_SECS);
        assert_eq!(d["token_type"], "bearer");
        let u = &d["user"];
        assert_eq!(u["email"], ADMIN_EMAIL);
        assert_eq!(u["primary_organization_id"], BANTU.to_string());
        assert_eq!(u["primary_organization_name"], "BANTU");
        assert_eq!(u["organization_ids"], json!([BANTU]));
        assert_eq!(u["roles"], json!(["ADMIN"]));
        assert_eq!(u["permissions"], json!(["*:*"]));
        assert!(u["permission_codes"].as_array().unwrap().iter().any(|p| p == "user.create"));
        assert!(r.header("x-request-id").is_some());
        // The username works in place of the e-mail.
        app.post("/auth/login", None, json!({"username": "admin", "password": ADMIN_PASSWORD})).await.expect(200);
    }
);

db_test!(
    async fn me_reports_the_caller(backend) {
        let app = TestApp::spawn(backend).await;
        let r = app.get("/auth/me", app.admin()).await;
        r.expect(200);
        assert_eq!(r.data()["email"], ADMIN_EMAIL);
        assert_eq!(r.data()["roles"], json!(["ADMIN"]));
        assert_eq!(r.data()["is_platform_admin"], true);
        assert_eq!(r.data()["position"], "administrator");
        app.get("/auth/me", None).await.expect(401);
    }
);

db_test!(
    async fn jwks_publishes_the_signing_key(backend) {
        let app = TestApp::spawn(backend).await;
        let r = app.get("/auth/jwks.json", None).await;
        assert_eq!(r.status, 200);
        let key = &r.body["keys"][0];
        assert_eq!(key["kty"], "OKP");
        assert_eq!(key["crv"], "Ed25519");
        assert_eq!(key["alg"], "EdDSA");
        let header = app.admin_token.split('.').next().unwrap();
        use base64::Engine;
        let header: serde_json::Value =
            serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(header).unwrap()).unwrap();
        assert_eq!(header["kid"], key["kid"]);
        assert_eq!(header["alg"], "EdDSA");
    }
);

db_test!(
    async fn refresh_rotates_and_reuse_revokes_the_family(backend) {
        let app = TestApp::spawn(backend).await;
        let first = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await.data()["refresh_token"].as_str().unwrap().to_owned();
        let r = app.post("/auth/refresh", None, json!({"refresh_token": first})).await;
        r.expect(200);
        let second = r.data()["refresh_token"].as_str().unwrap().to_owned();
        assert_ne!(first, second);
        app.get("/auth/me", r.data()["token"].as_str()).await.expect(200);
        // Presenting the rotated token again is theft: it fails and kills the newer one too.
        app.post("/auth/refresh", None, json!({"refresh_token": first})).await.expect(401);
        app.post("/auth/refresh", None, json!({"refresh_token": second})).await.expect(401);
        app.post("/auth/refresh", None, json!({"refresh_token": "rt_garbage"})).await.expect(401);
    }
);

db_test!(
    async fn logout_revokes_the_refresh_token(backend) {
        let app = TestApp::spawn(backend).await;
        let login = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
        let refresh = login.data()["refresh_token"].as_str().unwrap().to_owned();
        let token = login.data()["token"].as_str().unwrap().to_owned();
        app.post("/auth/logout", Some(&token), json!({"refresh_token": refresh})).await.expect(200);
        app.post("/auth/refresh", None, json!({"refresh_token": refresh})).await.expect(401);
        app.post("/auth/logout", None, json!({})).await.expect(401);
    }
);

db_test!(
    async fn registration_is_off_by_default_and_grants_nothing_when_on(backend) {
        let app = TestApp::spawn(backend).await;
        let body = json!({"email": "new@x.io", "password": PASSWORD, "full_name": "New Person"});
        app.post("/auth/register", None, body.clone()).await.expect(404);
        let open = TestApp::spawn_with(backend, |c| c.allow_registration = true).await;
        let r = open.post("/auth/register", None, body.clone()).await;
        r.expect(201);
        let token = r.data()["token"].as_str().unwrap().to_owned();
        assert_eq!(r.data()["user"]["roles"], json!([]));
        open.get("/users", Some(&token)).await.expect(403);
        open.get("/auth/me", Some(&token)).await.expect(200);
        open.post("/auth/register", None, body).await.expect(409);
    }
);

db_test!(
    async fn locked_users_and_organizations_cannot_log_in_or_refresh(backend) {
        let app = TestApp::spawn(backend).await;
        let (org, _) = app.org_with_admin("Agent Lock").await;
        let user = app.create_user(org, "sales@lock.io", &["AGENT"]).await;
        let id = uuid(&user["id"]);
        let refresh = app.login("sales@lock.io", PASSWORD).await.data()["refresh_token"].as_str().unwrap().to_owned();

        app.post(&format!("/users/{id}/lock"), app.admin(), json!({})).await.expect(200);
        let r = app.login("sales@lock.io", PASSWORD).await;
        r.expect(403);
        assert_eq!(r.body["message"], "user not active");
        app.post("/auth/refresh", None, json!({"refresh_token": refresh})).await.expect(401);
        app.post(&format!("/users/{id}/unlock"), app.admin(), json!({})).await.expect(200);
        let token = app.token("sales@lock.io", PASSWORD).await;

        app.post(&format!("/organizations/{org}/lock"), app.admin(), json!({})).await.expect(200);
        let r = app.login("sales@lock.io", PASSWORD).await;
        r.expect(403);
        assert_eq!(r.body["message"], "organization locked");
        // A live access token stops working too.
        app.get("/auth/me", Some(&token)).await.expect(401);
        app.post(&format!("/organizations/{org}/unlock"), app.admin(), json!({})).await.expect(200);
        app.login("sales@lock.io", PASSWORD).await.expect(200);
    }
);

db_test!(
    async fn repeated_failures_lock_the_account_temporarily(backend) {
        let app = TestApp::spawn(backend).await;
        for _ in 0..5 {
            app.login(ADMIN_EMAIL, "WrongPass1").await.expect(401);
        }
        let r = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
        r.expect(429);
        assert!(r.header("retry-after").unwrap().parse::<u64>().unwrap() > 0);
        // Unknown accounts are counted the same way: no hint of which e-mails exist.
        for _ in 0..5 {
            app.login("ghost@nowhere.io", "WrongPass1").await.expect(401);
        }
        app.login("ghost@nowhere.io", "WrongPass1").await.expect(429);
    }
);

db_test!(
    async fn failures_per_client_address_are_throttled(backend) {
        let app = TestApp::spawn_with(backend, |c| c.login_max_failures_per_ip = 3).await;
        let attempt = |email: String, ip: &'static str| {
            let req = app
                .client
                .builder(reqwest::Method::POST, "/api/foundation/auth/login", None)
                .header("x-forwarded-for", ip)
                .json(&json!({"email": email, "password": "WrongPass1"}));
            app.client.send(req)
        };
        for i in 0..3 {
            attempt(format!("u{i}@x.io"), "203.0.113.7").await.expect(401);
        }
        attempt("other@x.io".into(), "203.0.113.7").await.expect(429);
        attempt("other@x.io".into(), "203.0.113.8").await.expect(401);
    }
);

async fn stored_hash(app: &TestApp, id: uuid::Uuid) -> String {
    user::Entity::find_by_id(id).one(&app.state.db).await.unwrap().unwrap().password_hash
}

db_test!(
    async fn bcrypt_hashes_from_the_original_log_in_and_are_replaced_once(backend) {
        let app = TestApp::spawn(backend).await;
        let (org, _) = app.org_with_admin("Carried Over").await;
        let id = uuid(&app.create_user(org, "carried@over.io", &["AGENT"]).await["id"]);
        let original = bcrypt::hash("Carried0ver", 4).unwrap();
        user::Entity::update_many()
            .col_expr(user::Column::PasswordHash, Expr::value(original.clone()))
            .filter(user::Column::Id.eq(id))
            .exec(&app.state.db)
            .await
            .unwrap();

        // A wrong password is refused and leaves the hash alone.
        app.login("carried@over.io", "Wrong0ne11").await.expect(401);
        assert_eq!(stored_hash(&app, id).await, original);

        app.login("carried@over.io", "Carried0ver").await.expect(200);
        let upgraded = stored_hash(&app, id).await;
        assert!(upgraded.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{upgraded}");
        app.login("carried@over.io", "Carried0ver").await.expect(200);
        assert_eq!(stored_hash(&app, id).await, upgraded, "a current hash is kept");
        app.login("carried@over.io", "Wrong0ne11").await.expect(401);
    }
);

db_test!(
    async fn with_legacy_hashes_stored_every_failed_login_takes_as_long(backend) {
        let db = crm_common::testing::TestDatabase::create(backend).await;
        let cfg = config(&db, db.data_dir());
        let first = TestApp::start(db, cfg.clone()).await;
        let (org, _) = first.org_with_admin("Legacy Co").await;
        let id = uuid(&first.create_user(org, "legacy@old.io", &["AGENT"]).await["id"]);
        user::Entity::update_many()
            .col_expr(user::Column::PasswordHash, Expr::value(bcrypt::hash("Carried0ver", 11).unwrap()))
            .filter(user::Column::Id.eq(id))
            .exec(&first.state.db)
            .await
            .unwrap();
        // A replica started after: its floor comes from the stored hash, before anyone logs in.
        let mut cfg_b = cfg.clone();
        cfg_b.common.database_url = first.db.url.clone();
        let second = TestApp::start(crm_common::testing::TestDatabase::create(backend).await, cfg_b).await;
        let floor = second.state.passwords.floor();
        assert!(floor > std::time::Duration::ZERO, "no floor from the legacy hash");
        for email in ["nobody@old.io", "legacy@old.io", ADMIN_EMAIL] {
            let started = std::time::Instant::now();
            second.login(email, "Wrong0ne11").await.expect(401);
            assert!(started.elapsed() >= floor, "{email}: answered before the floor");
        }
    }
);
