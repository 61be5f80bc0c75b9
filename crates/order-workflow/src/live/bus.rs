//! Between replicas: with Redis, a committed notification is published on one channel and every
//! replica (this one too) delivers it to the sockets it holds; without Redis, or while Redis is
//! unreachable, it is delivered to this replica's sockets only.

use super::hub::Hub;
use super::push::Push;
use crm_common::cache::Cache;
use futures_util::StreamExt;
use std::sync::Arc;
use std::time::Duration;

/// The channel (under the cache prefix, which replicas share).
const CHANNEL: &str = "live:notifications";

/// How long the subscriber waits before subscribing again after losing Redis.
const RESUBSCRIBE: Duration = Duration::from_secs(1);

/// Sends `p` to its recipient's sockets wherever they are.
pub async fn publish(hub: &Hub, cache: &Cache, p: &Push) {
    if cache.shared() {
        match serde_json::to_string(p) {
            Ok(json) => match cache.publish(CHANNEL, &json).await {
                Ok(()) => return,
                Err(err) => tracing::warn!(error = %err, "live push: Redis publish failed; delivering locally"),
            },
            Err(err) => tracing::warn!(error = %err, "live push: not serialisable"),
        }
    }
    hub.deliver(p);
}

/// Delivers what any replica publishes to this replica's sockets, for as long as it runs;
/// subscribes again whenever Redis goes away. Nothing to do without Redis.
pub fn spawn_subscriber(hub: Arc<Hub>, cache: Cache) -> Option<tokio::task::JoinHandle<()>> {
    if !cache.shared() {
        return None;
    }
    Some(tokio::spawn(async move {
        loop {
            match cache.subscribe(CHANNEL).await {
                Ok(mut messages) => {
                    while let Some(m) = messages.next().await {
                        match serde_json::from_str::<Push>(&m) {
                            Ok(p) => {
                                hub.deliver(&p);
                            }
                            Err(err) => tracing::warn!(error = %err, "live push: unreadable message"),
                        }
                    }
                    tracing::warn!("live push: Redis subscription ended; subscribing again");
                }
                Err(err) => tracing::warn!(error = %err, "live push: cannot subscribe to Redis"),
            }
            tokio::time::sleep(RESUBSCRIBE).await;
        }
    }))
}
