//! The binary's subcommands: `migrate` and `create-admin`, as an operator runs them.

use crate::helpers::*;
use crm_common::testing::{Backend, TestDatabase};
use std::process::Command;

/// `crm-foundation <args>` on `db`.
fn foundation(db: &TestDatabase, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_crm-foundation"));
    command.args(args).env("DATABASE_URL", &db.url).env("CRM_DATA_DIR", db.data_dir()).env("RUST_LOG", "warn");
    command
}

fn run(db: &TestDatabase, args: &[&str], email: &str) -> std::process::Output {
    foundation(db, args)
        .env("CRM_ADMIN_EMAIL", email)
        .env("CRM_ADMIN_PASSWORD", "Operator123")
        .output()
        .expect("run crm-foundation")
}

/// Replicas of a new deployment start together, each migrating the same fresh database.
#[tokio::test]
async fn replicas_migrating_one_fresh_database_take_turns() {
    for backend in [Backend::Sqlite, Backend::Postgres] {
        let db = TestDatabase::create(backend).await;
        let replicas: Vec<_> = (0..3)
            .map(|_| {
                foundation(&db, &["migrate"])
                    .stdout(std::process::Stdio::null())
                    .stderr(std::process::Stdio::piped())
                    .spawn()
                    .expect("start crm-foundation migrate")
            })
            .collect();
        for replica in replicas {
            let out = replica.wait_with_output().unwrap();
            assert!(out.status.success(), "{backend:?}: {}", String::from_utf8_lossy(&out.stderr));
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrate_and_create_admin_subcommands() {
    for backend in [Backend::Sqlite, Backend::Postgres] {
        let db = TestDatabase::create(backend).await;
        let out = run(&db, &["migrate"], "ops@bantu.test");
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let out = run(&db, &["create-admin"], "ops@bantu.test");
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        // A second administrator on an existing database.
        let out = run(&db, &["create-admin"], "ops2@bantu.test");
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let out = run(&db, &["create-admin"], "ops2@bantu.test");
        assert!(!out.status.success(), "a duplicate administrator must fail");
        let help = Command::new(env!("CARGO_BIN_EXE_crm-foundation")).arg("--help").output().unwrap();
        let help = String::from_utf8_lossy(&help.stdout);
        assert!(help.contains("CRM_ADMIN_PASSWORD"));
        // Every variable's line is indented alike, the first of each section too.
        for name in ["CRM_BIND_ADDR", "CRM_ADMIN_EMAIL", "CRM_AUDIT_READS"] {
            assert!(help.lines().any(|l| l.starts_with(&format!("  {name} "))), "{name} misaligned:\n{help}");
        }

        let (app, _) = crm_foundation::Application::build(config(&db, db.data_dir())).await.unwrap();
        let client = crm_common::testing::TestClient::new(format!("http://127.0.0.1:{}", app.port()));
        tokio::spawn(app.run_until_stopped());
        let login = |email: &str| {
            let body = serde_json::json!({"email": email, "password": "Operator123"});
            let client = client.clone();
            async move { client.post("/api/foundation/auth/login", None, &body).await }
        };
        let r = login("ops2@bantu.test").await;
        r.expect(200);
        assert_eq!(r.data()["user"]["roles"], serde_json::json!(["ADMIN"]));
        login("ops@bantu.test").await.expect(200);
        // The first start of the service did not add its own default administrator.
        let r = client
            .post(
                "/api/foundation/auth/login",
                None,
                &serde_json::json!({"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}),
            )
            .await;
        r.expect(401);
    }
}
