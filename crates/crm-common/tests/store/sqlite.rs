use crate::support::{exercise, record, sqlite_store, t0};
use crm_common::logstore::{LogQuery, LogStore, LogStoreConfig};

#[tokio::test]
async fn sqlite_store_writes_and_searches() {
    let (_dir, store) = sqlite_store().await;
    assert_eq!(store.backend(), "sqlite");
    exercise(&store).await;
}

#[tokio::test]
async fn sqlite_file_is_shared_by_writers_of_one_host() {
    let (dir, first) = sqlite_store().await;
    let path = dir.0.join("logs.db");
    // A second service of the host opens the same file (the schema already exists) and both write at once.
    let second = LogStore::open(&LogStoreConfig::Sqlite { path: path.clone() }).await.expect("open again");
    let batch =
        |service: &str| (0..200).map(|i| record(service, "INFO", &format!("{service} {i}"), t0())).collect::<Vec<_>>();
    let (a, b) = (batch("foundation"), batch("gateway"));
    let (ra, rb) = tokio::join!(first.insert(&a), second.insert(&b));
    ra.expect("first writer");
    rb.expect("second writer");
    assert_eq!(first.query(&LogQuery::default()).await.expect("query").total, 400);
    assert!(dir.0.join("logs.db-wal").exists(), "the log store runs in WAL mode");
}
