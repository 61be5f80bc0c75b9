use crate::support::{TempDir, sqlite_store};
use crm_common::logstore::{LogQuery, LogStore, LogStoreConfig, ShipConfig, channel, flush, stats};
use serde_json::json;
use std::time::Duration;
use tracing_subscriber::layer::SubscriberExt;

fn config(service: &str, capacity: usize) -> ShipConfig {
    ShipConfig { capacity, flush_interval: Duration::from_millis(50), ..ShipConfig::new(service) }
}

/// Polls until the store holds `n` records (the shipper writes asynchronously).
async fn wait_for(store: &LogStore, n: u64) -> crm_common::logstore::LogPage {
    for _ in 0..200 {
        let page = store.query(&LogQuery::default()).await.expect("query");
        if page.total >= n {
            return page;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the shipper did not write {n} records within 10 s");
}

#[tokio::test]
async fn events_of_a_real_subscriber_are_shipped_with_their_fields() {
    let (_dir, store) = sqlite_store().await;
    let (layer, receiver) = channel(&config("test-service", 100));
    let counters = layer.stats();
    let shipper = tokio::spawn(receiver.run(store.clone()));

    let subscriber = tracing_subscriber::registry().with(layer);
    let guard = tracing::subscriber::set_default(subscriber);
    tracing::info!(user_id = 7, path = "/api/x", ratio = 0.5, ok = true, "user signed in");
    tracing::debug!("below the shipping level");
    tracing::info!(target: "sqlx::query", "a driver's event");
    let err = std::io::Error::other("disk full");
    let error_line = line!() + 1;
    tracing::error!(error = %err, function = "save_customer", "save failed");
    crm_common::api::with_request_id("req-123".into(), async { tracing::warn!(attempt = 2u64, "slow upstream") }).await;
    drop(guard);

    let page = wait_for(&store, 3).await;
    assert_eq!(page.total, 3, "debug and driver events are not shipped: {:?}", page.logs);
    let by_message =
        |m: &str| page.logs.iter().find(|r| r.message == m).cloned().unwrap_or_else(|| panic!("{m} missing"));

    let error = by_message("save failed");
    assert_eq!(error.level, "ERROR");
    assert_eq!(error.service, "test-service");
    assert_eq!(error.name, module_path!());
    assert_eq!(error.module.as_deref(), Some(module_path!()));
    assert_eq!(error.function.as_deref(), Some("save_customer"));
    assert_eq!(error.exception.as_deref(), Some("disk full"));
    assert_eq!(error.line, Some(error_line));
    assert!(error.file.as_deref().is_some_and(|f| f.ends_with("layer.rs")), "{:?}", error.file);
    assert_eq!(error.process, std::process::id());
    assert!(error.thread.is_some());
    assert_eq!(error.extra, None, "error and function are not repeated in extra");
    let age = chrono::Utc::now() - error.timestamp;
    assert!(age >= chrono::Duration::zero() && age < chrono::Duration::minutes(1), "timestamp is now, in UTC");

    let info = by_message("user signed in");
    assert_eq!(info.level, "INFO");
    assert_eq!(info.exception, None);
    assert_eq!(info.function, None);
    assert_eq!(
        serde_json::Value::Object(info.extra.expect("fields")),
        json!({"user_id": 7, "path": "/api/x", "ratio": 0.5, "ok": true})
    );

    let warn = by_message("slow upstream");
    assert_eq!(warn.level, "WARNING");
    assert_eq!(serde_json::Value::Object(warn.extra.expect("fields")), json!({"attempt": 2, "request_id": "req-123"}));

    assert_eq!((counters.accepted(), counters.shipped(), counters.dropped(), counters.failed()), (3, 3, 0, 0));
    // The subscriber (and with it the layer) is gone: the shipper finishes.
    tokio::time::timeout(Duration::from_secs(5), shipper)
        .await
        .expect("shipper stops when its layer is gone")
        .expect("join");
}

#[tokio::test]
async fn a_full_channel_drops_records_instead_of_blocking() {
    let (_dir, store) = sqlite_store().await;
    let (layer, receiver) = channel(&config("test-service", 2));
    let counters = layer.stats();

    // Nothing drains the channel yet. Emitting must return anyway: on a thread of its own, so that a
    // blocking layer fails this test instead of hanging it.
    let (done_tx, done_rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
            for i in 0..5 {
                tracing::info!("event {i}");
            }
        });
        let _ = done_tx.send(());
    });
    done_rx.recv_timeout(Duration::from_secs(10)).expect("emitting to a full channel blocked");
    assert_eq!((counters.accepted(), counters.dropped()), (2, 3));

    // The layer is gone, so the shipper writes what was queued and returns.
    tokio::time::timeout(Duration::from_secs(10), receiver.run(store.clone())).await.expect("shipper finishes");
    let page = store.query(&LogQuery::default()).await.expect("query");
    let mut messages: Vec<_> = page.logs.iter().map(|r| r.message.as_str()).collect();
    messages.sort();
    assert_eq!(messages, ["event 0", "event 1"]);
    assert_eq!(counters.shipped(), 2);
}

#[tokio::test]
async fn a_spawned_shipper_opens_the_store_and_flushes() {
    let dir = TempDir::new();
    let path = dir.0.join("nested/logs.db");
    let (layer, receiver) = channel(&ShipConfig::new("spawned"));
    receiver.spawn(LogStoreConfig::Sqlite { path: path.clone() }).expect("spawn shipper");
    let subscriber = tracing_subscriber::registry().with(layer);
    tracing::subscriber::with_default(subscriber, || {
        for i in 0..25 {
            tracing::warn!(i, "spawned event");
        }
    });
    let flushed = tokio::task::spawn_blocking(|| flush(Duration::from_secs(10))).await.expect("join");
    assert!(flushed, "flush returns once everything accepted is written");
    let shared = stats().expect("a spawned shipper publishes its counters");
    assert!(shared.shipped() >= 25);

    let store = LogStore::open(&LogStoreConfig::Sqlite { path }).await.expect("open the shipper's file");
    let q = LogQuery { services: vec!["spawned".into()], levels: vec!["WARNING".into()], ..LogQuery::default() };
    assert_eq!(store.query(&q).await.expect("query").total, 25);
}
