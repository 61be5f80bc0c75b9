//! The Redis-backed and in-process cache paths, against a real Redis.

use crate::helpers::*;
use crm_common::cache::Cache;
use crm_common::db_test;
use crm_common::testing::{TestDatabase, redis_url};
use std::time::Duration;

db_test!(
    async fn two_replicas_share_login_throttling_through_redis(backend) {
        let db = TestDatabase::create(backend).await;
        let mut cfg = config(&db, db.data_dir());
        cfg.common.redis_url = Some(redis_url());
        let prefix = cfg.common.cache_prefix.clone();
        let app_a = TestApp::start(db, cfg.clone()).await;
        // A second process-equivalent on the same database and Redis.
        let db_b = TestDatabase::create(backend).await;
        let mut cfg_b = cfg.clone();
        cfg_b.common.database_url = app_a.db.url.clone();
        let app_b = TestApp::start(db_b, cfg_b).await;
        for _ in 0..2 {
            app_a.login(ADMIN_EMAIL, "WrongPass1").await.expect(401);
            app_b.login(ADMIN_EMAIL, "WrongPass1").await.expect(401);
        }
        app_a.login(ADMIN_EMAIL, "WrongPass1").await.expect(401);
        // Five failures spread over the two replicas reach the limit on both.
        app_b.login(ADMIN_EMAIL, ADMIN_PASSWORD).await.expect(429);
        app_a.login(ADMIN_EMAIL, ADMIN_PASSWORD).await.expect(429);
        // The counter lives in Redis under the service prefix.
        let redis = Cache::redis(&prefix, &redis_url()).unwrap();
        let count = redis.get(&format!("login:fail:acct:{ADMIN_EMAIL}")).await;
        assert_eq!(count.as_deref(), Some("5"));
        redis.delete(&format!("login:fail:acct:{ADMIN_EMAIL}")).await;
    }
);

db_test!(
    async fn in_process_replicas_count_separately(backend) {
        let db = TestDatabase::create(backend).await;
        let cfg = config(&db, db.data_dir());
        let app_a = TestApp::start(db, cfg.clone()).await;
        let db_b = TestDatabase::create(backend).await;
        let mut cfg_b = cfg.clone();
        cfg_b.common.database_url = app_a.db.url.clone();
        let app_b = TestApp::start(db_b, cfg_b).await;
        for _ in 0..5 {
            app_a.login(ADMIN_EMAIL, "WrongPass1").await.expect(401);
        }
        app_a.login(ADMIN_EMAIL, ADMIN_PASSWORD).await.expect(429);
        app_b.login(ADMIN_EMAIL, ADMIN_PASSWORD).await.expect(200);
    }
);

#[tokio::test]
async fn redis_cache_round_trip_and_counters() {
    let prefix = format!("t-{}:", uuid::Uuid::now_v7().simple());
    let cache = Cache::redis(&prefix, &redis_url()).unwrap();
    assert_eq!(cache.backend(), "redis");
    cache.ping().await.unwrap();
    cache.set("k", "v", Duration::from_secs(30)).await;
    assert_eq!(cache.get("k").await.as_deref(), Some("v"));
    // Visible to another client of the same Redis: it is really stored there.
    let other = Cache::redis(&prefix, &redis_url()).unwrap();
    assert_eq!(other.get("k").await.as_deref(), Some("v"));
    assert_eq!(cache.incr("n", Duration::from_secs(30)).await, 1);
    assert_eq!(other.incr("n", Duration::from_secs(30)).await, 2);
    let ttl = cache.ttl("n").await.unwrap();
    assert!(ttl <= Duration::from_secs(30) && ttl > Duration::from_secs(20));
    cache.delete("k").await;
    assert_eq!(other.get("k").await, None);
    cache.delete("n").await;
}

#[tokio::test]
async fn unreachable_redis_falls_back_to_process_memory() {
    let cache = Cache::redis("t:", "redis://127.0.0.1:1").unwrap();
    assert!(cache.ping().await.is_err());
    cache.set("k", "v", Duration::from_secs(30)).await;
    assert_eq!(cache.get("k").await.as_deref(), Some("v"));
    assert_eq!(cache.incr("n", Duration::from_secs(30)).await, 1);
    assert_eq!(cache.incr("n", Duration::from_secs(30)).await, 2);
}
