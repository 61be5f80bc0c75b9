use crate::support::{MongoServer, exercise};
use crm_common::logstore::{LogQuery, LogStore, LogStoreConfig, ShipConfig, channel};
use serde_json::json;
use std::time::Duration;
use tracing_subscriber::layer::SubscriberExt;

#[tokio::test]
async fn mongodb_store_writes_and_searches() {
    let server = MongoServer::start();
    let store = LogStore::open(&LogStoreConfig::Mongo { url: server.url() }).await.expect("open MongoDB log store");
    assert_eq!(store.backend(), "mongodb");
    exercise(&store).await;

    // Events of a real subscriber reach MongoDB through the shipper, fields intact.
    let shipped = LogStore::open(&LogStoreConfig::Mongo { url: server.url() }).await.expect("open second database");
    let (layer, receiver) =
        channel(&ShipConfig { flush_interval: Duration::from_millis(50), ..ShipConfig::new("mongo-test") });
    tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
        tracing::error!(error = "connection reset", order_id = 42, "payment failed");
    });
    tokio::time::timeout(Duration::from_secs(10), receiver.run(shipped.clone())).await.expect("shipper finishes");
    let page = shipped.query(&LogQuery { levels: vec!["ERROR".into()], ..LogQuery::default() }).await.expect("query");
    assert_eq!(page.total, 1);
    let record = &page.logs[0];
    assert_eq!((record.service.as_str(), record.message.as_str()), ("mongo-test", "payment failed"));
    assert_eq!(record.exception.as_deref(), Some("connection reset"));
    assert_eq!(serde_json::Value::Object(record.extra.clone().expect("extra")), json!({"order_id": 42}));
    assert_eq!(record.id.as_deref().map(str::len), Some(24), "the ObjectId in hex");

    for s in [&store, &shipped] {
        if let LogStore::Mongo(m) = s {
            m.drop_database().await.expect("drop test database");
        }
    }
    drop(server);
}
