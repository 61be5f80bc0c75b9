use crate::support::{MongoServer, exercise};
use crm_common::logstore::{LogStore, LogStoreConfig};

#[tokio::test]
async fn mongodb_store_writes_and_searches() {
    let server = MongoServer::start();
    let store = LogStore::open(&LogStoreConfig::Mongo { url: server.url() }).await.expect("open MongoDB log store");
    assert_eq!(store.backend(), "mongodb");
    exercise(&store).await;
    if let LogStore::Mongo(m) = &store {
        m.drop_database().await.expect("drop test database");
    }
    drop(server);
}
