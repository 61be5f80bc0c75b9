//! Audit delivery and export with real processes: a second service keeps capturing while
//! foundation is down and survives being killed itself; a 100,000-row export streams in bounded
//! memory.

use crate::helpers::*;
use crate::processes::{self, free_port};
use crm_common::db_test;
use crm_common::testing::TestDatabase;
use crm_foundation::audit::model as audit_log;
use sea_orm::{ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, TransactionTrait};
use serde_json::json;
use std::collections::HashMap;
use std::time::Duration;

async fn demo_rows(db: &DatabaseConnection) -> Vec<audit_log::Model> {
    audit_log::Entity::find().filter(audit_log::Column::Service.eq("demo")).all(db).await.unwrap()
}

/// One request to the demo service: create, change or delete an item, by `i`.
async fn demo_request(client: &reqwest::Client, base: &str, i: usize) {
    let id = uuid::Uuid::now_v7();
    let req = match i % 3 {
        0 => client.post(format!("{base}/api/demo/items")),
        1 => client.put(format!("{base}/api/demo/items/{id}")),
        _ => client.delete(format!("{base}/api/demo/items/{id}")),
    };
    let r = req
        .header("x-request-id", format!("demo-{i}"))
        .json(&json!({"n": i, "api_key": "DemoSecret1"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}

db_test!(
    async fn a_second_service_delivers_every_event_once_across_restarts(backend) {
        let db = TestDatabase::create(backend).await;
        let (f_dir, d_dir) = (db.data_dir().join("foundation"), db.data_dir().join("demo"));
        let f_port = free_port();
        let foundation = processes::foundation(&db.url, &f_dir, f_port).healthy().await;
        let demo = processes::demo(&d_dir, free_port(), f_port).healthy().await;
        let conn = crm_common::db::connect(&db.url).await.unwrap();
        let client = reqwest::Client::new();
        for i in 0..10 {
            demo_request(&client, &demo.url(), i).await;
        }
        for _ in 0..400 {
            if demo_rows(&conn).await.len() == 10 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert_eq!(demo_rows(&conn).await.len(), 10, "delivered while foundation is up:\n{}", demo.log());

        // foundation goes away; the demo keeps answering and keeps its events.
        foundation.kill();
        for i in 10..20 {
            demo_request(&client, &demo.url(), i).await;
        }
        tokio::time::sleep(Duration::from_millis(700)).await;
        // The demo itself is killed (no graceful shutdown) and restarted on the same outbox.
        demo.kill();
        let demo = processes::demo(&d_dir, free_port(), f_port).healthy().await;
        for i in 20..30 {
            demo_request(&client, &demo.url(), i).await;
        }
        assert_eq!(demo_rows(&conn).await.len(), 10);

        let foundation = processes::foundation(&db.url, &f_dir, f_port).healthy().await;
        for _ in 0..600 {
            if demo_rows(&conn).await.len() >= 30 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        // A request captured twice would show up as a second row for the same request id.
        tokio::time::sleep(Duration::from_millis(500)).await;
        let rows = demo_rows(&conn).await;
        let mut per_request: HashMap<String, usize> = HashMap::new();
        for r in &rows {
            *per_request.entry(r.request_id.clone().unwrap_or_default()).or_default() += 1;
        }
        for i in 0..30 {
            assert_eq!(per_request.get(&format!("demo-{i}")), Some(&1), "demo-{i}:\n{}\n{}", demo.log(), foundation.log());
        }
        assert_eq!(rows.len(), 30);
        let actions: Vec<&str> = ["CREATE", "UPDATE", "DELETE"].to_vec();
        assert!(rows.iter().all(|r| actions.contains(&r.action.as_str()) && r.category == "items_management"));
        assert!(rows.iter().all(|r| r.request_params.as_ref().unwrap()["body"]["api_key"] == "[REDACTED]"));
        assert!(!serde_json::to_string(&rows).unwrap().contains("DemoSecret1"));
    }
);

fn proc_kib(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status.lines().find(|l| l.starts_with(field)).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

db_test!(
    async fn a_large_csv_export_streams_in_bounded_memory(backend) {
        const ROWS: usize = 100_000;
        let db = TestDatabase::create(backend).await;
        let port = free_port();
        let foundation = processes::foundation(&db.url, &db.data_dir().join("foundation"), port).healthy().await;
        let conn = crm_common::db::connect(&db.url).await.unwrap();
        let filler = "x".repeat(600);
        let start = chrono::Utc::now() - chrono::Duration::days(1);
        let txn = conn.begin().await.unwrap();
        for chunk in 0..ROWS / 1000 {
            let rows = (0..1000).map(|i| {
                let n = chunk * 1000 + i;
                audit_log::ActiveModel {
                    id: Set(uuid::Uuid::now_v7()),
                    organization_id: Set(Some(BANTU)),
                    user_id: Set(None),
                    user_name: Set(Some("bulk".into())),
                    action: Set("CREATE".into()),
                    resource_type: Set(Some("order".into())),
                    resource_id: Set(Some(n.to_string())),
                    resource_name: Set(None),
                    category: Set("bulk_management".into()),
                    ip_address: Set(Some("10.0.0.1".into())),
                    user_agent: Set(Some("bulk-loader/1.0".into())),
                    request_method: Set("POST".into()),
                    request_path: Set(format!("/api/order-workflow/orders/{n}")),
                    request_params: Set(Some(json!({"body": {"note": filler, "n": n}}))),
                    old_values: Set(None),
                    new_values: Set(None),
                    status: Set("success".into()),
                    status_code: Set(200),
                    error_message: Set(None),
                    duration_ms: Set(Some(3)),
                    request_id: Set(Some(format!("bulk-{n}"))),
                    service: Set("order-workflow".into()),
                    created_at: Set(start + chrono::Duration::milliseconds(i64::try_from(n).unwrap())),
                }
            });
            audit_log::Entity::insert_many(rows).exec_without_returning(&txn).await.unwrap();
        }
        txn.commit().await.unwrap();

        let client = reqwest::Client::new();
        let login = client.post(format!("{}/api/foundation/auth/login", foundation.url())).json(&json!({"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD})).send().await.unwrap();
        let token = login.json::<serde_json::Value>().await.unwrap()["data"]["token"].as_str().unwrap().to_owned();
        let pid = foundation.pid();
        // Twice: the first run also pages in code and warms caches; neither may grow with the size.
        for run in 1..=2 {
            let rss_before = proc_kib(pid, "VmRSS:");
            // Reset the peak so it measures this export alone (Linux: 5 → clear_refs resets VmHWM).
            std::fs::write(format!("/proc/{pid}/clear_refs"), "5").unwrap();
            let mut response = client
                .post(format!("{}/api/foundation/audit-logs/export", foundation.url()))
                .bearer_auth(&token)
                .json(&json!({"category": "bulk_management", "format": "csv"}))
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 200);
            assert!(response.headers()["content-disposition"].to_str().unwrap().starts_with("attachment"));
            let (mut bytes, mut lines) = (0usize, 0usize);
            while let Some(chunk) = response.chunk().await.unwrap() {
                bytes += chunk.len();
                lines += chunk.iter().filter(|b| **b == b'\n').count();
            }
            let peak = proc_kib(pid, "VmHWM:");
            let growth_kib = peak.saturating_sub(rss_before);
            eprintln!("export {run}: {bytes} bytes, {lines} lines; RSS before {rss_before} KiB, peak {peak} KiB");
            assert_eq!(lines, ROWS + 1);
            assert!(bytes > 60 * 1024 * 1024, "the export should be large: {bytes}");
            // The first run also pays one-time costs (code paged in, SQLite's page cache filled,
            // allocator arenas), seen up to about 33 MiB on a loaded machine; the second is the
            // strict check. Either stays far below the export's 85 MiB.
            let limit_kib = if run == 1 { 48 * 1024 } else { 16 * 1024 };
            assert!(growth_kib < limit_kib, "export {run} grew the process by {growth_kib} KiB");
        }
    }
);
